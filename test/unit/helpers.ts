/** Shared test helpers: where the corpus lives, reading its files, finding files and rules. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Rule, Ruleset } from '../../src/core/model/netfilter';

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

/** Every file under `dir` (absolute paths), recursively, sorted. */
export function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

/** The rules of chain `chain` of table `table`; fails the test when either is missing. */
export function chainRules(rs: Ruleset, table: string, chain: string): Rule[] {
  const t = rs.tables.find((x) => x.name === table);
  assert.ok(t, `no table ${table}`);
  const c = t.chains.find((x) => x.name === chain);
  assert.ok(c, `no chain ${table}/${chain}`);
  return c.rules;
}
