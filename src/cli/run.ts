import { parseCliArgs, type CommandName } from './args.js';
import { configCommand } from './commands/config.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { tokenCommand } from './commands/token.js';
import { whoamiCommand } from './commands/whoami.js';
import type { CommandContext } from './context.js';
import type { CliEnvironment } from './environment.js';
import { errorLine, UsageError } from './errors.js';
import { packageVersion, PROGRAM, USAGE } from './usage.js';

/** Exit codes: success, a failure (one line on stderr), a wrong command line (the line and the usage on stderr). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

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
    const context: CommandContext = {
      io,
      options: parsed.options,
      addSecret: (secret) => {
        if (secret) secrets.push(secret);
      },
    };
    await COMMANDS[parsed.command](context);
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
