import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import {
  context,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import {
  DIAGNOSTICS_CHANNELS,
  loginChannel,
  tokenChannel,
  type LoginMessage,
  type RejectedMessage,
  type RetryMessage,
  type StoreMessage,
  type TokenRequestMessage,
} from '../diagnostics/channels.js';
import { redactText } from '../diagnostics/redact.js';
import { errorMessage } from '../util/error-message.js';
import {
  errorStatusMessage,
  loginMetricAttributes,
  loginSpanAttributes,
  rejectionMetricAttributes,
  retryMetricAttributes,
  storeMetricAttributes,
  tokenMetricAttributes,
  tokenSpanAttributes,
} from './attributes.js';
import { createAuthInstruments, type AuthInstruments } from './metrics.js';
import { INSTRUMENTATION_SCOPE, SPAN_NAMES } from './names.js';

/** Options of {@link instrumentAuth}. */
export interface InstrumentAuthOptions {
  /** Where the metrics go. Default: the global meter provider (`metrics.getMeterProvider()`), as it is when called. */
  meterProvider?: MeterProvider | undefined;
  /** Where the spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider | undefined;
}

/** A span in flight, and when its operation started (for the duration histogram). */
interface Operation {
  span: Span;
  startedAt: number;
}

const noop = (): void => undefined;

// Subscribers must never throw: diagnostics_channel would report it as an uncaught exception (a crash by default).
function safely<Message>(handle: (message: Message) => void): (message: unknown) => void {
  return (message) => {
    try {
      handle(message as Message);
    } catch {
      // A broken exporter or SDK must not take the application down with it.
    }
  };
}

function endWithError(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorStatusMessage(error) });
  // Name and (redacted) message only: a stack trace starts with the message and may quote an answer at length.
  span.recordException({ name: error instanceof Error ? error.name : 'Error', message: redactText(errorMessage(error)) });
}

function startOperation(tracer: Tracer, name: string, parent: Span | undefined, attributes: Parameters<Tracer['startSpan']>[1]): Operation {
  const parentContext = parent ? trace.setSpan(context.active(), parent) : context.active();
  return { span: tracer.startSpan(name, attributes, parentContext), startedAt: performance.now() };
}

/**
 * Records what flyte-grpc-auth does as OpenTelemetry metrics and spans, by subscribing to its diagnostics channels;
 * returns the function that unsubscribes (idempotent). Call it once, after the OpenTelemetry SDK is set up.
 *
 * Metrics: `flyte_grpc_auth.token.requests` (`flow`, `reason`, `outcome`), `flyte_grpc_auth.token.duration` (s),
 * `flyte_grpc_auth.call.retries` (`method`, `code`), `flyte_grpc_auth.call.rejections` (`method`, `retried`), plus
 * `flyte_grpc_auth.logins`, `flyte_grpc_auth.store.events` and `flyte_grpc_auth.store.lock_wait.duration`.
 * Spans: `flyte-grpc-auth token request` (a child of the context active when the request started) and
 * `flyte-grpc-auth login` (a child of its token request), status `ERROR` with the OAuth error code on failure.
 *
 * @example
 * import { instrumentAuth } from 'flyte-grpc-auth/otel';
 * const stop = instrumentAuth(); // after `new NodeSDK(...).start()`
 */
export function instrumentAuth(options: InstrumentAuthOptions = {}): () => void {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
  const instruments: AuthInstruments = createAuthInstruments(meter);
  const tokenRequests = new WeakMap<object, Operation>();
  const logins = new WeakMap<object, Operation>();
  // The token request span for the code that runs inside the request, so that a login becomes its child.
  const currentTokenSpan = new AsyncLocalStorage<Span | undefined>();

  // Bound to `start` rather than subscribed: diagnostics_channel runs the request inside the store it returns.
  const startTokenRequest = (message: TokenRequestMessage): Span | undefined => {
    try {
      const operation = startOperation(tracer, SPAN_NAMES.tokenRequest, undefined, { kind: SpanKind.INTERNAL, attributes: tokenSpanAttributes(message) });
      tokenRequests.set(message, operation);
      return operation.span;
    } catch {
      return undefined;
    }
  };
  const token = {
    start: noop,
    end: noop,
    asyncStart: noop,
    error: noop,
    asyncEnd: safely<TokenRequestMessage>((message) => {
      const operation = tokenRequests.get(message);
      if (!operation) return; // started before instrumentAuth was called
      tokenRequests.delete(message);
      const attributes = tokenMetricAttributes(message);
      instruments.tokenRequests.add(1, attributes);
      instruments.tokenDuration.record((performance.now() - operation.startedAt) / 1000, attributes);
      const { span } = operation;
      // The first request of a flow learns its token endpoint during the request.
      span.setAttributes(tokenSpanAttributes(message));
      if ('error' in message) endWithError(span, message.error);
      else if (message.result?.expiresAt !== undefined) span.setAttribute('expiresAt', new Date(message.result.expiresAt).toISOString());
      span.end();
    }),
  };
  const login = {
    start: safely<LoginMessage>((message) => {
      const operation = startOperation(tracer, SPAN_NAMES.login, currentTokenSpan.getStore(), { kind: SpanKind.INTERNAL, attributes: loginSpanAttributes(message) });
      logins.set(message, operation);
    }),
    end: noop,
    asyncStart: noop,
    error: noop,
    asyncEnd: safely<LoginMessage>((message) => {
      const operation = logins.get(message);
      if (!operation) return;
      logins.delete(message);
      instruments.logins.add(1, loginMetricAttributes(message));
      if ('error' in message) endWithError(operation.span, message.error);
      operation.span.end();
    }),
  };
  const retry = safely<RetryMessage>((message) => instruments.callRetries.add(1, retryMetricAttributes(message)));
  const rejected = safely<RejectedMessage>((message) => instruments.callRejections.add(1, rejectionMetricAttributes(message)));
  const store = safely<StoreMessage>((message) => {
    const attributes = storeMetricAttributes(message);
    instruments.storeEvents.add(1, attributes);
    if (message.event === 'lock-acquired' || message.event === 'lock-unavailable') instruments.storeLockWait.record(message.waitMs / 1000, attributes);
  });

  tokenChannel.start.bindStore(currentTokenSpan, startTokenRequest);
  tokenChannel.subscribe(token);
  loginChannel.subscribe(login);
  diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.retry, retry);
  diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.rejected, rejected);
  diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.store, store);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    tokenChannel.start.unbindStore(currentTokenSpan);
    tokenChannel.unsubscribe(token);
    loginChannel.unsubscribe(login);
    diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.retry, retry);
    diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.rejected, rejected);
    diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.store, store);
  };
}
