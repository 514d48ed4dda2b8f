import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { cliEnv, CLI_ARGV, lines, runCliProcess } from '../support/cli.js';
import { countingTokenScript, createScriptDir, idpTokenScript, type ScriptDir } from '../support/commands.js';
import { createFlyteServices, type FlyteServices } from '../support/flyte-services.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, POST_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { freePort } from '../support/interactive-environment.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

const PREFIX = 'flyte-grpc-auth: ';

describe('CLI (child process) with client credentials and token commands', () => {
  let idp: TestIdentityProvider;
  let flyte: FlyteServices;
  let server: TestGrpcServer;
  let home: TempDir;
  let scripts: ScriptDir;
  let secretFile: string;
  let configFile: string;

  const run = (args: string[], env: Record<string, string> = {}) => runCliProcess(args, { cwd: home.dir, env: cliEnv({ HOME: home.dir, ...env }) });

  const adminYaml = (keys: string[]): string =>
    `admin:\n${[`endpoint: dns:///${server.address}`, 'insecure: true', ...keys].map((line) => `  ${line}`).join('\n')}\n`;

  before(async () => {
    idp = await startIdentityProvider();
    flyte = createFlyteServices({ idp, audience: API_AUDIENCE, publicClientConfig: { scopes: ['api:read'] } });
    server = await startGrpcServer({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      audience: API_AUDIENCE,
      headerKey: 'flyte-authorization',
      addServices: (grpcServer) => flyte.register(grpcServer),
    });
    home = createTempDir('fga-cli-');
    scripts = createScriptDir();
    secretFile = home.write('secrets/client_secret', `${BASIC_CLIENT.clientSecret}\n`);
    // authType says Pkce: a secret from clientSecretLocation forces ClientSecret (flytekit's rule).
    configFile = home.write('client-secret.yaml', adminYaml(['authType: Pkce', `clientId: ${BASIC_CLIENT.clientId}`, `clientSecretLocation: ${secretFile}`]));
  });
  after(async () => {
    await server.close();
    await idp.close();
    home.cleanup();
    scripts.cleanup();
  });
  beforeEach(() => {
    idp.tokenRequestLog.length = 0;
    flyte.calls.UserInfo = 0;
  });

  test('token (config from FLYTECTL_CONFIG): stdout is exactly the access token, which the identity provider signed', async () => {
    const result = await run(['token'], { FLYTECTL_CONFIG: configFile });
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^[\w.-]+\n$/, 'one line, nothing else');
    const token = result.stdout.trim();
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience: API_AUDIENCE });
    assert.equal(payload.client_id, BASIC_CLIENT.clientId);
    assert.equal(idp.tokenRequestCount, 1);
    assert.equal(idp.tokenRequestLog[0]!.body.get('scope'), 'api:read', 'the server-published scopes');
  });

  test('token with the config at ~/.flyte/config.yaml (HOME from the environment) and --endpoint overriding it', async () => {
    const other = createTempDir('fga-cli-home-');
    try {
      // The file names an endpoint where nothing listens: --endpoint (with dns:///) wins, --insecure too.
      other.write('.flyte/config.yaml', `admin:\n  endpoint: 127.0.0.1:1\n  clientId: ${BASIC_CLIENT.clientId}\n  clientSecretLocation: ${secretFile}\n`);
      const result = await runCliProcess(['token', '--endpoint', `dns:///${server.address}`, '--insecure'], {
        cwd: other.dir,
        env: cliEnv({ HOME: other.dir }),
      });
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
      assert.equal(lines(result.stdout).length, 1);
      assert.equal(idp.tokenRequestCount, 1);
    } finally {
      other.cleanup();
    }
  });

  test('token with ExternalCommand: exactly what the command printed, trimmed, without asking the Flyte server', async () => {
    const { file, counter } = countingTokenScript(scripts, 'print-token', 'external-token');
    const config = home.write('external.yaml', `admin:\n  endpoint: 127.0.0.1:1\n  insecure: true\n  authType: ExternalCommand\n  command: [${file}]\n`);
    const metadataCalls = flyte.calls.GetPublicClientConfig;
    const result = await run(['token', '--config', config]);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'external-token-1\n');
    assert.equal(scripts.runs(counter), 1);
    assert.equal(flyte.calls.GetPublicClientConfig, metadataCalls);
  });

  test('whoami: UserInfo with the client token under the server-published key; additionalClaims as plain JSON', async () => {
    const result = await run(['whoami', '--config', configFile]);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    const info = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(info.subject, BASIC_CLIENT.clientId);
    assert.deepEqual(info.additionalClaims, { scope: 'api:read', client_id: BASIC_CLIENT.clientId, aud: API_AUDIENCE });
    assert.deepEqual(Object.keys(info).sort(), ['additionalClaims', 'email', 'familyName', 'givenName', 'name', 'picture', 'preferredUsername', 'subject']);
    assert.equal(flyte.calls.UserInfo, 1);
    assert.equal(idp.tokenRequestCount, 1);
  });

  test('whoami with ExternalCommand: the command token goes out under the server-published key', async () => {
    const { file, counter } = idpTokenScript(scripts, 'idp-token', { tokenEndpoint: idp.tokenEndpoint, ...POST_CLIENT });
    const config = home.write('external-idp.yaml', adminYaml(['authType: ExternalCommand', `command: [${file}]`]));
    const result = await run(['whoami', '--config', config]);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.equal((JSON.parse(result.stdout) as { subject: string }).subject, POST_CLIENT.clientId);
    assert.equal(scripts.runs(counter), 1);
  });

  test("`token` works as another config's admin.command: whoami through ExternalCommand running the CLI", async () => {
    const command = [...CLI_ARGV, 'token', '--config', configFile].map((arg) => JSON.stringify(arg)).join(', ');
    const config = home.write('via-cli.yaml', adminYaml(['authType: ExternalCommand', `command: [${command}]`]));
    const result = await run(['whoami', '--config', config]);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.equal((JSON.parse(result.stdout) as { subject: string }).subject, BASIC_CLIENT.clientId);
    assert.equal(idp.tokenRequestCount, 1, 'the inner CLI got the token');
  });

  test('a config whose admin.command runs `flyte-grpc-auth token` on itself: exit 1 after a few levels, not a fork bomb', async () => {
    const config = home.path('loop.yaml');
    const command = [...CLI_ARGV, 'token', '--config', config].map((arg) => JSON.stringify(arg)).join(', ');
    home.write('loop.yaml', adminYaml(['authType: ExternalCommand', `command: [${command}]`]));
    const result = await run(['token', '--config', config]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const errorLines = lines(result.stderr);
    assert.equal(errorLines.length, 1, result.stderr);
    assert.match(errorLines[0]!, /flyte-grpc-auth is running itself through admin\.command \(4 levels deep\)/);
  });

  test('config: YAML naming the file, the secret redacted and nowhere in the output', async () => {
    const result = await run(['config', '--config', configFile]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.equal(lines(result.stdout)[0], `# flyte-grpc-auth configuration (from ${configFile}); secrets redacted`);
    assert.match(result.stdout, /^clientCredentialsSecret: <redacted>$/m);
    assert.match(result.stdout, /^authMode: ClientSecret$/m);
    assert.match(result.stdout, new RegExp(`^endpoint: ${server.address}$`, 'm'), 'dns:/// removed');
    assert.match(result.stdout, new RegExp(`^source: ${configFile}$`, 'm'));
    assert.ok(!result.stdout.includes(BASIC_CLIENT.clientSecret) && !result.stderr.includes(BASIC_CLIENT.clientSecret));
    assert.equal(idp.tokenRequestCount, 0, 'config makes no requests');
  });

  test('config --json: the same configuration as JSON, secret redacted; environment variables applied', async () => {
    const result = await run(['config', '--json', '--config', configFile], {
      FLYTE_CREDENTIALS_SCOPES: 'a,b',
      FLYTE_CREDENTIALS_CLIENT_SECRET: 'env-secret-value',
    });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    const shown = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(shown.clientCredentialsSecret, '<redacted>');
    assert.equal(shown.source, configFile);
    assert.equal(shown.clientSecretLocation, secretFile);
    assert.deepEqual(shown.scopes, ['a', 'b']);
    assert.equal(shown.insecure, true);
    for (const secret of [BASIC_CLIENT.clientSecret, 'env-secret-value']) assert.ok(!result.stdout.includes(secret));
  });

  test('config without any file: source null, defaults; a missing client secret is a warning on stderr, not a failure', async () => {
    const result = await run(['config'], { FLYTE_CREDENTIALS_AUTH_MODE: 'client_credentials', FLYTE_CREDENTIALS_CLIENT_ID: 'svc' });
    assert.equal(result.code, 0);
    assert.match(lines(result.stdout)[0]!, /no config file found/);
    assert.match(result.stdout, /^source: null$/m);
    assert.match(result.stdout, /^endpoint: localhost:30080$/m);
    assert.deepEqual(lines(result.stderr), [
      `${PREFIX}warning: authMode client_credentials needs a client secret (admin.clientSecretLocation / admin.clientSecretEnvVar / FLYTE_CREDENTIALS_CLIENT_SECRET)`,
    ]);
  });

  test('login with client credentials obtains a token to prove the config and says nothing is cached; logout has nothing to do', async () => {
    const login = await run(['login', '--config', configFile]);
    assert.equal(login.stderr, '');
    assert.equal(login.code, 0);
    assert.deepEqual(lines(login.stdout), [
      `Obtained an access token for ${server.address} (ClientSecret, client id ${BASIC_CLIENT.clientId}) from ${idp.tokenEndpoint}. ` +
        'Nothing is cached: client credentials get a new token in every process.',
    ]);
    assert.equal(idp.tokenRequestCount, 1);
    const logout = await run(['logout', '--config', configFile]);
    assert.equal(logout.code, 0);
    assert.deepEqual(lines(logout.stdout), [`Nothing to log out of: ClientSecret caches no credentials for ${server.address}.`]);
  });

  test('an invalid client secret: exit 1, one line with the token endpoint and invalid_client, never the secret', async () => {
    const wrongSecret = 'wrong-secret-do-not-print';
    const wrongFile = home.write('secrets/wrong', wrongSecret);
    const config = home.write('wrong.yaml', adminYaml([`clientId: ${BASIC_CLIENT.clientId}`, `clientSecretLocation: ${wrongFile}`]));
    for (const command of ['token', 'whoami', 'login']) {
      idp.tokenRequestLog.length = 0;
      const result = await run([command, '--config', config]);
      assert.equal(result.code, 1, command);
      assert.equal(result.stdout, '', command);
      const errorLines = lines(result.stderr);
      assert.equal(errorLines.length, 1, `${command}: ${result.stderr}`);
      assert.ok(errorLines[0]!.startsWith(PREFIX), command);
      assert.ok(errorLines[0]!.includes(`token endpoint ${idp.tokenEndpoint}`), errorLines[0]);
      assert.match(errorLines[0]!, /invalid_client/);
      assert.ok(!result.stderr.includes(wrongSecret), command);
      // Basic, then once client_secret_post (the default auth-method detection); invalid_client is not retried.
      assert.equal(idp.tokenRequestCount, 2, `${command}: Basic, then post, nothing more`);
    }
  });

  test('a failing token command: exit 1, one line with the exit code and its stderr', async () => {
    const failing = scripts.write('failing', '#!/bin/sh\necho "not logged in to the vault" >&2\nexit 3\n');
    const config = home.write('failing.yaml', `admin:\n  authType: ExternalCommand\n  command: [${failing}]\n`);
    const result = await run(['token', '--config', config]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const [line, ...rest] = lines(result.stderr);
    assert.deepEqual(rest, []);
    assert.match(line!, /^flyte-grpc-auth: .*3.*not logged in to the vault/);
  });

  test('whoami against an endpoint where nothing listens: exit 1, one line naming the endpoint', async () => {
    const port = await freePort();
    const result = await run(['whoami', '--config', configFile, '--endpoint', `127.0.0.1:${port}`]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const errorLines = lines(result.stderr);
    assert.equal(errorLines.length, 1, result.stderr);
    assert.ok(errorLines[0]!.startsWith(PREFIX));
    assert.ok(errorLines[0]!.includes(`127.0.0.1:${port}`), errorLines[0]);
  });

  test('a missing client id for ClientSecret: exit 1, one line naming the keys and the file', async () => {
    const config = home.write('no-id.yaml', adminYaml([`clientSecretLocation: ${secretFile}`]));
    const result = await run(['token', '--config', config]);
    assert.equal(result.code, 1);
    assert.deepEqual(lines(result.stderr), [`${PREFIX}authMode ClientSecret needs a clientId (admin.clientId / FLYTE_CREDENTIALS_CLIENT_ID) in ${config}`]);
    assert.ok(!result.stderr.includes(BASIC_CLIENT.clientSecret));
  });
});
