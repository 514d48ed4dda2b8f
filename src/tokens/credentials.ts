/** What an authenticator holds: flytekit's `Credentials`, camelCased, with an absolute expiry. */
export interface Credentials {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** When the access token expires, in epoch milliseconds; absent when unknown. */
  expiresAt?: number;
  /** The Flyte endpoint these credentials were obtained for. */
  forEndpoint: string;
}
