// The official Flyte 2 clients. `@flyteorg/flyteidl2` ships protobuf-es TypeScript sources only (`*_pb.ts`, no `.js`,
// no "type" in its package.json): tsx loads them at run time, but `tsc` would check them as CommonJS and fail. So the
// specifiers are not literals, and the modules are typed by our own generated copy of the same protos (same package,
// message names and fields; `test/connect/flyteidl2.test.ts` checks that the two agree).
type AuthServiceModule = typeof import('../../src/connect/flyte/gen/flyteidl2/auth/auth_service_pb.js');
type IdentityModule = typeof import('../../src/connect/flyte/gen/flyteidl2/auth/identity_pb.js');

const AUTH_DIR = '@flyteorg/flyteidl2/flyteidl2/auth/';

/** `@flyteorg/flyteidl2/flyteidl2/auth/auth_service_pb.ts`: `AuthMetadataService` and its messages. */
export const flyteidl2Auth = (await import(`${AUTH_DIR}auth_service_pb.ts`)) as AuthServiceModule;
/** `@flyteorg/flyteidl2/flyteidl2/auth/identity_pb.ts`: `IdentityService` (`UserInfo`) and its messages. */
export const flyteidl2Identity = (await import(`${AUTH_DIR}identity_pb.ts`)) as IdentityModule;
