import type { OAuthFetch } from './http.js';

/** The whole search gives up after this long: discovery is a courtesy, the login must not wait for it. */
const SEARCH_TIMEOUT_MS = 10_000;
/** A discovery document larger than this is not one. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
/** How many path levels above the token endpoint are searched (Keycloak: `/realms/x/protocol/openid-connect/token`). */
const MAX_LEVELS = 5;

interface Candidate {
  url: string;
  /** The issuer a document found there must name (RFC 8414 §3.3, OpenID Connect Discovery §4.3). */
  issuer: string;
}

/**
 * Where the identity provider may serve its metadata, nearest to the token endpoint first: for each path prefix of the
 * token endpoint (`/api/oidc/token` → `/api/oidc`, `/api`, ``), the OpenID Connect location
 * (`<prefix>/.well-known/openid-configuration`) and the RFC 8414 one (`/.well-known/oauth-authorization-server<prefix>`).
 */
export function discoveryCandidates(tokenEndpoint: string): Candidate[] {
  const url = new URL(tokenEndpoint);
  const segments = url.pathname.split('/').filter(Boolean).slice(0, -1);
  const candidates: Candidate[] = [];
  for (let levels = Math.min(segments.length, MAX_LEVELS); levels >= 0; levels -= 1) {
    const prefix = segments
      .slice(0, levels)
      .map((segment) => `/${segment}`)
      .join('');
    const issuer = `${url.origin}${prefix}`;
    candidates.push({ url: `${issuer}/.well-known/openid-configuration`, issuer });
    candidates.push({ url: `${url.origin}/.well-known/oauth-authorization-server${prefix}`, issuer });
  }
  return candidates;
}

async function readBounded(response: Response): Promise<string | undefined> {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// The issuer without one trailing slash: Auth0's `https://tenant.auth0.com/` sits at the root.
const trimSlash = (text: string): string => text.replace(/\/$/, '');

/** The document's issuer when it is the identity provider's metadata for this token endpoint, else `undefined`. */
function issuerOf(text: string, candidate: Candidate, tokenEndpoint: string): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof document !== 'object' || document === null) return undefined;
  const { issuer, token_endpoint: documentTokenEndpoint } = document as { issuer?: unknown; token_endpoint?: unknown };
  if (typeof issuer !== 'string' || typeof documentTokenEndpoint !== 'string') return undefined;
  // A document elsewhere on the host (another realm, another tenant) names another issuer or token endpoint.
  if (trimSlash(issuer) !== trimSlash(candidate.issuer)) return undefined;
  try {
    if (new URL(documentTokenEndpoint).href !== new URL(tokenEndpoint).href) return undefined;
  } catch {
    return undefined;
  }
  return issuer;
}

/**
 * The identity provider's issuer from its discovery document, looked for near the token endpoint, or `undefined`
 * when none is served there (or the provider does not answer). A document counts only when its `issuer` matches the
 * place it was found and its `token_endpoint` is this token endpoint. Never throws.
 */
export async function discoverIssuer(tokenEndpoint: string, fetch: OAuthFetch): Promise<string | undefined> {
  let candidates: Candidate[];
  try {
    candidates = discoveryCandidates(tokenEndpoint);
  } catch {
    return undefined;
  }
  const signal = AbortSignal.timeout(SEARCH_TIMEOUT_MS);
  for (const candidate of candidates) {
    let response: Response;
    try {
      response = await fetch(candidate.url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        body: undefined,
        redirect: 'manual',
        signal,
      });
    } catch {
      // Unreachable or too slow: asking the other places would only take longer.
      return undefined;
    }
    try {
      const text = response.status === 200 ? await readBounded(response) : undefined;
      if (text === undefined) {
        await response.body?.cancel().catch(() => undefined);
        continue;
      }
      const issuer = issuerOf(text, candidate, tokenEndpoint);
      if (issuer !== undefined) return issuer;
    } catch {
      // A body cut off mid-way: try the next place.
    }
  }
  return undefined;
}
