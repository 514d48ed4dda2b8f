import * as grpc from '@grpc/grpc-js';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { echoService, type EchoReply, type EchoRequest } from './echo-service.js';

/** One call as the server saw it. */
export interface ReceivedCall {
  method: string;
  /** Every value of the auth header (more than one would be a bug). */
  headerValues: string[];
  /** `ok` or why the call was rejected. */
  outcome: string;
  metadata: grpc.Metadata;
  /** The request texts the server read, in order. */
  requests: string[];
  /** Whether response headers went out. */
  headersSent: boolean;
  /** The `x-plan-key` request header, when the call had one. */
  planKey: string | undefined;
  /** The error code the server answered with, if any. */
  rejectedWith?: grpc.status;
}

/**
 * What the server does with one call, whatever its token (except `accept`, which checks the token):
 * - `accept`: verify the JWT, reject it trailers-only if invalid, else headers and a normal answer;
 * - `reject`: `code` (default UNAUTHENTICATED) before any message, trailers-only or after response headers; at once,
 *   or (client and bidi streams, `afterLastRequest`) once the client half-closed — so that a test knows how many
 *   requests the client had sent by then;
 * - `reject-after`: a valid token is served until `messages` response messages went out (server stream, bidi) or
 *   `messages` requests were read (client stream), then rejected with `code`;
 * - `hang`: headers never, answer never (until the client's deadline or cancel).
 */
export type CallPlan =
  | { kind: 'accept' }
  | { kind: 'reject'; code?: grpc.status; afterHeaders?: boolean; afterLastRequest?: boolean }
  | { kind: 'reject-after'; messages: number; code?: grpc.status }
  | { kind: 'hang' };

/** When a planned rejection comes: after response headers, and (request streams) after the client's last request. */
export interface RejectOptions {
  afterHeaders?: boolean;
  afterLastRequest?: boolean;
}

export interface TestGrpcServer {
  address: string;
  server: grpc.Server;
  calls: ReceivedCall[];
  /** Rejects the next `count` calls with UNAUTHENTICATED, whatever their token (trailers-only unless `afterHeaders`). */
  rejectNext(count: number, options?: RejectOptions): void;
  /** Answers the next `count` calls with this status (before any message). */
  failNext(code: grpc.status, count?: number, options?: RejectOptions): void;
  /** Plans what the next calls get, one plan per call, in order. */
  planNext(...plans: CallPlan[]): void;
  /** Plans what the calls carrying the request header `x-plan-key: <key>` get, one plan per attempt, in order. */
  planByKey(key: string, plans: CallPlan[]): void;
  /** Moves the server's clock forward, so tokens the client still trusts are expired here. */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

export interface GrpcServerOptions {
  /** The identity provider whose JWTs are accepted. */
  issuer: string;
  jwksUri: string;
  audience: string;
  /** Metadata key carrying `Bearer <jwt>`. Default `authorization`. */
  headerKey?: string;
  /** Extra services on the same server (AuthMetadataService, IdentityService…). */
  addServices?: (server: grpc.Server) => void;
  credentials?: grpc.ServerCredentials;
  /** The keys to verify with, instead of fetching `jwksUri` (e.g. an HTTPS identity provider with a test CA). */
  jwks?: JWTVerifyGetKey;
  /** Whether `calls` records every call. Default true; a soak turns it off to keep memory flat. */
  recordCalls?: boolean;
  /** A further check of a token the JWT verification accepted: a reason rejects the call (trailers-only UNAUTHENTICATED). */
  checkValidToken?: (token: string, metadata: grpc.Metadata) => string | undefined;
}

type AnyCall =
  | grpc.ServerUnaryCall<EchoRequest, EchoReply>
  | grpc.ServerReadableStream<EchoRequest, EchoReply>
  | grpc.ServerWritableStream<EchoRequest, EchoReply>
  | grpc.ServerDuplexStream<EchoRequest, EchoReply>;

/**
 * A real grpc-js server on 127.0.0.1 with the `test.echo.Echo` service. Every call must carry a JWT from the
 * identity provider (signature checked against its JWKS, audience, issuer and expiry); an invalid one is rejected
 * trailers-only, as auth middleware does. Plans (`rejectNext`, `failNext`, `planNext`) script what calls get.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<TestGrpcServer> {
  const headerKey = options.headerKey ?? 'authorization';
  const jwks: JWTVerifyGetKey = options.jwks ?? createRemoteJWKSet(new URL(options.jwksUri));
  const calls: ReceivedCall[] = [];
  const plans: CallPlan[] = [];
  const keyedPlans = new Map<string, CallPlan[]>();
  let clockSkewMs = 0;

  type Decision =
    | { kind: 'serve'; subject: string; record: ReceivedCall; rejectAfter?: { messages: number; error: grpc.ServiceError } }
    | { kind: 'reject'; error: grpc.ServiceError; atEnd?: boolean }
    | { kind: 'hang' };

  const serviceError = (record: ReceivedCall, code: grpc.status, details: string): grpc.ServiceError => {
    record.outcome = details;
    record.rejectedWith = code;
    return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
  };

  /** Records the call at once (so request messages can be logged) and decides what it gets. */
  function authorize(method: string, call: AnyCall): { record: ReceivedCall; decision: Promise<Decision> } {
    const headerValues = call.metadata.get(headerKey).map(String);
    const planKey = call.metadata.get('x-plan-key').map(String)[0];
    const record: ReceivedCall = { method, headerValues, outcome: 'ok', metadata: call.metadata, requests: [], headersSent: false, planKey };
    if (options.recordCalls !== false) calls.push(record);
    if ('request' in call) record.requests.push(call.request.text ?? '');
    return { record, decision: decide(record, call, headerValues) };
  }

  async function decide(record: ReceivedCall, call: AnyCall, headerValues: string[]): Promise<Decision> {
    // Response headers, numbered, so tests can tell which attempt's headers reached the app.
    const sendHeaders = (): void => {
      const headers = new grpc.Metadata();
      headers.set('x-attempt', String(calls.indexOf(record) + 1 || ''));
      call.sendMetadata(headers);
      record.headersSent = true;
    };
    const plan = (record.planKey === undefined ? plans.shift() : keyedPlans.get(record.planKey)?.shift()) ?? { kind: 'accept' };
    if (plan.kind === 'hang') {
      record.outcome = 'hang';
      return { kind: 'hang' };
    }
    if (plan.kind === 'reject') {
      if (plan.afterHeaders) sendHeaders();
      return { kind: 'reject', error: serviceError(record, plan.code ?? grpc.status.UNAUTHENTICATED, 'rejected by test'), atEnd: plan.afterLastRequest ?? false };
    }
    // A real auth check answers trailers-only: no headers before a rejection.
    if (headerValues.length !== 1) {
      return { kind: 'reject', error: serviceError(record, grpc.status.UNAUTHENTICATED, `expected one ${headerKey} value, got ${headerValues.length}`) };
    }
    const match = /^Bearer (.+)$/.exec(headerValues[0]!);
    if (!match) return { kind: 'reject', error: serviceError(record, grpc.status.UNAUTHENTICATED, 'no bearer token') };
    let subject: string;
    try {
      const { payload } = await jwtVerify(match[1]!, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        currentDate: new Date(Date.now() + clockSkewMs),
      });
      const claimed = payload.sub ?? payload.client_id;
      subject = typeof claimed === 'string' ? claimed : '';
    } catch (error) {
      const code = (error as { code?: string }).code ?? String(error);
      return { kind: 'reject', error: serviceError(record, grpc.status.UNAUTHENTICATED, `invalid token: ${code}`) };
    }
    const refused = options.checkValidToken?.(match[1]!, call.metadata);
    if (refused !== undefined) return { kind: 'reject', error: serviceError(record, grpc.status.UNAUTHENTICATED, refused) };
    sendHeaders();
    if (plan.kind === 'reject-after') {
      const details = `rejected after ${plan.messages} message(s)`;
      const code = plan.code ?? grpc.status.UNAUTHENTICATED;
      const error = Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
      return { kind: 'serve', subject, record, rejectAfter: { messages: plan.messages, error } };
    }
    return { kind: 'serve', subject, record };
  }

  const server = new grpc.Server();
  server.addService(echoService, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      void authorize('Unary', call).decision.then((decision) => {
        if (decision.kind === 'hang') return;
        if (decision.kind === 'reject') callback(decision.error);
        else if (decision.rejectAfter) {
          decision.record.outcome = decision.rejectAfter.error.details;
          decision.record.rejectedWith = decision.rejectAfter.error.code;
          callback(decision.rejectAfter.error);
        } else callback(null, { text: `ok:${call.request.text ?? ''}`, subject: decision.subject });
      });
    },
    ServerStream: (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      void authorize('ServerStream', call).decision.then((decision) => {
        if (decision.kind === 'hang') return;
        if (decision.kind === 'reject') {
          call.emit('error', decision.error);
          return;
        }
        const count = call.request.count || 3;
        const limit = decision.rejectAfter ? Math.min(count, decision.rejectAfter.messages) : count;
        for (let i = 0; i < limit; i += 1) call.write({ text: `${call.request.text ?? ''}-${i}`, subject: decision.subject });
        if (decision.rejectAfter) {
          decision.record.outcome = decision.rejectAfter.error.details;
          decision.record.rejectedWith = decision.rejectAfter.error.code;
          call.emit('error', decision.rejectAfter.error);
          return;
        }
        // `fail-midstream`: the replies went out, then the server rejects the credentials.
        if (call.request.text === 'fail-midstream') {
          decision.record.outcome = 'token expired mid-stream';
          decision.record.rejectedWith = grpc.status.UNAUTHENTICATED;
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'token expired mid-stream' });
          return;
        }
        call.end();
      });
    },
    ClientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      const texts: string[] = [];
      let answered = false;
      const answer = (error: grpc.ServiceError | null, reply?: EchoReply): void => {
        if (answered) return;
        answered = true;
        if (error) callback(error);
        else callback(null, reply);
      };
      const { record, decision: authorized } = authorize('ClientStream', call);
      // A rejection does not wait for the client's last message, unless planned so.
      void authorized.then((decision) => {
        if (decision.kind === 'reject' && !decision.atEnd) answer(decision.error);
      });
      call.on('data', (request: EchoRequest) => {
        texts.push(request.text ?? '');
        record.requests.push(request.text ?? '');
        void authorized.then((decision) => {
          const limit = decision.kind === 'serve' ? decision.rejectAfter : undefined;
          if (limit && texts.length >= limit.messages) {
            record.outcome = limit.error.details;
            record.rejectedWith = limit.error.code;
            answer(limit.error);
          }
        });
      });
      call.on('end', () => {
        void authorized.then((decision) => {
          if (decision.kind === 'hang') return;
          if (decision.kind === 'reject') return answer(decision.error);
          if (decision.rejectAfter) {
            record.outcome = decision.rejectAfter.error.details;
            record.rejectedWith = decision.rejectAfter.error.code;
            return answer(decision.rejectAfter.error);
          }
          answer(null, { text: texts.join(','), subject: decision.subject });
        });
      });
    },
    Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
      const { record, decision: authorized } = authorize('Bidi', call);
      void authorized.then((decision) => {
        if (decision.kind === 'hang') return;
        if (decision.kind === 'reject' && decision.atEnd) {
          call.on('data', (request: EchoRequest) => record.requests.push(request.text ?? ''));
          call.on('end', () => call.emit('error', decision.error));
          return;
        }
        if (decision.kind === 'reject') {
          call.emit('error', decision.error);
          return;
        }
        let failed = false;
        const fail = (error: grpc.ServiceError | { code: grpc.status; details: string }): void => {
          failed = true;
          decision.record.outcome = error.details ?? '';
          decision.record.rejectedWith = error.code;
          call.emit('error', error);
        };
        const limit = decision.rejectAfter;
        if (limit && limit.messages === 0) {
          fail(limit.error);
          return;
        }
        let replies = 0;
        call.on('data', (request: EchoRequest) => {
          if (failed) return;
          decision.record.requests.push(request.text ?? '');
          call.write({ text: `echo:${request.text ?? ''}`, subject: decision.subject });
          replies += 1;
          if (request.text === 'fail-midstream') fail({ code: grpc.status.UNAUTHENTICATED, details: 'token expired mid-stream' });
          else if (limit && replies >= limit.messages) fail(limit.error);
        });
        call.on('end', () => {
          if (failed) return;
          if (limit) fail(limit.error);
          else call.end();
        });
      });
    },
  });
  options.addServices?.(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  return {
    address: `127.0.0.1:${port}`,
    server,
    calls,
    rejectNext(count, rejectOptions = {}) {
      for (let i = 0; i < count; i += 1) plans.push({ kind: 'reject', ...rejectOptions });
    },
    failNext(code, count = 1, failOptions = {}) {
      for (let i = 0; i < count; i += 1) plans.push({ kind: 'reject', code, ...failOptions });
    },
    planNext(...next) {
      plans.push(...next);
    },
    planByKey(key, next) {
      keyedPlans.set(key, [...next]);
    },
    advanceClock(ms) {
      clockSkewMs += ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 500).unref();
      }),
  };
}
