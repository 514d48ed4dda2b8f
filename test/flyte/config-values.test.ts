import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  InvalidConfigValue,
  parseCount,
  parseDurationMs,
  parseFlyteBool,
  splitList,
  yamlBool,
  yamlCount,
  yamlDurationMs,
  yamlList,
  yamlString,
} from '../../src/flyte/config-values.js';

test('bool: flytekit rule, false/0/off/no/"" in any case are false, any other string is true', () => {
  const falsy = ['false', 'False', 'FALSE', '0', 'off', 'Off', 'OFF', 'no', 'No', 'NO', '', '  false ', ' '];
  const truthy = ['true', 'True', 'TRUE', '1', 'on', 'yes', 'Y', 'enabled', 'nope', '00', 'f'];
  for (const text of falsy) assert.equal(parseFlyteBool(text), false, JSON.stringify(text));
  for (const text of truthy) assert.equal(parseFlyteBool(text), true, JSON.stringify(text));
});

test('bool from YAML: booleans, or strings with the flytekit rule; other types are refused', () => {
  assert.equal(yamlBool(true), true);
  assert.equal(yamlBool(false), false);
  assert.equal(yamlBool('no'), false);
  assert.equal(yamlBool('Off'), false);
  assert.equal(yamlBool('yes'), true);
  assert.throws(() => yamlBool([1]), { name: 'InvalidConfigValue', message: 'expected true or false, got a list' });
  assert.throws(() => yamlBool(1), { message: 'expected true or false, got a number' });
  assert.throws(() => yamlBool({ a: 1 }), { message: 'expected true or false, got a mapping' });
});

test('duration: Go syntax, bare digits as nanoseconds', () => {
  const table: ReadonlyArray<[string, number]> = [
    ['15s', 15_000],
    ['5m0s', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['2h45m30.5s', 9_930_500],
    ['.5s', 500],
    ['1.s', 1_000],
    ['100us', 0.1],
    ['100µs', 0.1],
    ['100μs', 0.1],
    ['2000000ns', 2],
    ['+5s', 5_000],
    ['0', 0],
    ['0s', 0],
    [' 10s ', 10_000],
    ['1m1m', 120_000],
    ['15000000000', 15_000],
    ['5000000', 5],
  ];
  for (const [text, ms] of table) assert.equal(parseDurationMs(text), ms, text);
});

test('duration: malformed strings are refused with the accepted forms', () => {
  for (const text of ['', '15x', '5 m', 's', '-5s', '1.2.3s', 'abc', '5m0', '1h 30m', '.s', '1e9', 'ms5', '-0']) {
    assert.throws(
      () => parseDurationMs(text),
      (error: unknown) =>
        error instanceof InvalidConfigValue &&
        error.message.startsWith("expected a duration such as '15s', '5m0s', '1h30m', '250ms', or a number of nanoseconds"),
      JSON.stringify(text),
    );
  }
});

test('duration from YAML: strings, numbers as nanoseconds; negative numbers and other types refused', () => {
  assert.equal(yamlDurationMs('2m'), 120_000);
  assert.equal(yamlDurationMs(3_000_000_000), 3_000);
  assert.equal(yamlDurationMs(0), 0);
  assert.throws(() => yamlDurationMs(-1), /got -1$/);
  assert.throws(() => yamlDurationMs(true), /got a boolean$/);
  assert.throws(() => yamlDurationMs(['1s']), /got a list$/);
});

test('lists: comma-separated text, trimmed, empty items dropped; YAML lists as they are', () => {
  assert.deepEqual(splitList('a, b,,c '), ['a', 'b', 'c']);
  assert.deepEqual(splitList('gcloud,auth,print-identity-token'), ['gcloud', 'auth', 'print-identity-token']);
  assert.deepEqual(splitList(''), []);
  assert.deepEqual(splitList(' , '), []);
  assert.deepEqual(yamlList(['openid', ' spaced ', 5]), ['openid', ' spaced ', '5']);
  assert.deepEqual(yamlList('openid,offline'), ['openid', 'offline']);
  assert.throws(() => yamlList(5), { message: 'expected a list of strings, got a number' });
  assert.throws(() => yamlList(['a', { b: 1 }]), { message: 'item 1: expected a string, got a mapping' });
  assert.throws(() => yamlList(['a', null]), { message: 'item 1: expected a string, got nothing' });
});

test('strings and counts', () => {
  assert.equal(yamlString('x'), 'x');
  assert.equal(yamlString(12345), '12345');
  assert.throws(() => yamlString(true), { message: 'expected a string, got a boolean' });
  assert.throws(() => yamlString(['x']), { message: 'expected a string, got a list' });
  assert.equal(yamlCount(0), 0);
  assert.equal(yamlCount(7), 7);
  assert.equal(yamlCount('3'), 3);
  assert.equal(parseCount(' 12 '), 12);
  assert.throws(() => yamlCount(-1), { message: 'expected a non-negative integer, got -1' });
  assert.throws(() => yamlCount(1.5), { message: 'expected a non-negative integer, got 1.5' });
  assert.throws(() => yamlCount([1]), { message: 'expected a non-negative integer, got a list' });
  assert.throws(() => parseCount('many'), { message: "expected a non-negative integer, got 'many'" });
  assert.throws(() => parseCount('-2'), { message: "expected a non-negative integer, got '-2'" });
});
