import * as grpc from '@grpc/grpc-js';
import type { EchoClientInstance, EchoReply, EchoRequest } from './echo-service.js';

/** What the application saw of one call: every event, in order. */
export interface ObservedCall {
  events: string[];
  headers: string[];
  replies: EchoReply[];
  status: grpc.StatusObject;
}

type Observed = ObservedCall & { error: grpc.ServiceError | null };

/** Records what the app sees of `call` (headers, replies, error); resolves once the status arrived. */
function record(call: grpc.ClientUnaryCall | grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<EchoRequest, EchoReply>, seen: Observed['events'], replies: EchoReply[], error: () => grpc.ServiceError | null): Promise<Observed> {
  const headers: string[] = [];
  call.on('metadata', (md: grpc.Metadata) => {
    seen.push('metadata');
    headers.push(String(md.get('x-attempt')[0] ?? ''));
  });
  return new Promise((resolve) => {
    call.on('status', (status: grpc.StatusObject) => {
      seen.push(`status:${status.code}`);
      // The unary callback (or stream 'error') and 'status' are both emitted; resolve once both happened.
      setImmediate(() => resolve({ events: seen, headers, replies, status, error: error() }));
    });
  });
}

/** A unary call that records every event the app receives (response headers, reply, status). */
export function observeUnary(
  client: EchoClientInstance,
  request: EchoRequest,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<Observed> {
  const events: string[] = [];
  const replies: EchoReply[] = [];
  let error: grpc.ServiceError | null = null;
  const call = (client.Unary as (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<EchoReply>) => grpc.ClientUnaryCall)(
    request,
    metadata,
    options,
    (err, reply) => {
      error = err;
      if (reply) replies.push(reply);
      events.push(err ? `error:${err.code}` : 'reply');
    },
  );
  return record(call, events, replies, () => error);
}

/** A streaming call's events: response headers, messages, and the final status or error. */
export function observeStream(call: grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<EchoRequest, EchoReply>): Promise<Observed> {
  const events: string[] = [];
  const replies: EchoReply[] = [];
  let error: grpc.ServiceError | null = null;
  call.on('data', (reply: EchoReply) => {
    events.push('data');
    replies.push(reply);
  });
  call.on('error', (err: grpc.ServiceError) => {
    error = err;
    events.push(`error:${err.code}`);
  });
  return record(call, events, replies, () => error);
}

/** Runs `count` calls concurrently and waits for all of them. */
export function concurrently<T>(count: number, run: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => run(index)));
}
