import { browserFallbackMessage, openSystemBrowser, type OpenBrowser } from '../authenticators/browser.js';
import { formatDeviceCodePrompt } from '../authenticators/device-code.js';
import { InteractiveAuthenticator } from '../authenticators/interactive.js';
import type { ClientConfigStore } from '../flyte/client-config.js';
import { loadPlatformConfig } from '../flyte/load-platform-config.js';
import { createPlatformAuth, type PlatformAuth } from '../grpc-js/platform-auth.js';
import type { PlatformConfig } from '../flyte/platform-config.js';
import { createTokenStore } from '../tokens/create-token-store.js';
import { FileTokenStore } from '../tokens/file-token-store.js';
import { KeyringTokenStore } from '../tokens/keyring-token-store.js';
import type { TokenStore } from '../tokens/token-store.js';
import { defaultTokenStorePath, type UserConfigDirContext } from '../tokens/user-config-dir.js';
import type { GlobalOptions } from './args.js';
import type { CliEnvironment, Writer } from './environment.js';
import { PROGRAM } from './usage.js';

/** What every command works with. */
export interface CommandContext {
  io: CliEnvironment;
  options: GlobalOptions;
  /** Adds strings (secrets, tokens) that must never appear in an error line. */
  addSecret(secret: string | undefined): void;
}

/**
 * The platform config of `loadPlatformConfig` with the command-line overrides applied. They go in as the environment
 * variables they stand for, so they are validated and normalised (`dns:///`) exactly like those.
 */
export async function loadCliConfig(context: CommandContext): Promise<PlatformConfig> {
  const { options, io } = context;
  const env: Record<string, string | undefined> = { ...io.env };
  if (options.endpoint !== undefined) env['FLYTE_PLATFORM_URL'] = options.endpoint;
  if (options.insecure) env['FLYTE_PLATFORM_INSECURE'] = 'true';
  if (options.authMetadataService !== undefined) env['FLYTE_ADMIN_AUTHMETADATASERVICE'] = options.authMetadataService;
  let cfg: PlatformConfig;
  try {
    cfg = await loadPlatformConfig({ configFile: options.config, env });
  } catch (error) {
    // The library names its option; on the command line the user typed --config.
    if (error instanceof Error && options.config !== undefined) error.message = error.message.replace('the configFile option', '--config');
    throw error;
  }
  context.addSecret(cfg.clientCredentialsSecret);
  return cfg;
}

/** The platform auth of `cfg`, talking to the user through `io`, plus the token store interactive flows use. */
export interface CliAuth extends PlatformAuth {
  /** The persistent store of interactive logins (unused by the other flows). */
  tokenStore: TokenStore;
}

/** Options of {@link createCliAuth}. */
export interface CliAuthOptions {
  /** Instead of the server's `AuthMetadataService` (and the local overrides). */
  clientConfigStore?: ClientConfigStore | undefined;
}

/** Builds the authenticator for `cfg` with the CLI's prompts, browser handling and token store. Nothing runs yet. */
export function createCliAuth(cfg: PlatformConfig, context: CommandContext, options: CliAuthOptions = {}): CliAuth {
  const { io } = context;
  const tokenStore =
    io.tokenStore ??
    createTokenStore({ disableKeyring: cfg.disableKeyring, path: defaultTokenStorePath(configDirContext(io.env)), warn: warningWriter(io.stderr) });
  const auth = createPlatformAuth(cfg, {
    tokenStore,
    clientConfigStore: options.clientConfigStore,
    openBrowser: cliOpenBrowser(io, context.options.noBrowser),
    onPrompt: io.onPrompt ?? ((prompt) => io.stderr(formatDeviceCodePrompt(prompt))),
    warn: warningWriter(io.stderr),
  });
  return { ...auth, tokenStore };
}

/** The interactive authenticator (PKCE, device code) of `auth`, or `undefined` for the flows that do not cache. */
export function interactiveAuthenticator(auth: PlatformAuth): InteractiveAuthenticator | undefined {
  return auth.authenticator instanceof InteractiveAuthenticator ? auth.authenticator : undefined;
}

/** Where a store keeps credentials, for messages: `the file /home/me/.config/flyte-grpc-auth/tokens.json`, … */
export function describeTokenStore(store: TokenStore): string {
  if (store instanceof FileTokenStore) return `the file ${store.path}`;
  if (store instanceof KeyringTokenStore) {
    if (!store.usingFallback) return `the OS keychain (service ${store.service})`;
    return store.fallback instanceof FileTokenStore ? `the file ${store.fallback.path}` : 'the fallback token store';
  }
  return 'the configured token store';
}

// The token file follows the environment the CLI was given (HOME, XDG_CONFIG_HOME, APPDATA), not only process.env.
function configDirContext(env: Readonly<Record<string, string | undefined>>): UserConfigDirContext {
  const context: UserConfigDirContext = { env: { ...env } };
  if (env['HOME']) context.home = env['HOME'];
  return context;
}

// The stores' warnings begin with the program name already; they are shown as warnings, one line each.
function warningWriter(stderr: Writer): (message: string) => void {
  return (message) => {
    const text = message.replace(new RegExp(`^${PROGRAM}:\\s*`), '').replace(/\s+/g, ' ').trim();
    stderr(`${PROGRAM}: warning: ${text}\n`);
  };
}

function redirectUriOf(url: string): URL {
  try {
    return new URL(new URL(url).searchParams.get('redirect_uri') ?? url);
  } catch {
    return new URL('http://localhost/');
  }
}

// Never throws: when no browser opens, the link goes to the CLI's stderr (not process.stderr, as the default would).
function cliOpenBrowser(io: CliEnvironment, noBrowser: boolean): OpenBrowser {
  const open = io.openBrowser ?? openSystemBrowser;
  const printLink = (url: string): void => io.stderr(browserFallbackMessage(url, redirectUriOf(url)));
  return async (url) => {
    if (noBrowser) {
      printLink(url);
      return;
    }
    try {
      await open(url);
    } catch {
      printLink(url);
    }
  };
}
