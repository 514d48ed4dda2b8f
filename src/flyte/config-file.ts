import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as Yaml from 'yaml';
import { AuthenticationError } from '../errors.js';
import { firstLine } from '../util/error-message.js';
import { lazyImport } from '../util/lazy.js';
import { describeType } from './config-values.js';

// yaml takes ≈25 ms to load: only programs that read a config file pay for it.
const loadYaml = lazyImport(() => import('yaml'));

/** Environment variables, as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A config file to read, and why it was chosen (for error messages). */
export interface ConfigFileLocation {
  /** Absolute path. */
  path: string;
  /** `the configFile option`, `FLYTECTL_CONFIG`, `the default location`, … */
  origin: string;
  /** Whether a missing file is an error (it was named explicitly) or means "no config file". */
  required: boolean;
}

/** A parsed config file: the top-level mapping, as plain data. */
export interface ConfigFile {
  path: string;
  root: Readonly<Record<string, unknown>>;
}

/** Variables naming the config file, first wins (flytekit's `get_config_file`, then flytectl's lookup). */
export const CONFIG_FILE_ENV_VARS = ['_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE', 'FLYTECTL_CONFIG'] as const;

/**
 * Which file to read: the explicit one, else the first non-empty variable of {@link CONFIG_FILE_ENV_VARS}, else
 * `~/.flyte/config.yaml` (`HOME` from `env` first, so a caller can point it elsewhere).
 */
export function locateConfigFile(configFile: string | undefined, env: Environment): ConfigFileLocation {
  if (configFile !== undefined && configFile !== '') {
    return { path: resolve(configFile), origin: 'the configFile option', required: true };
  }
  for (const name of CONFIG_FILE_ENV_VARS) {
    const value = env[name];
    if (value) return { path: resolve(value), origin: name, required: true };
  }
  const home = env['HOME'] || homedir();
  return { path: join(home, '.flyte', 'config.yaml'), origin: 'the default location', required: false };
}

/**
 * Reads and parses a config file. Returns `undefined` when an optional file does not exist.
 *
 * @throws {AuthenticationError} `ERR_CONFIG` naming the file (and the line for malformed YAML).
 */
export async function readConfigFile(location: ConfigFileLocation): Promise<ConfigFile | undefined> {
  const { path } = location;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !location.required) return undefined;
    const problem = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
    throw new AuthenticationError(`Config file ${path} (named by ${location.origin}) ${problem}`, {
      code: 'ERR_CONFIG',
      endpoint: path,
      cause: error,
    });
  }
  return { path, root: parseYaml(await loadYaml(), text, path) };
}

function parseYaml({ LineCounter, parseDocument }: typeof Yaml, text: string, path: string): Record<string, unknown> {
  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form quotes the offending line, which could hold a secret someone pasted there.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [error] = doc.errors;
  if (error !== undefined) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    // The cause is left out on purpose: yaml's errors can carry the source text.
    throw new AuthenticationError(`Malformed YAML in ${path} at line ${line}, column ${col}: ${firstLine(error.message)}`, {
      code: 'ERR_CONFIG',
      endpoint: path,
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    const reason = cause instanceof Error ? firstLine(cause.message) : 'cannot be converted';
    throw new AuthenticationError(`Malformed YAML in ${path}: ${reason}`, { code: 'ERR_CONFIG', endpoint: path });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new AuthenticationError(
      `Config file ${path}: expected a mapping of sections (admin:, console:) at the top level, got ${describeType(data)}`,
      { code: 'ERR_CONFIG', endpoint: path },
    );
  }
  return data as Record<string, unknown>;
}
