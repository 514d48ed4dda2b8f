/** Unhandled rejections and uncaught exceptions seen while a watch is active. */
export interface ProcessErrorWatch {
  readonly errors: unknown[];
  stop(): void;
}

/**
 * Collects every unhandled rejection and uncaught exception until `stop()`: a test asserts `errors` is empty,
 * so an escape from the interceptor fails the test that caused it instead of crashing (or passing) the run.
 */
export function watchProcessErrors(): ProcessErrorWatch {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => {
    errors.push(error);
  };
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    errors,
    stop() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}
