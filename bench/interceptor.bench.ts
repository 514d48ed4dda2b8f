// `npm run bench`: the cost of the auth interceptor on a unary echo over loopback, as ratios measured in one run,
// the token requests 1,000 concurrent calls make on a cold authenticator, and the latency of calls made while a
// proactive refresh waits for a slow identity provider (stale-while-revalidate). A benchmark, not a test.
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
// The compiled package, as users run it: the TypeScript loader would add per-call helpers of its own.
// (A computed specifier, so type checking a fresh clone does not need dist/.)
const compiled = '../dist/index.js';
const { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore } = (await import(compiled)) as typeof import('../src/index.js');
import { EchoClient, echoService, unary, type EchoClientInstance } from '../test/support/echo-service.js';
import { BASIC_CLIENT, startIdentityProvider } from '../test/support/identity-provider.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const CALLS_PER_ROUND = Number(process.env.BENCH_CALLS ?? 2_000);
const IN_FLIGHT = 16;

// A server that does no work, so that client-side costs are what differs between the variants.
const server = new grpc.Server();
server.addService(echoService, {
  Unary: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
    callback(null, { text: call.request.text, subject: '' }),
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
const address = `127.0.0.1:${port}`;
const idp = await startIdentityProvider({ accessTokenTtlSeconds: 3600 });
const newAuthenticator = () =>
  new ClientCredentialsAuthenticator({
    endpoint: address,
    ...BASIC_CLIENT,
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
  });

// The floor any metadata-writing interceptor pays: copy the metadata, set one fixed header.
const fixedHeader: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      const copy = metadata.clone();
      copy.set('authorization', 'Bearer fixed-token');
      next(copy, listener);
    },
  });

const authenticator = newAuthenticator();
await authenticator.refreshCredentials();
const variants: Array<[string, EchoClientInstance]> = [
  ['flyte-grpc-auth', new EchoClient(address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] })],
  ['fixed header', new EchoClient(address, grpc.credentials.createInsecure(), { interceptors: [fixedHeader] })],
  ['no interceptor', new EchoClient(address, grpc.credentials.createInsecure())],
];

async function round(client: EchoClientInstance): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < CALLS_PER_ROUND) {
      next += 1;
      await unary(client, { text: 'x' });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return performance.now() - started;
}

for (const [, client] of variants) await round(client); // warm-up: connections, JIT
const elapsed = new Map<string, number>(variants.map(([name]) => [name, 0]));
for (let r = 0; r < ROUNDS; r += 1) {
  // Interleaved, in a rotating order, so drift in machine load hits every variant alike.
  for (let i = 0; i < variants.length; i += 1) {
    const [name, client] = variants[(r + i) % variants.length]!;
    elapsed.set(name, elapsed.get(name)! + (await round(client)));
  }
}
const rate = (name: string) => (ROUNDS * CALLS_PER_ROUND) / (elapsed.get(name)! / 1000);
console.log(`unary echo on loopback, ${ROUNDS} interleaved rounds of ${CALLS_PER_ROUND} calls, ${IN_FLIGHT} in flight`);
for (const [name] of variants) console.log(`  ${name.padEnd(16)} ${rate(name).toFixed(0).padStart(7)} calls/s`);
const ofFloor = rate('flyte-grpc-auth') / rate('fixed header');
console.log(`  ratio flyte-grpc-auth / fixed header:   ${ofFloor.toFixed(3)} (target >= 0.97)`);
console.log(`  ratio flyte-grpc-auth / no interceptor: ${(rate('flyte-grpc-auth') / rate('no interceptor')).toFixed(3)}`);

const cold = newAuthenticator();
const coldClient = new EchoClient(address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(cold)] });
const before = idp.tokenRequestCount;
await Promise.all(Array.from({ length: 1_000 }, () => unary(coldClient, { text: 'cold' })));
console.log(`1,000 concurrent calls on a cold authenticator: ${idp.tokenRequestCount - before} token request(s) (target: exactly 1)`);

// Stale-while-revalidate: an identity provider that takes 1 s per token, and a token that is always inside its refresh
// window, so a background refresh starts whenever the minimum interval (5 s) allows. Calls that start while the refresh
// waits for the identity provider are compared with the calls that start between refreshes, cycle by cycle. (The
// in-process identity provider's own work when it finally answers is left out of "during": a real one runs elsewhere.)
const REFRESH_CYCLES = Number(process.env.BENCH_REFRESH_CYCLES ?? 4);
const IDP_DELAY_MS = 1_000;
let refreshing = false;
let cycle = -1;
const slowAuthenticator = new ClientCredentialsAuthenticator({
  endpoint: address,
  ...BASIC_CLIENT,
  cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
  refreshWindowMs: 3_600_000,
  fetch: async (url, init) => {
    cycle += 1;
    refreshing = true;
    await new Promise((resolve) => setTimeout(resolve, IDP_DELAY_MS));
    refreshing = false;
    return fetch(url, init as RequestInit);
  },
});
await slowAuthenticator.refreshCredentials();
const swrClient = new EchoClient(address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(slowAuthenticator)] });
// Per cycle: the calls between the previous refresh and this one ("outside"), and those during this one.
const during: number[][] = Array.from({ length: REFRESH_CYCLES + 1 }, () => []);
const outside: number[][] = Array.from({ length: REFRESH_CYCLES + 1 }, () => []);
const swrWorker = async () => {
  while (cycle <= REFRESH_CYCLES) {
    const inRefresh = refreshing;
    const at = cycle;
    const started = performance.now();
    await unary(swrClient, { text: 'swr' });
    (inRefresh ? during : outside)[Math.min(at, REFRESH_CYCLES)]!.push(performance.now() - started);
  }
};
await Promise.all(Array.from({ length: IN_FLIGHT }, swrWorker));
const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))] ?? Number.NaN;
// Cycle 0 is the warm-up (the first token came from the same slow provider before any call).
const cycles = Array.from({ length: REFRESH_CYCLES }, (_, i) => i + 1);
const inside = cycles.flatMap((i) => during[i]!);
const between = cycles.flatMap((i) => outside[i]!);
const ms = (value: number) => `${value.toFixed(2).padStart(7)} ms`;
const ratio = (p: number) => (percentile(inside, p) / percentile(between, p)).toFixed(3);
console.log(`calls during a proactive refresh (identity provider takes ${IDP_DELAY_MS} ms; ${REFRESH_CYCLES} refreshes, ${IN_FLIGHT} in flight)`);
console.log(`  during refresh   p50 ${ms(percentile(inside, 0.5))}  p99 ${ms(percentile(inside, 0.99))}  (${inside.length} calls)`);
console.log(`  outside refresh  p50 ${ms(percentile(between, 0.5))}  p99 ${ms(percentile(between, 0.99))}  (${between.length} calls)`);
console.log(`  ratio during / outside: p50 ${ratio(0.5)}, p99 ${ratio(0.99)} (target <= 1.1)`);

await benchInstrumentation(variants[0]![1], variants[1]![1]);

for (const [, client] of variants) client.close();
coldClient.close();
swrClient.close();
server.forceShutdown();
await idp.close();

// --- issue 11: the interceptor with nobody subscribed to the diagnostics channels vs with instrumentAuth active ---
// Interleaved rounds; each round's ratio to the fixed-header floor is measured in that round, and the median is shown.
async function benchInstrumentation(auth: EchoClientInstance, floor: EchoClientInstance): Promise<void> {
  const otel = '../dist/otel.js';
  const { instrumentAuth } = (await import(otel)) as typeof import('../src/otel.js');
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 })],
  });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const unsubscribed: number[] = [];
  const instrumented: number[] = [];
  const clients: Record<string, EchoClientInstance> = { floor, none: auth, otel: auth };
  const names = Object.keys(clients);
  for (let r = 0; r < ROUNDS; r += 1) {
    const ms: Record<string, number> = {};
    // A rotating order, so drift in machine load hits every variant alike.
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(r + i) % names.length]!;
      const stop = name === 'otel' ? instrumentAuth({ meterProvider, tracerProvider }) : undefined;
      ms[name] = await round(clients[name]!);
      stop?.();
    }
    unsubscribed.push(ms.floor! / ms.none!);
    instrumented.push(ms.floor! / ms.otel!);
  }
  console.log(`diagnostics channels, ${ROUNDS} interleaved rounds (median of per-round ratios to the fixed header)`);
  console.log(`  nobody subscribed:       ${median(unsubscribed).toFixed(3)} (target >= 0.97, as above)`);
  console.log(`  instrumentAuth active:   ${median(instrumented).toFixed(3)}`);
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
}
