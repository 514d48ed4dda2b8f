import type * as OpenidClient from 'openid-client';
import { lazyImport } from '../util/lazy.js';

// openid-client (with jose and oauth4webapi, ≈15 ms) loads with the first token request, not with the package. Its
// API is synchronous in places (`new Configuration`, `ClientSecretBasic`, `randomState`), so the module is imported
// once up front (`await loadOpenidClient()` where a flow starts) and then used through `oidc` as if it were
// `import * as oidc from 'openid-client'`.

const load = lazyImport(() => import('openid-client'));
let loaded: typeof OpenidClient | undefined;

/** Imports openid-client (once). Every flow awaits this before it touches {@link oidc}. */
export async function loadOpenidClient(): Promise<typeof OpenidClient> {
  loaded ??= await load();
  return loaded;
}

/**
 * openid-client's exports, once {@link loadOpenidClient} has resolved. Reading a member earlier throws: a flow that
 * forgot to load it fails its first test instead of silently loading a second copy.
 */
export const oidc: typeof OpenidClient = new Proxy({} as typeof OpenidClient, {
  get(_target, member) {
    if (!loaded) {
      throw new Error(`openid-client's ${String(member)} used before it was loaded: await loadOpenidClient() where the flow starts`);
    }
    return Reflect.get(loaded, member) as unknown;
  },
});

/** The openid-client types the flows name as `oidc.<Type>` (a namespace merged with the value above). */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace oidc {
  export type ClientAuth = OpenidClient.ClientAuth;
  export type Configuration = OpenidClient.Configuration;
  export type DeviceAuthorizationResponse = OpenidClient.DeviceAuthorizationResponse;
  export type ServerMetadata = OpenidClient.ServerMetadata;
  export type TokenEndpointResponse = OpenidClient.TokenEndpointResponse;
}

type ErrorClass = 'ClientError' | 'ResponseBodyError' | 'WWWAuthenticateChallengeError';

// An `instanceof` right-hand side that never loads openid-client: before it is loaded, nothing is one of its errors.
function errorMatcher<K extends ErrorClass>(name: K): { [Symbol.hasInstance](value: unknown): value is InstanceType<(typeof OpenidClient)[K]> } {
  return {
    [Symbol.hasInstance]: (value: unknown): value is InstanceType<(typeof OpenidClient)[K]> => loaded !== undefined && value instanceof loaded[name],
  };
}

/** `error instanceof ClientError`, without loading openid-client. */
export const ClientError = errorMatcher('ClientError');
/** `error instanceof ResponseBodyError`, without loading openid-client. */
export const ResponseBodyError = errorMatcher('ResponseBodyError');
/** `error instanceof WWWAuthenticateChallengeError`, without loading openid-client. */
export const WWWAuthenticateChallengeError = errorMatcher('WWWAuthenticateChallengeError');
