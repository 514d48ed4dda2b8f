import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory of executable scripts that tests run as token commands. */
export interface ScriptDir {
  dir: string;
  /** Writes `body` as an executable file (the body carries its own `#!` line). */
  write(name: string, body: string): string;
  /** A file path inside the directory (for counters, pid files…). */
  path(name: string): string;
  /** How many times a counting script has run (the number of lines in its counter file). */
  runs(counterFile: string): number;
  cleanup(): void;
}

export function createScriptDir(): ScriptDir {
  const dir = mkdtempSync(join(tmpdir(), 'fga-cmd-'));
  return {
    dir,
    write(name, body) {
      const file = join(dir, name);
      writeFileSync(file, body);
      chmodSync(file, 0o755);
      return file;
    },
    path: (name) => join(dir, name),
    runs(counterFile) {
      const file = join(dir, counterFile);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// The running node, so the scripts work whatever `node` is on PATH.
const NODE = `#!${process.execPath}`;

/** A script that appends a line to `counterFile` and prints `<prefix>-<run number>`. */
export function countingTokenScript(scripts: ScriptDir, name: string, prefix: string): { file: string; counter: string } {
  const counter = `${name}.count`;
  const file = scripts.write(
    name,
    `${NODE}
const fs = require('node:fs');
const counter = ${JSON.stringify(scripts.path(counter))};
fs.appendFileSync(counter, 'run\\n');
const n = fs.readFileSync(counter, 'utf8').split('\\n').filter(Boolean).length;
process.stdout.write(${JSON.stringify(prefix)} + '-' + n + '\\n');
`,
  );
  return { file, counter };
}

/**
 * A script that gets a real JWT from the test identity provider (client credentials, `client_secret_post`), counts
 * its runs and prints the access token, like `gcloud auth print-access-token` would.
 */
export function idpTokenScript(
  scripts: ScriptDir,
  name: string,
  idp: { tokenEndpoint: string; clientId: string; clientSecret: string },
): { file: string; counter: string } {
  const counter = `${name}.count`;
  const file = scripts.write(
    name,
    `${NODE}
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(scripts.path(counter))}, 'run\\n');
const body = new URLSearchParams({
  grant_type: 'client_credentials',
  scope: 'api:read',
  client_id: ${JSON.stringify(idp.clientId)},
  client_secret: ${JSON.stringify(idp.clientSecret)},
});
fetch(${JSON.stringify(idp.tokenEndpoint)}, { method: 'POST', body }).then(async (response) => {
  const json = await response.json();
  if (!response.ok) {
    process.stderr.write('token endpoint answered ' + response.status + ' ' + json.error + '\\n');
    process.exit(4);
  }
  process.stdout.write(json.access_token + '\\n');
}, (error) => {
  process.stderr.write('token request failed: ' + error.message + '\\n');
  process.exit(5);
});
`,
  );
  return { file, counter };
}
