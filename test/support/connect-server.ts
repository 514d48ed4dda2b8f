import { Code, ConnectError, createContextKey, createContextValues, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { createServer, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthMetadataService as AuthMetadataServiceV1 } from '../../src/connect/flyte/gen/flyteidl/service/auth_pb.js';
import { DEFAULT_PUBLIC_CLIENT_CONFIG, type IdentityProviderEndpoints } from './flyte-services.js';
import { flyteidl2Auth, flyteidl2Identity } from './flyteidl2.js';
import { Echo } from './gen/echo_pb.js';

/** One Echo call as the Connect server saw it (the grpc-js test server's record, with `Headers`). */
export interface ConnectReceivedCall {
  method: string;
  /** Every value of the auth header (more than one would be a bug). */
  headerValues: string[];
  /** `ok` or why the call was rejected. */
  outcome: string;
  /** The request texts the server read, in order. */
  requests: string[];
  /** Whether response headers went out before the call ended. */
  headersSent: boolean;
  header: Headers;
}

/**
 * What the server does with one Echo call (the grpc-js test server's plans):
 * - `accept`: verify the JWT (rejected before any response header if invalid), then answer;
 * - `reject`: `code` (default `unauthenticated`) before any response header (an HTTP error status, the Connect
 *   protocol's "trailers-only"), or in the handler after them (`afterHeaders`; a stream's end message);
 * - `reject-after`: a valid token is served until `messages` responses went out (server stream, bidi) or `messages`
 *   requests were read (client stream), then rejected with `code`.
 */
export type ConnectCallPlan =
  | { kind: 'accept' }
  | { kind: 'reject'; code?: Code; afterHeaders?: boolean }
  | { kind: 'reject-after'; messages: number; code?: Code };

export type ConnectFlyteRpc = 'GetOAuth2Metadata' | 'GetPublicClientConfig' | 'UserInfo';

export interface TestConnectServer {
  /** `http://127.0.0.1:<port>`: the `baseUrl` of a Connect or gRPC transport. */
  baseUrl: string;
  calls: ConnectReceivedCall[];
  /** `AuthMetadataService` and `IdentityService` calls, by method. */
  flyteCalls: Record<ConnectFlyteRpc, number>;
  /** Request headers of the Flyte service calls, in order. */
  flyteHeaders: Array<{ rpc: ConnectFlyteRpc; header: Headers }>;
  /** Rejects the next `count` Echo calls with `unauthenticated`, whatever their token. */
  rejectNext(count: number, options?: { afterHeaders?: boolean }): void;
  /** Answers the next `count` Echo calls with `code` (before any message). */
  failNext(code: Code, count?: number, options?: { afterHeaders?: boolean }): void;
  /** Plans what the next Echo calls get, one plan per call, in order. */
  planNext(...plans: ConnectCallPlan[]): void;
  close(): Promise<void>;
}

export interface ConnectServerOptions {
  /** The identity provider whose JWTs are accepted, and whose endpoints `GetOAuth2Metadata` publishes. */
  idp: IdentityProviderEndpoints;
  audience: string;
  /** Header carrying `Bearer <jwt>`. Default `authorization`. */
  headerKey?: string;
  /**
   * Which `AuthMetadataService` is served: Flyte 2's (the official `@flyteorg/flyteidl2` descriptors, the default),
   * Flyte 1's, or none. `IdentityService` is always Flyte 2's.
   */
  authMetadata?: 'v2' | 'v1' | 'none';
  /** What `GetPublicClientConfig` answers, over the flyteadmin-like default. */
  publicClientConfig?: Partial<typeof DEFAULT_PUBLIC_CLIENT_CONFIG> & { dataplaneDomain?: string };
}

type Decision = { kind: 'serve'; subject: string; record: ConnectReceivedCall; plan: ConnectCallPlan } | { kind: 'reject'; error: ConnectError };

const DECISION = createContextKey<Decision | undefined>(undefined, { description: 'the HTTP-level auth decision' });
const ECHO_PREFIX = `/${Echo.typeName}/`;

const stringClaim = (payload: JWTPayload, name: string): string => {
  const value = payload[name];
  return typeof value === 'string' ? value : '';
};

// Node joins repeated header values with ", " (a JWT has neither): two values show as two.
function headerValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(', '));
}

// The HTTP statuses that Connect clients map back to the same code (`codeFromHttpStatus`); anything else is 500.
const HTTP_STATUS: Partial<Record<Code, number>> = {
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.Unimplemented]: 404,
  [Code.Internal]: 400,
  [Code.Unavailable]: 503,
};

/** Rejects before the Connect handler runs, as HTTP auth middleware does: no response message, no stream. */
function rejectOverHttp(req: Http2ServerRequest, res: Http2ServerResponse, error: ConnectError): void {
  if (String(req.headers['content-type']).startsWith('application/grpc')) {
    // gRPC: trailers-only (the status in the only header block).
    res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': String(error.code), 'grpc-message': encodeURIComponent(error.rawMessage) });
    res.end();
    return;
  }
  // Connect: an HTTP error status, with the error as JSON (unary clients read it; stream clients use the status).
  res.writeHead(HTTP_STATUS[error.code] ?? 500, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code: Code[error.code].replace(/[A-Z]/g, (c: string, at: number) => (at ? '_' : '') + c.toLowerCase()), message: error.rawMessage }));
}

/**
 * A real `@connectrpc/connect-node` server on 127.0.0.1 (HTTP/2 without TLS, so it speaks the Connect, gRPC and
 * gRPC-web protocols): the `test.echo.Echo` service with the grpc-js test server's behaviour (a JWT from the identity
 * provider on every call, checked before the handler runs; `x-attempt` response headers; call plans), and Flyte 2's
 * `AuthMetadataService` and `IdentityService` from the official `@flyteorg/flyteidl2` descriptors.
 */
export async function startConnectServer(options: ConnectServerOptions): Promise<TestConnectServer> {
  const headerKey = options.headerKey ?? 'authorization';
  const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.idp.jwksUri));
  const calls: ConnectReceivedCall[] = [];
  const flyteCalls: Record<ConnectFlyteRpc, number> = { GetOAuth2Metadata: 0, GetPublicClientConfig: 0, UserInfo: 0 };
  const flyteHeaders: TestConnectServer['flyteHeaders'] = [];
  const plans: ConnectCallPlan[] = [];
  const decisions = new WeakMap<Http2ServerRequest, Decision>();

  async function verify(values: string[]): Promise<JWTPayload> {
    if (values.length !== 1) throw new ConnectError(`expected one ${headerKey} value, got ${values.length}`, Code.Unauthenticated);
    const match = /^Bearer (.+)$/.exec(values[0]!);
    if (!match) throw new ConnectError('no bearer token', Code.Unauthenticated);
    try {
      const { payload } = await jwtVerify(match[1]!, jwks, { issuer: options.idp.issuer, audience: options.audience });
      return payload;
    } catch (error) {
      throw new ConnectError(`invalid token: ${(error as { code?: string }).code ?? String(error)}`, Code.Unauthenticated);
    }
  }

  // The auth check of an Echo call, before the Connect handler: a rejection goes out without response headers.
  async function decide(req: Http2ServerRequest): Promise<Decision> {
    const values = headerValues(req.headers[headerKey]);
    const header = new Headers();
    for (const [key, value] of Object.entries(req.headers)) if (!key.startsWith(':') && value !== undefined) header.set(key, String(value));
    const record: ConnectReceivedCall = { method: req.url.slice(ECHO_PREFIX.length), headerValues: values, outcome: 'ok', requests: [], headersSent: false, header };
    calls.push(record);
    const reject = (code: Code, message: string): Decision => {
      record.outcome = message;
      return { kind: 'reject', error: new ConnectError(message, code) };
    };
    const plan = plans.shift() ?? { kind: 'accept' };
    if (plan.kind === 'reject' && !plan.afterHeaders) return reject(plan.code ?? Code.Unauthenticated, 'rejected by test');
    try {
      const payload = await verify(values);
      const subject = payload.sub ?? payload.client_id;
      return { kind: 'serve', subject: typeof subject === 'string' ? subject : '', record, plan };
    } catch (error) {
      return reject(Code.Unauthenticated, (error as ConnectError).rawMessage);
    }
  }

  /** The decision for a call that got past the HTTP check; response headers are numbered per call. */
  function serving(context: HandlerContext): Extract<Decision, { kind: 'serve' }> {
    const decision = context.values.get(DECISION);
    if (decision?.kind !== 'serve') throw new ConnectError('no auth decision', Code.Internal);
    context.responseHeader.set('x-attempt', String(calls.indexOf(decision.record) + 1));
    decision.record.headersSent = true;
    const { plan } = decision;
    if (plan.kind === 'reject') {
      decision.record.outcome = 'rejected by test';
      throw new ConnectError('rejected by test', plan.code ?? Code.Unauthenticated);
    }
    return decision;
  }

  function rejectAfter(decision: Extract<Decision, { kind: 'serve' }>, count: number): ConnectError | undefined {
    const { plan } = decision;
    if (plan.kind !== 'reject-after' || count < plan.messages) return undefined;
    const message = `rejected after ${plan.messages} message(s)`;
    decision.record.outcome = message;
    return new ConnectError(message, plan.code ?? Code.Unauthenticated);
  }

  const metadata = () => ({
    issuer: options.idp.issuer,
    authorizationEndpoint: options.idp.authorizationEndpoint,
    tokenEndpoint: options.idp.tokenEndpoint,
    responseTypesSupported: ['code'],
    scopesSupported: ['openid', 'offline_access', 'api:read', 'api:write'],
    tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'client_secret_post', 'none'],
    jwksUri: options.idp.jwksUri,
    codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: ['authorization_code', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    deviceAuthorizationEndpoint: options.idp.deviceAuthorizationEndpoint,
  });
  const { dataplaneDomain = '', ...publicConfig } = { ...DEFAULT_PUBLIC_CLIENT_CONFIG, ...options.publicClientConfig };

  const routes = (router: ConnectRouter): void => {
    router.service(Echo, {
      async unary(request, context) {
        const decision = serving(context);
        decision.record.requests.push(request.text);
        const error = rejectAfter(decision, Number.POSITIVE_INFINITY);
        if (error) throw error;
        return { text: `ok:${request.text}`, subject: decision.subject };
      },
      async *serverStream(request, context) {
        const decision = serving(context);
        decision.record.requests.push(request.text);
        const count = request.count || 3;
        for (let i = 0; i < count; i += 1) {
          const error = rejectAfter(decision, i);
          if (error) throw error;
          yield { text: `${request.text}-${i}`, subject: decision.subject };
        }
        const error = rejectAfter(decision, count);
        if (error) throw error;
      },
      async clientStream(requests, context) {
        const decision = serving(context);
        for await (const request of requests) {
          decision.record.requests.push(request.text);
          const error = rejectAfter(decision, decision.record.requests.length);
          if (error) throw error;
        }
        const error = rejectAfter(decision, Number.POSITIVE_INFINITY);
        if (error) throw error;
        return { text: decision.record.requests.join(','), subject: decision.subject };
      },
      async *bidi(requests, context) {
        const decision = serving(context);
        let replies = 0;
        const early = rejectAfter(decision, 0);
        if (early) throw early;
        for await (const request of requests) {
          decision.record.requests.push(request.text);
          yield { text: `echo:${request.text}`, subject: decision.subject };
          replies += 1;
          const error = rejectAfter(decision, replies);
          if (error) throw error;
        }
        const error = rejectAfter(decision, Number.POSITIVE_INFINITY);
        if (error) throw error;
      },
    });
    const authMetadataImpl = {
      getOAuth2Metadata(_request: unknown, context: HandlerContext) {
        flyteCalls.GetOAuth2Metadata += 1;
        flyteHeaders.push({ rpc: 'GetOAuth2Metadata', header: context.requestHeader });
        return metadata();
      },
      getPublicClientConfig(_request: unknown, context: HandlerContext) {
        flyteCalls.GetPublicClientConfig += 1;
        flyteHeaders.push({ rpc: 'GetPublicClientConfig', header: context.requestHeader });
        return options.authMetadata === 'v1' ? publicConfig : { ...publicConfig, dataplaneDomain };
      },
    };
    if (options.authMetadata === 'v1') router.service(AuthMetadataServiceV1, authMetadataImpl);
    else if (options.authMetadata !== 'none') router.service(flyteidl2Auth.AuthMetadataService, authMetadataImpl);
    router.service(flyteidl2Identity.IdentityService, {
      async userInfo(_request, context) {
        flyteCalls.UserInfo += 1;
        flyteHeaders.push({ rpc: 'UserInfo', header: context.requestHeader });
        const raw = context.requestHeader.get(headerKey);
        const payload = await verify(raw === null ? [] : raw.split(', '));
        const subject = payload.sub ?? stringClaim(payload, 'client_id');
        return {
          subject,
          name: stringClaim(payload, 'name') || stringClaim(payload, 'client_id') || subject,
          additionalClaims: { scope: stringClaim(payload, 'scope'), client_id: stringClaim(payload, 'client_id') },
        };
      },
    });
  };

  const adapter = connectNodeAdapter({
    routes,
    contextValues: (req) => createContextValues().set(DECISION, decisions.get(req as Http2ServerRequest)),
  });
  const sessions = new Set<Http2Session>();
  const server = createServer((req, res) => {
    if (!req.url.startsWith(ECHO_PREFIX)) {
      void adapter(req, res);
      return;
    }
    void decide(req).then((decision) => {
      if (decision.kind === 'reject') return rejectOverHttp(req, res, decision.error);
      decisions.set(req, decision);
      return adapter(req, res);
    });
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    calls,
    flyteCalls,
    flyteHeaders,
    rejectNext(count, rejectOptions = {}) {
      for (let i = 0; i < count; i += 1) plans.push({ kind: 'reject', afterHeaders: rejectOptions.afterHeaders ?? false });
    },
    failNext(code, count = 1, failOptions = {}) {
      for (let i = 0; i < count; i += 1) plans.push({ kind: 'reject', code, afterHeaders: failOptions.afterHeaders ?? false });
    },
    planNext(...next) {
      plans.push(...next);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}
