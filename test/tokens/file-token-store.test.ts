import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  AuthenticationError,
  defaultTokenStorePath,
  FileTokenStore,
  tokenStoreKey,
  type Credentials,
} from '../../src/index.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fga-file-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function credentials(name: string, overrides: { [K in keyof Credentials]?: Credentials[K] | undefined } = {}): Credentials {
  return {
    accessToken: `SECRET-ACCESS-${name}`,
    refreshToken: `SECRET-REFRESH-${name}`,
    idToken: `SECRET-ID-${name}`,
    expiresAt: Date.now() + 3_600_000,
    forEndpoint: `${name}.example.com:443`,
    ...overrides,
  } as Credentials;
}

function warnings(): { list: string[]; warn: (message: string) => void } {
  const list: string[] = [];
  return { list, warn: (message) => list.push(message) };
}

async function readJson(path: string): Promise<{ version: number; credentials: Record<string, Credentials> }> {
  return JSON.parse(await readFile(path, 'utf8')) as { version: number; credentials: Record<string, Credentials> };
}

test('FileTokenStore: round trip through the file, with exactly the credential fields', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const store = new FileTokenStore({ path });
  const key = tokenStoreKey('flyte.example.com:443', 'flytectl', 'pkce');
  const stored = credentials('one');
  await store.set(key, { ...stored, extra: 'not persisted' } as Credentials);
  assert.deepEqual(await store.get(key), stored);
  // Another instance (another process, later) reads the same file.
  assert.deepEqual(await new FileTokenStore({ path }).get(key), stored);
  assert.deepEqual(await readJson(path), { version: 1, credentials: { [key]: stored } });
  assert.equal(await store.get('other-key'), undefined);
  // Optional fields stay absent rather than becoming null/undefined.
  const minimal = { accessToken: 'SECRET-ACCESS-min', forEndpoint: 'min.example.com' };
  await store.set('minimal', minimal);
  assert.deepEqual(await store.get('minimal'), minimal);
});

test('FileTokenStore: the file is 0600 and a directory it creates is 0700, whatever the old file was', { skip: process.platform === 'win32' }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'nested', 'config', 'tokens.json');
  const store = new FileTokenStore({ path });
  await store.set('k', credentials('a'));
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'nested', 'config'))).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, 'nested'))).mode & 0o777, 0o700);

  const loose = join(dir, 'loose.json');
  await writeFile(loose, '{"version":1,"credentials":{}}', { mode: 0o644 });
  await new FileTokenStore({ path: loose }).set('k', credentials('b'));
  assert.equal((await stat(loose)).mode & 0o777, 0o600);
});

test('FileTokenStore: many concurrent sets from several instances: no update lost, valid JSON, no temp or lock files left', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const stores = [new FileTokenStore({ path }), new FileTokenStore({ path }), new FileTokenStore({ path })];
  const writes = Array.from({ length: 60 }, (_, i) => stores[i % stores.length]!.set(`key-${i}`, credentials(`n${i}`)));
  // Readers during the writes never see a broken file.
  const reads = Array.from({ length: 30 }, (_, i) => stores[0]!.get(`key-${i}`));
  const warned = warnings();
  const watcher = new FileTokenStore({ path, warn: warned.warn });
  const watcherReads = Array.from({ length: 30 }, () => watcher.get('key-0'));
  await Promise.all([...writes, ...reads, ...watcherReads]);
  assert.deepEqual(warned.list, [], 'a reader saw a partial file');
  const file = await readJson(path);
  assert.equal(Object.keys(file.credentials).length, 60);
  for (let i = 0; i < 60; i += 1) assert.deepEqual(await stores[1]!.get(`key-${i}`), file.credentials[`key-${i}`]);
  assert.deepEqual(await readdir(dir), ['tokens.json']);
});

test('FileTokenStore: concurrent sets of one key end with the last call\'s credentials', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'fresh-dir', 'tokens.json');
  const stores = [new FileTokenStore({ path }), new FileTokenStore({ path })];
  await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.set('same', credentials(`v${i}`))));
  assert.equal((await stores[0]!.get('same'))?.accessToken, 'SECRET-ACCESS-v19');
});

test('FileTokenStore: delete removes one key; deleting a missing key writes nothing', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const store = new FileTokenStore({ path });
  await store.delete('nothing-here');
  assert.deepEqual(await readdir(dir), [], 'no file is created just to delete nothing');
  await store.set('a', credentials('a'));
  await store.set('b', credentials('b'));
  await store.delete('a');
  await store.delete('a');
  assert.equal(await store.get('a'), undefined);
  assert.deepEqual(await store.get('b'), (await readJson(path)).credentials.b);
  assert.deepEqual(Object.keys((await readJson(path)).credentials), ['b']);
});

test('FileTokenStore: an expired access token without a refresh token is dropped on read, and pruned on the next write', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const store = new FileTokenStore({ path });
  const past = Date.now() - 1_000;
  await store.set('dead', credentials('dead', { refreshToken: undefined, expiresAt: past }));
  await store.set('refreshable', credentials('refreshable', { expiresAt: past }));
  await store.set('no-expiry', credentials('no-expiry', { refreshToken: undefined, expiresAt: undefined }));
  assert.equal(await store.get('dead'), undefined);
  assert.equal((await store.get('refreshable'))?.refreshToken, 'SECRET-REFRESH-refreshable', 'the refresh token is still worth keeping');
  assert.equal((await store.get('no-expiry'))?.accessToken, 'SECRET-ACCESS-no-expiry', 'unknown expiry: used until rejected');
  await store.set('another', credentials('another'));
  assert.deepEqual(Object.keys((await readJson(path)).credentials).sort(), ['another', 'no-expiry', 'refreshable']);
});

test('FileTokenStore: a corrupt file reads as empty with one warning naming the file (no token), and set rewrites it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  await writeFile(path, '{"version":1,"credentials":{"k":{"accessToken":"SECRET-ACCESS-truncated', { mode: 0o600 });
  const warned = warnings();
  const store = new FileTokenStore({ path, warn: warned.warn });
  for (let i = 0; i < 5; i += 1) assert.equal(await store.get('k'), undefined);
  assert.equal(warned.list.length, 1);
  assert.match(warned.list[0]!, /not a valid token file/);
  assert.ok(warned.list[0]!.includes(path));
  assert.doesNotMatch(warned.list[0]!, /SECRET/);

  await store.set('k', credentials('fresh'));
  assert.equal((await store.get('k'))?.accessToken, 'SECRET-ACCESS-fresh');
  assert.deepEqual(Object.keys((await readJson(path)).credentials), ['k']);
  assert.equal(warned.list.length, 1, 'the rewrite warns no more');
});

test('FileTokenStore: JSON of the wrong shape is corrupt too; malformed entries are skipped, good ones kept', async (t) => {
  const dir = await tempDir(t);
  for (const content of ['[]', 'null', '"text"', '{"version":1}', '{"credentials":[1,2]}']) {
    const path = join(dir, `shape-${content.length}-${Math.random()}.json`);
    await writeFile(path, content, { mode: 0o600 });
    const warned = warnings();
    assert.equal(await new FileTokenStore({ path, warn: warned.warn }).get('k'), undefined);
    assert.equal(warned.list.length, 1, content);
  }
  const path = join(dir, 'mixed.json');
  const good = credentials('good');
  await writeFile(path, JSON.stringify({ version: 1, credentials: { good, noToken: { forEndpoint: 'x' }, number: 7, nul: null } }), { mode: 0o600 });
  const warned = warnings();
  const store = new FileTokenStore({ path, warn: warned.warn });
  assert.deepEqual(await store.get('good'), good);
  assert.equal(await store.get('noToken'), undefined);
  assert.equal(await store.get('number'), undefined);
  assert.deepEqual(warned.list, []);
});

test('FileTokenStore: an unreadable path reads as empty with one warning; an unwritable one fails set with ERR_CONFIG', async (t) => {
  const dir = await tempDir(t);
  // A directory where the file should be: reading fails with EISDIR (works as root too, unlike chmod 000).
  const path = join(dir, 'is-a-directory');
  await mkdir(path);
  const warned = warnings();
  const store = new FileTokenStore({ path, warn: warned.warn });
  assert.equal(await store.get('k'), undefined);
  assert.equal(await store.get('k'), undefined);
  assert.equal(warned.list.length, 1);
  assert.match(warned.list[0]!, /cannot read the token file .*is-a-directory/);

  // A regular file where the directory should be: nothing can be created below it.
  await writeFile(join(dir, 'plain-file'), '');
  const unwritable = join(dir, 'plain-file', 'tokens.json');
  const blocked = new FileTokenStore({ path: unwritable, warn: warned.warn });
  await assert.rejects(blocked.set('k', credentials('x')), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_CONFIG');
    assert.equal(error.endpoint, unwritable);
    assert.match(error.message, /Could not write the token file .*plain-file/);
    assert.doesNotMatch(error.message, /SECRET/);
    return true;
  });
  // withLock still runs the refresh: a lock that cannot be taken must not block logins.
  assert.equal(await blocked.withLock('k', async () => 'ran'), 'ran');
  assert.equal(warned.list.filter((message) => message.includes('could not lock')).length, 1);
});

test('FileTokenStore.withLock: serialises holders of the same key in one process, is re-entrant, leaves nothing behind', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const stores = [new FileTokenStore({ path }), new FileTokenStore({ path })];
  let active = 0;
  let maxActive = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      stores[i % 2]!.withLock('same-key', async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        await stores[i % 2]!.set(`k${i}`, credentials(`n${i}`));
        order.push(i);
        active -= 1;
      }),
    ),
  );
  assert.equal(maxActive, 1);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  // Re-entrant: the flow may call a helper that takes the same lock again.
  assert.equal(await stores[0]!.withLock('same-key', () => stores[1]!.withLock('same-key', async () => 42)), 42);
  // Different keys do not wait for each other.
  let timer: NodeJS.Timeout | undefined;
  const inner = await stores[0]!.withLock('key-a', () => Promise.race([
    stores[0]!.withLock('key-b', async () => 'b ran while a was held'),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 5_000, 'blocked');
    }),
  ]));
  clearTimeout(timer);
  assert.equal(inner, 'b ran while a was held');
  // An error inside releases the lock.
  await assert.rejects(stores[0]!.withLock('same-key', async () => {
    throw new Error('refresh failed');
  }), /refresh failed/);
  assert.equal(await stores[1]!.withLock('same-key', async () => 'free again'), 'free again');
  assert.deepEqual(await readdir(dir), ['tokens.json']);
});

test('FileTokenStore.withLock: takes over the stale lock of a dead process; waits for a live one at most lockTimeoutMs, then runs anyway with one warning', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const warned = warnings();
  const store = new FileTokenStore({ path, warn: warned.warn, lockTimeoutMs: 300 });
  const lockName = await store.withLock('k', async () => (await readdir(dir)).find((name) => name.endsWith('.lock')));
  assert.ok(lockName, 'withLock holds a lock directory next to the token file');
  const lockDir = join(dir, lockName);

  // A lock left by a crashed process: untouched for longer than the stale threshold.
  await mkdir(lockDir);
  const old = new Date(Date.now() - 60_000);
  await utimes(lockDir, old, old);
  assert.equal(await store.withLock('k', async () => 'took over'), 'took over');
  assert.deepEqual(warned.list, []);
  assert.deepEqual(await readdir(dir), []);

  // A lock that looks alive (fresh mtime) and is never released.
  await mkdir(lockDir);
  assert.equal(await store.withLock('k', async () => 'ran unlocked'), 'ran unlocked');
  assert.equal(await store.withLock('k', async () => 'again'), 'again');
  assert.equal(warned.list.length, 1);
  assert.match(warned.list[0]!, /could not lock the token file .*tokens\.json .*held the lock for more than 300 ms/);
  await rm(lockDir, { recursive: true });
});

test('FileTokenStore.withLock: a holder in this process that never finishes delays others by lockTimeoutMs at most', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const warned = warnings();
  const store = new FileTokenStore({ path, warn: warned.warn, lockTimeoutMs: 200 });
  let finishHung!: () => void;
  const hung = store.withLock('k', () => new Promise<string>((resolve) => {
    finishHung = () => resolve('hung one done');
  }));
  assert.equal(await store.withLock('k', async () => 'second ran'), 'second ran');
  await store.set('other', credentials('other'));
  assert.equal(warned.list.length, 1);
  assert.match(warned.list[0]!, /another caller in this process held the lock for more than 200 ms/);
  finishHung();
  assert.equal(await hung, 'hung one done');
  assert.equal(await store.withLock('k', async () => 'normal again'), 'normal again');
  assert.deepEqual(await readdir(dir), ['tokens.json']);
});

test('defaultTokenStorePath: the user config dir of each platform', () => {
  assert.equal(
    defaultTokenStorePath({ platform: 'linux', env: { XDG_CONFIG_HOME: '/xdg' }, home: '/home/u' }),
    '/xdg/flyte-grpc-auth/tokens.json',
  );
  assert.equal(defaultTokenStorePath({ platform: 'linux', env: {}, home: '/home/u' }), '/home/u/.config/flyte-grpc-auth/tokens.json');
  assert.equal(
    defaultTokenStorePath({ platform: 'linux', env: { XDG_CONFIG_HOME: 'relative/dir' }, home: '/home/u' }),
    '/home/u/.config/flyte-grpc-auth/tokens.json',
    'the XDG spec says to ignore relative paths',
  );
  assert.equal(
    defaultTokenStorePath({ platform: 'darwin', env: { XDG_CONFIG_HOME: '/xdg' }, home: '/Users/u' }),
    '/Users/u/Library/Application Support/flyte-grpc-auth/tokens.json',
  );
  assert.equal(
    defaultTokenStorePath({ platform: 'win32', env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, home: 'C:\\Users\\u' }),
    'C:\\Users\\u\\AppData\\Roaming\\flyte-grpc-auth\\tokens.json',
  );
  assert.equal(
    defaultTokenStorePath({ platform: 'win32', env: {}, home: 'C:\\Users\\u' }),
    'C:\\Users\\u\\AppData\\Roaming\\flyte-grpc-auth\\tokens.json',
  );
  assert.equal(new FileTokenStore().path, defaultTokenStorePath());
});

test(
  'FileTokenStore: on read, a 0644 file and a 0755 own directory are tightened to 0600 / 0700 with one warning; a chosen directory is left alone',
  { skip: process.platform === 'win32' },
  async (t) => {
    const dir = await tempDir(t);
    const own = join(dir, 'config', 'flyte-grpc-auth');
    const path = join(own, 'tokens.json');
    await new FileTokenStore({ path }).set('k', credentials('a'));
    await chmod(own, 0o755);
    await chmod(path, 0o644);
    const { list, warn } = warnings();
    const store = new FileTokenStore({ path, warn });
    assert.equal((await store.get('k'))?.accessToken, 'SECRET-ACCESS-a');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(own)).mode & 0o777, 0o700);
    assert.deepEqual(list, [
      `flyte-grpc-auth: the token file ${path} was readable by others (mode 0644) and is now 0600; its directory ${own} was readable by others (mode 0755) and is now 0700.`,
    ]);
    // Once per store: a file loosened again later is not reported twice by the same store.
    await chmod(path, 0o640);
    await store.get('k');
    assert.equal(list.length, 1);
    assert.ok(!list.join().includes('SECRET'));

    // A directory the user chose (a project folder) keeps its mode; the file is still tightened.
    const chosen = join(dir, 'project');
    const other = join(chosen, 'tokens.json');
    await new FileTokenStore({ path: other }).set('k', credentials('b'));
    await chmod(chosen, 0o755);
    await chmod(other, 0o604);
    const second = warnings();
    await new FileTokenStore({ path: other, warn: second.warn }).get('k');
    assert.equal((await stat(other)).mode & 0o777, 0o600);
    assert.equal((await stat(chosen)).mode & 0o777, 0o755);
    assert.deepEqual(second.list, [`flyte-grpc-auth: the token file ${other} was readable by others (mode 0604) and is now 0600.`]);

    // Already tight: no warning at all.
    await chmod(path, 0o600);
    const quiet = warnings();
    await new FileTokenStore({ path, warn: quiet.warn }).get('k');
    assert.deepEqual(quiet.list, []);
  },
);

test('FileTokenStore: an unknown version is an error naming the file for get, set and delete, and the file stays byte-identical', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  for (const version of [2, '1', 0, null]) {
    const original = `${JSON.stringify({ version, credentials: { k: credentials('future') }, newField: { kept: true } }, null, 4)}\n`;
    await writeFile(path, original, { mode: 0o600 });
    const { list, warn } = warnings();
    const store = new FileTokenStore({ path, warn });
    for (const operation of [() => store.get('k'), () => store.set('k', credentials('now')), () => store.delete('k'), () => store.set('other', credentials('x'))]) {
      const error = await operation().then(
        () => assert.fail(`expected a rejection for version ${JSON.stringify(version)}`),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof AuthenticationError, String(error));
      assert.equal(error.code, 'ERR_CONFIG');
      assert.equal(error.endpoint, path);
      assert.match(error.message, new RegExp(`^the token file ${path.replaceAll('.', '\\.')} has version ${JSON.stringify(JSON.stringify(version)).slice(1, -1)}, which this release`));
      assert.match(error.message, /the file was left untouched/);
      assert.ok(!error.message.includes('SECRET'));
    }
    assert.equal(await readFile(path, 'utf8'), original, 'byte-identical');
    assert.deepEqual(list, []);
  }
  // No version at all (a hand-written file) is read as version 1.
  await writeFile(path, JSON.stringify({ credentials: { k: credentials('legacy') } }));
  assert.equal((await new FileTokenStore({ path }).get('k'))?.accessToken, 'SECRET-ACCESS-legacy');
});
