import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { runCli } from '../../src/cli/run.js';
import type { CliEnvironment } from '../../src/cli/environment.js';
import { AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2, IDENTITY_SERVICE_V2, authenticatedClientOptions, loadPlatformConfig } from '../../src/index.js';
import { EchoClient, unary } from '../support/echo-service.js';
import { createFlyteServices, type FlyteServices } from '../support/flyte-services.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

// A server built like Flyte 2: only `flyteidl2.auth.AuthMetadataService` and `flyteidl2.auth.IdentityService`.
describe('Flyte 2 found without configuration (in-process CLI and authenticatedClientOptions)', () => {
  let idp: TestIdentityProvider;
  let flyte: FlyteServices;
  let server: TestGrpcServer;
  let home: TempDir;

  before(async () => {
    idp = await startIdentityProvider();
    flyte = createFlyteServices({
      idp,
      audience: API_AUDIENCE,
      serviceName: AUTH_METADATA_SERVICE_V2,
      identityServiceName: IDENTITY_SERVICE_V2,
      publicClientConfig: { scopes: ['api:read'], dataplaneDomain: 'dp.flyte.test' },
    });
    server = await startGrpcServer({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      audience: API_AUDIENCE,
      headerKey: 'flyte-authorization',
      addServices: (grpcServer) => flyte.register(grpcServer),
    });
    home = createTempDir('fga-flyte2-');
  });
  after(async () => {
    await server.close();
    await idp.close();
    home.cleanup();
  });
  beforeEach(() => {
    flyte.calls.GetOAuth2Metadata = 0;
    flyte.calls.GetPublicClientConfig = 0;
    flyte.calls.UserInfo = 0;
    idp.tokenRequestLog.length = 0;
  });

  function io(keys: string[], env: Record<string, string> = {}): CliEnvironment & { out: () => string; err: () => string } {
    let out = '';
    let err = '';
    const yaml = ['endpoint: ' + server.address, 'insecure: true', 'authType: ClientSecret', `clientId: ${BASIC_CLIENT.clientId}`, ...keys];
    const config = home.write(`c-${Math.random().toString(36).slice(2)}.yaml`, `admin:\n${yaml.map((line) => `  ${line}`).join('\n')}\n`);
    return {
      env: { HOME: home.dir, FLYTECTL_CONFIG: config, FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret, ...env },
      stdout: (text) => (out += text),
      stderr: (text) => (err += text),
      out: () => out,
      err: () => err,
    };
  }

  test('token and whoami work against a server that serves only the Flyte 2 names', async () => {
    const token = io([]);
    assert.equal(await runCli(['token'], token), 0, token.err());
    assert.match(token.out(), /^[\w.-]+\n$/);
    assert.deepEqual(flyte.calls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 0 });
    assert.equal(idp.tokenRequestLog[0]?.body.get('scope'), 'api:read', "the Flyte 2 server's scopes");

    const whoami = io([]);
    assert.equal(await runCli(['whoami'], whoami), 0, whoami.err());
    assert.equal((JSON.parse(whoami.out()) as { subject: string }).subject, BASIC_CLIENT.clientId);
    // UserInfo checks the token under the key the Flyte 2 server published (flyte-authorization).
    assert.equal(flyte.calls.UserInfo, 1, 'flyteidl2.auth.IdentityService/UserInfo answered');
  });

  test('whoami with a local token endpoint and nothing missing (no metadata round trip): Flyte 1 IdentityService, then Flyte 2', async () => {
    const whoami = io([`tokenUrl: ${idp.tokenEndpoint}`, 'authorizationHeader: flyte-authorization', 'scopes: [api:read]']);
    assert.equal(await runCli(['whoami'], whoami), 0, whoami.err());
    assert.equal((JSON.parse(whoami.out()) as { subject: string }).subject, BASIC_CLIENT.clientId);
    assert.deepEqual(flyte.calls, { GetOAuth2Metadata: 0, GetPublicClientConfig: 0, UserInfo: 1 });
  });

  test('admin.authMetadataService / FLYTE_ADMIN_AUTHMETADATASERVICE / --auth-metadata-service force a name', async () => {
    const fromYaml = io([`authMetadataService: ${AUTH_METADATA_SERVICE_V2}`]);
    assert.equal(await runCli(['whoami'], fromYaml), 0, fromYaml.err());
    assert.deepEqual(flyte.calls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 1 });

    const forcedV1 = io([], { FLYTE_ADMIN_AUTHMETADATASERVICE: AUTH_METADATA_SERVICE });
    assert.equal(await runCli(['token'], forcedV1), 1);
    assert.match(forcedV1.err(), new RegExp(`does not serve ${AUTH_METADATA_SERVICE.replaceAll('.', '\\.')} \\(UNIMPLEMENTED\\); check admin\\.authMetadataService`));
    assert.doesNotMatch(forcedV1.err(), /flyteidl2/, 'only the forced name was asked');

    // The flag beats the environment variable.
    const flag = io([], { FLYTE_ADMIN_AUTHMETADATASERVICE: AUTH_METADATA_SERVICE });
    assert.equal(await runCli(['whoami', '--auth-metadata-service', AUTH_METADATA_SERVICE_V2], flag), 0, flag.err());

    const config = io([]);
    assert.equal(await runCli(['config', '--json', '--auth-metadata-service', AUTH_METADATA_SERVICE_V2], config), 0, config.err());
    assert.equal((JSON.parse(config.out()) as { authMetadataService: string }).authMetadataService, AUTH_METADATA_SERVICE_V2);

    const bad = io([]);
    assert.equal(await runCli(['token', '--auth-metadata-service', 'not a/name'], bad), 1);
    assert.match(bad.err(), /FLYTE_ADMIN_AUTHMETADATASERVICE: expected a protobuf service name/);
    assert.equal(await runCli(['token', '--auth-metadata-service', ' '], io([])), 2);
  });

  test('authenticatedClientOptions(cfg) finds Flyte 2 on its own', async () => {
    const file = home.write('plain.yaml', `admin:\n  endpoint: ${server.address}\n  insecure: true\n  authType: ClientSecret\n  clientId: ${BASIC_CLIENT.clientId}\n`);
    const cfg = await loadPlatformConfig({ configFile: file, env: { FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret } });
    const client = new EchoClient(server.address, grpc.credentials.createInsecure(), authenticatedClientOptions(cfg));
    try {
      assert.equal((await unary(client, { text: 'v2' })).text, 'ok:v2');
      const [call] = server.calls;
      assert.equal(call?.outcome, 'ok');
      assert.equal(call?.headerValues.length, 1, 'under flyte-authorization, as the Flyte 2 server published');
      assert.deepEqual(flyte.calls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 0 });
    } finally {
      client.close();
    }
  });
});
