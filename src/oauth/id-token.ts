import { Buffer } from 'node:buffer';
import { AuthenticationError } from '../errors.js';
import { sanitizeForTerminal } from '../terminal-text.js';
import type { OAuthFetch } from './http.js';

/**
 * Where a token response's ID token waits for {@link checkIdToken}. openid-client would compare its `iss` with the
 * configured issuer, and with no issuer known that would be a guess (and a nonce it did not send fails it too):
 * {@link setIdTokenAside} moves the token here before openid-client reads the response.
 */
export const ID_TOKEN_SET_ASIDE = 'x_flyte_grpc_auth_id_token';

/** The ID token of a token response that went through {@link setIdTokenAside}. */
export function idTokenOf(response: object): string | undefined {
  const value = (response as Record<string, unknown>)[ID_TOKEN_SET_ASIDE] ?? (response as Record<string, unknown>).id_token;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A JWT's claims, read without verifying anything, or `undefined` when `token` is not a JWT with a JSON object. */
export function readJwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `fetch` whose successful JSON answers from the token endpoint carry their `id_token` under
 * {@link ID_TOKEN_SET_ASIDE} instead. Everything else passes as is.
 */
export function setIdTokenAside(fetch: OAuthFetch, tokenEndpoint: string): OAuthFetch {
  const target = new URL(tokenEndpoint).href;
  return async (url, init) => {
    const response = await fetch(url, init);
    if (new URL(url).href !== target || response.status !== 200 || !/json/i.test(response.headers.get('content-type') ?? '')) return response;
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    let replaced = text;
    if (typeof body === 'object' && body !== null && 'id_token' in body) {
      const { id_token: idToken, ...rest } = body as Record<string, unknown>;
      replaced = JSON.stringify({ ...rest, [ID_TOKEN_SET_ASIDE]: idToken });
    }
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    return new Response(replaced, { status: response.status, statusText: response.statusText, headers });
  };
}

/** What an ID token is checked against. */
export interface IdTokenExpectations {
  /** The identity provider's issuer; `undefined` when none is known (then `iss` is not compared with a guess). */
  issuer: string | undefined;
  /** The client id, which `aud` must contain. */
  clientId: string;
  /** The `nonce` sent in the authorization request; `undefined` for device logins and refreshes. */
  nonce?: string | undefined;
  /** The token endpoint, for the error. */
  tokenEndpoint: string;
}

// As openid-client: clocks may differ by this much.
const CLOCK_TOLERANCE_SECONDS = 30;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  return sanitizeForTerminal(typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? typeof value), 200);
}

/**
 * Checks the claims of a token response's ID token (OpenID Connect Core §3.1.3.7): `iss` equals the known issuer,
 * `aud` contains the client id, `exp` has not passed, `nonce` equals the one sent. Its signature is not checked: it
 * came straight from the token endpoint over the connection the flow trusts (§3.1.3.7 item 6), as openid-client does.
 * A response without an ID token passes: the access token is usable on its own.
 *
 * @throws AuthenticationError `ERR_BAD_TOKEN_RESPONSE` naming the claim, the expected and the received value.
 */
export function checkIdToken(idToken: string | undefined, expected: IdTokenExpectations, now = Date.now()): void {
  if (idToken === undefined) return;
  const fail = (problem: string, hint = ''): never => {
    throw new AuthenticationError(`the ID token from ${expected.tokenEndpoint} failed validation: ${problem}${hint}`, {
      code: 'ERR_BAD_TOKEN_RESPONSE',
      endpoint: expected.tokenEndpoint,
    });
  };
  const claims = readJwtClaims(idToken);
  if (!claims) fail('it is not a JWT');
  const { iss, aud, exp, nonce } = claims as Record<string, unknown>;
  if (expected.issuer !== undefined && iss !== expected.issuer) {
    fail(
      `claim iss (issuer) is ${show(iss)}, expected ${show(expected.issuer)}`,
      " (the issuer comes from the server's OAuth2 metadata or the identity provider's discovery document; set `issuer` in the client config if both are wrong)",
    );
  }
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(expected.clientId)) fail(`claim aud (audience) is ${show(aud)}, expected ${show(expected.clientId)}`);
  if (typeof exp !== 'number' || exp + CLOCK_TOLERANCE_SECONDS < Math.floor(now / 1000)) {
    fail(`claim exp (expiration time) is ${show(exp)}, expected a time after ${Math.floor(now / 1000) - CLOCK_TOLERANCE_SECONDS}`);
  }
  if (expected.nonce !== undefined && nonce !== expected.nonce) {
    fail(`claim nonce is ${show(nonce)}, expected ${show(expected.nonce)} (the one sent with this login)`);
  }
}
