import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './child-process.js';

/** The CLI entry, run from source the way a test runs it (`node --import tsx src/cli/main.ts`). */
export const CLI_MAIN = join(PACKAGE_ROOT, 'src', 'cli', 'main.ts');
/** tsx as a URL, so that a child started in any `cwd` (a temp dir) still finds it. */
export const TSX_LOADER = import.meta.resolve('tsx');
/** The argv that starts the CLI; also usable as a config's `admin.command` (then followed by `token`, …). */
export const CLI_ARGV: readonly string[] = [process.execPath, '--import', TSX_LOADER, CLI_MAIN];

/** How a CLI run ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI child process still running: its output so far, and a way to wait for a line on stderr (a login prompt). */
export interface CliProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once stderr matches `pattern`; rejects when the process ends first. */
  waitForStderr(pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves when the process has exited and its streams are closed. */
  result: Promise<CliResult>;
  kill(): void;
}

export interface CliRunOptions {
  /** The working directory (a temp dir, so that nothing of the repository is picked up). */
  cwd: string;
  /** The whole environment of the child (nothing is inherited): `HOME`, `FLYTECTL_CONFIG`, `FLYTE_*`. */
  env: Record<string, string>;
}

/** The environment every CLI child gets: only `PATH` (to find `node` in scripts) and the given variables. */
export function cliEnv(variables: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...variables };
}

/** Starts `flyte-grpc-auth <args>` as a child process. */
export function startCli(args: readonly string[], options: CliRunOptions): CliProcess {
  const [node, ...nodeArgs] = CLI_ARGV;
  const child = spawn(node!, [...nodeArgs, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let ended = false;
  const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void; reject: (error: Error) => void }> = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(stderr);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      } else if (ended) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.reject(new Error(`the CLI ended before stderr matched ${waiter.pattern}; stderr:\n${stderr}`));
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    check();
  });
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code) => {
      ended = true;
      check();
      resolve({ code, stdout, stderr });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitForStderr(pattern) {
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
      });
    },
    result,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs `flyte-grpc-auth <args>` to the end. */
export async function runCliProcess(args: readonly string[], options: CliRunOptions): Promise<CliResult> {
  const cli = startCli(args, options);
  try {
    return await cli.result;
  } finally {
    cli.kill();
  }
}

/** The lines of `text` without the trailing empty one. */
export function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}
