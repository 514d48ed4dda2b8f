import * as grpc from '@grpc/grpc-js';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  type ClientCredentialsAuthenticatorOptions,
  StaticClientConfigStore,
  createAuthInterceptor,
  createChannelCredentials,
  loadPlatformConfig,
  oauthHttpOptions,
  type TransportSecurityConfig,
} from '../../src/index.js';
import { startConnectProxy } from '../support/connect-proxy.js';
import { EchoClient, unary, type EchoClientInstance } from '../support/echo-service.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { createTestPki, type TestPki } from '../support/tls.js';

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a failure'),
    (error: unknown) => error,
  );
}

describe('oauthHttpOptions: the OAuth side of the TLS policy', () => {
  test('maps skip-verify, CA file and HTTP proxy; skip-verify wins over a CA file, as on the gRPC side', () => {
    assert.deepEqual(oauthHttpOptions({}), {});
    assert.deepEqual(oauthHttpOptions({ insecure: true }), {}, 'plaintext gRPC says nothing about the identity provider');
    assert.deepEqual(oauthHttpOptions({ insecureSkipVerify: true }), { verify: false });
    assert.deepEqual(oauthHttpOptions({ caCertFilePath: '/etc/ca.pem' }), { verify: '/etc/ca.pem' });
    assert.deepEqual(oauthHttpOptions({ insecureSkipVerify: true, caCertFilePath: '/etc/ca.pem' }), { verify: false });
    assert.deepEqual(oauthHttpOptions({ httpProxyUrl: 'http://proxy:3128' }), { httpProxyUrl: 'http://proxy:3128' });
    assert.deepEqual(oauthHttpOptions({ insecureSkipVerify: false, caCertFilePath: '', httpProxyUrl: '' }), {});
  });
});

describe('one TLS policy for gRPC and the token endpoint', () => {
  let pki: TestPki;
  let idp: TestIdentityProvider;
  let server: TestGrpcServer;
  const clients: grpc.Client[] = [];

  before(async () => {
    pki = createTestPki();
    idp = await startIdentityProvider({ tls: { key: pki.serverKey, cert: pki.serverCert } });
    const dispatcher = new Agent({ connect: { ca: pki.caCert } });
    const jwks = (await (await undiciFetch(idp.jwksUri, { dispatcher })).json()) as JSONWebKeySet;
    await dispatcher.close();
    server = await startGrpcServer({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      jwks: createLocalJWKSet(jwks),
      audience: API_AUDIENCE,
      credentials: grpc.ServerCredentials.createSsl(null, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], false),
    });
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.close();
    await idp.close();
    pki.cleanup();
  });

  function authenticatorOptions(cfg: TransportSecurityConfig): ClientCredentialsAuthenticatorOptions {
    return {
      endpoint: server.address,
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
      retry: { retries: 0 },
      ...oauthHttpOptions(cfg),
    };
  }

  function authenticator(cfg: TransportSecurityConfig): ClientCredentialsAuthenticator {
    return new ClientCredentialsAuthenticator(authenticatorOptions(cfg));
  }

  /** A client whose channel follows `channel` and whose token requests follow `oauth` (the same config unless a test splits them). */
  function client(channel: TransportSecurityConfig, oauth: TransportSecurityConfig = channel, options: grpc.ClientOptions = {}): EchoClientInstance {
    const created = new EchoClient(server.address, createChannelCredentials(channel), {
      ...options,
      interceptors: [createAuthInterceptor(authenticator(oauth))],
    });
    clients.push(created);
    return created;
  }

  test('caCertFilePath: gRPC and token requests both trust the CA', async () => {
    const before = idp.tokenRequestCount;
    const calls = server.calls.length;
    const reply = await unary(client({ caCertFilePath: pki.caCertPath }), { text: 'tls' });
    assert.equal(reply.text, 'ok:tls');
    assert.equal(reply.subject, BASIC_CLIENT.clientId);
    assert.equal(idp.tokenRequestCount - before, 1);
    assert.equal(server.calls.length - calls, 1);
  });

  test('insecureSkipVerify: both sides connect without verification', async () => {
    const reply = await unary(client({ insecureSkipVerify: true }), { text: 'skip' });
    assert.equal(reply.text, 'ok:skip');
  });

  test('insecureSkipVerify skips the host name check too; with the CA the wrong name fails', async () => {
    const wrongName = { 'grpc.ssl_target_name_override': 'not-the-server.example' };
    assert.equal((await unary(client({ insecureSkipVerify: true }, { insecureSkipVerify: true }, wrongName), { text: 'n' })).text, 'ok:n');
    const error = (await failure(unary(client({ caCertFilePath: pki.caCertPath }, { caCertFilePath: pki.caCertPath }, wrongName), {}))) as grpc.ServiceError;
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.match(error.details, /ERR_TLS_CERT_ALTNAME_INVALID.*Host: not-the-server\.example/);
  });

  test('wrong CA, gRPC side: UNAVAILABLE naming the certificate problem', async () => {
    const calls = server.calls.length;
    const error = (await failure(unary(client({ caCertFilePath: pki.otherCaCertPath }, { caCertFilePath: pki.caCertPath }), {}))) as grpc.ServiceError;
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.match(error.details, /unable to verify the first certificate/);
    assert.equal(server.calls.length, calls);
  });

  test('wrong CA, OAuth side: ERR_IDP_UNREACHABLE naming the token endpoint and the TLS reason, not retried', async () => {
    const connections = idp.connectionCount;
    const wrongCa = new ClientCredentialsAuthenticator({ ...authenticatorOptions({ caCertFilePath: pki.otherCaCertPath }), retry: { retries: 3, minTimeoutMs: 5 } });
    const error = await failure(wrongCa.refreshCredentials());
    assert.equal(idp.connectionCount - connections, 1, 'a certificate failure is final: one attempt');
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_IDP_UNREACHABLE');
    assert.equal(error.endpoint, idp.tokenEndpoint);
    assert.equal(
      error.message,
      `token endpoint ${idp.tokenEndpoint} is unreachable: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate`,
    );
  });

  test('wrong CA on both: the call fails UNAVAILABLE with the token endpoint reason, nothing reaches the server', async () => {
    const calls = server.calls.length;
    const error = (await failure(unary(client({ caCertFilePath: pki.otherCaCertPath }), {}))) as grpc.ServiceError;
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.equal(
      error.details,
      `failed to obtain access token: token endpoint ${idp.tokenEndpoint} is unreachable: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate`,
    );
    assert.equal(server.calls.length, calls);
  });

  test('no CA configured: the system roots do not know the test CA, on either side', async () => {
    const grpcError = (await failure(unary(client({}, { caCertFilePath: pki.caCertPath }), {}))) as grpc.ServiceError;
    assert.equal(grpcError.code, grpc.status.UNAVAILABLE);
    const oauthError = await failure(authenticator({}).refreshCredentials());
    assert.ok(oauthError instanceof AuthenticationError);
    assert.equal(oauthError.code, 'ERR_IDP_UNREACHABLE');
  });

  test('httpProxyUrl: token requests tunnel through the proxy, with the same TLS policy inside the tunnel', async () => {
    const proxy = await startConnectProxy();
    try {
      const idpPort = new URL(idp.issuer).port;
      const reply = await unary(client({ caCertFilePath: pki.caCertPath, httpProxyUrl: proxy.url }), { text: 'proxied' });
      assert.equal(reply.text, 'ok:proxied');
      assert.deepEqual(proxy.tunnels, [`127.0.0.1:${idpPort}`], 'one tunnel, to the identity provider only (gRPC does not use it)');
      const error = await failure(authenticator({ caCertFilePath: pki.otherCaCertPath, httpProxyUrl: proxy.url }).refreshCredentials());
      assert.ok(error instanceof AuthenticationError);
      assert.equal(error.code, 'ERR_IDP_UNREACHABLE');
      assert.match(error.message, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      assert.equal(proxy.tunnels.length, 2);
    } finally {
      await proxy.close();
    }
  });

  test('a flytectl config.yaml drives both sides: PlatformConfig fits TransportSecurityConfig', async () => {
    const proxy = await startConnectProxy();
    try {
      const file = join(pki.dir, 'config.yaml');
      writeFileSync(
        file,
        `admin:\n  endpoint: dns:///${server.address}\n  caCertFilePath: ${pki.caCertPath}\n  httpProxyURL: ${proxy.url}\n`,
      );
      const cfg = await loadPlatformConfig({ configFile: file, env: {} });
      assert.deepEqual(oauthHttpOptions(cfg), { verify: pki.caCertPath, httpProxyUrl: proxy.url });
      const echo = new EchoClient(cfg.endpoint, createChannelCredentials(cfg), {
        interceptors: [createAuthInterceptor(authenticator(cfg))],
      });
      clients.push(echo);
      assert.equal((await unary(echo, { text: 'yaml' })).text, 'ok:yaml');
      assert.equal(proxy.tunnels.length, 1);
    } finally {
      await proxy.close();
    }
  });

  test('an unusable CA file is a configuration error naming the file, on both sides', () => {
    const missing = join(pki.dir, 'missing.pem');
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'this is not a certificate\n');
    const broken = join(pki.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n');
    const cases: Array<[string, RegExp]> = [
      [missing, new RegExp(`^CA certificate file ${missing} cannot be read: ENOENT`)],
      [garbage, new RegExp(`^CA certificate file ${garbage} holds no PEM certificate`)],
      [broken, new RegExp(`^CA certificate file ${broken} holds a certificate that cannot be parsed \\(certificate 1 of 1\\)$`)],
    ];
    for (const [path, message] of cases) {
      const check = (error: unknown): boolean => {
        assert.ok(error instanceof AuthenticationError);
        assert.equal(error.code, 'ERR_CONFIG');
        assert.equal(error.endpoint, path);
        assert.match(error.message, message);
        return true;
      };
      assert.throws(() => createChannelCredentials({ caCertFilePath: path }), check);
      assert.throws(() => authenticator({ caCertFilePath: path }), check);
    }
  });
});

describe('insecure: plaintext gRPC, and auth still works', () => {
  test('an interceptor, not call credentials: a token reaches a plaintext server', async () => {
    const idp = await startIdentityProvider();
    const server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
    // insecure wins: the CA path is never read and skip-verify does not matter.
    const cfg: TransportSecurityConfig = { insecure: true, insecureSkipVerify: true, caCertFilePath: '/nonexistent/ca.pem' };
    const admin = new ClientCredentialsAuthenticator({
      endpoint: server.address,
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
      ...oauthHttpOptions({ insecure: true }),
    });
    const client = new EchoClient(server.address, createChannelCredentials(cfg), { interceptors: [createAuthInterceptor(admin)] });
    try {
      const reply = await unary(client, { text: 'plain' });
      assert.equal(reply.subject, BASIC_CLIENT.clientId);
      assert.match(server.calls.at(-1)?.headerValues[0] ?? '', /^Bearer ey/);
    } finally {
      client.close();
      await server.close();
      await idp.close();
    }
  });
});
