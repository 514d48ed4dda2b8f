import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { ClientCredentialsAuthenticator, createAuthInterceptor, DeviceCodeAuthenticator, StaticClientConfigStore } from '../../src/index.js';
import { subscribeDebugLines } from '../../src/diagnostics/debug-log.js';
import { observeUnary } from '../support/calls.js';
import { collectSecrets, fastDevicePolling, recordDiagnostics } from '../support/diagnostics.js';
import { EchoClient } from '../support/echo-service.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { BASIC_CLIENT } from '../support/identity-provider.js';
import { withInteractiveEnvironment } from '../support/interactive-environment.js';
import { startTelemetry } from '../support/otel.js';
import * as grpc from '@grpc/grpc-js';

test('no event, debug line, metric attribute or span attribute/event holds a token, code or secret the test servers issued', async () => {
  await withInteractiveEnvironment(async (env) => {
    const recorder = recordDiagnostics();
    const lines: string[] = [];
    const stopLines = subscribeDebugLines((line) => lines.push(line));
    const telemetry = startTelemetry();
    const collector = collectSecrets();
    collector.add(BASIC_CLIENT.clientSecret, 'wrong-client-secret-value');
    try {
      // Client credentials: cold start, a rejection with retry, a rejected retry, a refused secret.
      const service = new ClientCredentialsAuthenticator({
        endpoint: env.server.address,
        ...BASIC_CLIENT,
        cfgStore: new StaticClientConfigStore({ tokenEndpoint: env.idp.tokenEndpoint, scopes: ['api:read'] }),
        fetch: collector.fetch,
      });
      const serviceClient = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(service)] });
      assert.equal((await observeUnary(serviceClient, { text: 'cold' })).error, null);
      env.server.rejectNext(1);
      assert.equal((await observeUnary(serviceClient, { text: 'retry' })).error, null);
      env.server.rejectNext(2);
      assert.equal((await observeUnary(serviceClient, { text: 'rejected' })).error?.code, grpc.status.UNAUTHENTICATED);
      serviceClient.close();
      const refused = new ClientCredentialsAuthenticator({
        endpoint: env.server.address,
        clientId: BASIC_CLIENT.clientId,
        clientSecret: 'wrong-client-secret-value',
        cfgStore: new StaticClientConfigStore({ tokenEndpoint: env.idp.tokenEndpoint, scopes: ['api:read'] }),
        fetch: collector.fetch,
      });
      await assert.rejects(refused.refreshCredentials());

      // Device flow: a login (device code, user code, access, refresh and ID tokens), then a refresh-token renewal.
      const user = new DeviceCodeAuthenticator({
        endpoint: env.server.address,
        cfgStore: env.cfgStore,
        fetch: fastDevicePolling(env.idp.deviceAuthorizationEndpoint, collector.fetch),
        refreshWindowMs: 3_600_000,
        onPrompt: async (prompt) => {
          collector.add(prompt.userCode, prompt.verificationUriComplete);
          await createHeadlessBrowser().navigate(prompt.verificationUriComplete!);
        },
      });
      const userClient = env.newClient(user);
      assert.equal((await observeUnary(userClient, { text: 'login' })).error, null);
      assert.equal((await observeUnary(userClient, { text: 'refresh' })).error, null);
      for (const call of env.server.calls) collector.add(...call.headerValues, ...call.headerValues.map((value) => value.replace('Bearer ', '')));
    } finally {
      stopLines();
      recorder.stop();
    }

    const haystack = [recorder.inspected(), lines.join('\n'), inspect(await telemetry.everything(), { depth: Infinity, maxStringLength: Infinity })].join('\n');
    await telemetry.close();

    // The check can fail: there is something to look at, and plenty to look for (the refused secret went out in the
    // Basic header and, auto-detected, in the body: client_secret).
    assert.ok(recorder.events.length >= 20, `only ${recorder.events.length} events`);
    assert.ok(lines.length >= 12, `only ${lines.length} debug lines`);
    assert.match(haystack, /<token len=\d+ sha256=\.\.\.[0-9a-f]{4}>/);
    assert.deepEqual([...collector.fields].sort(), ['access_token', 'client_secret', 'device_code', 'id_token', 'refresh_token', 'user_code']);
    for (const secret of collector.secrets) {
      assert.ok(!haystack.includes(secret), `a secret (${secret.length} characters, starting ${secret.slice(0, 3)}) leaked`);
      // Not even a recognisable piece of a long one.
      if (secret.length >= 40) assert.ok(!haystack.includes(secret.slice(-24)), `the end of a secret (${secret.length} characters) leaked`);
    }
  });
});
