import type { AuthMetadata, TokenSource } from './token-source.js';

/**
 * Compare-and-refresh after a rejection the call could not retry (a second rejection, a committed call, a request
 * stream over the replay bound): marks `rejected` as refused so that the next call uses a new token. Concurrent
 * rejections of one token make one token request (the authenticator's single flight); a failure is dropped here —
 * the next call that needs a token meets it — and never becomes an unhandled rejection. Fire and forget.
 */
export function refreshInBackground(source: TokenSource, rejected: AuthMetadata | undefined): void {
  try {
    source.refreshAfterRejection(rejected).catch(ignore);
  } catch {
    // A custom authenticator that throws synchronously: nothing to refresh, nothing to report to a finished call.
  }
}

function ignore(): void {}
