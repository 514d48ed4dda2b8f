import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { AuthenticationError, CommandAuthenticator, createAuthInterceptor } from '../../src/index.js';
import { countingTokenScript, createScriptDir, idpTokenScript, type ScriptDir } from '../support/commands.js';
import { EchoClient, unary, type EchoClientInstance } from '../support/echo-service.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, POST_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';

let scripts: ScriptDir;
before(() => {
  scripts = createScriptDir();
});
after(() => scripts.cleanup());

async function rejection(promise: Promise<unknown>): Promise<AuthenticationError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AuthenticationError, `expected AuthenticationError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

/** Whether a process still runs; a zombie waiting for init to reap it has ended. */
function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    if (process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.c2ln`;
}

describe('CommandAuthenticator: configuration', () => {
  test('an empty command is a configuration error with flytekit message', () => {
    for (const command of [[], [''], undefined as unknown as string[]]) {
      assert.throws(
        () => new CommandAuthenticator({ command }),
        (error: unknown) =>
          error instanceof AuthenticationError && error.code === 'ERR_CONFIG' && error.message === 'Command cannot be empty for command authenticator',
      );
    }
  });

  test('a timeout that is not a positive number is a configuration error', () => {
    for (const timeoutMs of [0, -1, Number.NaN]) {
      assert.throws(() => new CommandAuthenticator({ command: ['true'], timeoutMs }), { code: 'ERR_CONFIG' });
    }
  });
});

describe('CommandAuthenticator: running the command', () => {
  test('trimmed stdout is the token, sent as Bearer under the header key; every refresh runs the command again', async () => {
    const { file, counter } = countingTokenScript(scripts, 'counting.js', 'tok');
    const auth = new CommandAuthenticator({ command: [file], headerKey: 'flyte-authorization', endpoint: 'dns:///flyte.example' });
    assert.equal(scripts.runs(counter), 0, 'nothing runs at construction');
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), ['flyte-authorization', 'Bearer tok-1']);
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), ['flyte-authorization', 'Bearer tok-1'], 'a valid token is reused');
    assert.equal(scripts.runs(counter), 1);
    assert.equal((await auth.refreshCredentials()).accessToken, 'tok-2');
    assert.equal((await auth.refreshCredentials()).accessToken, 'tok-3');
    assert.equal(scripts.runs(counter), 3);
    const credentials = auth.getCredentials();
    assert.equal(credentials?.forEndpoint, 'dns:///flyte.example');
    assert.equal(credentials?.expiresAt, undefined, 'an opaque token has no known expiry');
  });

  test('concurrent refreshes share one run', async () => {
    const { file, counter } = countingTokenScript(scripts, 'shared.js', 'shared');
    const auth = new CommandAuthenticator({ command: [file] });
    const results = await Promise.all(Array.from({ length: 20 }, () => auth.fetchGrpcCallAuthMetadata()));
    assert.equal(scripts.runs(counter), 1);
    assert.ok(results.every((header) => header?.[1] === 'Bearer shared-1'));
  });

  test('arguments reach the command as argv, without a shell', async () => {
    const file = scripts.write(
      'args.js',
      `#!${process.execPath}
const expected = ['a b', '$HOME', ';echo injected', '*', '"q"'];
if (JSON.stringify(process.argv.slice(2)) !== JSON.stringify(expected)) { console.error('argv was ' + JSON.stringify(process.argv.slice(2))); process.exit(1); }
console.log('args-ok');
`,
    );
    const auth = new CommandAuthenticator({ command: [file, 'a b', '$HOME', ';echo injected', '*', '"q"'] });
    assert.equal((await auth.refreshCredentials()).accessToken, 'args-ok');
  });

  test('a JWT gets its expiry from exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const file = scripts.write('jwt.sh', `#!/bin/sh\nprintf '  %s\\n\\n' '${fakeJwt({ sub: 'x', exp })}'\n`);
    const auth = new CommandAuthenticator({ command: [file] });
    const credentials = await auth.refreshCredentials();
    assert.equal(credentials.expiresAt, exp * 1000);
    assert.equal(credentials.accessToken.startsWith('eyJ'), true, 'surrounding whitespace is trimmed');
  });

  test('a failing command: exit code, command and stderr in the message, never stdout', async () => {
    const file = scripts.write(
      'fails.sh',
      '#!/bin/sh\necho "leaked-token-abc123"\necho "  gcloud: not logged in  " >&2\nexit 3\n',
    );
    const auth = new CommandAuthenticator({ command: [file, '--project', 'p1'] });
    const error = await rejection(auth.refreshCredentials());
    assert.equal(error.code, 'ERR_COMMAND');
    assert.equal(error.endpoint, `${file} --project p1`);
    assert.equal(error.message, `command \`${file} --project p1\` exited with code 3: gcloud: not logged in. Run it in a terminal to debug.`);
    assert.doesNotMatch(error.message, /leaked-token/);
    assert.equal(auth.getCredentials(), undefined);
  });

  test('stderr is bounded in the message and control characters are replaced', async () => {
    const file = scripts.write('noisy.sh', `#!/bin/sh\nprintf 'warn\\033[0m ' >&2\nhead -c 100000 /dev/zero | tr '\\000' 'e' >&2\nexit 1\n`);
    const error = await rejection(new CommandAuthenticator({ command: [file] }).refreshCredentials());
    assert.match(error.message, /exited with code 1: warn\?\[0m e{991}…\. Run it/);
    assert.ok(error.message.length < 1200);
  });

  test('a command killed by a signal names the signal', async () => {
    const file = scripts.write('killed.sh', '#!/bin/sh\necho "dying" >&2\nkill -TERM $$\nsleep 5\n');
    const error = await rejection(new CommandAuthenticator({ command: [file] }).refreshCredentials());
    assert.equal(error.code, 'ERR_COMMAND');
    assert.match(error.message, /was killed by signal SIGTERM: dying\./);
  });

  test('a missing executable is "command not found", not a raw ENOENT', async () => {
    const missing = scripts.path('no-such-helper');
    const error = await rejection(new CommandAuthenticator({ command: [missing, '--flag'] }).refreshCredentials());
    assert.equal(error.code, 'ERR_COMMAND');
    assert.equal(error.message, `command not found: ${missing} (from \`${missing} --flag\`)`);
    const bare = await rejection(new CommandAuthenticator({ command: ['fga-surely-not-installed-helper'] }).refreshCredentials());
    assert.equal(bare.message, 'command not found: fga-surely-not-installed-helper (from `fga-surely-not-installed-helper`)');
  });

  test('a file that is not executable says so', async () => {
    const file = scripts.write('not-exec.sh', '#!/bin/sh\necho x\n');
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    const error = await rejection(new CommandAuthenticator({ command: [file] }).refreshCredentials());
    assert.equal(error.code, 'ERR_COMMAND');
    assert.match(error.message, /^command is not executable: /);
  });

  test('empty stdout and multi-word stdout are errors that do not quote stdout', async () => {
    const empty = scripts.write('empty.sh', '#!/bin/sh\necho "   "\n');
    const emptyError = await rejection(new CommandAuthenticator({ command: [empty] }).refreshCredentials());
    assert.equal(emptyError.message, `command \`${empty}\` printed no token on stdout`);
    assert.equal(emptyError.code, 'ERR_BAD_TOKEN_RESPONSE', 'the command ran; what it printed is no token');
    const chatty = scripts.write('chatty.sh', '#!/bin/sh\necho "Your token is: secret-xyz"\n');
    const chattyError = await rejection(new CommandAuthenticator({ command: [chatty] }).refreshCredentials());
    assert.equal(chattyError.code, 'ERR_BAD_TOKEN_RESPONSE');
    assert.match(chattyError.message, /printed 25 characters on stdout that are not a single token/);
    assert.doesNotMatch(chattyError.message, /secret-xyz/);
  });

  test('a hanging command is stopped at the timeout, with everything it started', async () => {
    const pids = scripts.path('hang.pids');
    const file = scripts.write('hang.sh', `#!/bin/sh\nsleep 300 &\necho "$$ $!" > '${pids}'\nwait\n`);
    const started = Date.now();
    const error = await rejection(new CommandAuthenticator({ command: [file], timeoutMs: 500 }).refreshCredentials());
    assert.ok(Date.now() - started < 5_000, 'ended near the timeout');
    assert.equal(error.code, 'ERR_COMMAND');
    assert.equal(error.message, `command \`${file}\` timed out after 500 ms and was stopped`);
    const [shellPid, sleepPid] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    // SIGKILL is delivered at once; give the kernel a moment to reap.
    for (let i = 0; i < 50 && (isAlive(shellPid!) || isAlive(sleepPid!)); i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal(isAlive(shellPid!), false, 'the command is gone');
    assert.equal(isAlive(sleepPid!), false, 'what it started is gone');
  });

  test('a command that exits and leaves a process holding stdout (an agent) is judged by its exit', async () => {
    const pids = scripts.path('daemon.pids');
    const file = scripts.write('daemon.sh', `#!/bin/sh\nsleep 300 &\necho "$!" > '${pids}'\necho tok-agent\nexit 0\n`);
    const started = Date.now();
    try {
      const credentials = await new CommandAuthenticator({ command: [file], timeoutMs: 20_000 }).refreshCredentials();
      assert.equal(credentials.accessToken, 'tok-agent');
      assert.ok(Date.now() - started < 10_000, 'did not wait for the timeout');
    } finally {
      process.kill(Number(readFileSync(pids, 'utf8').trim()), 'SIGKILL');
    }
  });
});

describe('CommandAuthenticator with a real gRPC server', () => {
  let idp: TestIdentityProvider;
  let server: TestGrpcServer;
  const clients: grpc.Client[] = [];

  before(async () => {
    idp = await startIdentityProvider();
    server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.close();
    await idp.close();
  });

  function client(auth: CommandAuthenticator): EchoClientInstance {
    const created = new EchoClient(server.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(auth)] });
    clients.push(created);
    return created;
  }

  function tokenCommand(name: string) {
    return idpTokenScript(scripts, name, { tokenEndpoint: idp.tokenEndpoint, ...POST_CLIENT });
  }

  test('the token is obtained before the first call (no unauthenticated first call)', async () => {
    const { file, counter } = tokenCommand('first-call.js');
    const auth = new CommandAuthenticator({ command: [file] });
    const from = server.calls.length;
    const reply = await unary(client(auth), { text: 'hi' });
    assert.equal(reply.text, 'ok:hi');
    assert.equal(reply.subject, POST_CLIENT.clientId);
    assert.equal(scripts.runs(counter), 1);
    assert.deepEqual(server.calls.slice(from).map((c) => c.outcome), ['ok']);
    assert.ok(auth.getCredentials()?.expiresAt, 'the JWT exp is known');
  });

  test('one rejected call: exactly one re-run of the command and one retry', async () => {
    const { file, counter } = tokenCommand('rejected.js');
    const auth = new CommandAuthenticator({ command: [file] });
    const echo = client(auth);
    await unary(echo, { text: 'a' });
    const first = auth.getCredentials()?.accessToken;
    const from = server.calls.length;
    server.rejectNext(1);
    const reply = await unary(echo, { text: 'b' });
    assert.equal(reply.text, 'ok:b');
    assert.equal(scripts.runs(counter), 2);
    assert.deepEqual(server.calls.slice(from).map((c) => c.outcome), ['rejected by test', 'ok']);
    assert.notEqual(auth.getCredentials()?.accessToken, first, 'the retry carried the new token');
    assert.equal(server.calls.at(-1)?.headerValues[0], `Bearer ${auth.getCredentials()?.accessToken}`);
  });

  test('an expired token is replaced before the call that would have been rejected', async () => {
    // 3 s: with whole-second `exp` the token lives 2-3 s by our clock (under 1 s would count as a skewed clock's).
    idp.setAccessTokenTtl(3);
    try {
      const { file, counter } = tokenCommand('expiring.js');
      const auth = new CommandAuthenticator({ command: [file] });
      const echo = client(auth);
      await unary(echo, { text: 'a' });
      const expiresAt = auth.getCredentials()?.expiresAt;
      assert.ok(expiresAt !== undefined);
      // The replacement lives long enough to reach the server (a 3 s JWT can be nearly expired when issued).
      idp.setAccessTokenTtl(300);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));
      const from = server.calls.length;
      const runs = scripts.runs(counter);
      await unary(echo, { text: 'b' });
      assert.equal(scripts.runs(counter), runs + 1, 'one run for the expired token, before the call');
      assert.deepEqual(server.calls.slice(from).map((c) => c.outcome), ['ok'], 'no rejected call');
    } finally {
      idp.setAccessTokenTtl(300);
    }
  });

  test('a token the server sees as expired (the client still trusts it): one rejected call, one re-run, one retry', async () => {
    // A fresh server: its clock is moved forward, past the first token's expiry but not the second one's.
    const skewed = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
    const { file, counter } = tokenCommand('server-expired.js');
    const echo = new EchoClient(skewed.address, grpc.credentials.createInsecure(), {
      interceptors: [createAuthInterceptor(new CommandAuthenticator({ command: [file] }))],
    });
    idp.setAccessTokenTtl(30);
    try {
      await unary(echo, { text: 'a' });
      idp.setAccessTokenTtl(300);
      skewed.advanceClock(60_000);
      const reply = await unary(echo, { text: 'b' });
      assert.equal(reply.text, 'ok:b');
      assert.equal(scripts.runs(counter), 2);
      assert.deepEqual(
        skewed.calls.map((c) => c.outcome),
        ['ok', 'invalid token: ERR_JWT_EXPIRED', 'ok'],
      );
    } finally {
      idp.setAccessTokenTtl(300);
      echo.close();
      await skewed.close();
    }
  });

  test('a failing command fails the call with UNAUTHENTICATED naming the command; no call reaches the server', async () => {
    const file = scripts.write('grpc-fails.sh', '#!/bin/sh\necho "leaked-token-abc123"\necho "expired session" >&2\nexit 2\n');
    const from = server.calls.length;
    const error = (await unary(client(new CommandAuthenticator({ command: [file] })), { text: 'x' }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    )) as grpc.ServiceError;
    assert.equal(error.code, grpc.status.UNAUTHENTICATED);
    assert.equal(
      error.details,
      `failed to obtain access token: command \`${file}\` exited with code 2: expired session. Run it in a terminal to debug.`,
    );
    assert.doesNotMatch(error.details, /leaked-token/);
    assert.equal(server.calls.length, from);
  });
});
