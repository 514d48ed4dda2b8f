import { createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import type { AuthMetadataCallOptions, AuthMetadataRpc, AuthMetadataTransport, OAuth2Metadata, PublicClientConfig } from '../../flyte/auth-metadata.js';
import { AuthenticationError } from '../../errors.js';
import { withInterceptors } from '../with-interceptors.js';
import { isUnimplemented, toAuthMetadataError } from './auth-metadata-errors.js';
import { authMetadataServiceDesc } from './auth-metadata-services.js';

/** Options of {@link ConnectAuthMetadataTransport}. */
export interface ConnectAuthMetadataTransportOptions {
  /**
   * A Connect transport to the Flyte API (`createGrpcTransport` or `createConnectTransport` from
   * `@connectrpc/connect-node`), **without** the admin auth interceptor: the service is anonymous, and the admin token
   * needs this very config.
   */
  transport: Transport;
  /** The server, as messages name it (the transport's base URL). Never holds credentials. */
  endpoint: string;
  /** Interceptors for the two calls only, e.g. the proxy-authorization interceptor. */
  interceptors?: Interceptor[] | undefined;
}

/** The `AuthMetadataTransport` over a Connect transport: Flyte's `AuthMetadataService` with protobuf-es descriptors. */
export class ConnectAuthMetadataTransport implements AuthMetadataTransport {
  readonly endpoint: string;
  readonly #transport: Transport;

  constructor(options: ConnectAuthMetadataTransportOptions) {
    if (!options.endpoint) throw new AuthenticationError('ConnectAuthMetadataTransport needs an endpoint', { code: 'ERR_CONFIG' });
    this.endpoint = options.endpoint;
    this.#transport = options.interceptors?.length ? withInterceptors(options.transport, options.interceptors) : options.transport;
  }

  async getOAuth2Metadata(serviceName: string, options: AuthMetadataCallOptions): Promise<OAuth2Metadata> {
    const answer = await this.#call(serviceName, 'GetOAuth2Metadata', options, (client, callOptions) => client.getOAuth2Metadata({}, callOptions));
    return {
      issuer: answer.issuer,
      authorizationEndpoint: answer.authorizationEndpoint,
      tokenEndpoint: answer.tokenEndpoint,
      deviceAuthorizationEndpoint: answer.deviceAuthorizationEndpoint,
      jwksUri: answer.jwksUri,
      scopesSupported: answer.scopesSupported,
    };
  }

  async getPublicClientConfig(serviceName: string, options: AuthMetadataCallOptions): Promise<PublicClientConfig> {
    const answer = await this.#call(serviceName, 'GetPublicClientConfig', options, (client, callOptions) => client.getPublicClientConfig({}, callOptions));
    return {
      clientId: answer.clientId,
      redirectUri: answer.redirectUri,
      scopes: answer.scopes,
      authorizationMetadataKey: answer.authorizationMetadataKey,
      serviceHttpEndpoint: answer.serviceHttpEndpoint,
      audience: answer.audience,
      dataplaneDomain: answer.dataplaneDomain,
    };
  }

  isUnimplemented(error: unknown): boolean {
    for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
      if (isUnimplemented(cause)) return true;
    }
    return false;
  }

  async #call<Answer>(
    serviceName: string,
    rpc: AuthMetadataRpc,
    { signal, timeoutMs }: AuthMetadataCallOptions,
    run: (client: ReturnType<typeof createAuthMetadataClient>, options: { signal: AbortSignal; timeoutMs: number }) => Promise<Answer>,
  ): Promise<Answer> {
    try {
      return await run(createAuthMetadataClient(authMetadataServiceDesc(serviceName), this.#transport), { signal, timeoutMs });
    } catch (error) {
      throw toAuthMetadataError(error, { endpoint: this.endpoint, serviceName, rpc, timeoutMs });
    }
  }
}

function createAuthMetadataClient(service: ReturnType<typeof authMetadataServiceDesc>, transport: Transport) {
  return createClient(service, transport);
}
