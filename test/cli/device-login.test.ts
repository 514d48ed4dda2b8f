import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { cliEnv, lines, runCliProcess, startCli, type CliProcess, type CliResult } from '../support/cli.js';
import { readTokenFile, startInteractiveFlyte, tokenFilePath, type InteractiveFlyte } from '../support/cli-interactive.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { API_AUDIENCE, PUBLIC_CLIENT } from '../support/identity-provider.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const PROMPT_LINK = /Or open this link, which has the code filled in: (\S+)\n/;

/**
 * Device flow through the real executable: `login`, `token`, `whoami` and `logout` as separate processes sharing the
 * token file under `HOME`; the test plays the user by reading the prompt from the child's stderr and approving the
 * code with the headless browser.
 */
describe('CLI (child processes) with the device flow and the file token store', () => {
  let env: InteractiveFlyte;
  let home: TempDir;
  let configFile: string;
  let key: string;

  const cliOptions = () => ({ cwd: home.dir, env: cliEnv({ HOME: home.dir, FLYTECTL_CONFIG: configFile }) });
  const run = (args: string[]) => runCliProcess(args, cliOptions());

  /** Approves the device login `cli` asks for, as `account`, and waits for the process to end. */
  async function approve(cli: CliProcess, account: string): Promise<CliResult> {
    try {
      const [, link] = await cli.waitForStderr(PROMPT_LINK);
      const page = await createHeadlessBrowser({ account }).navigate(link!);
      assert.equal(page.status, 200);
      return await cli.result;
    } finally {
      cli.kill();
    }
  }

  const tokenRequests = (grant: string): number => env.idp.tokenRequests.get(grant) ?? 0;

  before(async () => {
    env = await startInteractiveFlyte();
    home = createTempDir('fga-cli-device-');
    // A short poll interval (the provider sends none): the login ends a moment after the approval.
    configFile = home.write(
      'config.yaml',
      `admin:\n  endpoint: dns:///${env.server.address}\n  insecure: true\n  authType: DeviceFlow\n  disableKeyring: true\n` +
        '  deviceFlowConfig:\n    pollInterval: 100ms\n',
    );
    key = `${env.server.address}|${PUBLIC_CLIENT.clientId}|deviceflow`;
  });
  after(async () => {
    await env.close();
    home.cleanup();
  });

  test('login: the prompt on stderr, the credentials in the token file (0600), stdout says where and never the token', async () => {
    const result = await approve(startCli(['login'], cliOptions()), 'alice');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(env.deviceAuthorizations, 1);

    const { entries, mode } = readTokenFile(home.dir);
    assert.deepEqual(Object.keys(entries), [key]);
    assert.equal(mode, 0o600);
    const stored = entries[key]!;
    assert.ok(stored.refreshToken, 'offline access: a refresh token');
    const [first, second, ...rest] = lines(result.stdout);
    assert.deepEqual(rest, []);
    assert.match(first!, new RegExp(`^Logged in to ${env.server.address} \\(DeviceFlow, client id cli\\): access token valid until \\S+Z; renewed with the refresh token when it expires\\.$`));
    assert.equal(second, `Credentials cached in the file ${tokenFilePath(home.dir)}.`);
    for (const secret of [stored.accessToken, stored.refreshToken]) {
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
    }
    assert.match(result.stderr, /^To log in, open \S+\/device in a browser and enter the code: [A-Z]{4}-[A-Z]{4}\n/);
  });

  test('token in a new process: the cached access token, no login and no token request', async () => {
    const before = { device: env.deviceAuthorizations, tokens: env.idp.tokenRequestCount };
    const result = await run(['token']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, `${readTokenFile(home.dir).entries[key]!.accessToken}\n`);
    assert.equal(env.deviceAuthorizations, before.device);
    assert.equal(env.idp.tokenRequestCount, before.tokens);
    const { payload } = await jwtVerify(result.stdout.trim(), createRemoteJWKSet(new URL(env.idp.jwksUri)), { issuer: env.idp.issuer, audience: API_AUDIENCE });
    assert.equal(payload.sub, 'alice');
  });

  test('whoami in a new process: the cached user, no login', async () => {
    const before = env.deviceAuthorizations;
    const result = await run(['whoami']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { subject: string }).subject, 'alice');
    assert.equal(env.deviceAuthorizations, before);
  });

  test('token with an expired cached access token: refreshed with the refresh token, no login; the file has the new tokens', async () => {
    const file = tokenFilePath(home.dir);
    const { entries } = readTokenFile(home.dir);
    const old = entries[key]!;
    writeFileSync(file, JSON.stringify({ version: 1, credentials: { [key]: { ...old, expiresAt: Date.now() - 1000 } } }), { mode: 0o600 });
    const before = { device: env.deviceAuthorizations, refresh: tokenRequests('refresh_token') };

    const result = await run(['token']);
    assert.equal(result.code, 0, result.stderr);
    const renewed = readTokenFile(home.dir).entries[key]!;
    assert.equal(result.stdout, `${renewed.accessToken}\n`);
    assert.notEqual(renewed.accessToken, old.accessToken);
    assert.notEqual(renewed.refreshToken, old.refreshToken, 'the provider rotates refresh tokens');
    assert.equal(tokenRequests('refresh_token'), before.refresh + 1);
    assert.equal(env.deviceAuthorizations, before.device);
  });

  test('login again: a new device login although cached credentials exist; they are replaced (now bob)', async () => {
    const before = env.deviceAuthorizations;
    const old = readTokenFile(home.dir).entries[key]!;
    const result = await approve(startCli(['login'], cliOptions()), 'bob');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(env.deviceAuthorizations, before + 1);
    assert.notEqual(readTokenFile(home.dir).entries[key]!.accessToken, old.accessToken);
    const whoami = await run(['whoami']);
    assert.equal((JSON.parse(whoami.stdout) as { subject: string }).subject, 'bob');
  });

  test('logout removes this endpoint + client id + flow only; a second logout finds nothing', async () => {
    const otherKey = 'other.example.test:443|cli|deviceflow';
    const file = tokenFilePath(home.dir);
    const { entries } = readTokenFile(home.dir);
    writeFileSync(file, JSON.stringify({ version: 1, credentials: { ...entries, [otherKey]: { accessToken: 'other', forEndpoint: 'other.example.test:443' } } }), { mode: 0o600 });

    const logout = await run(['logout']);
    assert.equal(logout.code, 0, logout.stderr);
    const target = `${env.server.address} (DeviceFlow, client id cli)`;
    assert.deepEqual(lines(logout.stdout), [`Logged out of ${target}: removed the cached credentials from the file ${file}.`]);
    assert.deepEqual(Object.keys(readTokenFile(home.dir).entries), [otherKey]);

    const again = await run(['logout']);
    assert.equal(again.code, 0);
    assert.deepEqual(lines(again.stdout), [`No cached credentials for ${target} in the file ${file}.`]);
  });

  test('token after logout needs a login: the prompt, then exactly the token on stdout', async () => {
    const before = { device: env.deviceAuthorizations, polls: tokenRequests(DEVICE_GRANT) };
    const result = await approve(startCli(['token'], cliOptions()), 'carol');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(env.deviceAuthorizations, before.device + 1);
    assert.ok(tokenRequests(DEVICE_GRANT) > before.polls);
    const stored = readTokenFile(home.dir).entries[key]!;
    assert.equal(result.stdout, `${stored.accessToken}\n`, 'the prompt went to stderr, stdout holds only the token');
    assert.match(result.stderr, PROMPT_LINK);
  });

  test('deviceFlowConfig.refreshTime applies: a token inside that window is renewed with the refresh token, no login', async () => {
    const old = readTokenFile(home.dir).entries[key]!;
    const before = { device: env.deviceAuthorizations, refresh: tokenRequests('refresh_token') };
    // Access tokens live 5 minutes here: with a 10-minute refresh time every cached token is due.
    const result = await runCliProcess(['token'], { ...cliOptions(), env: { ...cliOptions().env, FLYTE_ADMIN_DEVICEFLOWCONFIG_REFRESHTIME: '10m' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(tokenRequests('refresh_token'), before.refresh + 1);
    assert.equal(env.deviceAuthorizations, before.device);
    const renewed = readTokenFile(home.dir).entries[key]!;
    assert.notEqual(renewed.accessToken, old.accessToken);
    assert.equal(result.stdout, `${renewed.accessToken}\n`);
  });

  test('a denied login: exit 1, one line with access_denied after the prompt; the cached credentials stay and still work', async () => {
    const cached = readTokenFile(home.dir).entries[key]!;
    const cli = startCli(['login'], cliOptions());
    try {
      const [, link] = await cli.waitForStderr(PROMPT_LINK);
      await createHeadlessBrowser({ decision: 'deny' }).navigate(link!);
      const result = await cli.result;
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      const errorLines = lines(result.stderr);
      assert.equal(errorLines.at(-1), 'flyte-grpc-auth: the login was denied on the device login page (access_denied)');
      assert.ok(errorLines.slice(0, -1).every((line) => !line.startsWith('flyte-grpc-auth:')), 'only the prompt before the error');
    } finally {
      cli.kill();
    }
    assert.deepEqual(readTokenFile(home.dir).entries[key], cached);
    const before = env.deviceAuthorizations;
    const token = await run(['token']);
    assert.equal(token.stdout, `${cached.accessToken}\n`);
    assert.equal(env.deviceAuthorizations, before);
  });
});
