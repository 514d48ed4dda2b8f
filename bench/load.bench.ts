// `npm run bench` (after the interceptor bench): what loading flyte-grpc-auth costs, each sample in a fresh `node`
// process, measured in interleaved rounds (rotating order, so drift in machine load hits every variant alike) and
// reported as medians and ratios from this one run. The compiled package (`dist/`), resolved by its own name through
// package.json `exports`, as users load it. Imports also report the CPU time they took, which other processes on a
// busy machine disturb less than the wall clock. A benchmark, not a test.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 21);

/** A sample in milliseconds (wall clock, and CPU where measured), or why the variant cannot run here. */
type Sample = { ms: number; cpuMs?: number } | { skipped: string };

// Run from the package root, so that `import('flyte-grpc-auth')` in `-e` code resolves to this package (self-reference).
function runNode(args: readonly string[]): { stdout: string; stderr: string; status: number | null; ms: number } {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const ms = performance.now() - started;
  return { stdout: child.stdout, stderr: child.stderr, status: child.status, ms };
}

/**
 * What `import(target)` takes in a process that has already imported `base` (the transport library the user loads
 * anyway), measured inside that process so that node's own start-up is not part of the number.
 */
function importCost(base: string, target: string): Sample {
  const script = [
    `try { await import(${JSON.stringify(base)}); } catch { console.log(JSON.stringify({ missing: true })); process.exit(0); }`,
    'const cpu = process.cpuUsage();',
    'const started = performance.now();',
    `await import(${JSON.stringify(target)});`,
    'const ms = performance.now() - started;',
    'const { user, system } = process.cpuUsage(cpu);',
    'console.log(JSON.stringify({ ms, cpuMs: (user + system) / 1000 }));',
  ].join('\n');
  const run = runNode(['--input-type=module', '-e', script]);
  if (run.status !== 0) throw new Error(`importing ${target} failed:\n${run.stderr}`);
  const out = JSON.parse(run.stdout) as { missing?: true; ms: number; cpuMs: number };
  return out.missing ? { skipped: `${base} is not installed` } : { ms: out.ms, cpuMs: out.cpuMs };
}

/** Wall-clock milliseconds of a whole `node` process, start to exit. */
function processTime(args: readonly string[]): Sample {
  const run = runNode(args);
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} failed:\n${run.stderr}`);
  return { ms: run.ms };
}

// The Connect subpath is measured once package.json exports it and it is built.
const exportsMap = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { exports: Record<string, { default?: string }> }).exports;
const connectTarget = exportsMap['./connect']?.default;
const connectSkipped = !connectTarget
  ? 'package.json exports no ./connect'
  : !existsSync(`${ROOT}${connectTarget}`)
    ? `${connectTarget} not built`
    : undefined;
const variants: Array<[string, () => Sample]> = [
  ['grpc-js alone', () => importCost('node:os', '@grpc/grpc-js')],
  ['+ flyte-grpc-auth', () => importCost('@grpc/grpc-js', 'flyte-grpc-auth')],
  ['connect alone', () => (connectSkipped ? { skipped: connectSkipped } : importCost('node:os', '@connectrpc/connect'))],
  ['+ /connect', () => (connectSkipped ? { skipped: connectSkipped } : importCost('@connectrpc/connect', 'flyte-grpc-auth/connect'))],
  ['node -e 0', () => processTime(['-e', '0'])],
  ['cli --version', () => processTime(['dist/cli/main.js', '--version'])],
];

for (const [, measure] of variants) measure(); // warm-up: file-system caches
const samples = new Map<string, Sample[]>(variants.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS; r += 1) {
  for (let i = 0; i < variants.length; i += 1) {
    const [name, measure] = variants[(r + i) % variants.length]!;
    samples.get(name)!.push(measure());
  }
}

/** The median of one measure of a variant, or why there is none. */
function median(name: string, measure: 'ms' | 'cpuMs' = 'ms'): number | string {
  const all = samples.get(name)!;
  const skipped = all.find((sample): sample is { skipped: string } => 'skipped' in sample);
  if (skipped) return skipped.skipped;
  const values = all.map((sample) => (sample as { ms: number; cpuMs?: number })[measure]).filter((value) => value !== undefined);
  if (values.length === 0) return 'not measured';
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const ms = (value: number | string) => (typeof value === 'number' ? `${value.toFixed(1).padStart(7)} ms` : `    n/a (${value})`);
const ratio = (a: number | string, b: number | string) => (typeof a === 'number' && typeof b === 'number' ? (a / b).toFixed(2) : 'n/a');
const cpu = (name: string) => (typeof median(name, 'cpuMs') === 'number' ? `  (cpu ${ms(median(name, 'cpuMs')).trim()})` : '');

console.log(`load time, ${ROUNDS} interleaved rounds, one fresh node process per sample, medians`);
for (const [name] of variants) console.log(`  ${name.padEnd(18)} ${ms(median(name))}${cpu(name)}`);
const added = median('+ flyte-grpc-auth');
console.log(
  `  import('flyte-grpc-auth') after @grpc/grpc-js:               ${ms(added)} (target <= 15 ms); ${ratio(added, median('grpc-js alone'))} x grpc-js itself`,
);
const addedConnect = median('+ /connect');
console.log(
  `  import('flyte-grpc-auth/connect') after @connectrpc/connect: ${ms(addedConnect)}; ${ratio(addedConnect, median('connect alone'))} x connect itself`,
);
console.log(`  ratio flyte-grpc-auth --version / node -e 0: ${ratio(median('cli --version'), median('node -e 0'))} (target <= 1.5)`);
