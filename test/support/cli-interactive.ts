import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startFlyteServer } from './flyte-server.js';
import type { FlyteServices } from './flyte-services.js';
import type { TestGrpcServer } from './grpc-server.js';
import { PUBLIC_CLIENT, type TestIdentityProvider } from './identity-provider.js';
import { FLYTE_SCOPES, flyteScopes, freePort } from './interactive-environment.js';

/**
 * A Flyte server for interactive CLI logins: the identity provider with refresh tokens for the public client `cli`,
 * and a grpc-js server with `AuthMetadataService` (publishing `cli`, the scopes and a loopback redirect URI) and
 * `IdentityService.UserInfo` (checking the JWT under `flyte-authorization`).
 */
export interface InteractiveFlyte {
  idp: TestIdentityProvider;
  flyte: FlyteServices;
  server: TestGrpcServer;
  /** The redirect URI the server publishes (a free loopback port). */
  redirectUri: string;
  /** Device authorizations the identity provider granted (distinct device codes: one per device login started). */
  readonly deviceAuthorizations: number;
  /** Authorization codes the identity provider issued (one per completed browser login). */
  readonly authorizationCodes: number;
  close: () => Promise<void>;
}

export async function startInteractiveFlyte(): Promise<InteractiveFlyte> {
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const { idp, services: flyte, server, close } = await startFlyteServer({
    idp: { configure: flyteScopes },
    publicClientConfig: { clientId: PUBLIC_CLIENT.clientId, scopes: [...FLYTE_SCOPES], redirectUri },
  });
  // Models are saved again when they change (approval, consumption): distinct ids count the grants.
  const deviceCodes = new Set<string>();
  const authorizationCodes = new Set<string>();
  idp.provider.on('device_code.saved', (code: { jti: string }) => deviceCodes.add(code.jti));
  idp.provider.on('authorization_code.saved', (code: { jti: string }) => authorizationCodes.add(code.jti));
  return {
    idp,
    flyte,
    server,
    redirectUri,
    get deviceAuthorizations() {
      return deviceCodes.size;
    },
    get authorizationCodes() {
      return authorizationCodes.size;
    },
    close,
  };
}

/** The token file of a `HOME` on Linux without `XDG_CONFIG_HOME`. */
export function tokenFilePath(home: string): string {
  return join(home, '.config', 'flyte-grpc-auth', 'tokens.json');
}

export interface StoredEntry {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  forEndpoint: string;
}

/** The entries of a token file (`{}` when there is none), and its mode. */
export function readTokenFile(home: string): { entries: Record<string, StoredEntry>; mode: number | undefined } {
  const file = tokenFilePath(home);
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { credentials: Record<string, StoredEntry> };
    return { entries: parsed.credentials, mode: statSync(file).mode & 0o777 };
  } catch {
    return { entries: {}, mode: undefined };
  }
}
