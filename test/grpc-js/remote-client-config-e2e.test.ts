import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AuthenticationError, ClientCredentialsAuthenticator, createAuthInterceptor, RemoteClientConfigStore } from '../../src/index.js';
import { identityServiceDefinition, type UserInfoResponse } from '../../src/grpc-js/flyte/flyte-protos.js';
import { fromProtoStruct } from '../../src/grpc-js/flyte/protobuf-struct.js';
import { EchoClient, serverStream, unary } from '../support/echo-service.js';
import { startFlyteServer } from '../support/flyte-server.js';
import { serverCredentials, startFlyteServices } from '../support/flyte-services.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider } from '../support/identity-provider.js';
import { createTestPki } from '../support/tls.js';

function userInfo(address: string, credentials: grpc.ChannelCredentials, interceptors: grpc.Interceptor[]): Promise<UserInfoResponse> {
  const method = identityServiceDefinition().UserInfo;
  const client = new grpc.Client(address, credentials, { interceptors });
  return new Promise<UserInfoResponse>((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, {}, (error, reply) => {
      client.close();
      if (error || !reply) reject(error ?? new Error('no reply'));
      else resolve(reply);
    });
  });
}

test('client credentials with a RemoteClientConfigStore authenticate echo calls under the server-published flyte-authorization key', async () => {
  const { idp, services, server, close } = await startFlyteServer({ publicClientConfig: { authorizationMetadataKey: 'flyte-authorization' } });
  const credentials = grpc.credentials.createInsecure();
  const store = new RemoteClientConfigStore({ endpoint: server.address, channelCredentials: credentials });
  const authenticator = new ClientCredentialsAuthenticator({ endpoint: server.address, ...BASIC_CLIENT, cfgStore: store });
  const interceptor = createAuthInterceptor(authenticator);
  const client = new EchoClient(server.address, credentials, { interceptors: [interceptor] });
  try {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => unary(client, { text: `m${i}` })));
    assert.deepEqual(
      replies.map((reply) => reply.text),
      Array.from({ length: 10 }, (_, i) => `ok:m${i}`),
    );
    assert.equal((await serverStream(client, { text: 's', count: 2 })).length, 2);

    assert.equal(server.calls.length, 11);
    for (const call of server.calls) {
      assert.equal(call.outcome, 'ok');
      assert.equal(call.headerValues.length, 1);
      assert.deepEqual(call.metadata.get('authorization'), [], 'the token travels only under the server-published key');
    }
    // One discovery, one token, for eleven calls.
    assert.deepEqual(services.calls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 0 });
    assert.equal(idp.tokenRequests.get('client_credentials'), 1);
    assert.equal(idp.tokenRequestLog[0]?.body.get('scope'), 'api:read', 'the server-published scopes are requested');

    // The discovery calls were anonymous.
    for (const { rpc, metadata } of services.received) {
      assert.deepEqual(metadata.get('flyte-authorization'), [], rpc);
      assert.deepEqual(metadata.get('authorization'), [], rpc);
    }

    // IdentityService.UserInfo with the same interceptor.
    const me = await userInfo(server.address, credentials, [interceptor]);
    assert.equal(me.subject, BASIC_CLIENT.clientId);
    assert.equal(fromProtoStruct(me.additionalClaims).client_id, BASIC_CLIENT.clientId);
    assert.equal(services.calls.UserInfo, 1);
    // Anonymous UserInfo is refused.
    await assert.rejects(userInfo(server.address, credentials, []), (error: grpc.ServiceError) => error.code === grpc.status.UNAUTHENTICATED);
  } finally {
    client.close();
    await close();
  }
});

test('a failed discovery fails the call (UNAVAILABLE, naming the endpoint) and the next call discovers again', async () => {
  const { idp, services, server, close } = await startFlyteServer();
  const credentials = grpc.credentials.createInsecure();
  const store = new RemoteClientConfigStore({ endpoint: server.address, channelCredentials: credentials });
  const authenticator = new ClientCredentialsAuthenticator({ endpoint: server.address, ...BASIC_CLIENT, cfgStore: store });
  const client = new EchoClient(server.address, credentials, { interceptors: [createAuthInterceptor(authenticator)] });
  try {
    services.failNext(grpc.status.UNAVAILABLE, 1);
    await assert.rejects(unary(client, { text: 'a' }), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.ok(error.details.includes(server.address), error.details);
      return true;
    });
    assert.equal(server.calls.length, 0);
    assert.equal(idp.tokenRequestCount, 0);

    assert.equal((await unary(client, { text: 'b' })).text, 'ok:b');
    assert.deepEqual(services.calls, { GetOAuth2Metadata: 2, GetPublicClientConfig: 2, UserInfo: 0 });
    assert.equal(idp.tokenRequestCount, 1);
  } finally {
    client.close();
    await close();
  }
});

test('over TLS: the test CA works; the wrong CA gets a clear TLS error; skip-verify works', async () => {
  const pki = createTestPki();
  const idp = await startIdentityProvider();
  const services = await startFlyteServices({ idp, audience: API_AUDIENCE, credentials: serverCredentials(pki) });
  try {
    const good = new RemoteClientConfigStore({ endpoint: services.address, channelCredentials: grpc.credentials.createSsl(pki.caCert) });
    assert.equal((await good.getClientConfig()).tokenEndpoint, idp.tokenEndpoint);

    const wrongCa = new RemoteClientConfigStore({
      endpoint: services.address,
      channelCredentials: grpc.credentials.createSsl(readFileSync(pki.otherCaCertPath)),
    });
    let caught: unknown;
    await assert.rejects(wrongCa.getClientConfig(), (error: unknown) => {
      caught = error;
      return true;
    });
    assert.ok(caught instanceof AuthenticationError);
    assert.equal(caught.code, 'ERR_IDP_UNREACHABLE');
    assert.ok(caught.message.includes(services.address), caught.message);
    assert.match(caught.message, /TLS failed: check the CA certificate/);

    const plaintext = new RemoteClientConfigStore({ endpoint: services.address, channelCredentials: grpc.credentials.createInsecure() });
    await assert.rejects(plaintext.getClientConfig(), (error: unknown) => error instanceof AuthenticationError && /insecure/.test(error.message));

    const skipVerify = new RemoteClientConfigStore({
      endpoint: services.address,
      channelCredentials: grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }),
    });
    assert.equal((await skipVerify.getClientConfig()).tokenEndpoint, idp.tokenEndpoint);
    assert.deepEqual(services.calls, { GetOAuth2Metadata: 2, GetPublicClientConfig: 2, UserInfo: 0 });
  } finally {
    await services.close();
    await idp.close();
    pki.cleanup();
  }
});

test('end to end over TLS: discovery and echo calls on a TLS gRPC server trusted through the test CA', async () => {
  const pki = createTestPki();
  // Plain HTTP identity provider: the test server's JWKS fetch (jose) cannot be told about the test CA.
  const { idp, services, server, close } = await startFlyteServer({ credentials: serverCredentials(pki) });
  const credentials = grpc.credentials.createSsl(pki.caCert);
  const store = new RemoteClientConfigStore({ endpoint: server.address, channelCredentials: credentials });
  const authenticator = new ClientCredentialsAuthenticator({ endpoint: server.address, ...BASIC_CLIENT, cfgStore: store });
  const client = new EchoClient(server.address, credentials, { interceptors: [createAuthInterceptor(authenticator)] });
  try {
    const reply = await unary(client, { text: 'tls' });
    assert.equal(reply.text, 'ok:tls');
    assert.deepEqual(server.calls[0]?.headerValues.length, 1);
    assert.deepEqual(services.calls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 0 });
    assert.equal(idp.tokenRequestCount, 1);
  } finally {
    client.close();
    await close();
    pki.cleanup();
  }
});
