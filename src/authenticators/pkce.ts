import { oidc } from '../oauth/openid-client.js';
import { AuthenticationError } from '../errors.js';
import { toAuthenticationError } from '../oauth/errors.js';
import { sanitizeForTerminal } from '../terminal-text.js';
import { browserFallbackMessage, openSystemBrowser, type OpenBrowser } from './browser.js';
import { validateRedirectUri } from './redirect-uri.js';
import { InteractiveAuthenticator, type InteractiveAuthenticatorOptions, type LoginContext } from './interactive.js';
import { formatDuration, LoginDeadline } from './login-deadline.js';

export type { OpenBrowser } from './browser.js';

/** Options of {@link PKCEAuthenticator}: the shared interactive options plus the browser, the timeout and the redirect URI. */
export interface PKCEAuthenticatorOptions extends InteractiveAuthenticatorOptions {
  /**
   * Opens the login page. Default: the system browser (the `open` package). When it throws or rejects, the URL is
   * printed to stderr for the user to open.
   */
  openBrowser?: OpenBrowser | undefined;
  /** How long to wait for the browser to come back to the callback, in ms. Default 120 000 (2 minutes). */
  timeoutMs?: number | undefined;
  /** The redirect URI (loopback `http` only); wins over the config store's (flyteadmin: `http://localhost:53593/callback`). */
  redirectUri?: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * OAuth2 authorization code with PKCE (flytekit's `PKCEAuthenticator`): the user logs in with the browser, which
 * comes back to a short-lived callback server on the redirect URI's loopback host and port. Concurrent calls share
 * one login; the refresh token is used first on every renewal.
 *
 * @example
 * const auth = new PKCEAuthenticator({ endpoint: 'flyte.example.com:443', cfgStore: new RemoteClientConfigStore(channel) });
 */
export class PKCEAuthenticator extends InteractiveAuthenticator {
  readonly #options: PKCEAuthenticatorOptions;

  constructor(options: PKCEAuthenticatorOptions) {
    super(options, 'pkce');
    this.#options = options;
  }

  protected override get flow(): string {
    return 'pkce';
  }

  protected override async login(context: LoginContext): Promise<oidc.TokenEndpointResponse> {
    const { config, configuration, parameters } = context;
    const redirectUri = validateRedirectUri(this.#options.redirectUri || config.redirectUri);
    if (!config.authorizationEndpoint) {
      throw new AuthenticationError(`PKCE login needs an authorization endpoint, but the client config for ${this.endpoint} has none`, {
        code: 'ERR_CONFIG',
      });
    }
    // New for every login: a verifier or state reused across logins would let an old callback complete a new one.
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    // OpenID Connect: a fresh nonce binds the ID token to this login (and some providers refuse `openid` without one).
    const nonce = requestsOpenId(parameters.scope) ? oidc.randomNonce() : undefined;
    const codeChallenge = await oidc.calculatePKCECodeChallenge(codeVerifier);
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = new LoginDeadline({
      timeoutMs,
      signal: context.signal,
      onTimeout: () =>
        new AuthenticationError(`the browser login did not come back to ${redirectUri.href} within ${formatDuration(timeoutMs)}`, {
          code: 'ERR_LOGIN',
          endpoint: redirectUri.href,
        }),
    });
    let waiting = true;
    try {
      deadline.signal.throwIfAborted();
      // node:http loads with the first login, not with the package.
      const { listenForCallback } = await import('./callback-server.js');
      const listener = await listenForCallback({ redirectUri, expectedState: state, signal: deadline.signal });
      try {
        const authorizationUrl = oidc.buildAuthorizationUrl(configuration, {
          ...parameters,
          redirect_uri: redirectUri.href,
          code_challenge: codeChallenge,
          code_challenge_method: 'S256',
          state,
          ...(nonce ? { nonce } : {}),
        });
        this.#openBrowser(authorizationUrl.href, redirectUri, () => waiting && !deadline.signal.aborted);
        const callbackUrl = await listener.callback;
        waiting = false;
        // RFC 9207 `iss` can only be checked against a known issuer; without one, the token endpoint's origin is a guess.
        if (!config.issuer) callbackUrl.searchParams.delete('iss');
        try {
          const response = await oidc.authorizationCodeGrant(configuration, callbackUrl, { pkceCodeVerifier: codeVerifier, expectedState: state });
          context.checkIdToken(response, nonce);
          listener.finish({ ok: true, message: `You are logged in to ${this.endpoint}. You can close this window.` });
          return response;
        } catch (error) {
          // A code exchange is not retried: the code is single-use, and a replay revokes the grant at many providers.
          const failure = exchangeError(error, config.tokenEndpoint);
          listener.finish({ ok: false, message: `The login could not be completed: ${failure.message}` });
          throw failure;
        }
      } finally {
        await listener.close();
      }
    } finally {
      waiting = false;
      deadline.dispose();
    }
  }

  #openBrowser(url: string, redirectUri: URL, stillWaiting: () => boolean): void {
    const open = this.#options.openBrowser ?? openSystemBrowser;
    const fallback = (): void => {
      if (stillWaiting()) process.stderr.write(browserFallbackMessage(url, redirectUri));
    };
    // Not awaited: the login goes on while the browser (or the test driving the pages) is busy.
    void Promise.resolve()
      .then(() => open(url))
      .catch(fallback);
  }
}

/** Whether the `scope` parameter asks for OpenID Connect. */
function requestsOpenId(scope: string | undefined): boolean {
  return (scope ?? '').split(' ').includes('openid');
}

// openid-client's checks of the callback and the response (`OAUTH_INVALID_RESPONSE`, …_COMPARISON_FAILED, …).
const VALIDATION_CODE = /^OAUTH_(INVALID_RESPONSE|JWT_CLAIM_COMPARISON|JSON_ATTRIBUTE_COMPARISON|JWT_TIMESTAMP_CHECK)/;

/** Like {@link toAuthenticationError}, but says which check failed when the callback or the response did not validate. */
function exchangeError(error: unknown, tokenEndpoint: string): AuthenticationError {
  const inner = error instanceof oidc.ClientError ? error.cause : undefined;
  if (error instanceof oidc.ClientError && VALIDATION_CODE.test(error.code ?? '') && inner instanceof Error) {
    const { expected, parameters } = (inner.cause ?? {}) as { expected?: unknown; parameters?: unknown };
    const received = parameters instanceof URLSearchParams ? parameters.get('iss') : undefined;
    const values =
      typeof expected === 'string'
        ? ` (expected ${JSON.stringify(expected)}, received ${JSON.stringify(received ?? null)}; set \`issuer\` in the client config to the identity provider's issuer)`
        : '';
    return new AuthenticationError(`the login response could not be validated: ${sanitizeForTerminal(inner.message)}${sanitizeForTerminal(values)}`, {
      code: 'ERR_BAD_TOKEN_RESPONSE',
      endpoint: tokenEndpoint,
      cause: error,
    });
  }
  return toAuthenticationError(error, 'token endpoint', tokenEndpoint);
}
