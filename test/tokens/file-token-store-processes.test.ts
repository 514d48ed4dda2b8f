import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { FileTokenStore, tokenStoreKey, type Credentials } from '../../src/index.js';
import { PACKAGE_ROOT, startScript, type ScriptProcess } from '../support/child-process.js';
import { API_AUDIENCE, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { mintRefreshToken, refreshAtIdentityProvider } from '../support/refresh-token.js';

const REFRESH_WORKER = join(PACKAGE_ROOT, 'test', 'tokens', 'fixtures', 'refresh-worker.ts');
const SET_WORKER = join(PACKAGE_ROOT, 'test', 'tokens', 'fixtures', 'set-worker.ts');
const KEY = tokenStoreKey('flyte.example.com:443', 'cli', 'pkce');

interface WorkerResult {
  refreshed?: boolean;
  credentials?: Credentials;
  error?: string;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fga-processes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function startWorkers(t: TestContext, script: string, argsList: unknown[]): ScriptProcess[] {
  const workers = argsList.map((args) => startScript(script, args));
  t.after(() => workers.forEach((worker) => worker.kill()));
  return workers;
}

// Both processes are up (tsx compiled, store constructed) before either starts: the "go" lines go out together.
async function startTogether(workers: ScriptProcess[]): Promise<void> {
  for (const worker of workers) assert.equal(await worker.nextLine(), 'ready');
  for (const worker of workers) worker.send('go');
}

async function results(workers: ScriptProcess[]): Promise<WorkerResult[]> {
  const lines = await Promise.all(workers.map((worker) => worker.nextLine()));
  const codes = await Promise.all(workers.map((worker) => worker.exited));
  assert.deepEqual(codes, workers.map(() => 0), workers.map((worker) => worker.stderr).join('\n'));
  return lines.map((line) => JSON.parse(line) as WorkerResult);
}

async function refreshLog(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

async function seed(path: string, refreshToken: string): Promise<void> {
  // An expired access token with a refresh token: what both processes find when they start.
  await new FileTokenStore({ path }).set(KEY, {
    accessToken: 'expired-access-token',
    refreshToken,
    expiresAt: Date.now() - 1_000,
    forEndpoint: 'flyte.example.com:443',
  });
}

async function withIdp(t: TestContext): Promise<TestIdentityProvider> {
  const idp = await startIdentityProvider({ accessTokenTtlSeconds: 600 });
  t.after(() => idp.close());
  return idp;
}

test('two processes refreshing at once under withLock: one refresh, both end with the same credentials, valid JSON', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const logPath = join(dir, 'refreshes.log');
  await seed(path, 'refresh-0');
  const workers = startWorkers(t, REFRESH_WORKER, [0, 1].map(() => ({ path, key: KEY, logPath })));
  await startTogether(workers);
  const [first, second] = await results(workers);

  assert.equal((await refreshLog(logPath)).length, 1, 'exactly one process refreshed');
  assert.deepEqual([first?.refreshed, second?.refreshed].sort(), [false, true]);
  assert.ok(first?.credentials && second?.credentials);
  assert.deepEqual(first.credentials, second.credentials);
  assert.match(first.credentials.accessToken, /^access-\d+$/);
  const file = JSON.parse(await readFile(path, 'utf8')) as { credentials: Record<string, Credentials> };
  assert.deepEqual(file.credentials[KEY], first.credentials);
  assert.deepEqual((await readdir(dir)).sort(), ['refreshes.log', 'tokens.json'], 'no lock or temp files left');
});

test('two processes refreshing a rotating refresh token at the real identity provider: one refresh_token grant, both tokens work', { timeout: 60_000 }, async (t) => {
  const idp = await withIdp(t);
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const logPath = join(dir, 'refreshes.log');
  const minted = await mintRefreshToken(idp);
  await seed(path, minted);
  const workers = startWorkers(t, REFRESH_WORKER, [0, 1].map(() => ({ path, key: KEY, logPath, tokenEndpoint: idp.tokenEndpoint })));
  await startTogether(workers);
  const [first, second] = await results(workers);

  assert.equal(first?.error, undefined);
  assert.equal(second?.error, undefined);
  assert.equal(idp.tokenRequests.get('refresh_token'), 1, 'the second process found the first one\'s tokens');
  assert.ok(first?.credentials && second?.credentials);
  assert.deepEqual(first.credentials, second.credentials);
  assert.notEqual(first.credentials.refreshToken, minted, 'the refresh token was rotated');
  // The access token both hold is genuine…
  const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
  const { payload } = await jwtVerify(first.credentials.accessToken, jwks, { issuer: idp.issuer, audience: API_AUDIENCE });
  assert.equal(payload.sub, 'user-1');
  // …and the stored refresh token is the live one: the grant was not revoked by a reuse.
  const stored = await new FileTokenStore({ path }).get(KEY);
  assert.equal(stored?.refreshToken, first.credentials.refreshToken);
  const next = await refreshAtIdentityProvider(idp.tokenEndpoint, stored?.refreshToken ?? '');
  assert.equal(next.status, 200);
});

test('control: without the lock both processes refresh, the reused refresh token is refused and the grant revoked', { timeout: 60_000 }, async (t) => {
  const idp = await withIdp(t);
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  const logPath = join(dir, 'refreshes.log');
  await seed(path, await mintRefreshToken(idp));
  const workers = startWorkers(t, REFRESH_WORKER, [0, 1].map(() => ({ path, key: KEY, logPath, tokenEndpoint: idp.tokenEndpoint, unlocked: true })));
  await startTogether(workers);
  // Both have read the expired credentials before either refreshes.
  for (const worker of workers) assert.equal(await worker.nextLine(), 'read');
  // One after the other (two requests in the same instant can both pass the provider's reuse check).
  const [first, second] = workers as [ScriptProcess, ScriptProcess];
  first.send('go');
  const firstOutcome = JSON.parse(await first.nextLine()) as WorkerResult;
  second.send('go');
  const secondOutcome = JSON.parse(await second.nextLine()) as WorkerResult;

  assert.equal(firstOutcome.refreshed, true);
  assert.equal(secondOutcome.error, 'refresh refused: invalid_grant');
  assert.equal(idp.tokenRequests.get('refresh_token'), 2);
  // Reuse detection revoked the whole grant: the first process's fresh refresh token is dead too.
  const after = await refreshAtIdentityProvider(idp.tokenEndpoint, firstOutcome.credentials?.refreshToken ?? '');
  assert.equal(after.body.error, 'invalid_grant');
  // Writes stay atomic even so: the file is valid JSON.
  assert.ok(JSON.parse(await readFile(path, 'utf8')));
});

test('two processes writing many keys at once: no key lost, valid JSON, nothing left behind', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'tokens.json');
  await writeFile(path, JSON.stringify({ version: 1, credentials: {} }));
  const workers = startWorkers(t, SET_WORKER, ['a', 'b', 'c'].map((prefix) => ({ path, prefix, count: 15 })));
  await startTogether(workers);
  for (const worker of workers) assert.equal(await worker.nextLine(), 'done');
  const file = JSON.parse(await readFile(path, 'utf8')) as { credentials: Record<string, Credentials> };
  assert.equal(Object.keys(file.credentials).length, 45);
  assert.equal(file.credentials['b-14']?.accessToken, 'access-b-14');
  await Promise.all(workers.map((worker) => worker.exited));
  assert.deepEqual(await readdir(dir), ['tokens.json']);
});
