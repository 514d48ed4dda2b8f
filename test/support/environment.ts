import * as grpc from '@grpc/grpc-js';
import { after, before, beforeEach } from 'node:test';
import { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore, type AuthInterceptorOptions, type ClientConfig } from '../../src/index.js';
import { EchoClient, type EchoClientInstance } from './echo-service.js';
import { startGrpcServer, type GrpcServerOptions, type TestGrpcServer } from './grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type IdentityProviderOptions, type TestIdentityProvider } from './identity-provider.js';

export interface TestEnvironment {
  idp: TestIdentityProvider;
  server: TestGrpcServer;
  clientConfig: ClientConfig;
  /** A client-credentials authenticator for the `svc-basic` client, with fast retries. */
  authenticator: ClientCredentialsAuthenticator;
  interceptor: grpc.Interceptor;
  newClient(options?: grpc.ClientOptions): EchoClientInstance;
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  idp?: IdentityProviderOptions;
  headerKey?: string;
  interceptor?: AuthInterceptorOptions;
  server?: Partial<GrpcServerOptions>;
  refreshWindowMs?: number;
}

/** The identity provider, a JWT-verifying gRPC server and an authenticated client factory, all on 127.0.0.1. */
export async function startEnvironment(options: EnvironmentOptions = {}): Promise<TestEnvironment> {
  const idp = await startIdentityProvider(options.idp);
  const headerKey = options.headerKey ?? 'authorization';
  const server = await startGrpcServer({
    issuer: idp.issuer,
    jwksUri: idp.jwksUri,
    audience: API_AUDIENCE,
    headerKey,
    ...options.server,
  });
  const clientConfig: ClientConfig = { tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'], headerKey };
  const authenticator = new ClientCredentialsAuthenticator({
    endpoint: server.address,
    ...BASIC_CLIENT,
    cfgStore: new StaticClientConfigStore(clientConfig),
    retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 20 },
    refreshWindowMs: options.refreshWindowMs,
  });
  const interceptor = createAuthInterceptor(authenticator, options.interceptor);
  const clients: grpc.Client[] = [];
  return {
    idp,
    server,
    clientConfig,
    authenticator,
    interceptor,
    newClient(clientOptions = {}) {
      const client = new EchoClient(server.address, grpc.credentials.createInsecure(), { interceptors: [interceptor], ...clientOptions });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await server.close();
      await idp.close();
    },
  };
}

/**
 * One environment for a whole `describe` block. Before each test the authenticator holds a fresh token and the
 * call and token-request logs are empty, so counts in a test are the test's own.
 */
export function sharedEnvironment(options: EnvironmentOptions = {}): () => TestEnvironment {
  let env: TestEnvironment | undefined;
  before(async () => {
    env = await startEnvironment(options);
  });
  after(() => env?.close());
  beforeEach(async () => {
    await env!.authenticator.refreshCredentials();
    env!.server.calls.length = 0;
    env!.idp.tokenRequestLog.length = 0;
  });
  return () => env!;
}
