import './quiet-oidc-provider.js'; // before oidc-provider, which warns as it loads
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider, { errors, type Configuration } from 'oidc-provider';

/** The resource (audience) every access token is issued for; the test gRPC servers require it. */
export const API_AUDIENCE = 'urn:flyte-grpc-auth:test-api';

export const BASIC_CLIENT = { clientId: 'svc-basic', clientSecret: 'p@ss:w0rd/+' } as const;
export const POST_CLIENT = { clientId: 'svc-post', clientSecret: 'post-secret' } as const;
export const PUBLIC_CLIENT = { clientId: 'cli', redirectUri: 'http://127.0.0.1:53593/callback' } as const;

/** A fault the next token requests get instead of the provider's answer. */
export type TokenFault =
  | { kind: 'status'; status: number; body?: string; contentType?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  /** Answered normally once `until` settles (a token endpoint that hangs until the test releases it). */
  | { kind: 'hold'; until: Promise<unknown> }
  /** Answered normally after `ms` (a slow token endpoint). */
  | { kind: 'delay'; ms: number };

export interface TestIdentityProvider {
  issuer: string;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  deviceAuthorizationEndpoint: string;
  jwksUri: string;
  provider: Provider;
  /** Token requests that reached the server (faults included), by `grant_type`. */
  tokenRequests: Map<string, number>;
  /** TCP connections accepted so far (counts attempts that fail before HTTP, such as TLS handshakes). */
  readonly connectionCount: number;
  /** All token requests so far. */
  readonly tokenRequestCount: number;
  /** Form bodies and authorization headers of the token requests, in order. */
  tokenRequestLog: Array<{ body: URLSearchParams; headers: IncomingMessage['headers'] }>;
  /** Answers the next `count` token requests with `fault`. */
  failTokenRequests(fault: TokenFault, count?: number): void;
  /** Drops the faults not used yet. */
  clearTokenFaults(): void;
  /** Changes the lifetime (seconds) of access tokens issued from now on. */
  setAccessTokenTtl(seconds: number): void;
  close(): Promise<void>;
}

/** Consent without a consent page: every logged-in user grants `oidcScopes` and the API's scopes. */
export function autoConsent(oidcScopes: string): NonNullable<Configuration['loadExistingGrant']> {
  return async (ctx) => {
    const accountId = ctx.oidc.session?.accountId;
    const client = ctx.oidc.client;
    if (!accountId || !client) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
    grant.addOIDCScope(oidcScopes);
    grant.addResourceScope(API_AUDIENCE, 'api:read api:write');
    await grant.save();
    return grant;
  };
}

export interface IdentityProviderOptions {
  accessTokenTtlSeconds?: number;
  /** Serve HTTPS with this key and certificate (see `tls.ts`) instead of plain HTTP. */
  tls?: { key: Buffer; cert: Buffer };
  /** Extra oidc-provider configuration merged over the defaults. */
  configure?: (configuration: Configuration) => void;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * oidc-provider in-process on 127.0.0.1: client credentials with JWT access tokens (resource indicators),
 * authorization code + PKCE and device flow with refresh-token rotation, dev login pages for headless tests.
 */
export async function startIdentityProvider(options: IdentityProviderOptions = {}): Promise<TestIdentityProvider> {
  let accessTokenTtl = options.accessTokenTtlSeconds ?? 300;
  const faults: TokenFault[] = [];
  const tokenRequests = new Map<string, number>();
  const tokenRequestLog: TestIdentityProvider['tokenRequestLog'] = [];
  const sockets = new Set<import('node:net').Socket>();
  let connections = 0;
  // The provider needs the issuer URL, which needs the port: route requests to it once it exists.
  const route: { handler?: (req: IncomingMessage, res: ServerResponse) => unknown } = {};

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      if (req.method === 'POST' && req.url?.startsWith('/token')) {
        const raw = await readBody(req);
        const body = new URLSearchParams(raw.toString('utf8'));
        const grant = body.get('grant_type') ?? '';
        tokenRequests.set(grant, (tokenRequests.get(grant) ?? 0) + 1);
        tokenRequestLog.push({ body, headers: req.headers });
        const fault = faults.shift();
        if (fault?.kind === 'hang') return;
        if (fault?.kind === 'hold') await fault.until.catch(() => undefined);
        if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (req.socket.destroyed) return;
        if (fault?.kind === 'reset') {
          req.socket.destroy();
          return;
        }
        if (fault?.kind === 'status') {
          res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'text/html' });
          res.end(fault.body ?? '<html>bad gateway</html>');
          return;
        }
        // Hand the consumed body back to the provider.
        const { Readable } = await import('node:stream');
        const replay = Object.assign(Readable.from([raw]), {
          headers: req.headers,
          method: req.method,
          url: req.url,
          httpVersion: req.httpVersion,
          socket: req.socket,
          connection: req.socket,
        });
        void route.handler?.(replay as unknown as IncomingMessage, res);
        return;
      }
      void route.handler?.(req, res);
    })();
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: BASIC_CLIENT.clientId,
        client_secret: BASIC_CLIENT.clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: POST_CLIENT.clientId,
        client_secret: POST_CLIENT.clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: PUBLIC_CLIENT.clientId,
        token_endpoint_auth_method: 'none',
        application_type: 'native',
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        redirect_uris: [PUBLIC_CLIENT.redirectUri],
      },
    ],
    features: {
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => API_AUDIENCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== API_AUDIENCE) throw new errors.InvalidTarget();
          return {
            scope: 'api:read api:write',
            audience: API_AUDIENCE,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    scopes: ['openid', 'offline_access', 'api:read', 'api:write'],
    pkce: { required: () => true },
    ttl: {
      AccessToken: () => accessTokenTtl,
      ClientCredentials: () => accessTokenTtl,
      DeviceCode: 120,
      RefreshToken: 3600,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
    },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    loadExistingGrant: autoConsent('openid offline_access'),
  };
  options.configure?.(configuration);
  const provider = new Provider(issuer, configuration);
  route.handler = provider.callback();

  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    authorizationEndpoint: `${issuer}/auth`,
    deviceAuthorizationEndpoint: `${issuer}/device/auth`,
    jwksUri: `${issuer}/jwks`,
    provider,
    tokenRequests,
    get connectionCount() {
      return connections;
    },
    get tokenRequestCount() {
      return tokenRequestLog.length;
    },
    tokenRequestLog,
    failTokenRequests(fault, count = 1) {
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    clearTokenFaults() {
      faults.length = 0;
    },
    setAccessTokenTtl(seconds) {
      accessTokenTtl = seconds;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
