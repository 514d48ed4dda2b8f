import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEnvironment } from '../support/environment.js';
import { bidi, clientStream, serverStream, unary } from '../support/echo-service.js';

test('smoke', async () => {
  const env = await startEnvironment();
  try {
    const client = env.newClient();
    console.log(await unary(client, { text: 'a' }));
    console.log(await serverStream(client, { text: 'b' }));
    console.log(await clientStream(client, [{ text: 'x' }, { text: 'y' }, { text: 'z' }]));
    console.log(await bidi(client, [{ text: 'x' }, { text: 'y' }]));
    env.server.rejectNext(1);
    console.log(await unary(client, { text: 'a' }));
    console.log(env.idp.tokenRequestCount, env.server.calls.map((c) => c.outcome));
    assert.equal(1, 1);
  } finally {
    await env.close();
  }
});
