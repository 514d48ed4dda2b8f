import { create, type DescMessage } from '@bufbuild/protobuf';
import { createContextValues, type Interceptor, type Transport, type UnaryRequest, type UnaryResponse } from '@connectrpc/connect';

type AnyFn = Parameters<Interceptor>[0];

/**
 * `transport` with `interceptors` around its unary calls (the first outermost, as a transport's own), for calls that
 * need interceptors the transport was not made with: the proxy token on the anonymous metadata calls. Streams go
 * straight to `transport`.
 */
export function withInterceptors(transport: Transport, interceptors: readonly Interceptor[]): Transport {
  return {
    unary<I extends DescMessage, O extends DescMessage>(...[method, signal, timeoutMs, header, input, contextValues]: Parameters<Transport['unary']>) {
      const base: AnyFn = (req) => transport.unary(req.method as UnaryRequest['method'], req.signal, timeoutMs, req.header, (req as UnaryRequest).message, req.contextValues);
      const call = interceptors.reduceRight<AnyFn>((next, interceptor) => interceptor(next), base);
      const req: UnaryRequest = {
        stream: false,
        service: method.parent,
        method,
        requestMethod: 'POST',
        url: `/${method.parent.typeName}/${method.name}`,
        signal: signal ?? new AbortController().signal,
        // `HeadersInit` is the DOM's type, unknown to a Node-only program: Node's `Headers` takes the same values.
        header: new Headers(header as ConstructorParameters<typeof Headers>[0]),
        contextValues: contextValues ?? createContextValues(),
        message: create(method.input, input),
      };
      return call(req) as Promise<UnaryResponse<I, O>>;
    },
    stream: (method, signal, timeoutMs, header, input, contextValues) => transport.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}
