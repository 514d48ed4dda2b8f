import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { publishRejected, publishRetry } from '../../src/diagnostics/call-events.js';
import { subscribeDebugLines } from '../../src/diagnostics/debug-log.js';
import { redactText, redactUrl } from '../../src/diagnostics/redact.js';
import { publishStoreEvent } from '../../src/diagnostics/store-events.js';
import { PACKAGE_ROOT } from '../support/child-process.js';
import { startEnvironment } from '../support/environment.js';

const CHILD = join(PACKAGE_ROOT, 'test', 'diagnostics', 'fixtures', 'debug-log-child.ts');
const run = promisify(execFile);

const fingerprintText = (token: string) => `<token len=${token.length} sha256=...${createHash('sha256').update(token).digest('hex').slice(-4)}>`;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function runChild(nodeDebug: string | undefined, args: unknown): Promise<{ stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_DEBUG: nodeDebug };
  if (nodeDebug === undefined) delete env.NODE_DEBUG;
  return run(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], { cwd: PACKAGE_ROOT, env, timeout: 60_000 });
}

test('NODE_DEBUG=flyte-grpc-auth: one redacted line per event on stderr, tokens only as fingerprints', async () => {
  const env = await startEnvironment();
  try {
    // The child's call is rejected once: token request (initial), retry, token request (rejected).
    env.server.rejectNext(1);
    const { stdout, stderr } = await runChild('flyte-grpc-auth', { address: env.server.address, tokenEndpoint: env.idp.tokenEndpoint });
    assert.deepEqual(JSON.parse(stdout), { text: 'ok:debug', subject: 'svc-basic' });
    const [first, second] = env.server.calls.map((call) => call.headerValues[0]!.replace('Bearer ', ''));
    const lines = stderr.split('\n').filter((line) => line !== '');
    const prefix = /^FLYTE-GRPC-AUTH \d+: /;
    assert.ok(lines.every((line) => prefix.test(line)), stderr);
    const endpoint = env.server.address;
    const tokenEndpoint = env.idp.tokenEndpoint;
    const ok = (reason: string, token: string) =>
      new RegExp(
        `^token request ok flow=clientSecret endpoint=${endpoint} tokenEndpoint=${tokenEndpoint} reason=${reason} durationMs=\\d+ ` +
          `expiresAt=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z token="${escapeRegExp(fingerprintText(token))}"$`,
      );
    const stripped = lines.map((line) => line.replace(prefix, ''));
    assert.equal(stripped.length, 5, stderr);
    assert.equal(stripped[0], `token request start flow=clientSecret endpoint=${endpoint} reason=initial`);
    assert.match(stripped[1]!, ok('initial', first!));
    assert.equal(
      stripped[2],
      `retry method=/test.echo.Echo/Unary code=16 status=UNAUTHENTICATED token="${fingerprintText(first!)}" details="rejected by test"`,
    );
    assert.equal(stripped[3], `token request start flow=clientSecret endpoint=${endpoint} tokenEndpoint=${tokenEndpoint} reason=rejected`);
    assert.match(stripped[4]!, ok('rejected', second!));
    for (const token of [first!, second!]) assert.ok(!stderr.includes(token.slice(-16)), 'no token, not even its end');
  } finally {
    await env.close();
  }
});

test('without NODE_DEBUG (or with other sections only) nothing is printed', async () => {
  const env = await startEnvironment();
  try {
    for (const nodeDebug of [undefined, 'http,net']) {
      const { stdout, stderr } = await runChild(nodeDebug, { address: env.server.address, tokenEndpoint: env.idp.tokenEndpoint });
      assert.deepEqual(JSON.parse(stdout), { text: 'ok:debug', subject: 'svc-basic' });
      assert.doesNotMatch(stderr, /FLYTE-GRPC-AUTH/);
    }
  } finally {
    await env.close();
  }
});

test('debug lines: every kind of event is one line; hostile text is redacted, escaped and capped', () => {
  const lines: string[] = [];
  const stop = subscribeDebugLines((line) => lines.push(line));
  const jwt = `eyJhbGciOiJSUzI1NiJ9.${'eyJzdWIiOiJ4In0'.repeat(4)}.c2lnbmF0dXJl`;
  try {
    publishRetry('/svc/M', { code: 16, details: `token ${jwt} in "quotes"\r\nFAKE LINE\u202e` }, `Bearer ${jwt}`);
    publishRejected('/svc/M', { code: 7, details: 'denied' }, undefined, false, () => true);
    publishRejected('/svc/M', { code: 16, details: 'no auth rejection' }, undefined, false, () => false);
    publishRejected('/svc/M', { code: 16, details: 'throwing predicate' }, undefined, false, () => {
      throw new Error('bug');
    });
    publishStoreEvent('file', 'lock-unavailable', 12.6, new Error('EACCES: permission denied\n    at stack line'));
    publishStoreEvent('keyring', 'fallback', Number.NaN, `Basic ${Buffer.from('client:secret-value').toString('base64')}`);
  } finally {
    stop();
  }
  publishStoreEvent('file', 'warning', 0, 'after stop: not logged');
  assert.deepEqual(lines, [
    `retry method=/svc/M code=16 status=UNAUTHENTICATED token="${fingerprintText(jwt)}" details="token ${fingerprintText(jwt)} in \\"quotes\\"\\r\\nFAKE LINE\\u202e"`,
    'rejected method=/svc/M code=7 status=PERMISSION_DENIED details=denied retried=false',
    'store store=file event=lock-unavailable waitMs=13 reason="EACCES: permission denied"',
    `store store=keyring event=fallback waitMs=0 reason="Basic ${fingerprintText(Buffer.from('client:secret-value').toString('base64'))}"`,
  ]);
});

test('redactText: known tokens, JWTs and Bearer/Basic credentials become fingerprints; words stay; at most 1000 characters', () => {
  const opaque = 'opaque-token-0123456789';
  assert.equal(redactText(`got ${opaque}!`, [opaque]), `got ${fingerprintText(opaque)}!`);
  assert.equal(redactText('no bearer token, basic auth failed'), 'no bearer token, basic auth failed');
  assert.equal(redactText('Authorization: Bearer abcdefghijklmnop0123'), `Authorization: Bearer ${fingerprintText('abcdefghijklmnop0123')}`);
  assert.equal(redactText('short', ['short']), 'short', 'strings under 8 characters are not treated as tokens');
  const long = redactText('a'.repeat(5000));
  assert.equal(long.length, 1000);
  assert.ok(long.endsWith('a...'));
  assert.equal(redactText('\u0000\u001f\u007f\u0085\u2028'), '\\u0000\\u001f\\u007f\\u0085\\u2028');
  assert.equal(redactUrl('https://user:pw@idp.example.com/token?x=1'), 'https://REDACTED:REDACTED@idp.example.com/token?x=1');
  assert.equal(redactUrl('not a url'), 'not a url');
});
