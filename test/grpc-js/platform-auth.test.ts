import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  AuthType,
  authenticatedClientOptions,
  ClientCredentialsAuthenticator,
  CommandAuthenticator,
  createChannelCredentials,
  createPlatformAuth,
  DeviceCodeAuthenticator,
  getAuthenticator,
  loadPlatformConfig,
  MemoryTokenStore,
  PKCEAuthenticator,
  StaticClientConfigStore,
  tokenStoreKey,
  type PlatformConfig,
} from '../../src/index.js';
import { createScriptDir, type ScriptDir } from '../support/commands.js';
import { startHostileTokenEndpoint, tokenBody } from '../support/hostile-token-endpoint.js';
import { EchoClient, unary } from '../support/echo-service.js';
import { startFlyteServer } from '../support/flyte-server.js';
import type { FlyteServices } from '../support/flyte-services.js';
import type { TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { startGrpcServer } from '../support/grpc-server.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

const store = new StaticClientConfigStore({ tokenEndpoint: 'http://127.0.0.1:1/token' });

async function configFrom(dir: TempDir, yaml: string, env: NodeJS.ProcessEnv = {}): Promise<PlatformConfig> {
  const file = dir.write(`config-${Math.random().toString(36).slice(2)}.yaml`, yaml);
  return loadPlatformConfig({ configFile: file, env: { HOME: dir.dir, ...env } });
}

describe('getAuthenticator: the AUTH_MODE switch', () => {
  let dir: TempDir;
  before(() => {
    dir = createTempDir();
  });
  after(() => dir.cleanup());

  for (const [mode, expected] of [
    [AuthType.STANDARD, PKCEAuthenticator],
    [AuthType.PKCE, PKCEAuthenticator],
    [AuthType.BASIC, ClientCredentialsAuthenticator],
    [AuthType.CLIENT_CREDENTIALS, ClientCredentialsAuthenticator],
    [AuthType.CLIENTSECRET, ClientCredentialsAuthenticator],
    [AuthType.EXTERNAL_PROCESS, CommandAuthenticator],
    [AuthType.EXTERNALCOMMAND, CommandAuthenticator],
    [AuthType.DEVICEFLOW, DeviceCodeAuthenticator],
  ] as const) {
    test(`${mode} → ${expected.name}`, async () => {
      const cfg = await configFrom(
        dir,
        `admin:\n  endpoint: dns:///flyte.example.test:443\n  authType: ${mode}\n  clientId: svc\n  command: [echo, token]\n  disableKeyring: true\n`,
        { FLYTE_CREDENTIALS_CLIENT_SECRET: 'not-printed' },
      );
      const authenticator = getAuthenticator(cfg, store, { tokenStore: new MemoryTokenStore() });
      assert.ok(authenticator instanceof expected);
      assert.equal(authenticator.endpoint, 'flyte.example.test:443');
    });
  }

  test('client credentials without a secret: an error naming the keys and the file, before any request', async () => {
    const cfg = await configFrom(dir, 'admin:\n  endpoint: localhost:1\n  authType: ClientSecret\n  clientId: svc\n');
    assert.throws(() => getAuthenticator(cfg, store), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_CONFIG');
      assert.match(error.message, /authMode ClientSecret needs a client secret \(admin\.clientSecretLocation/);
      assert.ok(error.message.endsWith(`in ${cfg.source}`));
      return true;
    });
  });

  for (const [mode, section, flow] of [
    [AuthType.PKCE, 'pkceConfig', 'pkce'],
    [AuthType.DEVICEFLOW, 'deviceFlowConfig', 'deviceflow'],
  ] as const) {
    test(`admin.${section}.expiryMargin reaches the ${mode} authenticator: calls wait for a renewal from that margin on`, async () => {
      const hostile = await startHostileTokenEndpoint({ kind: 'json', body: tokenBody('renewed-token') });
      try {
        for (const [margin, requests] of [['', 0], [`\n  ${section}:\n    expiryMargin: 30s`, 1]] as const) {
          const cfg = await configFrom(dir, `admin:\n  endpoint: dns:///flyte.example.test:443\n  authType: ${mode}\n  clientId: cli${margin}\n`);
          const tokenStore = new MemoryTokenStore();
          // A cached token with 20 s left: inside a 30 s margin, outside the default (min(10 s, 5%)).
          await tokenStore.set(tokenStoreKey('flyte.example.test:443', 'cli', flow), {
            accessToken: 'cached-token',
            refreshToken: 'cached-refresh',
            expiresAt: Date.now() + 20_000,
            forEndpoint: 'flyte.example.test:443',
          });
          const before = hostile.forms.length;
          const authenticator = getAuthenticator(cfg, new StaticClientConfigStore({ tokenEndpoint: hostile.url }), { tokenStore });
          const header = await authenticator.fetchGrpcCallAuthMetadata();
          // Token requests only: the same server also gets (and fails) the issuer discovery GETs, which carry no form.
          const grants = hostile.forms.slice(before).flatMap((form) => form.getAll('grant_type'));
          assert.deepEqual(grants, Array(requests).fill('refresh_token'));
          assert.deepEqual(header, ['authorization', `Bearer ${requests ? 'renewed-token' : 'cached-token'}`]);
        }
      } finally {
        await hostile.close();
      }
    });
  }

  test('external command without a command: a clear configuration error', async () => {
    const cfg = await configFrom(dir, 'admin:\n  endpoint: localhost:1\n  authType: ExternalCommand\n');
    assert.throws(() => getAuthenticator(cfg, store), { code: 'ERR_CONFIG', message: /needs a command \(admin\.command/ });
  });
});

describe('authenticatedClientOptions: a config.yaml to an authenticated client', () => {
  let idp: TestIdentityProvider;
  let flyte: FlyteServices;
  let server: TestGrpcServer;
  let dir: TempDir;
  let scripts: ScriptDir;
  let closeFlyte: () => Promise<void>;
  before(async () => {
    ({ idp, services: flyte, server, close: closeFlyte } = await startFlyteServer());
    dir = createTempDir();
    scripts = createScriptDir();
  });
  after(async () => {
    await closeFlyte();
    dir.cleanup();
    scripts.cleanup();
  });
  beforeEach(() => {
    idp.tokenRequestLog.length = 0;
    server.calls.length = 0;
  });

  const clientSecretConfig = async () => {
    const secretFile = dir.write('secret', `${BASIC_CLIENT.clientSecret}\n`);
    // A secret from a file forces ClientSecret, whatever authType says (flytekit's rule).
    return configFrom(
      dir,
      `admin:\n  endpoint: dns:///${server.address}\n  insecure: true\n  authType: Pkce\n  clientId: ${BASIC_CLIENT.clientId}\n  clientSecretLocation: ${secretFile}\n`,
    );
  };

  test('two stubs built from one config share one token; existing options are kept', async () => {
    const cfg = await clientSecretConfig();
    assert.equal(cfg.authMode, AuthType.CLIENTSECRET);
    const existing: grpc.ClientOptions = { 'grpc.primary_user_agent': 'platform-test' };
    const first = new EchoClient(cfg.endpoint, createChannelCredentials(cfg), authenticatedClientOptions(cfg, existing));
    const second = new EchoClient(cfg.endpoint, createChannelCredentials(cfg), authenticatedClientOptions(cfg));
    try {
      const replies = await Promise.all([unary(first, { text: '1' }), unary(second, { text: '2' })]);
      assert.deepEqual(replies.map((reply) => reply.subject), ['svc-basic', 'svc-basic']);
      assert.equal(idp.tokenRequestCount, 1);
      assert.equal(idp.tokenRequestLog[0]!.body.get('scope'), 'api:read', 'scopes from the server when none are local');
      assert.equal(flyte.calls.GetPublicClientConfig, 1);
      assert.equal(flyte.calls.GetOAuth2Metadata, 1);
      assert.deepEqual(existing, { 'grpc.primary_user_agent': 'platform-test' }, 'the caller options object is not modified');
      assert.ok(String(server.calls[0]!.metadata.get('user-agent')[0]).startsWith('platform-test'));
      assert.equal(server.calls[0]!.headerValues.length, 1, 'the token travels under the server key flyte-authorization');
    } finally {
      first.close();
      second.close();
    }
  });

  test('interceptor_providers in the existing options are joined, not mixed with interceptors', async () => {
    const cfg = await clientSecretConfig();
    let provided = 0;
    const options = authenticatedClientOptions(cfg, {
      interceptor_providers: [
        () => {
          provided += 1;
          return (opts, next) => new grpc.InterceptingCall(next(opts));
        },
      ],
    });
    assert.equal(options.interceptors, undefined);
    const client = new EchoClient(cfg.endpoint, createChannelCredentials(cfg), options);
    try {
      assert.equal((await unary(client, { text: 'p' })).text, 'ok:p');
      assert.equal(provided, 1);
    } finally {
      client.close();
    }
  });

  test('ExternalCommand: the command token goes out under the server header key, refreshed on rejection', async () => {
    const script = scripts.write(
      'token.sh',
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} -e ${JSON.stringify(
        `fetch(${JSON.stringify(idp.tokenEndpoint)}, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=svc-post&client_secret=post-secret' }).then((r) => r.json()).then((j) => console.log(j.access_token))`,
      )}\n`,
    );
    const cfg = await configFrom(dir, `admin:\n  endpoint: ${server.address}\n  insecure: true\n  authType: ExternalCommand\n  command: [${script}]\n`);
    const auth = createPlatformAuth(cfg);
    const client = new EchoClient(cfg.endpoint, auth.channelCredentials, auth.clientOptions());
    try {
      assert.equal((await unary(client, { text: 'c' })).subject, 'svc-post');
      assert.equal(auth.authenticator.headerKey, 'flyte-authorization');
      server.rejectNext(1);
      assert.equal((await unary(client, { text: 'd' })).text, 'ok:d');
      assert.equal(idp.tokenRequestCount, 2, 'the command ran twice: first call, then after the rejection');
    } finally {
      client.close();
    }
  });

  const tokenUrlConfig = async (keys: string[]) => {
    const secretFile = dir.write('secret2', BASIC_CLIENT.clientSecret);
    const lines = [`endpoint: ${server.address}`, 'insecure: true', `clientId: ${BASIC_CLIENT.clientId}`, `clientSecretLocation: ${secretFile}`, `tokenUrl: ${idp.tokenEndpoint}`, ...keys];
    return configFrom(dir, `admin:\n${lines.map((line) => `  ${line}`).join('\n')}\n`);
  };

  test('a local tokenUrl with client credentials and nothing missing locally needs no AuthMetadataService round trip', async () => {
    const cfg = await tokenUrlConfig(['authorizationHeader: flyte-authorization', 'scopes: [api:read]']);
    const before = { ...flyte.calls };
    const auth = createPlatformAuth(cfg);
    const client = new EchoClient(cfg.endpoint, auth.channelCredentials, auth.clientOptions());
    try {
      assert.equal((await unary(client, { text: 't' })).text, 'ok:t');
      assert.deepEqual(flyte.calls, before);
    } finally {
      client.close();
    }
  });

  test("a local tokenUrl still asks GetPublicClientConfig (only) for the server's header key and scopes", async () => {
    const cfg = await tokenUrlConfig([]);
    const before = { ...flyte.calls };
    const auth = createPlatformAuth(cfg);
    const client = new EchoClient(cfg.endpoint, auth.channelCredentials, auth.clientOptions());
    try {
      assert.equal((await unary(client, { text: 'k' })).text, 'ok:k');
      assert.equal((await unary(client, { text: 'l' })).text, 'ok:l');
      assert.equal(auth.authenticator.headerKey, 'flyte-authorization');
      assert.equal(server.calls[0]!.headerValues.length, 1, 'the token travels under the server key flyte-authorization');
      assert.deepEqual(server.calls[0]!.metadata.get('authorization'), []);
      assert.deepEqual(flyte.calls, { ...before, GetPublicClientConfig: before.GetPublicClientConfig + 1 }, 'no GetOAuth2Metadata, one GetPublicClientConfig');
      assert.equal(idp.tokenRequestCount, 1);
      assert.equal(idp.tokenRequestLog[0]!.body.get('scope'), 'api:read', 'the server scopes, as none are local');
      assert.equal(idp.tokenRequestLog[0]!.body.get('audience'), null, 'no audience: none local, none from the server');
    } finally {
      client.close();
    }
  });

  test("a local tokenUrl with useAudienceFromAdmin: the server's audience is sent; without it the server's is not", async () => {
    flyte.setPublicClientConfig({ scopes: ['api:read'], audience: API_AUDIENCE });
    try {
      for (const [keys, expected] of [
        [['useAudienceFromAdmin: true', 'audience: local-audience', 'authorizationHeader: flyte-authorization', 'scopes: [api:read]'], API_AUDIENCE],
        [['authorizationHeader: flyte-authorization'], null],
      ] as const) {
        idp.tokenRequestLog.length = 0;
        const before = flyte.calls.GetPublicClientConfig;
        const cfg = await tokenUrlConfig([...keys]);
        const auth = createPlatformAuth(cfg);
        const client = new EchoClient(cfg.endpoint, auth.channelCredentials, auth.clientOptions());
        try {
          assert.equal((await unary(client, { text: 'a' })).text, 'ok:a');
          assert.equal(flyte.calls.GetPublicClientConfig, before + 1, keys.join());
          assert.equal(idp.tokenRequestLog[0]!.body.get('audience'), expected, keys.join());
        } finally {
          client.close();
        }
      }
    } finally {
      flyte.setPublicClientConfig({ scopes: ['api:read'] });
    }
  });
});

describe('a local tokenUrl and a server without AuthMetadataService', () => {
  test('local values and defaults, one clear warning, every call authenticated', async () => {
    const idp = await startIdentityProvider();
    const server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
    const dir = createTempDir();
    try {
      const cfg = await configFrom(
        dir,
        `admin:\n  endpoint: ${server.address}\n  insecure: true\n  authType: ClientSecret\n  clientId: ${BASIC_CLIENT.clientId}\n  tokenUrl: ${idp.tokenEndpoint}\n`,
        { FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret },
      );
      const warnings: string[] = [];
      const auth = createPlatformAuth(cfg, { warn: (message) => warnings.push(message) });
      const client = new EchoClient(cfg.endpoint, auth.channelCredentials, auth.clientOptions());
      try {
        for (const text of ['a', 'b', 'c']) assert.equal((await unary(client, { text })).text, `ok:${text}`);
        assert.equal(auth.authenticator.headerKey, 'authorization');
        assert.equal(idp.tokenRequestCount, 1);
        assert.equal(idp.tokenRequestLog[0]!.body.get('scope'), null, 'no scopes anywhere: none sent');
        assert.deepEqual(warnings, [
          `flyte-grpc-auth: the server at ${server.address} serves no auth metadata service (flyteidl.service.AuthMetadataService nor ` +
            `flyteidl2.auth.AuthMetadataService: UNIMPLEMENTED); using the local token endpoint ${idp.tokenEndpoint} with the local ` +
            "settings and defaults (header key 'authorization')",
        ]);
        assert.equal(server.calls.length, 3);
      } finally {
        client.close();
      }
    } finally {
      await server.close();
      await idp.close();
      dir.cleanup();
    }
  });
});
