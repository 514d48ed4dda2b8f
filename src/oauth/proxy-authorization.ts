import type { CustomFetch, CustomFetchOptions } from 'openid-client';
import type { AuthMetadata, Authenticator } from '../authenticators/authenticator.js';
import { PROXY_STATUS_MARKER } from './proxy-headers.js';

/**
 * Whether an HTTP answer is the proxy asking for (new) credentials: 407, or 401 with `proxy-authenticate` (or the
 * package dispatcher's marker for a 407). A plain 401 is the identity provider's own answer (`invalid_client`), which
 * a new proxy token would not change.
 */
export function isProxyChallenge(response: Response): boolean {
  if (response.status === 407) return true;
  return response.status === 401 && (response.headers.has('proxy-authenticate') || response.headers.has(PROXY_STATUS_MARKER));
}

/** The proxy's real 407 again, where the dispatcher had to disguise it for fetch (see `dispatcher.ts`). */
function restoreProxyStatus(response: Response): Response {
  if (!response.headers.has(PROXY_STATUS_MARKER)) return response;
  const headers = new Headers(response.headers);
  headers.delete(PROXY_STATUS_MARKER);
  return new Response(response.body, { status: 407, statusText: 'Proxy Authentication Required', headers });
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
    if (!isProxyChallenge(response) || !canResend(init.body)) return restoreProxyStatus(response);
    // Release the connection before the second request.
    await response.body?.cancel().catch(() => undefined);
    const renewed = await proxyAuthenticator.refreshAfterRejection(header);
    return restoreProxyStatus(await fetch(url, withHeader(init, headerName, renewed)));
  };
}
