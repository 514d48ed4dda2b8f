import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AuthenticationError } from '../errors.js';
import { sanitizeForTerminal } from '../terminal-text.js';

/** How the held callback request is answered once the token exchange is over. */
export type CallbackOutcome = { ok: true; message: string } | { ok: false; message: string };

/** A callback server waiting for the identity provider's redirect. */
export interface CallbackListener {
  /**
   * Resolves with the callback URL once a callback with the right `state` and a `code` arrived: the configured redirect
   * URI with the callback's query (`code`, `state`, `iss`), whatever host the request named. Rejects on `?error=` with
   * the right `state`, or on abort. Requests with a wrong or missing `state` get a 400 page and change nothing.
   */
  readonly callback: Promise<URL>;
  /** Answers the held callback request (the page the user sees). */
  finish(outcome: CallbackOutcome): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** What {@link listenForCallback} listens for. */
export interface CallbackListenerOptions {
  redirectUri: URL;
  /** The `state` sent in the authorization request. */
  expectedState: string;
  /** Ends the wait; its `reason` (an {@link AuthenticationError}) is what `callback` rejects with. */
  signal: AbortSignal;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, message: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family: sans-serif; margin: 3em;"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>
`;
}

// Answers still being written when the server closes; closing waits for them (briefly) so pages are not cut off.
const FLUSH_WAIT_MS = 1_000;

function flushed(response: ServerResponse): Promise<void> {
  if (response.writableFinished || response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, FLUSH_WAIT_MS);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    response.once('finish', done);
    response.once('close', done);
  });
}

function send(response: ServerResponse, status: number, title: string, message: string): void {
  if (response.headersSent) return;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // One request per connection: nothing lingers once the login is over.
    connection: 'close',
  });
  response.end(page(title, message));
}

function hostsToBind(redirectUri: URL): string[] {
  if (redirectUri.hostname === 'localhost') return ['127.0.0.1', '::1'];
  return [redirectUri.hostname.replace(/^\[|\]$/g, '')];
}

function portOf(redirectUri: URL): number {
  return redirectUri.port ? Number(redirectUri.port) : 80;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true, ipv6Only: host === '::1' }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function bindError(error: unknown, host: string, port: number, redirectUri: URL): AuthenticationError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'EADDRINUSE'
      ? 'the port is in use (another login in progress, or another program)'
      : code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : (error as Error).message;
  return new AuthenticationError(`cannot listen for the login callback on ${host}:${port} (redirect URI ${redirectUri.href}): ${reason}`, {
    code: 'ERR_LOGIN',
    endpoint: redirectUri.href,
    cause: error,
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Listens on the redirect URI's host and port for the one request that ends the login: the one carrying this login's
 * `state`. Requests to other paths (`/favicon.ico`) get a 404, requests without a code, or with a wrong or missing
 * `state` (a stale tab, a stray or forged request) a 400; none of them ends the login, which goes on waiting until its
 * deadline. The matching request is held open until {@link CallbackListener.finish} so that the browser shows success
 * only after the token exchange worked.
 */
export async function listenForCallback(options: CallbackListenerOptions): Promise<CallbackListener> {
  const { redirectUri, expectedState, signal } = options;
  const port = portOf(redirectUri);
  let settled = false;
  let held: ServerResponse | undefined;
  let resolveCallback!: (url: URL) => void;
  let rejectCallback!: (error: unknown) => void;
  const callback = new Promise<URL>((resolve, reject) => {
    resolveCallback = resolve;
    rejectCallback = reject;
  });
  // The caller may stop listening before awaiting `callback`: its rejection is then nobody's business.
  callback.catch(() => undefined);

  const fail = (response: ServerResponse, status: number, message: string, error: AuthenticationError): void => {
    settled = true;
    send(response, status, 'Login failed', message);
    rejectCallback(error);
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    answered.add(response);
    response.once('close', () => answered.delete(response));
    // Only the path and the query of the request count; the host it names (absolute form, `//host/…`) does not.
    const requested = new URL(request.url ?? '/', 'http://callback.invalid');
    const url = new URL(redirectUri.href);
    url.search = requested.search;
    if (requested.pathname !== redirectUri.pathname) {
      send(response, 404, 'Not found', 'This page belongs to a command-line login and has nothing here.');
      return;
    }
    if (settled) {
      send(response, 409, 'Login already handled', 'This login has already been completed or ended. You can close this window.');
      return;
    }
    const state = url.searchParams.get('state');
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    // Only this login's state may end it: a stale tab or a forged request (CSRF) gets a page, the login goes on.
    if (state !== expectedState) {
      send(
        response,
        400,
        'Not this login',
        state === null
          ? 'This request carries no state parameter, so it does not belong to the login in progress, which is still waiting.'
          : 'This request belongs to another login (the state parameter does not match); the login in progress is still waiting. Use the newest browser tab.',
      );
      return;
    }
    if (!code && error === null) {
      send(response, 400, 'No authorization code', 'This request carries no authorization code; the login is still waiting.');
      return;
    }
    if (error !== null) {
      const description = url.searchParams.get('error_description');
      const detail = sanitizeForTerminal(description ? `${error}: ${description}` : error);
      fail(
        response,
        400,
        `The identity provider ended the login: ${detail}`,
        new AuthenticationError(`the identity provider ended the login with ${detail}`, {
          code: 'ERR_LOGIN',
          oauthError: sanitizeForTerminal(error, 100),
          endpoint: redirectUri.href,
        }),
      );
      return;
    }
    settled = true;
    held = response;
    resolveCallback(url);
  };

  const servers: Server[] = [];
  const answered = new Set<ServerResponse>();
  const closeAll = async (): Promise<void> => {
    await Promise.all([...answered].map(flushed));
    await Promise.all(servers.map(closeServer));
  };
  const hosts = hostsToBind(redirectUri);
  for (const [index, host] of hosts.entries()) {
    const server = createServer(handle);
    try {
      await listen(server, host, port);
      servers.push(server);
    } catch (error) {
      // `localhost` also tries ::1, which may not exist; the first address is the one that must work.
      if (index === 0) {
        await closeAll();
        throw bindError(error, host, port, redirectUri);
      }
    }
  }

  const onAbort = (): void => {
    if (held) send(held, 500, 'Login ended', 'The login was ended before it completed.');
    held = undefined;
    settled = true;
    rejectCallback(signal.reason);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  return {
    callback,
    finish(outcome) {
      const response = held;
      held = undefined;
      if (!response) return;
      if (outcome.ok) send(response, 200, 'Login successful', outcome.message);
      else send(response, 500, 'Login failed', outcome.message);
    },
    async close() {
      signal.removeEventListener('abort', onAbort);
      if (held) send(held, 500, 'Login ended', 'The login was ended before it completed.');
      held = undefined;
      await closeAll();
    },
  };
}
