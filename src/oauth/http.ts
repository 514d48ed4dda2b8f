import { readFileSync } from 'node:fs';
import type { CustomFetch } from 'openid-client';
import { EnvHttpProxyAgent, ProxyAgent, fetch as undiciFetch, type Dispatcher, type RequestInit } from 'undici';
import { AuthenticationError } from '../errors.js';

/** A fetch function for OAuth HTTP requests (same shape as the global `fetch` for the calls openid-client makes). */
export type OAuthFetch = CustomFetch;

/** TLS and proxy settings for every HTTP request to the identity provider. */
export interface OAuthHttpOptions {
  /** `false` skips TLS verification; a string is the path of a PEM CA bundle (as flytekit's `verify`). */
  verify?: boolean | string | undefined;
  /** An HTTP(S) proxy for the OAuth requests. Without it, `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply. */
  httpProxyUrl?: string | undefined;
  /** Your own fetch, used as is for every OAuth request (replaces `verify` and `httpProxyUrl`). */
  fetch?: OAuthFetch | undefined;
}

/** Reads a CA bundle, naming the file (never its content) when it cannot be read. */
export function readCaBundle(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new AuthenticationError(`cannot read CA certificate file ${path}: ${(error as Error).message}`, {
      code: 'ERR_CONFIG',
      endpoint: path,
      cause: error,
    });
  }
}

function createDispatcher({ verify, httpProxyUrl }: OAuthHttpOptions): Dispatcher {
  const tls = verify === false ? { rejectUnauthorized: false } : typeof verify === 'string' ? { ca: readCaBundle(verify) } : {};
  if (httpProxyUrl) return new ProxyAgent({ uri: httpProxyUrl, requestTls: tls });
  return new EnvHttpProxyAgent({ connect: tls, requestTls: tls });
}

/** The fetch that applies `verify` and `httpProxyUrl` (or the caller's own fetch). */
export function createOAuthFetch(options: OAuthHttpOptions): OAuthFetch {
  if (options.fetch) return options.fetch;
  const dispatcher = createDispatcher(options);
  // undici's Response passes openid-client's loose `instanceof Response` check.
  return (url, init) => undiciFetch(url, { ...init, dispatcher } as RequestInit);
}
