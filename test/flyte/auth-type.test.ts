import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthenticationError, AuthType, parseAuthType } from '../../src/index.js';
import { authFlowOf } from '../../src/flyte/auth-type.js';

const NAMES_AND_VALUES: ReadonlyArray<[name: string, value: string]> = [
  ['STANDARD', 'standard'],
  ['PKCE', 'Pkce'],
  ['BASIC', 'basic'],
  ['CLIENT_CREDENTIALS', 'client_credentials'],
  ['CLIENTSECRET', 'ClientSecret'],
  ['EXTERNAL_PROCESS', 'external_process'],
  ['EXTERNALCOMMAND', 'ExternalCommand'],
  ['DEVICEFLOW', 'DeviceFlow'],
];

test('AuthType has every flytekit name with its value, frozen', () => {
  assert.deepEqual(Object.entries(AuthType), NAMES_AND_VALUES);
  assert.ok(Object.isFrozen(AuthType));
  assert.throws(() => {
    (AuthType as Record<string, string>)['PKCE'] = 'x';
  }, TypeError);
});

for (const [name, value] of NAMES_AND_VALUES) {
  test(`parseAuthType resolves every spelling of ${name}`, () => {
    const spellings = new Set([
      name,
      value,
      name.toLowerCase(),
      value.toLowerCase(),
      value.toUpperCase(),
      // alternating case, e.g. 'pKcE'
      [...value].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join(''),
      `  ${value}\n`,
    ]);
    for (const spelling of spellings) assert.equal(parseAuthType(spelling), value, spelling);
  });
}

test('parseAuthType: the config-file spellings of flytectl and flytekit', () => {
  const table: ReadonlyArray<[string, AuthType]> = [
    ['Pkce', AuthType.PKCE],
    ['pkce', AuthType.PKCE],
    ['ClientSecret', AuthType.CLIENTSECRET],
    ['clientsecret', AuthType.CLIENTSECRET],
    ['ExternalCommand', AuthType.EXTERNALCOMMAND],
    ['externalcommand', AuthType.EXTERNALCOMMAND],
    ['DeviceFlow', AuthType.DEVICEFLOW],
    ['deviceflow', AuthType.DEVICEFLOW],
    ['standard', AuthType.STANDARD],
    ['basic', AuthType.BASIC],
    ['client_credentials', AuthType.CLIENT_CREDENTIALS],
    ['external_process', AuthType.EXTERNAL_PROCESS],
  ];
  for (const [text, expected] of table) assert.equal(parseAuthType(text), expected, text);
});

function authTypeError(text: string): AuthenticationError {
  try {
    parseAuthType(text);
  } catch (error) {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_CONFIG');
    return error;
  }
  assert.fail(`parseAuthType(${JSON.stringify(text)}) did not throw`);
}

test('parseAuthType: an unknown value lists every valid one', () => {
  const error = authTypeError('banana');
  assert.equal(
    error.message,
    "Unknown authentication type 'banana'. Valid values (any case, enum names work too): standard, Pkce, basic, " +
      'client_credentials, ClientSecret, external_process, ExternalCommand, DeviceFlow.',
  );
});

test('parseAuthType: a near miss gets a "did you mean"', () => {
  const table: ReadonlyArray<[string, string]> = [
    ['pkc', 'Pkce'],
    ['pcke', 'Pkce'],
    ['clientsecrets', 'ClientSecret'],
    ['client-secret', 'ClientSecret'],
    ['Client_Secret', 'ClientSecret'],
    ['devicefow', 'DeviceFlow'],
    ['Device', 'DeviceFlow'],
    ['externalcomand', 'ExternalCommand'],
    ['external', 'external_process'],
    ['client_credential', 'client_credentials'],
    ['standart', 'standard'],
  ];
  for (const [text, suggestion] of table) {
    const error = authTypeError(text);
    assert.ok(error.message.endsWith(` Did you mean '${suggestion}'?`), `${text}: ${error.message}`);
  }
});

test('parseAuthType: no suggestion when nothing is close; empty and non-string input are errors', () => {
  for (const text of ['banana', 'oauth', 'none', 'x']) assert.ok(!authTypeError(text).message.includes('Did you mean'));
  assert.match(authTypeError('').message, /^Unknown authentication type ''\. Valid values/);
  assert.match(authTypeError('   ').message, /^Unknown authentication type ' {3}'\. Valid values/);
  assert.throws(() => parseAuthType(5 as unknown as string), /Unknown authentication type of type number\. Valid values/);
});

test('authFlowOf maps each AuthType to its flow family', () => {
  assert.deepEqual(
    Object.values(AuthType).map((value) => [value, authFlowOf(value)]),
    [
      ['standard', 'pkce'],
      ['Pkce', 'pkce'],
      ['basic', 'clientSecret'],
      ['client_credentials', 'clientSecret'],
      ['ClientSecret', 'clientSecret'],
      ['external_process', 'externalCommand'],
      ['ExternalCommand', 'externalCommand'],
      ['DeviceFlow', 'deviceFlow'],
    ],
  );
});
