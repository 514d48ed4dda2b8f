import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { publishStoreEvent } from '../diagnostics/store-events.js';
import { AuthenticationError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import type { Credentials } from './credentials.js';
import { withFileLock, type FileLockOptions } from './file-lock.js';
import { isUsable, parseStoredCredentials, toStoredCredentials } from './stored-credentials.js';
import type { TokenStore } from './token-store.js';
import { defaultTokenStorePath } from './user-config-dir.js';
import { validateAccessToken } from './validate.js';
import { describeError, OnceWarner, type WarningListener } from './warn.js';

/** Options of {@link FileTokenStore}. */
export interface FileTokenStoreOptions {
  /** The JSON file. Default: `<user config dir>/flyte-grpc-auth/tokens.json` (see {@link defaultTokenStorePath}). */
  path?: string | undefined;
  /** Receives the one-time warnings (corrupt or unreadable file, lock trouble). Default: `process.emitWarning`. */
  warn?: WarningListener | undefined;
  /** How long `set`, `delete` and `withLock` wait while another caller (any process) holds the lock, in ms. Default 60000. */
  lockTimeoutMs?: number | undefined;
  /** A lock not refreshed for this long (its process died) is taken over, in ms (at least 2000). Default 10000. */
  staleLockMs?: number | undefined;
}

const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
const FORMAT_VERSION = 1;
// The directory of the default path: ours to tighten. A directory the user chose is not changed.
const OWN_DIRECTORY = 'flyte-grpc-auth';
// Permission bits mean nothing on Windows (ACLs decide there).
const CHECKS_MODES = process.platform !== 'win32';

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

/**
 * A `TokenStore` in one JSON file shared by every process of the user: `{ "version": 1, "credentials": { key: … } }`,
 * mode 0600 in a 0700 directory. Writes replace the file atomically under a cross-process lock, so concurrent writers
 * never lose each other's keys and readers never see half a file. A corrupt or unreadable file counts as empty (one
 * warning) and is rewritten by the next `set`. Entries with an expired access token and no refresh token are dropped.
 *
 * On the first read, a file readable by group or others is tightened to 0600, and so is its directory to 0700 when it
 * is the package's own (`…/flyte-grpc-auth/`), with one warning. A file with a `version` other than 1 (written by a
 * newer release) is an error naming the file, for reads and writes alike, and is never touched.
 */
export class FileTokenStore implements TokenStore {
  /** The absolute path of the token file. */
  readonly path: string;
  readonly #warner: OnceWarner;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  #permissionsChecked = !CHECKS_MODES;

  constructor(options: FileTokenStoreOptions = {}) {
    this.path = resolve(options.path ?? defaultTokenStorePath());
    this.#warner = new OnceWarner(options.warn);
    this.#lockTimeoutMs = Math.max(0, options.lockTimeoutMs ?? 60_000);
    this.#staleLockMs = Math.max(2_000, options.staleLockMs ?? 10_000);
  }

  /**
   * @throws AuthenticationError (`ERR_BAD_TOKEN_RESPONSE`, naming the file and key) when the entry's access token
   *   cannot be sent (a space, a line break, a non-ASCII character, over 16 KiB): it was not written by this package.
   */
  async get(key: string): Promise<Credentials | undefined> {
    const credentials = (await this.#read()).get(key);
    if (!credentials || !isUsable(credentials)) return undefined;
    validateAccessToken(credentials.accessToken, `the token file ${this.path} (entry ${key})`, this.path);
    return credentials;
  }

  /** @throws AuthenticationError (`ERR_CONFIG`, naming the file) when the file cannot be written. */
  async set(key: string, credentials: Credentials): Promise<void> {
    const stored = toStoredCredentials(credentials);
    await this.#update((entries) => {
      entries.set(key, stored);
    });
  }

  /** @throws AuthenticationError (`ERR_CONFIG`, naming the file) when the file cannot be written. */
  async delete(key: string): Promise<void> {
    // Nothing to delete is the common case (logout twice, keyring store cleaning up): no lock, no write.
    if (!(await this.#read()).has(key)) return;
    await this.#update((entries) => {
      entries.delete(key);
    });
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    // One lock per key, so a long login for one endpoint does not hold up a refresh for another.
    const digest = createHash('sha256').update(key).digest('hex').slice(0, 16);
    // No directory, no lock: that is reported as an unavailable lock, and the refresh runs anyway.
    const prepare = (): Promise<void> => this.#ensureDirectory().catch(() => undefined);
    return withFileLock(`${this.path}.${digest}`, { ...this.#lockOptions(), prepare }, fn);
  }

  #lockOptions(): FileLockOptions {
    return {
      prepare: () => this.#ensureDirectory(),
      timeoutMs: this.#lockTimeoutMs,
      staleMs: this.#staleLockMs,
      onUnavailable: (error) => {
        this.#warner.warn(
          'lock',
          `flyte-grpc-auth: could not lock the token file ${this.path} (${describeError(error)}); continuing without ` +
            'the lock, so processes refreshing at the same moment may each refresh.',
        );
      },
      onCompromised: (error) => {
        publishStoreEvent('file', 'lock-lost', 0, error);
        this.#warner.warn(
          'compromised',
          `flyte-grpc-auth: lost the lock on the token file ${this.path} (${describeError(error)}); ` +
            'another process may refresh at the same time.',
        );
      },
    };
  }

  async #ensureDirectory(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: DIRECTORY_MODE });
  }

  /**
   * Tightens a file readable by group or others (and the package's own directory), with one warning; once per store.
   * A token file left at 0644 by an older release or a copy would otherwise stay readable until the next write.
   */
  async #tightenPermissions(): Promise<void> {
    const changes: string[] = [];
    const problems: string[] = [];
    const tighten = async (path: string, wanted: number, what: string, directory: boolean): Promise<void> => {
      let mode: number;
      try {
        const stats = await stat(path);
        // Only what it should be: a directory where the file belongs is an unreadable file, reported by the read.
        if (directory ? !stats.isDirectory() : !stats.isFile()) return;
        mode = stats.mode;
      } catch {
        return;
      }
      if ((mode & 0o077) === 0) return;
      try {
        await chmod(path, wanted);
        changes.push(`${what} ${path} was readable by others (mode ${octal(mode)}) and is now ${octal(wanted)}`);
      } catch (error) {
        problems.push(`${what} ${path} is readable by others (mode ${octal(mode)}) and could not be changed (${describeError(error)})`);
      }
    };
    const directory = dirname(this.path);
    await tighten(this.path, FILE_MODE, 'the token file', false);
    // A directory chosen by the user (a project folder) is left alone: the file's own mode protects the tokens.
    if (basename(directory) === OWN_DIRECTORY) await tighten(directory, DIRECTORY_MODE, 'its directory', true);
    this.#permissionsChecked = true;
    if (changes.length > 0 || problems.length > 0) {
      this.#warner.warn('permissions', `flyte-grpc-auth: ${[...changes, ...problems].join('; ')}.`);
    }
  }

  // Reads need no lock: writes replace the file by rename, so a reader sees one whole version or the other.
  async #read(): Promise<Map<string, Credentials>> {
    if (!this.#permissionsChecked) await this.#tightenPermissions();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        publishStoreEvent('file', 'warning', 0, `cannot read the token file ${this.path}: ${describeError(error)}`);
        this.#warner.warn(
          'unreadable',
          `flyte-grpc-auth: cannot read the token file ${this.path} (${describeError(error)}); continuing without ` +
            'cached credentials.',
        );
      }
      return new Map();
    }
    const entries = parseTokenFile(text, this.path);
    if (entries === undefined) {
      publishStoreEvent('file', 'warning', 0, `the token file ${this.path} is not a valid token file`);
      this.#warner.warn(
        'corrupt',
        `flyte-grpc-auth: the token file ${this.path} is not a valid token file; ignoring its content. ` +
          'You may have to log in again; the next login rewrites the file.',
      );
      return new Map();
    }
    return entries;
  }

  async #update(mutate: (entries: Map<string, Credentials>) => void): Promise<void> {
    try {
      await withFileLock(this.path, this.#lockOptions(), async () => {
        const entries = await this.#read();
        const now = Date.now();
        for (const [key, credentials] of entries) if (!isUsable(credentials, now)) entries.delete(key);
        mutate(entries);
        await writeFileAtomic(this.path, serializeTokenFile(entries), FILE_MODE);
      });
    } catch (error) {
      if (error instanceof UnknownTokenFileVersion) throw error;
      throw new AuthenticationError(`Could not write the token file ${this.path}: ${describeError(error)}`, {
        code: 'ERR_CONFIG',
        endpoint: this.path,
        cause: error,
      });
    }
  }
}

/** A token file from a newer release: neither read nor written, so that release's data stays intact. */
class UnknownTokenFileVersion extends AuthenticationError {
  override name = 'UnknownTokenFileVersion';
}

/**
 * The entries of a token file, or `undefined` when `text` is not one. Malformed entries are skipped. A file without a
 * `version` is read as version 1 (hand-written files).
 * @throws UnknownTokenFileVersion (`ERR_CONFIG`) for a `version` other than 1.
 */
function parseTokenFile(text: string, path: string): Map<string, Credentials> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const version = (parsed as { version?: unknown }).version;
  if (version !== undefined && version !== FORMAT_VERSION) {
    const shown = version === null || typeof version !== 'object' ? String(JSON.stringify(version)).slice(0, 20) : Array.isArray(version) ? 'a list' : 'an object';
    throw new UnknownTokenFileVersion(
      `the token file ${path} has version ${shown}, which this release of flyte-grpc-auth cannot read (it knows version ` +
        `${FORMAT_VERSION}); the file was left untouched: upgrade flyte-grpc-auth, or point it at another token file`,
      { code: 'ERR_CONFIG', endpoint: path },
    );
  }
  const stored = (parsed as { credentials?: unknown }).credentials;
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return undefined;
  const entries = new Map<string, Credentials>();
  for (const [key, value] of Object.entries(stored)) {
    const credentials = parseStoredCredentials(value);
    if (credentials) entries.set(key, credentials);
  }
  return entries;
}

function serializeTokenFile(entries: Map<string, Credentials>): string {
  return `${JSON.stringify({ version: FORMAT_VERSION, credentials: Object.fromEntries(entries) }, null, 2)}\n`;
}
