import { createHash } from 'node:crypto';

/** A Lua script the token store runs atomically in Redis (by SHA1, sent again when Redis does not know it). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

function script(name: string, source: string): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}

// Every script touches only keys that share one hash tag (a value and its lock), so it runs on one Cluster slot.
// `redis.pcall` where the key may hold something else (another type, garbage): a bad key is an answer, not an error.

// Reads the value KEYS[value] without fetching more than ARGV[maxBytes] bytes of it (shared by two scripts).
function readValue(value: string, maxBytes: string): string {
  return `local size = redis.pcall('STRLEN', ${value})
if type(size) ~= 'number' then return {'wrongtype'} end
if size == 0 then return {'none'} end
if size > tonumber(${maxBytes}) then return {'toolarge'} end
return {'value', redis.call('GET', ${value})}`;
}

/** KEYS[1] value; ARGV[1] max bytes. Returns `{'value', v}`, `{'none'}`, `{'wrongtype'}` or `{'toolarge'}`. */
export const READ_SCRIPT = script('read', readValue('KEYS[1]', 'ARGV[1]'));

/**
 * KEYS[1] value; ARGV[1] new value, ARGV[2] its expiry (ms, '' unknown), ARGV[3] TTL (ms, '' none), ARGV[4] the
 * latest expiry worth trusting. Writes unless the stored value's token expires later (both known): a slow writer never
 * rolls the fleet back to an older token. An expiry beyond ARGV[4] is garbage and does not block writes. Returns 1 or 0.
 */
export const WRITE_SCRIPT = script(
  'write',
  `local current = redis.pcall('GET', KEYS[1])
if type(current) == 'string' and ARGV[2] ~= '' then
  local stored = string.match(current, '^fga1:(%d+):')
  if stored and #stored <= 16 then
    local expiry = tonumber(stored)
    if expiry > tonumber(ARGV[2]) and expiry <= tonumber(ARGV[4]) then return 0 end
  end
end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
return 1`,
);

/** KEYS[1] value; ARGV[1] fingerprint. Deletes the value only if it still holds that token. Returns 1 or 0. */
export const DISCARD_SCRIPT = script(
  'discard',
  `local current = redis.pcall('GET', KEYS[1])
if type(current) == 'string' and string.match(current, '^fga1:%d*:(%x+):') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
);

/** KEYS[1] value. Returns the number of keys deleted. */
export const DELETE_SCRIPT = script('delete', `return redis.call('DEL', KEYS[1])`);

/**
 * KEYS[1] lock, KEYS[2] value; ARGV[1] the holder's random token, ARGV[2] TTL (ms), ARGV[3] max bytes. Redis's
 * single-instance lock: SET NX PX. A lock key without an expiry was not made by this store (its locks always
 * expire): it gets one, so it cannot block refreshes forever. Returns `{0, <the value's expiry or ''>}` when the lock
 * is taken by someone else (so a waiter sees the holder store a newer token), else what READ_SCRIPT returns for the
 * value (the holder's first read, saved a round trip).
 */
export const LOCK_SCRIPT = script(
  'lock',
  `if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  local head = redis.pcall('GETRANGE', KEYS[2], 0, 40)
  return {0, type(head) == 'string' and string.match(head, '^fga1:(%d+):') or ''}
end
${readValue('KEYS[2]', 'ARGV[3]')}`,
);

/** KEYS[1] lock; ARGV[1] token, ARGV[2] TTL (ms). Extends the lock only for its holder. Returns 1 or 0. */
export const RENEW_SCRIPT = script(
  'renew',
  `if redis.pcall('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
);

/** KEYS[1] lock; ARGV[1] token. Compare-and-delete: only the holder releases the lock. Returns 1 or 0. */
export const UNLOCK_SCRIPT = script(
  'unlock',
  `if redis.pcall('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);
