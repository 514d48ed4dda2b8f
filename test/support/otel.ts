import { context, type Attributes, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { instrumentAuth } from '../../src/otel.js';

/** One data point of a metric: its attributes and its value (a number, or a histogram's count and sum). */
export interface MetricPoint {
  attributes: Attributes;
  value: number | { count: number; sum: number | undefined };
}

/** The OpenTelemetry SDK with real in-memory exporters, and `instrumentAuth` subscribed to it. */
export interface TestTelemetry {
  /** A tracer of the test's own, for parent spans. */
  tracer: Tracer;
  /** Every span finished so far. */
  spans(): ReadableSpan[];
  /** The points of metric `name` (cumulative), after a forced export; `[]` when it has none. */
  points(name: string): Promise<MetricPoint[]>;
  /** Every metric point's attributes and every span's attributes and events, for "never a token" checks. */
  everything(): Promise<unknown[]>;
  close(): Promise<void>;
}

/**
 * Starts the SDK (an AsyncLocalStorage context manager, an `InMemorySpanExporter` behind a `SimpleSpanProcessor`, an
 * `InMemoryMetricExporter` behind a `PeriodicExportingMetricReader` that exports on `forceFlush`) and `instrumentAuth`.
 */
export function startTelemetry(): TestTelemetry {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // An hour: exports happen when the test asks (forceFlush), never on their own.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const stop = instrumentAuth({ meterProvider, tracerProvider });

  const collect = async () => {
    await reader.forceFlush();
    const exports = metricExporter.getMetrics();
    return exports.at(-1)?.scopeMetrics.flatMap((scope) => scope.metrics) ?? [];
  };
  return {
    tracer: tracerProvider.getTracer('test'),
    spans: () => spanExporter.getFinishedSpans(),
    async points(name) {
      const metric = (await collect()).find((candidate) => candidate.descriptor.name === name);
      if (!metric) return [];
      return metric.dataPoints.map((point) => ({
        attributes: point.attributes,
        value:
          metric.dataPointType === DataPointType.HISTOGRAM
            ? { count: (point.value as { count: number }).count, sum: (point.value as { sum?: number }).sum }
            : (point.value as number),
      }));
    },
    async everything() {
      const metrics = await collect();
      return [
        ...metrics.flatMap((metric) => metric.dataPoints.map((point) => point.attributes)),
        ...spanExporter.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })),
      ];
    },
    async close() {
      stop();
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      context.disable();
    },
  };
}

/** Finished spans by name, each with its parent span id (`undefined` for a root). */
export function spanTree(spans: readonly ReadableSpan[]): Array<{ name: string; id: string; parent: string | undefined }> {
  return spans.map((span) => ({ name: span.name, id: span.spanContext().spanId, parent: span.parentSpanContext?.spanId }));
}
