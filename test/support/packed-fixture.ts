import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from './child-process.js';

// The package as a user installs it: built, packed by `npm pack`, unpacked into a project outside this repository,
// beside exactly the dependencies its package.json declares. Those are symlinked from this repository's node_modules
// (the same versions as the lock file) instead of installed: no network, no npm cache, and an import the package
// does not declare fails as it would for a user, because the fixture lies outside this repository.

const run = promisify(execFile);

/** What `npm pack` produced, once per test process. */
export interface PackedPackage {
  /** The `.tgz`. */
  tarball: string;
  /** The paths inside the package (`package.json`, `dist/index.js`, …). */
  files: string[];
  /** The packed package.json. */
  manifest: {
    name: string;
    version: string;
    exports: Record<string, unknown>;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
}

let packed: Promise<PackedPackage> | undefined;

/** Builds the package (`npm run build`) and packs it, once per test process. */
export function packPackage(): Promise<PackedPackage> {
  packed ??= (async () => {
    await run('npm', ['run', 'build'], { cwd: PACKAGE_ROOT });
    const destination = mkdtempSync(join(tmpdir(), 'fga-pack-'));
    process.once('exit', () => rmSync(destination, { recursive: true, force: true }));
    // --ignore-scripts: prepack would build a second time.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], { cwd: PACKAGE_ROOT });
    const [result] = JSON.parse(stdout) as [{ filename: string; files: Array<{ path: string }> }];
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackedPackage['manifest'];
    return { tarball: join(destination, result.filename), files: result.files.map((file) => file.path), manifest };
  })();
  return packed;
}

/** Options of {@link installPackedFixture}. */
export interface PackedFixtureOptions {
  /**
   * Packages to install beside flyte-grpc-auth, from this repository's node_modules: the peers the project uses
   * (`@grpc/grpc-js`, `@connectrpc/connect`, …) and whatever its scripts import themselves. Default none.
   */
  dependencies?: readonly string[];
  /** Dependencies the package declares (`dependencies`, `optionalDependencies`) to leave out, e.g. `@napi-rs/keyring`. */
  omit?: readonly string[];
}

/** The result of {@link PackedFixture.run}. */
export interface FixtureRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A project with the packed flyte-grpc-auth installed. */
export interface PackedFixture {
  /** The project directory (`package.json` with `"type": "module"`, `node_modules/`). */
  readonly dir: string;
  /** The packages in its node_modules, flyte-grpc-auth included. */
  readonly installed: readonly string[];
  /** Writes `content` to `name` inside the project and returns the absolute path. */
  writeFile(name: string, content: string): string;
  /**
   * Runs `node <script> …args` in the project. The script can `import { loadedPackages } from './loaded-packages.mjs'`
   * to learn which packages (by node_modules name) the process has loaded so far, ES modules and CommonJS alike.
   */
  run(script: string, options?: { args?: readonly string[]; env?: Record<string, string>; timeoutMs?: number }): Promise<FixtureRun>;
  /** Deletes the project. */
  remove(): void;
}

// Records every ES module resolution (in the loader-hooks thread) in a file, synchronously, so that a resolution is
// written before the import that caused it settles.
const TRACK_HOOKS = String.raw`import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.FIXTURE_RESOLVED_LOG, result.url + '\n');
  return result;
}
`;
const TRACK = `import { register } from 'node:module';
register('./track-hooks.mjs', import.meta.url);
`;
const LOADED_PACKAGES = String.raw`import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The package a file belongs to: the name after its last node_modules.
function packageOf(path) {
  const parts = path.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0 || at + 1 >= parts.length) return undefined;
  return parts[at + 1].startsWith('@') ? parts[at + 1] + '/' + parts[at + 2] : parts[at + 1];
}

/** The packages loaded so far, sorted: ES modules as resolved, CommonJS modules from the require cache. */
export function loadedPackages() {
  const resolved = readFileSync(process.env.FIXTURE_RESOLVED_LOG, 'utf8').split('\n').filter((url) => url.startsWith('file:'));
  const paths = [...resolved.map((url) => fileURLToPath(url)), ...Object.keys(createRequire(import.meta.url).cache)];
  return [...new Set(paths.map(packageOf).filter(Boolean))].sort();
}
`;

function link(nodeModules: string, name: string): void {
  const source = join(PACKAGE_ROOT, 'node_modules', name);
  const target = join(nodeModules, name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(source, target, 'junction');
}

/**
 * A fresh project in a temporary directory with the packed package installed, and exactly the packages it declares
 * (minus `omit`, optional ones only when present here) plus `dependencies`. Call `remove()` when done.
 */
export async function installPackedFixture(options: PackedFixtureOptions = {}): Promise<PackedFixture> {
  const { tarball, manifest } = await packPackage();
  const dir = mkdtempSync(join(tmpdir(), 'fga-fixture-'));
  const nodeModules = join(dir, 'node_modules');
  const own = join(nodeModules, manifest.name);
  mkdirSync(own, { recursive: true });
  // npm's tarballs hold everything under `package/`.
  await run('tar', ['-xzf', tarball, '-C', own, '--strip-components=1']);

  const omit = new Set(options.omit ?? []);
  const declared = Object.keys(manifest.dependencies ?? {}).filter((name) => !omit.has(name));
  const optional = Object.keys(manifest.optionalDependencies ?? {}).filter(
    (name) => !omit.has(name) && existsSync(join(PACKAGE_ROOT, 'node_modules', name)),
  );
  const extra = options.dependencies ?? [];
  for (const name of extra) {
    if (!existsSync(join(PACKAGE_ROOT, 'node_modules', name))) throw new Error(`installPackedFixture: ${name} is not in node_modules`);
  }
  const installed = [...new Set([...declared, ...optional, ...extra])];
  for (const name of installed) link(nodeModules, name);

  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fga-fixture', private: true, type: 'module' }, null, 2));
  writeFileSync(join(dir, 'track-hooks.mjs'), TRACK_HOOKS);
  writeFileSync(join(dir, 'track.mjs'), TRACK);
  writeFileSync(join(dir, 'loaded-packages.mjs'), LOADED_PACKAGES);

  return {
    dir,
    installed: [manifest.name, ...installed].sort(),
    writeFile(name, content) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      return path;
    },
    async run(script, runOptions = {}) {
      const log = join(dir, `resolved-${process.pid}-${Date.now()}.log`);
      writeFileSync(log, '');
      const args = ['--import', pathToFileURL(join(dir, 'track.mjs')).href, script, ...(runOptions.args ?? [])];
      try {
        const { stdout, stderr } = await run(process.execPath, args, {
          cwd: dir,
          // Nothing from this repository's test run (NODE_OPTIONS with tsx) may leak into the project.
          env: { PATH: process.env.PATH ?? '', HOME: dir, FIXTURE_RESOLVED_LOG: log, ...runOptions.env },
          timeout: runOptions.timeoutMs ?? 60_000,
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: number | string; stdout?: string; stderr?: string };
        if (typeof failed.code !== 'number') throw error;
        return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
      }
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
