import { oidc } from '../oauth/openid-client.js';
import { AuthenticationError } from '../errors.js';
import { toAuthenticationError } from '../oauth/errors.js';
import { sanitizeForTerminal } from '../terminal-text.js';
import { withTokenRetry } from '../oauth/retry.js';
import { pollDeviceToken } from './device-polling.js';
import { InteractiveAuthenticator, type InteractiveAuthenticatorOptions, type LoginContext } from './interactive.js';
import { formatDuration, LoginDeadline, loginAborted } from './login-deadline.js';

/** What the user needs to log in on another device (RFC 8628 §3.2). */
export interface DeviceCodePrompt {
  /** Where to go (`verification_uri`). */
  verificationUri: string;
  /** The same page with the code filled in (`verification_uri_complete`), when the server sends one. */
  verificationUriComplete?: string;
  /** The code to enter; always shown. */
  userCode: string;
  /** Seconds until the code expires. */
  expiresIn: number;
}

/** Options of {@link DeviceCodeAuthenticator}: the shared interactive options plus the prompt and the overall timeout. */
export interface DeviceCodeAuthenticatorOptions extends InteractiveAuthenticatorOptions {
  /** Shows the prompt. Default: prints it to stderr. A throw or rejection ends the login. */
  onPrompt?: ((prompt: DeviceCodePrompt) => void | Promise<void>) | undefined;
  /** Gives up polling after this many ms. Default: when the device code expires (`expires_in`). */
  timeoutMs?: number | undefined;
  /**
   * How long to wait between polls when the identity provider sends no `interval`, in ms (flytectl
   * `deviceFlowConfig.pollInterval`). Default 5000 (RFC 8628). The server's `interval` always wins.
   */
  pollIntervalMs?: number | undefined;
}

const DEFAULT_INTERVAL_SECONDS = 5;
// Past `expires_in` the server's own `expired_token` answer is preferred; this much later we stop waiting for it.
const EXPIRY_GRACE_MS = 5_000;

function describeSeconds(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
}

/** The text of the device-code prompt: where to go, the code, the link with the code filled in, when it expires. */
export function formatDeviceCodePrompt(prompt: DeviceCodePrompt): string {
  let text = `To log in, open ${prompt.verificationUri} in a browser and enter the code: ${prompt.userCode}\n`;
  if (prompt.verificationUriComplete) text += `Or open this link, which has the code filled in: ${prompt.verificationUriComplete}\n`;
  text += `The code expires in ${describeSeconds(prompt.expiresIn)}.\n`;
  return text;
}

/** The default `onPrompt`: the code and where to enter it, on stderr (stdout stays clean for command output). */
export function printDeviceCodePrompt(prompt: DeviceCodePrompt): void {
  process.stderr.write(formatDeviceCodePrompt(prompt));
}

/**
 * OAuth2 device authorization grant (RFC 8628, flytekit's `DeviceCodeAuthenticator`) for machines without a browser:
 * the user opens a URL elsewhere and enters a code while this process polls the token endpoint (`interval` default
 * 5 s, `slow_down` adds 5 s; network errors and 5xx while polling are waited out, polling less often, until the code
 * expires or `timeoutMs` passes). The refresh token is used first on every renewal.
 */
export class DeviceCodeAuthenticator extends InteractiveAuthenticator {
  readonly #options: DeviceCodeAuthenticatorOptions;

  constructor(options: DeviceCodeAuthenticatorOptions) {
    super(options, 'deviceflow');
    this.#options = options;
  }

  protected override get flow(): string {
    return 'deviceFlow';
  }

  protected override async login(context: LoginContext): Promise<oidc.TokenEndpointResponse> {
    const { config, configuration, parameters } = context;
    // A Flyte server without device flow publishes an empty string (proto3 default), not nothing.
    const deviceEndpoint = config.deviceAuthorizationEndpoint;
    if (!deviceEndpoint) {
      throw new AuthenticationError('Device Authentication is not available on the Flyte backend / authentication server', {
        code: 'ERR_NOT_AVAILABLE',
      });
    }
    if (context.signal?.aborted) throw loginAborted(context.signal);
    const device = await withTokenRetry(
      () => oidc.initiateDeviceAuthorization(configuration, parameters),
      'device authorization endpoint',
      deviceEndpoint,
      this.#options.retry,
    );
    await this.#prompt(device);

    const expiresInMs = device.expires_in * 1000;
    const timeoutMs = this.#options.timeoutMs;
    const expiresFirst = timeoutMs === undefined || timeoutMs >= expiresInMs + EXPIRY_GRACE_MS;
    // The last poll that failed for a passing reason (network, 5xx): it explains a login that then ran out of time.
    let lastFailure: AuthenticationError | undefined;
    const deadline = new LoginDeadline({
      timeoutMs: expiresFirst ? expiresInMs + EXPIRY_GRACE_MS : timeoutMs,
      signal: context.signal,
      onTimeout: () =>
        expiresFirst ? expiredError(config.tokenEndpoint, lastFailure) : timeoutError(timeoutMs ?? 0, config.tokenEndpoint, lastFailure),
    });
    try {
      const fallbackMs = this.#options.pollIntervalMs && this.#options.pollIntervalMs > 0 ? this.#options.pollIntervalMs : DEFAULT_INTERVAL_SECONDS * 1000;
      const response = await pollDeviceToken(configuration, device, {
        intervalMs: device.interval && device.interval > 0 ? device.interval * 1000 : fallbackMs,
        signal: deadline.signal,
        tokenEndpoint: config.tokenEndpoint,
        onTransientFailure: (failure) => {
          lastFailure = failure;
        },
      });
      context.checkIdToken(response);
      return response;
    } catch (error) {
      if (deadline.signal.aborted) throw deadline.signal.reason as AuthenticationError;
      throw pollError(error, config.tokenEndpoint);
    } finally {
      deadline.dispose();
    }
  }

  async #prompt(device: oidc.DeviceAuthorizationResponse): Promise<void> {
    // Whatever the identity provider sent is shown on a terminal: no escape sequences, no line breaks.
    const prompt: DeviceCodePrompt = {
      verificationUri: sanitizeForTerminal(device.verification_uri, 2_000),
      userCode: sanitizeForTerminal(device.user_code, 100),
      expiresIn: device.expires_in,
    };
    if (device.verification_uri_complete) prompt.verificationUriComplete = sanitizeForTerminal(device.verification_uri_complete, 2_000);
    try {
      await (this.#options.onPrompt ?? printDeviceCodePrompt)(prompt);
    } catch (error) {
      throw new AuthenticationError(`the device login prompt could not be shown: ${(error as Error).message}`, { code: 'ERR_LOGIN', cause: error });
    }
  }
}

// What the token endpoint said when it last failed, for a login that ran out of time while it was down.
function lastFailureNote(lastFailure: AuthenticationError | undefined): string {
  return lastFailure ? ` (the last poll failed: ${lastFailure.message})` : '';
}

function expiredError(tokenEndpoint: string, cause?: unknown): AuthenticationError {
  const note = cause instanceof AuthenticationError ? lastFailureNote(cause) : '';
  return new AuthenticationError(`the device code expired before the login was completed; start the login again${note}`, {
    code: 'ERR_LOGIN',
    oauthError: 'expired_token',
    endpoint: tokenEndpoint,
    cause,
  });
}

function timeoutError(timeoutMs: number, tokenEndpoint: string, lastFailure: AuthenticationError | undefined): AuthenticationError {
  return new AuthenticationError(`the device login was not completed within ${formatDuration(timeoutMs)}${lastFailureNote(lastFailure)}`, {
    code: 'ERR_LOGIN',
    endpoint: tokenEndpoint,
    cause: lastFailure,
  });
}

function pollError(error: unknown, tokenEndpoint: string): AuthenticationError {
  if (error instanceof oidc.ResponseBodyError) {
    if (error.error === 'expired_token') return expiredError(tokenEndpoint, error);
    if (error.error === 'access_denied') {
      return new AuthenticationError('the login was denied on the device login page', {
        code: 'ERR_LOGIN',
        oauthError: 'access_denied',
        endpoint: tokenEndpoint,
        cause: error,
      });
    }
  }
  return toAuthenticationError(error, 'token endpoint', tokenEndpoint);
}
