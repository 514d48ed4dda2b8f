import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { relative } from 'node:path';
import { inspect } from 'node:util';
import { stringify } from 'yaml';
import { AuthenticationError, AuthType, loadPlatformConfig, type PlatformConfig } from '../../src/index.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

let tmp: TempDir;
/** A home without `.flyte/`: every test passes it, so the real `~/.flyte/config.yaml` is never read. */
let emptyHome: string;

before(() => {
  tmp = createTempDir('fga-config-');
  emptyHome = tmp.mkdir('empty-home');
  tmp.write('secrets/yaml-secret', 'from-yaml-location\n');
  tmp.write('secrets/env-secret', 'from-env-location\n');
});
after(() => tmp.cleanup());

let fileCounter = 0;
function writeYaml(content: string | object): string {
  fileCounter += 1;
  return tmp.write(`configs/config-${fileCounter}.yaml`, typeof content === 'string' ? content : stringify(content));
}

/** `{ admin: { pkceConfig: { timeout: v } } }` from `admin.pkceConfig.timeout` and `v`. */
function nested(keyPath: string, value: unknown): object {
  return keyPath
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as object;
}

async function loadError(options: Parameters<typeof loadPlatformConfig>[0]): Promise<AuthenticationError> {
  try {
    await loadPlatformConfig(options);
  } catch (error) {
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.code, 'ERR_CONFIG');
    return error;
  }
  assert.fail('loadPlatformConfig did not throw');
}

const DEFAULTS: PlatformConfig = {
  endpoint: 'localhost:30080',
  insecure: false,
  insecureSkipVerify: false,
  authMode: AuthType.STANDARD,
  scopes: [],
  useAudienceFromAdmin: false,
  disableKeyring: false,
  pkceConfig: { timeoutMs: 120_000 },
  deviceFlowConfig: { timeoutMs: 600_000, pollIntervalMs: 5_000 },
  maxRetries: 4,
  perRetryTimeoutMs: 15_000,
};

test('no config file and no variables: the defaults', async () => {
  assert.deepEqual(await loadPlatformConfig({ env: { HOME: emptyHome } }), DEFAULTS);
});

interface KeyRow {
  /** Reads the field under test from the loaded config. */
  get: (cfg: PlatformConfig) => unknown;
  yamlKey: string;
  yamlValue: unknown;
  fromYaml: unknown;
  env: string;
  envValue: string;
  fromEnv: unknown;
  byDefault: unknown;
}

const DIR = '<dir>';

const KEYS: readonly KeyRow[] = [
  { get: (c) => c.endpoint, yamlKey: 'admin.endpoint', yamlValue: 'yaml.example.com:443', fromYaml: 'yaml.example.com:443', env: 'FLYTE_PLATFORM_URL', envValue: 'env.example.com:8089', fromEnv: 'env.example.com:8089', byDefault: 'localhost:30080' },
  { get: (c) => c.insecure, yamlKey: 'admin.insecure', yamlValue: true, fromYaml: true, env: 'FLYTE_PLATFORM_INSECURE', envValue: 'false', fromEnv: false, byDefault: false },
  { get: (c) => c.insecureSkipVerify, yamlKey: 'admin.insecureSkipVerify', yamlValue: true, fromYaml: true, env: 'FLYTE_PLATFORM_INSECURE_SKIP_VERIFY', envValue: 'off', fromEnv: false, byDefault: false },
  { get: (c) => c.caCertFilePath, yamlKey: 'admin.caCertFilePath', yamlValue: '/yaml/ca.pem', fromYaml: '/yaml/ca.pem', env: 'FLYTE_PLATFORM_CA_CERT_FILE_PATH', envValue: '/env/ca.pem', fromEnv: '/env/ca.pem', byDefault: undefined },
  { get: (c) => c.consoleEndpoint, yamlKey: 'console.endpoint', yamlValue: 'https://console.yaml', fromYaml: 'https://console.yaml', env: 'FLYTE_PLATFORM_CONSOLE_ENDPOINT', envValue: 'https://console.env', fromEnv: 'https://console.env', byDefault: undefined },
  { get: (c) => c.httpProxyUrl, yamlKey: 'admin.httpProxyURL', yamlValue: 'http://proxy.yaml:3128', fromYaml: 'http://proxy.yaml:3128', env: 'FLYTE_PLATFORM_HTTP_PROXY_URL', envValue: 'http://proxy.env:3128', fromEnv: 'http://proxy.env:3128', byDefault: undefined },
  { get: (c) => c.authMode, yamlKey: 'admin.authType', yamlValue: 'DeviceFlow', fromYaml: AuthType.DEVICEFLOW, env: 'FLYTE_CREDENTIALS_AUTH_MODE', envValue: 'externalcommand', fromEnv: AuthType.EXTERNALCOMMAND, byDefault: AuthType.STANDARD },
  { get: (c) => c.clientId, yamlKey: 'admin.clientId', yamlValue: 'yaml-client', fromYaml: 'yaml-client', env: 'FLYTE_CREDENTIALS_CLIENT_ID', envValue: 'env-client', fromEnv: 'env-client', byDefault: undefined },
  { get: (c) => c.scopes, yamlKey: 'admin.scopes', yamlValue: ['openid', 'offline'], fromYaml: ['openid', 'offline'], env: 'FLYTE_CREDENTIALS_SCOPES', envValue: 'all, read', fromEnv: ['all', 'read'], byDefault: [] },
  { get: (c) => c.audience, yamlKey: 'admin.audience', yamlValue: 'yaml-audience', fromYaml: 'yaml-audience', env: 'FLYTE_CREDENTIALS_AUDIENCE', envValue: 'env-audience', fromEnv: 'env-audience', byDefault: undefined },
  { get: (c) => c.command, yamlKey: 'admin.command', yamlValue: ['gcloud', 'auth', 'print-identity-token'], fromYaml: ['gcloud', 'auth', 'print-identity-token'], env: 'FLYTE_CREDENTIALS_COMMAND', envValue: 'my-token,--for,flyte', fromEnv: ['my-token', '--for', 'flyte'], byDefault: undefined },
  { get: (c) => c.proxyCommand, yamlKey: 'admin.proxyCommand', yamlValue: ['flyte-iap', 'generate-user-id-token'], fromYaml: ['flyte-iap', 'generate-user-id-token'], env: 'FLYTE_CREDENTIALS_PROXY_COMMAND', envValue: 'proxy-token', fromEnv: ['proxy-token'], byDefault: undefined },
  { get: (c) => c.clientSecretLocation, yamlKey: 'admin.clientSecretLocation', yamlValue: `${DIR}/secrets/yaml-secret`, fromYaml: `${DIR}/secrets/yaml-secret`, env: 'FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION', envValue: `${DIR}/secrets/env-secret`, fromEnv: `${DIR}/secrets/env-secret`, byDefault: undefined },
  { get: (c) => c.clientSecretEnvVar, yamlKey: 'admin.clientSecretEnvVar', yamlValue: 'YAML_NAMED_VAR', fromYaml: 'YAML_NAMED_VAR', env: 'FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR', envValue: 'ENV_NAMED_VAR', fromEnv: 'ENV_NAMED_VAR', byDefault: undefined },
  { get: (c) => c.authorizationHeader, yamlKey: 'admin.authorizationHeader', yamlValue: 'flyte-authorization', fromYaml: 'flyte-authorization', env: 'FLYTE_ADMIN_AUTHORIZATIONHEADER', envValue: 'x-token', fromEnv: 'x-token', byDefault: undefined },
  { get: (c) => c.tokenUrl, yamlKey: 'admin.tokenUrl', yamlValue: 'https://idp.yaml/token', fromYaml: 'https://idp.yaml/token', env: 'FLYTE_ADMIN_TOKENURL', envValue: 'https://idp.env/token', fromEnv: 'https://idp.env/token', byDefault: undefined },
  { get: (c) => c.authMetadataService, yamlKey: 'admin.authMetadataService', yamlValue: 'flyteidl2.auth.AuthMetadataService', fromYaml: 'flyteidl2.auth.AuthMetadataService', env: 'FLYTE_ADMIN_AUTHMETADATASERVICE', envValue: ' flyteidl.service.AuthMetadataService ', fromEnv: 'flyteidl.service.AuthMetadataService', byDefault: undefined },
  { get: (c) => c.useAudienceFromAdmin, yamlKey: 'admin.useAudienceFromAdmin', yamlValue: true, fromYaml: true, env: 'FLYTE_ADMIN_USEAUDIENCEFROMADMIN', envValue: '0', fromEnv: false, byDefault: false },
  { get: (c) => c.disableKeyring, yamlKey: 'admin.disableKeyring', yamlValue: 'yes', fromYaml: true, env: 'FLYTE_ADMIN_DISABLEKEYRING', envValue: 'NO', fromEnv: false, byDefault: false },
  { get: (c) => c.pkceConfig.timeoutMs, yamlKey: 'admin.pkceConfig.timeout', yamlValue: '30s', fromYaml: 30_000, env: 'FLYTE_ADMIN_PKCECONFIG_TIMEOUT', envValue: '1m', fromEnv: 60_000, byDefault: 120_000 },
  { get: (c) => c.pkceConfig.refreshTimeMs, yamlKey: 'admin.pkceConfig.refreshTime', yamlValue: '1m0s', fromYaml: 60_000, env: 'FLYTE_ADMIN_PKCECONFIG_REFRESHTIME', envValue: '90s', fromEnv: 90_000, byDefault: undefined },
  { get: (c) => c.deviceFlowConfig.timeoutMs, yamlKey: 'admin.deviceFlowConfig.timeout', yamlValue: '5m', fromYaml: 300_000, env: 'FLYTE_ADMIN_DEVICEFLOWCONFIG_TIMEOUT', envValue: '20m', fromEnv: 1_200_000, byDefault: 600_000 },
  { get: (c) => c.deviceFlowConfig.pollIntervalMs, yamlKey: 'admin.deviceFlowConfig.pollInterval', yamlValue: 3_000_000_000, fromYaml: 3_000, env: 'FLYTE_ADMIN_DEVICEFLOWCONFIG_POLLINTERVAL', envValue: '250ms', fromEnv: 250, byDefault: 5_000 },
  { get: (c) => c.deviceFlowConfig.refreshTimeMs, yamlKey: 'admin.deviceFlowConfig.refreshTime', yamlValue: '2m', fromYaml: 120_000, env: 'FLYTE_ADMIN_DEVICEFLOWCONFIG_REFRESHTIME', envValue: '0s', fromEnv: 0, byDefault: undefined },
  { get: (c) => c.maxRetries, yamlKey: 'admin.maxRetries', yamlValue: 7, fromYaml: 7, env: 'FLYTE_ADMIN_MAXRETRIES', envValue: '0', fromEnv: 0, byDefault: 4 },
  { get: (c) => c.perRetryTimeoutMs, yamlKey: 'admin.perRetryTimeout', yamlValue: '1h30m', fromYaml: 5_400_000, env: 'FLYTE_ADMIN_PERRETRYTIMEOUT', envValue: '20000000000', fromEnv: 20_000, byDefault: 15_000 },
];

function withDir(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(DIR, tmp.dir);
  return value;
}

for (const row of KEYS) {
  test(`${row.yamlKey} / ${row.env}: YAML, env, env over YAML, default`, async () => {
    const file = writeYaml(nested(row.yamlKey, withDir(row.yamlValue)));
    const otherKey = writeYaml({ admin: { someUnknownKey: 'x' }, logger: { level: 6 } });
    const env = { HOME: emptyHome, [row.env]: String(withDir(row.envValue)) };

    const fromYaml = await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } });
    assert.deepEqual(row.get(fromYaml), withDir(row.fromYaml), 'from YAML');
    assert.equal(fromYaml.source, file);

    assert.deepEqual(row.get(await loadPlatformConfig({ env })), withDir(row.fromEnv), 'from env, no file');
    assert.deepEqual(row.get(await loadPlatformConfig({ configFile: file, env })), withDir(row.fromEnv), 'env over YAML');
    assert.deepEqual(row.get(await loadPlatformConfig({ configFile: otherKey, env: { HOME: emptyHome } })), row.byDefault, 'default');
  });
}

test('every PlatformConfig field is covered by the key table or the secret tests', () => {
  const all: PlatformConfig = {
    ...DEFAULTS,
    caCertFilePath: 'a', consoleEndpoint: 'a', clientId: 'a', clientCredentialsSecret: 'a', audience: 'a', command: ['a'],
    proxyCommand: ['a'], httpProxyUrl: 'a', authorizationHeader: 'a', tokenUrl: 'a', authMetadataService: 'a', clientSecretLocation: 'a',
    clientSecretEnvVar: 'a', source: 'a',
  };
  const coveredElsewhere = new Set(['clientCredentialsSecret', 'source', 'pkceConfig', 'deviceFlowConfig']);
  const tableFields = new Set(KEYS.map((row) => row.yamlKey.split('.')[1] ?? ''));
  const fieldToYamlKey: Record<string, string> = {
    consoleEndpoint: 'endpoint', authMode: 'authType', httpProxyUrl: 'httpProxyURL', perRetryTimeoutMs: 'perRetryTimeout',
  };
  for (const field of Object.keys(all)) {
    if (coveredElsewhere.has(field)) continue;
    assert.ok(tableFields.has(fieldToYamlKey[field] ?? field), `no row for ${field}`);
  }
});

test('admin.authMetadataService must be a protobuf service name: the error names the key, not a path or URL', async () => {
  for (const bad of ['/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata', 'https://flyte.example.com', 'flyte idl', '2fast.Service', 'a..b']) {
    const file = writeYaml({ admin: { authMetadataService: bad } });
    const error = await loadError({ configFile: file, env: { HOME: emptyHome } });
    assert.match(error.message, new RegExp(`${file.replaceAll('.', '\\.')}: admin\\.authMetadataService: expected a protobuf service name`), bad);
  }
});

test('a full flytectl config file', async () => {
  const file = writeYaml(`
admin:
  # flytectl config init writes dns:///
  endpoint: dns:///flyte.example.com:443
  insecure: false
  insecureSkipVerify: true
  authType: Pkce
  caCertFilePath: /etc/ssl/certs/corp-ca.pem
  clientId: flytepropeller
  scopes: [all]
  pkceConfig:
    timeout: 3m
  deviceFlowConfig:
    pollInterval: 10s
  maxBackoffDelay: 8s
  someFutureKey: { nested: [1, 2] }
console:
  endpoint: https://flyte.example.com/console
logger:
  level: 6
  show-source: true
storage:
  type: minio
`);
  assert.deepEqual(await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } }), {
    ...DEFAULTS,
    endpoint: 'flyte.example.com:443',
    insecureSkipVerify: true,
    authMode: AuthType.PKCE,
    caCertFilePath: '/etc/ssl/certs/corp-ca.pem',
    consoleEndpoint: 'https://flyte.example.com/console',
    clientId: 'flytepropeller',
    scopes: ['all'],
    pkceConfig: { timeoutMs: 180_000 },
    deviceFlowConfig: { timeoutMs: 600_000, pollIntervalMs: 10_000 },
    source: file,
  });
});

test('dns:/// is stripped from the endpoint, in YAML and env', async () => {
  const file = writeYaml({ admin: { endpoint: 'dns:///yaml.example.com' } });
  assert.equal((await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } })).endpoint, 'yaml.example.com');
  const env = { HOME: emptyHome, FLYTE_PLATFORM_URL: 'dns:///env.example.com:8089' };
  assert.equal((await loadPlatformConfig({ env })).endpoint, 'env.example.com:8089');
  const plain = { HOME: emptyHome, FLYTE_PLATFORM_URL: 'localhost:8089' };
  assert.equal((await loadPlatformConfig({ env: plain })).endpoint, 'localhost:8089');
  const error = await loadError({ configFile: writeYaml({ admin: { endpoint: 'dns:///' } }), env: { HOME: emptyHome } });
  assert.match(error.message, /: admin\.endpoint: the endpoint is empty$/);
});

test('bools from env and YAML strings, "" in env meaning false over YAML true', async () => {
  const yamlTrue = writeYaml({ admin: { insecure: true } });
  for (const text of ['false', 'FALSE', '0', 'off', 'No', '']) {
    const cfg = await loadPlatformConfig({ configFile: yamlTrue, env: { HOME: emptyHome, FLYTE_PLATFORM_INSECURE: text } });
    assert.equal(cfg.insecure, false, JSON.stringify(text));
  }
  for (const text of ['true', '1', 'yes', 'on', 'anything']) {
    const cfg = await loadPlatformConfig({ env: { HOME: emptyHome, FLYTE_PLATFORM_INSECURE: text } });
    assert.equal(cfg.insecure, true, JSON.stringify(text));
  }
  for (const [value, expected] of [['no', false], ['off', false], ['False', false], ['yes', true], ['true', true]] as const) {
    const file = writeYaml(`admin:\n  insecure: "${value}"\n`);
    assert.equal((await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } })).insecure, expected, value);
  }
});

test('an empty variable counts as unset for non-boolean keys', async () => {
  const file = writeYaml({ admin: { endpoint: 'yaml.example.com', scopes: ['a'], authType: 'DeviceFlow' } });
  const env = { HOME: emptyHome, FLYTE_PLATFORM_URL: '', FLYTE_CREDENTIALS_SCOPES: '', FLYTE_CREDENTIALS_AUTH_MODE: '' };
  const cfg = await loadPlatformConfig({ configFile: file, env });
  assert.equal(cfg.endpoint, 'yaml.example.com');
  assert.deepEqual(cfg.scopes, ['a']);
  assert.equal(cfg.authMode, AuthType.DEVICEFLOW);
});

test('YAML null, "" and [] count as unset', async () => {
  const file = writeYaml('admin:\n  endpoint: ""\n  scopes: []\n  command: []\n  clientId: ~\n  insecure:\nconsole:\n');
  assert.deepEqual(await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } }), { ...DEFAULTS, source: file });
  const emptyAdmin = writeYaml('admin:\n');
  assert.deepEqual(await loadPlatformConfig({ configFile: emptyAdmin, env: { HOME: emptyHome } }), { ...DEFAULTS, source: emptyAdmin });
  const emptyFile = writeYaml('');
  assert.deepEqual(await loadPlatformConfig({ configFile: emptyFile, env: { HOME: emptyHome } }), { ...DEFAULTS, source: emptyFile });
  const commentsOnly = writeYaml('# nothing yet\n');
  assert.deepEqual(await loadPlatformConfig({ configFile: commentsOnly, env: { HOME: emptyHome } }), { ...DEFAULTS, source: commentsOnly });
});

test('lists: YAML comma strings and number items, env comma lists', async () => {
  const file = writeYaml({ admin: { scopes: 'openid, offline', command: ['print-token', 42] } });
  const cfg = await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } });
  assert.deepEqual(cfg.scopes, ['openid', 'offline']);
  assert.deepEqual(cfg.command, ['print-token', '42']);
  const env = { HOME: emptyHome, FLYTE_CREDENTIALS_SCOPES: ' a ,b,, c', FLYTE_CREDENTIALS_PROXY_COMMAND: 'iap,--audience,x' };
  const fromEnv = await loadPlatformConfig({ env });
  assert.deepEqual(fromEnv.scopes, ['a', 'b', 'c']);
  assert.deepEqual(fromEnv.proxyCommand, ['iap', '--audience', 'x']);
});

test('durations: Go strings and nanosecond numbers in YAML, the same in env', async () => {
  const file = writeYaml(`
admin:
  perRetryTimeout: 2500000000
  pkceConfig: { timeout: "1h30m", refreshTime: "250ms" }
  deviceFlowConfig: { timeout: 5m0s, pollInterval: 1.5s, refreshTime: 0 }
`);
  const cfg = await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } });
  assert.equal(cfg.perRetryTimeoutMs, 2_500);
  assert.deepEqual(cfg.pkceConfig, { timeoutMs: 5_400_000, refreshTimeMs: 250 });
  assert.deepEqual(cfg.deviceFlowConfig, { timeoutMs: 300_000, pollIntervalMs: 1_500, refreshTimeMs: 0 });
});

test('timeouts and intervals must be greater than zero', async () => {
  for (const [key, value] of [
    ['admin.deviceFlowConfig.pollInterval', '0s'],
    ['admin.deviceFlowConfig.timeout', 0],
    ['admin.pkceConfig.timeout', '0'],
    ['admin.perRetryTimeout', '0ms'],
  ] as const) {
    const file = writeYaml(nested(key, value));
    const error = await loadError({ configFile: file, env: { HOME: emptyHome } });
    assert.equal(error.message, `Config file ${file}: ${key}: must be greater than zero`);
    assert.equal(error.endpoint, file);
  }
  const error = await loadError({ env: { HOME: emptyHome, FLYTE_ADMIN_DEVICEFLOWCONFIG_POLLINTERVAL: '0s' } });
  assert.equal(error.message, 'Environment variable FLYTE_ADMIN_DEVICEFLOWCONFIG_POLLINTERVAL: must be greater than zero');
});

test('keys match case-insensitively, as viper does; two spellings of one key are an error', async () => {
  const file = writeYaml('Admin:\n  ENDPOINT: upper.example.com\n  httpproxyurl: http://p:3128\n  PkceConfig: { Timeout: 1m }\n');
  const cfg = await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } });
  assert.equal(cfg.endpoint, 'upper.example.com');
  assert.equal(cfg.httpProxyUrl, 'http://p:3128');
  assert.equal(cfg.pkceConfig.timeoutMs, 60_000);
  const twice = writeYaml('admin:\n  endpoint: a\n  Endpoint: b\n');
  const error = await loadError({ configFile: twice, env: { HOME: emptyHome } });
  assert.equal(error.message, `Config file ${twice}: admin.endpoint: keys endpoint, Endpoint differ only in case; keep one`);
});

// --- file discovery ---

test('discovery order: configFile, then _FLYTECTL_CONFIG_PYFLYTE_OVERRIDE, then FLYTECTL_CONFIG, then ~/.flyte/config.yaml', async () => {
  const home = tmp.mkdir('home-discovery');
  const homeFile = tmp.write('home-discovery/.flyte/config.yaml', 'admin: { endpoint: home.example.com }\n');
  const flytectl = writeYaml({ admin: { endpoint: 'flytectl.example.com' } });
  const override = writeYaml({ admin: { endpoint: 'override.example.com' } });
  const explicit = writeYaml({ admin: { endpoint: 'explicit.example.com' } });
  const env = { HOME: home, FLYTECTL_CONFIG: flytectl, _FLYTECTL_CONFIG_PYFLYTE_OVERRIDE: override };

  const cases: ReadonlyArray<[string, Parameters<typeof loadPlatformConfig>[0], string, string]> = [
    ['explicit', { configFile: explicit, env }, 'explicit.example.com', explicit],
    ['override var', { env }, 'override.example.com', override],
    ['FLYTECTL_CONFIG', { env: { HOME: home, FLYTECTL_CONFIG: flytectl } }, 'flytectl.example.com', flytectl],
    ['empty override var is skipped', { env: { ...env, _FLYTECTL_CONFIG_PYFLYTE_OVERRIDE: '' } }, 'flytectl.example.com', flytectl],
    ['HOME', { env: { HOME: home } }, 'home.example.com', homeFile],
    ['empty FLYTECTL_CONFIG is skipped', { env: { HOME: home, FLYTECTL_CONFIG: '' } }, 'home.example.com', homeFile],
  ];
  for (const [name, options, endpoint, source] of cases) {
    const cfg = await loadPlatformConfig(options);
    assert.equal(cfg.endpoint, endpoint, name);
    assert.equal(cfg.source, source, name);
  }
});

test('a relative configFile is resolved against the working directory', async () => {
  const file = writeYaml({ admin: { endpoint: 'relative.example.com' } });
  const cfg = await loadPlatformConfig({ configFile: relative(process.cwd(), file), env: { HOME: emptyHome } });
  assert.equal(cfg.endpoint, 'relative.example.com');
  assert.equal(cfg.source, file);
});

test('no file anywhere: defaults and env, no source', async () => {
  const cfg = await loadPlatformConfig({ env: { HOME: emptyHome, FLYTE_PLATFORM_URL: 'env-only.example.com' } });
  assert.equal(cfg.endpoint, 'env-only.example.com');
  assert.equal(cfg.source, undefined);
  assert.ok(!('source' in cfg));
});

test('a missing explicit file is an error naming it', async () => {
  const missing = tmp.path('nope/config.yaml');
  const error = await loadError({ configFile: missing, env: { HOME: emptyHome } });
  assert.equal(error.message, `Config file ${missing} (named by the configFile option) does not exist`);
  assert.equal(error.endpoint, missing);
});

test('a missing env-pointed file is an error naming the variable and the path', async () => {
  const missing = tmp.path('gone.yaml');
  for (const name of ['_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE', 'FLYTECTL_CONFIG']) {
    const error = await loadError({ env: { HOME: emptyHome, [name]: missing } });
    assert.equal(error.message, `Config file ${missing} (named by ${name}) does not exist`);
    assert.equal(error.endpoint, missing);
  }
});

test('a config path that is a folder is an error naming it', async () => {
  const folder = tmp.mkdir('a-folder.yaml');
  const error = await loadError({ configFile: folder, env: { HOME: emptyHome } });
  assert.equal(error.message, `Config file ${folder} (named by the configFile option) cannot be read (EISDIR)`);
  const home = tmp.mkdir('home-with-folder/.flyte/config.yaml');
  const fromHome = await loadError({ env: { HOME: tmp.path('home-with-folder') } });
  assert.equal(fromHome.message, `Config file ${home} (named by the default location) cannot be read (EISDIR)`);
});

// --- malformed input ---

test('malformed YAML: an error naming the file and the line, without quoting the line', async () => {
  const cases: ReadonlyArray<[string, string, number]> = [
    ['unclosed flow list (reported at the end)', 'admin:\n  endpoint: x\n  scopes: [a, b\n', 4],
    ['unterminated quote (reported at the end)', 'admin:\n  clientSecret: "s3cr3t-value\n', 3],
    ['bad indentation (reported at the value above)', 'admin:\n  endpoint: x\n   insecure: true\n', 2],
    ['duplicate key', 'admin:\n  endpoint: a\n  endpoint: s3cr3t-value\n', 3],
    ['tab indentation', 'admin:\n\tendpoint: x\n', 2],
  ];
  for (const [name, text, line] of cases) {
    const file = writeYaml(text);
    const error = await loadError({ configFile: file, env: { HOME: emptyHome } });
    assert.ok(error.message.startsWith(`Malformed YAML in ${file} at line ${line}, column `), `${name}: ${error.message}`);
    assert.ok(!error.message.includes('\n'), name);
    assert.ok(!inspect(error).includes('s3cr3t'), name);
    assert.equal(error.endpoint, file);
  }
});

test('a top level that is not a mapping is an error', async () => {
  for (const [text, got] of [['- a\n- b\n', 'a list'], ['just text\n', 'a string'], ['42\n', 'a number']] as const) {
    const file = writeYaml(text);
    const error = await loadError({ configFile: file, env: { HOME: emptyHome } });
    assert.equal(error.message, `Config file ${file}: expected a mapping of sections (admin:, console:) at the top level, got ${got}`);
  }
});

test('wrong types: an error naming the file and the key path, never the value', async () => {
  const cases: ReadonlyArray<[string, string, string]> = [
    ['admin:\n  insecure: [1]\n', 'admin.insecure', 'expected true or false, got a list'],
    ['admin:\n  insecureSkipVerify: 1\n', 'admin.insecureSkipVerify', 'expected true or false, got a number'],
    ['admin:\n  scopes: 5\n', 'admin.scopes', 'expected a list of strings, got a number'],
    ['admin:\n  command: [a, {b: c}]\n', 'admin.command', 'item 1: expected a string, got a mapping'],
    ['admin:\n  endpoint: {host: x}\n', 'admin.endpoint', 'expected a string, got a mapping'],
    ['admin:\n  clientId: true\n', 'admin.clientId', 'expected a string, got a boolean'],
    ['admin:\n  authType: 5\n', 'admin.authType', 'expected a string, got a number'],
    ['admin:\n  maxRetries: -1\n', 'admin.maxRetries', 'expected a non-negative integer, got -1'],
    ['admin:\n  maxRetries: 1.5\n', 'admin.maxRetries', 'expected a non-negative integer, got 1.5'],
    ['admin:\n  pkceConfig:\n    timeout: true\n', 'admin.pkceConfig.timeout', "expected a duration such as '15s', '5m0s', '1h30m', '250ms', or a number of nanoseconds, got a boolean"],
    ['admin:\n  perRetryTimeout: soon\n', 'admin.perRetryTimeout', "expected a duration such as '15s', '5m0s', '1h30m', '250ms', or a number of nanoseconds, got 'soon'"],
    ['admin:\n  pkceConfig: 5\n', 'admin.pkceConfig', 'expected a mapping, got a number'],
    ['admin: 5\n', 'admin', 'expected a mapping, got a number'],
    ['admin: [endpoint]\n', 'admin', 'expected a mapping, got a list'],
    ['console: x\n', 'console', 'expected a mapping, got a string'],
    ['admin:\n  clientSecretLocation: [s3cr3t]\n', 'admin.clientSecretLocation', 'expected a string, got a list'],
  ];
  for (const [text, key, reason] of cases) {
    const file = writeYaml(text);
    const error = await loadError({ configFile: file, env: { HOME: emptyHome } });
    assert.equal(error.message, `Config file ${file}: ${key}: ${reason}`);
    assert.equal(error.endpoint, file);
    assert.ok(!inspect(error).includes('s3cr3t'));
  }
});

test('bad environment values: an error naming the variable', async () => {
  const cases: ReadonlyArray<[string, string, string]> = [
    ['FLYTE_ADMIN_MAXRETRIES', 'many', "expected a non-negative integer, got 'many'"],
    ['FLYTE_ADMIN_PERRETRYTIMEOUT', 'soon', "expected a duration such as '15s', '5m0s', '1h30m', '250ms', or a number of nanoseconds, got 'soon'"],
    ['FLYTE_PLATFORM_URL', 'dns:///', 'the endpoint is empty'],
  ];
  for (const [name, value, reason] of cases) {
    const error = await loadError({ env: { HOME: emptyHome, [name]: value } });
    assert.equal(error.message, `Environment variable ${name}: ${reason}`);
    assert.equal(error.endpoint, name);
  }
});

test('an unknown authType names the key, lists the valid values and suggests one', async () => {
  const file = writeYaml({ admin: { authType: 'ClientSecrets' } });
  const error = await loadError({ configFile: file, env: { HOME: emptyHome } });
  assert.equal(
    error.message,
    `Config file ${file}: admin.authType: Unknown authentication type 'ClientSecrets'. Valid values (any case, enum names ` +
      "work too): standard, Pkce, basic, client_credentials, ClientSecret, external_process, ExternalCommand, DeviceFlow. Did you mean 'ClientSecret'?",
  );
  const fromEnv = await loadError({ env: { HOME: emptyHome, FLYTE_CREDENTIALS_AUTH_MODE: 'pkcee' } });
  assert.match(fromEnv.message, /^Environment variable FLYTE_CREDENTIALS_AUTH_MODE: Unknown authentication type 'pkcee'\. .* Did you mean 'Pkce'\?$/);
  assert.equal(fromEnv.endpoint, 'FLYTE_CREDENTIALS_AUTH_MODE');
});

// --- client secret ---

const SECRET = 'Sup3r-s3cret-value';

test('secret from clientSecretLocation: newline stripped, authType Pkce forced to ClientSecret', async () => {
  const secretFile = tmp.write('secrets/location-1', `${SECRET}\n`);
  const file = writeYaml({ admin: { authType: 'Pkce', clientId: 'svc', clientSecretLocation: secretFile } });
  const cfg = await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome } });
  assert.equal(cfg.clientCredentialsSecret, SECRET);
  assert.equal(cfg.authMode, AuthType.CLIENTSECRET);
  assert.equal(cfg.clientSecretLocation, secretFile);
});

test('secret file: CRLF and surrounding blanks go when it ends with a newline; otherwise it is kept as is', async () => {
  const crlf = tmp.write('secrets/crlf', ` ${SECRET}\r\n`);
  const raw = tmp.write('secrets/raw', ` ${SECRET} `);
  const env = (location: string) => ({ HOME: emptyHome, FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION: location });
  assert.equal((await loadPlatformConfig({ env: env(crlf) })).clientCredentialsSecret, SECRET);
  assert.equal((await loadPlatformConfig({ env: env(raw) })).clientCredentialsSecret, ` ${SECRET} `);
});

test('secret location from FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION beats the YAML one, and forces ClientSecret', async () => {
  const file = writeYaml({ admin: { authType: 'DeviceFlow', clientSecretLocation: tmp.path('secrets/yaml-secret') } });
  const env = { HOME: emptyHome, FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION: tmp.path('secrets/env-secret') };
  const cfg = await loadPlatformConfig({ configFile: file, env });
  assert.equal(cfg.clientCredentialsSecret, 'from-env-location');
  assert.equal(cfg.authMode, AuthType.CLIENTSECRET);
});

test('secret from the variable named by clientSecretEnvVar: forces ClientSecret and beats the file', async () => {
  const file = writeYaml({
    admin: { authType: 'Pkce', clientSecretEnvVar: 'MY_CLIENT_SECRET', clientSecretLocation: tmp.path('secrets/yaml-secret') },
  });
  const cfg = await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome, MY_CLIENT_SECRET: SECRET } });
  assert.equal(cfg.clientCredentialsSecret, SECRET);
  assert.equal(cfg.authMode, AuthType.CLIENTSECRET);
  assert.equal(cfg.clientSecretEnvVar, 'MY_CLIENT_SECRET');

  const viaEnvName = await loadPlatformConfig({
    env: { HOME: emptyHome, FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR: 'OTHER_SECRET', OTHER_SECRET: SECRET, FLYTE_CREDENTIALS_AUTH_MODE: 'ExternalCommand' },
  });
  assert.equal(viaEnvName.clientCredentialsSecret, SECRET);
  assert.equal(viaEnvName.authMode, AuthType.CLIENTSECRET);
});

test('clientSecretEnvVar naming an unset or empty variable yields nothing and forces nothing', async () => {
  const file = writeYaml({ admin: { authType: 'Pkce', clientSecretEnvVar: 'NOT_SET' } });
  for (const env of [{ HOME: emptyHome }, { HOME: emptyHome, NOT_SET: '' }]) {
    const cfg = await loadPlatformConfig({ configFile: file, env });
    assert.equal(cfg.clientCredentialsSecret, undefined);
    assert.equal(cfg.authMode, AuthType.PKCE);
  }
});

test('FLYTE_CREDENTIALS_CLIENT_SECRET sets the secret but does not force ClientSecret', async () => {
  const file = writeYaml({ admin: { authType: 'Pkce' } });
  const cfg = await loadPlatformConfig({ configFile: file, env: { HOME: emptyHome, FLYTE_CREDENTIALS_CLIENT_SECRET: SECRET } });
  assert.equal(cfg.clientCredentialsSecret, SECRET);
  assert.equal(cfg.authMode, AuthType.PKCE);
  const noFile = await loadPlatformConfig({ env: { HOME: emptyHome, FLYTE_CREDENTIALS_CLIENT_SECRET: SECRET } });
  assert.equal(noFile.authMode, AuthType.STANDARD);
});

test('later secret steps override FLYTE_CREDENTIALS_CLIENT_SECRET', async () => {
  const env = {
    HOME: emptyHome,
    FLYTE_CREDENTIALS_CLIENT_SECRET: 'direct',
    FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION: tmp.path('secrets/env-secret'),
  };
  const cfg = await loadPlatformConfig({ env });
  assert.equal(cfg.clientCredentialsSecret, 'from-env-location');
  assert.equal(cfg.authMode, AuthType.CLIENTSECRET);
});

test('an empty secret file yields nothing and forces nothing', async () => {
  for (const content of ['', '\n', '  \n']) {
    const empty = tmp.write(`secrets/empty-${content.length}`, content);
    const cfg = await loadPlatformConfig({ env: { HOME: emptyHome, FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION: empty } });
    assert.equal(cfg.clientCredentialsSecret, undefined, JSON.stringify(content));
    assert.equal(cfg.authMode, AuthType.STANDARD);
  }
});

test('an unreadable secret file: error naming the file and the key, never a secret', async () => {
  const missing = tmp.path('secrets/missing');
  const file = writeYaml({ admin: { clientSecretLocation: missing } });
  const env = { HOME: emptyHome, FLYTE_CREDENTIALS_CLIENT_SECRET: SECRET, MY_SECRET: SECRET, FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR: 'MY_SECRET' };
  const error = await loadError({ configFile: file, env });
  assert.equal(error.message, `Cannot read the client secret file ${missing} (set by admin.clientSecretLocation in ${file}): ENOENT`);
  assert.equal(error.endpoint, missing);
  assert.ok(!inspect(error, { depth: 10 }).includes(SECRET));

  const folder = tmp.mkdir('secrets/a-folder');
  const fromEnv = await loadError({ env: { ...env, FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION: folder } });
  assert.equal(fromEnv.message, `Cannot read the client secret file ${folder} (set by FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION): EISDIR`);
  assert.ok(!inspect(fromEnv, { depth: 10 }).includes(SECRET));
});

test('no error from a bad value leaks a configured secret', async () => {
  const secretFile = tmp.write('secrets/leak-check', `${SECRET}\n`);
  const env = {
    HOME: emptyHome,
    FLYTE_CREDENTIALS_CLIENT_SECRET: SECRET,
    FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION: secretFile,
    FLYTE_ADMIN_MAXRETRIES: 'x',
  };
  const error = await loadError({ env });
  assert.ok(!inspect(error, { depth: 10 }).includes(SECRET));
});

test('without an env option, process.env is read', async () => {
  const file = writeYaml({ admin: { endpoint: 'from-process-env.example.com' } });
  const names = ['_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE', 'FLYTECTL_CONFIG', 'FLYTE_ADMIN_MAXRETRIES'];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  delete process.env['_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE'];
  process.env['FLYTECTL_CONFIG'] = file;
  process.env['FLYTE_ADMIN_MAXRETRIES'] = '9';
  try {
    const cfg = await loadPlatformConfig();
    assert.equal(cfg.endpoint, 'from-process-env.example.com');
    assert.equal(cfg.maxRetries, 9);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
