import type { PlatformConfig } from './platform-config.js';

/** What replaces a secret in {@link redactPlatformConfig}'s output. */
export const REDACTED = '<redacted>';

/**
 * A copy of `cfg` that is safe to print: the client secret becomes `'<redacted>'`, and so does a password in
 * `httpProxyUrl` (`http://user:<redacted>@proxy:3128`). Paths and the names of variables stay, since they are what a
 * user checks. The original is not changed.
 */
export function redactPlatformConfig(cfg: PlatformConfig): PlatformConfig {
  const copy: PlatformConfig = {
    ...cfg,
    scopes: [...cfg.scopes],
    pkceConfig: { ...cfg.pkceConfig },
    deviceFlowConfig: { ...cfg.deviceFlowConfig },
  };
  if (cfg.command !== undefined) copy.command = [...cfg.command];
  if (cfg.proxyCommand !== undefined) copy.proxyCommand = [...cfg.proxyCommand];
  if (cfg.clientCredentialsSecret !== undefined) copy.clientCredentialsSecret = REDACTED;
  if (cfg.httpProxyUrl !== undefined) copy.httpProxyUrl = redactUrlPassword(cfg.httpProxyUrl);
  return copy;
}

// By hand rather than with `URL`: `URL` percent-encodes the marker and refuses some malformed input that undici would
// refuse too but that still holds a password. Taking everything up to the last `@` over-redacts odd input; never leaks.
function redactUrlPassword(text: string): string {
  const start = text.indexOf('//');
  const at = text.lastIndexOf('@');
  if (start < 0 || at < start) return text;
  const colon = text.indexOf(':', start + 2);
  if (colon < 0 || colon > at) return text;
  return `${text.slice(0, colon)}:${REDACTED}${text.slice(at)}`;
}
