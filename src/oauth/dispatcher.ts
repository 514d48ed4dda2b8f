import { Client, EnvHttpProxyAgent, Pool, ProxyAgent, type Dispatcher } from 'undici';
import type { EnvironmentProxies } from './proxy-refusal.js';
import { PROXY_STATUS_MARKER, TUNNELLED_PROXY_AUTHORIZATION } from './proxy-headers.js';

/**
 * undici's dispatcher for the OAuth requests, with two repairs for proxy authentication (IAP and the like), applied
 * per origin, i.e. below `ProxyAgent`:
 *
 * - fetch cannot carry `proxy-authorization` through undici's `ProxyAgent`, which refuses the header (it is meant for
 *   the CONNECT proxy). A proxy token is for the proxy in front of the identity provider, inside the tunnel: the
 *   fetch sends it under {@link TUNNELLED_PROXY_AUTHORIZATION} and the origin's pool renames it.
 * - fetch turns an HTTP 407 into a bare network error (the Fetch standard expects a browser prompt), so nobody could
 *   tell it from a dead server. For requests that carried a proxy token, the pool hands fetch a 401 with
 *   {@link PROXY_STATUS_MARKER} instead, and the proxy-authorization wrapper restores the 407.
 */

type DispatchHeaders = NonNullable<Dispatcher.DispatchOptions['headers']>;
type HeaderValue = string | string[] | undefined;

const isTunnelled = (name: string): boolean => name.toLowerCase() === TUNNELLED_PROXY_AUTHORIZATION;

/** The headers with the private name replaced, and whether it was there. */
function renameTunnelledHeader(headers: DispatchHeaders): { headers: DispatchHeaders; found: boolean } {
  if (typeof headers !== 'object') return { headers, found: false };
  if (Array.isArray(headers)) {
    // Flat [name, value, name, value, …].
    const found = headers.some((item, i) => i % 2 === 0 && isTunnelled(item));
    return { headers: found ? headers.map((item, i) => (i % 2 === 0 && isTunnelled(item) ? 'proxy-authorization' : item)) : headers, found };
  }
  if (Symbol.iterator in headers) {
    const pairs = [...headers];
    const found = pairs.some(([name]) => isTunnelled(name));
    return { headers: pairs.map(([name, value]): [string, HeaderValue] => [isTunnelled(name) ? 'proxy-authorization' : name, value]), found };
  }
  const key = Object.keys(headers).find(isTunnelled);
  if (key === undefined) return { headers, found: false };
  const { [key]: value, ...rest } = headers;
  return { headers: value === undefined ? rest : { ...rest, 'proxy-authorization': value }, found: true };
}

/** Passes everything through, except that a 407 reaches fetch as a marked 401. */
class ProxyChallengeHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;

  constructor(inner: Dispatcher.DispatchHandler) {
    this.#inner = inner;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>): void {
    this.#inner.onRequestUpgrade?.(...args);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, HeaderValue>,
    statusMessage?: string,
  ): void {
    if (statusCode === 407) {
      this.#inner.onResponseStart?.(controller, 401, { ...headers, [PROXY_STATUS_MARKER]: '407' }, statusMessage);
      return;
    }
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseEnd']>>): void {
    this.#inner.onResponseEnd?.(...args);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#inner.onResponseError?.(controller, error);
  }
}

const proxyAuthorizationInterceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
  if (!options.headers) return dispatch(options, handler);
  const { headers, found } = renameTunnelledHeader(options.headers);
  if (!found) return dispatch(options, handler);
  return dispatch({ ...options, headers }, new ProxyChallengeHandler(handler));
};

function originFactory(origin: string | URL, options: object): Dispatcher {
  const pool = (options as { connections?: number | null }).connections === 1 ? new Client(origin, options) : new Pool(origin, options);
  return pool.compose(proxyAuthorizationInterceptor);
}

/** TLS settings for the connections to the identity provider. */
export interface DispatcherTls {
  ca?: Buffer;
  rejectUnauthorized?: boolean;
}

/**
 * The dispatcher for OAuth requests: through `httpProxyUrl`, or the `*_PROXY` environment variables, or direct.
 * Through a proxy, `https` targets are tunnelled (`CONNECT`) and plain-`http` targets are sent in absolute form
 * (`POST http://idp/token`), which squid's standard configuration allows while it refuses `CONNECT` to non-TLS ports.
 * `tunnelPlainHttp` keeps `CONNECT` for them too: a proxy token (IAP) must reach the proxy behind the tunnel, which
 * the forward proxy would take for its own in absolute form.
 */
export function createOAuthDispatcher(
  tls: DispatcherTls,
  httpProxyUrl: string | undefined,
  tunnelPlainHttp: boolean,
  proxies: EnvironmentProxies,
): Dispatcher {
  if (httpProxyUrl) return new ProxyAgent({ uri: httpProxyUrl, requestTls: tls, factory: originFactory, proxyTunnel: tunnelPlainHttp });
  // `''` rather than `undefined`: undici would read process.env again, later than the snapshot the messages rely on.
  return new EnvHttpProxyAgent({
    connect: tls,
    requestTls: tls,
    factory: originFactory,
    proxyTunnel: tunnelPlainHttp,
    httpProxy: proxies.http ?? '',
    httpsProxy: proxies.https ?? '',
    noProxy: proxies.noProxy ?? '',
  });
}

