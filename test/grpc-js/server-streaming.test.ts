import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { observeStream } from '../support/calls.js';
import type { EchoReply, EchoRequest } from '../support/echo-service.js';
import { refreshSettled } from '../support/custom-authenticators.js';
import { sharedEnvironment } from '../support/environment.js';

type ServerStreamMethod = (request: EchoRequest, metadata: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientReadableStream<EchoReply>;

describe('server-streaming calls', () => {
  const shared = sharedEnvironment();
  const start = (request: EchoRequest, metadata = new grpc.Metadata()) =>
    (shared().newClient().ServerStream as ServerStreamMethod)(request, metadata);

  test('carry the header, set on a copy of the caller metadata', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer caller-value');
    const observed = await observeStream(start({ text: 's', count: 3 }, metadata));
    assert.deepEqual(observed.replies.map((reply) => reply.text), ['s-0', 's-1', 's-2']);
    assert.deepEqual(metadata.get('authorization'), ['Bearer caller-value']);
    assert.deepEqual(shared().server.calls[0]!.headerValues, [`Bearer ${shared().authenticator.getCredentials()!.accessToken}`]);
  });

  test('UNAUTHENTICATED before any message: refreshed and retried transparently, each message once', async () => {
    shared().server.rejectNext(1, { afterHeaders: true });
    const observed = await observeStream(start({ text: 'r', count: 3 }));
    assert.equal(observed.error, null);
    assert.deepEqual(observed.events, ['metadata', 'data', 'data', 'data', 'status:0']);
    assert.deepEqual(observed.headers, ['2']);
    assert.deepEqual(observed.replies.map((reply) => reply.text), ['r-0', 'r-1', 'r-2']);
    assert.equal(shared().server.calls.length, 2);
    assert.equal(shared().idp.tokenRequestCount, 1);
  });

  test('a second UNAUTHENTICATED reaches the app after two attempts', async () => {
    shared().server.rejectNext(2);
    const observed = await observeStream(start({ text: 'r' }));
    assert.equal(observed.error?.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(observed.replies, []);
    assert.equal(shared().server.calls.length, 2);
    await refreshSettled(shared().authenticator);
    assert.equal(shared().idp.tokenRequestCount, 2, 'the refused retry token is replaced in the background');
  });

  test('UNAUTHENTICATED after messages were delivered is not retried: nothing is repeated, the token is replaced', async () => {
    const observed = await observeStream(start({ text: 'fail-midstream', count: 2 }));
    assert.deepEqual(observed.replies.map((reply) => reply.text), ['fail-midstream-0', 'fail-midstream-1']);
    assert.equal(observed.error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(observed.error?.details, 'token expired mid-stream');
    assert.equal(shared().server.calls.length, 1);
    await refreshSettled(shared().authenticator);
    assert.equal(shared().idp.tokenRequestCount, 1, 'one background refresh');
  });

  test('PERMISSION_DENIED is not retried', async () => {
    shared().server.failNext(grpc.status.PERMISSION_DENIED);
    const observed = await observeStream(start({ text: 'p' }));
    assert.equal(observed.error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(shared().server.calls.length, 1);
    assert.equal(shared().idp.tokenRequestCount, 0);
  });

  test('headers are still held until the first message, so a rejection after them is retried unseen', async () => {
    shared().server.rejectNext(1, { afterHeaders: true });
    const observed = await observeStream(start({ text: 'h', count: 1 }));
    assert.deepEqual(observed.events, ['metadata', 'data', 'status:0']);
    assert.deepEqual(observed.headers, ['2']);
    assert.equal(shared().server.calls.length, 2);
  });
});
