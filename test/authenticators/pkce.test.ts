import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { MemoryTokenStore, PKCEAuthenticator, tokenStoreKey, type PKCEAuthenticatorOptions } from '../../src/index.js';
import { rejectsWithAuthError } from '../support/assertions.js';
import { captureStderr } from '../support/capture-stderr.js';
import { bidi, clientStream, serverStream, unary } from '../support/echo-service.js';
import { createHeadlessBrowser, type HeadlessBrowser } from '../support/headless-browser.js';
import { freePort, isListening, type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };

function pkce(env: InteractiveEnvironment, options: Partial<PKCEAuthenticatorOptions> = {}): PKCEAuthenticator {
  return new PKCEAuthenticator({ endpoint: env.server.address, cfgStore: env.cfgStore, retry: FAST_RETRY, timeoutMs: 10_000, ...options });
}

function authorizationParams(browser: HeadlessBrowser, index = 0): URLSearchParams {
  const url = browser.opened[index];
  assert.ok(url, `browser open #${index} happened`);
  return new URL(url).searchParams;
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

test('a full PKCE login: the first call goes out without a token, one login, then every call type carries the user token', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser({ account: 'alice' });
    const tokenStore = new MemoryTokenStore();
    const auth = pkce(env, { openBrowser: browser.open, tokenStore });
    const client = env.newClient(auth);

    const reply = await unary(client, { text: 'hi' });
    assert.deepEqual(reply, { text: 'ok:hi', subject: 'alice' });
    assert.equal(env.server.calls.length, 2);
    assert.deepEqual(env.server.calls[0]!.headerValues, []);
    assert.equal(env.server.calls[1]!.outcome, 'ok');
    assert.equal(browser.opened.length, 1);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1 });

    // The authorization request: S256 challenge of the verifier sent in the exchange, a fresh state, the config's values.
    const params = authorizationParams(browser);
    assert.equal(params.get('response_type'), 'code');
    assert.equal(params.get('client_id'), 'cli');
    assert.equal(params.get('redirect_uri'), env.redirectUri);
    assert.equal(params.get('scope'), 'openid offline');
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.ok((params.get('state') ?? '').length >= 32);
    const exchange = env.idp.tokenRequestLog[0]!.body;
    assert.equal(exchange.get('grant_type'), 'authorization_code');
    assert.equal(exchange.get('client_id'), 'cli');
    assert.equal(exchange.get('client_secret'), null);
    assert.equal(env.idp.tokenRequestLog[0]!.headers.authorization, undefined);
    assert.equal(params.get('code_challenge'), s256(exchange.get('code_verifier')!));

    await browser.idle();
    assert.equal(browser.finished.length, 1);
    assert.equal(browser.finished[0]!.status, 200);
    assert.match(browser.finished[0]!.body, /Login successful/);
    assert.equal(await isListening(env.callbackPort), false, 'the callback server is closed after the login');

    assert.deepEqual((await serverStream(client, { text: 's', count: 2 })).map((r) => r.subject), ['alice', 'alice']);
    assert.equal((await clientStream(client, [{ text: 'x' }, { text: 'y' }])).subject, 'alice');
    assert.deepEqual((await bidi(client, [{ text: 'x' }])).map((r) => r.subject), ['alice']);
    assert.equal(env.idp.tokenRequestCount, 1);
    assert.equal(browser.opened.length, 1);
    assert.deepEqual(env.server.calls.slice(1).map((call) => call.outcome), ['ok', 'ok', 'ok', 'ok']);

    const stored = await tokenStore.get(tokenStoreKey(env.server.address, 'cli', 'pkce'));
    assert.ok(stored?.refreshToken, 'the refresh token is cached');
    assert.equal(stored.accessToken, auth.getCredentials()?.accessToken);
    assert.equal(stored.forEndpoint, env.server.address);
  });
});

test('verifier and state are new for every login', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const auth = pkce(env, { openBrowser: browser.open });
    await auth.refreshCredentials();
    await auth.logout();
    await auth.refreshCredentials();
    assert.equal(browser.opened.length, 2);
    const [first, second] = [authorizationParams(browser, 0), authorizationParams(browser, 1)];
    assert.notEqual(first.get('state'), second.get('state'));
    assert.notEqual(first.get('code_challenge'), second.get('code_challenge'));
    const [v1, v2] = env.idp.tokenRequestLog.map((entry) => entry.body.get('code_verifier'));
    assert.ok(v1 && v2 && v1 !== v2);
    assert.ok(v1.length >= 43);
  });
});

test('five concurrent rejected calls share one login: one browser, one callback server', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const auth = pkce(env, { openBrowser: browser.open });
    const client = env.newClient(auth);
    const replies = await Promise.all([1, 2, 3, 4, 5].map((n) => unary(client, { text: String(n) })));
    assert.deepEqual(replies.map((r) => r.subject), ['alice', 'alice', 'alice', 'alice', 'alice']);
    assert.equal(browser.opened.length, 1);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1 });
    assert.equal(env.server.calls.filter((call) => call.outcome === 'ok').length, 5);
  });
});

test("the config store's header key (flyte-authorization) is used; a local headerKey wins", async () => {
  await withInteractiveEnvironment(
    async (env) => {
      const browser = createHeadlessBrowser();
      const client = env.newClient(pkce(env, { openBrowser: browser.open }));
      assert.equal((await unary(client, { text: 'a' })).subject, 'alice');
      assert.deepEqual(env.server.calls.at(-1)!.metadata.get('authorization'), []);
      assert.equal(env.server.calls.at(-1)!.headerValues.length, 1);
    },
    { headerKey: 'flyte-authorization' },
  );
  await withInteractiveEnvironment(
    async (env) => {
      env.cfgStore.config.headerKey = 'flyte-authorization';
      const browser = createHeadlessBrowser();
      const client = env.newClient(pkce(env, { openBrowser: browser.open, headerKey: 'x-user-token' }));
      assert.equal((await unary(client, { text: 'a' })).subject, 'alice');
      assert.deepEqual(env.server.calls.at(-1)!.metadata.get('flyte-authorization'), []);
    },
    { headerKey: 'x-user-token' },
  );
});

test("local clientId, scopes and audience win over the config store's", async () => {
  await withInteractiveEnvironment(async (env) => {
    Object.assign(env.cfgStore.config, { clientId: 'someone-else', scopes: ['all'], audience: 'server-audience' });
    const browser = createHeadlessBrowser();
    const auth = pkce(env, {
      openBrowser: browser.open,
      clientId: 'cli',
      scopes: ['openid', 'offline'],
      audience: 'local-audience',
      refreshWindowMs: 3_600_000,
    });
    await auth.refreshCredentials();
    const params = authorizationParams(browser);
    assert.equal(params.get('client_id'), 'cli');
    assert.equal(params.get('scope'), 'openid offline');
    assert.equal(params.get('audience'), 'local-audience');
    await auth.refreshCredentials();
    const refresh = env.idp.tokenRequestLog[1]!.body;
    assert.equal(refresh.get('grant_type'), 'refresh_token');
    // RFC 6749 §6: the refresh asks for what was granted; neither scope nor audience is repeated.
    assert.equal(refresh.get('scope'), null);
    assert.equal(refresh.get('audience'), null);
    assert.equal(refresh.get('client_id'), 'cli');
  });
});

test('?error=access_denied from the identity provider ends the login with that error', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser({ decision: 'deny' });
    const auth = pkce(env, { openBrowser: browser.open });
    const client = env.newClient(auth);
    await assert.rejects(unary(client, { text: 'a' }), (error: { code: number; details: string }) => {
      assert.equal(error.code, 16);
      assert.match(error.details, /the identity provider ended the login with access_denied/);
      return true;
    });
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', oauthError: 'access_denied', message: /access_denied: End-User aborted interaction/ });
    await browser.idle();
    assert.equal(browser.finished.length, 2);
    for (const page of browser.finished) {
      assert.equal(page.status, 400);
      assert.match(page.body, /The identity provider ended the login: access_denied/);
    }
    assert.equal(env.idp.tokenRequestCount, 0);
    assert.equal(await isListening(env.callbackPort), false);
  });
});

test('stray requests (/favicon.ico, other paths, a callback without a code) get 4xx and do not end the login', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const statuses: number[] = [];
    const base = `http://127.0.0.1:${env.callbackPort}`;
    const auth = pkce(env, {
      openBrowser: async (url) => {
        for (const path of ['/favicon.ico', '/other?code=x&state=y', '/callback']) {
          const response = await fetch(`${base}${path}`);
          statuses.push(response.status);
          await response.text();
        }
        await browser.open(url);
      },
    });
    const credentials = await auth.refreshCredentials();
    assert.ok(credentials.accessToken);
    assert.deepEqual(statuses, [404, 404, 400]);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1 });
    await browser.idle();
    assert.equal(browser.finished[0]!.status, 200);
  });
});

test('a callback with a wrong or missing state ends the login, and the page says so', async () => {
  await withInteractiveEnvironment(async (env) => {
    for (const query of ['code=abc&state=not-the-state', 'code=abc']) {
      let visit: Promise<{ status: number; body: string }> | undefined;
      const auth = pkce(env, {
        openBrowser: async () => {
          visit = fetch(`http://127.0.0.1:${env.callbackPort}/callback?${query}`).then(async (response) => ({
            status: response.status,
            body: await response.text(),
          }));
          await visit;
        },
      });
      await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', message: /state that does not match this login/ });
      const page = await visit;
      assert.equal(page?.status, 400);
      assert.match(page.body, /the state parameter does not match/);
      assert.equal(await isListening(env.callbackPort), false);
    }
    assert.equal(env.idp.tokenRequestCount, 0);
  });
});

test('the success page is shown only after the token exchange succeeded; a failed exchange shows an error page', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const pagesAtExchange: number[] = [];
    const auth = pkce(env, {
      openBrowser: browser.open,
      fetch: async (url, init) => {
        if (String(url) === env.idp.tokenEndpoint) pagesAtExchange.push(browser.finished.length);
        return fetch(url, init as RequestInit);
      },
    });
    await auth.refreshCredentials();
    await browser.idle();
    assert.deepEqual(pagesAtExchange, [0], 'the browser had no answer yet while the code was exchanged');
    assert.equal(browser.finished[0]!.status, 200);

    await auth.logout();
    env.idp.failTokenRequests({ kind: 'status', status: 400, contentType: 'application/json', body: '{"error":"invalid_grant","error_description":"grant request is invalid"}' });
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_OAUTH_RESPONSE', oauthError: 'invalid_grant' });
    await browser.idle();
    assert.equal(browser.finished[1]!.status, 500);
    assert.match(browser.finished[1]!.body, /The login could not be completed/);
    assert.doesNotMatch(browser.finished[1]!.body, /Login successful/);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 2 }, 'a code exchange is never retried');
  });
});

test('a timeout ends the login cleanly', async () => {
  await withInteractiveEnvironment(async (env) => {
    let opened = 0;
    const auth = pkce(env, { timeoutMs: 150, openBrowser: () => void (opened += 1) });
    const started = Date.now();
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', message: `the browser login did not come back to ${env.redirectUri} within 150 ms` });
    assert.ok(Date.now() - started < 150 + 2_000);
    assert.equal(opened, 1);
    assert.equal(await isListening(env.callbackPort), false);
  });
});

test('an AbortSignal ends the login cleanly, before or during it', async () => {
  await withInteractiveEnvironment(async (env) => {
    const controller = new AbortController();
    const auth = pkce(env, { signal: controller.signal, openBrowser: () => controller.abort() });
    await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_LOGIN', message: 'the login was aborted' });
    assert.equal(await isListening(env.callbackPort), false);

    let opened = 0;
    const aborted = pkce(env, { signal: AbortSignal.abort(), openBrowser: () => void (opened += 1) });
    await rejectsWithAuthError(aborted.refreshCredentials(), { code: 'ERR_LOGIN', message: 'the login was aborted' });
    assert.equal(opened, 0);
    assert.equal(env.idp.tokenRequestCount, 0);
  });
});

test('invalid redirect URIs fail with ERR_CONFIG before anything binds', async () => {
  await withInteractiveEnvironment(async (env) => {
    const port = env.callbackPort;
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /needs a redirect URI, but the client config has none/],
      ['', /needs a redirect URI, but the client config has none/],
      ['not a url', /is not a valid URL/],
      [`https://127.0.0.1:${port}/callback`, /must use http/],
      [`http://example.com:${port}/callback`, /is not on a loopback address/],
      [`http://10.1.2.3:${port}/callback`, /is not on a loopback address/],
      [`http://127.0.0.1.nip.io:${port}/callback`, /is not on a loopback address/],
    ];
    for (const [redirectUri, message] of cases) {
      if (redirectUri === undefined) delete env.cfgStore.config.redirectUri;
      else env.cfgStore.config.redirectUri = redirectUri;
      let opened = 0;
      const auth = pkce(env, { openBrowser: () => void (opened += 1) });
      await rejectsWithAuthError(auth.refreshCredentials(), { code: 'ERR_CONFIG', message });
      assert.equal(opened, 0);
    }
    assert.equal(await isListening(port), false);
  });
});

test('a local redirectUri wins, and a port in use is a clear error', async () => {
  await withInteractiveEnvironment(async (env) => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      let opened = 0;
      const auth = pkce(env, { redirectUri: `http://127.0.0.1:${port}/callback`, openBrowser: () => void (opened += 1) });
      await rejectsWithAuthError(auth.refreshCredentials(), {
        code: 'ERR_LOGIN',
        message: `cannot listen for the login callback on 127.0.0.1:${port} (redirect URI http://127.0.0.1:${port}/callback): the port is in use (another login in progress, or another program)`,
      });
      assert.equal(opened, 0);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    const browser = createHeadlessBrowser();
    const auth = pkce(env, { redirectUri: `http://127.0.0.1:${port}/callback`, openBrowser: browser.open });
    await auth.refreshCredentials();
    assert.equal(authorizationParams(browser).get('redirect_uri'), `http://127.0.0.1:${port}/callback`);
  });
});

test('a localhost redirect URI works (bound on 127.0.0.1, and ::1 when there is one)', async () => {
  const port = await freePort();
  const redirectUri = `http://localhost:${port}/callback`;
  await withInteractiveEnvironment(
    async (env) => {
      env.cfgStore.config.redirectUri = redirectUri;
      const browser = createHeadlessBrowser();
      const auth = pkce(env, { openBrowser: browser.open });
      assert.ok((await auth.refreshCredentials()).accessToken);
      await browser.idle();
      assert.equal(browser.finished[0]!.status, 200);
      assert.equal(new URL(browser.finished[0]!.url).hostname, 'localhost');
    },
    {
      idp: {
        configure: (configuration) => {
          const cli = configuration.clients?.find((client) => client.client_id === 'cli');
          if (cli) cli.redirect_uris = [...(cli.redirect_uris ?? []), redirectUri];
        },
      },
    },
  );
});

test('when the browser cannot be opened, the URL is printed to stderr (and the login still works from it)', async () => {
  await withInteractiveEnvironment(async (env) => {
    for (const openBrowser of [
      () => {
        throw new Error('xdg-open: no method available');
      },
      async () => Promise.reject(new Error('spawn xdg-open ENOENT')),
    ]) {
      const stderr = captureStderr();
      try {
        const browser = createHeadlessBrowser();
        const auth = pkce(env, { openBrowser });
        const login = auth.refreshCredentials();
        const [, url] = await stderr.waitFor(/Please open the following link in your browser to authenticate: (\S+)\n/);
        assert.ok(url?.startsWith(`${env.idp.authorizationEndpoint}?`));
        await browser.open(url!);
        assert.ok((await login).accessToken);
      } finally {
        stderr.restore();
      }
    }
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 2 });
  });
});

test("the provider's issuer: checked when configured (a clear error on mismatch), not guessed when unknown", async () => {
  await withInteractiveEnvironment(async (env) => {
    env.cfgStore.config.issuer = 'https://login.example.com/oauth2/default';
    const browser = createHeadlessBrowser();
    const auth = pkce(env, { openBrowser: browser.open });
    await rejectsWithAuthError(auth.refreshCredentials(), {
      code: 'ERR_BAD_TOKEN_RESPONSE',
      message:
        'the login response could not be validated: unexpected "iss" (issuer) response parameter value (expected issuer https://login.example.com/oauth2/default; set `issuer` in the client config to the identity provider\'s issuer)',
    });
    await browser.idle();
    assert.equal(browser.finished[0]!.status, 500);

    delete env.cfgStore.config.issuer;
    assert.ok((await auth.refreshCredentials()).accessToken);
  });
});
