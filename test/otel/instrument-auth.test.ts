import * as grpc from '@grpc/grpc-js';
import { metrics, SpanKind, SpanStatusCode, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { InMemoryMetricExporter, AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  DeviceCodeAuthenticator,
  FileTokenStore,
  MemoryTokenStore,
  StaticClientConfigStore,
  tokenStoreKey,
} from '../../src/index.js';
import { instrumentAuth, METRIC_NAMES, SPAN_NAMES } from '../../src/otel.js';
import { observeStream, observeUnary } from '../support/calls.js';
import { fastDevicePolling, waitFor, waitUntilRefreshDue } from '../support/diagnostics.js';
import { unary, type EchoReply, type EchoRequest } from '../support/echo-service.js';
import { startEnvironment, type TestEnvironment } from '../support/environment.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { BASIC_CLIENT } from '../support/identity-provider.js';
import { withInteractiveEnvironment } from '../support/interactive-environment.js';
import { spanTree, startTelemetry, type TestTelemetry } from '../support/otel.js';
import { mintRefreshToken } from '../support/refresh-token.js';
import { createTempDir } from '../support/temp-dir.js';

const UNARY = '/test.echo.Echo/Unary';
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

type ServerStreamMethod = (request: EchoRequest, metadata: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientReadableStream<EchoReply>;

/** Runs `run` with a fresh environment and a fresh SDK; both are always closed. */
async function withTelemetry(run: (env: TestEnvironment, telemetry: TestTelemetry) => Promise<void>, options: Parameters<typeof startEnvironment>[0] = {}): Promise<void> {
  const env = await startEnvironment(options);
  const telemetry = startTelemetry();
  try {
    await run(env, telemetry);
  } finally {
    await telemetry.close();
    await env.close();
  }
}

/** Runs `run` inside an active span named `parent`, and ends it. */
async function inParentSpan<T>(tracer: Tracer, run: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan('parent', async (span) => {
    try {
      return await run();
    } finally {
      span.end();
    }
  });
}

test('cold start: one token request span, a child of the span active when the call started; counter and histogram', async () => {
  await withTelemetry(async (env, telemetry) => {
    await inParentSpan(telemetry.tracer, () => unary(env.newClient(), { text: 'cold' }));
    const spans = telemetry.spans();
    const tree = spanTree(spans);
    const parent = tree.find((span) => span.name === 'parent')!;
    assert.deepEqual(
      tree.map(({ name, parent: parentId }) => [name, parentId]),
      [
        [SPAN_NAMES.tokenRequest, parent.id],
        ['parent', undefined],
      ],
    );
    const span = spans[0]!;
    assert.equal(span.kind, SpanKind.INTERNAL);
    assert.equal(span.instrumentationScope.name, 'flyte-grpc-auth');
    assert.deepEqual(span.status, { code: SpanStatusCode.UNSET });
    const port = Number(new URL(env.idp.tokenEndpoint).port);
    const { expiresAt, ...attributes } = span.attributes;
    assert.deepEqual(attributes, {
      flow: 'clientSecret',
      endpoint: env.server.address,
      reason: 'initial',
      tokenEndpoint: env.idp.tokenEndpoint,
      'server.address': '127.0.0.1',
      'server.port': port,
    });
    assert.equal(expiresAt, new Date(env.authenticator.getCredentials()!.expiresAt!).toISOString());
    assert.match(String(expiresAt), ISO_TIME);

    const success = { flow: 'clientSecret', reason: 'initial', outcome: 'success' };
    assert.deepEqual(await telemetry.points(METRIC_NAMES.tokenRequests), [{ attributes: success, value: 1 }]);
    const [duration] = await telemetry.points(METRIC_NAMES.tokenDuration);
    assert.deepEqual(duration!.attributes, success);
    assert.equal((duration!.value as { count: number }).count, 1);
    assert.deepEqual(await telemetry.points(METRIC_NAMES.callRetries), []);
  });
});

test('proactive refresh: a second request with reason proactive', async () => {
  await withTelemetry(
    async (env, telemetry) => {
      const client = env.newClient();
      await unary(client, { text: 'first' });
      // Due 5 s after the first request (the minimum interval for a 10 s token), waiting from 0.5 s before expiry: 4 s
      // before expiry lies between, with 1 s and 3.5 s to spare.
      await waitUntilRefreshDue(env.authenticator, 4_000);
      const first = env.authenticator.getCredentials()!.accessToken;
      await unary(client, { text: 'second' });
      // The renewal may finish after the call (a refresh in the background): wait for its span.
      await waitFor(() => env.authenticator.getCredentials()!.accessToken !== first && telemetry.spans().length === 2, 'the renewal span');
      assert.deepEqual(await telemetry.points(METRIC_NAMES.tokenRequests), [
        { attributes: { flow: 'clientSecret', reason: 'initial', outcome: 'success' }, value: 1 },
        { attributes: { flow: 'clientSecret', reason: 'proactive', outcome: 'success' }, value: 1 },
      ]);
      assert.deepEqual(
        telemetry.spans().map((span) => span.attributes.reason),
        ['initial', 'proactive'],
      );
    },
    // 10 s tokens renewed 9 s before expiry: the renewal falls due within a few seconds, well before the token expires.
    { refreshWindowMs: 9_000, idp: { accessTokenTtlSeconds: 10 } },
  );
});

test('a rejection with retry: call.retries by method and code, a token request for reason rejected under the caller span', async () => {
  await withTelemetry(async (env, telemetry) => {
    const client = env.newClient();
    await unary(client, { text: 'warm' });
    env.server.rejectNext(1);
    const observed = await inParentSpan(telemetry.tracer, () => observeUnary(client, { text: 'retry' }));
    assert.equal(observed.error, null);
    assert.deepEqual(await telemetry.points(METRIC_NAMES.callRetries), [{ attributes: { method: UNARY, code: 16 }, value: 1 }]);
    assert.deepEqual(await telemetry.points(METRIC_NAMES.callRejections), []);
    assert.deepEqual(
      (await telemetry.points(METRIC_NAMES.tokenRequests)).map((point) => [point.attributes.reason, point.value]),
      [
        ['initial', 1],
        ['rejected', 1],
      ],
    );
    const tree = spanTree(telemetry.spans());
    const parent = tree.find((span) => span.name === 'parent')!;
    const rejected = telemetry.spans().find((span) => span.attributes.reason === 'rejected')!;
    assert.equal(rejected.parentSpanContext?.spanId, parent.id);
  });
});

test('rejections that reach the caller: call.rejections by method and retried', async () => {
  await withTelemetry(async (env, telemetry) => {
    const client = env.newClient();
    await unary(client, { text: 'warm' });
    env.server.rejectNext(2);
    assert.equal((await observeUnary(client, { text: 'twice' })).error?.code, grpc.status.UNAUTHENTICATED);
    const stream = (client.ServerStream as ServerStreamMethod)({ text: 'fail-midstream', count: 1 }, new grpc.Metadata());
    assert.equal((await observeStream(stream)).error?.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(await telemetry.points(METRIC_NAMES.callRejections), [
      { attributes: { method: UNARY, retried: true }, value: 1 },
      { attributes: { method: '/test.echo.Echo/ServerStream', retried: false }, value: 1 },
    ]);
    assert.deepEqual(await telemetry.points(METRIC_NAMES.callRetries), [{ attributes: { method: UNARY, code: 16 }, value: 1 }]);
  });
});

test('a failed token request: outcome failure with error.type; span status ERROR with the OAuth error code', async () => {
  await withTelemetry(async (env, telemetry) => {
    const authenticator = new ClientCredentialsAuthenticator({
      endpoint: env.server.address,
      clientId: BASIC_CLIENT.clientId,
      clientSecret: 'not-the-secret',
      cfgStore: new StaticClientConfigStore(env.clientConfig),
    });
    await assert.rejects(authenticator.refreshCredentials(), AuthenticationError);
    const failure = { flow: 'clientSecret', reason: 'initial', outcome: 'failure', 'error.type': 'ERR_OAUTH_RESPONSE' };
    assert.deepEqual(await telemetry.points(METRIC_NAMES.tokenRequests), [{ attributes: failure, value: 1 }]);
    assert.deepEqual((await telemetry.points(METRIC_NAMES.tokenDuration)).map((point) => point.attributes), [failure]);
    const [span] = telemetry.spans();
    assert.deepEqual(span!.status, { code: SpanStatusCode.ERROR, message: 'invalid_client' });
    assert.equal(span!.attributes.expiresAt, undefined);
    assert.deepEqual(
      span!.events.map((event) => [event.name, event.attributes?.['exception.type']]),
      [['exception', 'AuthenticationError']],
    );
    assert.match(String(span!.events[0]!.attributes?.['exception.message']), /invalid_client/);
  });
});

test('a login: the login span is a child of its token request span; logins counter', async () => {
  await withInteractiveEnvironment(async (env) => {
    const telemetry = startTelemetry();
    try {
      const auth = new DeviceCodeAuthenticator({
        endpoint: env.server.address,
        cfgStore: env.cfgStore,
        fetch: fastDevicePolling(env.idp.deviceAuthorizationEndpoint),
        onPrompt: async (prompt) => void (await createHeadlessBrowser().navigate(prompt.verificationUriComplete!)),
      });
      await inParentSpan(telemetry.tracer, () => auth.refreshCredentials());
      const tree = spanTree(telemetry.spans());
      const byName = (name: string) => tree.find((span) => span.name === name)!;
      assert.deepEqual(
        tree.map((span) => span.name),
        [SPAN_NAMES.login, SPAN_NAMES.tokenRequest, 'parent'],
      );
      assert.equal(byName(SPAN_NAMES.login).parent, byName(SPAN_NAMES.tokenRequest).id);
      assert.equal(byName(SPAN_NAMES.tokenRequest).parent, byName('parent').id);
      assert.deepEqual(telemetry.spans()[0]!.attributes, { flow: 'deviceFlow', endpoint: env.server.address });
      assert.deepEqual(await telemetry.points(METRIC_NAMES.logins), [{ attributes: { flow: 'deviceFlow', outcome: 'success' }, value: 1 }]);
      assert.deepEqual(await telemetry.points(METRIC_NAMES.tokenRequests), [
        { attributes: { flow: 'deviceFlow', reason: 'initial', outcome: 'success' }, value: 1 },
      ]);
    } finally {
      await telemetry.close();
    }
  });
});

test('expiry: cached credentials past their expiry, renewed with reason expired', async () => {
  await withInteractiveEnvironment(async (env) => {
    const telemetry = startTelemetry();
    try {
      const tokenStore = new MemoryTokenStore();
      await tokenStore.set(tokenStoreKey(env.server.address, 'cli', 'deviceflow'), {
        accessToken: 'an-expired-opaque-access-token',
        refreshToken: await mintRefreshToken(env.idp),
        expiresAt: Date.now() - 1_000,
        forEndpoint: env.server.address,
      });
      const auth = new DeviceCodeAuthenticator({ endpoint: env.server.address, cfgStore: env.cfgStore, tokenStore, scopes: ['openid', 'offline_access'] });
      assert.equal((await observeUnary(env.newClient(auth), { text: 'x' })).error, null);
      assert.deepEqual(await telemetry.points(METRIC_NAMES.tokenRequests), [
        { attributes: { flow: 'deviceFlow', reason: 'expired', outcome: 'success' }, value: 1 },
      ]);
      assert.deepEqual(await telemetry.points(METRIC_NAMES.logins), []);
    } finally {
      await telemetry.close();
    }
  });
});

test('the unsubscribe function stops recording (and may be called twice)', async () => {
  const env = await startEnvironment();
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const stop = instrumentAuth({ meterProvider, tracerProvider });
  try {
    await unary(env.newClient(), { text: 'recorded' });
    stop();
    stop();
    env.server.rejectNext(1);
    await unary(env.newClient(), { text: 'not recorded' });
    assert.equal(env.idp.tokenRequestCount, 2);
    assert.deepEqual(spanExporter.getFinishedSpans().map((span) => span.attributes.reason), ['initial']);
    await reader.forceFlush();
    const points = metricExporter.getMetrics().at(-1)!.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => [metric.descriptor.name, metric.dataPoints.length]));
    assert.deepEqual(points, [
      [METRIC_NAMES.tokenRequests, 1],
      [METRIC_NAMES.tokenDuration, 1],
    ]);
  } finally {
    stop();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    await env.close();
  }
});

test('without providers, the global ones are used', async () => {
  const env = await startEnvironment();
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  assert.ok(trace.setGlobalTracerProvider(tracerProvider));
  assert.ok(metrics.setGlobalMeterProvider(meterProvider));
  const stop = instrumentAuth();
  try {
    await unary(env.newClient(), { text: 'x' });
    await reader.forceFlush();
    const names = metricExporter.getMetrics().at(-1)!.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => metric.descriptor.name));
    assert.deepEqual(names, [METRIC_NAMES.tokenRequests, METRIC_NAMES.tokenDuration]);
    assert.deepEqual(spanExporter.getFinishedSpans().map((span) => span.name), [SPAN_NAMES.tokenRequest]);
  } finally {
    stop();
    trace.disable();
    metrics.disable();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    await env.close();
  }
});

test('a tracer provider that throws cannot break a call or raise an uncaught exception', async () => {
  const env = await startEnvironment();
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', record);
  const broken: TracerProvider = {
    getTracer: () =>
      ({
        startSpan: () => {
          throw new Error('broken SDK');
        },
      }) as unknown as Tracer,
  };
  const stop = instrumentAuth({ tracerProvider: broken });
  try {
    env.server.rejectNext(1);
    assert.deepEqual(await unary(env.newClient(), { text: 'fine' }), { text: 'ok:fine', subject: 'svc-basic' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(uncaught, []);
  } finally {
    stop();
    process.off('uncaughtException', record);
    await env.close();
  }
});

test('store events: flyte_grpc_auth.store.events by store and event, lock waits in seconds', async () => {
  const temp = createTempDir('fga-otel-store-');
  const telemetry = startTelemetry();
  try {
    const store = new FileTokenStore({ path: `${temp.dir}/tokens.json` });
    await store.set('k', { accessToken: 'a', forEndpoint: 'e' });
    await store.withLock('k', async () => undefined);
    const attributes = { store: 'file', event: 'lock-acquired' };
    assert.deepEqual(await telemetry.points(METRIC_NAMES.storeEvents), [{ attributes, value: 2 }]);
    const [wait] = await telemetry.points(METRIC_NAMES.storeLockWait);
    assert.deepEqual(wait!.attributes, attributes);
    assert.equal((wait!.value as { count: number }).count, 2);
  } finally {
    await telemetry.close();
    temp.cleanup();
  }
});
