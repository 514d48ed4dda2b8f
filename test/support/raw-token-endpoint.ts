import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the raw token endpoint saw it. */
export interface RawTokenRequest {
  /** The `Authorization` header as sent. */
  authorization: string | undefined;
  /** The form body, parsed. */
  body: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface RawTokenEndpoint {
  tokenEndpoint: string;
  readonly requests: RawTokenRequest[];
  close(): Promise<void>;
}

export interface RawTokenEndpointOptions {
  clientId: string;
  clientSecret: string;
  /** Which client authentication it accepts. Default: both. */
  accepts?: Array<'client_secret_basic' | 'client_secret_post'>;
  /** The status of a refusal; glewlwyd answers a bad Basic secret with 403 and an empty body. Default 403. */
  refusalStatus?: number;
}

/**
 * A token endpoint that compares client credentials **byte for byte, without percent-decoding** (like glewlwyd): Basic
 * credentials are base64-decoded and split at the first `:` only. Answers `client_credentials` with an opaque token,
 * everything else with the refusal status and an empty body.
 */
export async function startRawTokenEndpoint(options: RawTokenEndpointOptions): Promise<RawTokenEndpoint> {
  const accepts = options.accepts ?? ['client_secret_basic', 'client_secret_post'];
  const requests: RawTokenRequest[] = [];
  let issued = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const authorization = request.headers.authorization;
      requests.push({ authorization, body, headers: request.headers });
      let authenticated = false;
      if (authorization?.startsWith('Basic ') && accepts.includes('client_secret_basic')) {
        const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        authenticated = colon >= 0 && decoded.slice(0, colon) === options.clientId && decoded.slice(colon + 1) === options.clientSecret;
      } else if (!authorization && body.has('client_secret') && accepts.includes('client_secret_post')) {
        authenticated = body.get('client_id') === options.clientId && body.get('client_secret') === options.clientSecret;
      }
      if (!authenticated || body.get('grant_type') !== 'client_credentials') {
        response.writeHead(options.refusalStatus ?? 403, { 'content-length': '0' });
        response.end();
        return;
      }
      issued += 1;
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify({ access_token: `raw-token-${issued}`, token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tokenEndpoint: `http://127.0.0.1:${port}/api/oidc/token`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
