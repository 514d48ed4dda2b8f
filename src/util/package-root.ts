import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * The directory the package lives in (its package.json, `protos/`), found through the package's own name: the same
 * answer from `src/` under tsx, from any bundled chunk under `dist/`, and from an installed copy in node_modules.
 */
export function packageRoot(): string {
  return dirname(createRequire(import.meta.url).resolve('flyte-grpc-auth/package.json'));
}
