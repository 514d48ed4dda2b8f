/**
 * How to talk to the identity provider: flytekit's `ClientConfig`, camelCased.
 * A `RemoteClientConfigStore` fills it from the Flyte server's `AuthMetadataService`.
 */
export interface ClientConfig {
  tokenEndpoint: string;
  authorizationEndpoint?: string;
  redirectUri?: string;
  clientId?: string;
  deviceAuthorizationEndpoint?: string;
  scopes?: string[];
  /** The gRPC metadata key that carries the token. Default `authorization`; flyteadmin uses `flyte-authorization`. */
  headerKey?: string;
  audience?: string;
  /** The identity provider's issuer (from the server's OAuth2 metadata); defaults to the token endpoint's origin. */
  issuer?: string;
  /** Flyte 2's `dataplane_domain` from `GetPublicClientConfig`: where the data plane is served, when it differs. */
  dataplaneDomain?: string;
}

/** Where an authenticator gets its `ClientConfig` from. */
export interface ClientConfigStore {
  getClientConfig(): Promise<ClientConfig>;
}

/** A `ClientConfigStore` that returns the config it was given. */
export class StaticClientConfigStore implements ClientConfigStore {
  readonly #config: ClientConfig;

  constructor(config: ClientConfig) {
    this.#config = config;
  }

  async getClientConfig(): Promise<ClientConfig> {
    return this.#config;
  }
}

export const DEFAULT_HEADER_KEY = 'authorization';
