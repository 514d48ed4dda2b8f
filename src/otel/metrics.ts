import { ValueType, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import { DURATION_BUCKETS_SECONDS, METRIC_NAMES } from './names.js';

/** The instruments `instrumentAuth` records to. */
export interface AuthInstruments {
  tokenRequests: Counter;
  tokenDuration: Histogram;
  callRetries: Counter;
  callRejections: Counter;
  logins: Counter;
  storeEvents: Counter;
  storeLockWait: Histogram;
}

/** Creates the instruments on `meter`. */
export function createAuthInstruments(meter: Meter): AuthInstruments {
  const seconds = { unit: 's', valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS } };
  return {
    tokenRequests: meter.createCounter(METRIC_NAMES.tokenRequests, {
      description: 'Token requests (new credentials from the identity provider, a token store or a command).',
      unit: '{request}',
      valueType: ValueType.INT,
    }),
    tokenDuration: meter.createHistogram(METRIC_NAMES.tokenDuration, { ...seconds, description: 'Duration of token requests.' }),
    callRetries: meter.createCounter(METRIC_NAMES.callRetries, {
      description: 'Calls retried with new credentials after the server rejected theirs.',
      unit: '{call}',
      valueType: ValueType.INT,
    }),
    callRejections: meter.createCounter(METRIC_NAMES.callRejections, {
      description: 'Auth rejections that reached the caller (the retry was rejected too, or no retry was possible).',
      unit: '{call}',
      valueType: ValueType.INT,
    }),
    logins: meter.createCounter(METRIC_NAMES.logins, {
      description: 'Interactive logins (browser or device code).',
      unit: '{login}',
      valueType: ValueType.INT,
    }),
    storeEvents: meter.createCounter(METRIC_NAMES.storeEvents, {
      description: 'Token store events: lock taken, lock unavailable or lost, fallbacks, warnings.',
      unit: '{event}',
      valueType: ValueType.INT,
    }),
    storeLockWait: meter.createHistogram(METRIC_NAMES.storeLockWait, { ...seconds, description: 'Time spent waiting for a token-store lock.' }),
  };
}
