import * as grpc from '@grpc/grpc-js';
import type { EchoClientInstance, EchoReply, EchoRequest } from './echo-service.js';

/** What the application saw of one call: every event, in order. */
export interface ObservedCall {
  events: string[];
  headers: string[];
  replies: EchoReply[];
  status: grpc.StatusObject;
}

/** A unary call that records every event the app receives (response headers, reply, status). */
export function observeUnary(
  client: EchoClientInstance,
  request: EchoRequest,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<ObservedCall & { error: grpc.ServiceError | null }> {
  return new Promise((resolve) => {
    const events: string[] = [];
    const headers: string[] = [];
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
    call.on('metadata', (md: grpc.Metadata) => {
      events.push('metadata');
      headers.push(String(md.get('x-attempt')[0] ?? ''));
    });
    call.on('status', (status: grpc.StatusObject) => {
      events.push(`status:${status.code}`);
      // The callback and 'status' are both emitted; resolve once both happened.
      setImmediate(() => resolve({ events, headers, replies, status, error }));
    });
  });
}

/** A streaming call's events: response headers, messages, and the final status or error. */
export function observeStream(
  call: grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<EchoRequest, EchoReply>,
): Promise<ObservedCall & { error: grpc.ServiceError | null }> {
  return new Promise((resolve) => {
    const events: string[] = [];
    const headers: string[] = [];
    const replies: EchoReply[] = [];
    let error: grpc.ServiceError | null = null;
    call.on('metadata', (md: grpc.Metadata) => {
      events.push('metadata');
      headers.push(String(md.get('x-attempt')[0] ?? ''));
    });
    call.on('data', (reply: EchoReply) => {
      events.push('data');
      replies.push(reply);
    });
    call.on('error', (err: grpc.ServiceError) => {
      error = err;
      events.push(`error:${err.code}`);
    });
    call.on('status', (status: grpc.StatusObject) => {
      events.push(`status:${status.code}`);
      setImmediate(() => resolve({ events, headers, replies, status, error }));
    });
  });
}

/** Runs `count` calls concurrently and waits for all of them. */
export function concurrently<T>(count: number, run: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => run(index)));
}
