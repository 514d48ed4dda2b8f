import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The package root (where `node_modules` and `tsx` are), for children run with `node --import tsx`. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A TypeScript script running in its own Node process, talked to line by line. */
export interface ScriptProcess {
  child: ChildProcess;
  /** The next line the script prints on stdout; rejects when it exits first. */
  nextLine(): Promise<string>;
  /** Sends one line to the script's stdin. */
  send(line: string): void;
  /** Everything the script wrote to stderr so far. */
  readonly stderr: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(): void;
}

/** Starts `node --import tsx <script> <json args>` in the package root. */
export function startScript(script: string, args: unknown): ScriptProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
    cwd: PACKAGE_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    async nextLine() {
      const line = await lines.next();
      if (line.done) throw new Error(`script exited before printing a line; stderr:\n${stderr}`);
      return line.value;
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    get stderr() {
      return stderr;
    },
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
