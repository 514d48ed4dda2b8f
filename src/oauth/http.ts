import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CustomFetch } from 'openid-client';
import { fetch as undiciFetch, type Dispatcher, type RequestInit } from 'undici';
import type { Authenticator } from '../authenticators/authenticator.js';
import { AuthenticationError } from '../errors.js';
import { withBoundedResponses } from './bounded-response.js';
import { TUNNELLED_PROXY_AUTHORIZATION, createOAuthDispatcher } from './dispatcher.js';
import { withProxyAuthorization } from './proxy-authorization.js';

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

function createDispatcher({ verify, httpProxyUrl }: OAuthHttpOptions): Dispatcher {
  const tls = verify === false ? { rejectUnauthorized: false } : typeof verify === 'string' ? { ca: readCaBundle(verify) } : {};
  return createOAuthDispatcher(tls, httpProxyUrl);
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
  const dispatcher = createDispatcher(options);
  const base: OAuthFetch = withBoundedResponses((url, init) => undiciFetch(url, { ...init, dispatcher } as RequestInit));
  return proxyAuthenticator ? withProxyAuthorization(base, proxyAuthenticator, TUNNELLED_PROXY_AUTHORIZATION) : base;
}
