// The first-use loader of openid-client (src/oauth/openid-client.ts). This file must not import openid-client before
// the first test: it checks what happens before the package is loaded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientError, loadOpenidClient, oidc, ResponseBodyError, WWWAuthenticateChallengeError } from '../../src/oauth/openid-client.js';

test('before loadOpenidClient(): members throw a message that says what to do; no error is an openid-client error', () => {
  assert.throws(() => oidc.randomState(), {
    message: "openid-client's randomState used before it was loaded: await loadOpenidClient() where the flow starts",
  });
  for (const matcher of [ClientError, ResponseBodyError, WWWAuthenticateChallengeError]) {
    assert.equal(new Error('x') instanceof matcher, false);
    assert.equal(('x' as unknown) instanceof matcher, false);
  }
});

test('after loadOpenidClient(): oidc is openid-client itself, and the matchers recognise its errors', async () => {
  const loaded = await loadOpenidClient();
  const imported = await import('openid-client');
  assert.equal(loaded, imported);
  assert.equal(oidc.Configuration, imported.Configuration);
  assert.equal(await loadOpenidClient(), loaded);

  const response = new Response('{}', { status: 400 });
  const bodyError = new imported.ResponseBodyError('server responded with an error', {
    cause: { error: 'invalid_grant' },
    response,
  });
  assert.equal(bodyError instanceof ResponseBodyError, true);
  assert.equal(bodyError instanceof ClientError, false);
  assert.equal(new imported.ClientError('x') instanceof ClientError, true);
  assert.equal(new Error('x') instanceof ResponseBodyError, false);
});
