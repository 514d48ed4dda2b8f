import { oidc } from './openid-client.js';
import type { ClientConfig } from '../flyte/client-config.js';
import type { OAuthFetch } from './http.js';

/** Per-request timeout for OAuth HTTP requests, in seconds (openid-client's default is 30). */
const REQUEST_TIMEOUT_SECONDS = 15;

/**
 * An openid-client `Configuration` built from Flyte's client config instead of OIDC discovery: Flyte publishes its
 * endpoints through `AuthMetadataService`, so no discovery round trip is needed.
 */
export function createOAuthConfiguration(
  config: ClientConfig,
  clientId: string,
  clientAuth: oidc.ClientAuth,
  fetch: OAuthFetch,
): oidc.Configuration {
  const server: oidc.ServerMetadata = {
    // openid-client needs a string. Without a known issuer, the token endpoint's origin stands in and is never compared:
    // the interactive flows set ID tokens aside (`setIdTokenAside`) and drop an RFC 9207 `iss` callback parameter.
    issuer: config.issuer || new URL(config.tokenEndpoint).origin,
    token_endpoint: config.tokenEndpoint,
    ...(config.authorizationEndpoint ? { authorization_endpoint: config.authorizationEndpoint } : {}),
    ...(config.deviceAuthorizationEndpoint ? { device_authorization_endpoint: config.deviceAuthorizationEndpoint } : {}),
  };
  const configuration = new oidc.Configuration(server, clientId, undefined, clientAuth);
  configuration[oidc.customFetch] = fetch;
  configuration.timeout = REQUEST_TIMEOUT_SECONDS;
  if (new URL(config.tokenEndpoint).protocol === 'http:') oidc.allowInsecureRequests(configuration);
  return configuration;
}

/** Non-empty scopes joined for the `scope` parameter, or `undefined`: an empty `scope=` is never sent. */
export function scopeParameter(scopes: readonly string[] | undefined): string | undefined {
  const joined = (scopes ?? []).map((scope) => scope.trim()).filter(Boolean).join(' ');
  return joined || undefined;
}

/** `scope` and `audience` as grant parameters, leaving out what is unset. */
export function grantParameters(scopes: readonly string[] | undefined, audience: string | undefined): Record<string, string> {
  const parameters: Record<string, string> = {};
  const scope = scopeParameter(scopes);
  if (scope) parameters.scope = scope;
  if (audience) parameters.audience = audience;
  return parameters;
}
