import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DeviceCodeAuthenticator,
  MemoryTokenStore,
  tokenStoreKey,
  type DeviceCodeAuthenticatorOptions,
  type DeviceCodePrompt,
  type OAuthFetch,
} from '../../src/index.js';
import { rejectsWithAuthError } from '../support/assertions.js';
import { captureStderr } from '../support/capture-stderr.js';
import { unary } from '../support/echo-service.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';
import { formBody, jsonResponse, passthrough } from '../support/oauth-fetch.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };
const NOT_AVAILABLE = 'Device Authentication is not available on the Flyte backend / authentication server';

interface DeviceFetchOptions {
  /** Replaces the `interval` of the device authorization response (oidc-provider sends none: 5 s). */
  interval?: number;
  /** Removes `verification_uri_complete` from the device authorization response. */
  dropComplete?: boolean;
  /** OAuth errors answered to the next polls instead of the provider's answer. */
  pollErrors?: string[];
}

/** The real provider behind a fetch that can shorten the interval and inject poll answers (`slow_down`). */
function deviceFetch(env: InteractiveEnvironment, options: DeviceFetchOptions = {}): { fetch: OAuthFetch; polls: number[]; deviceRequests: () => number } {
  const polls: number[] = [];
  const pollErrors = [...(options.pollErrors ?? [])];
  let deviceRequests = 0;
  const wrapped: OAuthFetch = async (url, init) => {
    const target = String(url);
    if (target === env.idp.deviceAuthorizationEndpoint) {
      deviceRequests += 1;
      const response = await passthrough(url, init);
      const body = (await response.json()) as Record<string, unknown>;
      if (options.interval !== undefined) body.interval = options.interval;
      if (options.dropComplete) delete body.verification_uri_complete;
      return jsonResponse(body, response.status);
    }
    if (target === env.idp.tokenEndpoint && formBody(init).get('grant_type') === DEVICE_GRANT) {
      polls.push(Date.now());
      const error = pollErrors.shift();
      if (error) return jsonResponse({ error }, 400);
    }
    return passthrough(url, init);
  };
  return { fetch: wrapped, polls, deviceRequests: () => deviceRequests };
}

function device(env: InteractiveEnvironment, options: Partial<DeviceCodeAuthenticatorOptions> = {}): DeviceCodeAuthenticator {
  return new DeviceCodeAuthenticator({ endpoint: env.server.address, cfgStore: env.cfgStore, retry: FAST_RETRY, ...options });
}

test('a device login: the prompt shows the user code and verification_uri_complete; the call then carries the user token', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser({ account: 'bob' });
    const prompts: DeviceCodePrompt[] = [];
    const { fetch, polls, deviceRequests } = deviceFetch(env, { interval: 0.05 });
    const tokenStore = new MemoryTokenStore();
    const auth = device(env, {
      fetch,
      tokenStore,
      // The user approves before the first poll, so exactly one poll is needed.
      onPrompt: async (prompt) => {
        prompts.push(prompt);
        await browser.navigate(prompt.verificationUriComplete!);
      },
    });
    const client = env.newClient(auth);
    assert.deepEqual(await unary(client, { text: 'hi' }), { text: 'ok:hi', subject: 'bob' });

    assert.equal(prompts.length, 1);
    const [prompt] = prompts;
    assert.match(prompt!.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal(prompt!.verificationUri, `${env.idp.issuer}/device`);
    assert.equal(prompt!.verificationUriComplete, `${env.idp.issuer}/device?user_code=${prompt!.userCode}`);
    assert.equal(prompt!.expiresIn, 120);
    assert.match(browser.finished[0]!.body, /Sign-in Success/);

    assert.equal(deviceRequests(), 1);
    assert.equal(polls.length, 1);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { [DEVICE_GRANT]: 1 });
    const poll = env.idp.tokenRequestLog[0]!.body;
    assert.equal(poll.get('client_id'), 'cli');
    assert.ok(poll.get('device_code'));
    assert.deepEqual(env.server.calls.map((call) => call.headerValues.length), [0, 1]);
    const stored = await tokenStore.get(tokenStoreKey(env.server.address, 'cli', 'deviceflow'));
    assert.ok(stored?.refreshToken);
  });
});

test('without verification_uri_complete the prompt has only the URI and the code, which the user types', async () => {
  await withInteractiveEnvironment(async (env) => {
    const prompts: DeviceCodePrompt[] = [];
    const { fetch } = deviceFetch(env, { interval: 0.05, dropComplete: true });
    const auth = device(env, {
      fetch,
      onPrompt: async (prompt) => {
        prompts.push(prompt);
        await createHeadlessBrowser({ account: 'carol', userCode: prompt.userCode }).navigate(prompt.verificationUri);
      },
    });
    assert.equal((await unary(env.newClient(auth), { text: 'x' })).subject, 'carol');
    assert.equal(prompts.length, 1);
    assert.equal('verificationUriComplete' in prompts[0]!, false);
  });
});

test('the default prompt prints the code and both URIs to stderr', async () => {
  await withInteractiveEnvironment(async (env) => {
    const { fetch } = deviceFetch(env, { interval: 0.05 });
    const stderr = captureStderr();
    try {
      const login = device(env, { fetch }).refreshCredentials();
      const [, uri, code] = await stderr.waitFor(/To log in, open (\S+) in a browser and enter the code: (\S+)\n/);
      const [, complete] = await stderr.waitFor(/Or open this link, which has the code filled in: (\S+)\n/);
      await stderr.waitFor(/The code expires in 2 minutes\.\n/);
      assert.equal(uri, `${env.idp.issuer}/device`);
      assert.equal(complete, `${env.idp.issuer}/device?user_code=${code}`);
      await createHeadlessBrowser().navigate(complete);
      assert.ok((await login).accessToken);
    } finally {
      stderr.restore();
    }
  });
});

test('the default interval is 5 s: no poll within the first 300 ms; an abort ends the wait at once', async () => {
  await withInteractiveEnvironment(async (env) => {
    const { fetch, polls } = deviceFetch(env);
    const controller = new AbortController();
    const auth = device(env, { fetch, signal: controller.signal, onPrompt: () => void setTimeout(() => controller.abort(), 300) });
    const started = Date.now();
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', message: 'the login was aborted' });
    assert.ok(Date.now() - started < 300 + 2_000);
    assert.equal(polls.length, 0);

    const { fetch: idle, deviceRequests } = deviceFetch(env);
    await rejectsWithAuthError(device(env, { fetch: idle, signal: AbortSignal.abort() }).refreshCredentials(), {
      code: 'ERR_LOGIN',
      message: 'the login was aborted',
    });
    assert.equal(deviceRequests(), 0);
  });
});

test('pollIntervalMs replaces the 5 s default when the server sends no interval', async () => {
  await withInteractiveEnvironment(async (env) => {
    const { fetch, polls } = deviceFetch(env);
    const auth = device(env, { fetch, pollIntervalMs: 50, timeoutMs: 600, onPrompt: () => undefined });
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', message: 'the device login was not completed within 600 ms' });
    assert.ok(polls.length > 2, `polled ${polls.length} times`);
  });
});

test('slow_down adds 5 s to the interval; authorization_pending keeps it', async () => {
  await withInteractiveEnvironment(async (env) => {
    // authorization_pending (the real provider's answer while nobody approves): polls keep coming every 50 ms.
    const pending = deviceFetch(env, { interval: 0.05 });
    await rejectsWithAuthError(device(env, { fetch: pending.fetch, timeoutMs: 500, onPrompt: () => undefined }).refreshCredentials(), {
      code: 'ERR_LOGIN',
      message: 'the device login was not completed within 500 ms',
    });
    assert.ok(pending.polls.length > 2, `polled ${pending.polls.length} times`);

    // slow_down once: the next poll would come 5.05 s later, so within a second there is none.
    const slowed = deviceFetch(env, { interval: 0.05, pollErrors: ['slow_down'] });
    await rejectsWithAuthError(device(env, { fetch: slowed.fetch, timeoutMs: 1_000, onPrompt: () => undefined }).refreshCredentials(), {
      code: 'ERR_LOGIN',
      message: 'the device login was not completed within 1 s',
    });
    assert.equal(slowed.polls.length, 1);
  });
});

test('expired_token and access_denied end the login with distinct errors', async () => {
  let expired: Error | undefined;
  await withInteractiveEnvironment(
    async (env) => {
      // The provider's device codes live 1 s here; nobody approves, the provider answers expired_token.
      const expiring = deviceFetch(env, { interval: 0.2 });
      expired = await rejectsWithAuthError(device(env, { fetch: expiring.fetch, onPrompt: () => undefined }).refreshCredentials(), {
        code: 'ERR_LOGIN',
        oauthError: 'expired_token',
        message: 'the device code expired before the login was completed; start the login again',
      });
      assert.ok(expiring.polls.length >= 1);
    },
    { idp: { configure: (configuration) => void (configuration.ttl = { ...configuration.ttl, DeviceCode: 1 }) } },
  );
  await withInteractiveEnvironment(async (env) => {
    // The user aborts on the confirmation page before the first poll.
    const denying = deviceFetch(env, { interval: 0.05 });
    const denied = await rejectsWithAuthError(
      device(env, {
        fetch: denying.fetch,
        onPrompt: async (prompt) => void (await createHeadlessBrowser({ decision: 'deny' }).navigate(prompt.verificationUriComplete!)),
      }).refreshCredentials(),
      { code: 'ERR_LOGIN', oauthError: 'access_denied', message: 'the login was denied on the device login page' },
    );
    assert.equal(denying.polls.length, 1);
    assert.notEqual(expired?.message, denied.message);
    assert.equal(env.idp.tokenRequests.get('refresh_token'), undefined);
  });
});

test('expired_token answered by the server before the local deadline is reported as such', async () => {
  await withInteractiveEnvironment(async (env) => {
    const { fetch, polls } = deviceFetch(env, { interval: 0.05, pollErrors: ['authorization_pending', 'expired_token'] });
    await rejectsWithAuthError(device(env, { fetch, onPrompt: () => undefined }).refreshCredentials(), {
      code: 'ERR_LOGIN',
      oauthError: 'expired_token',
    });
    assert.equal(polls.length, 2);
  });
});

test('no device endpoint (unset or an empty string): a clear ERR_NOT_AVAILABLE, nothing sent', async () => {
  await withInteractiveEnvironment(async (env) => {
    for (const endpoint of [undefined, '']) {
      if (endpoint === undefined) delete env.cfgStore.config.deviceAuthorizationEndpoint;
      else env.cfgStore.config.deviceAuthorizationEndpoint = endpoint;
      const { fetch, deviceRequests } = deviceFetch(env);
      let prompted = 0;
      const auth = device(env, { fetch, onPrompt: () => void (prompted += 1) });
      await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_NOT_AVAILABLE', message: NOT_AVAILABLE });
      await assert.rejects(unary(env.newClient(auth), { text: 'x' }), (error: { code: number; details: string }) => {
        assert.equal(error.code, 16);
        assert.equal(error.details, `failed to obtain access token: ${NOT_AVAILABLE}`);
        return true;
      });
      assert.equal(deviceRequests(), 0);
      assert.equal(prompted, 0);
    }
    assert.equal(env.idp.tokenRequestCount, 0);
  });
});

test('an onPrompt that throws ends the login', async () => {
  await withInteractiveEnvironment(async (env) => {
    const { fetch, polls } = deviceFetch(env, { interval: 0.05 });
    const auth = device(env, {
      fetch,
      onPrompt: () => {
        throw new Error('no terminal');
      },
    });
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', message: 'the device login prompt could not be shown: no terminal' });
    assert.equal(polls.length, 0);
  });
});

test('after a device login, renewals use the refresh token, not a new device code', async () => {
  await withInteractiveEnvironment(async (env) => {
    const { fetch, deviceRequests } = deviceFetch(env, { interval: 0.05 });
    const auth = device(env, {
      fetch,
      refreshWindowMs: 3_600_000,
      onPrompt: async (prompt) => void (await createHeadlessBrowser({ account: 'bob' }).navigate(prompt.verificationUriComplete!)),
    });
    const client = env.newClient(auth);
    await unary(client, { text: 'login' });
    await unary(client, { text: 'refresh' });
    await unary(client, { text: 'refresh' });
    assert.equal(deviceRequests(), 1);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { [DEVICE_GRANT]: 1, refresh_token: 2 });
    const refresh = env.idp.tokenRequestLog[1]!.body;
    assert.equal(refresh.get('scope'), null, 'a refresh repeats no scope');
  });
});
