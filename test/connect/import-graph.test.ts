import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../support/child-process.js';
import { importCycles, importGraph } from '../support/import-graph.js';

const GRPC_JS = /^@grpc\/|^protobufjs$/;
const CONNECT = /^@connectrpc\/|^@bufbuild\//;
const NICE_GRPC = /^nice-grpc/;

function packagesMatching(entry: string, pattern: RegExp): string[] {
  const { packages } = importGraph(entry);
  return [...packages.entries()].filter(([name]) => pattern.test(name)).map(([name, by]) => `${name} (from ${by.join(', ')})`);
}

// Static and dynamic imports, type-only ones excluded: what loads when the entry point is imported or used.
for (const [entry, transport, others] of [
  ['src/connect.ts', CONNECT, [GRPC_JS, NICE_GRPC]],
  ['src/nice-grpc.ts', NICE_GRPC, [GRPC_JS, CONNECT]],
] as const) {
  test(`${entry} reaches its transport and no other (no @grpc/grpc-js, no protobufjs)`, () => {
    assert.notDeepEqual(packagesMatching(entry, transport), []);
    for (const other of others) assert.deepEqual(packagesMatching(entry, other), []);
  });
}

test('the core (src/core.ts, src/call-policy/) imports no transport', () => {
  const entries = ['src/core.ts', ...readdirSync(join(PACKAGE_ROOT, 'src/call-policy')).map((file) => `src/call-policy/${file}`)];
  for (const entry of entries) {
    for (const transport of [GRPC_JS, CONNECT, NICE_GRPC]) assert.deepEqual(packagesMatching(entry, transport), [], entry);
  }
});

test('no import cycles behind any entry point', () => {
  for (const entry of ['src/index.ts', 'src/connect.ts', 'src/nice-grpc.ts', 'src/core.ts']) assert.deepEqual(importCycles(importGraph(entry)), [], entry);
});
