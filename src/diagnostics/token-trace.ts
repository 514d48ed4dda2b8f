import type { RefreshReason } from '../authenticators/refresh-reason.js';
import type { Credentials } from '../tokens/credentials.js';
import { tokenChannel, type TokenRequestMessage, type TokenRequestResult } from './channels.js';
import { armDebugLog } from './debug-log.js';
import { redactUrl, tokenFingerprint } from './redact.js';

/** What an authenticator says about a token request; read at the start and again at the end (for the token endpoint). */
export interface TokenRequestDescription {
  flow: string;
  endpoint: string;
  tokenEndpoint: string | undefined;
  reason: RefreshReason;
}

/**
 * Runs `obtain` as one token request on the `flyte-grpc-auth:token` tracing channel and returns what it returns.
 * Nobody subscribed: `obtain()` as is, nothing else is built. Subscribed: the message never holds the credentials, only
 * `result: { expiresAt, token: <fingerprint> }`; the error is the one `obtain` threw, passed on unchanged.
 */
export function traceTokenRequest(describe: () => TokenRequestDescription, obtain: () => Promise<Credentials>): Promise<Credentials> {
  armDebugLog();
  if (!tokenChannel.hasSubscribers) return obtain();
  let message: TokenRequestMessage;
  try {
    const start = describe();
    message = {
      flow: String(start.flow),
      endpoint: String(start.endpoint),
      tokenEndpoint: start.tokenEndpoint === undefined ? undefined : redactUrl(String(start.tokenEndpoint)),
      reason: start.reason,
    };
  } catch {
    return obtain(); // a description that cannot be built is no reason to fail the request
  }
  let credentials: Credentials | undefined;
  // What tracePromise publishes as `result`: a summary, because it would otherwise publish the credentials.
  const traced = async (): Promise<TokenRequestResult> => {
    try {
      credentials = await obtain();
      return { expiresAt: credentials.expiresAt, token: tokenFingerprint(String(credentials.accessToken)) };
    } finally {
      // The flow may have learned its token endpoint during the request (the first one asks the config store).
      if (message.tokenEndpoint === undefined) {
        try {
          const tokenEndpoint = describe().tokenEndpoint;
          if (tokenEndpoint !== undefined) message.tokenEndpoint = redactUrl(String(tokenEndpoint));
        } catch {
          // Keep the message as it was.
        }
      }
    }
  };
  return tokenChannel.tracePromise(traced, message).then(() => credentials as Credentials);
}
