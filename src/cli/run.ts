import { parseCliArgs, type CommandName } from './args.js';
import type { CommandContext } from './context.js';
import type { CliEnvironment } from './environment.js';
import { CliError, errorLine, UsageError } from './errors.js';
import { packageVersion, PROGRAM, USAGE } from './usage.js';

/** Exit code of success. */
export const EXIT_OK = 0;
/** Exit code of a failure (one line on stderr). */
export const EXIT_FAILURE = 1;
/** Exit code of a wrong command line (the reason and the usage on stderr). */
export const EXIT_USAGE = 2;

/**
 * How many `flyte-grpc-auth` processes run inside one another (set by the entry point for its children). A config
 * whose `admin.command` is `flyte-grpc-auth token` reading that same config would otherwise start itself forever.
 */
export const DEPTH_VARIABLE = 'FLYTE_GRPC_AUTH_CLI_DEPTH';
/** The deepest nesting allowed: `whoami` → a command running `token` → one more level of headroom. */
export const MAX_DEPTH = 3;

type Command = (context: CommandContext) => Promise<void>;

// Each command (and the authenticators, gRPC and YAML behind it) loads only when it runs: `--version` and `--help`
// stay as quick as a bare `node` start, which matters to tools that run this program as their `admin.command`.
const COMMANDS: Readonly<Record<CommandName, () => Promise<Command>>> = {
  token: async () => (await import('./commands/token.js')).tokenCommand,
  whoami: async () => (await import('./commands/whoami.js')).whoamiCommand,
  config: async () => (await import('./commands/config.js')).configCommand,
  login: async () => (await import('./commands/login.js')).loginCommand,
  logout: async () => (await import('./commands/logout.js')).logoutCommand,
};

/**
 * Runs the `flyte-grpc-auth` command line `argv` (without `node` and the script) in `io` and resolves with the exit
 * code. Never rejects: every failure becomes one line on `io.stderr` (`flyte-grpc-auth: <message>`), without a stack
 * trace, and with every secret and token the run came across replaced by `<redacted>`.
 */
export async function runCli(argv: readonly string[], io: CliEnvironment): Promise<number> {
  const secrets: string[] = [];
  try {
    const parsed = parseCliArgs(argv);
    if (parsed.kind === 'help') {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    if (parsed.kind === 'version') {
      io.stdout(`${packageVersion()}\n`);
      return EXIT_OK;
    }
    const depth = Number(io.env[DEPTH_VARIABLE] ?? '0');
    if (depth > MAX_DEPTH) {
      throw new CliError(
        `${PROGRAM} is running itself through admin.command (${depth} levels deep): the config it reads must not use ` +
          `ExternalCommand with '${PROGRAM} token'; give it a config of its own (--config) or set FLYTE_CREDENTIALS_AUTH_MODE`,
      );
    }
    const context: CommandContext = {
      io,
      options: parsed.options,
      addSecret: (secret) => {
        if (secret) secrets.push(secret);
      },
    };
    const command = await COMMANDS[parsed.command]();
    await command(context);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${PROGRAM}: ${errorLine(error)}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    io.stderr(`${PROGRAM}: ${errorLine(error, secrets)}\n`);
    return EXIT_FAILURE;
  }
}
