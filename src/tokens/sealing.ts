import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { AuthenticationError } from '../errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** An encryption key as callers may pass it: 32 bytes, or a string of 64 hex digits or base64(url) of 32 bytes. */
export type EncryptionKeyInput = Uint8Array | string;

/**
 * The 32 key bytes of `input`.
 * @throws AuthenticationError (`ERR_CONFIG`) when `input` is not 32 bytes; the message never contains the key.
 */
export function parseEncryptionKey(input: EncryptionKeyInput): Buffer {
  let bytes: Buffer | undefined;
  if (typeof input === 'string') {
    const text = input.trim();
    if (/^[0-9a-fA-F]{64}$/.test(text)) bytes = Buffer.from(text, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) bytes = Buffer.from(text, 'base64');
  } else if (input instanceof Uint8Array) {
    bytes = Buffer.from(input);
  }
  if (bytes?.length !== KEY_BYTES) {
    throw new AuthenticationError(
      'encryptionKey must be 32 bytes: a Buffer/Uint8Array, 64 hex digits or base64 (e.g. `openssl rand -base64 32`)',
      { code: 'ERR_CONFIG' },
    );
  }
  return bytes;
}

/** Seals values with AES-256-GCM, and fingerprints access tokens, with keys derived from one secret. */
export class Sealer {
  readonly #sealKey: Buffer;
  readonly #fingerprintKey: Buffer;

  constructor(key: Buffer) {
    // Separate keys for encryption and fingerprints: one key, one purpose.
    this.#sealKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'flyte-grpc-auth redis seal v1', KEY_BYTES));
    this.#fingerprintKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'flyte-grpc-auth redis fingerprint v1', KEY_BYTES));
  }

  /** `plaintext` encrypted and authenticated together with `associated` (which is not encrypted), as base64url. */
  seal(plaintext: string, associated: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, iv);
    cipher.setAAD(Buffer.from(associated, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
  }

  /** The plaintext of a {@link Sealer.seal} result, or `undefined` when it does not open with this key and `associated`. */
  open(sealed: string, associated: string): string | undefined {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(associated, 'utf8'));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** A keyed fingerprint of an access token: tells tokens apart without revealing anything to whoever lacks the key. */
  fingerprint(accessToken: string): string {
    return createHmac('sha256', this.#fingerprintKey).update(accessToken).digest('hex').slice(0, 32);
  }
}

/** The fingerprint of an access token when values are not sealed (they hold the token itself anyway). */
export function plainFingerprint(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('hex').slice(0, 32);
}
