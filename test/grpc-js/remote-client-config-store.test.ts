import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  AUTH_METADATA_SERVICE,
  AUTH_METADATA_SERVICE_V2,
  AuthenticationError,
  RemoteClientConfigStore,
  type ClientConfig,
  type RemoteClientConfigOverrides,
  type RemoteClientConfigStoreOptions,
} from '../../src/index.js';
import { startFlyteServices, type FlyteServicesOptions, type StandaloneFlyteServices } from '../support/flyte-services.js';
import { startGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';

let idp: TestIdentityProvider;

before(async () => {
  idp = await startIdentityProvider();
});
after(async () => {
  await idp.close();
});

async function withServices(options: Partial<FlyteServicesOptions>, body: (services: StandaloneFlyteServices) => Promise<void>): Promise<void> {
  const services = await startFlyteServices({ idp, audience: API_AUDIENCE, ...options });
  try {
    await body(services);
  } finally {
    await services.close();
  }
}

function storeFor(address: string, options: Partial<RemoteClientConfigStoreOptions> = {}): RemoteClientConfigStore {
  return new RemoteClientConfigStore({ endpoint: address, channelCredentials: grpc.credentials.createInsecure(), ...options });
}

function counts(services: StandaloneFlyteServices): { metadata: number; publicConfig: number } {
  return { metadata: services.calls.GetOAuth2Metadata, publicConfig: services.calls.GetPublicClientConfig };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Asserts an `AuthenticationError` with `code` whose message contains every `parts` entry. */
async function rejectsWith(promise: Promise<unknown>, code: string, parts: Array<string | RegExp>): Promise<AuthenticationError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof AuthenticationError, `expected an AuthenticationError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const part of parts) {
    if (typeof part === 'string') assert.ok(caught.message.includes(part), `${JSON.stringify(part)} not in: ${caught.message}`);
    else assert.match(caught.message, part);
  }
  return caught;
}

test('maps every field of both responses to ClientConfig', async () => {
  await withServices(
    {
      publicClientConfig: {
        clientId: 'flytectl',
        redirectUri: 'http://localhost:53593/callback',
        scopes: ['all', 'offline'],
        authorizationMetadataKey: 'flyte-authorization',
        serviceHttpEndpoint: 'https://flyte.example.com',
        audience: 'https://flyte.example.com/api',
      },
    },
    async (services) => {
      const config = await storeFor(services.address).getClientConfig();
      assert.deepEqual(config, {
        tokenEndpoint: idp.tokenEndpoint,
        authorizationEndpoint: idp.authorizationEndpoint,
        deviceAuthorizationEndpoint: idp.deviceAuthorizationEndpoint,
        issuer: idp.issuer,
        redirectUri: 'http://localhost:53593/callback',
        clientId: 'flytectl',
        headerKey: 'flyte-authorization',
        audience: 'https://flyte.example.com/api',
        scopes: ['all', 'offline'],
      } satisfies ClientConfig);
    },
  );
});

test('proto3 empty strings and empty lists are absent, not empty values', async () => {
  await withServices(
    {
      metadata: { issuer: '', authorizationEndpoint: '', deviceAuthorizationEndpoint: '', jwksUri: '' },
      publicClientConfig: { clientId: '', redirectUri: '', scopes: ['', '  '], authorizationMetadataKey: '', audience: '' },
    },
    async (services) => {
      const config = await storeFor(services.address).getClientConfig();
      assert.deepEqual(config, { tokenEndpoint: idp.tokenEndpoint });
      assert.equal('deviceAuthorizationEndpoint' in config, false);
      assert.equal('headerKey' in config, false);
    },
  );
});

test('no token endpoint from the server: ERR_CONFIG naming the endpoint, not memoised; a local one is enough', async () => {
  await withServices({ metadata: { tokenEndpoint: '' } }, async (services) => {
    const store = storeFor(services.address);
    await rejectsWith(store.getClientConfig(), 'ERR_CONFIG', [services.address, 'no token endpoint', 'tokenEndpoint']);
    await rejectsWith(store.getClientConfig(), 'ERR_CONFIG', ['no token endpoint']);
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });

    const local = storeFor(services.address, { overrides: { tokenEndpoint: 'https://idp.example.com/oauth2/token' } });
    assert.equal((await local.getClientConfig()).tokenEndpoint, 'https://idp.example.com/oauth2/token');
  });
});

test('the two RPCs run in parallel, once, for 25 concurrent callers; later calls are served from memory', async () => {
  await withServices({}, async (services) => {
    const store = storeFor(services.address);
    const configs = await Promise.all(Array.from({ length: 25 }, () => store.getClientConfig()));
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });
    for (const config of configs) assert.deepEqual(config, configs[0]);

    for (let i = 0; i < 5; i += 1) await store.getClientConfig();
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });
    assert.equal(services.received.length, 2);
  });
});

test('GetPublicClientConfig is asked while GetOAuth2Metadata is still unanswered (parallel, not sequential)', async () => {
  await withServices({}, async (services) => {
    services.hangNext(1, 'GetOAuth2Metadata');
    const store = storeFor(services.address);
    const pending = store.getClientConfig();
    await until(() => services.calls.GetPublicClientConfig === 1, 'GetPublicClientConfig');
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });
    services.releaseHanging();
    await rejectsWith(pending, 'ERR_IDP_UNREACHABLE', ['GetOAuth2Metadata', 'UNAVAILABLE']);
    await store.getClientConfig();
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });
  });
});

test('each caller gets its own copy of the memoised config', async () => {
  await withServices({}, async (services) => {
    const store = storeFor(services.address);
    const first = await store.getClientConfig();
    first.scopes?.push('mutated');
    first.clientId = 'mutated';
    const second = await store.getClientConfig();
    assert.deepEqual(second.scopes, ['all']);
    assert.equal(second.clientId, 'flytectl');
  });
});

test('a failure is not memoised: UNAVAILABLE once, then success, with exact call counts', async () => {
  await withServices({}, async (services) => {
    services.failNext(grpc.status.UNAVAILABLE, 1);
    const store = storeFor(services.address);
    const error = await rejectsWith(Promise.all([store.getClientConfig(), store.getClientConfig()]), 'ERR_IDP_UNREACHABLE', [
      services.address,
      `/${AUTH_METADATA_SERVICE}/`,
      'UNAVAILABLE',
    ]);
    assert.equal(error.endpoint, services.address);
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });

    const config = await store.getClientConfig();
    assert.equal(config.tokenEndpoint, idp.tokenEndpoint);
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });
    await store.getClientConfig();
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });
  });
});

test('a failure of one RPC names that RPC and is not memoised either', async () => {
  await withServices({}, async (services) => {
    services.failNext(grpc.status.UNAVAILABLE, 1, 'GetPublicClientConfig');
    const store = storeFor(services.address);
    await rejectsWith(store.getClientConfig(), 'ERR_IDP_UNREACHABLE', [`/${AUTH_METADATA_SERVICE}/GetPublicClientConfig at ${services.address}`]);
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });
    await store.getClientConfig();
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });
  });
});

test('status codes map to stable error codes', async () => {
  const cases: Array<[grpc.status, string]> = [
    [grpc.status.UNAVAILABLE, 'ERR_IDP_UNREACHABLE'],
    [grpc.status.DEADLINE_EXCEEDED, 'ERR_IDP_UNREACHABLE'],
    [grpc.status.INTERNAL, 'ERR_CONFIG'],
    [grpc.status.PERMISSION_DENIED, 'ERR_CONFIG'],
    [grpc.status.UNAUTHENTICATED, 'ERR_CONFIG'],
  ];
  await withServices({}, async (services) => {
    const store = storeFor(services.address);
    for (const [code, expected] of cases) {
      services.failNext(code, 1);
      await rejectsWith(store.getClientConfig(), expected, [services.address, AUTH_METADATA_SERVICE]);
    }
    assert.deepEqual(counts(services), { metadata: cases.length, publicConfig: cases.length });
  });
});

test('invalidate() makes the next call ask the server again', async () => {
  await withServices({}, async (services) => {
    const store = storeFor(services.address);
    await store.getClientConfig();
    services.setPublicClientConfig({ clientId: 'rotated' });
    assert.equal((await store.getClientConfig()).clientId, 'flytectl');
    store.invalidate();
    assert.equal((await store.getClientConfig()).clientId, 'rotated');
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });
  });
});

test('the deadline is honoured against a hanging server: clear error, no hang, next call retries', async () => {
  await withServices({}, async (services) => {
    services.hangNext(1);
    const store = storeFor(services.address, { timeoutMs: 300 });
    const started = Date.now();
    await rejectsWith(store.getClientConfig(), 'ERR_IDP_UNREACHABLE', [services.address, 'did not answer within 300 ms', AUTH_METADATA_SERVICE]);
    assert.ok(Date.now() - started < 300 + 3000, 'ended long after the deadline');
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });
    await store.getClientConfig();
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });
  });
});

test('the deadline is honoured even when an interceptor never starts the call', async () => {
  await withServices({}, async (services) => {
    // grpc-js runs no deadline timer until the call reaches the channel: our own timer must end it.
    const stall: grpc.Interceptor = (options, nextCall) => new grpc.InterceptingCall(nextCall(options), { start() {} });
    const store = storeFor(services.address, { timeoutMs: 200, interceptors: [stall] });
    const started = Date.now();
    await rejectsWith(store.getClientConfig(), 'ERR_IDP_UNREACHABLE', ['did not answer within 200 ms', 'GetOAuth2Metadata and GetPublicClientConfig']);
    assert.ok(Date.now() - started < 200 + 3000, 'ended long after the deadline');
    assert.deepEqual(counts(services), { metadata: 0, publicConfig: 0 });
  });
});

/** An interceptor that records the path of every call the store makes (whether or not the server serves it). */
function pathRecorder(): { paths: string[]; interceptor: grpc.Interceptor } {
  const paths: string[] = [];
  const interceptor: grpc.Interceptor = (options, nextCall) => {
    paths.push(options.method_definition.path);
    return new grpc.InterceptingCall(nextCall(options));
  };
  return { paths, interceptor };
}

test('Flyte 2 is found without configuration: v1 first, on UNIMPLEMENTED v2, remembered per store', async () => {
  await withServices({ serviceName: AUTH_METADATA_SERVICE_V2, publicClientConfig: { dataplaneDomain: 'dp.example.com' } }, async (services) => {
    const { paths, interceptor } = pathRecorder();
    const store = storeFor(services.address, { interceptors: [interceptor] });
    assert.equal(store.serviceName, undefined, 'nothing found before the first answer');
    const config = await store.getClientConfig();
    assert.equal(config.tokenEndpoint, idp.tokenEndpoint);
    assert.equal(config.headerKey, 'flyte-authorization');
    assert.equal(config.dataplaneDomain, 'dp.example.com');
    assert.equal(store.serviceName, AUTH_METADATA_SERVICE_V2);
    assert.deepEqual(paths.sort(), [
      `/${AUTH_METADATA_SERVICE}/GetOAuth2Metadata`,
      `/${AUTH_METADATA_SERVICE}/GetPublicClientConfig`,
      `/${AUTH_METADATA_SERVICE_V2}/GetOAuth2Metadata`,
      `/${AUTH_METADATA_SERVICE_V2}/GetPublicClientConfig`,
    ]);
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });

    // Remembered: after invalidate() only the Flyte 2 service is asked.
    paths.length = 0;
    store.invalidate();
    await store.getClientConfig();
    assert.deepEqual(paths.sort(), [`/${AUTH_METADATA_SERVICE_V2}/GetOAuth2Metadata`, `/${AUTH_METADATA_SERVICE_V2}/GetPublicClientConfig`]);
    assert.deepEqual(counts(services), { metadata: 2, publicConfig: 2 });
  });
});

test('a Flyte 1 server is asked once under the Flyte 1 name; dataplaneDomain stays absent', async () => {
  await withServices({}, async (services) => {
    const { paths, interceptor } = pathRecorder();
    const store = storeFor(services.address, { interceptors: [interceptor] });
    const config = await store.getClientConfig();
    assert.equal('dataplaneDomain' in config, false);
    assert.equal(store.serviceName, AUTH_METADATA_SERVICE);
    assert.deepEqual(paths.sort(), [`/${AUTH_METADATA_SERVICE}/GetOAuth2Metadata`, `/${AUTH_METADATA_SERVICE}/GetPublicClientConfig`]);
  });
});

test('a forced service name is the only one asked; UNIMPLEMENTED names it and the setting', async () => {
  await withServices({ serviceName: AUTH_METADATA_SERVICE_V2 }, async (services) => {
    const forcedV2 = storeFor(services.address, { serviceName: AUTH_METADATA_SERVICE_V2 });
    assert.equal(forcedV2.serviceName, AUTH_METADATA_SERVICE_V2);
    assert.equal((await forcedV2.getClientConfig()).tokenEndpoint, idp.tokenEndpoint);

    const { paths, interceptor } = pathRecorder();
    const forcedV1 = storeFor(services.address, { serviceName: AUTH_METADATA_SERVICE, interceptors: [interceptor] });
    await rejectsWith(forcedV1.getClientConfig(), 'ERR_CONFIG', [
      `the server at ${services.address} does not serve ${AUTH_METADATA_SERVICE} (UNIMPLEMENTED)`,
      'admin.authMetadataService',
      '--auth-metadata-service',
    ]);
    assert.equal(paths.every((path) => path.startsWith(`/${AUTH_METADATA_SERVICE}/`)), true, paths.join());
    assert.deepEqual(counts(services), { metadata: 1, publicConfig: 1 });
  });
});

test('a server that serves neither generation, without a local token endpoint: ERR_CONFIG naming both names', async () => {
  await withServices({ serviceName: 'other.AuthMetadataService' }, async (services) => {
    const error = await rejectsWith(storeFor(services.address).getClientConfig(), 'ERR_CONFIG', [
      `does not serve ${AUTH_METADATA_SERVICE} nor ${AUTH_METADATA_SERVICE_V2} (UNIMPLEMENTED)`,
      'admin.tokenUrl',
    ]);
    assert.ok(error.cause instanceof AggregateError);
    // Both refusals survive the sanitised copy of the cause, Flyte 1's then Flyte 2's.
    assert.deepEqual(
      error.cause.errors.map((member: Error & { code?: unknown }) => [member.code, member.message]),
      [AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2].map((name) => [
        'ERR_CONFIG',
        `cannot fetch the client config: the server at ${services.address} does not serve ${name} (GetOAuth2Metadata: UNIMPLEMENTED)`,
      ]),
    );
    assert.deepEqual(counts(services), { metadata: 0, publicConfig: 0 });
  });
});

test('a gRPC server without AuthMetadataService: ERR_CONFIG naming the endpoint and the service', async () => {
  const server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
  try {
    const error = await rejectsWith(storeFor(server.address).getClientConfig(), 'ERR_CONFIG', [
      `the server at ${server.address} does not serve ${AUTH_METADATA_SERVICE} nor ${AUTH_METADATA_SERVICE_V2}`,
      'StaticClientConfigStore',
    ]);
    assert.equal(error.endpoint, server.address);
    assert.equal(server.calls.length, 0, 'the echo service saw no call');
  } finally {
    await server.close();
  }
});

test('an endpoint that answers HTTP, not gRPC, gets "is this a Flyte gRPC endpoint?"', async () => {
  const cases: Array<{ status: number; code: string }> = [
    { status: 200, code: 'ERR_CONFIG' },
    { status: 404, code: 'ERR_CONFIG' },
    { status: 502, code: 'ERR_IDP_UNREACHABLE' },
  ];
  for (const { status, code } of cases) {
    const web = createHttp2Server((_request, response) => {
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<html><body>Flyte Console</body></html>');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(web.address() as AddressInfo).port}`;
    try {
      await rejectsWith(storeFor(address).getClientConfig(), code, [address, 'is this a Flyte gRPC endpoint?', AUTH_METADATA_SERVICE]);
    } finally {
      await new Promise<void>((resolve) => web.close(() => resolve()));
    }
  }
  // An HTTP/1.1 server (here: the identity provider itself).
  const http1 = new URL(idp.issuer).host;
  await rejectsWith(storeFor(http1).getClientConfig(), 'ERR_IDP_UNREACHABLE', [http1, 'is this a Flyte gRPC endpoint?']);
});

test('nothing listening: ERR_IDP_UNREACHABLE naming the endpoint', async () => {
  const closed = await startFlyteServices({ idp, audience: API_AUDIENCE });
  const address = closed.address;
  await closed.close();
  await rejectsWith(storeFor(address).getClientConfig(), 'ERR_IDP_UNREACHABLE', [address, 'UNAVAILABLE', 'is the server running']);
});

test('precedence: local values win over the server for client id, scopes, audience, header key, token endpoint, redirect URI', async () => {
  const server = {
    clientId: 'flytectl',
    redirectUri: 'http://localhost:53593/callback',
    scopes: ['all'],
    authorizationMetadataKey: 'flyte-authorization',
    audience: 'server-audience',
  };
  const rows: Array<{ name: string; local: RemoteClientConfigOverrides; server?: Partial<typeof server>; expected: { [K in keyof ClientConfig]?: ClientConfig[K] | undefined } }> = [
    {
      name: 'nothing local: the server fills everything',
      local: {},
      expected: { clientId: 'flytectl', scopes: ['all'], audience: 'server-audience', headerKey: 'flyte-authorization', tokenEndpoint: idp.tokenEndpoint, redirectUri: server.redirectUri },
    },
    { name: 'local client id', local: { clientId: 'my-app' }, expected: { clientId: 'my-app' } },
    { name: 'empty local client id', local: { clientId: '' }, expected: { clientId: 'flytectl' } },
    { name: 'local scopes', local: { scopes: ['api:read', 'api:write'] }, expected: { scopes: ['api:read', 'api:write'] } },
    { name: 'empty local scopes', local: { scopes: [] }, expected: { scopes: ['all'] } },
    { name: 'blank local scopes', local: { scopes: [''] }, expected: { scopes: ['all'] } },
    { name: 'local audience', local: { audience: 'local-audience' }, expected: { audience: 'local-audience' } },
    { name: 'local header key', local: { headerKey: 'authorization' }, expected: { headerKey: 'authorization' } },
    { name: 'local token endpoint', local: { tokenEndpoint: 'https://idp.example.com/token' }, expected: { tokenEndpoint: 'https://idp.example.com/token' } },
    { name: 'local redirect URI', local: { redirectUri: 'http://localhost:8080/cb' }, expected: { redirectUri: 'http://localhost:8080/cb' } },
    {
      name: 'server silent, local set',
      local: { audience: 'local-audience', headerKey: 'x-token' },
      server: { audience: '', authorizationMetadataKey: '' },
      expected: { audience: 'local-audience', headerKey: 'x-token' },
    },
    {
      name: 'server silent, nothing local: absent',
      local: {},
      server: { audience: '', authorizationMetadataKey: '', clientId: '', scopes: [] },
      expected: { audience: undefined, headerKey: undefined, clientId: undefined, scopes: undefined },
    },
  ];
  await withServices({}, async (services) => {
    for (const row of rows) {
      services.setPublicClientConfig({ ...server, ...row.server });
      const config = await storeFor(services.address, { overrides: row.local }).getClientConfig();
      const picked = Object.fromEntries(Object.keys(row.expected).map((key) => [key, config[key as keyof ClientConfig]]));
      assert.deepEqual(picked, row.expected, row.name);
    }
  });
});

test('the calls are anonymous: only the given interceptors run, never ones passed in channelOptions', async () => {
  await withServices({}, async (services) => {
    const proxyAuth: grpc.Interceptor = (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start(metadata, listener, next) {
          metadata.set('proxy-authorization', 'Bearer proxy-token');
          next(metadata, listener);
        },
      });
    const adminAuth: grpc.Interceptor = () => {
      throw new Error('the admin auth interceptor must not run');
    };
    const store = storeFor(services.address, {
      interceptors: [proxyAuth],
      channelOptions: { interceptors: [adminAuth], 'grpc.primary_user_agent': 'fga-test' },
    });
    await store.getClientConfig();
    assert.equal(services.received.length, 2);
    for (const { metadata } of services.received) {
      assert.deepEqual(metadata.get('proxy-authorization'), ['Bearer proxy-token']);
      assert.deepEqual(metadata.get('authorization'), []);
      assert.deepEqual(metadata.get('flyte-authorization'), []);
      assert.match(String(metadata.get('user-agent')[0]), /^fga-test/);
    }
  });
});

test('bad options fail fast with ERR_CONFIG', () => {
  assert.throws(() => storeFor(''), (error: unknown) => error instanceof AuthenticationError && error.code === 'ERR_CONFIG');
  assert.throws(() => storeFor('127.0.0.1:1', { timeoutMs: 0 }), (error: unknown) => error instanceof AuthenticationError && error.code === 'ERR_CONFIG');
  // Beyond 2^31-1 ms a timer fires after 1 ms: refused instead.
  assert.throws(() => storeFor('127.0.0.1:1', { timeoutMs: 2 ** 31 }), (error: unknown) => error instanceof AuthenticationError && error.code === 'ERR_CONFIG');
  assert.throws(
    () => storeFor('127.0.0.1:1', { askOAuth2Metadata: false }),
    (error: unknown) => error instanceof AuthenticationError && error.code === 'ERR_CONFIG' && error.message.includes('overrides.tokenEndpoint'),
  );
});
