// `flyte-grpc-auth/otel`: OpenTelemetry metrics and spans from the package's diagnostics channels. Needs the optional
// peer dependency `@opentelemetry/api`; the main entry never loads this file.
export { instrumentAuth } from './otel/instrument-auth.js';
export type { InstrumentAuthOptions } from './otel/instrument-auth.js';
export { INSTRUMENTATION_SCOPE, METRIC_NAMES, SPAN_NAMES } from './otel/names.js';
