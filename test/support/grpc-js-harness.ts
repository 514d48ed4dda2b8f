import * as grpc from '@grpc/grpc-js';
import type { CallKind, CallOptions, CallOutcome } from './auth-behaviour.js';
import type { EchoClientInstance, EchoReply, EchoRequest } from './echo-service.js';
import { startGrpcServer, type TestGrpcServer } from './grpc-server.js';
import { API_AUDIENCE, startIdentityProvider, type TestIdentityProvider } from './identity-provider.js';

/** The identity provider and the grpc-js Echo server (JWT auth, trailers-only rejections, call plans) on 127.0.0.1. */
export async function startGrpcJsServers(): Promise<{ idp: TestIdentityProvider; server: TestGrpcServer; close(): Promise<void> }> {
  const idp = await startIdentityProvider();
  const server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
  return {
    idp,
    server,
    close: async () => {
      await server.close();
      await idp.close();
    },
  };
}

type AnyCall = grpc.ClientUnaryCall | grpc.ClientReadableStream<EchoReply> | grpc.ClientWritableStream<EchoRequest> | grpc.ClientDuplexStream<EchoRequest, EchoReply>;
type Callback = grpc.requestCallback<EchoReply>;

/** One Echo call through a grpc-js client (the app's view: metadata, data and status events), as the table sees it. */
export function grpcJsEchoCall(client: EchoClientInstance, kind: CallKind, texts: readonly string[], options: CallOptions = {}): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const headers: string[] = [];
    const replies: string[] = [];
    let error: grpc.ServiceError | null = null;
    const metadata = new grpc.Metadata();
    if (options.staleHeader) metadata.set('authorization', 'Bearer stale-token');
    const callOptions: grpc.CallOptions = options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
    const callback: Callback = (err, reply) => {
      error = err;
      if (reply) replies.push(reply.text);
    };
    const writeAll = (call: grpc.ClientWritableStream<EchoRequest> | grpc.ClientDuplexStream<EchoRequest, EchoReply>): void => {
      for (const text of texts) call.write({ text });
      call.end();
    };
    let call: AnyCall;
    switch (kind) {
      case 'unary':
        call = (client.Unary as (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall)({ text: texts[0] ?? '' }, metadata, callOptions, callback);
        break;
      case 'serverStream':
        call = (client.ServerStream as (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<EchoReply>)({ text: texts[0] ?? '' }, metadata, callOptions);
        break;
      case 'clientStream': {
        const stream = (client.ClientStream as (m: grpc.Metadata, o: grpc.CallOptions, cb: Callback) => grpc.ClientWritableStream<EchoRequest>)(metadata, callOptions, callback);
        writeAll(stream);
        call = stream;
        break;
      }
      case 'bidi': {
        const stream = (client.Bidi as (m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<EchoRequest, EchoReply>)(metadata, callOptions);
        writeAll(stream);
        call = stream;
        break;
      }
    }
    call.on('metadata', (received: grpc.Metadata) => headers.push(String(received.get('x-attempt')[0] ?? '')));
    // Every call object is an EventEmitter; the surface types declare only some of its events.
    const events = call as unknown as NodeJS.EventEmitter;
    events.on('data', (reply: EchoReply) => replies.push(reply.text));
    events.on('error', (err: grpc.ServiceError) => {
      error = err;
    });
    call.on('status', () => {
      // The unary callback (or the stream's 'error') and 'status' are both emitted: settle once both happened.
      setImmediate(() => {
        const failed = error;
        resolve({ texts: replies, error: failed ? { code: failed.code, message: failed.details } : undefined, headers });
      });
    });
    options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
  });
}
