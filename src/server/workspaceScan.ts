/**
 * Finds rule files in the workspace folders for workspace symbols: files named like dumps
 * (`iptables-save.txt`, `rules.v4`, `*.rules`, bundles), a bounded walk, cached by mtime.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** File names that hold iptables rules or bundles (what the languages' associations claim). */
export const RULE_FILE_NAME = /^(ip6?tables[-_.].*|rules\.v[46])$|\.(rules|iptables|ipt|meshtrace)$/i;

/** At most this many files are looked at per walk, and folders this deep. */
const MAX_FILES = 20000;
const MAX_DEPTH = 8;

/** Rule files under the folders, in a bounded walk that skips dot folders and node_modules. */
export function findRuleFiles(folders: string[]): string[] {
  const out: string[] = [];
  let seen = 0;
  const walk = (d: string, depth: number): void => {
    if (depth > MAX_DEPTH || seen > MAX_FILES) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist' || e.name === 'out') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && ++seen <= MAX_FILES && RULE_FILE_NAME.test(e.name) && !/\.(json|ya?ml|md)$/i.test(e.name)) out.push(p);
    }
  };
  for (const f of folders) walk(f, 0);
  return out;
}

/** Reads a file's text if it is not too big for a symbol scan (64 MB). */
export function readSmall(file: string): { text: string; mtime: number } | undefined {
  try {
    const st = fs.statSync(file);
    if (st.size > 64 * 1024 * 1024) return undefined;
    return { text: fs.readFileSync(file, 'utf8'), mtime: st.mtimeMs };
  } catch {
    return undefined;
  }
}
