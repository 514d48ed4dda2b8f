import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Authenticating reverse proxies in the style of GCP IAP: they sit in front of a server, demand
 * `proxy-authorization: Bearer <token>` on every request, answer 407 (or 401) without it, and forward the rest with the
 * header removed. One speaks HTTP/2 cleartext for gRPC, one HTTP/1.1 for the identity provider.
 */

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  path: string;
  /** The `proxy-authorization` value, if any. */
  proxyAuthorization: string | undefined;
  outcome: 'forwarded' | 'rejected';
}

export interface AuthProxyOptions {
  /** Which bearer tokens pass. Default: any non-empty token. Can be replaced later through `accept`. */
  accept?: (token: string) => boolean;
  /** The HTTP status of a rejection. Default 407. */
  rejectStatus?: 401 | 407;
}

export interface TestAuthProxy {
  /** `127.0.0.1:port` for gRPC, `http://127.0.0.1:port` for HTTP. */
  address: string;
  requests: ProxiedRequest[];
  /** Which bearer tokens pass from now on. */
  accept: (token: string) => boolean;
  /** Rejects the next `count` requests whatever their token. */
  rejectNext(count: number): void;
  /** Tokens of the forwarded requests, in order. */
  readonly forwardedTokens: string[];
  readonly rejectedCount: number;
  close(): Promise<void>;
}

const REJECTION_BODY = '<html><body>Proxy authentication required</body></html>';

function bearer(value: string | string[] | undefined): string | undefined {
  const single = Array.isArray(value) ? value[0] : value;
  return single === undefined ? undefined : /^Bearer (\S+)$/.exec(single)?.[1];
}

function createGate(options: AuthProxyOptions) {
  let forced = 0;
  const requests: ProxiedRequest[] = [];
  const gate = {
    requests,
    accept: options.accept ?? ((token: string) => token.length > 0),
    /** Records the request and says whether it passes. */
    admit(path: string, header: string | string[] | undefined): boolean {
      const proxyAuthorization = Array.isArray(header) ? header.join(', ') : header;
      const token = bearer(header);
      let pass = token !== undefined && gate.accept(token);
      if (forced > 0) {
        forced -= 1;
        pass = false;
      }
      requests.push({ path, proxyAuthorization, outcome: pass ? 'forwarded' : 'rejected' });
      return pass;
    },
    rejectNext(count: number) {
      forced += count;
    },
  };
  return gate;
}

function view(gate: ReturnType<typeof createGate>, address: string, close: () => Promise<void>): TestAuthProxy {
  return {
    address,
    requests: gate.requests,
    get accept() {
      return gate.accept;
    },
    set accept(accept) {
      gate.accept = accept;
    },
    rejectNext: (count) => gate.rejectNext(count),
    get forwardedTokens() {
      return gate.requests.filter((r) => r.outcome === 'forwarded').map((r) => bearer(r.proxyAuthorization) ?? '');
    },
    get rejectedCount() {
      return gate.requests.filter((r) => r.outcome === 'rejected').length;
    },
    close,
  };
}

// Headers that describe one HTTP/2 hop and must not be copied to the next one.
const HOP_HEADERS = new Set(['proxy-authorization', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

function forwardable(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (!HOP_HEADERS.has(key) && value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * An HTTP/2 cleartext reverse proxy in front of the gRPC server at `target` (`host:port`). A rejection is a real
 * HTTP 407/401 response with an HTML body, which grpc-js maps itself (no gRPC status involved).
 */
export async function startGrpcAuthProxy(target: string, options: AuthProxyOptions = {}): Promise<TestAuthProxy> {
  const gate = createGate(options);
  const rejectStatus = options.rejectStatus ?? 407;
  const upstream = http2.connect(`http://${target}`);
  upstream.on('error', () => undefined);
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (!gate.admit(String(headers[':path']), headers['proxy-authorization'])) {
      const challenge = rejectStatus === 407 ? 'proxy-authenticate' : 'www-authenticate';
      stream.respond({ ':status': rejectStatus, 'content-type': 'text/html', [challenge]: 'Bearer realm="test-proxy"' });
      stream.end(REJECTION_BODY);
      return;
    }
    const forward = upstream.request(forwardable(headers));
    forward.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    let trailers: http2.IncomingHttpHeaders = {};
    forward.on('response', (responseHeaders, flags) => {
      // A trailers-only answer (an error status before any message) ends with its headers.
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      if (endStream) stream.respond(forwardable(responseHeaders), { endStream: true });
      else stream.respond(forwardable(responseHeaders), { waitForTrailers: true });
    });
    forward.on('trailers', (received) => {
      trailers = received;
    });
    stream.on('wantTrailers', () => stream.sendTrailers(forwardable(trailers)));
    stream.pipe(forward);
    forward.on('data', (chunk: Buffer) => stream.write(chunk));
    forward.on('end', () => {
      if (!stream.writableEnded) stream.end();
    });
    stream.on('close', () => {
      if (!forward.closed) forward.close(http2.constants.NGHTTP2_CANCEL);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return view(gate, `127.0.0.1:${port}`, async () => {
    for (const session of sessions) session.destroy();
    upstream.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/**
 * An HTTP/1.1 reverse proxy in front of `target` (an `http://` origin, e.g. the identity provider). A rejection is a
 * 407 with `proxy-authenticate`, or a 401 with `proxy-authenticate` when `rejectStatus` is 401.
 */
export async function startHttpAuthProxy(target: string, options: AuthProxyOptions = {}): Promise<TestAuthProxy> {
  const gate = createGate(options);
  const rejectStatus = options.rejectStatus ?? 407;
  const origin = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createHttpServer((req, res) => {
    if (!gate.admit(req.url ?? '/', req.headers['proxy-authorization'])) {
      req.resume();
      res.writeHead(rejectStatus, { 'content-type': 'text/html', 'proxy-authenticate': 'Bearer realm="test-proxy"' });
      res.end(REJECTION_BODY);
      return;
    }
    const headers: IncomingHttpHeaders = { ...req.headers, host: origin.host };
    delete headers['proxy-authorization'];
    const forward = httpRequest({ host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return view(gate, `http://127.0.0.1:${port}`, async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}
