/** Opens `url` in a browser; throws or rejects when it cannot. */
export type OpenBrowser = (url: string) => void | Promise<void>;

// xdg-open may run as long as the browser it started: after this long, no news is good news.
const OPENER_GRACE_MS = 2_000;

function hasDisplay(): boolean {
  if (process.platform !== 'linux') return true;
  const env = process.env;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.WSL_DISTRO_NAME);
}

/**
 * Opens the system browser with the `open` package (loaded only when a login needs it). Fails on a Linux machine
 * without a display (SSH, containers) and when the opener cannot start or exits with an error, so that the caller
 * prints the URL instead.
 */
export async function openSystemBrowser(url: string): Promise<void> {
  if (!hasDisplay()) throw new Error('no display (DISPLAY and WAYLAND_DISPLAY are unset)');
  const { default: open } = await import('open');
  const child = await open(url, { wait: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, OPENER_GRACE_MS);
    timer.unref();
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code) reject(new Error(`the browser opener exited with code ${code}`));
      else resolve();
    });
  });
}

/** What is printed when no browser could be opened (flytekit's wording, so scripts that look for it still work). */
export function browserFallbackMessage(url: string, redirectUri: URL): string {
  let message = `Please open the following link in your browser to authenticate: ${url}\n`;
  if (process.env.SSH_CONNECTION || process.env.SSH_TTY) {
    const port = redirectUri.port || '80';
    message +=
      `Over SSH, the browser must reach ${redirectUri.host} on this machine: connect with ` +
      `"ssh -L ${port}:${redirectUri.hostname.replace(/^\[|\]$/g, '')}:${port} <host>", or use the device flow (DeviceFlow).\n`;
  }
  return message;
}
