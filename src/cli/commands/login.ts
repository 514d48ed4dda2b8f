import { StaticClientConfigStore } from '../../flyte/client-config.js';
import { authFlowOf } from '../../flyte/auth-type.js';
import type { PlatformConfig } from '../../flyte/platform-config.js';
import type { Credentials } from '../../tokens/credentials.js';
import { createCliAuth, describeTokenStore, interactiveAuthenticator, loadCliConfig, type CliAuth, type CommandContext } from '../context.js';
import { rememberTokens } from './token.js';

/** `endpoint (mode, client id X)`, for status lines. */
export async function describeTarget(cfg: PlatformConfig, auth: CliAuth): Promise<string> {
  const clientId = cfg.clientId || (await auth.clientConfigStore.getClientConfig()).clientId;
  return `${cfg.endpoint} (${cfg.authMode}${clientId ? `, client id ${clientId}` : ''})`;
}

function describeLifetime(credentials: Credentials): string {
  const expiry = credentials.expiresAt === undefined ? 'no expiry given' : `valid until ${new Date(credentials.expiresAt).toISOString()}`;
  const refresh = credentials.refreshToken
    ? 'renewed with the refresh token when it expires'
    : 'no refresh token, so a new login is needed when it expires (does the identity provider grant offline access?)';
  return `access token ${expiry}; ${refresh}`;
}

/**
 * `login`: PKCE and device code always log in anew (cached credentials are replaced only when the login succeeds) and
 * say where the credentials are cached; client credentials and token commands obtain a token to prove the
 * configuration works, and cache nothing.
 */
export async function loginCommand(context: CommandContext): Promise<void> {
  const cfg = await loadCliConfig(context);
  const flow = authFlowOf(cfg.authMode);
  const auth = createCliAuth(cfg, context, {
    clientConfigStore: flow === 'externalCommand' ? new StaticClientConfigStore({ tokenEndpoint: '' }) : undefined,
  });
  const { io } = context;
  const interactive = interactiveAuthenticator(auth);
  if (interactive) {
    const credentials = await interactive.forceLogin();
    rememberTokens(context, credentials);
    io.stdout(`Logged in to ${await describeTarget(cfg, auth)}: ${describeLifetime(credentials)}.\n`);
    io.stdout(`Credentials cached in ${describeTokenStore(auth.tokenStore)}.\n`);
    return;
  }
  const credentials = await auth.authenticator.refreshCredentials();
  rememberTokens(context, credentials);
  if (flow === 'externalCommand') {
    io.stdout(`The command ${cfg.command?.[0] ?? ''} printed a token for ${cfg.endpoint}. Nothing is cached: the command runs in every process.\n`);
    return;
  }
  const { tokenEndpoint } = await auth.clientConfigStore.getClientConfig();
  io.stdout(
    `Obtained an access token for ${await describeTarget(cfg, auth)} from ${tokenEndpoint}. ` +
      'Nothing is cached: client credentials get a new token in every process.\n',
  );
}
