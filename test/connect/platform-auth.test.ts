import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  AuthMetadataClientConfigStore,
  ClientCredentialsAuthenticator,
  createPlatformAuth,
  loadPlatformConfig,
  type PlatformConfig,
} from '../../src/connect.js';
import { countingTokenScript, createScriptDir, type ScriptDir } from '../support/commands.js';
import { startConnectServer, type ConnectServerOptions, type TestConnectServer } from '../support/connect-server.js';
import { flyteidl2Identity } from '../support/flyteidl2.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

const PROTOCOLS: ReadonlyArray<readonly [string, (baseUrl: string, interceptors?: Parameters<typeof createGrpcTransport>[0]['interceptors']) => Transport]> = [
  ['Connect protocol', (baseUrl, interceptors) => createConnectTransport({ baseUrl, httpVersion: '2', interceptors: interceptors ?? [] })],
  ['gRPC protocol', (baseUrl, interceptors) => createGrpcTransport({ baseUrl, interceptors: interceptors ?? [] })],
];

describe('createPlatformAuth for Connect: a Flyte config to authenticated flyteidl2 clients', () => {
  let idp: TestIdentityProvider;
  let dir: TempDir;
  let scripts: ScriptDir;
  const servers: TestConnectServer[] = [];

  before(async () => {
    idp = await startIdentityProvider();
    dir = createTempDir();
    scripts = createScriptDir();
  });
  after(async () => {
    for (const server of servers) await server.close();
    await idp.close();
    dir.cleanup();
    scripts.cleanup();
  });

  // A Flyte 2 stand-in: tokens travel under the key its AuthMetadataService publishes, as with flyteadmin.
  async function flyte(options: Partial<ConnectServerOptions> = {}): Promise<TestConnectServer> {
    const server = await startConnectServer({ idp, audience: API_AUDIENCE, headerKey: 'flyte-authorization', ...options });
    servers.push(server);
    return server;
  }

  async function config(server: TestConnectServer, extra = ''): Promise<PlatformConfig> {
    const file = dir.write(`config-${servers.length}-${Math.random().toString(36).slice(2)}.yaml`, [
      'admin:',
      `  endpoint: dns:///${new URL(server.baseUrl).host}`,
      '  insecure: true',
      '  authType: ClientSecret',
      `  clientId: ${BASIC_CLIENT.clientId}`,
      '  scopes: [api:read]',
      extra,
    ].join('\n'));
    return loadPlatformConfig({ configFile: file, env: { HOME: dir.dir, FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret } });
  }

  for (const [protocol, transport] of PROTOCOLS) {
    test(`${protocol}: Flyte 2 found after Flyte 1's UNIMPLEMENTED; IdentityService/UserInfo authenticated under the published key`, async () => {
      const server = await flyte({ publicClientConfig: { dataplaneDomain: 'data.flyte.example' } });
      const cfg = await config(server);
      const tokenRequests = idp.tokenRequestCount;
      const auth = createPlatformAuth(cfg, { transport: transport(server.baseUrl) });
      assert.ok(auth.authenticator instanceof ClientCredentialsAuthenticator);
      assert.equal(auth.proxyAuthenticator, undefined);
      assert.equal(server.flyteCalls.GetPublicClientConfig, 0, 'nothing is asked before the first call');

      const identity = createClient(flyteidl2Identity.IdentityService, transport(server.baseUrl, auth.interceptors));
      const [first, second] = [await identity.userInfo({}), await identity.userInfo({})];
      assert.equal(first.subject, BASIC_CLIENT.clientId);
      assert.equal(second.subject, BASIC_CLIENT.clientId);
      assert.deepEqual(first.additionalClaims, { scope: 'api:read', client_id: BASIC_CLIENT.clientId });
      assert.deepEqual(server.flyteCalls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 2 });
      assert.equal(idp.tokenRequestCount - tokenRequests, 1);
      const store = auth.clientConfigStore as AuthMetadataClientConfigStore;
      assert.equal(store.serviceName, 'flyteidl2.auth.AuthMetadataService');
      const clientConfig = await store.getClientConfig();
      assert.equal(clientConfig.headerKey, 'flyte-authorization');
      assert.equal(clientConfig.dataplaneDomain, 'data.flyte.example');
      assert.equal(clientConfig.tokenEndpoint, idp.tokenEndpoint);
      // The metadata calls are anonymous; the UserInfo calls carry the admin token, once, under the published key.
      const token = `Bearer ${auth.authenticator.getCredentials()!.accessToken}`;
      for (const { rpc, header } of server.flyteHeaders) {
        assert.equal(header.get('authorization'), null, rpc);
        assert.equal(header.get('flyte-authorization'), rpc === 'UserInfo' ? token : null, rpc);
      }
    });
  }

  test('a Flyte 1 server: its AuthMetadataService answers, Flyte 2 is never asked', async () => {
    const server = await flyte({ authMetadata: 'v1' });
    const auth = createPlatformAuth(await config(server), { transport: PROTOCOLS[0]![1](server.baseUrl) });
    const identity = createClient(flyteidl2Identity.IdentityService, PROTOCOLS[0]![1](server.baseUrl, auth.interceptors));
    assert.equal((await identity.userInfo({})).subject, BASIC_CLIENT.clientId);
    assert.equal((auth.clientConfigStore as AuthMetadataClientConfigStore).serviceName, 'flyteidl.service.AuthMetadataService');
    assert.deepEqual(server.flyteCalls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 1 });
  });

  test('admin.authMetadataService names the service: only it is asked', async () => {
    const server = await flyte();
    const cfg = await config(server, '  authMetadataService: flyteidl2.auth.AuthMetadataService');
    const auth = createPlatformAuth(cfg, { transport: PROTOCOLS[1]![1](server.baseUrl) });
    const config2 = await auth.clientConfigStore.getClientConfig();
    assert.equal(config2.tokenEndpoint, idp.tokenEndpoint);
    assert.deepEqual(server.flyteCalls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 0 });
  });

  test('a server without an AuthMetadataService: the call ends unauthenticated, naming both services and the endpoint', async () => {
    const server = await flyte({ authMetadata: 'none' });
    const cfg = await config(server);
    const auth = createPlatformAuth(cfg, { transport: PROTOCOLS[0]![1](server.baseUrl) });
    const identity = createClient(flyteidl2Identity.IdentityService, PROTOCOLS[0]![1](server.baseUrl, auth.interceptors));
    const error = await identity.userInfo({}).then(
      () => assert.fail('expected a rejection'),
      (reason: unknown) => ConnectError.from(reason),
    );
    assert.equal(error.code, Code.Unauthenticated);
    assert.equal(
      error.rawMessage,
      `failed to obtain access token: cannot fetch the client config: the server at ${cfg.endpoint} does not serve ` +
        'flyteidl.service.AuthMetadataService nor flyteidl2.auth.AuthMetadataService (UNIMPLEMENTED); is this a Flyte API ' +
        'endpoint? Otherwise configure the token endpoint locally (admin.tokenUrl, StaticClientConfigStore)',
    );
    assert.equal(server.flyteCalls.UserInfo, 0);
    assert.doesNotMatch(inspect(error, { depth: Infinity }), new RegExp(BASIC_CLIENT.clientSecret.replace(/[/+]/g, '\\$&')));
  });

  test('an endpoint nobody listens on: the call ends unavailable, naming the endpoint and the RPC', async () => {
    const server = await flyte();
    const cfg = await config(server);
    await server.close();
    const auth = createPlatformAuth(cfg, { transport: PROTOCOLS[1]![1](server.baseUrl) });
    const identity = createClient(flyteidl2Identity.IdentityService, PROTOCOLS[1]![1](server.baseUrl, auth.interceptors));
    const error = await identity.userInfo({}).then(
      () => assert.fail('expected a rejection'),
      (reason: unknown) => ConnectError.from(reason),
    );
    assert.equal(error.code, Code.Unavailable);
    assert.match(
      error.rawMessage,
      new RegExp(`^failed to obtain access token: cannot fetch the client config: /flyteidl\\.service\\.AuthMetadataService/(GetOAuth2Metadata|GetPublicClientConfig) at ${cfg.endpoint} failed with UNAVAILABLE \\(`),
    );
  });

  test('with a proxy command: proxy-authorization on the metadata calls and on every call, the admin token beside it', async () => {
    const server = await flyte();
    const { file } = countingTokenScript(scripts, 'proxy-token', 'iap');
    const cfg = await config(server, `  proxyCommand: [${file}]`);
    const auth = createPlatformAuth(cfg, { transport: PROTOCOLS[0]![1](server.baseUrl) });
    assert.ok(auth.proxyAuthenticator);
    assert.equal(auth.interceptors.length, 2);
    const identity = createClient(flyteidl2Identity.IdentityService, PROTOCOLS[0]![1](server.baseUrl, auth.interceptors));
    assert.equal((await identity.userInfo({})).subject, BASIC_CLIENT.clientId);
    // The two metadata calls run in parallel: compared in name order.
    assert.deepEqual(
      server.flyteHeaders.map(({ rpc, header }) => `${rpc}: ${header.get('proxy-authorization')}`).sort(),
      ['GetOAuth2Metadata: Bearer iap-1', 'GetPublicClientConfig: Bearer iap-1', 'UserInfo: Bearer iap-1'],
    );
    assert.equal(server.flyteHeaders.find(({ rpc }) => rpc === 'UserInfo')!.header.get('flyte-authorization'), `Bearer ${auth.authenticator.getCredentials()!.accessToken}`);
  });

  test('the client config needs the server and no transport was given: ERR_CONFIG at once', async () => {
    const server = await flyte();
    const cfg = await config(server);
    assert.throws(() => createPlatformAuth(cfg), {
      name: 'AuthenticationError',
      code: 'ERR_CONFIG',
      message: `the client config for ${cfg.endpoint} comes from its AuthMetadataService: pass a Connect transport to it (createPlatformAuth(cfg, { transport })), or a clientConfigStore`,
    });
  });

  test('a local tokenUrl with everything set locally: no transport needed, no metadata call', async () => {
    const server = await flyte();
    const cfg = await config(server, `  tokenUrl: ${idp.tokenEndpoint}\n  authorizationHeader: flyte-authorization`);
    const auth = createPlatformAuth(cfg);
    const identity = createClient(flyteidl2Identity.IdentityService, PROTOCOLS[0]![1](server.baseUrl, auth.interceptors));
    assert.equal((await identity.userInfo({})).subject, BASIC_CLIENT.clientId);
    assert.deepEqual(server.flyteCalls, { GetOAuth2Metadata: 0, GetPublicClientConfig: 0, UserInfo: 1 });
  });
});
