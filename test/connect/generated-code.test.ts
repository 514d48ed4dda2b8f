import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const buf = path.join(root, 'node_modules', '.bin', 'buf');

async function filesUnder(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, file), await readFile(file, 'utf8'));
  }
  return files;
}

// The descriptors are generated at development time (`npm run generate`) and committed: a .proto edited without
// regenerating must fail here, not at a user's first call.
for (const [template, out] of [
  ['buf.gen.yaml', 'src/connect/flyte/gen'],
  ['test/support/protos/buf.gen.yaml', 'test/support/gen'],
] as const) {
  test(`${out} is what \`npm run generate\` makes from the .proto files`, async () => {
    const temp = createTempDir();
    try {
      await run(buf, ['generate', '--template', template, '--output', temp.dir], { cwd: root, timeout: 60_000 });
      const fresh = await filesUnder(temp.path(out));
      const committed = await filesUnder(path.join(root, out));
      assert.ok(fresh.size > 0);
      assert.deepEqual([...committed.keys()].sort(), [...fresh.keys()].sort());
      for (const [file, text] of fresh) assert.equal(committed.get(file), text, `${out}/${file} is out of date: run npm run generate`);
    } finally {
      temp.cleanup();
    }
  });
}
