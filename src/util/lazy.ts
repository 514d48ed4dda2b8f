import { createRequire } from 'node:module';

// Heavy dependencies (undici, yaml, protobufjs, openid-client, …) cost 10–50 ms each to load. A user who only wants
// the interceptor must not pay for them at `import 'flyte-grpc-auth'`: they load on first use, through one of these
// two helpers. Types stay static (`import type`), which costs nothing at run time.

/**
 * A module loaded on first use: the returned function imports it once and hands every caller the same promise. A
 * failed import is forgotten, so a later call tries again (an optional package installed meanwhile, a transient
 * file-system error). Use this wherever the caller is already asynchronous.
 *
 * @example const loadYaml = lazyImport(() => import('yaml'));  …  const { parseDocument } = await loadYaml();
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = load();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}

const requireFromHere = createRequire(import.meta.url);

/**
 * A module loaded on first use, synchronously: for the few places whose API is synchronous and must stay so (a
 * constructor, a `sync` definition builder). `require` loads CommonJS packages and, on Node ≥ 20.19, ES modules
 * without top-level await; it shares Node's module cache with `import`, so classes are the same for `instanceof`.
 */
export function lazyRequire<T>(specifier: string): () => T {
  let loaded: { module: T } | undefined;
  return () => {
    loaded ??= { module: requireFromHere(specifier) as T };
    return loaded.module;
  };
}
