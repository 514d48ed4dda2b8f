import * as grpc from '@grpc/grpc-js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from '../../grpc-js/status.js';
import { authFlowOf } from '../../flyte/auth-type.js';
import { IDENTITY_SERVICE, identityServiceDefinition, type UserInfoResponse } from '../../grpc-js/flyte/flyte-protos.js';
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

function describeFailure(error: grpc.ServiceError, cfg: PlatformConfig): string {
  const codeName = grpc.status[error.code] ?? String(error.code);
  const details = (error.details || error.message).replace(/\s*Resolution note:\s*$/, '').trim();
  const where = `${IDENTITY_SERVICE}/UserInfo at ${cfg.endpoint}`;
  // The interceptor's own failure: the call never left, so the server's status says nothing; the reason does.
  if (details.startsWith(TOKEN_FAILURE_DETAILS_PREFIX)) return `no access token for ${where}: ${details.slice(TOKEN_FAILURE_DETAILS_PREFIX.length)}`;
  if (error.code === grpc.status.UNIMPLEMENTED) return `${where} failed with UNIMPLEMENTED: the server does not serve ${IDENTITY_SERVICE}`;
  if (error.code === grpc.status.UNAVAILABLE) {
    return `${where} failed with UNAVAILABLE (${details}); is the server running, the endpoint right, and insecure set to match the server (TLS or plaintext)?`;
  }
  return `${where} failed with ${codeName} (${details})`;
}

/** `whoami`: calls `IdentityService/UserInfo` with auth and prints the answer as JSON. */
export async function whoamiCommand(context: CommandContext): Promise<void> {
  const cfg = await loadCliConfig(context);
  const auth = createCliAuth(cfg, context);
  const method = identityServiceDefinition().UserInfo;
  const client = new grpc.Client(cfg.endpoint, auth.channelCredentials, auth.clientOptions({ 'grpc.primary_user_agent': `${PROGRAM}/${packageVersion()}` }));
  try {
    const response = await new Promise<UserInfoResponse>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        {},
        new grpc.Metadata(),
        { deadline: deadlineFor(cfg) },
        (error, value) => {
          rememberTokens(context, auth.authenticator.getCredentials());
          if (error) reject(new CliError(describeFailure(error, cfg)));
          else if (!value) reject(new CliError(`${IDENTITY_SERVICE}/UserInfo at ${cfg.endpoint} returned no answer`));
          else resolve(value);
        },
      );
    });
    const printed: PrintedUserInfo = { ...response, additionalClaims: fromProtoStruct(response.additionalClaims) };
    context.io.stdout(`${JSON.stringify(printed, null, 2)}\n`);
  } finally {
    client.close();
  }
}
