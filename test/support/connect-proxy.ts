import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface TestConnectProxy {
  /** `http://127.0.0.1:port`, for `httpProxyUrl`. */
  url: string;
  /** `host:port` of every CONNECT request, in order. */
  tunnels: string[];
  /** Plain (non-CONNECT) requests, which this proxy refuses. */
  readonly plainRequests: number;
  close(): Promise<void>;
}

/**
 * A forward proxy that only tunnels (HTTP CONNECT), and only to 127.0.0.1 or localhost: what a corporate proxy
 * does for HTTPS. Counts the tunnels so a test can prove that a request went through it.
 */
export async function startConnectProxy(): Promise<TestConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const state = { plainRequests: 0 };
  const server: Server = createServer((_req, res) => {
    state.plainRequests += 1;
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('CONNECT only');
  });
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  server.on('connection', track);
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const [host, port] = target.split(':');
    if ((host !== '127.0.0.1' && host !== 'localhost') || !port) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    tunnels.push(target);
    const upstream = connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    get plainRequests() {
      return state.plainRequests;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
