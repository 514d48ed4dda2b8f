import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { AuthenticationError, DeviceCodeAuthenticator, MemoryTokenStore, PKCEAuthenticator, type OAuthFetch, type PKCEAuthenticatorOptions } from '../../src/index.js';
import { readJwtClaims } from '../../src/oauth/id-token.js';
import { unary } from '../support/echo-service.js';
import { createHeadlessBrowser, type HeadlessBrowser } from '../support/headless-browser.js';
import { formBody, jsonResponse, passthrough } from '../support/oauth-fetch.js';
import { type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';

// An identity provider whose issuer has a path, as glewlwyd (`…/api/oidc`), Keycloak realms or Okta custom servers.
const PATH_ISSUER = { idp: { issuerPath: '/api/oidc' } };

/** A fetch that records every URL it is asked for, and answers 404 for discovery documents when `hideDiscovery`. */
function recordingFetch(options: { hideDiscovery?: boolean; rewrite?: (body: Record<string, unknown>) => Record<string, unknown> } = {}): {
  fetch: OAuthFetch;
  urls: string[];
} {
  const urls: string[] = [];
  const fetch: OAuthFetch = async (url, init) => {
    urls.push(url);
    if (options.hideDiscovery && url.includes('/.well-known/')) return new Response('not found', { status: 404 });
    const response = await passthrough(url, init);
    if (options.rewrite && formBody(init).get('grant_type') && response.ok) {
      return jsonResponse(options.rewrite((await response.json()) as Record<string, unknown>));
    }
    return response;
  };
  return { fetch, urls };
}

function pkce(env: InteractiveEnvironment, browser: HeadlessBrowser, options: Partial<PKCEAuthenticatorOptions> = {}): PKCEAuthenticator {
  return new PKCEAuthenticator({
    endpoint: env.server.address,
    cfgStore: env.cfgStore,
    openBrowser: browser.open,
    tokenStore: new MemoryTokenStore(),
    timeoutMs: 10_000,
    retry: { retries: 0 },
    ...options,
  });
}

function withoutIssuer(env: InteractiveEnvironment): void {
  delete env.cfgStore.config.issuer;
}

/** A JWT with `changes` applied to its payload (signature kept: the token endpoint's answer is not signature-checked). */
function tamper(jwt: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  return [header, Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url'), signature].join('.');
}

test('issuer with a path, none in the client config: found in the discovery document under the issuer path; the login works', async () => {
  await withInteractiveEnvironment(async (env) => {
    withoutIssuer(env);
    const browser = createHeadlessBrowser();
    const { fetch, urls } = recordingFetch();
    const auth = pkce(env, browser, { fetch });
    assert.equal((await unary(env.newClient(auth), { text: 'a' })).subject, 'alice');
    assert.equal(readJwtClaims(auth.getCredentials()!.idToken!)?.iss, env.idp.issuer, 'the ID token was kept');
    // Nearest to the token endpoint first: /api/oidc/.well-known/openid-configuration answered.
    assert.deepEqual(
      urls.filter((url) => url.includes('/.well-known/')),
      [`${env.idp.issuer}/.well-known/openid-configuration`],
    );
    // A refresh (which also returns an ID token) needs no second discovery.
    await auth.refreshCredentials();
    assert.equal(urls.filter((url) => url.includes('/.well-known/')).length, 1);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1, refresh_token: 1 });
  }, PATH_ISSUER);
});

test('no issuer known and no discovery document: the ID token is not compared with a guess, and login and refresh work', async () => {
  await withInteractiveEnvironment(async (env) => {
    withoutIssuer(env);
    const browser = createHeadlessBrowser();
    const { fetch, urls } = recordingFetch({ hideDiscovery: true });
    const auth = pkce(env, browser, { fetch });
    assert.equal((await unary(env.newClient(auth), { text: 'a' })).subject, 'alice');
    await auth.refreshCredentials();
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1, refresh_token: 1 });
    // /api/oidc, /api and / in both forms, then no more.
    const origin = new URL(env.idp.issuer).origin;
    assert.deepEqual(
      urls.filter((url) => url.includes('/.well-known/')),
      [
        `${origin}/api/oidc/.well-known/openid-configuration`,
        `${origin}/.well-known/oauth-authorization-server/api/oidc`,
        `${origin}/api/.well-known/openid-configuration`,
        `${origin}/.well-known/oauth-authorization-server/api`,
        `${origin}/.well-known/openid-configuration`,
        `${origin}/.well-known/oauth-authorization-server`,
      ],
    );
  }, PATH_ISSUER);
});

test('the device flow with a path issuer and no issuer configured works too', async () => {
  await withInteractiveEnvironment(async (env) => {
    withoutIssuer(env);
    const auth = new DeviceCodeAuthenticator({
      endpoint: env.server.address,
      cfgStore: env.cfgStore,
      tokenStore: new MemoryTokenStore(),
      pollIntervalMs: 50,
      onPrompt: async (prompt) => void (await createHeadlessBrowser({ account: 'dora' }).navigate(prompt.verificationUriComplete!)),
    });
    assert.equal((await unary(env.newClient(auth), { text: 'd' })).subject, 'dora');
  }, PATH_ISSUER);
});

test("a known issuer that is not the identity provider's: PKCE and device logins fail naming the claim, expected and received value", async () => {
  await withInteractiveEnvironment(async (env) => {
    const wrong = `${new URL(env.idp.issuer).origin}/not/the/issuer`;
    env.cfgStore.config.issuer = wrong;
    // PKCE: oidc-provider names its issuer in the callback (RFC 9207), which is checked first.
    const browser = createHeadlessBrowser();
    const error = await pkce(env, browser)
      .refreshCredentials()
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_BAD_TOKEN_RESPONSE');
    assert.equal(
      error.message,
      `the login response could not be validated: unexpected "iss" (issuer) response parameter value (expected "${wrong}", received "${env.idp.issuer}"; ` +
        "set `issuer` in the client config to the identity provider's issuer)",
    );
    await browser.idle();
    assert.equal(browser.finished.at(-1)?.status, 500);

    // Device flow: no callback, the ID token's iss claim is checked.
    const device = new DeviceCodeAuthenticator({
      endpoint: env.server.address,
      cfgStore: env.cfgStore,
      tokenStore: new MemoryTokenStore(),
      pollIntervalMs: 50,
      onPrompt: async (prompt) => void (await createHeadlessBrowser().navigate(prompt.verificationUriComplete!)),
    });
    const deviceError = await device.refreshCredentials().catch((caught: unknown) => caught);
    assert.ok(deviceError instanceof AuthenticationError);
    assert.equal(deviceError.code, 'ERR_BAD_TOKEN_RESPONSE');
    assert.equal(deviceError.endpoint, env.idp.tokenEndpoint);
    assert.match(
      deviceError.message,
      new RegExp(`^the ID token from ${env.idp.tokenEndpoint} failed validation: claim iss \\(issuer\\) is "${env.idp.issuer}", expected "${wrong}" \\(the issuer comes from`),
    );
  }, PATH_ISSUER);
});

test('authorization-code requests with openid carry a fresh nonce, and the ID token carries it back', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const auth = pkce(env, browser);
    await auth.refreshCredentials();
    await auth.forceLogin();
    const nonces = browser.opened.map((url) => new URL(url).searchParams.get('nonce'));
    assert.equal(nonces.length, 2);
    assert.ok(nonces.every((nonce) => typeof nonce === 'string' && nonce.length >= 32), String(nonces));
    assert.notEqual(nonces[0], nonces[1], 'a new nonce per login');
    assert.equal(readJwtClaims(auth.getCredentials()!.idToken!)?.nonce, nonces[1]);
  });
});

test('without openid in the scopes no nonce is sent', async () => {
  await withInteractiveEnvironment(async (env) => {
    env.cfgStore.config.scopes = ['offline'];
    const browser = createHeadlessBrowser();
    await pkce(env, browser).refreshCredentials();
    assert.equal(new URL(browser.opened[0]!).searchParams.has('nonce'), false);
  });
});

test('an ID token whose nonce does not match fails the login with a clear message, whether or not the issuer is known', async () => {
  for (const issuerKnown of [true, false]) {
    await withInteractiveEnvironment(async (env) => {
      if (!issuerKnown) withoutIssuer(env);
      const browser = createHeadlessBrowser();
      const { fetch } = recordingFetch({
        hideDiscovery: true,
        rewrite: (body) => ({ ...body, id_token: tamper(body.id_token as string, { nonce: 'replayed-nonce' }) }),
      });
      const error = await pkce(env, browser, { fetch })
        .refreshCredentials()
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof AuthenticationError, String(error));
      assert.equal(error.code, 'ERR_BAD_TOKEN_RESPONSE');
      const sent = new URL(browser.opened[0]!).searchParams.get('nonce');
      assert.equal(
        error.message,
        `the ID token from ${env.idp.tokenEndpoint} failed validation: claim nonce is "replayed-nonce", expected "${sent}" (the one sent with this login)`,
      );
      assert.ok(!inspect(error, { depth: Infinity }).includes('eyJ'), 'no token in the error');
      await browser.idle();
      assert.equal(browser.finished.at(-1)?.status, 500, 'the browser page says the login failed');
    });
  }
});

test('an ID token is never needed: a token response without one logs in (nonce sent, nothing to check)', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const { fetch } = recordingFetch({
      rewrite: (body) => {
        const { id_token: _dropped, ...rest } = body;
        return rest;
      },
    });
    const auth = pkce(env, browser, { fetch });
    assert.equal((await unary(env.newClient(auth), { text: 'x' })).subject, 'alice');
    assert.ok(new URL(browser.opened[0]!).searchParams.get('nonce'));
    assert.equal(auth.getCredentials()?.idToken, undefined);
  });
});

test('an expired ID token and a foreign audience are refused, naming the claim', async () => {
  for (const [changes, pattern] of [
    [{ exp: 1_000 }, /claim exp \(expiration time\) is 1000, expected a time after \d+$/],
    [{ aud: 'someone-else' }, /claim aud \(audience\) is "someone-else", expected "cli"$/],
  ] as const) {
    await withInteractiveEnvironment(async (env) => {
      const browser = createHeadlessBrowser();
      const { fetch } = recordingFetch({ rewrite: (body) => ({ ...body, id_token: tamper(body.id_token as string, changes) }) });
      await assert.rejects(pkce(env, browser, { fetch }).refreshCredentials(), { code: 'ERR_BAD_TOKEN_RESPONSE', message: pattern });
    });
  }
});
