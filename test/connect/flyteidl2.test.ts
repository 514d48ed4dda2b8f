import type { DescMessage, DescService } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthMetadataService as OurAuthMetadataService } from '../../src/connect/flyte/gen/flyteidl2/auth/auth_service_pb.js';
import { IdentityService as OurIdentityService } from '../../src/connect/flyte/gen/flyteidl2/auth/identity_pb.js';
import { startConnectServer, type TestConnectServer } from '../support/connect-server.js';
import { flyteidl2Auth, flyteidl2Identity } from '../support/flyteidl2.js';
import { API_AUDIENCE, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';

/** What travels on the wire of a message: its name and, per field, name, number, kind and scalar or message type. */
function wireShape(message: DescMessage): unknown {
  return {
    typeName: message.typeName,
    fields: message.fields.map((field) => ({
      name: field.name,
      number: field.number,
      kind: field.fieldKind,
      type: field.fieldKind === 'scalar' || field.fieldKind === 'list' ? field.scalar ?? field.message?.typeName : field.message?.typeName,
    })),
  };
}

function serviceShape(service: DescService): unknown {
  return {
    typeName: service.typeName,
    methods: service.methods.map((method) => ({
      name: method.name,
      kind: method.methodKind,
      idempotency: method.idempotency,
      input: wireShape(method.input),
      output: wireShape(method.output),
    })),
  };
}

describe('@flyteorg/flyteidl2 (the official Flyte 2 clients)', () => {
  test('our generated Flyte 2 descriptors are wire-identical to the official ones', () => {
    assert.deepEqual(serviceShape(OurAuthMetadataService), serviceShape(flyteidl2Auth.AuthMetadataService));
    assert.deepEqual(serviceShape(OurIdentityService), serviceShape(flyteidl2Identity.IdentityService));
    // The official modules really are the package's, not ours.
    assert.notEqual(flyteidl2Auth.AuthMetadataService, OurAuthMetadataService);
  });

  describe('its AuthMetadataService client, anonymous, against a Connect server', () => {
    let idp: TestIdentityProvider;
    let server: TestConnectServer;
    before(async () => {
      idp = await startIdentityProvider();
      server = await startConnectServer({ idp, audience: API_AUDIENCE, publicClientConfig: { dataplaneDomain: 'data.example' } });
    });
    after(async () => {
      await server.close();
      await idp.close();
    });

    for (const [protocol, transport] of [
      ['Connect', () => createConnectTransport({ baseUrl: server.baseUrl, httpVersion: '2' })],
      ['gRPC', () => createGrpcTransport({ baseUrl: server.baseUrl })],
    ] as const) {
      test(`${protocol} protocol: GetPublicClientConfig and GetOAuth2Metadata answer without a token`, async () => {
        const client = createClient(flyteidl2Auth.AuthMetadataService, transport());
        const [config, metadata] = await Promise.all([client.getPublicClientConfig({}), client.getOAuth2Metadata({})]);
        assert.equal(config.clientId, 'flytectl');
        assert.equal(config.authorizationMetadataKey, 'flyte-authorization');
        assert.equal(config.dataplaneDomain, 'data.example');
        assert.equal(metadata.tokenEndpoint, idp.tokenEndpoint);
      });
    }
  });
});
