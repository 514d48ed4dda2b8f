import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import {
  DeviceCodeAuthenticator,
  DIAGNOSTICS_CHANNELS,
  FileTokenStore,
  KeyringTokenStore,
  MemoryTokenStore,
  StaticClientConfigStore,
  type StoreMessage,
} from '../../src/index.js';
import { recordDiagnostics } from '../support/diagnostics.js';
import { createTempDir } from '../support/temp-dir.js';

const credentials = { accessToken: 'access-token-value', refreshToken: 'refresh-token-value', forEndpoint: 'flyte.example.com:443' };

function withTemp(run: (dir: string, warnings: string[]) => Promise<void>): () => Promise<void> {
  return async () => {
    const temp = createTempDir('fga-store-events-');
    try {
      await run(temp.dir, []);
    } finally {
      temp.cleanup();
    }
  };
}

const events = (recorder: ReturnType<typeof recordDiagnostics>) => recorder.of('store') as unknown as StoreMessage[];

test(
  'a free lock: one lock-acquired event per lock taken (set takes the file lock, withLock the key lock)',
  withTemp(async (dir, warnings) => {
    const store = new FileTokenStore({ path: join(dir, 'tokens.json'), warn: (message) => warnings.push(message) });
    const recorder = recordDiagnostics();
    try {
      await store.set('k', credentials);
      await store.withLock('k', async () => undefined);
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), ['store', 'store']);
    for (const event of events(recorder)) {
      assert.deepEqual(Object.keys(event).sort(), ['event', 'store', 'waitMs']);
      assert.equal(event.store, 'file');
      assert.equal(event.event, 'lock-acquired');
      assert.ok(Number.isInteger(event.waitMs) && event.waitMs >= 0);
    }
    assert.deepEqual(warnings, []);
  }),
);

test(
  'a lock held by another process: lock-acquired once it is released, with the time waited',
  withTemp(async (dir) => {
    const store = new FileTokenStore({ path: join(dir, 'tokens.json') });
    const lockName = await store.withLock('k', async () => (await readdir(dir)).find((name) => name.endsWith('.lock')));
    const lockDir = join(dir, lockName!);
    // What another process holding it looks like: the lock directory, freshly touched.
    await mkdir(lockDir);
    const recorder = recordDiagnostics();
    const HELD_MS = 150;
    try {
      const waiting = store.withLock('k', async () => 'ran');
      await sleep(HELD_MS);
      await rm(lockDir, { recursive: true });
      assert.equal(await waiting, 'ran');
    } finally {
      recorder.stop();
    }
    const [event] = events(recorder);
    assert.equal(recorder.names().length, 1);
    assert.equal(event!.event, 'lock-acquired');
    // A lower bound only: the wait lasted at least as long as the lock was held (load can only make it longer).
    assert.ok(event!.waitMs >= HELD_MS - 5, `waitMs ${event!.waitMs}`);
  }),
);

test(
  'a lock not released in time: lock-unavailable with the reason, and the work runs anyway',
  withTemp(async (dir, warnings) => {
    const store = new FileTokenStore({ path: join(dir, 'tokens.json'), lockTimeoutMs: 50, warn: (message) => warnings.push(message) });
    let release!: () => void;
    const recorder = recordDiagnostics();
    try {
      const hung = store.withLock('k', () => new Promise<void>((resolve) => (release = resolve)));
      assert.equal(await store.withLock('k', async () => 'ran unlocked'), 'ran unlocked');
      release();
      await hung;
    } finally {
      recorder.stop();
    }
    const list = events(recorder);
    assert.deepEqual(
      list.map((event) => event.event),
      ['lock-acquired', 'lock-unavailable'],
    );
    assert.equal(list[1]!.reason, 'another caller in this process held the lock for more than 50 ms');
    assert.ok(list[1]!.waitMs >= 45, `waitMs ${list[1]!.waitMs}`);
    assert.equal(warnings.length, 1);
  }),
);

test(
  'a lock lost while held: lock-lost',
  withTemp(async (dir, warnings) => {
    const store = new FileTokenStore({ path: join(dir, 'tokens.json'), staleLockMs: 2_000, warn: (message) => warnings.push(message) });
    const recorder = recordDiagnostics();
    const lost = new Promise<StoreMessage>((resolve) => {
      const listener = (message: unknown): void => {
        if ((message as StoreMessage).event !== 'lock-lost') return;
        diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.store, listener);
        resolve(message as StoreMessage);
      };
      diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.store, listener);
    });
    try {
      await store.withLock('k', async () => {
        const lockName = (await readdir(dir)).find((name) => name.endsWith('.lock'))!;
        // Someone removed the lock directory: the lock's next refresh (every staleLockMs / 2) finds it gone.
        await rm(join(dir, lockName), { recursive: true });
        const bound = sleep(10_000).then(() => assert.fail('no lock-lost event within 10 s'));
        await Promise.race([lost, bound]);
      });
    } finally {
      recorder.stop();
    }
    const list = events(recorder);
    assert.deepEqual(list.map((event) => event.event), ['lock-acquired', 'lock-lost']);
    assert.equal(list[1]!.store, 'file');
    assert.equal(list[1]!.waitMs, 0);
    assert.equal(typeof list[1]!.reason, 'string');
    assert.equal(warnings.length, 1);
  }),
);

test(
  'a corrupt token file: a warning event on every read that names the file, one process warning',
  withTemp(async (dir, warnings) => {
    const path = join(dir, 'tokens.json');
    // 0600, so that the only warning is the one about the content (a looser mode is tightened with its own warning).
    await writeFile(path, '{ not json', { mode: 0o600 });
    const store = new FileTokenStore({ path, warn: (message) => warnings.push(message) });
    const recorder = recordDiagnostics();
    try {
      assert.equal(await store.get('k'), undefined);
      assert.equal(await store.get('k'), undefined);
    } finally {
      recorder.stop();
    }
    assert.deepEqual(events(recorder), [
      { store: 'file', event: 'warning', waitMs: 0, reason: `the token file ${path} is not a valid token file` },
      { store: 'file', event: 'warning', waitMs: 0, reason: `the token file ${path} is not a valid token file` },
    ]);
    assert.equal(warnings.length, 1);
  }),
);

test('a keyring that cannot load: one fallback event with the reason; the fallback store is used', async () => {
  const warnings: string[] = [];
  const fallback = new MemoryTokenStore();
  const store = new KeyringTokenStore({
    fallback,
    warn: (message) => warnings.push(message),
    loadKeyring: () => Promise.reject(new Error('no secret service on this machine')),
  });
  const recorder = recordDiagnostics();
  try {
    await store.set('k', credentials);
    assert.deepEqual(await store.get('k'), credentials);
  } finally {
    recorder.stop();
  }
  assert.deepEqual(events(recorder), [
    { store: 'keyring', event: 'fallback', waitMs: 0, reason: 'could not load @napi-rs/keyring (no secret service on this machine)' },
  ]);
  assert.equal(warnings.length, 1);
  assert.ok(!recorder.inspected().includes('access-token-value'));
});

test('an authenticator that cannot read its token store: a warning event naming the store kind (custom), the call goes on', async () => {
  const broken = {
    get: () => Promise.reject(new Error('store offline')),
    set: () => Promise.reject(new Error('store offline')),
    delete: () => Promise.reject(new Error('store offline')),
  };
  const auth = new DeviceCodeAuthenticator({
    endpoint: 'flyte.example.com:443',
    clientId: 'cli',
    headerKey: 'authorization',
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: 'http://127.0.0.1:9/token', scopes: [] }),
    tokenStore: broken,
  });
  const recorder = recordDiagnostics();
  const original = process.listeners('warning');
  process.removeAllListeners('warning'); // the one-time process warning is expected here; keep the output clean
  try {
    assert.equal(await auth.fetchGrpcCallAuthMetadata(), undefined);
  } finally {
    recorder.stop();
    for (const listener of original) process.on('warning', listener);
  }
  assert.deepEqual(events(recorder), [
    { store: 'custom', event: 'warning', waitMs: 0, reason: 'cannot read cached credentials for flyte.example.com:443: store offline' },
  ]);
});
