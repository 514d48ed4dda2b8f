import type { MethodDefinition } from 'nice-grpc';
import { echoService, type EchoReply, type EchoRequest } from './echo-service.js';

type Method<RequestStream extends boolean, ResponseStream extends boolean> = MethodDefinition<EchoRequest, EchoRequest, EchoReply, EchoReply, RequestStream, ResponseStream>;

/** `test.echo.Echo` typed for nice-grpc (whose clients are typed by the call kinds of a definition). */
// A type alias, not an interface: nice-grpc's `ServiceDefinition` has an index signature.
export type NiceEchoDefinition = {
  Unary: Method<false, false>;
  ServerStream: Method<false, true>;
  ClientStream: Method<true, false>;
  Bidi: Method<true, true>;
};

/**
 * The grpc-js Echo definition (from `@grpc/proto-loader`), which nice-grpc takes as is, under its nice-grpc type: the
 * grpc-js type has `requestStream: boolean`, from which nice-grpc cannot tell the call kinds.
 */
export const niceEchoDefinition = echoService as unknown as NiceEchoDefinition;
