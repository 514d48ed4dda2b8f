import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { PACKAGE_ROOT } from '../support/child-process.js';
import { startConnectServer, type TestConnectServer } from '../support/connect-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { installPackedFixture, type PackedFixture } from '../support/packed-fixture.js';

// A Flyte 2 user's project: Connect and protobuf-es, no @grpc/grpc-js. The IdentityService descriptor is the one
// protoc-gen-es generated for us (a plain-Node project cannot import @flyteorg/flyteidl2's TypeScript sources).
const IDENTITY_DESC = /fileDesc\("([^"]+)"/.exec(readFileSync(`${PACKAGE_ROOT}/src/connect/flyte/gen/flyteidl2/auth/identity_pb.ts`, 'utf8'))![1]!;

const CLIENT = `
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { fileDesc, serviceDesc } from '@bufbuild/protobuf/codegenv2';
import { file_google_protobuf_struct } from '@bufbuild/protobuf/wkt';
import { createPlatformAuth, loadPlatformConfig } from 'flyte-grpc-auth/connect';
import { loadedPackages } from './loaded-packages.mjs';

const IdentityService = serviceDesc(fileDesc(process.env.IDENTITY_DESC, [file_google_protobuf_struct]), 0);
const cfg = await loadPlatformConfig({ configFile: process.env.FLYTE_CONFIG });
const baseUrl = process.env.BASE_URL;
const auth = createPlatformAuth(cfg, { transport: createConnectTransport({ baseUrl, httpVersion: '2' }) });
const identity = createClient(IdentityService, createConnectTransport({ baseUrl, httpVersion: '2', interceptors: auth.interceptors }));
const info = await identity.userInfo({});
console.log(JSON.stringify({ subject: info.subject, loaded: loadedPackages() }));
`;

let idp: TestIdentityProvider;
let server: TestConnectServer;
let fixture: PackedFixture;

before(async () => {
  idp = await startIdentityProvider();
  server = await startConnectServer({ idp, audience: API_AUDIENCE, headerKey: 'flyte-authorization' });
  fixture = await installPackedFixture({ dependencies: ['@connectrpc/connect', '@connectrpc/connect-node', '@bufbuild/protobuf'] });
});
after(async () => {
  fixture?.remove();
  await server?.close();
  await idp?.close();
});

test('installed from npm pack without @grpc/grpc-js: flyte-grpc-auth/connect loads and makes an authenticated call', { timeout: 240_000 }, async () => {
  assert.ok(!fixture.installed.includes('@grpc/grpc-js'));
  fixture.writeFile('absent.mjs', "import('@grpc/grpc-js').then(() => console.log('present'), (error) => console.log(error.code));");
  assert.equal((await fixture.run('absent.mjs')).stdout.trim(), 'ERR_MODULE_NOT_FOUND');

  const config = fixture.writeFile(
    'config.yaml',
    `admin:\n  endpoint: dns:///${new URL(server.baseUrl).host}\n  insecure: true\n  authType: ClientSecret\n  clientId: ${BASIC_CLIENT.clientId}\n  scopes: [api:read]\n`,
  );
  fixture.writeFile('client.mjs', CLIENT);
  const result = await fixture.run('client.mjs', {
    env: { FLYTE_CONFIG: config, BASE_URL: server.baseUrl, IDENTITY_DESC, FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret },
  });
  assert.equal(result.code, 0, result.stderr);
  const { subject, loaded } = JSON.parse(result.stdout) as { subject: string; loaded: string[] };
  assert.equal(subject, BASIC_CLIENT.clientId);
  assert.ok(loaded.includes('flyte-grpc-auth') && loaded.includes('@connectrpc/connect'), loaded.join(' '));
  for (const absent of ['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs']) assert.ok(!loaded.includes(absent), `${absent} was loaded: ${loaded.join(' ')}`);
  assert.deepEqual(server.flyteCalls, { GetOAuth2Metadata: 1, GetPublicClientConfig: 1, UserInfo: 1 });
});
