/** Unhandled rejections and uncaught exceptions seen while a test ran. */
export interface ProcessErrors {
  readonly errors: unknown[];
  /** Stops listening and returns what was seen. */
  stop(): unknown[];
}

/**
 * Listens for unhandled rejections and uncaught exceptions until `stop()`: with a listener installed Node does not
 * crash, so a test can assert that none happened instead of dying of it.
 */
export function watchProcessErrors(): ProcessErrors {
  const errors: unknown[] = [];
  const record = (error: unknown): void => {
    errors.push(error);
  };
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  return {
    errors,
    stop() {
      process.off('unhandledRejection', record);
      process.off('uncaughtException', record);
      return errors;
    },
  };
}
