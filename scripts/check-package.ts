// `npm run check:package` (after `npm run build`; CI runs it): checks what `npm pack` would publish, the way a user
// meets it. Exits non-zero with one line per problem.
// - publint: package.json fields, `exports` targets present in the tarball, ESM/CJS format of each file;
// - arethetypeswrong (`esm-only` profile: no CommonJS entry is promised): every subpath resolves to its types under
//   node16 and bundler resolution, and the declarations load;
// - every source map shipped points only at files that are shipped too;
// - README links work on the npm page: absolute, to this repository's files that exist, or anchors to its headings;
// - repository, homepage and bugs name the same repository.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownLinks, headingAnchors } from './markdown-links.js';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const problems: string[] = [];

interface PackageJson {
  name: string;
  repository?: { type?: string; url?: string } | string;
  homepage?: string;
  bugs?: { url?: string } | string;
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson;

function run(command: string, args: readonly string[]): { status: number | null; stdout: string } {
  const child = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.error) throw child.error;
  return { status: child.status, stdout: child.stdout };
}

// The tools' own executables, as npm links them.
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

if (!existsSync('dist/index.js')) {
  console.error('check:package: dist/ is missing; run `npm run build` first');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'flyte-grpc-auth-pack-'));
try {
  // --ignore-scripts: dist/ is what was just built; prepack would build it again.
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch]);
  if (packed.status !== 0) throw new Error('npm pack failed');
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: Array<{ path: string }> }];
  const tarball = join(scratch, filename);
  const shipped = new Set(files.map((file) => file.path));

  console.log('publint');
  if (run(bin('publint'), ['run', tarball, '--strict']).status !== 0) problems.push('publint reported problems (above)');

  console.log('arethetypeswrong');
  const attw = run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-color']);
  process.stdout.write(attw.stdout);
  if (attw.status !== 0) problems.push('arethetypeswrong reported problems (above)');

  console.log('source maps');
  for (const map of [...shipped].filter((path) => path.endsWith('.map'))) {
    const { sources, sourceRoot = '' } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourceRoot?: string };
    for (const source of sources) {
      const target = posix.normalize(posix.join(posix.dirname(map), sourceRoot, source));
      if (!shipped.has(target)) problems.push(`${map} points at ${target}, which is not published`);
    }
  }
  for (const file of [...shipped].filter((path) => /\.(js|d\.ts)$/.test(path))) {
    const reference = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, 'utf8'))?.[1];
    const map = reference && posix.normalize(posix.join(posix.dirname(file), reference));
    if (map && !shipped.has(map)) problems.push(`${file} names the source map ${map}, which is not published`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log('repository links');
const repositoryUrl = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
const repository = /^(?:git\+)?https:\/\/github\.com\/([^/]+\/[^/.]+)(?:\.git)?$/.exec(repositoryUrl ?? '')?.[1];
if (!repository) problems.push(`package.json repository.url must be git+https://github.com/<owner>/<name>.git, got ${repositoryUrl}`);
const base = `https://github.com/${repository}`;
const bugsUrl = typeof pkg.bugs === 'string' ? pkg.bugs : pkg.bugs?.url;
if (pkg.homepage !== `${base}#readme`) problems.push(`package.json homepage must be ${base}#readme, got ${pkg.homepage}`);
if (bugsUrl !== `${base}/issues`) problems.push(`package.json bugs.url must be ${base}/issues, got ${bugsUrl}`);

console.log('README links');
const readme = readFileSync('README.md', 'utf8');
const anchors = headingAnchors(readme);
const ownFile = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(?:blob|tree)/main/([^#?]+)`);
for (const { target, line } of markdownLinks(readme)) {
  const where = `README.md:${line}`;
  if (target.startsWith('#')) {
    if (!anchors.has(target.slice(1))) problems.push(`${where} links to ${target}, which is no heading of README.md`);
  } else if (/^https?:\/\//.test(target)) {
    const path = ownFile.exec(target)?.[1];
    if (path !== undefined && !existsSync(decodeURIComponent(path))) problems.push(`${where} links to ${target}, but ${path} does not exist`);
  } else if (!/^mailto:/.test(target)) {
    // npmjs.com shows README.md on its own: a relative link leads nowhere there.
    const path = target.replace(/^\.\//, '');
    problems.push(`${where} links to ${target}: use ${base}/${path.endsWith('/') ? 'tree' : 'blob'}/main/${path} (relative links break on the npm page)`);
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`check:package: ${problem}`);
  process.exit(1);
}
console.log('check:package: all good');
