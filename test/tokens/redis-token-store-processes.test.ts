// A fleet on one machine: separate Node processes, each with its own ClientCredentialsAuthenticator and
// RedisTokenStore, sharing one real redis-server, one identity provider and one gRPC server. The token requests are
// counted where they arrive: at the identity provider.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT, startScript, type ScriptProcess } from '../support/child-process.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.js';

const FLEET_WORKER = join(PACKAGE_ROOT, 'test', 'tokens', 'fixtures', 'fleet-worker.ts');

interface WorkerEvent {
  type: string;
  subject?: string;
  token?: string;
  expiresAt?: number;
  error?: string;
}

interface FleetWorker {
  script: ScriptProcess;
  /** Store warnings, in order. */
  warnings: string[];
  /** The next answer (not a warning or a fetch notice); it must be of `type`. */
  next(type: string): Promise<WorkerEvent>;
  /** Resolves at this worker's next token request. */
  nextFetch(): Promise<void>;
}

const LOCK_TTL_MS = 1_500;

let redis: TestRedisServer;
let idp: TestIdentityProvider;
let grpcServer: TestGrpcServer;
// One fleet for the whole file (starting Node processes is the slow part). lockWaitMs far above lockTtlMs: a waiter
// behind a dead holder must get its lock when it expires, not give up.
let workers: FleetWorker[] = [];
before(async () => {
  redis = await startRedisServer();
  // Long enough for eight busy processes to make their first call before the first token is due (a JWT's whole-second
  // `exp` makes it last 3-4 s).
  idp = await startIdentityProvider({ accessTokenTtlSeconds: 4 });
  grpcServer = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
  workers = Array.from({ length: 8 }, () =>
    startWorker({ refreshWindowMs: 200, operationTimeoutMs: 1_000, lockTtlMs: LOCK_TTL_MS, lockWaitMs: 60_000 }),
  );
  // Everyone is up (tsx compiled, store made) before anyone calls: commands go out together.
  await Promise.all(workers.map((worker) => worker.next('ready')));
});
after(async () => {
  for (const worker of workers) worker.script.kill();
  await grpcServer.close();
  await idp.close();
  await redis.close();
});

function requests(): number {
  return idp.tokenRequests.get('client_credentials') ?? 0;
}

function startWorker(options: Record<string, unknown>): FleetWorker {
  const script = startScript(FLEET_WORKER, { ...BASIC_CLIENT, redisUrl: redis.url, tokenEndpoint: idp.tokenEndpoint, grpcAddress: grpcServer.address, ...options });
  const warnings: string[] = [];
  const answers: WorkerEvent[] = [];
  let wake: (() => void) | undefined;
  let fetchWaiters: Array<() => void> = [];
  let ended = false;
  void (async () => {
    try {
      for (;;) {
        const event = JSON.parse(await script.nextLine()) as WorkerEvent & { message?: string };
        if (event.type === 'warning') warnings.push(event.message ?? '');
        else if (event.type === 'fetching') {
          for (const resolve of fetchWaiters) resolve();
          fetchWaiters = [];
        } else answers.push(event);
        wake?.();
      }
    } catch {
      ended = true;
      wake?.();
    }
  })();
  return {
    script,
    warnings,
    async next(type) {
      while (answers.length === 0) {
        if (ended) throw new Error(`worker ended before answering ${type}:\n${script.stderr}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      const event = answers.shift()!;
      assert.equal(event.type, type, `worker answered ${JSON.stringify(event)}`);
      return event;
    },
    nextFetch() {
      return new Promise((resolve) => fetchWaiters.push(resolve));
    },
  };
}

// Sends `command` to every worker at once and collects the answers.
async function all(workers: FleetWorker[], command: string): Promise<WorkerEvent[]> {
  for (const worker of workers) worker.script.send(command);
  const answers = await Promise.all(workers.map((worker) => worker.next(command)));
  for (const answer of answers) assert.equal(answer.error, undefined, `a ${command} failed: ${answer.error}`);
  return answers;
}

function distinct(answers: WorkerEvent[]): string[] {
  return [...new Set(answers.map((answer) => answer.token ?? 'none'))];
}

test('eight processes: one token request at start, one refresh after expiry, one after a rejection; a Redis outage costs each process its own token and one warning; sharing resumes', async () => {
  const started = await all(workers, 'call');
  assert.ok(started.every((answer) => answer.subject === 'svc-basic'));
  assert.equal(requests(), 1, `8 processes started together made one token request; warnings: ${workers.flatMap((worker) => worker.warnings).join('\n')}`);
  assert.equal(distinct(started).length, 1);

  // After the shared token expired (in Redis too), one process refreshes for all.
  idp.setAccessTokenTtl(600);
  await sleep(Math.max(0, started[0]!.expiresAt! - Date.now()) + 50);
  const refreshed = await all(workers, 'call');
  assert.equal(requests(), 2, 'one refresh after expiry');
  assert.equal(distinct(refreshed).length, 1);
  assert.notDeepEqual(distinct(refreshed), distinct(started));

  // The server refuses the token to one process: it refreshes; the others, refused the same token, adopt its new one.
  const [first, ...rest] = workers as [FleetWorker, ...FleetWorker[]];
  await all([first], 'rejected');
  assert.equal(requests(), 3);
  const adopted = await all(rest, 'rejected');
  assert.equal(requests(), 3, 'a rejection seen by one process is one refresh for all');
  assert.deepEqual(distinct(adopted), distinct(await all([first], 'call')));
  assert.ok(workers.every((worker) => worker.warnings.length === 0), workers.flatMap((worker) => worker.warnings).join('\n'));

  // Redis stops: every process fetches its own token, every call succeeds, one warning per process for the outage.
  await redis.stop();
  const during = await all(workers, 'rejected');
  assert.equal(requests(), 3 + 8);
  assert.equal(distinct(during).length, 8);
  await all(workers, 'rejected');
  await all(workers, 'call');
  assert.equal(requests(), 3 + 16);
  for (const worker of workers) {
    // Whichever a process notices first: its connection closing, or the refused reconnection.
    assert.equal(worker.warnings.length, 1, worker.warnings.join('\n'));
    assert.match(
      worker.warnings[0]!,
      new RegExp(
        `^flyte-grpc-auth: the Redis token store redis://127\\.0\\.0\\.1:${redis.port} is unavailable \\((the connection was closed|connect ECONNREFUSED 127\\.0\\.0\\.1:${redis.port})\\); this process fetches its own tokens until Redis answers again\\.$`,
      ),
    );
  }

  // Redis is back (empty): sharing resumes. One refused process refreshes; the others adopt its token.
  await redis.start();
  await sleep(1_100); // during an outage a store tries Redis again at most once a second
  await all([first], 'rejected');
  assert.equal(requests(), 3 + 16 + 1);
  const resumed = await all(rest, 'rejected');
  assert.equal(requests(), 3 + 16 + 1, 'sharing resumed');
  assert.deepEqual(distinct(resumed), distinct(await all([first], 'call')));
  assert.ok(workers.every((worker) => worker.warnings.length === 1));
  await all(workers, 'call');
});

test('kill -9 of the lock holder mid-fetch: another process takes over once the lock expires (lockTtlMs), without giving up', async () => {
  const raw = await redis.raw();
  await raw.flushall();
  const before = requests();
  const warningsBefore = workers.map((worker) => worker.warnings.length);
  // The token endpoint hangs for the next request: the lock holder's.
  idp.failTokenRequests({ kind: 'hang' });
  const holderFetching = Promise.race(workers.map((worker) => worker.nextFetch().then(() => worker)));
  // Every process is refused its token at once: one takes the lock and fetches, the others wait for the lock.
  for (const worker of workers) worker.script.send('rejected');
  const holder = await holderFetching;
  // Killed once its request has reached the identity provider (and hangs there), not before.
  while (requests() < before + 1) await sleep(10);
  const [lockKey] = await raw.keys('*:lock');
  assert.ok(lockKey, 'the holder holds the lock');
  holder.script.child.kill('SIGKILL');
  await holder.script.exited;
  const left = await raw.pttl(lockKey);
  assert.ok(left > 0 && left <= LOCK_TTL_MS, `the dead holder's lock expires within lockTtlMs (${left} ms left)`);

  const survivors = workers.filter((worker) => worker !== holder);
  const answers = await Promise.all(survivors.map((worker) => worker.next('rejected')));
  assert.ok(answers.every((answer) => answer.error === undefined), JSON.stringify(answers));
  assert.equal(requests(), before + 2, 'the hung request and one fetch by a survivor');
  assert.equal(distinct(answers).length, 1);
  assert.ok((await all(survivors, 'call')).every((answer) => answer.subject === 'svc-basic'));
  assert.deepEqual(
    survivors.map((worker) => worker.warnings.length),
    survivors.map((worker) => warningsBefore[workers.indexOf(worker)]),
    'nobody gave up waiting for the lock',
  );
  for (const worker of survivors) worker.script.send('exit');
  assert.deepEqual(await Promise.all(survivors.map((worker) => worker.script.exited)), survivors.map(() => 0));
});
