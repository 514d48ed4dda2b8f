import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import {
  CommandAuthenticator,
  DeviceCodeAuthenticator,
  FileTokenStore,
  KeyringTokenStore,
  loadPlatformConfig,
  MemoryTokenStore,
  PKCEAuthenticator,
  type KeyringModule,
  type OAuthFetch,
} from '../../src/index.js';
import { MAX_TIMER_DELAY_MS, setLongTimeout, sleep, timeoutSignal } from '../../src/time/long-delay.js';
import { createScriptDir } from '../support/commands.js';
import { unary } from '../support/echo-service.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { withInteractiveEnvironment } from '../support/interactive-environment.js';
import { jsonResponse, passthrough } from '../support/oauth-fetch.js';
import { createTempDir } from '../support/temp-dir.js';

const THIRTY_DAYS_MS = 30 * 24 * 3_600_000;
const SIX_HUNDRED_HOURS_MS = 600 * 3_600_000;

// Node reports an overflowing timer with this warning (and fires it after 1 ms). None may happen in this file.
const overflowWarnings: string[] = [];
const onWarning = (warning: Error): void => {
  if (warning.name === 'TimeoutOverflowWarning') overflowWarnings.push(warning.message);
};
before(() => process.on('warning', onWarning));
after(() => {
  process.off('warning', onWarning);
  assert.deepEqual(overflowWarnings, [], 'a timer overflowed');
});

describe('setLongTimeout / timeoutSignal / sleep', () => {
  test('a delay beyond 2^31-1 ms is waited for in steps, and fires once at the end (mocked clock)', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const fired = mock.fn();
    setLongTimeout(fired, MAX_TIMER_DELAY_MS * 2 + 10);
    t.mock.timers.tick(MAX_TIMER_DELAY_MS);
    t.mock.timers.tick(MAX_TIMER_DELAY_MS);
    assert.equal(fired.mock.callCount(), 0, 'still 10 ms to go');
    t.mock.timers.tick(9);
    assert.equal(fired.mock.callCount(), 0);
    t.mock.timers.tick(1);
    assert.equal(fired.mock.callCount(), 1);
    t.mock.timers.tick(MAX_TIMER_DELAY_MS * 3);
    assert.equal(fired.mock.callCount(), 1, 'once');
  });

  test('cancel stops a long timer between steps; Infinity and NaN never fire', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const fired = mock.fn();
    const cancel = setLongTimeout(fired, MAX_TIMER_DELAY_MS + 5);
    t.mock.timers.tick(MAX_TIMER_DELAY_MS);
    cancel();
    setLongTimeout(fired, Number.POSITIVE_INFINITY);
    setLongTimeout(fired, Number.NaN);
    t.mock.timers.tick(MAX_TIMER_DELAY_MS * 4);
    assert.equal(fired.mock.callCount(), 0);
  });

  test('real timers: 30 days does not fire within 100 ms, a short one does; sleep and timeoutSignal follow', async () => {
    const long = mock.fn();
    const cancel = setLongTimeout(long, THIRTY_DAYS_MS);
    const signal = timeoutSignal(THIRTY_DAYS_MS);
    const controller = new AbortController();
    const sleeping = sleep(THIRTY_DAYS_MS, controller.signal);
    await sleep(100);
    assert.equal(long.mock.callCount(), 0);
    assert.equal(signal.aborted, false);
    controller.abort(new Error('stop'));
    await assert.rejects(sleeping, { message: 'stop' });
    cancel();
    const short = timeoutSignal(10);
    await sleep(50);
    assert.equal(short.aborted, true);
    assert.equal((short.reason as DOMException).name, 'TimeoutError');
  });
});

describe('any duration works where the package waits', () => {
  test('pkceConfig.timeout: 600h parses and a PKCE login with that timeout succeeds instead of timing out at once', async () => {
    const dir = createTempDir('fga-long-');
    try {
      const file = dir.write('config.yaml', 'admin:\n  endpoint: dns:///127.0.0.1:1\n  pkceConfig:\n    timeout: 600h\n  deviceFlowConfig:\n    timeout: 720h\n');
      const cfg = await loadPlatformConfig({ configFile: file, env: {} });
      assert.equal(cfg.pkceConfig.timeoutMs, SIX_HUNDRED_HOURS_MS);
      assert.equal(cfg.deviceFlowConfig.timeoutMs, THIRTY_DAYS_MS);
    } finally {
      dir.cleanup();
    }
    await withInteractiveEnvironment(async (env) => {
      const browser = createHeadlessBrowser({ account: 'alice' });
      const auth = new PKCEAuthenticator({
        endpoint: env.server.address,
        cfgStore: env.cfgStore,
        openBrowser: browser.open,
        tokenStore: new MemoryTokenStore(),
        timeoutMs: SIX_HUNDRED_HOURS_MS,
      });
      assert.deepEqual(await unary(env.newClient(auth), { text: 'hi' }), { text: 'ok:hi', subject: 'alice' });
      await browser.idle();
      assert.equal(browser.opened.length, 1);
    });
  });

  test('a device code valid for 30 days, with a 30-day timeout: the login waits for the approval', async () => {
    await withInteractiveEnvironment(async (env) => {
      const browser = createHeadlessBrowser({ account: 'bob' });
      let polls = 0;
      // The real provider's answer, with the lifetime a hostile or generous server could send.
      const fetch: OAuthFetch = async (url, init) => {
        if (String(url) === env.idp.deviceAuthorizationEndpoint) {
          const response = await passthrough(url, init);
          const body = (await response.json()) as Record<string, unknown>;
          return jsonResponse({ ...body, expires_in: THIRTY_DAYS_MS / 1000, interval: 0.05 }, response.status);
        }
        if (String(url) === env.idp.tokenEndpoint) polls += 1;
        return passthrough(url, init);
      };
      const auth = new DeviceCodeAuthenticator({
        endpoint: env.server.address,
        cfgStore: env.cfgStore,
        fetch,
        tokenStore: new MemoryTokenStore(),
        timeoutMs: THIRTY_DAYS_MS,
        // The user approves a moment after the prompt: the first polls find the login pending.
        onPrompt: (prompt) => {
          void sleep(300).then(() => browser.navigate(prompt.verificationUriComplete!));
        },
      });
      const credentials = await auth.refreshCredentials();
      assert.ok(credentials.accessToken);
      assert.ok(polls >= 2, `polled until the approval (${polls} polls)`);
    });
  });

  test('a token command with a 30-day timeout runs to completion', async () => {
    const scripts = createScriptDir();
    try {
      const file = scripts.write('slow.sh', '#!/bin/sh\nsleep 0.3\necho slow-token\n');
      const credentials = await new CommandAuthenticator({ command: [file], timeoutMs: THIRTY_DAYS_MS }).refreshCredentials();
      assert.equal(credentials.accessToken, 'slow-token');
    } finally {
      scripts.cleanup();
    }
  });

  test('a keychain with a 30-day timeout is waited for, not given up on after 1 ms', async (t) => {
    const dir = createTempDir('fga-long-keyring-');
    t.after(() => dir.cleanup());
    const items = new Map<string, string>();
    class Entry {
      readonly #id: string;
      constructor(service: string, account: string) {
        this.#id = `${service}/${account}`;
      }
      // A keychain that takes a moment, as one showing an unlock prompt does.
      getPassword = async (): Promise<string | null> => {
        await sleep(100);
        return items.get(this.#id) ?? null;
      };
      setPassword = async (value: string): Promise<void> => {
        await sleep(100);
        items.set(this.#id, value);
      };
      deletePassword = (): boolean => items.delete(this.#id);
    }
    const module: KeyringModule = { Entry };
    const warnings: string[] = [];
    const store = new KeyringTokenStore({
      loadKeyring: async () => module,
      fallback: new FileTokenStore({ path: dir.path('tokens.json') }),
      timeoutMs: THIRTY_DAYS_MS,
      warn: (message) => warnings.push(message),
    });
    await store.set('key', { accessToken: 'slow-keychain-token', forEndpoint: 'x' });
    assert.equal((await store.get('key'))?.accessToken, 'slow-keychain-token');
    assert.equal(store.usingFallback, false);
    assert.deepEqual(warnings, []);
  });

  test('a token file lock wait of 30 days: the second caller waits its turn instead of running unlocked after 1 ms', async (t) => {
    const dir = createTempDir('fga-long-lock-');
    t.after(() => dir.cleanup());
    const warnings: string[] = [];
    const store = new FileTokenStore({ path: dir.path('tokens.json'), lockTimeoutMs: THIRTY_DAYS_MS, staleLockMs: 60 * 24 * 3_600_000, warn: (m) => warnings.push(m) });
    const order: string[] = [];
    const first = store.withLock('key', async () => {
      order.push('first in');
      await sleep(200);
      order.push('first out');
    });
    const second = store.withLock('key', async () => {
      order.push('second in');
    });
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first in', 'first out', 'second in']);
    assert.deepEqual(warnings, []);
  });
});
