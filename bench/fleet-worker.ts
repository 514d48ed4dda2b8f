// One process of `npm run bench:fleet`: on each `round <redis|none> <calls>` line it makes a fresh client-credentials
// authenticator (with the shared Redis store or without a store), makes <calls> unary calls through the auth
// interceptor, and prints {"calls","ms","fetches","tokens"}: how long they took, how many token requests this process
// sent, and how many distinct tokens it used.
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
// The compiled package, as users run it (computed specifiers, so type checking a fresh clone does not need dist/).
const compiled = '../dist/index.js';
const compiledRedis = '../dist/redis.js';
const { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore } = (await import(compiled)) as typeof import('../src/index.js');
const { RedisTokenStore } = (await import(compiledRedis)) as typeof import('../src/redis.js');
import { EchoClient, unary } from '../test/support/echo-service.js';

interface WorkerArgs {
  address: string;
  tokenEndpoint: string;
  redisUrl: string;
  clientId: string;
  clientSecret: string;
  inFlight: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
const tokenStore = new RedisTokenStore({ redis: args.redisUrl });

async function round(mode: string, calls: number): Promise<Record<string, number>> {
  let fetches = 0;
  const authenticator = new ClientCredentialsAuthenticator({
    endpoint: args.address,
    clientId: args.clientId,
    clientSecret: args.clientSecret,
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: args.tokenEndpoint, scopes: ['api:read'] }),
    tokenStore: mode === 'redis' ? tokenStore : undefined,
    fetch: (url, init) => {
      fetches += 1;
      return fetch(url, init as RequestInit);
    },
  });
  // How long calls waited for a token (the slow path: no fresh token in memory).
  let waitedMs = 0;
  let waits = 0;
  let longestWaitMs = 0;
  const slowPath = authenticator.fetchGrpcCallAuthMetadata.bind(authenticator);
  authenticator.fetchGrpcCallAuthMetadata = async () => {
    const started = performance.now();
    try {
      return await slowPath();
    } finally {
      const waited = performance.now() - started;
      waitedMs += waited;
      waits += 1;
      longestWaitMs = Math.max(longestWaitMs, waited);
    }
  };
  const client = new EchoClient(args.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] });
  const tokens = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next += 1;
      await unary(client, { text: 'x' });
      tokens.add(authenticator.getCredentials()?.accessToken ?? '');
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: args.inFlight }, worker));
  const ms = performance.now() - started;
  client.close();
  return { calls, ms, fetches, tokens: tokens.size, waitedMs, waits, longestWaitMs };
}

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, mode = 'none', calls = '0'] = line.trim().split(' ');
  if (command !== 'round') break;
  process.stdout.write(`${JSON.stringify(await round(mode, Number(calls)))}\n`);
}
await tokenStore.close();
process.exit(0);
