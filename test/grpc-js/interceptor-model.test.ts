// Property-based model test of the grpc-js interceptor: random scenarios against the real interceptor, a real grpc-js
// server and the real identity provider on loopback. `npm test` runs a fixed number of scenarios; for longer runs:
//   npm run test:fuzz -- --runs 2000 [--seed 123]
import * as fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { ClientCredentialsAuthenticator, StaticClientConfigStore, createAuthInterceptor, type Authenticator, type OAuthFetch } from '../../src/index.js';
import { CALL_TYPES, runCall, type CallOutcome, type CallType } from '../support/calls.js';
import { refreshSettled } from '../support/custom-authenticators.js';
import { EchoClient } from '../support/echo-service.js';
import { startGrpcServer, type CallPlan, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { watchProcessErrors } from '../support/process-errors.js';

/** `--runs N` / `--seed S` on the command line (npm run test:fuzz), else FUZZ_RUNS / FUZZ_SEED, else the CI defaults. */
function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : process.env[`FUZZ_${name.toUpperCase()}`];
}
const RUNS = Number(argument('runs') ?? 60);
const SEED = Number(argument('seed') ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);

/** Small, so that request counts straddle it. */
const REPLAY_LIMIT = 3;

type AppAction = 'none' | 'cancel' | 'close-client';
type AppMoment = 'at-once' | 'on-headers' | 'on-reply' | 'soon';
type IdpBehaviour = 'answers' | 'slow' | '5xx' | 'bad-token';

interface CallScenario {
  type: CallType;
  /** Request messages of a client or bidi stream (unary and server streaming send one). */
  messages: number;
  /** What the server does with attempt 1 and attempt 2. */
  plans: [CallPlan, CallPlan];
  action: AppAction;
  at: AppMoment;
  soonMs: number;
  /** Client and bidi streams: write only once the response headers arrived. */
  writeAfterHeaders: boolean;
}

interface Scenario {
  calls: CallScenario[];
  idp: IdpBehaviour;
  slowMs: number;
  /** The authenticator has no token yet when the calls start. */
  cold: boolean;
}

const planArbitrary: fc.Arbitrary<CallPlan> = fc.oneof(
  { arbitrary: fc.constant<CallPlan>({ kind: 'accept' }), weight: 4 },
  { arbitrary: fc.constant<CallPlan>({ kind: 'reject', afterHeaders: false }), weight: 3 },
  { arbitrary: fc.constant<CallPlan>({ kind: 'reject', afterHeaders: false, afterLastRequest: true }), weight: 1 },
  { arbitrary: fc.constant<CallPlan>({ kind: 'reject', afterHeaders: true }), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 3 }).map((messages): CallPlan => ({ kind: 'reject-after', messages })), weight: 2 },
  { arbitrary: fc.constant<CallPlan>({ kind: 'reject', code: grpc.status.UNAVAILABLE }), weight: 1 },
  { arbitrary: fc.constant<CallPlan>({ kind: 'hang' }), weight: 1 },
);

const callArbitrary: fc.Arbitrary<CallScenario> = fc.record({
  type: fc.constantFrom(...CALL_TYPES),
  messages: fc.integer({ min: 0, max: REPLAY_LIMIT + 2 }),
  plans: fc.tuple(planArbitrary, planArbitrary),
  action: fc.oneof(
    { arbitrary: fc.constant<AppAction>('none'), weight: 4 },
    { arbitrary: fc.constant<AppAction>('cancel'), weight: 1 },
    { arbitrary: fc.constant<AppAction>('close-client'), weight: 1 },
  ),
  at: fc.constantFrom<AppMoment>('at-once', 'on-headers', 'on-reply', 'soon'),
  soonMs: fc.integer({ min: 0, max: 30 }),
  writeAfterHeaders: fc.boolean(),
});

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  calls: fc.array(callArbitrary, { minLength: 1, maxLength: 3 }),
  idp: fc.oneof(
    { arbitrary: fc.constant<IdpBehaviour>('answers'), weight: 4 },
    { arbitrary: fc.constant<IdpBehaviour>('slow'), weight: 2 },
    { arbitrary: fc.constant<IdpBehaviour>('5xx'), weight: 1 },
    { arbitrary: fc.constant<IdpBehaviour>('bad-token'), weight: 1 },
  ),
  slowMs: fc.integer({ min: 10, max: 120 }),
  cold: fc.boolean(),
});

const isRequestStream = (type: CallType): boolean => type === 'client-stream' || type === 'bidi';

type Outcome = { code: grpc.status; attempts: number };

/**
 * The model: the final codes and attempt counts a call may end with when the app leaves it alone while the identity
 * provider answers. A rejection is retried once if the call has not committed (a response message; response headers
 * for request streams) and the requests the interceptor holds fit the replay buffer. Two outcomes are allowed where
 * the server rejects a request stream at once: the rejection races the app's writes, so the interceptor may hold
 * only part of an over-long stream (and replay it), or all of it (and not).
 */
function expected(call: CallScenario, attempt = 1): Outcome[] {
  const plan = call.plans[attempt - 1]!;
  if (plan.kind === 'accept') return [{ code: grpc.status.OK, attempts: attempt }];
  if (plan.kind === 'hang') return [{ code: grpc.status.DEADLINE_EXCEEDED, attempts: attempt }];
  const requestStream = isRequestStream(call.type);
  const afterHeaders = plan.kind === 'reject-after' || plan.afterHeaders === true;
  const atEnd = plan.kind === 'reject' && plan.afterLastRequest === true && requestStream;
  // The app waits for headers that never come; the server waits for the end of a stream that never ends.
  if (atEnd && !afterHeaders && call.writeAfterHeaders) return [{ code: grpc.status.DEADLINE_EXCEEDED, attempts: attempt }];
  const code = plan.code ?? grpc.status.UNAUTHENTICATED;
  const final: Outcome = { code, attempts: attempt };
  if (code !== grpc.status.UNAUTHENTICATED || attempt === 2) return [final];
  const repliedFirst = plan.kind === 'reject-after' && plan.messages > 0 && call.type === 'server-stream';
  if (repliedFirst || (afterHeaders && requestStream)) return [final];
  const written = requestStream && !call.writeAfterHeaders ? call.messages : 0;
  if (written <= REPLAY_LIMIT) return expected(call, 2);
  return atEnd ? [final] : [final, ...expected(call, 2)];
}

/** The model covers calls the app leaves alone, on a client nobody closes, while the identity provider works. */
function modelApplies(scenario: Scenario, call: CallScenario): boolean {
  const closed = scenario.calls.some((other) => other.action === 'close-client');
  return call.action === 'none' && !closed && (scenario.idp === 'answers' || scenario.idp === 'slow');
}

describe('interceptor model (fast-check)', () => {
  let idp: TestIdentityProvider;
  let server: TestGrpcServer;
  before(async () => {
    idp = await startIdentityProvider();
    server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
  });
  after(async () => {
    await server.close();
    await idp.close();
  });

  let scenarioNumber = 0;

  async function check(scenario: Scenario): Promise<void> {
    scenarioNumber += 1;
    const watch = watchProcessErrors();
    // A counting fetch around the real one: this scenario's token requests, their tokens, and a way to await them.
    const pending: Promise<unknown>[] = [];
    const issued: string[] = [];
    let tokenRequests = 0;
    const countingFetch: OAuthFetch = (url, init) => {
      tokenRequests += 1;
      const response = fetch(url, init as RequestInit);
      pending.push(
        response.then((answer) => answer.clone().json().then((body) => {
          const token = (body as { access_token?: unknown } | null)?.access_token;
          if (typeof token === 'string') issued.push(token);
        })).catch(() => undefined),
      );
      return response;
    };
    const authenticator = new ClientCredentialsAuthenticator({
      endpoint: server.address,
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
      retry: { retries: 0 },
      fetch: countingFetch,
    });
    if (!scenario.cold) await authenticator.refreshCredentials();
    const warmRequests = tokenRequests;
    const badToken = `bad-${scenarioNumber}\r\nleaked`;
    switch (scenario.idp) {
      case 'slow':
        idp.failTokenRequests({ kind: 'delay', ms: scenario.slowMs }, 20);
        break;
      case '5xx':
        idp.failTokenRequests({ kind: 'status', status: 503, body: 'unavailable' }, 20);
        break;
      case 'bad-token':
        idp.failTokenRequests(
          { kind: 'status', status: 200, contentType: 'application/json', body: JSON.stringify({ access_token: badToken, token_type: 'Bearer', expires_in: 300 }) },
          20,
        );
        break;
      case 'answers':
        break;
    }
    const client = new EchoClient(server.address, grpc.credentials.createInsecure(), {
      interceptors: [createAuthInterceptor(authenticator, { maxBufferedMessages: REPLAY_LIMIT })],
    });
    const started = Date.now();
    // A short deadline only where the server may be left hanging; the others never meet theirs, however loaded the machine.
    const deadlineOf = (call: CallScenario): number => {
      const mayHang = modelApplies(scenario, call)
        ? expected(call).some((outcome) => outcome.code === grpc.status.DEADLINE_EXCEEDED)
        : call.plans.some((plan) => plan.kind === 'hang' || (plan.kind === 'reject' && plan.afterLastRequest === true));
      return started + (mayHang ? 1_500 : 30_000);
    };
    try {
      const outcomes = await Promise.all(scenario.calls.map((call, index) => runScenarioCall(client, call, `s${scenarioNumber}c${index}`, deadlineOf(call))));
      if (authenticator.getCredentials()) await refreshSettled(authenticator);
      await Promise.all(pending);
      scenario.calls.forEach((call, index) => checkCall(scenario, call, `s${scenarioNumber}c${index}`, outcomes[index]!, [...issued, badToken]));
      checkTokenRequests(scenario, tokenRequests - warmRequests, authenticator);
      assert.deepEqual(watch.errors, [], 'no unhandled rejection or uncaught exception');
    } finally {
      watch.stop();
      client.close();
      idp.clearTokenFaults();
    }
  }

  function runScenarioCall(client: grpc.Client, call: CallScenario, key: string, deadline: number): Promise<CallOutcome> {
    server.planByKey(key, call.plans);
    const metadata = new grpc.Metadata();
    metadata.set('x-plan-key', key);
    const texts = isRequestStream(call.type) ? Array.from({ length: call.messages }, (_, i) => `${key}-${i}`) : [key];
    const act = (target: { cancel(): void }): void => {
      if (call.action === 'cancel') target.cancel();
      else if (call.action === 'close-client') client.close();
    };
    return runCall(client as InstanceType<typeof EchoClient>, call.type, {
      texts,
      metadata,
      callOptions: { deadline },
      writeAfterHeaders: call.writeAfterHeaders && isRequestStream(call.type),
      onCall: (started) => {
        if (call.action === 'none') return;
        if (call.at === 'at-once') act(started);
        else if (call.at === 'soon') setTimeout(() => act(started), call.soonMs);
        else if (call.at === 'on-headers') started.once('metadata', () => act(started));
        else (started as grpc.ClientReadableStream<unknown>).once('data', () => act(started));
      },
    });
  }

  function checkCall(scenario: Scenario, call: CallScenario, key: string, outcome: CallOutcome, secrets: string[]): void {
    const attempts = server.calls.filter((received) => received.planKey === key);
    const where = `${key} ${call.type}: status ${outcome.status.code} ${JSON.stringify(outcome.status.details)}, ${attempts.length} attempt(s)`;
    assert.equal(outcome.statusEvents, 1, `${where}: exactly one status`);
    assert.equal(outcome.errorEvents, outcome.status.code === grpc.status.OK ? 0 : 1, `${where}: one error for a failed call, none otherwise`);
    assert.ok(attempts.length <= 2, `${where}: at most two attempts`);
    assert.deepEqual(outcome.writeCallbacks, outcome.writeCallbacks.map(() => 1), `${where}: every write callback exactly once`);
    const shown = inspect(outcome.status, { depth: Infinity });
    for (const secret of secrets) assert.ok(!shown.includes(secret), `${where}: a token in the status`);
    const sent = isRequestStream(call.type) ? outcome.writeCallbacks.map((_, i) => `${key}-${i}`) : [key];
    if (outcome.status.code === grpc.status.OK) {
      assert.deepEqual(attempts.at(-1)!.requests, sent, `${where}: the server read every request once, in order`);
    }
    if (modelApplies(scenario, call)) {
      const allowed = expected(call).map(({ code, attempts: count }) => `${code} after ${count}`);
      assert.ok(allowed.includes(`${outcome.status.code} after ${attempts.length}`), `${where}: expected ${allowed.join(' or ')}`);
    }
  }

  function checkTokenRequests(scenario: Scenario, requests: number, authenticator: Authenticator): void {
    const keys = new Set(scenario.calls.map((_, index) => `s${scenarioNumber}c${index}`));
    const rejected = server.calls.filter((received) => received.planKey !== undefined && keys.has(received.planKey) && received.rejectedWith === grpc.status.UNAUTHENTICATED);
    const rejectedTokens = new Set(rejected.map((received) => received.headerValues[0]));
    // One token request per rejected token (a wave shares it); while the identity provider fails, each rejection may try again.
    const perRejection = scenario.idp === '5xx' ? rejected.length : rejectedTokens.size;
    const bound = (scenario.cold ? 1 : 0) + perRejection;
    assert.ok(requests <= bound, `${requests} token requests for ${rejected.length} rejection(s) of ${rejectedTokens.size} token(s) (bound ${bound}); credentials: ${authenticator.getCredentials() ? 'yes' : 'no'}`);
  }

  test(`${RUNS} random scenarios hold every invariant (seed ${SEED})`, { timeout: Math.max(120_000, RUNS * 3_000) }, async () => {
    try {
      await fc.assert(fc.asyncProperty(scenarioArbitrary, check), { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: Math.max(100_000, RUNS * 2_500), markInterruptAsFailure: false, includeErrorInReport: true });
    } catch (error) {
      console.error(`interceptor model failed: rerun with  npm run test:fuzz -- --runs ${RUNS} --seed ${SEED}`);
      throw error;
    }
  });
});
