import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CliEnvironment } from '../../src/cli/environment.js';
import { runCli } from '../../src/cli/run.js';
import { MemoryTokenStore, tokenStoreKey, type DeviceCodePrompt } from '../../src/index.js';
import { cliEnv, lines, runCliProcess, startCli, type CliProcess, type CliResult } from '../support/cli.js';
import { readTokenFile, startInteractiveFlyte, tokenFilePath, type InteractiveFlyte } from '../support/cli-interactive.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { PUBLIC_CLIENT } from '../support/identity-provider.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

// flytekit's wording, printed when no browser can be opened (scripts look for it).
const LOGIN_LINK = /Please open the following link in your browser to authenticate: (\S+)\n/;

describe('CLI (child processes) with PKCE: the login link on stderr, the headless browser completes the login', () => {
  let env: InteractiveFlyte;
  let home: TempDir;
  let configFile: string;
  let key: string;

  // No DISPLAY in the child's environment: on Linux the system browser cannot open, so the link is printed.
  const cliOptions = () => ({ cwd: home.dir, env: cliEnv({ HOME: home.dir, FLYTECTL_CONFIG: configFile }) });

  async function completeLogin(cli: CliProcess, account: string): Promise<CliResult> {
    try {
      const [, link] = await cli.waitForStderr(LOGIN_LINK);
      const page = await createHeadlessBrowser({ account }).navigate(link!);
      assert.equal(page.status, 200, page.body);
      assert.match(page.body, /You are logged in/);
      return await cli.result;
    } finally {
      cli.kill();
    }
  }

  before(async () => {
    env = await startInteractiveFlyte();
    home = createTempDir('fga-cli-pkce-');
    configFile = home.write('config.yaml', `admin:\n  endpoint: ${env.server.address}\n  insecure: true\n  authType: Pkce\n  disableKeyring: true\n`);
    key = `${env.server.address}|${PUBLIC_CLIENT.clientId}|pkce`;
  });
  after(async () => {
    await env.close();
    home.cleanup();
  });

  test('login --no-browser: the link on stderr, the browser comes back to the published redirect URI, credentials cached', async () => {
    const result = await completeLogin(startCli(['login', '--no-browser'], cliOptions()), 'dave');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(env.authorizationCodes, 1);
    const link = new URL(LOGIN_LINK.exec(result.stderr)![1]!);
    assert.equal(link.searchParams.get('redirect_uri'), env.redirectUri);
    assert.equal(link.searchParams.get('code_challenge_method'), 'S256');
    const stored = readTokenFile(home.dir).entries[key]!;
    assert.ok(stored.refreshToken);
    assert.equal(lines(result.stdout)[1], `Credentials cached in the file ${tokenFilePath(home.dir)}.`);
    assert.ok(!result.stdout.includes(stored.accessToken) && !result.stderr.includes(stored.accessToken));
  });

  test('whoami and token in new processes use the cached login', async () => {
    const whoami = await runCliProcess(['whoami'], cliOptions());
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal((JSON.parse(whoami.stdout) as { subject: string }).subject, 'dave');
    const token = await runCliProcess(['token'], cliOptions());
    assert.equal(token.stdout, `${readTokenFile(home.dir).entries[key]!.accessToken}\n`);
    assert.equal(env.authorizationCodes, 1);
  });

  test('after logout, token logs in: without a display the system browser fails and the link is printed instead', { skip: process.platform !== 'linux' }, async () => {
    const logout = await runCliProcess(['logout'], cliOptions());
    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual(readTokenFile(home.dir).entries, {});
    const result = await completeLogin(startCli(['token'], cliOptions()), 'erin');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(env.authorizationCodes, 2);
    assert.equal(result.stdout, `${readTokenFile(home.dir).entries[key]!.accessToken}\n`);
  });
});

describe('CLI in-process with injected browser, prompt and token store', () => {
  let env: InteractiveFlyte;
  let home: TempDir;

  before(async () => {
    env = await startInteractiveFlyte();
    home = createTempDir('fga-cli-inproc-');
  });
  after(async () => {
    await env.close();
    home.cleanup();
  });

  function io(authType: string, extra: Partial<CliEnvironment>): CliEnvironment & { out: () => string; err: () => string } {
    let out = '';
    let err = '';
    const config = home.write(`${authType}.yaml`, `admin:\n  endpoint: ${env.server.address}\n  insecure: true\n  authType: ${authType}\n  deviceFlowConfig:\n    pollInterval: 50ms\n`);
    return {
      env: { HOME: home.dir, FLYTECTL_CONFIG: config },
      stdout: (text) => (out += text),
      stderr: (text) => (err += text),
      ...extra,
      out: () => out,
      err: () => err,
    };
  }

  test('PKCE: login opens the injected browser; token and whoami reuse the injected store; logout empties it', async () => {
    const browser = createHeadlessBrowser({ account: 'frank' });
    const tokenStore = new MemoryTokenStore();
    const key = tokenStoreKey(env.server.address, PUBLIC_CLIENT.clientId, 'pkce');

    const login = io('Pkce', { openBrowser: browser.open, tokenStore });
    assert.equal(await runCli(['login'], login), 0, login.err());
    assert.equal(browser.opened.length, 1);
    assert.equal(login.err(), '', 'the browser opened: no link printed');
    assert.equal(lines(login.out())[1], 'Credentials cached in the configured token store.');
    const cached = await tokenStore.get(key);
    assert.ok(cached?.refreshToken);

    const token = io('Pkce', { openBrowser: browser.open, tokenStore });
    assert.equal(await runCli(['token'], token), 0, token.err());
    assert.equal(token.out(), `${cached.accessToken}\n`);

    const whoami = io('Pkce', { openBrowser: browser.open, tokenStore });
    assert.equal(await runCli(['whoami'], whoami), 0, whoami.err());
    assert.equal((JSON.parse(whoami.out()) as { subject: string }).subject, 'frank');
    assert.equal(browser.opened.length, 1, 'no second login');

    const logout = io('Pkce', { tokenStore });
    assert.equal(await runCli(['logout'], logout), 0, logout.err());
    assert.equal(await tokenStore.get(key), undefined);
    assert.match(logout.out(), /removed the cached credentials from the configured token store/);
  });

  test('PKCE: an injected browser that fails → the link goes to the CLI stderr, and the login still completes from it', async () => {
    const tokenStore = new MemoryTokenStore();
    const run = io('Pkce', {
      tokenStore,
      openBrowser: () => {
        throw new Error('no browser here');
      },
    });
    const done = runCli(['login'], run);
    let match = LOGIN_LINK.exec(run.err());
    for (let waited = 0; !match; waited += 10) {
      assert.ok(waited < 10_000, `no login link on stderr: ${run.err()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      match = LOGIN_LINK.exec(run.err());
    }
    await createHeadlessBrowser({ account: 'gina' }).navigate(match[1]!);
    assert.equal(await done, 0, run.err());
    assert.match(run.out(), /^Logged in to /);
  });

  test('device flow: the injected onPrompt receives the code; the login is cached in the injected store', async () => {
    const tokenStore = new MemoryTokenStore();
    const prompts: DeviceCodePrompt[] = [];
    const browser = createHeadlessBrowser({ account: 'hank' });
    const run = io('DeviceFlow', {
      tokenStore,
      onPrompt: async (prompt) => {
        prompts.push(prompt);
        await browser.navigate(prompt.verificationUriComplete!);
      },
    });
    assert.equal(await runCli(['token'], run), 0, run.err());
    assert.equal(prompts.length, 1);
    assert.equal(run.err(), '', 'the injected prompt replaces the printed one');
    const cached = await tokenStore.get(tokenStoreKey(env.server.address, PUBLIC_CLIENT.clientId, 'deviceflow'));
    assert.equal(run.out(), `${cached!.accessToken}\n`);
  });
});
