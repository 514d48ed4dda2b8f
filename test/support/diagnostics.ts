import diagnosticsChannel from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { DIAGNOSTICS_CHANNELS } from '../../src/index.js';
import type { OAuthFetch } from '../../src/index.js';

/** One event as a subscriber saw it: `token:start`, `retry`, … and a shallow copy of the message at that moment. */
export interface RecordedEvent {
  name: string;
  message: Record<string, unknown>;
}

export interface DiagnosticsRecorder {
  readonly events: RecordedEvent[];
  /** The event names in order: `['token:start', 'token:end', …]`. */
  names(): string[];
  /** The events of one name. */
  of(name: string): Array<Record<string, unknown>>;
  /** Every message object seen, inspected in full (`util.inspect`, any depth): for "never a token" checks. */
  inspected(): string;
  stop(): void;
}

const TRACING_PHASES = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

/** Subscribes to every flyte-grpc-auth channel (the real ones) and records each event until `stop()`. */
export function recordDiagnostics(): DiagnosticsRecorder {
  const events: RecordedEvent[] = [];
  const raw: unknown[] = [];
  const record = (name: string) => (message: unknown) => {
    raw.push(message);
    events.push({ name, message: { ...(message as Record<string, unknown>) } });
  };
  const subscriptions: Array<[string, (message: unknown) => void]> = [];
  for (const kind of ['token', 'login'] as const) {
    for (const phase of TRACING_PHASES) subscriptions.push([`tracing:${DIAGNOSTICS_CHANNELS[kind]}:${phase}`, record(`${kind}:${phase}`)]);
  }
  for (const kind of ['retry', 'rejected', 'store'] as const) subscriptions.push([DIAGNOSTICS_CHANNELS[kind], record(kind)]);
  for (const [channel, listener] of subscriptions) diagnosticsChannel.subscribe(channel, listener);
  return {
    events,
    names: () => events.map((event) => event.name),
    of: (name) => events.filter((event) => event.name === name).map((event) => event.message),
    inspected: () => inspect(raw, { depth: Infinity, showHidden: true, maxArrayLength: Infinity, maxStringLength: Infinity }),
    stop() {
      for (const [channel, listener] of subscriptions) diagnosticsChannel.unsubscribe(channel, listener);
    },
  };
}

/** The names of a complete token request on the tracing channel: success, or failure (`error` before the async pair). */
export const TOKEN_OK = ['token:start', 'token:end', 'token:asyncStart', 'token:asyncEnd'] as const;
export const TOKEN_FAILED = ['token:start', 'token:end', 'token:error', 'token:asyncStart', 'token:asyncEnd'] as const;
export const LOGIN_OK = ['login:start', 'login:end', 'login:asyncStart', 'login:asyncEnd'] as const;

/**
 * Every credential-like string the identity provider sent or was sent through `fetch` (access, refresh and ID tokens,
 * device and user codes, authorization codes, PKCE verifiers, client secrets), for "never a token" checks.
 */
export interface SecretCollector {
  fetch: OAuthFetch;
  readonly secrets: Set<string>;
  /** The OAuth fields a secret was collected from (`access_token`, `device_code`, …). */
  readonly fields: Set<string>;
  /** Adds secrets known in other ways (a client secret in the config). */
  add(...values: Array<string | undefined>): void;
}

const SECRET_FIELDS = ['access_token', 'refresh_token', 'id_token', 'device_code', 'user_code', 'code', 'code_verifier', 'client_secret'];

/** Wraps `inner` (the global fetch by default) and collects the secrets of every OAuth request and response. */
export function collectSecrets(inner: OAuthFetch = (url, init) => fetch(url, init as RequestInit)): SecretCollector {
  const secrets = new Set<string>();
  const fields = new Set<string>();
  const add = (...values: Array<string | undefined>): void => {
    for (const value of values) if (value) secrets.add(value);
  };
  const addField = (field: string, value: unknown): void => {
    if (typeof value !== 'string' || !value) return;
    fields.add(field);
    secrets.add(value);
  };
  const collecting: OAuthFetch = async (url, init) => {
    const body = init.body;
    const form = body instanceof URLSearchParams ? body : typeof body === 'string' ? new URLSearchParams(body) : undefined;
    for (const field of SECRET_FIELDS) addField(field, form?.get(field));
    const authorization = new Headers(init.headers).get('authorization');
    if (authorization) add(authorization, authorization.replace(/^\w+\s+/, ''));
    const response = await inner(url, init);
    const text = await response.clone().text();
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      for (const field of SECRET_FIELDS) addField(field, json[field]);
    } catch {
      // Not JSON: nothing to collect.
    }
    return response;
  };
  return { fetch: collecting, secrets, fields, add };
}

/**
 * The real identity provider behind a fetch that shortens the device flow's poll interval to 50 ms (oidc-provider
 * sends none, which means 5 s), so that a device login in a test takes one quick poll.
 */
export function fastDevicePolling(deviceAuthorizationEndpoint: string, inner: OAuthFetch = (url, init) => fetch(url, init as RequestInit)): OAuthFetch {
  return async (url, init) => {
    const response = await inner(url, init);
    if (String(url) !== deviceAuthorizationEndpoint) return response;
    const body = (await response.json()) as Record<string, unknown>;
    return new Response(JSON.stringify({ ...body, interval: 0.05 }), { status: response.status, headers: { 'content-type': 'application/json' } });
  };
}

/** Polls `condition` every 20 ms until it holds; throws after `timeoutMs`. For outcomes that may finish in the background. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const { setTimeout: sleep } = await import('node:timers/promises');
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Waits, without touching the authenticator, until its token is within `dueBeforeExpiryMs` of expiry, so a test can
 * make the next call the one that renews it. Asking the authenticator itself (`currentAuthMetadata()`) would start the
 * background refresh before the test is listening. The caller picks `dueBeforeExpiryMs` inside the refresh window,
 * past the minimum interval between token requests (min(5 s, half the lifetime)) and before the expiry margin.
 */
export function waitUntilRefreshDue(authenticator: { getCredentials(): { expiresAt?: number | undefined } | undefined }, dueBeforeExpiryMs: number): Promise<void> {
  const expiresAt = authenticator.getCredentials()?.expiresAt;
  if (expiresAt === undefined) throw new Error('waitUntilRefreshDue: the authenticator has no token with an expiry');
  return waitFor(() => Date.now() >= expiresAt - dueBeforeExpiryMs, 'a refresh due');
}
