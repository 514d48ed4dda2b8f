import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ForwardProxyOptions {
  /**
   * Ports `CONNECT` may reach, as squid's `SSL_ports` (its standard configuration refuses `CONNECT` to any other port
   * with 403). Default: none.
   */
  tlsPorts?: number[];
  /** Require `Proxy-Authorization: Basic base64(user:password)`; anything else gets 407 with a `Proxy-Authenticate`. */
  credentials?: { user: string; password: string };
}

export interface TestForwardProxy {
  /** `http://127.0.0.1:port`. */
  url: string;
  /** Every request as `CONNECT host:port` or `METHOD absolute-url`, with the status the proxy answered. */
  readonly log: Array<{ request: string; status: number }>;
  close(): Promise<void>;
}

/**
 * A forward proxy on 127.0.0.1 that behaves like squid's standard configuration: plain-`http` requests in absolute
 * form (`POST http://host:port/path`) are forwarded; `CONNECT` is allowed only to the TLS ports it is told about, and
 * answered 403 otherwise; with `credentials`, every request without them gets 407. Only loopback targets are reached.
 */
export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<TestForwardProxy> {
  const log: TestForwardProxy['log'] = [];
  const sockets = new Set<Socket>();
  const expected = options.credentials ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}` : undefined;
  const authorized = (header: string | undefined): boolean => expected === undefined || header === expected;

  const server: Server = createServer((req, res) => {
    const request = `${req.method ?? 'GET'} ${req.url ?? ''}`;
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      log.push({ request, status: 400 });
      res.writeHead(400).end('absolute-form requests only');
      return;
    }
    if (!authorized(req.headers['proxy-authorization'])) {
      log.push({ request, status: 407 });
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"', 'content-type': 'text/html' }).end('<html>407</html>');
      return;
    }
    if (target.protocol !== 'http:' || (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost')) {
      log.push({ request, status: 403 });
      res.writeHead(403).end('forbidden');
      return;
    }
    log.push({ request, status: 200 });
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      { host: '127.0.0.1', port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const request = `CONNECT ${target}`;
    const [host, port] = target.split(':');
    client.on('error', () => client.destroy());
    if (!authorized(req.headers['proxy-authorization'])) {
      log.push({ request, status: 407 });
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if ((host !== '127.0.0.1' && host !== 'localhost') || !(options.tlsPorts ?? []).includes(Number(port))) {
      log.push({ request, status: 403 });
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    log.push({ request, status: 200 });
    const upstream = connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
