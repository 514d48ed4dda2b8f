import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { PACKAGE_ROOT } from './child-process.js';

/** The modules reachable from one source file: our own files, and the packages (bare specifiers) they import. */
export interface ImportGraph {
  /** Our files, relative to the package root, each with the files it imports. */
  files: Map<string, string[]>;
  /** Every package imported (statically or with `import()`), with the files that import it. */
  packages: Map<string, string[]>;
}

// `./x.js` in a TypeScript source is `./x.ts` on disk.
function resolveLocal(from: string, specifier: string): string {
  const target = join(dirname(from), specifier);
  const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`${relative(PACKAGE_ROOT, from)} imports ${specifier}, which does not exist`);
  return found;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Walks the imports of `entry` (a path relative to the package root), type-only imports excluded. */
export function importGraph(entry: string): ImportGraph {
  const files = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const pending = [join(PACKAGE_ROOT, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    const name = relative(PACKAGE_ROOT, file);
    if (files.has(name)) continue;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const imported: string[] = [];
    const visit = (node: ts.Node): void => {
      let specifier: ts.Expression | undefined;
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) specifier = node.moduleSpecifier;
      else if (ts.isExportDeclaration(node) && !node.isTypeOnly) specifier = node.moduleSpecifier;
      else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) specifier = node.arguments[0];
      if (specifier && ts.isStringLiteralLike(specifier)) {
        const text = specifier.text;
        if (text.startsWith('.')) imported.push(relative(PACKAGE_ROOT, resolveLocal(file, text)));
        else if (!text.startsWith('node:')) {
          const pkg = packageName(text);
          packages.set(pkg, [...(packages.get(pkg) ?? []), name]);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    files.set(name, imported);
    for (const next of imported) pending.push(join(PACKAGE_ROOT, next));
  }
  return { files, packages };
}

/** The import cycles in `graph`, each as the list of files around it (none is the answer wanted). */
export function importCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.files.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.files.keys()) if (!state.has(file)) visit(file);
  return cycles;
}
