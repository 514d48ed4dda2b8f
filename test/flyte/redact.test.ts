import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthType, redactPlatformConfig, type PlatformConfig } from '../../src/index.js';

const SECRET = 'Sup3r-s3cret-value';

function config(extra: Partial<PlatformConfig> = {}): PlatformConfig {
  return {
    endpoint: 'flyte.example.com:443',
    insecure: false,
    insecureSkipVerify: false,
    authMode: AuthType.CLIENTSECRET,
    scopes: ['all'],
    useAudienceFromAdmin: false,
    disableKeyring: false,
    pkceConfig: { timeoutMs: 120_000 },
    deviceFlowConfig: { timeoutMs: 600_000, pollIntervalMs: 5_000 },
    maxRetries: 4,
    perRetryTimeoutMs: 15_000,
    ...extra,
  };
}

test('the client secret is replaced, everything else kept, the original untouched', () => {
  const original = config({
    clientId: 'svc',
    clientCredentialsSecret: SECRET,
    clientSecretLocation: '/etc/secrets/client_secret',
    clientSecretEnvVar: 'MY_SECRET',
    command: ['print-token'],
  });
  const redacted = redactPlatformConfig(original);
  assert.deepEqual(redacted, { ...original, clientCredentialsSecret: '<redacted>' });
  assert.equal(original.clientCredentialsSecret, SECRET);
  assert.ok(!JSON.stringify(redacted).includes(SECRET));
});

test('the copy is deep: changing it does not change the original', () => {
  const original = config({ command: ['a'], proxyCommand: ['b'] });
  const redacted = redactPlatformConfig(original);
  redacted.scopes.push('x');
  redacted.command?.push('x');
  redacted.proxyCommand?.push('x');
  redacted.pkceConfig.timeoutMs = 1;
  redacted.deviceFlowConfig.pollIntervalMs = 1;
  assert.deepEqual(original, config({ command: ['a'], proxyCommand: ['b'] }));
});

test('no secret: no secret field appears', () => {
  const redacted = redactPlatformConfig(config());
  assert.ok(!('clientCredentialsSecret' in redacted));
  assert.deepEqual(redacted, config());
});

test('a password in httpProxyUrl is redacted, the rest of the URL kept', () => {
  const table: ReadonlyArray<[string, string]> = [
    [`http://user:${SECRET}@proxy.example.com:3128`, 'http://user:<redacted>@proxy.example.com:3128'],
    [`http://user:${SECRET}@proxy.example.com:3128/`, 'http://user:<redacted>@proxy.example.com:3128/'],
    [`http://user:p@ss:w@rd@proxy:3128`, 'http://user:<redacted>@proxy:3128'],
    [`http://:${SECRET}@proxy:3128`, 'http://:<redacted>@proxy:3128'],
    ['http://user@proxy.example.com:3128', 'http://user@proxy.example.com:3128'],
    ['http://proxy.example.com:3128', 'http://proxy.example.com:3128'],
    ['proxy.example.com:3128', 'proxy.example.com:3128'],
  ];
  for (const [url, expected] of table) {
    assert.equal(redactPlatformConfig(config({ httpProxyUrl: url })).httpProxyUrl, expected, url);
  }
});
