import type { Authenticator } from '../../authenticators/authenticator.js';
import { StaticClientConfigStore } from '../../flyte/client-config.js';
import { authFlowOf } from '../../flyte/auth-type.js';
import type { Credentials } from '../../tokens/credentials.js';
import { createCliAuth, loadCliConfig, type CommandContext } from '../context.js';
import { CliError } from '../errors.js';

/** Adds every token of `credentials` to the secrets an error line must never show. */
export function rememberTokens(context: CommandContext, credentials: Credentials | undefined): void {
  context.addSecret(credentials?.accessToken);
  context.addSecret(credentials?.refreshToken);
  context.addSecret(credentials?.idToken);
}

/**
 * The current access token of `authenticator`: the cached one when still good, renewed when due (inside the refresh
 * window too: a background renewal is waited for, and if it fails the still-valid token is printed), and for the
 * interactive flows a login when there is nothing to use (they would otherwise wait for a server to refuse a call).
 */
export async function currentAccessToken(authenticator: Authenticator, context: CommandContext, endpoint: string): Promise<string> {
  const header = await authenticator.fetchGrpcCallAuthMetadata();
  if (header === undefined) await authenticator.refreshCredentials();
  // Inside its refresh window the token is renewed in the background: a printed token should be the renewed one.
  await authenticator.refreshSettled();
  const credentials = authenticator.getCredentials();
  rememberTokens(context, credentials);
  if (!credentials?.accessToken) throw new CliError(`no access token was obtained for ${endpoint}`);
  return credentials.accessToken;
}

/** `token`: prints the access token for the configured endpoint, and nothing else, on stdout. */
export async function tokenCommand(context: CommandContext): Promise<void> {
  const cfg = await loadCliConfig(context);
  // A token command needs nothing from the Flyte server (only the header key, which a printed token does not carry).
  const clientConfigStore = authFlowOf(cfg.authMode) === 'externalCommand' ? new StaticClientConfigStore({ tokenEndpoint: '' }) : undefined;
  const auth = createCliAuth(cfg, context, { clientConfigStore });
  const token = await currentAccessToken(auth.authenticator, context, cfg.endpoint);
  context.io.stdout(`${token}\n`);
}
