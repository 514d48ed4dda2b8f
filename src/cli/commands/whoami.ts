import * as grpc from '@grpc/grpc-js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from '../../grpc-js/status.js';
import { authFlowOf } from '../../flyte/auth-type.js';
import { AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2, identityServiceFor } from '../../flyte/auth-metadata.js';
import { AuthMetadataClientConfigStore } from '../../flyte/auth-metadata-client-config-store.js';
import { identityServiceDefinition, type UserInfoResponse } from '../../grpc-js/flyte/flyte-protos.js';
import type { PlatformConfig } from '../../flyte/platform-config.js';
import { fromProtoStruct, type JsonValue } from '../../grpc-js/flyte/protobuf-struct.js';
import { createCliAuth, loadCliConfig, type CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { PROGRAM, packageVersion } from '../usage.js';
import { rememberTokens } from './token.js';

/** `UserInfoResponse` as printed: `additionalClaims` as plain JSON. */
export interface PrintedUserInfo extends Omit<UserInfoResponse, 'additionalClaims'> {
  additionalClaims: Record<string, JsonValue>;
}

// The call may have to wait for a login (PKCE, device code): its deadline covers that login too.
function deadlineFor(cfg: PlatformConfig): Date {
  const flow = authFlowOf(cfg.authMode);
  const login = flow === 'pkce' ? cfg.pkceConfig.timeoutMs : flow === 'deviceFlow' ? cfg.deviceFlowConfig.timeoutMs : 0;
  return new Date(Date.now() + cfg.perRetryTimeoutMs + login);
}

function describeFailure(error: grpc.ServiceError, cfg: PlatformConfig, service: string): string {
  const codeName = grpc.status[error.code] ?? String(error.code);
  const details = (error.details || error.message).replace(/\s*Resolution note:\s*$/, '').trim();
  const where = `${service}/UserInfo at ${cfg.endpoint}`;
  // The interceptor's own failure: the call never left, so the server's status says nothing; the reason does.
  if (details.startsWith(TOKEN_FAILURE_DETAILS_PREFIX)) return `no access token for ${where}: ${details.slice(TOKEN_FAILURE_DETAILS_PREFIX.length)}`;
  if (error.code === grpc.status.UNIMPLEMENTED) return `${where} failed with UNIMPLEMENTED: the server does not serve ${service}`;
  if (error.code === grpc.status.UNAVAILABLE) {
    return `${where} failed with UNAVAILABLE (${details}); is the server running, the endpoint right, and insecure set to match the server (TLS or plaintext)?`;
  }
  return `${where} failed with ${codeName} (${details})`;
}

/**
 * The `IdentityService` names to call, in order: the generation of the `AuthMetadataService` configured or found, else
 * Flyte 1's and, when the server does not serve it, Flyte 2's.
 */
async function identityServices(cfg: PlatformConfig, store: unknown): Promise<string[]> {
  if (cfg.authMetadataService) return [identityServiceFor(cfg.authMetadataService)];
  if (store instanceof AuthMetadataClientConfigStore) {
    // The interceptor fetches this config before the call anyway (memoised); a failure is its to report.
    await store.getClientConfig().catch(() => undefined);
    if (store.serviceName) return [identityServiceFor(store.serviceName)];
  }
  return [identityServiceFor(AUTH_METADATA_SERVICE), identityServiceFor(AUTH_METADATA_SERVICE_V2)];
}

function callUserInfo(client: grpc.Client, service: string, cfg: PlatformConfig): Promise<UserInfoResponse> {
  const method = identityServiceDefinition(service).UserInfo;
  return new Promise<UserInfoResponse>((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, {}, new grpc.Metadata(), { deadline: deadlineFor(cfg) }, (error, value) => {
      if (error) reject(error);
      else if (!value) reject(new CliError(`${service}/UserInfo at ${cfg.endpoint} returned no answer`));
      else resolve(value);
    });
  });
}

// Calls each service in turn while the server answers UNIMPLEMENTED; `after` runs after every attempt.
async function firstServed(
  services: string[],
  call: (service: string) => Promise<UserInfoResponse>,
  cfg: PlatformConfig,
  after: () => void,
): Promise<UserInfoResponse> {
  for (const [index, service] of services.entries()) {
    try {
      return await call(service);
    } catch (error) {
      if (error instanceof CliError) throw error;
      const failure = error as grpc.ServiceError;
      if (index === services.length - 1 || failure.code !== grpc.status.UNIMPLEMENTED) throw new CliError(describeFailure(failure, cfg, service));
    } finally {
      after();
    }
  }
  throw new CliError(`no IdentityService to call at ${cfg.endpoint}`);
}

/** `whoami`: calls `IdentityService/UserInfo` (Flyte 1 or Flyte 2, as found) with auth and prints the answer as JSON. */
export async function whoamiCommand(context: CommandContext): Promise<void> {
  const cfg = await loadCliConfig(context);
  const auth = createCliAuth(cfg, context);
  const client = new grpc.Client(cfg.endpoint, auth.channelCredentials, auth.clientOptions({ 'grpc.primary_user_agent': `${PROGRAM}/${packageVersion()}` }));
  try {
    const services = await identityServices(cfg, auth.clientConfigStore);
    const response = await firstServed(services, (service) => callUserInfo(client, service, cfg), cfg, () =>
      rememberTokens(context, auth.authenticator.getCredentials()),
    );
    const printed: PrintedUserInfo = { ...response, additionalClaims: fromProtoStruct(response.additionalClaims) };
    context.io.stdout(`${JSON.stringify(printed, null, 2)}\n`);
  } finally {
    client.close();
  }
}
