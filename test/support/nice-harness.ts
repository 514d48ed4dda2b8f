import { ClientError, Metadata, Status, type CallOptions as NiceCallOptions, type Client } from 'nice-grpc';
import type { DeadlineOptions } from 'nice-grpc-client-middleware-deadline';
import type { AuthMiddlewareOptions } from '../../src/nice-grpc.js';
import type { AdapterClientOptions, CallKind, CallOptions, CallOutcome } from './auth-behaviour.js';
import type { EchoRequest } from './echo-service.js';
import type { NiceEchoDefinition } from './nice-echo.js';

export type Options = NiceCallOptions & DeadlineOptions;
/** A nice-grpc Echo client with the deadline middleware's options. */
export type NiceEchoClient = Client<NiceEchoDefinition, DeadlineOptions>;

/** The auth middleware options for a table client. */
export function middlewareOptions(options: AdapterClientOptions): AuthMiddlewareOptions {
  const result: AuthMiddlewareOptions = {};
  if (options.maxBufferedMessages !== undefined) result.maxBufferedMessages = options.maxBufferedMessages;
  if (options.rejection === 'throws') {
    result.isAuthRejection = () => {
      throw new Error('bug in the predicate');
    };
  } else if (options.rejection === 'permission-denied-too') {
    result.isAuthRejection = (error) => error.code === Status.UNAUTHENTICATED || error.code === Status.PERMISSION_DENIED;
  }
  return result;
}

async function* requests(texts: readonly string[]): AsyncGenerator<EchoRequest> {
  for (const text of texts) yield { text };
}

/** One Echo call through a nice-grpc client, as the behaviour table sees it. */
export async function niceEchoCall(client: NiceEchoClient, kind: CallKind, texts: readonly string[], options: CallOptions = {}): Promise<CallOutcome> {
  const headers: string[] = [];
  const replies: string[] = [];
  const callOptions: Options = { onHeader: (header) => headers.push(header.get('x-attempt') ?? '') };
  // The deadline middleware takes a Date, or a number of milliseconds from now.
  if (options.timeoutMs !== undefined) callOptions.deadline = new Date(Date.now() + options.timeoutMs);
  if (options.signal) callOptions.signal = options.signal;
  if (options.staleHeader) callOptions.metadata = Metadata({ authorization: 'Bearer stale-token' });
  try {
    switch (kind) {
      case 'unary':
        replies.push((await client.Unary({ text: texts[0] ?? '' }, callOptions)).text);
        break;
      case 'serverStream':
        for await (const reply of client.ServerStream({ text: texts[0] ?? '' }, callOptions)) replies.push(reply.text);
        break;
      case 'clientStream':
        replies.push((await client.ClientStream(requests(texts), callOptions)).text);
        break;
      case 'bidi':
        for await (const reply of client.Bidi(requests(texts), callOptions)) replies.push(reply.text);
        break;
    }
    return { texts: replies, error: undefined, headers };
  } catch (error) {
    if (error instanceof ClientError) return { texts: replies, error: { code: error.code, message: error.details }, headers };
    // nice-grpc ends an aborted call with abort-controller-x's AbortError, which has no status: CANCELLED here.
    if (error instanceof Error && error.name === 'AbortError') return { texts: replies, error: { code: Status.CANCELLED, message: 'AbortError' }, headers };
    throw error;
  }
}

