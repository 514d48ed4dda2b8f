import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { AuthenticationError, DeviceCodeAuthenticator, MemoryTokenStore, PKCEAuthenticator, type DeviceCodePrompt, type PKCEAuthenticatorOptions } from '../../src/index.js';
import { formatDeviceCodePrompt } from '../../src/authenticators/device-code.js';
import { sanitizeForTerminal } from '../../src/terminal-text.js';
import { unary } from '../support/echo-service.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { formBody, jsonResponse, passthrough } from '../support/oauth-fetch.js';
import { type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';

// Anything below U+0020, DEL, the C1 range and the bidi controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** A raw GET with exactly this request target (origin form, `//host/…`, or absolute form), as no browser would send. */
function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'GET', path: target }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function pkce(env: InteractiveEnvironment, options: Partial<PKCEAuthenticatorOptions>): PKCEAuthenticator {
  return new PKCEAuthenticator({ endpoint: env.server.address, cfgStore: env.cfgStore, tokenStore: new MemoryTokenStore(), timeoutMs: 10_000, ...options });
}

test('sanitizeForTerminal: escape sequences, C1 controls and bidi overrides go, line breaks become spaces, long text is cut', () => {
  const rows: Array<[string, string]> = [
    ['plain text', 'plain text'],
    ['\u001b[31mred\u001b[0m', '[31mred[0m'],
    ['title\u001b]0;owned\u0007 after', 'title]0;owned after'],
    ['csi\u009b2J clear', 'csi2J clear'],
    ['line one\r\nline two\tend', 'line one line two end'],
    ['evil\u202eexe.txt', 'evilexe.txt'],
    ['nul\u0000byte\u007f', 'nulbyte'],
    ['ünïcødé 🙂 stays', 'ünïcødé 🙂 stays'],
  ];
  for (const [input, expected] of rows) assert.equal(sanitizeForTerminal(input), expected, JSON.stringify(input));
  assert.equal(sanitizeForTerminal('x'.repeat(600)), `${'x'.repeat(500)}…`);
  assert.equal(sanitizeForTerminal('abcdef', 3), 'abc…');
});

test('the code exchange uses the configured redirect URI, whatever host the callback request names', async () => {
  await withInteractiveEnvironment(async (env) => {
    // A callback request whose target names another host: the exchange must still send the configured redirect URI.
    const browser = createHeadlessBrowser({
      intercept: async (url) => {
        if (url.port !== String(env.callbackPort)) return undefined;
        const answer = await rawGet(env.callbackPort, `//attacker.example:8080${url.pathname}${url.search}`);
        return new Response(answer.body, { status: answer.status });
      },
    });
    const auth = pkce(env, { openBrowser: browser.open });
    assert.equal((await unary(env.newClient(auth), { text: 'x' })).subject, 'alice');
    const exchange = env.idp.tokenRequestLog.find((entry) => entry.body.get('grant_type') === 'authorization_code');
    assert.equal(exchange?.body.get('redirect_uri'), env.redirectUri);
    await browser.idle();
    assert.equal(browser.finished.at(-1)?.status, 200);
  });
});

test('callbacks with a wrong or missing state get a 400 page and the login keeps waiting; only the right state ends it', async () => {
  await withInteractiveEnvironment(async (env) => {
    const stray: Array<{ target: string; status: number }> = [];
    const browser = createHeadlessBrowser({
      intercept: async (url) => {
        if (url.port !== String(env.callbackPort)) return undefined;
        const real = new URLSearchParams(url.search);
        const code = real.get('code') ?? '';
        for (const query of [
          `code=${code}&state=not-this-login`,
          `code=${code}`,
          'error=access_denied&error_description=forged',
          'error=access_denied&state=not-this-login',
          `state=${real.get('state') ?? ''}`,
        ]) {
          const target = `${url.pathname}?${query}`;
          stray.push({ target, status: (await rawGet(env.callbackPort, target)).status });
        }
        return undefined;
      },
    });
    const auth = pkce(env, { openBrowser: browser.open });
    assert.equal((await unary(env.newClient(auth), { text: 'x' })).subject, 'alice');
    assert.deepEqual(
      stray.map((entry) => entry.status),
      [400, 400, 400, 400, 400],
      JSON.stringify(stray),
    );
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1 }, 'one exchange, for the real callback');
    await browser.idle();
    assert.equal(browser.finished.at(-1)?.status, 200);
  });
});

test('a login that only ever sees stray callbacks ends at its deadline, not at the first stray request', async () => {
  await withInteractiveEnvironment(async (env) => {
    let strays = 0;
    const auth = pkce(env, {
      timeoutMs: 2_000,
      openBrowser: async (url) => {
        const state = new URL(url).searchParams.get('state');
        for (const query of ['code=abc&state=wrong', 'code=abc', 'error=server_error']) {
          assert.equal((await rawGet(env.callbackPort, `/callback?${query}`)).status, 400);
          strays += 1;
        }
        assert.ok(state);
      },
    });
    const error = await auth.refreshCredentials().catch((caught: unknown) => caught);
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_LOGIN');
    assert.match(error.message, /^the browser login did not come back to .* within 2 s$/);
    assert.equal(strays, 3);
    assert.equal(env.idp.tokenRequestCount, 0);
  });
});

test("the identity provider's error_description reaches the error without control characters", async () => {
  await withInteractiveEnvironment(async (env) => {
    const auth = pkce(env, {
      openBrowser: async (url) => {
        const state = new URL(url).searchParams.get('state') ?? '';
        const description = encodeURIComponent('denied \u001b[2J\u001b]0;pwned\u0007\r\nInjected line \u202e');
        await rawGet(env.callbackPort, `/callback?error=access_denied&error_description=${description}&state=${state}`);
      },
    });
    const error = await auth.refreshCredentials().catch((caught: unknown) => caught);
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.oauthError, 'access_denied');
    assert.equal(error.message, 'the identity provider ended the login with access_denied: denied [2J]0;pwned Injected line ');
    assert.doesNotMatch(error.message, CONTROL);
  });
});

test('a redirect URI with a query or a fragment is refused before anything listens', async () => {
  await withInteractiveEnvironment(async (env) => {
    for (const redirectUri of [`${env.redirectUri}?tenant=a`, `${env.redirectUri}#frag`]) {
      await assert.rejects(pkce(env, { redirectUri, openBrowser: () => assert.fail('no browser') }).refreshCredentials(), {
        code: 'ERR_CONFIG',
        message: /must not have a query or a fragment/,
      });
    }
  });
});

test("the device prompt shows the identity provider's URIs and user code without control characters", async () => {
  await withInteractiveEnvironment(async (env) => {
    const prompts: DeviceCodePrompt[] = [];
    const auth = new DeviceCodeAuthenticator({
      endpoint: env.server.address,
      cfgStore: env.cfgStore,
      tokenStore: new MemoryTokenStore(),
      pollIntervalMs: 50,
      timeoutMs: 1_000,
      fetch: async (url, init) => {
        const response = await passthrough(url, init);
        if (url === env.idp.deviceAuthorizationEndpoint && formBody(init).get('client_id')) {
          const body = (await response.json()) as Record<string, unknown>;
          return jsonResponse({
            ...body,
            user_code: '\u001b[8mABCD-EFGH\u001b[0m',
            verification_uri: 'https://idp.example/device\r\n\u001b]8;;https://evil.example\u0007click',
            verification_uri_complete: 'https://idp.example/device?code=\u009b31m',
          });
        }
        return response;
      },
      onPrompt: (prompt) => void prompts.push(prompt),
    });
    await auth.refreshCredentials().catch(() => undefined);
    assert.equal(prompts.length, 1);
    const [prompt] = prompts;
    assert.equal(prompt!.userCode, '[8mABCD-EFGH[0m');
    assert.equal(prompt!.verificationUri, 'https://idp.example/device ]8;;https://evil.exampleclick');
    assert.equal(prompt!.verificationUriComplete, 'https://idp.example/device?code=31m');
    assert.doesNotMatch(formatDeviceCodePrompt(prompt!).replace(/\n/g, ''), CONTROL);
  });
});
