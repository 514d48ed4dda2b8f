import * as fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayBuffer } from '../../src/call-policy/index.js';
import { RequestTee } from '../../src/call-policy/request-tee.js';

// The replay of an application's request stream, as the Connect and nice-grpc adapters drive it: attempt 1 reads some
// messages (maybe with one read still in flight), fails, the replay is taken and attempt 1 paused, attempt 2 replays
// and reads on. Whatever the order in which the application's messages arrive, attempt 2 must send every message
// exactly once, in order, and the application's stream is read exactly once.
test('a retry replays every message once, in order, whatever the interleaving of reads, failure and retry', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 6 }),
      fc.boolean(),
      async (s, total, readBeforeFailure, readInFlight) => {
        let produced = 0;
        async function* source(): AsyncGenerator<number> {
          for (let i = 0; i < total; i += 1) {
            await s.schedule(Promise.resolve(), `message ${i}`);
            produced += 1;
            yield i;
          }
        }
        const buffer = new ReplayBuffer<number>({ maxMessages: 100, maxBytes: 100 });
        const tee = new RequestTee(source(), (message) => buffer.add(message));

        const first = tee.attempt([])[Symbol.asyncIterator]();
        const sentByFirst: number[] = [];
        const reading = (async () => {
          for (let i = 0; i < readBeforeFailure; i += 1) {
            const result = await first.next();
            if (result.done) return;
            sentByFirst.push(result.value);
          }
          // A read the transport started before the attempt failed: its message must not be lost.
          if (readInFlight) void first.next().then((result) => !result.done && sentByFirst.push(result.value));
        })();
        await s.waitFor(reading);

        // The attempt failed: take the replay, stop the first attempt, and read everything through the second.
        const replayed = buffer.take();
        tee.pause();
        const sentBySecond: number[] = [];
        const second = (async () => {
          for await (const message of tee.attempt(replayed)) sentBySecond.push(message);
        })();
        await s.waitFor(second);
        await s.waitAll();

        const all = Array.from({ length: total }, (_, i) => i);
        assert.deepEqual(sentBySecond, all);
        assert.equal(produced, total, 'the application stream is read once');
        assert.deepEqual(sentByFirst, all.slice(0, sentByFirst.length), 'the first attempt sent a prefix');
      },
    ),
    { numRuns: 300 },
  );
});

test('an attempt behind the last read (a replay that was not kept) fails instead of skipping a message', async () => {
  async function* source(): AsyncGenerator<string> {
    yield 'a';
    yield 'b';
  }
  const tee = new RequestTee(source(), () => undefined);
  const first = tee.attempt([])[Symbol.asyncIterator]();
  assert.deepEqual(await first.next(), { done: false, value: 'a' });
  assert.deepEqual(await first.next(), { done: false, value: 'b' });
  tee.pause();
  // Nothing was kept, but two messages were read: the second attempt cannot be served.
  await assert.rejects(tee.attempt([])[Symbol.asyncIterator]().next(), { message: 'the request stream cannot be replayed: a message was not kept' });
});

test('close() ends the application stream (its finally runs) and the current attempt', async () => {
  let finished = false;
  async function* source(): AsyncGenerator<string> {
    try {
      yield 'a';
      yield 'b';
    } finally {
      finished = true;
    }
  }
  const tee = new RequestTee(source(), () => undefined);
  const attempt = tee.attempt([])[Symbol.asyncIterator]();
  assert.deepEqual(await attempt.next(), { done: false, value: 'a' });
  tee.close();
  assert.deepEqual(await attempt.next(), { done: true, value: undefined });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(finished, true);
});
