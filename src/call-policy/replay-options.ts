import { AuthenticationError } from '../errors.js';
import { DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_BUFFERED_MESSAGES, type ReplayLimits } from './replay-buffer.js';

/** The replay-bound options every adapter takes (grpc-js interceptor, Connect interceptor, nice-grpc middleware). */
export interface ReplayOptions {
  /** Request messages kept for a replay. Default {@link DEFAULT_MAX_BUFFERED_MESSAGES}. */
  maxBufferedMessages?: number | undefined;
  /** Serialized request bytes kept for a replay (request streams). Default {@link DEFAULT_MAX_BUFFERED_BYTES}. */
  maxBufferedBytes?: number | undefined;
}

/** A bound option: a non-negative integer or `Infinity`, else a configuration error now rather than at call time. */
function bound(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value >= 0)) return value;
  throw new AuthenticationError(`${name} must be a non-negative integer or Infinity, got ${String(value)}`, { code: 'ERR_CONFIG' });
}

/**
 * The policy's replay limits from an adapter's options, defaults filled in.
 * @throws AuthenticationError `ERR_CONFIG` for a negative, fractional or non-numeric bound.
 */
export function replayLimits(options: ReplayOptions): ReplayLimits {
  return {
    maxMessages: bound('maxBufferedMessages', options.maxBufferedMessages, DEFAULT_MAX_BUFFERED_MESSAGES),
    maxBytes: bound('maxBufferedBytes', options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES),
  };
}
