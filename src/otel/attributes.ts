import type { Attributes } from '@opentelemetry/api';
import type { LoginMessage, RejectedMessage, RetryMessage, StoreMessage, TokenRequestMessage } from '../diagnostics/channels.js';
import { redactText } from '../diagnostics/redact.js';

// The package's error codes (AuthenticationError#code): a closed set, safe as a metric attribute.
const KNOWN_ERROR_CODE = /^ERR_[A-Z_]{1,40}$/;
// OAuth error codes are short ASCII words (RFC 6749 §5.2); anything else from a server is cut down to this shape.
const OAUTH_ERROR = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

/** `error.type` (OpenTelemetry semantic conventions): the package's error code, else `_OTHER` (bounded cardinality). */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && KNOWN_ERROR_CODE.test(code) ? code : '_OTHER';
}

/** The OAuth error of a failure (`invalid_client`, `access_denied`, …), when the identity provider sent a well-formed one. */
export function oauthErrorOf(error: unknown): string | undefined {
  const oauthError = (error as { oauthError?: unknown } | null | undefined)?.oauthError;
  return typeof oauthError === 'string' && OAUTH_ERROR.test(oauthError) ? oauthError : undefined;
}

/** What a span's error status says: the OAuth error code, else the package's error code, else the error's name. */
export function errorStatusMessage(error: unknown): string {
  return oauthErrorOf(error) ?? (errorType(error) !== '_OTHER' ? errorType(error) : error instanceof Error ? redactText(error.name) : 'error');
}

// `server.address` / `server.port` of the token endpoint (semantic conventions), for backends that group by peer.
function serverAttributes(url: string | undefined): Attributes {
  if (url === undefined) return {};
  try {
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : parsed.protocol === 'http:' ? 80 : undefined;
    const attributes: Attributes = { 'server.address': parsed.hostname.replace(/^\[|\]$/g, '') };
    if (port !== undefined) attributes['server.port'] = port;
    return attributes;
  } catch {
    return {};
  }
}

/** The token request span's attributes: the message's fields (the contract) plus `server.address`/`server.port`. */
export function tokenSpanAttributes(message: TokenRequestMessage): Attributes {
  const attributes: Attributes = { flow: message.flow, endpoint: message.endpoint, reason: message.reason, ...serverAttributes(message.tokenEndpoint) };
  if (message.tokenEndpoint !== undefined) attributes.tokenEndpoint = message.tokenEndpoint;
  return attributes;
}

/** The login span's attributes. */
export function loginSpanAttributes(message: LoginMessage): Attributes {
  return { flow: message.flow, endpoint: message.endpoint };
}

/** The attributes of `flyte_grpc_auth.token.requests` and `.token.duration`. */
export function tokenMetricAttributes(message: TokenRequestMessage): Attributes {
  const failed = 'error' in message;
  const attributes: Attributes = { flow: message.flow, reason: message.reason, outcome: failed ? 'failure' : 'success' };
  if (failed) attributes['error.type'] = errorType(message.error);
  return attributes;
}

/** The attributes of `flyte_grpc_auth.logins`. */
export function loginMetricAttributes(message: LoginMessage): Attributes {
  const failed = 'error' in message;
  const attributes: Attributes = { flow: message.flow, outcome: failed ? 'failure' : 'success' };
  if (failed) attributes['error.type'] = errorType(message.error);
  return attributes;
}

/** The attributes of `flyte_grpc_auth.call.retries`. */
export function retryMetricAttributes(message: RetryMessage): Attributes {
  return { method: message.method, code: message.code };
}

/** The attributes of `flyte_grpc_auth.call.rejections`. */
export function rejectionMetricAttributes(message: RejectedMessage): Attributes {
  return { method: message.method, retried: message.retried };
}

/** The attributes of the store metrics. */
export function storeMetricAttributes(message: StoreMessage): Attributes {
  return { store: message.store, event: message.event };
}
