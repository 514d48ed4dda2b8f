import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseCliArgs } from '../../src/cli/args.js';
import { errorLine, UsageError } from '../../src/cli/errors.js';
import { runCli } from '../../src/cli/run.js';
import { USAGE } from '../../src/cli/usage.js';
import { cliEnv, lines, runCliProcess } from '../support/cli.js';
import { PACKAGE_ROOT } from '../support/child-process.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

const VERSION = (JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string }).version;

describe('CLI usage (child process)', () => {
  let home: TempDir;
  const run = (args: string[]) => runCliProcess(args, { cwd: home.dir, env: cliEnv({ HOME: home.dir }) });

  before(() => {
    home = createTempDir('fga-cli-usage-');
  });
  after(() => home.cleanup());

  test('--help: the usage on stdout, exit 0; -h and help after a command too', async () => {
    for (const args of [['--help'], ['-h'], ['token', '--help']]) {
      const result = await run(args);
      assert.equal(result.code, 0, args.join(' '));
      assert.equal(result.stdout, USAGE);
      assert.equal(result.stderr, '');
    }
  });

  test('--version and -V: the package version', async () => {
    for (const args of [['--version'], ['-V']]) {
      const result = await run(args);
      assert.equal(result.code, 0);
      assert.equal(result.stdout, `${VERSION}\n`);
    }
  });

  const usageErrors: Array<[string[], string]> = [
    [['frobnicate'], "unknown command 'frobnicate' (commands: token, whoami, config, login, logout)"],
    [[], 'no command given'],
    [['token', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['token', '-x'], "Unknown option '-x'"],
    [['token', '--config'], "Option '-c, --config <value>' argument missing"],
    [['token', '--insecure=yes'], "Option '--insecure' does not take an argument"],
    [['token', '--json'], 'option --json does not apply to token (only to config)'],
    [['config', '--no-browser'], 'option --no-browser does not apply to config (only to token, whoami, login)'],
    [['token', 'extra'], "token takes no arguments, got 'extra'"],
    [['config', '--endpoint', ' '], 'option --endpoint needs a non-empty value'],
  ];
  for (const [args, message] of usageErrors) {
    test(`usage error: ${JSON.stringify(args)} → exit 2, the reason, then the usage, on stderr`, async () => {
      const result = await run(args);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `flyte-grpc-auth: ${message}\n\n${USAGE}`);
    });
  }

  test('--config naming a missing file: exit 1, one line naming the file', async () => {
    const missing = home.path('nowhere/config.yaml');
    for (const command of ['token', 'whoami', 'config', 'login', 'logout']) {
      const result = await run([command, '--config', missing]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.deepEqual(lines(result.stderr), [`flyte-grpc-auth: Config file ${missing} (named by --config) does not exist`]);
    }
  });

  test('a relative --config is read from the working directory', async () => {
    home.write('rel.yaml', 'admin:\n  endpoint: relative.example.test:443\n');
    const result = await run(['config', '--json', '--config', 'rel.yaml']);
    assert.equal(result.code, 0);
    assert.equal((JSON.parse(result.stdout) as { endpoint: string }).endpoint, 'relative.example.test:443');
  });

  test('malformed YAML: exit 1, one line with the file and the line, without the file content', async () => {
    const file = home.write('broken.yaml', 'admin:\n  endpoint: [unclosed\n  clientSecret: hunter2-in-the-file\n');
    const result = await run(['token', '--config', file]);
    assert.equal(result.code, 1);
    const errorLines = lines(result.stderr);
    assert.equal(errorLines.length, 1);
    assert.match(errorLines[0]!, new RegExp(`^flyte-grpc-auth: Malformed YAML in ${file} at line \\d+`));
    assert.ok(!result.stderr.includes('hunter2'));
  });

  test('an unknown authType: exit 1, one line listing the valid values', async () => {
    const file = home.write('bad-mode.yaml', 'admin:\n  authType: Pcke\n');
    const result = await run(['config', '--config', file]);
    assert.equal(result.code, 1);
    const errorLines = lines(result.stderr);
    assert.equal(errorLines.length, 1);
    assert.match(errorLines[0]!, /Unknown authentication type 'Pcke'.*Did you mean 'Pkce'\?/);
  });
});

describe('CLI pieces (in-process)', () => {
  test('parseCliArgs: options before or after the command, -c short form, --help wins over errors of the command', () => {
    assert.deepEqual(parseCliArgs(['-c', 'f.yaml', 'config', '--json']), {
      kind: 'command',
      command: 'config',
      options: { config: 'f.yaml', json: true, insecure: false, noBrowser: false, verbose: false },
    });
    assert.deepEqual(parseCliArgs(['login', '--no-browser', '--endpoint', ' h:1 ', '--insecure']), {
      kind: 'command',
      command: 'login',
      options: { endpoint: 'h:1', insecure: true, json: false, noBrowser: true, verbose: false },
    });
    assert.deepEqual(parseCliArgs(['frobnicate', '--help']), { kind: 'help' });
    assert.throws(() => parseCliArgs(['frobnicate']), UsageError);
  });

  test('errorLine: one line, secrets redacted, no stack', () => {
    const error = new Error('token endpoint said\n  no to s3cr3t-value and s3cr3t-value\n    at somewhere (file.js:1:1)');
    assert.equal(errorLine(error, ['s3cr3t-value', undefined, 'x']), 'token endpoint said no to <redacted> and <redacted> at somewhere (file.js:1:1)');
    assert.equal(errorLine('plain'), 'plain');
    // A server's words (gRPC status details, error_description) with terminal escape sequences.
    assert.equal(errorLine(new Error('failed with INTERNAL (\u001b[2J\u001b]0;pwned\u0007boom\u009b)')), 'failed with INTERNAL ([2J]0;pwnedboom)');
  });

  test('runCli: stdout and stderr are the injected writers; never throws', async () => {
    let out = '';
    let err = '';
    const io = { env: {}, stdout: (text: string) => (out += text), stderr: (text: string) => (err += text) };
    assert.equal(await runCli(['--version'], io), 0);
    assert.equal(out, `${VERSION}\n`);
    assert.equal(await runCli(['token', '--config', '/nonexistent/flyte.yaml'], io), 1);
    assert.equal(err, 'flyte-grpc-auth: Config file /nonexistent/flyte.yaml (named by --config) does not exist\n');
  });
});
