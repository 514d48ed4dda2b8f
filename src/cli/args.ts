import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/** The commands, in the order the usage lists them. */
export const COMMANDS = ['token', 'whoami', 'config', 'login', 'logout'] as const;
/** One of {@link COMMANDS}. */
export type CommandName = (typeof COMMANDS)[number];

/** The options every command accepts. */
export interface GlobalOptions {
  /** `--config FILE`: the config file to read instead of the usual discovery. */
  config?: string;
  /** `--endpoint HOST`: overrides `admin.endpoint` / `FLYTE_PLATFORM_URL`. */
  endpoint?: string;
  /** `--insecure`: overrides `admin.insecure` / `FLYTE_PLATFORM_INSECURE` with true. */
  insecure: boolean;
  /** `--json` (`config` only). */
  json: boolean;
  /** `--no-browser` (commands that may log in with PKCE). */
  noBrowser: boolean;
  /** `--auth-metadata-service NAME`: overrides `admin.authMetadataService` / `FLYTE_ADMIN_AUTHMETADATASERVICE`. */
  authMetadataService?: string;
}

/** What the command line asks for. */
export type ParsedArgs =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'command'; command: CommandName; options: GlobalOptions };

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  endpoint: { type: 'string' },
  insecure: { type: 'boolean' },
  json: { type: 'boolean' },
  'no-browser': { type: 'boolean' },
  'auth-metadata-service': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

type OptionName = keyof typeof OPTIONS;

// Options that only make sense for some commands; the rest apply to every command.
const ONLY_FOR: Partial<Record<OptionName, readonly CommandName[]>> = {
  json: ['config'],
  'no-browser': ['token', 'whoami', 'login'],
};

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

// node's messages go on with advice about `--` that does not fit one line: the first sentence says it all.
function firstSentence(message: string): string {
  const end = message.search(/\.\s/);
  return (end < 0 ? message : message.slice(0, end)).trim();
}

/**
 * Parses `argv` (without `node` and the script) with `node:util` `parseArgs`: one command, options before or after
 * it. `--help` and `--version` win over everything else.
 *
 * @throws {UsageError} for an unknown command or option, a missing or empty value, an option the command does not
 *   take, or a second positional argument.
 */
export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(firstSentence(error instanceof Error ? error.message : String(error)));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('no command given');
  if (!isCommand(command)) throw new UsageError(`unknown command '${command}' (commands: ${COMMANDS.join(', ')})`);
  if (extra.length > 0) throw new UsageError(`${command} takes no arguments, got '${extra.join(' ')}'`);

  for (const [name, allowed] of Object.entries(ONLY_FOR) as Array<[OptionName, readonly CommandName[]]>) {
    if (values[name] !== undefined && !allowed.includes(command)) {
      throw new UsageError(`option --${name} does not apply to ${command} (only to ${allowed.join(', ')})`);
    }
  }
  for (const name of ['config', 'endpoint', 'auth-metadata-service'] as const) {
    if (values[name] !== undefined && values[name].trim() === '') throw new UsageError(`option --${name} needs a non-empty value`);
  }

  const options: GlobalOptions = { insecure: values.insecure ?? false, json: values.json ?? false, noBrowser: values['no-browser'] ?? false };
  if (values.config !== undefined) options.config = values.config;
  if (values.endpoint !== undefined) options.endpoint = values.endpoint.trim();
  if (values['auth-metadata-service'] !== undefined) options.authMetadataService = values['auth-metadata-service'].trim();
  return { kind: 'command', command, options };
}
