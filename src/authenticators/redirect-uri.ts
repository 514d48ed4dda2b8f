import { AuthenticationError } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Checks the redirect URI before anything binds: it must be plain `http` on a loopback host (RFC 8252 §7.3), since
 * the callback server is local and only the browser on this machine may reach it.
 * @throws AuthenticationError `ERR_CONFIG` naming what is wrong.
 */
export function validateRedirectUri(redirectUri: string | undefined): URL {
  if (!redirectUri) {
    throw new AuthenticationError(
      'PKCE login needs a redirect URI, but the client config has none (the server published no redirect_uri; set `redirectUri`)',
      { code: 'ERR_CONFIG' },
    );
  }
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch (error) {
    throw new AuthenticationError(`the redirect URI ${redirectUri} is not a valid URL`, { code: 'ERR_CONFIG', endpoint: redirectUri, cause: error });
  }
  if (url.protocol !== 'http:') {
    throw new AuthenticationError(`the redirect URI ${redirectUri} must use http: the login callback is served locally`, {
      code: 'ERR_CONFIG',
      endpoint: redirectUri,
    });
  }
  if (url.search || url.hash || redirectUri.includes('#')) {
    // The callback is matched by host, port and path, and the code exchange must repeat the URI exactly (RFC 6749 §4.1.3).
    throw new AuthenticationError(`the redirect URI ${redirectUri} must not have a query or a fragment: register a plain loopback URI such as http://localhost:53593/callback`, {
      code: 'ERR_CONFIG',
      endpoint: redirectUri,
    });
  }
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    throw new AuthenticationError(
      `the redirect URI ${redirectUri} is not on a loopback address (127.0.0.1, [::1] or localhost): the login callback is served on this machine`,
      { code: 'ERR_CONFIG', endpoint: redirectUri },
    );
  }
  return url;
}
