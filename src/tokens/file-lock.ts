import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import { loadPRetry } from '../util/p-retry.js';
import type { lock as lockFunction } from 'proper-lockfile';
import { publishStoreEvent } from '../diagnostics/store-events.js';
import { raceWithSignal, setLongTimeout } from '../time/long-delay.js';

/** How {@link withFileLock} waits for and holds a lock. */
export interface FileLockOptions {
  /** How long to wait while another process holds the lock. */
  timeoutMs: number;
  /** A lock whose directory was not touched for this long belongs to a dead process and is taken over. */
  staleMs: number;
  /** The lock could not be taken (timeout, unwritable directory): `fn` runs anyway, unlocked across processes. */
  onUnavailable: (error: Error) => void;
  /** The lock was lost while held (the event loop was blocked past `staleMs`, someone removed the directory). */
  onCompromised: (error: Error) => void;
  /** Runs in turn before the lock is taken (creating its directory); if it throws, so does `withFileLock`. */
  prepare?: () => Promise<void>;
}

// One queue per lock path for the whole process: two stores on the same file share it, and a process never waits
// on (or steals as stale) a lock it holds itself.
const queues = new Map<string, Promise<void>>();

// The locks the current async context holds. `active` turns false on release, because promises started inside `fn`
// (a background refresh timer, say) keep this context after the lock is gone.
interface HeldLock {
  id: string;
  active: boolean;
}
const held = new AsyncLocalStorage<readonly HeldLock[]>();

// Resolves true when `promise` settled within `timeoutMs` (any length), false otherwise.
async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  const timeout = new AbortController();
  const cancelTimer = setLongTimeout(() => timeout.abort(), timeoutMs);
  try {
    await raceWithSignal(promise, timeout.signal);
    return true;
  } catch {
    return !timeout.signal.aborted;
  } finally {
    cancelTimer();
  }
}

// Runs `fn` after the callers queued before it on `id`, or after `timeoutMs` (then `fn(false)`): a holder that hangs
// must not hang everyone behind it.
async function inProcessQueue<T>(id: string, timeoutMs: number, fn: (turn: boolean) => Promise<T>): Promise<T> {
  const previous = queues.get(id) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolveMine) => {
    release = resolveMine;
  });
  const tail = previous.then(() => mine);
  queues.set(id, tail);
  const turn = await settlesWithin(previous, timeoutMs);
  try {
    return await fn(turn);
  } finally {
    release();
    if (queues.get(id) === tail) queues.delete(id);
  }
}

// Loaded on first use: proper-lockfile installs process exit and signal hooks (to remove held locks), which programs
// that never use a file store should not get just by importing this package.
let lockModule: Promise<{ lock: typeof lockFunction }> | undefined;
async function loadLock(): Promise<typeof lockFunction> {
  lockModule ??= import('proper-lockfile').then((module) => module.default);
  return (await lockModule).lock;
}

// proper-lockfile refreshes a held lock every `stale / 2` ms by default: a huge `staleMs` would overflow that timer
// (and refresh every millisecond). Refreshing more often than needed is harmless.
const MAX_LOCK_UPDATE_MS = 5_000;

async function acquire(target: string, options: FileLockOptions, deadline: number): Promise<() => Promise<void>> {
  const lock = await loadLock();
  try {
    const { default: pRetry } = await loadPRetry();
    return await pRetry(
      () =>
        lock(target, {
          realpath: false,
          stale: options.staleMs,
          update: Math.max(1_000, Math.min(options.staleMs / 2, MAX_LOCK_UPDATE_MS)),
          retries: 0,
          onCompromised: options.onCompromised,
        }),
      {
        // Jittered so that waiting processes do not retry in lockstep; nobody waits past the deadline.
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: 10,
        maxTimeout: 250,
        randomize: true,
        maxRetryTime: Math.max(0, deadline - Date.now()),
        shouldRetry: ({ error }) => (error as NodeJS.ErrnoException).code === 'ELOCKED',
      },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw Object.assign(new Error(`another process held the lock for more than ${options.timeoutMs} ms`), { code: 'ELOCKED' });
  }
}

/**
 * Runs `fn` holding the lock `<target>.lock` (a directory, made atomically with `mkdir` by proper-lockfile, kept
 * fresh while held and taken over when stale). Callers in this process queue in call order (so of two concurrent
 * writes of one key the later call wins). Re-entrant within `fn`. Nobody waits longer than `timeoutMs`, for callers in
 * this process or other processes: after that (or when the lock cannot be made at all) `fn` runs unlocked.
 */
export async function withFileLock<T>(target: string, options: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  const id = resolve(target);
  const outer = held.getStore() ?? [];
  // Re-entrant: waiting for a lock this very call chain holds would never end.
  if (outer.some((lock) => lock.id === id && lock.active)) return fn();
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  return inProcessQueue(id, options.timeoutMs, async (turn) => {
    const mine: HeldLock = { id, active: true };
    let release: (() => Promise<void>) | undefined;
    await options.prepare?.();
    try {
      // Without our turn, the lock directory is our own process's: waiting for it would only time out again.
      if (!turn) throw new Error(`another caller in this process held the lock for more than ${options.timeoutMs} ms`);
      release = await acquire(id, options, deadline);
      publishStoreEvent('file', 'lock-acquired', Date.now() - started);
    } catch (error) {
      publishStoreEvent('file', 'lock-unavailable', Date.now() - started, error);
      options.onUnavailable(error instanceof Error ? error : new Error(String(error)));
    }
    try {
      return await held.run([...outer, mine], fn);
    } finally {
      mine.active = false;
      // A compromised lock is already gone; nothing else to do about it here.
      await release?.().catch(() => undefined);
    }
  });
}
