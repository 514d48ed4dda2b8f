// `npm run bench:fleet`: P processes × C unary calls each, client-credentials tokens living 2 s, with the Redis token
// store and without a store, in interleaved rounds of one run. Prints the token requests the identity provider got
// per token lifetime (target: 1 with Redis, P without) and each process's calls/s with and without the store (target
// ratio >= 0.97: a fresh token needs no Redis round trip). Medians over rounds. A benchmark, not a test.
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { PACKAGE_ROOT, startScript, type ScriptProcess } from '../test/support/child-process.js';
import { echoService } from '../test/support/echo-service.js';
import { BASIC_CLIENT, startIdentityProvider } from '../test/support/identity-provider.js';
import { startRedisServer } from '../test/support/redis-server.js';

const PROCESSES = Number(process.env.FLEET_PROCESSES ?? 4);
const CALLS = Number(process.env.FLEET_CALLS ?? 3_000);
const ROUNDS = Number(process.env.FLEET_ROUNDS ?? 5); // per mode
const IN_FLIGHT = Number(process.env.FLEET_IN_FLIGHT ?? 4);
const TOKEN_LIFETIME_S = 2;
const MODES = ['redis', 'none'] as const;
type Mode = (typeof MODES)[number];

interface RoundResult {
  calls: number;
  ms: number;
  fetches: number;
  tokens: number;
  /** Calls that waited for a token, how long in all, the longest wait. */
  waits: number;
  waitedMs: number;
  longestWaitMs: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// A server that does no work, so that what differs between the modes is the client side.
const server = new grpc.Server();
server.addService(echoService, {
  Unary: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
    callback(null, { text: call.request.text, subject: '' }),
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
const idp = await startIdentityProvider({ accessTokenTtlSeconds: TOKEN_LIFETIME_S });
const redis = await startRedisServer();
const raw = await redis.raw();

const workerScript = join(PACKAGE_ROOT, 'bench', 'fleet-worker.ts');
const workers: ScriptProcess[] = Array.from({ length: PROCESSES }, () =>
  startScript(workerScript, { address: `127.0.0.1:${port}`, tokenEndpoint: idp.tokenEndpoint, redisUrl: redis.url, ...BASIC_CLIENT, inFlight: IN_FLIGHT }),
);

async function round(mode: Mode, calls: number): Promise<{ results: RoundResult[]; requests: number }> {
  // Each round starts cold: no token in Redis, a fresh authenticator in every process.
  await raw.flushall();
  const before = idp.tokenRequestCount;
  for (const worker of workers) worker.send(`round ${mode} ${calls}`);
  const results = (await Promise.all(workers.map((worker) => worker.nextLine()))).map((line) => JSON.parse(line) as RoundResult);
  return { results, requests: idp.tokenRequestCount - before };
}

try {
  for (const worker of workers) if ((await worker.nextLine()) !== 'ready') throw new Error(worker.stderr);
  // Warm-up (JIT, connections), not counted.
  for (const mode of MODES) await round(mode, Math.min(CALLS, 500));

  const rates: Record<Mode, number[]> = { redis: [], none: [] };
  const requests: Record<Mode, number[]> = { redis: [], none: [] };
  const perLifetime: Record<Mode, number[]> = { redis: [], none: [] };
  const seconds: Record<Mode, number[]> = { redis: [], none: [] };
  const waited: Record<Mode, number[]> = { redis: [], none: [] };
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    // Interleaved in pairs, alternating which mode goes first, so drift in machine load hits both alike.
    const rate: Partial<Record<Mode, number>> = {};
    for (const mode of r % 2 ? [...MODES].reverse() : MODES) {
      const outcome = await round(mode, CALLS);
      const { results } = outcome;
      rate[mode] = median(results.map((result) => result.calls / (result.ms / 1000)));
      rates[mode].push(rate[mode]);
      requests[mode].push(outcome.requests);
      // One token lifetime per token a process went through (tokens live 2 s, but a JWT's whole-second `exp` and
      // the refresh window make each one last 1-2 s): 1 request per lifetime when one serves the whole fleet, P when
      // every process fetches its own.
      perLifetime[mode].push(outcome.requests / median(results.map((result) => result.tokens)));
      seconds[mode].push(Math.max(...results.map((result) => result.ms)) / 1000);
      waited[mode].push(median(results.map((result) => (100 * result.waitedMs) / result.ms)));
      if (process.env.FLEET_DEBUG) console.log(mode, outcome.requests, JSON.stringify(results.map((result) => [result.fetches, result.tokens, Math.round(result.ms), result.waits, Math.round(result.waitedMs), Math.round(result.longestWaitMs)])));
    }
    ratios.push(rate.redis! / rate.none!);
  }

  const line = (label: string, redisValue: string, noneValue: string) => console.log(`  ${label.padEnd(40)} ${redisValue.padStart(10)} ${noneValue.padStart(10)}`);
  console.log(
    `fleet: ${PROCESSES} processes × ${CALLS} unary calls each (${IN_FLIGHT} in flight), tokens living ${TOKEN_LIFETIME_S} s, ` +
      `${ROUNDS} interleaved rounds per mode, medians`,
  );
  line('', 'Redis', 'no store');
  line('round length (s)', median(seconds.redis).toFixed(1), median(seconds.none).toFixed(1));
  line('token requests per round', median(requests.redis).toFixed(0), median(requests.none).toFixed(0));
  line('token requests per token lifetime', median(perLifetime.redis).toFixed(2), median(perLifetime.none).toFixed(2));
  line('calls/s per process', median(rates.redis).toFixed(0), median(rates.none).toFixed(0));
  line('time calls waited for a token refresh (%)', median(waited.redis).toFixed(1), median(waited.none).toFixed(1));
  console.log(
    `  calls/s ratio Redis / no store: ${median(ratios).toFixed(3)} (median of paired rounds), ` +
      `${(median(rates.redis) / median(rates.none)).toFixed(3)} (ratio of the medians)`,
  );
  console.log(`  targets: 1 token request per lifetime with Redis against ${PROCESSES} without; calls/s ratio >= 0.97`);
} finally {
  for (const worker of workers) worker.kill();
  server.forceShutdown();
  await idp.close();
  await redis.close();
}
