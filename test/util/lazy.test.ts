import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lazyImport, lazyRequire } from '../../src/util/lazy.js';

test('lazyImport loads nothing until asked, then once for all concurrent and later callers', async () => {
  let loads = 0;
  const load = lazyImport(async () => {
    loads += 1;
    return { value: 42 };
  });
  assert.equal(loads, 0);
  const results = await Promise.all(Array.from({ length: 20 }, () => load()));
  assert.equal(loads, 1);
  assert.ok(results.every((result) => result === results[0]));
  assert.equal(await load(), results[0]);
  assert.equal(loads, 1);
});

test('lazyImport forgets a failed load: the next call tries again', async () => {
  let loads = 0;
  const load = lazyImport(async () => {
    loads += 1;
    if (loads === 1) throw new Error('not installed yet');
    return 'loaded';
  });
  await assert.rejects(Promise.all([load(), load()]), /not installed yet/);
  assert.equal(loads, 1);
  assert.equal(await load(), 'loaded');
  assert.equal(loads, 2);
});

test('lazyImport of a package gives the very module a static import gives', async () => {
  const load = lazyImport(() => import('yaml'));
  const yaml = await import('yaml');
  assert.equal((await load()).parseDocument, yaml.parseDocument);
});

test('lazyRequire loads a CommonJS package on first call, once, and shares the module with import', async () => {
  const load = lazyRequire<typeof import('@grpc/proto-loader')>('@grpc/proto-loader');
  const imported = await import('@grpc/proto-loader');
  assert.equal(load().loadSync, imported.loadSync);
  assert.equal(load(), load());
});

test('lazyRequire of a missing package throws on the call, not before', () => {
  const load = lazyRequire('flyte-grpc-auth-no-such-package');
  assert.throws(() => load(), { code: 'MODULE_NOT_FOUND' });
});
