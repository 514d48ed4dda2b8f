// The sanitised cause (src/safe-cause.ts) of an AggregateError: the failures it reports survive, their data does not.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { AuthenticationError } from '../../src/index.js';
import { safeCause } from '../../src/safe-cause.js';

test('an AggregateError stays one: copies of its errors with their codes, nothing they carried', () => {
  const unimplemented = (service: string) =>
    Object.assign(new Error(`12 UNIMPLEMENTED: ${service}`), { code: 12, metadata: { secret: 'member-secret-value' } });
  const aggregate = new AggregateError([unimplemented('flyteidl.service.AuthMetadataService'), unimplemented('flyteidl2.auth.AuthMetadataService'), 'a string'], 'UNIMPLEMENTED');
  const error = new AuthenticationError('no auth metadata service', { code: 'ERR_CONFIG', cause: aggregate });
  assert.ok(error.cause instanceof AggregateError);
  assert.notEqual(error.cause, aggregate);
  assert.equal(error.cause.message, 'UNIMPLEMENTED');
  assert.deepEqual(
    error.cause.errors.map((member: Error & { code?: unknown }) => [member.message, member.code]),
    [
      ['12 UNIMPLEMENTED: flyteidl.service.AuthMetadataService', 12],
      ['12 UNIMPLEMENTED: flyteidl2.auth.AuthMetadataService', 12],
    ],
  );
  assert.doesNotMatch(inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }), /member-secret-value/);
});

test('a huge AggregateError keeps 16 of its errors', () => {
  const copy = safeCause(new AggregateError(Array.from({ length: 100_000 }, (_, i) => new Error(String(i))), 'many'));
  assert.ok(copy instanceof AggregateError);
  assert.deepEqual(
    copy.errors.map((member: Error) => member.message),
    Array.from({ length: 16 }, (_, i) => String(i)),
  );
});
