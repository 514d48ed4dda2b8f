import { ClientError, createChannel, createClientFactory, Metadata, Status, type CallOptions as NiceCallOptions, type Channel, type Client } from 'nice-grpc';
import { deadlineMiddleware, type DeadlineOptions } from 'nice-grpc-client-middleware-deadline';
import { describe } from 'node:test';
import { createAuthMiddleware, type AuthMiddlewareOptions } from '../../src/nice-grpc.js';
import { authBehaviourTable, type AdapterClientOptions, type CallKind, type CallOptions, type CallOutcome } from '../support/auth-behaviour.js';
import type { EchoRequest } from '../support/echo-service.js';
import { niceEchoDefinition, type NiceEchoDefinition } from '../support/nice-echo.js';
import { startGrpcJsServers } from '../support/grpc-js-harness.js';
import { testAuthenticator } from '../support/test-authenticator.js';

type Options = NiceCallOptions & DeadlineOptions;
type NiceEchoClient = Client<NiceEchoDefinition, DeadlineOptions>;

function middlewareOptions(options: AdapterClientOptions): AuthMiddlewareOptions {
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

async function niceEchoCall(client: NiceEchoClient, kind: CallKind, texts: readonly string[], options: CallOptions = {}): Promise<CallOutcome> {
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

describe('nice-grpc middleware, against the grpc-js test server', () => {
  authBehaviourTable(async () => {
    const servers = await startGrpcJsServers();
    const authenticator = testAuthenticator(servers.idp, servers.server.address);
    const channels: Channel[] = [];
    return {
      idp: servers.idp,
      server: servers.server,
      authenticator,
      client(options = {}) {
        const auth = options.cold ? testAuthenticator(servers.idp, servers.server.address) : authenticator;
        const channel = createChannel(servers.server.address);
        channels.push(channel);
        // nice-grpc: the middleware added last is the outermost; the deadline must bound the wait for a token too.
        const client = createClientFactory()
          .use(createAuthMiddleware(auth, middlewareOptions(options)))
          .use(deadlineMiddleware)
          .create(niceEchoDefinition, channel);
        return { authenticator: auth, call: (kind, texts, callOptions) => niceEchoCall(client, kind, texts, callOptions) };
      },
      expected: {
        deadline: { code: Status.DEADLINE_EXCEEDED, message: 'Deadline exceeded' },
        cancelled: { code: Status.CANCELLED, message: 'AbortError' },
      },
      byteBound: false,
      close: async () => {
        for (const channel of channels) channel.close();
        await servers.close();
      },
    };
  });
});
