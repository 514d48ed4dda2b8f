// From a flytectl config.yaml to authenticated stubs in two lines: the AUTH_MODE switch, the server's
// AuthMetadataService, TLS and proxy settings all come from the config.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticatedClientOptions, createChannelCredentials, loadPlatformConfig } from '../src/index.js';
import { EchoClient, unary } from '../test/support/echo-service.js';
import { BASIC_CLIENT, startLocalFlyte } from './local-servers.js';

const flyte = await startLocalFlyte();
// The config file a Flyte user already has (here written to a temporary folder, pointing at the local stand-ins).
const dir = mkdtempSync(join(tmpdir(), 'flyte-config-example-'));
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
const admin = new EchoClient(cfg.endpoint, createChannelCredentials(cfg), authenticatedClientOptions(cfg, { 'grpc.keepalive_time_ms': 30_000 }));
const data = new EchoClient(cfg.endpoint, createChannelCredentials(cfg), authenticatedClientOptions(cfg));

const replies = await Promise.all([unary(admin, { text: 'admin' }), unary(data, { text: 'data' })]);
console.log(replies.map((reply) => `${reply.text} as ${reply.subject}`).join(' | '));
console.log(`token requests: ${flyte.tokenRequestCount()} (both stubs share one token)`);

admin.close();
data.close();
rmSync(dir, { recursive: true, force: true });
await flyte.close();
