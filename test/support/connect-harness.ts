import { Code, ConnectError, createClient, type CallOptions as ConnectCallOptions, type Client, type Transport } from '@connectrpc/connect';
import type { ClientCredentialsAuthenticator } from '../../src/index.js';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../../src/connect.js';
import type { AdapterClient, AdapterClientOptions, CallKind, CallOptions, CallOutcome } from './auth-behaviour.js';
import { Echo } from './gen/echo_pb.js';
import type { TestIdentityProvider } from './identity-provider.js';
import { testAuthenticator } from './test-authenticator.js';

/** The Connect interceptor options for a table client. */
export function connectInterceptorOptions(options: AdapterClientOptions): AuthInterceptorOptions {
  const result: AuthInterceptorOptions = {};
  if (options.maxBufferedMessages !== undefined) result.maxBufferedMessages = options.maxBufferedMessages;
  if (options.maxBufferedBytes !== undefined) result.maxBufferedBytes = options.maxBufferedBytes;
  if (options.rejection === 'throws') {
    result.isAuthRejection = () => {
      throw new Error('bug in the predicate');
    };
  } else if (options.rejection === 'permission-denied-too') {
    result.isAuthRejection = (error) => error.code === Code.Unauthenticated || error.code === Code.PermissionDenied;
  }
  return result;
}

async function* requests(texts: readonly string[]): AsyncGenerator<{ text: string }> {
  for (const text of texts) yield { text };
}

/** One Echo call through a Connect client, as the behaviour table sees it. */
export async function connectEchoCall(client: Client<typeof Echo>, kind: CallKind, texts: readonly string[], options: CallOptions = {}): Promise<CallOutcome> {
  const headers: string[] = [];
  const replies: string[] = [];
  const callOptions: ConnectCallOptions = { onHeader: (header) => headers.push(header.get('x-attempt') ?? '') };
  if (options.timeoutMs !== undefined) callOptions.timeoutMs = options.timeoutMs;
  if (options.signal) callOptions.signal = options.signal;
  if (options.staleHeader) callOptions.headers = { authorization: 'Bearer stale-token' };
  try {
    switch (kind) {
      case 'unary':
        replies.push((await client.unary({ text: texts[0] ?? '' }, callOptions)).text);
        break;
      case 'serverStream':
        for await (const reply of client.serverStream({ text: texts[0] ?? '' }, callOptions)) replies.push(reply.text);
        break;
      case 'clientStream':
        replies.push((await client.clientStream(requests(texts), callOptions)).text);
        break;
      case 'bidi':
        for await (const reply of client.bidi(requests(texts), callOptions)) replies.push(reply.text);
        break;
    }
    return { texts: replies, error: undefined, headers };
  } catch (error) {
    const connectError = ConnectError.from(error);
    return { texts: replies, error: { code: connectError.code, message: connectError.rawMessage }, headers };
  }
}

/** Table clients over a Connect transport factory (gRPC or Connect protocol). */
export function connectClients(
  idp: TestIdentityProvider,
  endpoint: string,
  warm: ClientCredentialsAuthenticator,
  transport: (interceptors: ReturnType<typeof createAuthInterceptor>[]) => Transport,
): (options?: AdapterClientOptions) => AdapterClient {
  return (options = {}) => {
    const authenticator = options.cold ? testAuthenticator(idp, endpoint) : warm;
    const client = createClient(Echo, transport([createAuthInterceptor(authenticator, connectInterceptorOptions(options))]));
    return { authenticator, call: (kind, texts, callOptions) => connectEchoCall(client, kind, texts, callOptions) };
  };
}
