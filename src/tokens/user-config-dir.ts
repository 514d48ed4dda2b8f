import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

/** What {@link userConfigDir} looks at; tests pass their own. */
export interface UserConfigDirContext {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/**
 * The per-user configuration directory: `%APPDATA%` on Windows, `~/Library/Application Support` on macOS,
 * `$XDG_CONFIG_HOME` (when absolute, as the XDG spec requires) or `~/.config` elsewhere.
 */
export function userConfigDir(context: UserConfigDirContext = {}): string {
  const platform = context.platform ?? process.platform;
  const env = context.env ?? process.env;
  const home = context.home ?? homedir();
  if (platform === 'win32') return env.APPDATA || win32.join(home, 'AppData', 'Roaming');
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support');
  const xdg = env.XDG_CONFIG_HOME;
  return xdg && posix.isAbsolute(xdg) ? xdg : posix.join(home, '.config');
}

/** Where a `FileTokenStore` keeps its tokens unless told otherwise: `<user config dir>/flyte-grpc-auth/tokens.json`. */
export function defaultTokenStorePath(context: UserConfigDirContext = {}): string {
  const path = (context.platform ?? process.platform) === 'win32' ? win32 : posix;
  return path.join(userConfigDir(context), 'flyte-grpc-auth', 'tokens.json');
}
