import * as grpc from '@grpc/grpc-js';
import type { AuthMetadataCallOptions, AuthMetadataRpc, AuthMetadataTransport, OAuth2Metadata, PublicClientConfig } from '../../flyte/auth-metadata.js';
import { AuthenticationError } from '../../errors.js';
import { isUnimplementedByServer, toAuthMetadataError } from './auth-metadata-errors.js';
import { authMetadataServiceDefinition } from './flyte-protos.js';

/** Options of {@link GrpcAuthMetadataTransport}. */
export interface GrpcAuthMetadataTransportOptions {
  /** The Flyte gRPC endpoint (`host:port`, or any grpc-js target such as `dns:///host:443`). */
  endpoint: string;
  /** The same TLS settings as the authenticated channel (`createSsl(ca)`, `createInsecure()`, …). */
  channelCredentials: grpc.ChannelCredentials;
  /** grpc-js channel options; `interceptors` and `interceptor_providers` in here are ignored (the calls are anonymous). */
  channelOptions?: grpc.ChannelOptions | undefined;
  /** Interceptors for the calls, e.g. the proxy-authorization interceptor; never the admin auth interceptor. */
  interceptors?: grpc.Interceptor[] | undefined;
}

/** The `AuthMetadataTransport` over grpc-js: one anonymous unary call per method, closed when answered. */
export class GrpcAuthMetadataTransport implements AuthMetadataTransport {
  readonly endpoint: string;
  readonly #options: GrpcAuthMetadataTransportOptions;

  constructor(options: GrpcAuthMetadataTransportOptions) {
    if (!options.endpoint) throw new AuthenticationError('RemoteClientConfigStore needs an endpoint', { code: 'ERR_CONFIG' });
    this.endpoint = options.endpoint;
    this.#options = options;
  }

  getOAuth2Metadata(serviceName: string, options: AuthMetadataCallOptions): Promise<OAuth2Metadata> {
    return this.#call(serviceName, 'GetOAuth2Metadata', authMetadataServiceDefinition(serviceName).GetOAuth2Metadata, options);
  }

  getPublicClientConfig(serviceName: string, options: AuthMetadataCallOptions): Promise<PublicClientConfig> {
    return this.#call(serviceName, 'GetPublicClientConfig', authMetadataServiceDefinition(serviceName).GetPublicClientConfig, options);
  }

  isUnimplemented(error: unknown): boolean {
    return isUnimplementedByServer(error);
  }

  #call<Answer>(
    serviceName: string,
    rpc: AuthMetadataRpc,
    method: grpc.MethodDefinition<Record<string, never>, Answer>,
    { signal, timeoutMs }: AuthMetadataCallOptions,
  ): Promise<Answer> {
    const context = { endpoint: this.endpoint, serviceName, rpc, timeoutMs };
    // Only our interceptors: whatever the caller's options carry (the admin auth interceptor) must not run here.
    const { interceptors: _ignored, interceptor_providers: _ignoredToo, ...channelOptions } = (this.#options.channelOptions ??
      {}) as grpc.ClientOptions;
    return new Promise<Answer>((resolve, reject) => {
      if (signal.aborted) {
        reject(toAuthMetadataError(new Error('cancelled'), context));
        return;
      }
      let client: grpc.Client;
      try {
        // Clients with equal target, credentials and options share one connection (grpc-js's subchannel pool).
        client = new grpc.Client(this.endpoint, this.#options.channelCredentials, { ...channelOptions, interceptors: this.#options.interceptors ?? [] });
      } catch (error) {
        reject(toAuthMetadataError(error, context));
        return;
      }
      const onAbort = (): void => call.cancel();
      const call = client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        {},
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, value) => {
          signal.removeEventListener('abort', onAbort);
          client.close();
          if (error || value === undefined) reject(toAuthMetadataError(error ?? new Error('empty response'), context));
          else resolve(value);
        },
      );
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
