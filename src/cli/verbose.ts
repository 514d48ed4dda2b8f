import { armDebugLog, subscribeDebugLines } from '../diagnostics/debug-log.js';
import type { Writer } from './environment.js';
import { redactSecrets } from './errors.js';
import { PROGRAM } from './usage.js';

/**
 * `--verbose`: writes the package's debug lines (the ones `NODE_DEBUG=flyte-grpc-auth` prints) to `stderr` as
 * `flyte-grpc-auth: debug: <line>`, with the run's known secrets redacted as well; returns the function that stops it.
 * Node reads `NODE_DEBUG` at startup, so the lines come from a subscription of their own; when `NODE_DEBUG` already
 * prints them, nothing is added (each line once).
 */
export function startVerboseLog(stderr: Writer, secrets: readonly string[]): () => void {
  if (armDebugLog()) return () => undefined;
  return subscribeDebugLines((line) => stderr(`${PROGRAM}: debug: ${redactSecrets(line, secrets)}\n`));
}
