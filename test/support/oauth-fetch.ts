import type { OAuthFetch } from '../../src/index.js';

type FetchInit = Parameters<OAuthFetch>[1];

/** The form parameters of an OAuth request (openid-client sends `URLSearchParams` or a string). */
export function formBody(init: FetchInit): URLSearchParams {
  const body = init.body;
  if (body instanceof URLSearchParams) return body;
  if (typeof body === 'string') return new URLSearchParams(body);
  return new URLSearchParams();
}

/** A JSON response as the identity provider would send it. */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

/** The global fetch, typed for openid-client's `customFetch`. */
export const passthrough: OAuthFetch = (url, init) => fetch(url, init as RequestInit);
