import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  createTokenStore,
  FileTokenStore,
  KeyringTokenStore,
  MemoryTokenStore,
  tokenStoreKey,
  type Credentials,
  type KeyringEntry,
  type KeyringModule,
  type TokenStore,
} from '../../src/index.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fga-keyring-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const MISSING_PACKAGE: string = '@napi-rs/this-module-does-not-exist';
const IN_AN_HOUR = Date.now() + 3_600_000;

function credentials(name: string): Credentials {
  return {
    accessToken: `SECRET-ACCESS-${name}`,
    refreshToken: `SECRET-REFRESH-${name}`,
    expiresAt: IN_AN_HOUR,
    forEndpoint: `${name}.example.com:443`,
  };
}

function warnings(): { list: string[]; warn: (message: string) => void } {
  const list: string[] = [];
  return { list, warn: (message) => list.push(message) };
}

/** Many operations of every kind, as a session of logins, refreshes and a logout would make them. */
async function exercise(store: TokenStore): Promise<void> {
  const a = tokenStoreKey('flyte-a.example.com:443', 'cli', 'pkce');
  const b = tokenStoreKey('flyte-b.example.com:443', 'cli', 'device');
  for (let round = 0; round < 3; round += 1) {
    await store.set(a, credentials(`a${round}`));
    await store.set(b, credentials(`b${round}`));
    assert.deepEqual(await store.get(a), credentials(`a${round}`));
    assert.deepEqual(await store.get(b), credentials(`b${round}`));
  }
  await store.delete(a);
  assert.equal(await store.get(a), undefined);
  assert.equal((await store.get(b))?.accessToken, 'SECRET-ACCESS-b2');
}

/**
 * An in-memory stand-in for the OS keychain with `@napi-rs/keyring`'s `Entry` API, for the one case no real keychain
 * can cover on this machine: a keychain that works.
 */
function fakeKeychain(): { module: KeyringModule; items: Map<string, string>; calls: string[] } {
  const items = new Map<string, string>();
  const calls: string[] = [];
  class Entry implements KeyringEntry {
    readonly #id: string;
    constructor(service: string, account: string) {
      this.#id = `${service}/${account}`;
    }
    getPassword(): string | null {
      calls.push(`get ${this.#id}`);
      return items.get(this.#id) ?? null;
    }
    setPassword(password: string): void {
      calls.push(`set ${this.#id}`);
      items.set(this.#id, password);
    }
    deletePassword(): boolean {
      calls.push(`delete ${this.#id}`);
      if (!items.has(this.#id)) throw new Error('No matching entry found in secure storage');
      return items.delete(this.#id);
    }
  }
  return { module: { Entry }, items, calls };
}

/** A keychain whose every call fails the way a locked keychain over SSH does. */
function throwingKeychain(message: string): { module: KeyringModule; calls: number } {
  const state = { calls: 0 };
  const fail = (): never => {
    state.calls += 1;
    throw new Error(message);
  };
  class Entry implements KeyringEntry {
    getPassword(): never {
      return fail();
    }
    setPassword(): never {
      return fail();
    }
    deletePassword(): never {
      return fail();
    }
  }
  return {
    module: { Entry },
    get calls() {
      return state.calls;
    },
  };
}

test('KeyringTokenStore with the real @napi-rs/keyring on this machine: the keyring fails, the file store is used, one warning', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const warned = warnings();
  const service = `flyte-grpc-auth-test-${process.pid}`;
  const store = new KeyringTokenStore({ service, fallback: new FileTokenStore({ path }), warn: warned.warn });
  // Should this machine ever get a working keychain, leave nothing in it.
  t.after(() => new KeyringTokenStore({ service, fallback: new MemoryTokenStore(), warn: () => undefined }).delete(tokenStoreKey('flyte-b.example.com:443', 'cli', 'device')));
  await exercise(store);
  await exercise(store);

  assert.equal(store.usingFallback, true, 'this machine has no usable keychain');
  assert.equal(warned.list.length, 1);
  const [message] = warned.list as [string];
  assert.match(message, /the OS keyring is not available: could not write the OS keychain item \(Couldn't access platform storage/);
  assert.ok(message.includes(path), 'the warning says where the credentials went');
  assert.match(message, /disableKeyring/);
  assert.doesNotMatch(message, /SECRET|\n/);
  const file = JSON.parse(await readFile(path, 'utf8')) as { credentials: Record<string, Credentials> };
  assert.deepEqual(Object.keys(file.credentials), [tokenStoreKey('flyte-b.example.com:443', 'cli', 'device')]);

  // A later process: the keychain has no item (reads succeed here, only writes fail), the file has the credentials.
  const later = warnings();
  const next = new KeyringTokenStore({ service, fallback: new FileTokenStore({ path }), warn: later.warn });
  assert.equal((await next.get(tokenStoreKey('flyte-b.example.com:443', 'cli', 'device')))?.accessToken, 'SECRET-ACCESS-b2');
  await next.delete(tokenStoreKey('flyte-b.example.com:443', 'cli', 'device'));
  assert.equal(await next.get(tokenStoreKey('flyte-b.example.com:443', 'cli', 'device')), undefined, 'logout reaches the file');
});

test('KeyringTokenStore with a working keychain: one JSON item per key, the file is never touched, no warning', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const keychain = fakeKeychain();
  const warned = warnings();
  const store = new KeyringTokenStore({ fallback: new FileTokenStore({ path }), warn: warned.warn, loadKeyring: async () => keychain.module });
  await exercise(store);

  assert.equal(store.usingFallback, false);
  assert.deepEqual(warned.list, []);
  assert.deepEqual(await readdir(dir), [], 'no token file when the keychain works');
  const b = tokenStoreKey('flyte-b.example.com:443', 'cli', 'device');
  assert.deepEqual([...keychain.items.keys()], [`flyte-grpc-auth/${b}`]);
  assert.deepEqual(JSON.parse(keychain.items.get(`flyte-grpc-auth/${b}`) ?? ''), credentials('b2'));
  // Another store (another process) sees the same items; deleting a missing item is fine.
  const other = new KeyringTokenStore({ fallback: new MemoryTokenStore(), warn: warned.warn, loadKeyring: async () => keychain.module });
  assert.deepEqual(await other.get(b), credentials('b2'));
  await other.delete('never-stored');
  assert.deepEqual(warned.list, []);
});

test('KeyringTokenStore: a keychain write removes a stale copy from the fallback; a bad keychain item falls through to the fallback', async () => {
  const keychain = fakeKeychain();
  const fallback = new MemoryTokenStore();
  const store = new KeyringTokenStore({ service: 'svc', fallback, warn: () => assert.fail('no warning expected'), loadKeyring: async () => keychain.module });
  await fallback.set('k', credentials('left-from-an-earlier-failure'));
  assert.equal((await store.get('k'))?.accessToken, 'SECRET-ACCESS-left-from-an-earlier-failure', 'no item yet: read the fallback');
  await store.set('k', credentials('new'));
  assert.equal(await fallback.get('k'), undefined);
  assert.equal((await store.get('k'))?.accessToken, 'SECRET-ACCESS-new');

  keychain.items.set('svc/broken', '{not json');
  await fallback.set('broken', credentials('from-fallback'));
  assert.equal((await store.get('broken'))?.accessToken, 'SECRET-ACCESS-from-fallback');
  keychain.items.set('svc/dead', JSON.stringify({ accessToken: 'x', forEndpoint: 'e', expiresAt: Date.now() - 1 }));
  assert.equal(await store.get('dead'), undefined, 'expired access token without refresh token');
  assert.equal(store.usingFallback, false);
});

test('KeyringTokenStore prefers AsyncEntry when the module has it (no blocked event loop during a keychain prompt)', async () => {
  const keychain = fakeKeychain();
  const asyncCalls: string[] = [];
  class AsyncEntry implements KeyringEntry {
    readonly #entry: KeyringEntry;
    constructor(service: string, account: string) {
      this.#entry = new keychain.module.Entry(service, account);
    }
    async getPassword(): Promise<string | null | undefined> {
      asyncCalls.push('get');
      return this.#entry.getPassword();
    }
    async setPassword(password: string): Promise<void> {
      asyncCalls.push('set');
      this.#entry.setPassword(password);
    }
    async deletePassword(): Promise<unknown> {
      asyncCalls.push('delete');
      return this.#entry.deletePassword();
    }
  }
  const store = new KeyringTokenStore({ fallback: new MemoryTokenStore(), loadKeyring: async () => ({ ...keychain.module, AsyncEntry }) });
  await store.set('k', credentials('a'));
  assert.equal((await store.get('k'))?.accessToken, 'SECRET-ACCESS-a');
  await store.delete('k');
  assert.deepEqual(asyncCalls, ['set', 'get', 'delete']);
});

test('KeyringTokenStore with a keychain that throws (locked, prompt dismissed): fallback, one warning, keychain not retried', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const keychain = throwingKeychain('Platform secure storage failure: InitError: Prompt dismissed\n  at backtrace line');
  const warned = warnings();
  const store = new KeyringTokenStore({ fallback: new FileTokenStore({ path }), warn: warned.warn, loadKeyring: async () => keychain.module });
  await exercise(store);
  await exercise(store);

  assert.equal(keychain.calls, 1, 'after the first failure the keychain is left alone');
  assert.equal(warned.list.length, 1);
  assert.match(warned.list[0]!, /could not write the OS keychain item \(Platform secure storage failure: InitError: Prompt dismissed\)/);
  assert.doesNotMatch(warned.list[0]!, /SECRET|backtrace/);
  assert.equal((await new FileTokenStore({ path }).get(tokenStoreKey('flyte-b.example.com:443', 'cli', 'device')))?.accessToken, 'SECRET-ACCESS-b2');
});

test('KeyringTokenStore: a missing or broken native module, a throwing constructor, a keychain that never answers: all fall back with one warning', async () => {
  const cases: Array<{ name: string; options: { loadKeyring: () => Promise<KeyringModule>; timeoutMs?: number }; reason: RegExp }> = [
    {
      name: 'module missing',
      options: { loadKeyring: async () => (await import(MISSING_PACKAGE)) as KeyringModule },
      reason: /could not load @napi-rs\/keyring \(Cannot find (package|module)/,
    },
    {
      name: 'native binary broken',
      options: { loadKeyring: async () => Promise.reject(new Error('Failed to load native binding')) },
      reason: /could not load @napi-rs\/keyring \(Failed to load native binding\)/,
    },
    {
      name: 'constructor throws',
      options: {
        loadKeyring: async () => ({
          Entry: class {
            constructor() {
              throw new Error('Invalid attribute');
            }
          } as unknown as KeyringModule['Entry'],
        }),
      },
      reason: /could not write the OS keychain item \(Invalid attribute\)/,
    },
    {
      name: 'never answers',
      options: {
        timeoutMs: 50,
        loadKeyring: async () => ({
          Entry: class {
            getPassword = () => new Promise<string>(() => undefined);
            setPassword = () => new Promise<void>(() => undefined);
            deletePassword = () => new Promise<void>(() => undefined);
          },
        }),
      },
      reason: /could not write the OS keychain item \(the keychain did not answer within 50 ms\)/,
    },
  ];
  for (const { name, options, reason } of cases) {
    const warned = warnings();
    const fallback = new MemoryTokenStore();
    const store = new KeyringTokenStore({ ...options, fallback, warn: warned.warn });
    await exercise(store);
    assert.equal(warned.list.length, 1, name);
    assert.match(warned.list[0]!, reason, name);
    assert.match(warned.list[0]!, /kept in the fallback store/, name);
    assert.equal((await fallback.get(tokenStoreKey('flyte-b.example.com:443', 'cli', 'device')))?.accessToken, 'SECRET-ACCESS-b2', name);
  }
});

test('KeyringTokenStore: the default warning is a process warning; withLock is the fallback file lock', async (t) => {
  const dir = await tempDir(t);
  const emitted: Error[] = [];
  const listener = (warning: Error): void => {
    if (warning.name === 'FlyteGrpcAuthWarning') emitted.push(warning);
  };
  process.on('warning', listener);
  t.after(() => process.off('warning', listener));
  const fallback = new FileTokenStore({ path: join(dir, 'tokens.json') });
  const store = new KeyringTokenStore({ fallback, loadKeyring: async () => Promise.reject(new Error('no keyring here')) });
  await store.set('k', credentials('a'));
  await store.get('k');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(emitted.length, 1);
  assert.match(emitted[0]!.message, /no keyring here/);

  let lockDirs: string[] = [];
  assert.equal(await store.withLock('k', async () => {
    lockDirs = (await readdir(dir)).filter((name) => name.endsWith('.lock'));
    return 'locked';
  }), 'locked');
  assert.equal(lockDirs.length, 1, 'the file store\'s per-key lock is held');
  // A fallback without a lock just runs the function.
  assert.equal(await new KeyringTokenStore({ fallback: new MemoryTokenStore(), loadKeyring: async () => fakeKeychain().module }).withLock('k', async () => 7), 7);
});

test('createTokenStore: disableKeyring gives the file store; otherwise the keychain with the file as fallback', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const fileOnly = createTokenStore({ disableKeyring: true, path });
  assert.ok(fileOnly instanceof FileTokenStore);
  assert.equal(fileOnly.path, path);

  const keychain = fakeKeychain();
  const warned = warnings();
  const keyring = createTokenStore({ path, service: 'custom-service', warn: warned.warn, loadKeyring: async () => keychain.module });
  assert.ok(keyring instanceof KeyringTokenStore);
  assert.equal(keyring.service, 'custom-service');
  assert.ok(keyring.fallback instanceof FileTokenStore);
  assert.equal(keyring.fallback.path, path);
  await keyring.set('k', credentials('a'));
  assert.deepEqual([...keychain.items.keys()], ['custom-service/k']);

  const broken = createTokenStore({ path, warn: warned.warn, loadKeyring: async () => throwingKeychain('locked').module });
  await broken.set('k2', credentials('b'));
  assert.equal((await fileOnly.get('k2'))?.accessToken, 'SECRET-ACCESS-b');
  assert.equal(warned.list.length, 1);
  assert.ok(warned.list[0]!.includes(path));

  const defaults = createTokenStore();
  assert.ok(defaults instanceof KeyringTokenStore);
  assert.equal(defaults.service, 'flyte-grpc-auth');
});
