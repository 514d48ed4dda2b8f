import { storeChannel, type StoreEvent, type StoreMessage } from './channels.js';
import { armDebugLog } from './debug-log.js';
import { redactText } from './redact.js';

function firstLine(reason: unknown): string {
  const text = reason instanceof Error ? reason.message : String(reason);
  return redactText(text.split('\n', 1)[0]?.trim() ?? '');
}

/**
 * Publishes on `flyte-grpc-auth:store`: something happened in token store `store` (`file`, `keyring`, …) after the
 * caller waited `waitMs` ms for it. `reason` (an error or a text) becomes one redacted line. Never throws.
 */
export function publishStoreEvent(store: string, event: StoreEvent, waitMs = 0, reason?: unknown): void {
  armDebugLog();
  if (!storeChannel.hasSubscribers) return;
  try {
    const message: StoreMessage = { store, event, waitMs: Number.isFinite(waitMs) ? Math.max(0, Math.round(waitMs)) : 0 };
    if (reason !== undefined) message.reason = firstLine(reason);
    storeChannel.publish(message);
  } catch {
    // Diagnostics never break the store.
  }
}

// By class name, so that this module needs none of the store classes (the keyring store loads a native module).
const STORE_NAMES: Readonly<Record<string, string>> = { FileTokenStore: 'file', KeyringTokenStore: 'keyring', MemoryTokenStore: 'memory' };

/** The `store` name of a token store object: `file`, `keyring`, `memory`, else `custom`. */
export function storeName(store: object): string {
  return STORE_NAMES[store.constructor?.name ?? ''] ?? 'custom';
}
