/** The stable code of {@link ProxyRefusedError}. */
export const PROXY_REFUSED = 'ERR_PROXY_REFUSED';

/**
 * A forward proxy refused to carry an OAuth request: it answered `CONNECT` (or an absolute-form request) with an HTTP
 * status other than 200. Its message names the proxy (never its credentials) and the status, which undici buries as
 * "Request was cancelled" three `cause`s down.
 */
export class ProxyRefusedError extends Error {
  override name = 'ProxyRefusedError';
  readonly code = PROXY_REFUSED;
  /** The proxy's HTTP status (403 from squid's standard rules, 407 for missing or wrong proxy credentials). */
  readonly status: number;
  /** The proxy as `scheme://host:port`, without credentials. */
  readonly proxy: string;

  constructor(proxy: string, status: number, cause?: unknown) {
    const reason = status === 407 ? 'Proxy Authentication Required: check the credentials in the proxy URL' : status === 403 ? 'Forbidden' : 'refused';
    super(`the proxy ${proxy} answered HTTP ${status} (${reason})`, cause === undefined ? undefined : { cause });
    this.status = status;
    this.proxy = proxy;
  }
}

/** `scheme://host:port` of a proxy URL: user name and password never leave this function. */
export function describeProxy(proxyUrl: string): string {
  try {
    const url = new URL(proxyUrl);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'the configured proxy';
  }
}

// undici's words for a refused tunnel and for a 407 to an absolute-form request.
const TUNNEL_REFUSED = /Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/;
const PROXY_AUTH_REQUIRED = /Proxy Authentication Required \((\d{3})\)/;

/** The proxy's status when `error` (or a cause of it, a few levels down) is undici's report of a refusal. */
export function proxyRefusalStatus(error: unknown): number | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth += 1) {
    const match = TUNNEL_REFUSED.exec(cause.message) ?? PROXY_AUTH_REQUIRED.exec(cause.message);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Whether `error` (or a cause of it) is a {@link ProxyRefusedError}: asking again through that proxy will not help. */
export function isProxyRefusal(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth += 1) {
    if ((cause as { code?: unknown }).code === PROXY_REFUSED) return true;
  }
  return false;
}

/** The proxies the `*_PROXY` environment variables name, as undici reads them (lower case first). */
export interface EnvironmentProxies {
  http: string | undefined;
  /** Falls back to the `http` proxy, as undici does. */
  https: string | undefined;
  noProxy: string | undefined;
}

/** The `*_PROXY` variables of `env`, read once (undici reads them when its agent is made). */
export function environmentProxies(env: NodeJS.ProcessEnv): EnvironmentProxies {
  const http = env.http_proxy ?? env.HTTP_PROXY;
  return { http, https: env.https_proxy ?? env.HTTPS_PROXY ?? http, noProxy: env.no_proxy ?? env.NO_PROXY };
}

/** The proxy a request to `target` goes through, as undici picks it: `httpProxyUrl`, else the environment's. */
export function proxyFor(target: string, httpProxyUrl: string | undefined, proxies: EnvironmentProxies): string | undefined {
  if (httpProxyUrl) return httpProxyUrl;
  return target.startsWith('https:') ? proxies.https : proxies.http;
}
