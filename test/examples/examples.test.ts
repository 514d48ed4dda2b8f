import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

// The examples run as written: each is started as its own process and must print its result and exit 0.
for (const [file, expected] of [
  ['examples/proto-loader-client.ts', /^ok:hello \(authenticated as svc-basic\)$/m],
  ['examples/shared-interceptor.ts', /^ok:from stub 1 \| ok:from stub 2$/m],
  ['examples/flyte-config.ts', /^ok:admin as svc-basic \| ok:data as svc-basic\ntoken requests: 1 /m],
  ['examples/connect-client.ts', /^svc-basic \(asked flyteidl2\.auth\.AuthMetadataService\)$/m],
  ['examples/nice-grpc-client.ts', /^ok:hello as svc-basic \| tick-0 tick-1$/m],
] as const) {
  test(`${file} runs as written`, async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000 });
    assert.match(stdout, expected);
  });
}
