import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ClientCredentialsAuthenticator, CommandAuthenticator, createAuthInterceptor, StaticClientConfigStore, type Authenticator } from '../../src/index.js';
import { concurrently } from '../support/calls.js';
import { createScriptDir, type ScriptDir } from '../support/commands.js';
import { EchoClient, unary } from '../support/echo-service.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { startHostileTokenEndpoint, tokenBody, type HostileTokenEndpoint } from '../support/hostile-token-endpoint.js';
import { BASIC_CLIENT } from '../support/identity-provider.js';

const ISSUER = 'https://idp-with-a-slow-clock.test';
const AUDIENCE = 'urn:skew-test';
// The identity provider's clock (and the server's, which trusts it) is two hours behind this machine's.
const SKEW_MS = 2 * 3_600_000;

describe('clock skew never causes a token storm', () => {
  let server: TestGrpcServer;
  let hostile: HostileTokenEndpoint;
  let scripts: ScriptDir;
  let sign: (lifetimeSeconds: number) => Promise<string>;
  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), alg: 'RS256', kid: 'skew' };
    sign = async (lifetimeSeconds) => {
      const issuedAt = Math.floor((Date.now() - SKEW_MS) / 1000);
      return new SignJWT({ client_id: 'skewed' })
        .setProtectedHeader({ alg: 'RS256', kid: 'skew' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject('skewed')
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + lifetimeSeconds)
        .sign(privateKey);
    };
    server = await startGrpcServer({ issuer: ISSUER, jwksUri: 'http://127.0.0.1:1/unused', audience: AUDIENCE, jwks: createLocalJWKSet({ keys: [jwk] }) });
    server.advanceClock(-SKEW_MS);
    hostile = await startHostileTokenEndpoint();
    scripts = createScriptDir();
  });
  after(async () => {
    await server.close();
    await hostile.close();
    scripts.cleanup();
  });

  async function callMany(authenticator: Authenticator): Promise<void> {
    const client = new EchoClient(server.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] });
    try {
      for (let i = 0; i < 20; i += 1) await unary(client, { text: `seq-${i}` });
      await concurrently(30, (i) => unary(client, { text: `par-${i}` }));
    } finally {
      client.close();
    }
  }

  test('a JWT whose exp is past on this clock, with expires_in 300: one token request for 50 calls', async () => {
    const token = await sign(300);
    hostile.answer({ kind: 'json', body: tokenBody(token, { expires_in: 300 }) });
    server.calls.length = 0;
    const before = hostile.requests;
    const authenticator = new ClientCredentialsAuthenticator({
      endpoint: server.address,
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: hostile.url }),
    });
    await callMany(authenticator);
    assert.equal(hostile.requests - before, 1);
    assert.equal(server.calls.length, 50, 'no call was rejected and retried');
    assert.ok(server.calls.every((call) => call.outcome === 'ok'));
    const lifetime = authenticator.getCredentials()!.expiresAt! - Date.now();
    assert.ok(lifetime > 290_000 && lifetime <= 300_000, `expiry from expires_in (${lifetime} ms left)`);
  });

  test('a JWT without expires_in whose exp is past here (a token command): at most one run per 5 s, unless rejected', async () => {
    const token = await sign(300);
    const counter = scripts.path('skewed.count');
    const file = scripts.write('skewed.sh', `#!/bin/sh\necho run >> '${counter}'\necho '${token}'\n`);
    const authenticator = new CommandAuthenticator({ command: [file], endpoint: server.address });
    server.calls.length = 0;
    await callMany(authenticator);
    assert.equal(scripts.runs('skewed.count'), 1, 'one run for 50 calls made within a few seconds');
    assert.equal(server.calls.length, 50);

    // A rejection is the one reason to ask again at once.
    server.rejectNext(1);
    await callMany(authenticator);
    assert.equal(scripts.runs('skewed.count'), 2);
    assert.equal(server.calls.length, 101, 'the rejected call was retried once');
  });
});
