import { readFile } from 'node:fs/promises';
import { AuthenticationError } from '../errors.js';
import { AuthType } from './auth-type.js';
import { locateConfigFile, readConfigFile, type Environment } from './config-file.js';
import { ConfigSources, describeOrigin, invalidValue, type Sourced } from './config-sources.js';
import { PLATFORM_CONFIG_DEFAULTS, type PlatformConfig } from './platform-config.js';

/** Options of {@link loadPlatformConfig}. */
export interface LoadPlatformConfigOptions {
  /**
   * The YAML config file to read; it must exist. Default: the file named by `_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE`,
   * else by `FLYTECTL_CONFIG` (either must exist when set), else `~/.flyte/config.yaml` if it exists.
   */
  configFile?: string | undefined;
  /** Environment variables to read. Default `process.env`. `HOME` here decides where `~/.flyte` is. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

const ADMIN = 'admin';

/**
 * Loads the platform configuration the way flytekit's `PlatformConfig.auto` and flytectl do: finds the config file,
 * reads its `admin:` section (and `console.endpoint`), lets each `FLYTE_*` environment variable override its key,
 * and resolves the client secret (`FLYTE_CREDENTIALS_CLIENT_SECRET`, then the file at `clientSecretLocation`, then
 * the variable named by `clientSecretEnvVar`; a secret from either of the last two forces `authMode` to
 * `ClientSecret`). Unknown keys and sections are ignored.
 *
 * @example
 * ```ts
 * const cfg = await loadPlatformConfig(); // ~/.flyte/config.yaml + FLYTE_* variables
 * const other = await loadPlatformConfig({ configFile: './flyte.yaml', env: { FLYTE_PLATFORM_INSECURE: 'true' } });
 * ```
 * @throws {AuthenticationError} code `ERR_CONFIG`, naming the file and key (or the variable): a named config file
 *   that does not exist, malformed YAML, a value of the wrong type, an unknown `authType`, an unreadable secret file.
 *   No secret ever appears in the message.
 */
export async function loadPlatformConfig(options: LoadPlatformConfigOptions = {}): Promise<PlatformConfig> {
  const env: Environment = options.env ?? process.env;
  const file = await readConfigFile(locateConfigFile(options.configFile, env));
  const src = new ConfigSources(file, env);
  const admin = (...keys: string[]): string[] => [ADMIN, ...keys];

  const endpoint = src.string(admin('endpoint'), 'FLYTE_PLATFORM_URL');
  const cfg: PlatformConfig = {
    endpoint: endpoint === undefined ? PLATFORM_CONFIG_DEFAULTS.endpoint : normaliseEndpoint(endpoint),
    insecure: src.bool(admin('insecure'), 'FLYTE_PLATFORM_INSECURE')?.value ?? false,
    insecureSkipVerify: src.bool(admin('insecureSkipVerify'), 'FLYTE_PLATFORM_INSECURE_SKIP_VERIFY')?.value ?? false,
    authMode: src.authType(admin('authType'), 'FLYTE_CREDENTIALS_AUTH_MODE')?.value ?? PLATFORM_CONFIG_DEFAULTS.authMode,
    scopes: src.list(admin('scopes'), 'FLYTE_CREDENTIALS_SCOPES')?.value ?? [],
    useAudienceFromAdmin: src.bool(admin('useAudienceFromAdmin'), 'FLYTE_ADMIN_USEAUDIENCEFROMADMIN')?.value ?? false,
    disableKeyring: src.bool(admin('disableKeyring'), 'FLYTE_ADMIN_DISABLEKEYRING')?.value ?? false,
    pkceConfig: {
      timeoutMs: positive(src.durationMs(admin('pkceConfig', 'timeout'), 'FLYTE_ADMIN_PKCECONFIG_TIMEOUT')) ??
        PLATFORM_CONFIG_DEFAULTS.pkceTimeoutMs,
    },
    deviceFlowConfig: {
      timeoutMs: positive(src.durationMs(admin('deviceFlowConfig', 'timeout'), 'FLYTE_ADMIN_DEVICEFLOWCONFIG_TIMEOUT')) ??
        PLATFORM_CONFIG_DEFAULTS.deviceFlowTimeoutMs,
      pollIntervalMs: positive(
        src.durationMs(admin('deviceFlowConfig', 'pollInterval'), 'FLYTE_ADMIN_DEVICEFLOWCONFIG_POLLINTERVAL'),
      ) ?? PLATFORM_CONFIG_DEFAULTS.deviceFlowPollIntervalMs,
    },
    maxRetries: src.count(admin('maxRetries'), 'FLYTE_ADMIN_MAXRETRIES')?.value ?? PLATFORM_CONFIG_DEFAULTS.maxRetries,
    perRetryTimeoutMs: positive(src.durationMs(admin('perRetryTimeout'), 'FLYTE_ADMIN_PERRETRYTIMEOUT')) ??
      PLATFORM_CONFIG_DEFAULTS.perRetryTimeoutMs,
  };

  const optionalStrings = {
    caCertFilePath: src.string(admin('caCertFilePath'), 'FLYTE_PLATFORM_CA_CERT_FILE_PATH'),
    consoleEndpoint: src.string(['console', 'endpoint'], 'FLYTE_PLATFORM_CONSOLE_ENDPOINT'),
    clientId: src.string(admin('clientId'), 'FLYTE_CREDENTIALS_CLIENT_ID'),
    audience: src.string(admin('audience'), 'FLYTE_CREDENTIALS_AUDIENCE'),
    httpProxyUrl: src.string(admin('httpProxyURL'), 'FLYTE_PLATFORM_HTTP_PROXY_URL'),
    authorizationHeader: src.string(admin('authorizationHeader'), 'FLYTE_ADMIN_AUTHORIZATIONHEADER'),
    tokenUrl: src.string(admin('tokenUrl'), 'FLYTE_ADMIN_TOKENURL'),
    authMetadataService: serviceName(src.string(admin('authMetadataService'), 'FLYTE_ADMIN_AUTHMETADATASERVICE')),
    clientSecretEnvVar: src.string(admin('clientSecretEnvVar'), 'FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR'),
  } as const;
  for (const [field, found] of Object.entries(optionalStrings)) {
    if (found !== undefined) cfg[field as keyof typeof optionalStrings] = found.value;
  }
  const command = src.list(admin('command'), 'FLYTE_CREDENTIALS_COMMAND');
  if (command !== undefined) cfg.command = command.value;
  const proxyCommand = src.list(admin('proxyCommand'), 'FLYTE_CREDENTIALS_PROXY_COMMAND');
  if (proxyCommand !== undefined) cfg.proxyCommand = proxyCommand.value;
  const pkceRefresh = src.durationMs(admin('pkceConfig', 'refreshTime'), 'FLYTE_ADMIN_PKCECONFIG_REFRESHTIME');
  if (pkceRefresh !== undefined) cfg.pkceConfig.refreshTimeMs = pkceRefresh.value;
  const deviceRefresh = src.durationMs(
    admin('deviceFlowConfig', 'refreshTime'),
    'FLYTE_ADMIN_DEVICEFLOWCONFIG_REFRESHTIME',
  );
  if (deviceRefresh !== undefined) cfg.deviceFlowConfig.refreshTimeMs = deviceRefresh.value;
  if (file !== undefined) cfg.source = file.path;

  const secretLocation = src.string(admin('clientSecretLocation'), 'FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION');
  if (secretLocation !== undefined) cfg.clientSecretLocation = secretLocation.value;
  await resolveClientSecret(cfg, env, secretLocation);
  return cfg;
}

/**
 * flytekit's `PlatformConfig.auto` secret steps, later ones overriding earlier ones: (1) `FLYTE_CREDENTIALS_CLIENT_SECRET`;
 * (2) the contents of `clientSecretLocation`; (3) the variable named by `clientSecretEnvVar`. A secret from (2) or
 * (3) forces `ClientSecret`; one from (1) does not.
 */
async function resolveClientSecret(
  cfg: PlatformConfig,
  env: Environment,
  location: Sourced<string> | undefined,
): Promise<void> {
  const direct = env['FLYTE_CREDENTIALS_CLIENT_SECRET'];
  if (direct) cfg.clientCredentialsSecret = direct;
  let forced = false;
  if (location !== undefined) {
    const fromFile = await readSecretFile(location);
    if (fromFile) {
      cfg.clientCredentialsSecret = fromFile;
      forced = true;
    }
  }
  if (cfg.clientSecretEnvVar) {
    const fromVariable = env[cfg.clientSecretEnvVar];
    if (fromVariable) {
      cfg.clientCredentialsSecret = fromVariable;
      forced = true;
    }
  }
  if (forced) cfg.authMode = AuthType.CLIENTSECRET;
}

async function readSecretFile(location: Sourced<string>): Promise<string> {
  const path = location.value;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    // Only the path and the errno code: the cause's message is kept out, and the content was never read.
    throw new AuthenticationError(
      `Cannot read the client secret file ${path} (set by ${describeOrigin(location.origin)}): ${code}`,
      { code: 'ERR_CONFIG', endpoint: path },
    );
  }
  // As flytekit: a secret written with `echo` ends with a newline that is not part of it.
  return text.endsWith('\n') ? text.trim() : text;
}

/** Removes the `dns:///` scheme flytectl writes (`flytectl config init`), leaving `host[:port]`. */
function normaliseEndpoint(found: Sourced<string>): string {
  const endpoint = found.value.trim().replace(/^dns:\/\/\//i, '');
  if (endpoint === '') throw invalidValue(found.origin, 'the endpoint is empty');
  return endpoint;
}

// A fully qualified protobuf service name: it becomes the path `/<name>/<method>` of every metadata call.
const SERVICE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** A protobuf service name (`flyteidl2.auth.AuthMetadataService`), trimmed; anything else is refused. */
function serviceName(found: Sourced<string> | undefined): Sourced<string> | undefined {
  if (found === undefined) return undefined;
  const name = found.value.trim();
  if (!SERVICE_NAME.test(name)) {
    throw invalidValue(found.origin, 'expected a protobuf service name such as flyteidl2.auth.AuthMetadataService');
  }
  return { value: name, origin: found.origin };
}

/** A duration that must be greater than zero (timeouts, intervals: zero would fail at once or spin). */
function positive(found: Sourced<number> | undefined): number | undefined {
  if (found === undefined) return undefined;
  if (found.value <= 0) throw invalidValue(found.origin, 'must be greater than zero');
  return found.value;
}
