import { API_AUDIENCE, PUBLIC_CLIENT, type TestIdentityProvider } from './identity-provider.js';

/**
 * A refresh token for the public client `cli`, issued by the test identity provider as if a user had logged in
 * (same grant, scopes and resource as a real login), so store and refresh tests need no login.
 */
export async function mintRefreshToken(idp: TestIdentityProvider, accountId = 'user-1'): Promise<string> {
  const { provider } = idp;
  const client = await provider.Client.find(PUBLIC_CLIENT.clientId);
  if (!client) throw new Error(`test IdP has no client ${PUBLIC_CLIENT.clientId}`);
  const grant = new provider.Grant({ clientId: client.clientId, accountId });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(API_AUDIENCE, 'api:read api:write');
  const grantId = await grant.save();
  const refreshToken = new provider.RefreshToken({
    client,
    accountId,
    grantId,
    gty: 'authorization_code',
    scope: 'openid offline_access api:read api:write',
    resource: API_AUDIENCE,
    authTime: Math.floor(Date.now() / 1000),
  });
  return refreshToken.save();
}

/** The token endpoint's JSON answer to a refresh_token grant for `cli`, and the HTTP status. */
export async function refreshAtIdentityProvider(
  tokenEndpoint: string,
  refreshToken: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: PUBLIC_CLIENT.clientId }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
