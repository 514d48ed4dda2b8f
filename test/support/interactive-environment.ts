import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import type { Configuration } from 'oidc-provider';
import type { AddressInfo } from 'node:net';
import { createAuthInterceptor, type Authenticator, type ClientConfig, type ClientConfigStore } from '../../src/index.js';
import { EchoClient, type EchoClientInstance } from './echo-service.js';
import { startGrpcServer, type TestGrpcServer } from './grpc-server.js';
import { API_AUDIENCE, autoConsent, PUBLIC_CLIENT, startIdentityProvider, type IdentityProviderOptions, type TestIdentityProvider } from './identity-provider.js';

/** A port that was free a moment ago (the OS picks it), for callback servers. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export async function isListening(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A config store that counts how often it was asked and can be changed or made to fail. */
export class CountingConfigStore implements ClientConfigStore {
  calls = 0;
  failures = 0;
  config: ClientConfig;

  constructor(config: ClientConfig) {
    this.config = config;
  }

  async getClientConfig(): Promise<ClientConfig> {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('config store unavailable');
    }
    return { ...this.config };
  }
}

/** The scopes the test config asks for: `offline` is flyteadmin's (not OIDC's `offline_access`, which needs `prompt=consent`). */
export const FLYTE_SCOPES = ['openid', 'offline'] as const;

/**
 * Makes the test provider behave like the identity providers Flyte users have for these scopes: `offline` (and
 * `all`) are known, granted without a consent page, and `offline` brings a refresh token.
 */
export function flyteScopes(configuration: Configuration): void {
  configuration.scopes = [...(configuration.scopes ?? []), 'offline', 'all'];
  configuration.issueRefreshToken = async (_ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline') || code.scopes.has('offline_access'));
  configuration.loadExistingGrant = autoConsent('openid offline_access offline all');
}

export interface InteractiveEnvironment {
  idp: TestIdentityProvider;
  server: TestGrpcServer;
  /** A free loopback port and the redirect URI on it (the `cli` client accepts any loopback port: RFC 8252 §7.3). */
  callbackPort: number;
  redirectUri: string;
  clientConfig: ClientConfig;
  cfgStore: CountingConfigStore;
  newClient(authenticator: Authenticator): EchoClientInstance;
  close(): Promise<void>;
}

export interface InteractiveEnvironmentOptions {
  idp?: IdentityProviderOptions;
  /** The header key the gRPC server reads and the config store publishes. Default `authorization`. */
  headerKey?: string;
}

/** The identity provider, a JWT-checking gRPC server and the public client's config, all on 127.0.0.1. */
export async function startInteractiveEnvironment(options: InteractiveEnvironmentOptions = {}): Promise<InteractiveEnvironment> {
  const idp = await startIdentityProvider({
    ...options.idp,
    configure: (configuration) => {
      flyteScopes(configuration);
      options.idp?.configure?.(configuration);
    },
  });
  const headerKey = options.headerKey ?? 'authorization';
  const server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE, headerKey });
  const callbackPort = await freePort();
  const redirectUri = `http://127.0.0.1:${callbackPort}/callback`;
  const clientConfig: ClientConfig = {
    tokenEndpoint: idp.tokenEndpoint,
    authorizationEndpoint: idp.authorizationEndpoint,
    deviceAuthorizationEndpoint: idp.deviceAuthorizationEndpoint,
    redirectUri,
    clientId: PUBLIC_CLIENT.clientId,
    scopes: [...FLYTE_SCOPES],
    headerKey,
    issuer: idp.issuer,
  };
  const cfgStore = new CountingConfigStore(clientConfig);
  const clients: grpc.Client[] = [];
  return {
    idp,
    server,
    callbackPort,
    redirectUri,
    clientConfig,
    cfgStore,
    newClient(authenticator) {
      const client = new EchoClient(server.address, grpc.credentials.createInsecure(), {
        interceptors: [createAuthInterceptor(authenticator)],
      });
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

/** Runs `run` against a fresh interactive environment and always closes it. */
export async function withInteractiveEnvironment(
  run: (env: InteractiveEnvironment) => Promise<void>,
  options: InteractiveEnvironmentOptions = {},
): Promise<void> {
  const env = await startInteractiveEnvironment(options);
  try {
    await run(env);
  } finally {
    await env.close();
  }
}
