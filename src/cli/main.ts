#!/usr/bin/env node
// The `flyte-grpc-auth` executable (package.json `bin` → dist/cli/main.js). Everything testable lives in run.ts.
import { processEnvironment } from './environment.js';
import { errorLine } from './errors.js';
import { DEPTH_VARIABLE, EXIT_FAILURE, runCli } from './run.js';
import { PROGRAM } from './usage.js';

let exiting = false;

// Leftovers (a gRPC channel's timers, the callback server of a login that lost the race) must not keep the process
// alive once the answer is out; the streams are flushed first so that a piped token is never cut short.
function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// A last resort: one line, never a stack trace.
function crash(error: unknown): void {
  if (exiting) return;
  process.stderr.write(`${PROGRAM}: ${errorLine(error)}\n`);
  exit(EXIT_FAILURE);
}

// Token commands inherit the environment: a child flyte-grpc-auth sees how deep it runs.
process.env[DEPTH_VARIABLE] = String((Number(process.env[DEPTH_VARIABLE]) || 0) + 1);
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
runCli(process.argv.slice(2), processEnvironment()).then(exit, crash);
