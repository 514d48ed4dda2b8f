import { loginChannel, type LoginMessage } from './channels.js';
import { armDebugLog } from './debug-log.js';

/**
 * Runs `login` (a person logging in: browser or device code) on the `flyte-grpc-auth:login` tracing channel and
 * returns what it returns. The token response is never published: the traced result is `undefined`.
 */
export function traceLogin<T>(flow: string, endpoint: string, login: () => Promise<T>): Promise<T> {
  armDebugLog();
  if (!loginChannel.hasSubscribers) return login();
  const message: LoginMessage = { flow: String(flow), endpoint: String(endpoint) };
  let response: T | undefined;
  const traced = async (): Promise<undefined> => {
    response = await login();
    return undefined;
  };
  return loginChannel.tracePromise(traced, message).then(() => response as T);
}
