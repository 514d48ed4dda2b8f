import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** An ACL user the server requires (the `default` user is then switched off). */
export interface RedisUser {
  name: string;
  password: string;
  /** ACL rules after the password. Default `~* &* +@all`. */
  rules?: string;
}

export interface RedisServerOptions {
  /** Require this ACL user; without it, the default user needs no password. */
  user?: RedisUser;
  /** Run as a one-node Redis Cluster owning all 16384 slots. */
  cluster?: boolean;
}

/** A real `redis-server` (the Debian package) on a free 127.0.0.1 port, with a temporary directory and no persistence. */
export interface TestRedisServer {
  readonly port: number;
  /** `redis://[user:password@]127.0.0.1:<port>`, with the configured user. */
  readonly url: string;
  /** Stops the server (SIGTERM: nothing is saved), as an outage would. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  resume(): void;
  /** A plain ioredis client (as the configured user) for looking at keys; closed by `close()`. */
  raw(): Promise<Redis>;
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A crashed, timed-out or interrupted test file must not leave servers behind.
function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}
process.once('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function configuration(dir: string, port: number, options: RedisServerOptions): string {
  const lines = [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'save ""', 'appendonly no', 'loglevel notice', 'logfile ""'];
  if (options.user) lines.push(`user ${options.user.name} on >${options.user.password} ${options.user.rules ?? '~* &* +@all'}`, 'user default off');
  if (options.cluster) lines.push('cluster-enabled yes', 'cluster-announce-ip 127.0.0.1', `cluster-config-file ${join(dir, 'nodes.conf')}`);
  return `${lines.join('\n')}\n`;
}

// Resolves once the server logs that it accepts connections; rejects with its log when it exits first.
function launch(configPath: string): Promise<ChildProcess> {
  const child = spawn('redis-server', [configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      log += `${line}\n`;
      if (line.includes('Ready to accept connections')) {
        lines.removeAllListeners('line');
        child.stdout.resume();
        resolve(child);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      running.delete(child);
      reject(new Error(`redis-server exited (${String(code)}) before it was ready:\n${log}`));
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

async function assignAllSlots(client: Redis): Promise<void> {
  await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const info = String(await client.call('CLUSTER', 'INFO'));
    if (info.includes('cluster_state:ok')) return;
    await sleep(50);
  }
  throw new Error('the one-node cluster did not reach cluster_state:ok');
}

/** Starts a `redis-server` for one test file; call `close()` when done. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<TestRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'fga-redis-'));
  const configPath = join(dir, 'redis.conf');
  let child: ChildProcess | undefined;
  let port: number;
  // A free port can be taken between the probe and the server's bind: try a few.
  for (let attempt = 0; ; attempt += 1) {
    port = await freePort();
    writeFileSync(configPath, configuration(dir, port, options));
    try {
      child = await launch(configPath);
      break;
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const credentials = options.user ? `${encodeURIComponent(options.user.name)}:${encodeURIComponent(options.user.password)}@` : '';
  const url = `redis://${credentials}127.0.0.1:${port}`;
  const clients: Redis[] = [];
  const raw = async (): Promise<Redis> => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    clients.push(client);
    try {
      await client.connect();
    } catch (error) {
      client.disconnect(); // or it would keep reconnecting, and the test process would never end
      throw error;
    }
    return client;
  };
  if (options.cluster) await assignAllSlots(await raw());

  return {
    port,
    url,
    async stop() {
      if (child) await terminate(child);
    },
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      // A cluster node keeps its slots in nodes.conf across restarts.
      child = await launch(configPath);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    raw,
    async close() {
      for (const client of clients) client.disconnect();
      if (child) await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
