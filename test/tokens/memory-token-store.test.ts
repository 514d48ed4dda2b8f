import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryTokenStore, tokenStoreKey, type Credentials, type TokenStore } from '../../src/index.js';

const credentials = (): Credentials => ({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: 1_000, forEndpoint: 'flyte.example.com' });

test('MemoryTokenStore: get returns a copy, set stores a copy', async () => {
  const store = new MemoryTokenStore();
  const original = credentials();
  await store.set('k', original);
  original.accessToken = 'changed after set';
  const first = await store.get('k');
  assert.deepEqual(first, credentials());
  assert.ok(first);
  first.refreshToken = 'changed after get';
  assert.deepEqual(await store.get('k'), credentials());
  assert.notEqual(await store.get('k'), await store.get('k'));
});

test('MemoryTokenStore: delete removes the key only, and a missing key is not an error', async () => {
  const store = new MemoryTokenStore();
  await store.set('a', credentials());
  await store.set('b', { ...credentials(), accessToken: 'at-b' });
  await store.delete('a');
  await store.delete('never-set');
  assert.equal(await store.get('a'), undefined);
  assert.equal((await store.get('b'))?.accessToken, 'at-b');
  assert.equal('withLock' in (store as TokenStore), false, 'a memory store is per process: no cross-process lock');
});

test('tokenStoreKey: endpoint, client id and flow each separate keys, even with the separator inside a part', () => {
  const triples: Array<[string, string | undefined, string]> = [
    ['flyte.example.com:443', 'flytectl', 'pkce'],
    ['flyte.example.com:443', 'flytectl', 'device'],
    ['flyte.example.com:443', 'other-client', 'pkce'],
    ['flyte.other.com:443', 'flytectl', 'pkce'],
    ['a|b', 'c', 'pkce'],
    ['a', 'b|c', 'pkce'],
    ['a%7Cb', 'c', 'pkce'],
    ['a', 'b', 'c|pkce'],
    ['a|b|c', undefined, 'pkce'],
    ['a', 'b|c|', 'pkce'],
  ];
  const keys = triples.map(([endpoint, clientId, flow]) => tokenStoreKey(endpoint, clientId, flow));
  assert.equal(new Set(keys).size, triples.length, keys.join('\n'));
  assert.equal(tokenStoreKey('flyte.example.com:443', 'flytectl', 'pkce'), 'flyte.example.com:443|flytectl|pkce');
  // No client id and an empty client id mean the same thing.
  assert.equal(tokenStoreKey('e', undefined, 'pkce'), tokenStoreKey('e', '', 'pkce'));
});
