import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CustomFetch } from 'openid-client';
import type { Dispatcher, RequestInit } from 'undici';
import type { Authenticator } from '../authenticators/authenticator.js';
import { AuthenticationError } from '../errors.js';
import { lazyImport } from '../util/lazy.js';
import type { DispatcherTls } from './dispatcher.js';
import { TUNNELLED_PROXY_AUTHORIZATION } from './proxy-headers.js';
import { withBoundedResponses } from './bounded-response.js';
import { withProxyAuthorization } from './proxy-authorization.js';
import { describeProxy, environmentProxies, proxyFor, proxyRefusalStatus, ProxyRefusedError, type EnvironmentProxies } from './proxy-refusal.js';

// undici (≈50 ms to load) and the dispatcher built on it load with the first OAuth request.
const loadUndici = lazyImport(async () => {
  const [{ fetch }, { createOAuthDispatcher }] = await Promise.all([import('undici'), import('./dispatcher.js')]);
  return { fetch, createOAuthDispatcher };
});

/** A fetch function for OAuth HTTP requests (same shape as the global `fetch` for the calls openid-client makes). */
export type OAuthFetch = CustomFetch;

/** TLS and proxy settings for every HTTP request to the identity provider. */
export interface OAuthHttpOptions {
  /** `false` skips TLS verification; a string is the path of a PEM CA bundle (as flytekit's `verify`). */
  verify?: boolean | string | undefined;
  /** An HTTP(S) proxy for the OAuth requests. Without it, `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply. */
  httpProxyUrl?: string | undefined;
  /** Your own fetch, used for every OAuth request (replaces `verify` and `httpProxyUrl`). */
  fetch?: OAuthFetch | undefined;
  /**
   * Proxy authentication (flytekit's `proxy_command`, e.g. for GCP IAP): every OAuth request carries
   * `proxy-authorization: Bearer <token>` from this authenticator, and an HTTP 407 (or a 401 with a
   * `proxy-authenticate` header) refreshes that token and re-sends the request once.
   */
  proxyAuthenticator?: Authenticator | undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function caFileError(path: string, reason: string, cause?: unknown): AuthenticationError {
  return new AuthenticationError(`CA certificate file ${path} ${reason}`, {
    code: 'ERR_CONFIG',
    endpoint: path,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Reads a PEM CA bundle, naming the file (never its content) when it cannot be used. Node ignores a CA bundle that
 * holds no certificate, which would surface much later as a baffling verification error: so it is checked here.
 */
export function readCaBundle(path: string): Buffer {
  let bundle: Buffer;
  try {
    bundle = readFileSync(path);
  } catch (error) {
    throw caFileError(path, `cannot be read: ${(error as Error).message}`, error);
  }
  const blocks = bundle.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw caFileError(path, 'holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)');
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw caFileError(path, `holds a certificate that cannot be parsed (certificate ${index + 1} of ${blocks.length})`, error);
    }
  });
  return bundle;
}

// The CA bundle is read (and a bad one reported) at once; the dispatcher itself is made with the first request, with
// the proxies of the environment as it was when the fetch was made (so that messages name the proxy really used).
function createDispatcher({ verify, httpProxyUrl, proxyAuthenticator }: OAuthHttpOptions, proxies: EnvironmentProxies): () => Promise<Dispatcher> {
  const tls: DispatcherTls = verify === false ? { rejectUnauthorized: false } : typeof verify === 'string' ? { ca: readCaBundle(verify) } : {};
  return lazyImport(async () => (await loadUndici()).createOAuthDispatcher(tls, httpProxyUrl, proxyAuthenticator !== undefined, proxies));
}

/**
 * The fetch that applies `verify`, `httpProxyUrl` and `proxyAuthenticator` (or the caller's own fetch, with
 * `proxyAuthenticator` still applied on top). Either way every answer is read completely, and at most 1 MiB, before
 * openid-client sees it (see `withBoundedResponses`).
 */
export function createOAuthFetch(options: OAuthHttpOptions): OAuthFetch {
  const { proxyAuthenticator } = options;
  if (options.fetch) {
    const bounded = withBoundedResponses(options.fetch);
    return proxyAuthenticator ? withProxyAuthorization(bounded, proxyAuthenticator, 'proxy-authorization') : bounded;
  }
  const proxies = environmentProxies(process.env);
  const dispatcher = createDispatcher(options, proxies);
  // undici's Response passes openid-client's loose `instanceof Response` check.
  const base: OAuthFetch = withBoundedResponses(async (url, init) => {
    const [{ fetch }, resolved] = await Promise.all([loadUndici(), dispatcher()]);
    try {
      return await fetch(url, { ...init, dispatcher: resolved } as RequestInit);
    } catch (error) {
      // A refusing proxy shows up as "Request was cancelled": say which proxy refused, and how.
      const status = proxyRefusalStatus(error);
      const proxy = status === undefined ? undefined : proxyFor(url, options.httpProxyUrl, proxies);
      if (status === undefined || proxy === undefined) throw error;
      // The same shape as undici's own network errors, with a cause that says it all (and keeps undici's error).
      // eslint-disable-next-line preserve-caught-error
      throw new TypeError('fetch failed', { cause: new ProxyRefusedError(describeProxy(proxy), status, error) });
    }
  });
  return proxyAuthenticator ? withProxyAuthorization(base, proxyAuthenticator, TUNNELLED_PROXY_AUTHORIZATION) : base;
}
