import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2 } from '../../flyte/auth-metadata.js';
import { AuthMetadataService as AuthMetadataServiceV1 } from './gen/flyteidl/service/auth_pb.js';
import { AuthMetadataService as AuthMetadataServiceV2 } from './gen/flyteidl2/auth/auth_service_pb.js';

/** The Flyte 1 descriptor: its methods answer the same fields as Flyte 2's, without `dataplaneDomain`. */
export type AuthMetadataServiceDesc = typeof AuthMetadataServiceV1;

const renamedServices = new Map<string, AuthMetadataServiceDesc>();

// Only `/<service>/<method>` travels on the wire: the Flyte 1 descriptor under another name serves any service name.
function renamed(service: AuthMetadataServiceDesc, typeName: string): AuthMetadataServiceDesc {
  const copy = { ...service, typeName, name: typeName.slice(typeName.lastIndexOf('.') + 1) } as { -readonly [K in keyof DescService]: DescService[K] };
  const methods: DescMethod[] = service.methods.map((method) => ({ ...method, parent: copy }));
  copy.methods = methods;
  copy.method = Object.fromEntries(methods.map((method) => [method.localName, method]));
  return copy as unknown as AuthMetadataServiceDesc;
}

/**
 * The protobuf-es descriptor of the `AuthMetadataService` called `serviceName`: Flyte 1's and Flyte 2's as generated
 * from our protos (`npm run generate`), any other name as Flyte 1's renamed (the messages are the same on the wire).
 */
export function authMetadataServiceDesc(serviceName: string): AuthMetadataServiceDesc {
  if (serviceName === AUTH_METADATA_SERVICE) return AuthMetadataServiceV1;
  // Flyte 2's answer is Flyte 1's plus field 7: one shape serves both.
  if (serviceName === AUTH_METADATA_SERVICE_V2) return AuthMetadataServiceV2 as unknown as AuthMetadataServiceDesc;
  let service = renamedServices.get(serviceName);
  if (!service) {
    service = renamed(AuthMetadataServiceV1, serviceName);
    renamedServices.set(serviceName, service);
  }
  return service;
}
