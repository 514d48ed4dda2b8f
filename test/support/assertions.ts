import assert from 'node:assert/strict';
import { AuthenticationError, type AuthenticationErrorCode } from '../../src/index.js';

export interface ExpectedAuthenticationError {
  code?: AuthenticationErrorCode;
  /** Checked whenever the key is present (`undefined` included). */
  oauthError?: string | undefined;
  /** Exact text, or a pattern. */
  message?: string | RegExp;
}

/** Awaits `promise`, which must reject with an {@link AuthenticationError} matching `expected`; returns the error. */
export async function rejectsWithAuthError(promise: Promise<unknown>, expected: ExpectedAuthenticationError): Promise<AuthenticationError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, 'expected a rejection');
  assert.ok(caught instanceof AuthenticationError, `expected an AuthenticationError, got ${caught instanceof Error ? caught.stack : JSON.stringify(caught)}`);
  if (expected.code) assert.equal(caught.code, expected.code);
  if ('oauthError' in expected) assert.equal(caught.oauthError, expected.oauthError);
  if (expected.message instanceof RegExp) assert.match(caught.message, expected.message);
  else if (expected.message !== undefined) assert.equal(caught.message, expected.message);
  return caught;
}
