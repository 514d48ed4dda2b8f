import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A temporary directory for config files, secrets and fake homes. */
export interface TempDir {
  dir: string;
  /** Writes `content` to `relativePath` (creating folders) and returns the absolute path. */
  write(relativePath: string, content: string): string;
  /** Creates a folder and returns its absolute path. */
  mkdir(relativePath: string): string;
  /** Absolute path of `relativePath` inside the directory (the file need not exist). */
  path(relativePath: string): string;
  cleanup(): void;
}

/** Makes a fresh temporary directory; call `cleanup()` when done. */
export function createTempDir(prefix = 'fga-'): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = (relativePath: string): string => join(dir, relativePath);
  return {
    dir,
    path,
    write(relativePath, content) {
      const target = path(relativePath);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      return target;
    },
    mkdir(relativePath) {
      const target = path(relativePath);
      mkdirSync(target, { recursive: true });
      return target;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
