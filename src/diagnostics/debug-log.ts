import diagnosticsChannel from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import {
  DIAGNOSTICS_CHANNELS,
  loginChannel,
  tokenChannel,
  type LoginMessage,
  type RejectedMessage,
  type RetryMessage,
  type StoreMessage,
  type TokenFingerprint,
  type TokenRequestMessage,
} from './channels.js';
import { formatFingerprint, redactText } from './redact.js';

/** The `NODE_DEBUG` section: `NODE_DEBUG=flyte-grpc-auth node app.js`. */
export const DEBUG_SECTION = 'flyte-grpc-auth';

/** Receives one debug line (no newline at the end). */
export type DebugLineWriter = (line: string) => void;

// gRPC status names by code (the same numbers in Connect), so that a line says UNAUTHENTICATED and not just 16.
const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

function statusName(code: number): string {
  return STATUS_NAMES[code] ?? 'UNKNOWN_CODE';
}

// `key=value`, the value redacted and quoted when it has spaces, quotes or `=` (or is empty), so a line splits cleanly.
function field(key: string, value: unknown): string {
  const text = redactText(String(value));
  return /^[^\s"=]+$/.test(text) ? `${key}=${text}` : `${key}="${text.replaceAll('"', '\\"')}"`;
}

function fields(entries: ReadonlyArray<readonly [string, unknown]>): string {
  return entries
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => field(key, value))
    .join(' ');
}

function time(epochMs: number | undefined): string | undefined {
  if (epochMs === undefined || !Number.isFinite(epochMs)) return undefined;
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function fingerprint(token: TokenFingerprint | undefined): string | undefined {
  return token === undefined ? undefined : formatFingerprint(token);
}

function errorFields(error: unknown): Array<readonly [string, unknown]> {
  if (!(error instanceof Error)) return [['error', String(error)]];
  const { code, oauthError } = error as { code?: unknown; oauthError?: unknown };
  return [
    ['error', typeof code === 'string' ? code : error.name],
    ['oauthError', typeof oauthError === 'string' ? oauthError : undefined],
    ['message', error.message],
  ];
}

function durationMs(started: number | undefined): number | undefined {
  return started === undefined ? undefined : Math.round(performance.now() - started);
}

/** One line for each event: a token request or login starting and ending, a retry, a rejection, a store event. */
function debugLines(write: DebugLineWriter) {
  const started = new WeakMap<object, number>();
  // A subscriber that throws would surface as an uncaught exception: the log catches everything it does.
  const safely =
    <Message>(format: (message: Message) => string | undefined) =>
    (message: unknown): void => {
      try {
        const line = format(message as Message);
        if (line !== undefined) write(line);
      } catch {
        // Nothing to do: a log line is not worth a crash.
      }
    };
  const noop = (): void => undefined;

  const token = {
    start: safely<TokenRequestMessage>((message) => {
      started.set(message, performance.now());
      const { flow, endpoint, tokenEndpoint, reason } = message;
      return `token request start ${fields([['flow', flow], ['endpoint', endpoint], ['tokenEndpoint', tokenEndpoint], ['reason', reason]])}`;
    }),
    end: noop,
    asyncStart: noop,
    asyncEnd: safely<TokenRequestMessage>((message) => {
      const { flow, endpoint, tokenEndpoint, reason } = message;
      const common: Array<readonly [string, unknown]> = [['flow', flow], ['endpoint', endpoint], ['tokenEndpoint', tokenEndpoint], ['reason', reason], ['durationMs', durationMs(started.get(message))]];
      if ('error' in message) return `token request failed ${fields([...common, ...errorFields(message.error)])}`;
      return `token request ok ${fields([...common, ['expiresAt', time(message.result?.expiresAt)], ['token', fingerprint(message.result?.token)]])}`;
    }),
    error: noop,
  };
  const login = {
    start: safely<LoginMessage>((message) => {
      started.set(message, performance.now());
      return `login start ${fields([['flow', message.flow], ['endpoint', message.endpoint]])}`;
    }),
    end: noop,
    asyncStart: noop,
    asyncEnd: safely<LoginMessage>((message) => {
      const common: Array<readonly [string, unknown]> = [['flow', message.flow], ['endpoint', message.endpoint], ['durationMs', durationMs(started.get(message))]];
      if ('error' in message) return `login failed ${fields([...common, ...errorFields(message.error)])}`;
      return `login ok ${fields(common)}`;
    }),
    error: noop,
  };
  const callFields = (message: RetryMessage): Array<readonly [string, unknown]> => [
    ['method', message.method],
    ['code', `${message.code}`],
    ['status', statusName(message.code)],
    ['token', fingerprint(message.token)],
    ['details', message.details],
  ];
  const retry = safely<RetryMessage>((message) => `retry ${fields(callFields(message))}`);
  const rejected = safely<RejectedMessage>((message) => `rejected ${fields([...callFields(message), ['retried', message.retried]])}`);
  const store = safely<StoreMessage>(
    (message) => `store ${fields([['store', message.store], ['event', message.event], ['waitMs', message.waitMs], ['reason', message.reason]])}`,
  );
  return { token, login, retry, rejected, store };
}

/**
 * Formats every diagnostics event as one redacted line (a token only as `<token len=812 sha256=...ab12>`) and hands it
 * to `write`; returns the function that stops it. What `NODE_DEBUG=flyte-grpc-auth` and the CLI's `--verbose` print.
 */
export function subscribeDebugLines(write: DebugLineWriter): () => void {
  const handlers = debugLines(write);
  tokenChannel.subscribe(handlers.token);
  loginChannel.subscribe(handlers.login);
  diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.retry, handlers.retry);
  diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.rejected, handlers.rejected);
  diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.store, handlers.store);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    tokenChannel.unsubscribe(handlers.token);
    loginChannel.unsubscribe(handlers.login);
    diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.retry, handlers.retry);
    diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.rejected, handlers.rejected);
    diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.store, handlers.store);
  };
}

let debugLogEnabled: boolean | undefined;

/**
 * Whether `NODE_DEBUG` names `flyte-grpc-auth` (Node reads it once per process); the first call subscribes the
 * debug log when it does. Called by every publisher before it checks for subscribers, so the log needs no setup.
 */
export function armDebugLog(): boolean {
  if (debugLogEnabled !== undefined) return debugLogEnabled;
  // node:util through require, when first armed: importing it loads all its lazy parts (parseArgs, MIME, …) at startup.
  const { debuglog } = createRequire(import.meta.url)('node:util') as typeof import('node:util');
  const log = debuglog(DEBUG_SECTION);
  debugLogEnabled = log.enabled;
  if (debugLogEnabled) subscribeDebugLines((line) => log('%s', line));
  return debugLogEnabled;
}
