/** Shared test helpers: where the corpus lives, and reading its files. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The shared corpus of real dumps (../shared/corpus beside the project). */
export const CORPUS = path.resolve(__dirname, '../../../shared/corpus');

/** Reads a corpus file by its path relative to the corpus. */
export function corpusFile(rel: string): string {
  return fs.readFileSync(path.join(CORPUS, rel), 'utf8');
}

/** Lists corpus files (relative paths) under a folder, recursively. */
export function corpusFiles(relDir = '.'): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(path.join(CORPUS, d), { withFileTypes: true })) {
      const rel = path.join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else out.push(path.normalize(rel));
    }
  };
  walk(relDir);
  return out.sort();
}
