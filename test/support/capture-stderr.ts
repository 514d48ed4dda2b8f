/** Collects what is written to `process.stderr` until `restore()`, still passing it through. */
export interface StderrCapture {
  text(): string;
  /** Resolves once the captured text matches `pattern`. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  restore(): void;
}

export function captureStderr(): StderrCapture {
  const original = process.stderr.write.bind(process.stderr);
  let captured = '';
  const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }> = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(captured);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    check();
    return (original as (chunk: string | Uint8Array, ...args: unknown[]) => boolean)(chunk, ...rest);
  });
  return {
    text: () => captured,
    waitFor(pattern) {
      return new Promise((resolve) => {
        waiters.push({ pattern, resolve });
        check();
      });
    },
    restore() {
      process.stderr.write = original;
    },
  };
}
