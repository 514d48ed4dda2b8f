import type { Authenticator } from '../authenticators/authenticator.js';

export type { AuthMetadata } from '../authenticators/authenticator.js';

/**
 * What the call policy needs of an {@link Authenticator}: the synchronous fast path, the wait for a token, and
 * compare-and-refresh after a rejection. Every `Authenticator` is one.
 */
export type TokenSource = Pick<Authenticator, 'currentAuthMetadata' | 'fetchGrpcCallAuthMetadata' | 'refreshAfterRejection'>;
