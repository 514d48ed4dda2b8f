import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { msUntil, setLongTimeout, waitForToken, type AuthMetadata } from '../../src/call-policy/index.js';

const MAX_DELAY = 2 ** 31 - 1;
const DAY_MS = 24 * 3_600_000;

describe('setLongTimeout: any duration', () => {
  test('30 days fires after 30 days, not after 1 ms (chained timers)', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
    let fired = 0;
    setLongTimeout(() => (fired += 1), 30 * DAY_MS);
    t.mock.timers.tick(1);
    assert.equal(fired, 0);
    t.mock.timers.tick(MAX_DELAY);
    assert.equal(fired, 0, 'past the first chained timer');
    t.mock.timers.tick(30 * DAY_MS - MAX_DELAY - 2);
    assert.equal(fired, 0, '1 ms early');
    t.mock.timers.tick(1);
    assert.equal(fired, 1);
    t.mock.timers.tick(100 * DAY_MS);
    assert.equal(fired, 1, 'once');
  });

  test('clear() stops a chained timer at any stage', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let fired = 0;
    const timer = setLongTimeout(() => (fired += 1), 60 * DAY_MS);
    t.mock.timers.tick(MAX_DELAY + 5);
    timer.clear();
    timer.clear();
    t.mock.timers.tick(120 * DAY_MS);
    assert.equal(fired, 0);
  });

  test('Infinity never fires; NaN and negative delays fire at once', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const fired: string[] = [];
    setLongTimeout(() => fired.push('infinity'), Number.POSITIVE_INFINITY);
    setLongTimeout(() => fired.push('nan'), Number.NaN);
    setLongTimeout(() => fired.push('negative'), -5);
    t.mock.timers.tick(0);
    assert.deepEqual(fired.sort(), ['nan', 'negative']);
    t.mock.timers.tick(1_000 * DAY_MS);
    assert.deepEqual(fired.sort(), ['nan', 'negative']);
  });
});

describe('msUntil', () => {
  test('epoch ms, Date, none, Infinity, invalid and past deadlines', () => {
    assert.equal(msUntil(1_500, 1_000), 500);
    assert.equal(msUntil(new Date(1_000 + 40 * DAY_MS), 1_000), 40 * DAY_MS);
    assert.equal(msUntil(undefined, 1_000), undefined);
    assert.equal(msUntil(Number.POSITIVE_INFINITY, 1_000), undefined);
    assert.equal(msUntil(new Date(Number.NaN), 1_000), undefined);
    assert.equal(msUntil(Number.NaN, 1_000), undefined);
    assert.equal(msUntil(500, 1_000), 0);
    assert.equal(msUntil(Number.NEGATIVE_INFINITY, 1_000), 0);
  });
});

describe('waitForToken', () => {
  const header: AuthMetadata = ['authorization', 'Bearer t'];

  test('a 40-day deadline does not end the wait early; the token does', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let resolveToken!: (value: AuthMetadata) => void;
    const result = waitForToken(new Promise<AuthMetadata>((resolve) => (resolveToken = resolve)), { deadline: 40 * DAY_MS });
    t.mock.timers.tick(39 * DAY_MS);
    resolveToken(header);
    assert.deepEqual(await result, { ok: true, header });
  });

  test('the deadline ends the wait with DEADLINE_EXCEEDED; a later token is ignored', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const result = waitForToken(new Promise<AuthMetadata>(() => {}), { deadline: 30 * DAY_MS });
    t.mock.timers.tick(30 * DAY_MS);
    assert.deepEqual(await result, { ok: false, status: { code: 4, details: 'Deadline exceeded while obtaining access token' } });
  });

  test('the signal ends the wait with CANCELLED, also when aborted before', async () => {
    const controller = new AbortController();
    const result = waitForToken(new Promise<AuthMetadata>(() => {}), { signal: controller.signal });
    controller.abort();
    assert.deepEqual(await result, { ok: false, status: { code: 1, details: 'Cancelled while obtaining access token' } });
    assert.deepEqual(await waitForToken(new Promise<AuthMetadata>(() => {}), { signal: AbortSignal.abort() }), {
      ok: false,
      status: { code: 1, details: 'Cancelled while obtaining access token' },
    });
  });

  test('a failure becomes the token-failure status; never a rejection', async () => {
    assert.deepEqual(await waitForToken(Promise.reject(new Error('no token for you'))), {
      ok: false,
      status: { code: 16, details: 'failed to obtain access token: no token for you' },
    });
  });
});
