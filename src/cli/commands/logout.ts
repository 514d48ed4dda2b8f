import { createCliAuth, describeTokenStore, interactiveAuthenticator, loadCliConfig, type CommandContext } from '../context.js';
import { describeTarget } from './login.js';

/** `logout`: deletes the cached credentials of this endpoint + client id + flow (PKCE, device code). */
export async function logoutCommand(context: CommandContext): Promise<void> {
  const cfg = await loadCliConfig(context);
  const auth = createCliAuth(cfg, context);
  const { io } = context;
  const interactive = interactiveAuthenticator(auth);
  if (!interactive) {
    io.stdout(`Nothing to log out of: ${cfg.authMode} caches no credentials for ${cfg.endpoint}.\n`);
    return;
  }
  const key = await interactive.credentialsKey();
  // An entry that cannot be read back as usable credentials (a token that cannot be sent) is still removed.
  const cached = await auth.tokenStore.get(key).then(
    (credentials) => credentials !== undefined,
    () => true,
  );
  await interactive.logout();
  const target = await describeTarget(cfg, auth);
  const where = describeTokenStore(auth.tokenStore);
  io.stdout(cached ? `Logged out of ${target}: removed the cached credentials from ${where}.\n` : `No cached credentials for ${target} in ${where}.\n`);
}
