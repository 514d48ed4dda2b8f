// Flyte 2's official clients (@flyteorg/flyteidl2: protobuf-es + Connect) authenticated from a flytectl config.yaml,
// with no @grpc/grpc-js: the server's AuthMetadataService (Flyte 1's or Flyte 2's, as found) is asked over Connect
// too, and every call gets the token, refreshed and retried once if the server rejects it.
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthMetadataClientConfigStore, createPlatformAuth, loadPlatformConfig } from '../src/connect.js';
// In your project: import { IdentityService } from '@flyteorg/flyteidl2/flyteidl2/auth/identity_pb.js';
import { flyteidl2Identity } from '../test/support/flyteidl2.js';
import { BASIC_CLIENT, startLocalFlyte2 } from './local-flyte2.js';

const { IdentityService } = flyteidl2Identity;
const flyte = await startLocalFlyte2();
// The config file a Flyte user already has (here written to a temporary folder, pointing at the local stand-ins).
const dir = mkdtempSync(join(tmpdir(), 'connect-example-'));
writeFileSync(join(dir, 'secret'), BASIC_CLIENT.clientSecret);
writeFileSync(
  join(dir, 'config.yaml'),
  `admin:
  endpoint: dns:///${flyte.address}
  insecure: true
  authType: ClientSecret
  clientId: ${BASIC_CLIENT.clientId}
  clientSecretLocation: ${join(dir, 'secret')}
`,
);

const cfg = await loadPlatformConfig({ configFile: join(dir, 'config.yaml') });
const baseUrl = `${cfg.insecure ? 'http' : 'https'}://${cfg.endpoint}`;
// One transport without auth for the anonymous AuthMetadataService, one with the interceptors for everything else.
const auth = createPlatformAuth(cfg, { transport: createConnectTransport({ baseUrl, httpVersion: '2' }) });
const transport = createConnectTransport({ baseUrl, httpVersion: '2', interceptors: auth.interceptors });

const identity = createClient(IdentityService, transport);
const me = await identity.userInfo({});
console.log(`${me.subject} (asked ${(auth.clientConfigStore as AuthMetadataClientConfigStore).serviceName})`);

rmSync(dir, { recursive: true, force: true });
await flyte.close();
