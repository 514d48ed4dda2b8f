import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { AUTH_METADATA_SERVICE, IDENTITY_SERVICE } from '../../flyte/auth-metadata.js';

// `src/grpc-js/flyte/` under tsx and `dist/grpc-js/flyte/` after the build are both three levels below the package root, where
// `protos/` ships (package.json `files`).
const PROTO_ROOT = fileURLToPath(new URL('../../../protos/', import.meta.url));

export { AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2, IDENTITY_SERVICE, IDENTITY_SERVICE_V2 } from '../../flyte/auth-metadata.js';

/** `OAuth2MetadataResponse` (RFC 8414) as `@grpc/proto-loader` decodes it: camelCase, proto3 defaults filled in. */
export interface OAuth2MetadataResponse {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  responseTypesSupported: string[];
  scopesSupported: string[];
  tokenEndpointAuthMethodsSupported: string[];
  jwksUri: string;
  codeChallengeMethodsSupported: string[];
  grantTypesSupported: string[];
  deviceAuthorizationEndpoint: string;
}

/** `PublicClientAuthConfigResponse` as decoded: camelCase, proto3 defaults (`''`, `[]`) filled in. */
export interface PublicClientAuthConfigResponse {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** The metadata key that carries the token; `''` means `authorization`. */
  authorizationMetadataKey: string;
  serviceHttpEndpoint: string;
  audience: string;
  /** Flyte 2 only; `''` from a Flyte 1 server. */
  dataplaneDomain: string;
}

/** A `google.protobuf.Value` as decoded by `@grpc/proto-loader` (the `kind` oneof as a field name). */
export interface ProtoValue {
  nullValue?: 'NULL_VALUE' | number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
  kind?: string;
}

/** A `google.protobuf.Struct` as decoded by `@grpc/proto-loader`. */
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

/** `UserInfoResponse` (OpenID Connect UserInfo) as decoded. */
export interface UserInfoResponse {
  subject: string;
  name: string;
  preferredUsername: string;
  givenName: string;
  familyName: string;
  email: string;
  picture: string;
  additionalClaims: ProtoStruct | null;
}

/** The methods of `AuthMetadataService`, typed. */
export interface AuthMetadataServiceDefinition extends grpc.ServiceDefinition {
  GetOAuth2Metadata: grpc.MethodDefinition<Record<string, never>, OAuth2MetadataResponse>;
  GetPublicClientConfig: grpc.MethodDefinition<Record<string, never>, PublicClientAuthConfigResponse>;
}

/** The methods of `IdentityService`, typed. */
export interface IdentityServiceDefinition extends grpc.ServiceDefinition {
  UserInfo: grpc.MethodDefinition<Record<string, never>, UserInfoResponse>;
}

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  // proto3 leaves unset strings and lists out of the wire: fill them so a response always has every field.
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

const loaded = new Map<string, protoLoader.PackageDefinition>();

// Loaded on first use, not at import: importing the package stays free of file reads.
function loadFile(file: string): protoLoader.PackageDefinition {
  let definition = loaded.get(file);
  if (!definition) {
    definition = protoLoader.loadSync(file, LOADER_OPTIONS);
    loaded.set(file, definition);
  }
  return definition;
}

// The wire path is `/<service>/<method>` only; message names never travel, so one definition serves any service name.
function renamed<T extends grpc.ServiceDefinition>(file: string, upstreamName: string, serviceName: string): T {
  const service = loadFile(file)[upstreamName] as unknown as grpc.ServiceDefinition;
  const methods = Object.entries(service).map(([name, method]) => [name, { ...method, path: `/${serviceName}/${name}` }] as const);
  return Object.fromEntries(methods) as unknown as T;
}

/**
 * The `AuthMetadataService` method definitions (paths, serializers) for grpc-js, under `serviceName`
 * (default `flyteidl.service.AuthMetadataService`; `flyteidl2.auth.AuthMetadataService` for Flyte 2).
 * Usable with `grpc.Client#makeUnaryRequest` and `grpc.Server#addService`.
 */
export function authMetadataServiceDefinition(serviceName: string = AUTH_METADATA_SERVICE): AuthMetadataServiceDefinition {
  return renamed<AuthMetadataServiceDefinition>('flyteidl/service/auth.proto', AUTH_METADATA_SERVICE, serviceName);
}

/** The `IdentityService` method definitions for grpc-js, under `serviceName` (default `flyteidl.service.IdentityService`). */
export function identityServiceDefinition(serviceName: string = IDENTITY_SERVICE): IdentityServiceDefinition {
  return renamed<IdentityServiceDefinition>('flyteidl/service/identity.proto', IDENTITY_SERVICE, serviceName);
}
