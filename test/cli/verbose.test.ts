import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseCliArgs } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/run.js';
import { cliEnv, lines, runCliProcess } from '../support/cli.js';
import { createFlyteServices } from '../support/flyte-services.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

const fingerprintText = (token: string) => `<token len=${token.length} sha256=...${createHash('sha256').update(token).digest('hex').slice(-4)}>`;

describe('CLI --verbose', () => {
  let idp: TestIdentityProvider;
  let server: TestGrpcServer;
  let home: TempDir;
  let configFile: string;

  before(async () => {
    idp = await startIdentityProvider();
    const flyte = createFlyteServices({ idp, audience: API_AUDIENCE, publicClientConfig: { scopes: ['api:read'] } });
    server = await startGrpcServer({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      audience: API_AUDIENCE,
      headerKey: 'flyte-authorization',
      addServices: (grpcServer) => flyte.register(grpcServer),
    });
    home = createTempDir('fga-cli-verbose-');
    const secretFile = home.write('secrets/client_secret', `${BASIC_CLIENT.clientSecret}\n`);
    configFile = home.write(
      'config.yaml',
      `admin:\n  endpoint: dns:///${server.address}\n  insecure: true\n  clientId: ${BASIC_CLIENT.clientId}\n  clientSecretLocation: ${secretFile}\n`,
    );
  });
  after(async () => {
    await server.close();
    await idp.close();
    home.cleanup();
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    runCliProcess(args, { cwd: home.dir, env: cliEnv({ HOME: home.dir, FLYTECTL_CONFIG: configFile, ...env }) });

  test('token --verbose: the token alone on stdout; the debug lines on stderr, the token only as a fingerprint', async () => {
    for (const flag of ['--verbose', '-v']) {
      const result = await run(['token', flag]);
      assert.equal(result.code, 0, result.stderr);
      const token = result.stdout.trim();
      assert.equal(lines(result.stdout).length, 1);
      const stderr = lines(result.stderr);
      assert.equal(stderr.length, 2, result.stderr);
      assert.equal(stderr[0], `flyte-grpc-auth: debug: token request start flow=clientSecret endpoint=${server.address} reason=initial`);
      assert.match(
        stderr[1]!,
        new RegExp(`^flyte-grpc-auth: debug: token request ok flow=clientSecret endpoint=${server.address} tokenEndpoint=${idp.tokenEndpoint} reason=initial durationMs=\\d+ expiresAt=\\S+ token="`),
      );
      assert.ok(stderr[1]!.endsWith(`token="${fingerprintText(token)}"`));
      assert.ok(!result.stderr.includes(token.slice(-16)));
      assert.ok(!result.stderr.includes(BASIC_CLIENT.clientSecret));
    }
  });

  test('without --verbose: nothing on stderr; with NODE_DEBUG as well: each line once', async () => {
    assert.equal((await run(['token'])).stderr, '');
    const both = await run(['token', '--verbose'], { NODE_DEBUG: 'flyte-grpc-auth' });
    assert.equal(both.code, 0);
    const stderr = lines(both.stderr);
    assert.equal(stderr.length, 2, both.stderr);
    assert.ok(stderr.every((line) => /^FLYTE-GRPC-AUTH \d+: token request (start|ok) /.test(line)), both.stderr);
  });

  test('a failure with --verbose: the failed token request as a debug line, then the error line', async () => {
    const wrong = home.write('wrong-secret', 'not-the-secret-value\n');
    const config = home.write('wrong.yaml', `admin:\n  endpoint: dns:///${server.address}\n  insecure: true\n  clientId: ${BASIC_CLIENT.clientId}\n  clientSecretLocation: ${wrong}\n`);
    const result = await run(['token', '--verbose'], { FLYTECTL_CONFIG: config });
    assert.equal(result.code, 1);
    const stderr = lines(result.stderr);
    assert.equal(stderr.length, 3, result.stderr);
    assert.match(stderr[1]!, /^flyte-grpc-auth: debug: token request failed flow=clientSecret .* error=ERR_OAUTH_RESPONSE oauthError=invalid_client message="/);
    assert.match(stderr[2]!, /^flyte-grpc-auth: (?!debug).*invalid_client/);
    assert.ok(!result.stderr.includes('not-the-secret-value'));
  });

  test('parseCliArgs reads --verbose and -v; runCli stops the log when the command ends', async () => {
    assert.equal((parseCliArgs(['config', '--verbose']) as { options: { verbose: boolean } }).options.verbose, true);
    assert.equal((parseCliArgs(['-v', 'token']) as { options: { verbose: boolean } }).options.verbose, true);
    let err = '';
    const io = { env: { HOME: home.dir, FLYTECTL_CONFIG: configFile }, stdout: () => undefined, stderr: (text: string) => (err += text) };
    assert.equal(await runCli(['token', '--verbose'], io), 0);
    const after = err;
    assert.equal(lines(after).length, 2, after);
    assert.equal(await runCli(['token'], io), 0);
    assert.equal(err, after, 'no lines once the verbose run ended');
  });
});
