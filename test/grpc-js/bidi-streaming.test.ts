import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { observeStream, runCall } from '../support/calls.js';
import { bidi, type EchoReply, type EchoRequest } from '../support/echo-service.js';
import { refreshSettled } from '../support/custom-authenticators.js';
import { sharedEnvironment } from '../support/environment.js';

type BidiMethod = (metadata: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientDuplexStream<EchoRequest, EchoReply>;

describe('bidi-streaming calls', () => {
  const shared = sharedEnvironment();

  test('carry the header', async () => {
    const replies = await bidi(shared().newClient(), [{ text: 'x' }, { text: 'y' }]);
    assert.deepEqual(replies.map((reply) => reply.text), ['echo:x', 'echo:y']);
    assert.deepEqual(shared().server.calls[0]!.headerValues, [`Bearer ${shared().authenticator.getCredentials()!.accessToken}`]);
  });

  test('UNAUTHENTICATED before any reply: refreshed, requests replayed, replies seen once', async () => {
    shared().server.rejectNext(1);
    const call = (shared().newClient().Bidi as BidiMethod)(new grpc.Metadata());
    const observed = observeStream(call);
    for (const text of ['1', '2', '3']) call.write({ text });
    call.end();
    const result = await observed;
    assert.equal(result.error, null);
    assert.deepEqual(result.replies.map((reply) => reply.text), ['echo:1', 'echo:2', 'echo:3']);
    assert.deepEqual(result.headers, ['2']);
    assert.equal(shared().server.calls.length, 2);
    assert.equal(shared().idp.tokenRequestCount, 1);
  });

  test('UNAUTHENTICATED after a reply was delivered is final: nothing is replayed, the token is replaced', async () => {
    const call = (shared().newClient().Bidi as BidiMethod)(new grpc.Metadata());
    const observed = observeStream(call);
    call.write({ text: 'fail-midstream' });
    const result = await observed;
    assert.deepEqual(result.replies.map((reply) => reply.text), ['echo:fail-midstream']);
    assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(result.error?.details, 'token expired mid-stream');
    assert.equal(shared().server.calls.length, 1);
    await refreshSettled(shared().authenticator);
    assert.equal(shared().idp.tokenRequestCount, 1, 'one background refresh');
  });

  test('cancel() ends the call with CANCELLED and is not retried', async () => {
    const call = (shared().newClient().Bidi as BidiMethod)(new grpc.Metadata());
    const observed = observeStream(call);
    call.write({ text: 'one' });
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.cancel();
    const result = await observed;
    assert.equal(result.error?.code, grpc.status.CANCELLED);
    assert.equal(shared().server.calls.length, 1);
    assert.equal(shared().idp.tokenRequestCount, 0);
  });

  test('an app that writes only after the response headers completes: headers reach it at once (no deadlock)', async () => {
    const outcome = await runCall(shared().newClient(), 'bidi', { texts: ['x', 'y'], writeAfterHeaders: true, callOptions: { deadline: Date.now() + 20_000 } });
    assert.equal(outcome.status.code, grpc.status.OK, outcome.status.details);
    assert.deepEqual(outcome.headers, ['1']);
    assert.deepEqual(outcome.replies.map((reply) => reply.text), ['echo:x', 'echo:y']);
    assert.deepEqual(outcome.writeCallbacks, [1, 1]);
  });

  test('a rejection before the headers is still retried transparently; the app then sees the retry\'s headers only', async () => {
    shared().server.rejectNext(1);
    const outcome = await runCall(shared().newClient(), 'bidi', { texts: ['x'], writeAfterHeaders: true });
    assert.equal(outcome.status.code, grpc.status.OK);
    assert.deepEqual(outcome.headers, ['2']);
    assert.deepEqual(outcome.replies.map((reply) => reply.text), ['echo:x']);
    assert.equal(shared().idp.tokenRequestCount, 1);
  });

  test('response headers commit the call: a rejection after them is final (gRPC A6)', async () => {
    shared().server.rejectNext(1, { afterHeaders: true });
    const outcome = await runCall(shared().newClient(), 'bidi', { texts: ['x'] });
    assert.equal(outcome.status.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(outcome.headers, ['1']);
    assert.equal(shared().server.calls.length, 1);
  });
});
