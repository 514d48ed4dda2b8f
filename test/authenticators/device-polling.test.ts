import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceCodeAuthenticator, MemoryTokenStore, type OAuthFetch } from '../../src/index.js';
import { rejectsWithAuthError } from '../support/assertions.js';
import { unary } from '../support/echo-service.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';
import { jsonResponse, passthrough } from '../support/oauth-fetch.js';
import { watchProcessErrors } from '../support/process-errors.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The real provider, with a 50 ms polling interval in its device authorization answer (it sends none: 5 s). */
function fastInterval(env: InteractiveEnvironment): OAuthFetch {
  return async (url, init) => {
    const response = await passthrough(url, init);
    if (String(url) !== env.idp.deviceAuthorizationEndpoint) return response;
    return jsonResponse({ ...((await response.json()) as Record<string, unknown>), interval: 0.05 }, response.status);
  };
}

const polls = (env: InteractiveEnvironment): number => env.idp.tokenRequests.get(DEVICE_GRANT) ?? 0;

test('dropped connections and 5xx while polling do not end the device login: it completes after the approval', async () => {
  await withInteractiveEnvironment(async (env) => {
    // The first polls fail: two dropped connections, a 503 page, a 502 with an OAuth error body; then the real answers.
    env.idp.failTokenRequests({ kind: 'reset' }, 2);
    env.idp.failTokenRequests({ kind: 'status', status: 503 });
    env.idp.failTokenRequests({ kind: 'status', status: 502, body: '{"error":"server_error"}', contentType: 'application/json' });
    const browser = createHeadlessBrowser({ account: 'bob' });
    const auth = new DeviceCodeAuthenticator({
      endpoint: env.server.address,
      cfgStore: env.cfgStore,
      fetch: fastInterval(env),
      tokenStore: new MemoryTokenStore(),
      // The user approves at once: the login is only waiting for a poll to get through.
      onPrompt: async (prompt) => void (await browser.navigate(prompt.verificationUriComplete!)),
    });
    const watch = watchProcessErrors();
    assert.deepEqual(await unary(env.newClient(auth), { text: 'hi' }), { text: 'ok:hi', subject: 'bob' });
    assert.deepEqual(watch.stop(), []);
    assert.equal(polls(env), 5, 'four failed polls, then the one that got the token');
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { [DEVICE_GRANT]: 5 });
  });
});

test('an identity provider that stays down: polling goes on until the flow’s own deadline, which names the last failure', async () => {
  await withInteractiveEnvironment(async (env) => {
    env.idp.failTokenRequests({ kind: 'status', status: 503 }, 1_000);
    const auth = new DeviceCodeAuthenticator({
      endpoint: env.server.address,
      cfgStore: env.cfgStore,
      fetch: fastInterval(env),
      tokenStore: new MemoryTokenStore(),
      timeoutMs: 1_000,
      onPrompt: () => undefined,
    });
    const error = await rejectsWithAuthError(auth.refreshCredentials(), {
      code: 'ERR_LOGIN',
      message: new RegExp(
        `^the device login was not completed within 1 s \\(the last poll failed: token endpoint ${env.idp.tokenEndpoint} answered HTTP 503 without a valid OAuth response\\)$`,
      ),
    });
    assert.equal(error.endpoint, env.idp.tokenEndpoint);
    assert.ok(polls(env) >= 2, `polled ${polls(env)} times, less often after each failure`);
    assert.ok(polls(env) <= 6, `backed off: ${polls(env)} polls in 1 s at a 50 ms interval`);
  });
});

test('a refusal while polling still ends the login at once (access_denied is no transient failure)', async () => {
  await withInteractiveEnvironment(async (env) => {
    env.idp.failTokenRequests({ kind: 'reset' });
    env.idp.failTokenRequests({ kind: 'status', status: 400, body: '{"error":"access_denied"}', contentType: 'application/json' });
    const auth = new DeviceCodeAuthenticator({
      endpoint: env.server.address,
      cfgStore: env.cfgStore,
      fetch: fastInterval(env),
      tokenStore: new MemoryTokenStore(),
      onPrompt: () => undefined,
    });
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', oauthError: 'access_denied' });
    assert.equal(polls(env), 2);
  });
});
