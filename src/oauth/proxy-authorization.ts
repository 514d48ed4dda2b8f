import type { CustomFetch, CustomFetchOptions } from 'openid-client';
import type { AuthMetadata, Authenticator } from '../authenticators/authenticator.js';

/**
 * Whether an HTTP answer is the proxy asking for (new) credentials: 407, or 401 with `proxy-authenticate`. A plain 401
 * is the identity provider's own answer (`invalid_client`), which a new proxy token would not change.
 */
export function isProxyChallenge(response: Response): boolean {
  return response.status === 407 || (response.status === 401 && response.headers.has('proxy-authenticate'));
}

// A stream body is consumed by the first send; everything openid-client sends (forms, JSON) can be sent again.
function canResend(body: CustomFetchOptions['body']): boolean {
  return !(body instanceof ReadableStream);
}

function withHeader(init: CustomFetchOptions, name: string, header: AuthMetadata | undefined): CustomFetchOptions {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(init.headers)) {
    if (key.toLowerCase() !== name) headers[key] = value;
  }
  if (header) headers[name] = header[1];
  return { ...init, headers };
}

/**
 * Wraps `fetch` so that every request carries the proxy token under `headerName` (`proxy-authorization`, or the
 * private name the package's own dispatcher renames) and a proxy challenge costs one token refresh and one re-send.
 * The refresh is compare-and-refresh: gRPC calls and OAuth requests rejected together run the command once.
 */
export function withProxyAuthorization(fetch: CustomFetch, proxyAuthenticator: Authenticator, headerName: string): CustomFetch {
  return async (url, init) => {
    const header = await proxyAuthenticator.fetchGrpcCallAuthMetadata();
    const response = await fetch(url, withHeader(init, headerName, header));
    if (!isProxyChallenge(response) || !canResend(init.body)) return response;
    // Release the connection before the second request.
    await response.body?.cancel().catch(() => undefined);
    const renewed = await proxyAuthenticator.refreshAfterRejection(header);
    return fetch(url, withHeader(init, headerName, renewed));
  };
}
