import type { ClientAuth } from 'openid-client';

/** How a confidential client authenticates at the token endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

// Go's `url.QueryEscape` leaves exactly these bytes alone: A-Z a-z 0-9 - _ . ~
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x5f ||
    byte === 0x2e ||
    byte === 0x7e
  );
}

/**
 * `text` escaped exactly as Go's `url.QueryEscape`: unreserved characters (`A-Z a-z 0-9 - _ . ~`) unchanged, a space
 * as `+`, every other UTF-8 byte as `%XX` in upper-case hex.
 */
export function goQueryEscape(text: string): string {
  let escaped = '';
  for (const byte of new TextEncoder().encode(text)) {
    if (isUnreserved(byte)) escaped += String.fromCharCode(byte);
    else if (byte === 0x20) escaped += '+';
    else escaped += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return escaped;
}

/**
 * The `Authorization` header value for HTTP Basic client authentication as the Flyte Go client (x/oauth2) sends it:
 * `Basic base64(QueryEscape(id) + ':' + QueryEscape(secret))`. openid-client's own `ClientSecretBasic` also escapes
 * `-_.~`, which servers that do not percent-decode (glewlwyd) read as a different client id.
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${goQueryEscape(clientId)}:${goQueryEscape(clientSecret)}`, 'ascii').toString('base64')}`;
}

/** An openid-client `ClientAuth` that sends {@link basicAuthorization}. */
export function clientSecretBasic(clientSecret: string): ClientAuth {
  return (_server, client, _body, headers) => {
    headers.set('authorization', basicAuthorization(client.client_id, clientSecret));
  };
}
