import type { CallOptions, Metadata } from 'nice-grpc-common';
import type { AuthRetryPolicy } from '../call-policy/index.js';

/**
 * One attempt's response headers and trailers on their way to the application's `onHeader` / `onTrailer`: held
 * while the attempt may still be retried (so a rejected attempt shows the application nothing), delivered once it
 * commits or ends for good.
 */
export class HeldEvents {
  readonly #app: CallOptions;
  readonly #policy: AuthRetryPolicy<unknown>;
  #delivering = false;
  #header: Metadata | undefined;
  #trailer: Metadata | undefined;

  constructor(app: CallOptions, policy: AuthRetryPolicy<unknown>) {
    this.#app = app;
    this.#policy = policy;
  }

  readonly onHeader = (header: Metadata): void => {
    if (this.#delivering || this.#policy.onHeaders()) {
      this.deliver();
      this.#app.onHeader?.(header);
    } else {
      this.#header = header;
    }
  };

  readonly onTrailer = (trailer: Metadata): void => {
    if (this.#delivering) this.#app.onTrailer?.(trailer);
    else this.#trailer = trailer;
  };

  /** The attempt is the call's: what was held goes out, in order, and later events go straight through. */
  deliver(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    const header = this.#header;
    const trailer = this.#trailer;
    this.#header = undefined;
    this.#trailer = undefined;
    if (header) this.#app.onHeader?.(header);
    if (trailer) this.#app.onTrailer?.(trailer);
  }
}
