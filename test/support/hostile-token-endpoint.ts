import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the endpoint answers one request. */
export type HostileAnswer =
  /** A JSON body (`status` default 200). */
  | { kind: 'json'; body: unknown; status?: number }
  /** Any bytes, with the given content type (default `application/json`) and an optional declared length. */
  | { kind: 'raw'; body: string; status?: number; contentType?: string }
  /** A declared `content-length` of `bytes`, then that many bytes, written as fast as the client reads them. */
  | { kind: 'huge'; bytes: number }
  /** A chunked JSON-looking body that never ends, written as fast as the client reads it. */
  | { kind: 'endless' }
  /** Headers and the first bytes of `body`, then nothing: the connection stays open. */
  | { kind: 'stall-mid-body'; body: string }
  /** Headers and the first bytes of `body`, then the connection is destroyed. */
  | { kind: 'reset-mid-body'; body: string }
  /** The connection is destroyed before any answer. */
  | { kind: 'reset' };

/** What one response wrote before it ended. */
export interface WrittenResponse {
  /** Body bytes handed to the socket. */
  bytes: number;
  /** Whether the client went away before the response was complete. */
  abortedByClient: boolean;
}

export interface HostileTokenEndpoint {
  /** `http://127.0.0.1:<port>/token`. */
  url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Form bodies of the requests, in order. */
  readonly forms: URLSearchParams[];
  /** One entry per finished response of kind `huge` or `endless`. */
  readonly written: WrittenResponse[];
  /** Sets the answer for every following request; a function gets the request's index (0 first). */
  answer(next: HostileAnswer | ((index: number) => HostileAnswer)): void;
  /** Resolves once `count` huge/endless responses have ended. */
  waitForWritten(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A token response as servers send it. */
export function tokenBody(accessToken: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { access_token: accessToken, token_type: 'Bearer', expires_in: 300, ...extra };
}

const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** Writes `total` bytes (or forever) as fast as the client takes them; stops when the client goes away. */
function pour(res: ServerResponse, total: number, done: (written: WrittenResponse) => void): void {
  let written = 0;
  let finished = false;
  const finish = (abortedByClient: boolean): void => {
    if (finished) return;
    finished = true;
    done({ bytes: written, abortedByClient });
  };
  res.on('close', () => finish(written < total));
  const write = (): void => {
    while (!finished && written < total) {
      const chunk = total - written >= CHUNK.length ? CHUNK : CHUNK.subarray(0, total - written);
      written += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
    if (!finished && written >= total) res.end(() => finish(false));
  };
  res.write('{"access_token":"');
  write();
}

/**
 * A token endpoint on 127.0.0.1 that answers whatever a test tells it to: odd JSON, huge or endless bodies, bodies
 * that stop or break off halfway, dropped connections. Hostile answers a real identity provider cannot be made to give.
 */
export async function startHostileTokenEndpoint(initial: HostileAnswer = { kind: 'json', body: tokenBody('hostile-default-token') }): Promise<HostileTokenEndpoint> {
  let answerFor: (index: number) => HostileAnswer = () => initial;
  let requests = 0;
  const forms: URLSearchParams[] = [];
  const written: WrittenResponse[] = [];
  const writtenWaiters: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const onWritten = (entry: WrittenResponse): void => {
    written.push(entry);
    for (const wake of writtenWaiters.splice(0)) wake();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const index = requests;
      requests += 1;
      forms.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const answer = answerFor(index);
      switch (answer.kind) {
        case 'json': {
          const body = JSON.stringify(answer.body);
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(body);
          return;
        }
        case 'raw':
          res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json' });
          res.end(answer.body);
          return;
        case 'huge':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(answer.bytes) });
          pour(res, answer.bytes - '{"access_token":"'.length, onWritten);
          return;
        case 'endless':
          res.writeHead(200, { 'content-type': 'application/json' });
          pour(res, Number.POSITIVE_INFINITY, onWritten);
          return;
        case 'stall-mid-body':
        case 'reset-mid-body': {
          const body = Buffer.from(answer.body);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          if (answer.kind === 'reset-mid-body') setImmediate(() => req.socket.destroy());
          return;
        }
        case 'reset':
          req.socket.destroy();
          return;
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    get requests() {
      return requests;
    },
    forms,
    written,
    answer(next) {
      answerFor = typeof next === 'function' ? next : () => next;
    },
    async waitForWritten(count) {
      while (written.length < count) await new Promise<void>((resolve) => writtenWaiters.push(resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
