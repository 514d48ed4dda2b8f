import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeExpiresAt, defaultRefreshWindowMs, jwtExpiresAt } from '../../src/tokens/expiry.js';

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

test('JWT exp is read without verification; opaque or malformed tokens have none', () => {
  assert.equal(jwtExpiresAt(jwt({ exp: 1_700_000_000 })), 1_700_000_000_000);
  assert.equal(jwtExpiresAt(jwt({ sub: 'x' })), undefined);
  assert.equal(jwtExpiresAt('opaque-token'), undefined);
  assert.equal(jwtExpiresAt('a.!!!.c'), undefined);
  assert.equal(jwtExpiresAt(jwt({ exp: 'soon' })), undefined);
});

test('expiry comes from expires_in when the answer has it, else from the JWT exp', () => {
  const now = 1_000_000;
  assert.equal(computeExpiresAt('opaque', 60, now), now + 60_000);
  assert.equal(computeExpiresAt(jwt({ exp: 1_030 }), 60, now), now + 60_000, 'expires_in wins over an earlier exp');
  assert.equal(computeExpiresAt(jwt({ exp: 500 }), 60, now), now + 60_000, 'and over an exp already past on this clock');
  assert.equal(computeExpiresAt(jwt({ exp: 2_000 }), 60, now), now + 60_000);
  assert.equal(computeExpiresAt(jwt({ exp: 2_000 }), undefined, now), 2_000_000);
  assert.equal(computeExpiresAt('opaque', undefined, now), undefined);
  assert.equal(computeExpiresAt('opaque', 0, now), undefined);
  assert.equal(computeExpiresAt('opaque', Number.NaN, now), undefined);
});

test('the default refresh window is min(60 s, 10% of the lifetime)', () => {
  assert.equal(defaultRefreshWindowMs(3_600_000), 60_000);
  assert.equal(defaultRefreshWindowMs(300_000), 30_000);
  assert.equal(defaultRefreshWindowMs(2_000), 200);
  assert.equal(defaultRefreshWindowMs(-5), 0);
});
