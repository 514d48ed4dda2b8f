import { AuthenticationError } from '../errors.js';
import { parseAuthType, type AuthType } from './auth-type.js';
import { errorMessage } from '../util/error-message.js';
import type { ConfigFile, Environment } from './config-file.js';
import {
  InvalidConfigValue,
  describeType,
  parseCount,
  parseDurationMs,
  parseFlyteBool,
  splitList,
  yamlBool,
  yamlCount,
  yamlDurationMs,
  yamlList,
  yamlString,
} from './config-values.js';

/** Where a value came from: an environment variable, or a key of the config file. */
export type ValueOrigin = { kind: 'env'; name: string } | { kind: 'file'; path: string; key: string };

/** A value and where it came from. */
export interface Sourced<T> {
  value: T;
  origin: ValueOrigin;
}

/** `FLYTE_CREDENTIALS_AUDIENCE` or `admin.audience in /home/me/.flyte/config.yaml`. */
export function describeOrigin(origin: ValueOrigin): string {
  return origin.kind === 'env' ? origin.name : `${origin.key} in ${origin.path}`;
}

/** An `ERR_CONFIG` error about one value, naming the variable, or the file and the key path. */
export function invalidValue(origin: ValueOrigin, reason: string): AuthenticationError {
  if (origin.kind === 'env') {
    return new AuthenticationError(`Environment variable ${origin.name}: ${reason}`, {
      code: 'ERR_CONFIG',
      endpoint: origin.name,
    });
  }
  return new AuthenticationError(`Config file ${origin.path}: ${origin.key}: ${reason}`, {
    code: 'ERR_CONFIG',
    endpoint: origin.path,
  });
}

/**
 * Reads one key at a time with flytekit's precedence: the environment variable if set, else the YAML key, else
 * nothing (the caller applies the default). An empty variable counts as unset, except for booleans, where flytekit
 * reads `""` as false. A YAML value counts unless it is null, `""` or `[]`. Keys match case-insensitively, as viper's.
 */
export class ConfigSources {
  readonly #file: ConfigFile | undefined;
  readonly #env: Environment;

  constructor(file: ConfigFile | undefined, env: Environment) {
    this.#file = file;
    this.#env = env;
  }

  string(path: readonly string[], envName: string): Sourced<string> | undefined {
    return this.#read(path, envName, (text) => text, yamlString);
  }

  bool(path: readonly string[], envName: string): Sourced<boolean> | undefined {
    return this.#read(path, envName, parseFlyteBool, yamlBool, true);
  }

  list(path: readonly string[], envName: string): Sourced<string[]> | undefined {
    const found = this.#read(path, envName, splitList, yamlList);
    return found && found.value.length > 0 ? found : undefined;
  }

  durationMs(path: readonly string[], envName: string): Sourced<number> | undefined {
    return this.#read(path, envName, parseDurationMs, yamlDurationMs);
  }

  count(path: readonly string[], envName: string): Sourced<number> | undefined {
    return this.#read(path, envName, parseCount, yamlCount);
  }

  authType(path: readonly string[], envName: string): Sourced<AuthType> | undefined {
    const found = this.#read(path, envName, (text) => text, (raw) => {
      if (typeof raw !== 'string') throw new InvalidConfigValue(`expected a string, got ${describeType(raw)}`);
      return raw;
    });
    if (found === undefined) return undefined;
    try {
      return { value: parseAuthType(found.value), origin: found.origin };
    } catch (error) {
      throw invalidValue(found.origin, errorMessage(error));
    }
  }

  #read<T>(
    path: readonly string[],
    envName: string,
    fromEnv: (text: string) => T,
    fromYaml: (raw: unknown) => T,
    emptyEnvCounts = false,
  ): Sourced<T> | undefined {
    const text = this.#env[envName];
    if (text !== undefined && (text !== '' || emptyEnvCounts)) {
      const origin: ValueOrigin = { kind: 'env', name: envName };
      return { value: convert(origin, () => fromEnv(text)), origin };
    }
    const found = this.#lookup(path);
    if (found === undefined) return undefined;
    return { value: convert(found.origin, () => fromYaml(found.raw)), origin: found.origin };
  }

  #lookup(path: readonly string[]): { raw: unknown; origin: ValueOrigin } | undefined {
    const file = this.#file;
    if (file === undefined) return undefined;
    let node: unknown = file.root;
    const keys: string[] = [];
    for (const wanted of path) {
      if (node === null || node === undefined) return undefined;
      if (typeof node !== 'object' || Array.isArray(node)) {
        const origin: ValueOrigin = { kind: 'file', path: file.path, key: keys.join('.') };
        throw invalidValue(origin, `expected a mapping, got ${describeType(node)}`);
      }
      const matches = Object.keys(node).filter((key) => key.toLowerCase() === wanted.toLowerCase());
      if (matches.length > 1) {
        const origin: ValueOrigin = { kind: 'file', path: file.path, key: [...keys, wanted].join('.') };
        throw invalidValue(origin, `keys ${matches.join(', ')} differ only in case; keep one`);
      }
      const [key] = matches;
      if (key === undefined) return undefined;
      keys.push(key);
      node = (node as Record<string, unknown>)[key];
    }
    if (node === null || node === undefined || node === '' || (Array.isArray(node) && node.length === 0)) return undefined;
    return { raw: node, origin: { kind: 'file', path: file.path, key: keys.join('.') } };
  }
}

function convert<T>(origin: ValueOrigin, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidConfigValue) throw invalidValue(origin, error.message);
    throw error;
  }
}
