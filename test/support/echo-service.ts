import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO = fileURLToPath(new URL('./protos/echo.proto', import.meta.url));

export interface EchoRequest {
  text?: string;
  count?: number;
}
export interface EchoReply {
  text: string;
  subject: string;
}

const definition = protoLoader.loadSync(PROTO, { keepCase: false, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  test: { echo: { Echo: grpc.ServiceClientConstructor } };
};

/** The generated-style client constructor for `test.echo.Echo` (from `@grpc/proto-loader`). */
export const EchoClient = loaded.test.echo.Echo;
export const echoService = EchoClient.service;

export type EchoClientInstance = InstanceType<typeof EchoClient>;

/** Promisified unary call. */
export function unary(client: EchoClientInstance, request: EchoRequest, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    (client.Unary as (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<EchoReply>) => grpc.ClientUnaryCall)(
      request,
      metadata,
      options,
      (error, reply) => (error ? reject(error) : resolve(reply!)),
    );
  });
}

/** Server streaming: collects every reply, or rejects with the call's error. */
export function serverStream(client: EchoClientInstance, request: EchoRequest, options: grpc.CallOptions = {}, metadata = new grpc.Metadata()): Promise<EchoReply[]> {
  return new Promise((resolve, reject) => {
    const replies: EchoReply[] = [];
    const call = (client.ServerStream as (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<EchoReply>)(
      request,
      metadata,
      options,
    );
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', reject);
    call.on('end', () => resolve(replies));
  });
}

/** Client streaming: writes every request, then half-closes. */
export function clientStream(client: EchoClientInstance, requests: EchoRequest[], options: grpc.CallOptions = {}, metadata = new grpc.Metadata()): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    const call = (client.ClientStream as (m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<EchoReply>) => grpc.ClientWritableStream<EchoRequest>)(
      metadata,
      options,
      (error, reply) => (error ? reject(error) : resolve(reply!)),
    );
    for (const request of requests) call.write(request);
    call.end();
  });
}

/** Bidi streaming: writes every request, half-closes, collects every reply. */
export function bidi(client: EchoClientInstance, requests: EchoRequest[], options: grpc.CallOptions = {}, metadata = new grpc.Metadata()): Promise<EchoReply[]> {
  return new Promise((resolve, reject) => {
    const replies: EchoReply[] = [];
    const call = (client.Bidi as (m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<EchoRequest, EchoReply>)(
      metadata,
      options,
    );
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', reject);
    call.on('end', () => resolve(replies));
    for (const request of requests) call.write(request);
    call.end();
  });
}
