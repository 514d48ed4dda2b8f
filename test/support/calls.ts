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

/** The four gRPC call types, for tables that run one case against each. */
export const CALL_TYPES = ['unary', 'server-stream', 'client-stream', 'bidi'] as const;
export type CallType = (typeof CALL_TYPES)[number];

/** Everything the application saw of one call, counted, so "exactly one status" can be asserted. */
export interface CallOutcome {
  /** The final status (the first one, if there were several). */
  status: grpc.StatusObject;
  /** How many `status` events the call emitted (must be 1). */
  statusEvents: number;
  /** How many errors reached the app (callback error or stream `error` event; 0 or 1). */
  errorEvents: number;
  /** Headers (`x-attempt`) the app received, in order. */
  headers: string[];
  replies: EchoReply[];
  /** Write callbacks fired, per written message (each must be 1). */
  writeCallbacks: number[];
}

export interface RunCallOptions {
  /** Request texts (unary and server streaming use the first). Default `['m0']`. */
  texts?: string[];
  callOptions?: grpc.CallOptions;
  /** Request metadata. Default: empty. */
  metadata?: grpc.Metadata;
  /** Write only after the response headers arrived (client streaming, bidi). */
  writeAfterHeaders?: boolean;
  /** Called with the call object as soon as it exists (to cancel it, say). */
  onCall?: (call: grpc.ClientUnaryCall | grpc.ClientReadableStream<EchoReply> | grpc.ClientWritableStream<EchoRequest> | grpc.ClientDuplexStream<EchoRequest, EchoReply>) => void;
}

type AnyClientCall =
  | grpc.ClientUnaryCall
  | grpc.ClientReadableStream<EchoReply>
  | grpc.ClientWritableStream<EchoRequest>
  | grpc.ClientDuplexStream<EchoRequest, EchoReply>;

/**
 * Runs one call of `type` and resolves with what the app saw, a few turns of the event loop after its status (so
 * a second status or error would be counted). Rejects if the client method throws: an interceptor must not.
 */
export function runCall(client: EchoClientInstance, type: CallType, options: RunCallOptions = {}): Promise<CallOutcome> {
  const texts = options.texts ?? ['m0'];
  const callOptions = options.callOptions ?? {};
  const metadata = options.metadata ?? new grpc.Metadata();
  return new Promise<CallOutcome>((resolve, reject) => {
    const outcome: Omit<CallOutcome, 'status'> & { status?: grpc.StatusObject } = {
      statusEvents: 0,
      errorEvents: 0,
      headers: [],
      replies: [],
      writeCallbacks: [],
    };
    const onReply = (error: grpc.ServiceError | null, reply?: EchoReply): void => {
      if (error) outcome.errorEvents += 1;
      if (reply) outcome.replies.push(reply);
    };
    let call: AnyClientCall;
    try {
      switch (type) {
        case 'unary':
          call = (client.Unary as (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<EchoReply>) => grpc.ClientUnaryCall)(
            { text: texts[0] ?? '' },
            metadata,
            callOptions,
            onReply,
          );
          break;
        case 'server-stream':
          call = (client.ServerStream as (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<EchoReply>)(
            { text: texts[0] ?? '', count: 2 },
            metadata,
            callOptions,
          );
          break;
        case 'client-stream':
          call = (client.ClientStream as (m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<EchoReply>) => grpc.ClientWritableStream<EchoRequest>)(
            metadata,
            callOptions,
            onReply,
          );
          break;
        case 'bidi':
          call = (client.Bidi as (m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<EchoRequest, EchoReply>)(metadata, callOptions);
          break;
      }
    } catch (error) {
      reject(new Error(`the ${type} call threw from the client method`, { cause: error }));
      return;
    }
    if (type === 'server-stream' || type === 'bidi') {
      const readable = call as grpc.ClientReadableStream<EchoReply>;
      readable.on('data', (reply: EchoReply) => outcome.replies.push(reply));
      readable.on('error', () => {
        outcome.errorEvents += 1;
      });
    }
    const write = (): void => {
      if (type !== 'client-stream' && type !== 'bidi') return;
      const writable = call as grpc.ClientWritableStream<EchoRequest>;
      texts.forEach((text, index) => {
        outcome.writeCallbacks[index] = 0;
        writable.write({ text }, () => {
          outcome.writeCallbacks[index]! += 1;
        });
      });
      writable.end();
    };
    let wrote = false;
    call.on('metadata', (md: grpc.Metadata) => {
      outcome.headers.push(String(md.get('x-attempt')[0] ?? ''));
      if (options.writeAfterHeaders && !wrote) {
        wrote = true;
        write();
      }
    });
    call.on('status', (status: grpc.StatusObject) => {
      outcome.statusEvents += 1;
      outcome.status ??= status;
      // Let a duplicate status, error or late write callback show up before reporting.
      setTimeout(() => resolve(outcome as CallOutcome), 20);
    });
    options.onCall?.(call);
    if (!options.writeAfterHeaders) {
      wrote = true;
      write();
    }
  });
}
