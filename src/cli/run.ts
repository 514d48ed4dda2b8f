import { parseCliArgs, type CommandName } from './args.js';
import { configCommand } from './commands/config.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { tokenCommand } from './commands/token.js';
import { whoamiCommand } from './commands/whoami.js';
import type { CommandContext } from './context.js';
import type { CliEnvironment } from './environment.js';
import { CliError, errorLine, UsageError } from './errors.js';
import { packageVersion, PROGRAM, USAGE } from './usage.js';
import { startVerboseLog } from './verbose.js';

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

const COMMANDS: Readonly<Record<CommandName, (context: CommandContext) => Promise<void>>> = {
  token: tokenCommand,
  whoami: whoamiCommand,
  config: configCommand,
  login: loginCommand,
  logout: logoutCommand,
};

/**
 * Runs the `flyte-grpc-auth` command line `argv` (without `node` and the script) in `io` and resolves with the exit
 * code. Never rejects: every failure becomes one line on `io.stderr` (`flyte-grpc-auth: <message>`), without a stack
 * trace, and with every secret and token the run came across replaced by `<redacted>`.
 */
export async function runCli(argv: readonly string[], io: CliEnvironment): Promise<number> {
  const secrets: string[] = [];
  let stopVerbose: (() => void) | undefined;
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
    if (parsed.options.verbose) stopVerbose = startVerboseLog(io.stderr, secrets);
    await COMMANDS[parsed.command](context);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${PROGRAM}: ${errorLine(error)}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    io.stderr(`${PROGRAM}: ${errorLine(error, secrets)}\n`);
    return EXIT_FAILURE;
  } finally {
    stopVerbose?.();
  }
}
