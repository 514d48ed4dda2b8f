/** The shape of a method: which sides stream. grpc-js `MethodDefinition`, Connect's `req.stream`, nice-grpc's call. */
export interface CallShape {
  requestStream: boolean;
  responseStream: boolean;
}

/**
 * Whether response headers commit the call (no retry after them) and must reach the application at once: for
 * request-streaming calls (client streaming, bidi), as in gRPC's retry design (A6) — their application may wait
 * for the headers before it writes, and holding them back would deadlock the stream. Unary and server-streaming
 * calls have nothing left to send, so their headers may be held back until the first message for a possible retry.
 * The first response message (or the final status) commits every call.
 */
export function headersCommit(shape: CallShape): boolean {
  return shape.requestStream;
}
