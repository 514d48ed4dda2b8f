// `npm run soak` (not in CI): at least 200,000 calls of the four call types over three stubs sharing one
// authenticator, against the real identity provider (tokens living 2 s) and a real grpc-js server that verifies
// every JWT and, at random, revokes 1 % of the valid tokens it sees. Prints calls/s, token requests, final
// statuses (UNAUTHENTICATED: target 0) and the heap after GC at start and end (growth target < 5 MB).
// SOAK_CALLS=n changes the number of calls. Run with --expose-gc (the npm script does).
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
// The compiled package, as users run it (see interceptor.bench.ts).
const compiled = '../dist/index.js';
const { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore } = (await import(compiled)) as typeof import('../src/index.js');
import { bidi, clientStream, EchoClient, serverStream, unary, type EchoClientInstance } from '../test/support/echo-service.js';
import { startGrpcServer } from '../test/support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider } from '../test/support/identity-provider.js';

const TOTAL = Number(process.env.SOAK_CALLS ?? 200_000);
const WARM_UP = 4_000;
const STUBS = 3;
const IN_FLIGHT_PER_STUB = 16;
const REVOKE_RATE = 0.01;
// A token is revoked at random only once the server has accepted it for this long: the retry that follows a
// revocation carries a token just obtained, so one retry always suffices (otherwise 1 % × 1 % of the calls would be
// rejected twice by construction, whatever the client does).
const REVOCATION_GRACE_MS = 250;
const CALL_DEADLINE_MS = 30_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run soak)');
const heapAfterGc = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mib = (bytes: number): string => (bytes / (1 << 20)).toFixed(1);

const idp = await startIdentityProvider({ accessTokenTtlSeconds: 2 });
const firstSeen = new Map<string, number>();
const revoked = new Set<string>();
let revocations = 0;
// Per call (x-call id): the tokens its attempts carried that the server refused, to explain any final UNAUTHENTICATED.
const refusedTokens = new Map<string, string[]>();
const refuse = (call: string, token: string, reason: string): string => {
  const tokens = refusedTokens.get(call) ?? [];
  tokens.push(token);
  refusedTokens.set(call, tokens);
  return reason;
};
const server = await startGrpcServer({
  issuer: idp.issuer,
  jwksUri: idp.jwksUri,
  audience: API_AUDIENCE,
  recordCalls: false,
  checkValidToken(token, metadata) {
    const call = String(metadata.get('x-call')[0]);
    if (revoked.has(token)) return refuse(call, token, 'revoked');
    const now = Date.now();
    const seen = firstSeen.get(token);
    if (seen === undefined) firstSeen.set(token, now);
    else if (now - seen > REVOCATION_GRACE_MS && Math.random() < REVOKE_RATE) {
      revoked.add(token);
      revocations += 1;
      return refuse(call, token, 'revoked at random');
    }
    return undefined;
  },
});
// Tokens live 2 s: forget them after 10 s, so the server's own bookkeeping stays flat.
const pruner = setInterval(() => {
  const cutoff = Date.now() - 10_000;
  for (const [token, seen] of firstSeen) {
    if (seen < cutoff) {
      firstSeen.delete(token);
      revoked.delete(token);
    }
  }
}, 1_000);

const authenticator = new ClientCredentialsAuthenticator({
  endpoint: server.address,
  ...BASIC_CLIENT,
  cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
});
const interceptor = createAuthInterceptor(authenticator);
const stubs: EchoClientInstance[] = Array.from({ length: STUBS }, () => new EchoClient(server.address, grpc.credentials.createInsecure(), { interceptors: [interceptor] }));

const statuses = new Map<string, number>();
const failedCalls: string[] = [];
const count = (key: string): void => {
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
};

async function oneCall(stub: EchoClientInstance, index: number): Promise<void> {
  const options: grpc.CallOptions = { deadline: Date.now() + CALL_DEADLINE_MS };
  const text = `c${index}`;
  const metadata = new grpc.Metadata();
  metadata.set('x-call', text);
  try {
    switch (index % 4) {
      case 0:
        await unary(stub, { text }, metadata, options);
        break;
      case 1:
        await serverStream(stub, { text, count: 3 }, options, metadata);
        break;
      case 2:
        await clientStream(stub, [{ text }, { text }, { text }], options, metadata);
        break;
      default:
        await bidi(stub, [{ text }, { text }, { text }], options, metadata);
    }
    count('OK');
    refusedTokens.delete(text);
  } catch (error) {
    const { code, details } = error as grpc.ServiceError;
    count(`${grpc.status[code] ?? code}: ${details}`);
    if (code === grpc.status.UNAUTHENTICATED) failedCalls.push(text);
    else refusedTokens.delete(text);
  }
}

async function run(total: number): Promise<number> {
  let next = 0;
  const worker = async (stub: EchoClientInstance): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      await oneCall(stub, index);
    }
  };
  const started = performance.now();
  await Promise.all(stubs.flatMap((stub) => Array.from({ length: IN_FLIGHT_PER_STUB }, () => worker(stub))));
  return performance.now() - started;
}

await run(WARM_UP);
statuses.clear();
const tokenRequestsBefore = idp.tokenRequestCount;
const revocationsBefore = revocations;
const heapStart = heapAfterGc();
const elapsed = await run(TOTAL);
const heapEnd = heapAfterGc();

const unauthenticated = [...statuses].filter(([key]) => key.startsWith('UNAUTHENTICATED')).reduce((sum, [, n]) => sum + n, 0);
console.log(`soak: ${TOTAL} calls (4 call types round robin) over ${STUBS} stubs x ${IN_FLIGHT_PER_STUB} in flight, one authenticator`);
console.log(`  tokens live 2 s; the server revoked ${revocations - revocationsBefore} valid tokens at random (${REVOKE_RATE * 100} % of calls with a token older than ${REVOCATION_GRACE_MS} ms)`);
console.log(`  ${(TOTAL / (elapsed / 1000)).toFixed(0)} calls/s (${(elapsed / 1000).toFixed(1)} s)`);
console.log(`  token requests: ${idp.tokenRequestCount - tokenRequestsBefore}`);
console.log(`  final statuses: ${[...statuses].map(([key, n]) => `${key} ×${n}`).join('; ')}`);
console.log(`  final UNAUTHENTICATED: ${unauthenticated} (target 0)`);
for (const call of failedCalls) {
  const tokens = refusedTokens.get(call) ?? [];
  const distinct = new Set(tokens).size;
  console.log(`    ${call}: ${tokens.length} attempt(s) refused, ${distinct} distinct token(s)${distinct === 2 ? ': the retry carried a newer token, revoked too (two revocations hit one call)' : ''}`);
}
console.log(`  heap after GC: ${mib(heapStart)} MiB at start, ${mib(heapEnd)} MiB at end, growth ${mib(heapEnd - heapStart)} MiB (target < 5)`);

clearInterval(pruner);
for (const stub of stubs) stub.close();
await server.close();
await idp.close();
