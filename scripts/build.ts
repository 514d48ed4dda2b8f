// `npm run build`: the declarations from tsc (one .d.ts per source file, `@internal` stripped), the JavaScript from
// esbuild: one file per entry point and shared chunks. Node pays about half a millisecond for every ES module it
// loads; the 50-odd files of the package cost ~20 ms at `import`, bundled they cost a few (`npm run bench`).
//
// The entry points are read from package.json: every `exports` target `./dist/<path>.js` is built from
// `src/<path>.ts`, and so is every `bin`. A new subpath needs only its `exports` entry (with `types` and `default`).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

type ExportTarget = string | { types?: string; default?: string; [condition: string]: unknown };
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  exports: Record<string, ExportTarget>;
  bin?: Record<string, string>;
};

function entryOf(target: string): [string, string] | undefined {
  const match = /^\.\/dist\/(.+)\.js$/.exec(target);
  if (!match) return undefined;
  const source = `src/${match[1]}.ts`;
  if (!existsSync(source)) throw new Error(`package.json names ${target}, but ${source} does not exist`);
  return [match[1]!, source];
}

const entries = new Map<string, string>();
for (const [subpath, target] of Object.entries(pkg.exports)) {
  const file = typeof target === 'string' ? target : target.default;
  if (file === undefined) throw new Error(`package.json exports["${subpath}"] has no "default"`);
  const entry = entryOf(file);
  if (entry) entries.set(...entry);
}
for (const file of Object.values(pkg.bin ?? {})) {
  const entry = entryOf(file);
  if (entry) entries.set(...entry);
}

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
await build({
  entryPoints: Object.fromEntries(entries),
  outdir: 'dist',
  bundle: true,
  // Code shared by several entry points lives once, in a chunk: one AuthenticationError class for every subpath.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Dependencies stay dependencies: resolved by Node from node_modules, loaded when the code that needs them runs.
  packages: 'external',
  // Readable stack traces and error names; the source maps point into src/, which is published.
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
console.log(`built ${[...entries.keys()].map((name) => `dist/${name}.js`).join(', ')}`);
