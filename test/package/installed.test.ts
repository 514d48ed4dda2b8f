// The package as published: `npm pack`, unpacked into a project outside this repository with only the dependencies
// it declares (test/support/packed-fixture.ts), used from plain .mjs scripts and type-checked as a consumer would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../support/child-process.js';
import { startEnvironment, type TestEnvironment } from '../support/environment.js';
import { BASIC_CLIENT } from '../support/identity-provider.js';
import { installPackedFixture, packPackage, type PackedFixture } from '../support/packed-fixture.js';

/** Dependencies that cost milliseconds to load: none may load with `import 'flyte-grpc-auth'`. */
const HEAVY = ['@grpc/proto-loader', '@napi-rs/keyring', 'open', 'openid-client', 'p-retry', 'proper-lockfile', 'protobufjs', 'undici', 'yaml'];
/** Names the package no longer exports (issue 9: a smaller surface). */
const REMOVED = ['AuthenticationPendingError', 'createRemoteClientConfigStore'];

function parseLastLine<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

describe('the packed package, installed', () => {
  let fixture: PackedFixture;
  let subpaths: Array<{ subpath: string; source: string }>;

  before(async () => {
    const { manifest } = await packPackage();
    // Every peer this repository has installed, so that every subpath can load.
    const peers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => existsSync(join(PACKAGE_ROOT, 'node_modules', name)));
    fixture = await installPackedFixture({ dependencies: [...peers, '@types/node'] });
    subpaths = Object.entries(manifest.exports)
      .filter(([subpath]) => subpath !== './package.json')
      .map(([subpath, target]) => ({ subpath, source: String((target as { default: string }).default).replace(/^\.\/dist\/(.+)\.js$/, 'src/$1.ts') }));
  });
  after(() => fixture?.remove());

  test('every subpath in exports imports and exports the same names as its source', async () => {
    assert.ok(subpaths.some(({ subpath }) => subpath === '.'));
    fixture.writeFile(
      'subpaths.mjs',
      `const names = {};
for (const subpath of JSON.parse(process.argv[2])) {
  names[subpath] = Object.keys(await import(subpath === '.' ? 'flyte-grpc-auth' : 'flyte-grpc-auth' + subpath.slice(1))).sort();
}
console.log(JSON.stringify(names));`,
    );
    const result = await fixture.run('subpaths.mjs', { args: [JSON.stringify(subpaths.map(({ subpath }) => subpath))] });
    assert.equal(result.code, 0, result.stderr);
    const installed = parseLastLine<Record<string, string[]>>(result.stdout);
    for (const { subpath, source } of subpaths) {
      const expected = Object.keys((await import(join(PACKAGE_ROOT, source))) as object).sort();
      assert.deepEqual(installed[subpath], expected, `exports of ${subpath}`);
    }
    for (const name of REMOVED) assert.equal(installed['.']!.includes(name), false, `${name} is exported`);
  });

  test('the CLI runs from the installed package and reads its version from its own package.json', async () => {
    const { manifest } = await packPackage();
    const result = await fixture.run(join('node_modules', 'flyte-grpc-auth', 'dist', 'cli', 'main.js'), { args: ['--version'] });
    assert.deepEqual(result, { code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  test('the published declarations type-check in a strict consumer project', async () => {
    fixture.writeFile(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false },
        files: ['consumer.ts'],
      }),
    );
    fixture.writeFile(
      'consumer.ts',
      `import * as grpc from '@grpc/grpc-js';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  createAuthInterceptor,
  createPlatformAuth,
  loadPlatformConfig,
  StaticClientConfigStore,
  type AuthenticationErrorCode,
  type PlatformAuth,
} from 'flyte-grpc-auth';

const authenticator = new ClientCredentialsAuthenticator({
  endpoint: '127.0.0.1:1',
  clientId: 'id',
  clientSecret: 'secret',
  cfgStore: new StaticClientConfigStore({ tokenEndpoint: 'http://127.0.0.1:1/token' }),
});
export const interceptor: grpc.Interceptor = createAuthInterceptor(authenticator);
export async function platform(): Promise<PlatformAuth> {
  return createPlatformAuth(await loadPlatformConfig());
}
export function codeOf(error: unknown): AuthenticationErrorCode | undefined {
  return error instanceof AuthenticationError ? error.code : undefined;
}
`,
    );
    const tsc = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await promisify(execFile)(process.execPath, [tsc, '-p', fixture.dir]).catch((error: { stdout: string; stderr: string }) => error);
    assert.equal(checked.stdout + checked.stderr, '');
  });
});

describe('what loads when', () => {
  let env: TestEnvironment;
  let fixture: PackedFixture;
  before(async () => {
    env = await startEnvironment();
    fixture = await installPackedFixture({ dependencies: ['@grpc/grpc-js'] });
  });
  after(async () => {
    fixture?.remove();
    await env?.close();
  });

  test('import loads no dependency beyond grpc-js; a client-credentials call loads undici, openid-client and p-retry only', async () => {
    fixture.writeFile(
      'call.mjs',
      `import { loadedPackages } from './loaded-packages.mjs';
const [address, tokenEndpoint, clientId, clientSecret] = process.argv.slice(2);
const grpc = await import('@grpc/grpc-js');
const withGrpc = loadedPackages();
const api = await import('flyte-grpc-auth');
const withPackage = loadedPackages();

const authenticator = new api.ClientCredentialsAuthenticator({
  endpoint: address,
  clientId,
  clientSecret,
  cfgStore: new api.StaticClientConfigStore({ tokenEndpoint, scopes: ['api:read'] }),
});
const client = new grpc.Client(address, grpc.credentials.createInsecure(), { interceptors: [api.createAuthInterceptor(authenticator)] });
// test.echo.EchoRequest { text = 1 } and EchoReply { text = 1, subject = 2 }, by hand: no protobuf library loaded.
const encode = ({ text }) => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(text)]), Buffer.from(text)]);
const decode = (bytes) => {
  const fields = {};
  for (let at = 0; at < bytes.length; ) {
    const [tag, length] = [bytes[at], bytes[at + 1]];
    fields[tag >> 3 === 1 ? 'text' : 'subject'] = bytes.subarray(at + 2, at + 2 + length).toString();
    at += 2 + length;
  }
  return fields;
};
const reply = await new Promise((resolve, reject) =>
  client.makeUnaryRequest('/test.echo.Echo/Unary', encode, decode, { text: 'installed' }, (error, value) => (error ? reject(error) : resolve(value))),
);
client.close();
console.log(JSON.stringify({ withGrpc, withPackage, afterCall: loadedPackages(), reply }));`,
    );
    const result = await fixture.run('call.mjs', { args: [env.server.address, env.idp.tokenEndpoint, BASIC_CLIENT.clientId, BASIC_CLIENT.clientSecret] });
    assert.equal(result.code, 0, result.stderr);
    const { withGrpc, withPackage, afterCall, reply } = parseLastLine<Record<'withGrpc' | 'withPackage' | 'afterCall', string[]> & { reply: unknown }>(
      result.stdout,
    );

    assert.ok(withGrpc.includes('@grpc/grpc-js'));
    assert.deepEqual(
      withPackage.filter((name) => !withGrpc.includes(name)),
      ['flyte-grpc-auth'],
    );
    assert.deepEqual(
      HEAVY.filter((name) => afterCall.includes(name)),
      ['openid-client', 'p-retry', 'undici'],
    );
    assert.deepEqual(reply, { text: 'ok:installed', subject: 'svc-basic' });
    assert.equal(env.idp.tokenRequestCount, 1);
  });

  test('without its optional @napi-rs/keyring, the keyring store falls back with one warning', async () => {
    const bare = await installPackedFixture({ dependencies: ['@grpc/grpc-js'], omit: ['@napi-rs/keyring'] });
    try {
      assert.equal(bare.installed.includes('@napi-rs/keyring'), false);
      bare.writeFile(
        'keyring.mjs',
        `import { KeyringTokenStore, MemoryTokenStore } from 'flyte-grpc-auth';
const warnings = [];
const store = new KeyringTokenStore({ fallback: new MemoryTokenStore(), warn: (warning) => warnings.push(String(warning.message ?? warning)) });
await store.set('k', { accessToken: 'a', forEndpoint: 'e' });
console.log(JSON.stringify({ read: await store.get('k'), warnings: warnings.length, mentionsKeyring: warnings.every((w) => w.includes('@napi-rs/keyring')) }));`,
      );
      const result = await bare.run('keyring.mjs');
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(parseLastLine(result.stdout), { read: { accessToken: 'a', forEndpoint: 'e' }, warnings: 1, mentionsKeyring: true });
    } finally {
      bare.remove();
    }
  });
});
