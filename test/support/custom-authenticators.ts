import { Authenticator, ClientCredentialsAuthenticator, type AuthMetadata, type Credentials } from '../../src/index.js';

/**
 * A custom authenticator (as users write them) that hands the interceptor `header` as is, cached (`currentAuthMetadata`)
 * or only after a wait (`fetchGrpcCallAuthMetadata`): the interceptor must survive whatever it holds.
 */
export class FixedHeaderAuthenticator extends Authenticator {
  readonly #header: AuthMetadata;
  readonly #cached: boolean;

  constructor(header: AuthMetadata, options: { cached: boolean }) {
    super({ endpoint: 'test' });
    this.#header = header;
    this.#cached = options.cached;
  }

  override currentAuthMetadata(): AuthMetadata | undefined {
    return this.#cached ? this.#header : undefined;
  }

  override async fetchGrpcCallAuthMetadata(): Promise<AuthMetadata | undefined> {
    return this.#header;
  }

  protected override async obtainCredentials(): Promise<Credentials> {
    throw new Error('not used');
  }
}

/**
 * Opaque tokens without expiry (as a token command prints them): each token comes from the real identity provider,
 * but the authenticator forgets its lifetime, so only a rejection can ever replace it.
 */
export class OpaqueTokenAuthenticator extends Authenticator {
  readonly #source: ClientCredentialsAuthenticator;
  /** Tokens obtained so far. */
  obtained = 0;

  constructor(source: ClientCredentialsAuthenticator) {
    super({ endpoint: source.endpoint });
    this.#source = source;
  }

  protected override async obtainCredentials(): Promise<Credentials> {
    const { accessToken } = await this.#source.refreshCredentials();
    this.obtained += 1;
    return { accessToken, forEndpoint: this.endpoint };
  }
}

/** Resolves once no refresh is in flight in `authenticator` (a background compare-and-refresh, for instance). */
export async function refreshSettled(authenticator: Authenticator): Promise<void> {
  // A header that is never current: joins a refresh in flight, else returns at once without refreshing.
  await authenticator.refreshAfterRejection(['x-none', 'Bearer none']).catch(() => undefined);
}
