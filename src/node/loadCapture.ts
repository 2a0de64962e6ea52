/**
 * Reads captures from disk: folder trees (`<capture>/<node>/<namespace>/<file>`), node folders,
 * bundle files and single dumps, several of them combined into one capture. The only part of
 * meshtrace that reads files; everything it returns is handed to the pure core.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Problem } from '../core/problem';
import type { DumpFile, Model } from '../core/model/model';
import { dumpsOfFile } from '../core/parsers/parseBundle';
import { buildModel } from '../core/model/buildModel';

/** Files larger than this are refused with a problem instead of being read. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** At most this many files are read from one folder tree. */
export const MAX_FILES = 20000;

/** Options for loading. */
export interface LoadOptions {
  /** Node and namespace of a single plain dump (default `pasted` / `host`). */
  node?: string;
  namespace?: string;
}

/** The dump files of a capture and the problems met while reading them. */
export interface LoadedCapture {
  files: DumpFile[];
  problems: Problem[];
}

/** Loads one or more paths into dump files. Never throws for bad content; a missing path is a problem. */
export function readCapture(paths: string[], opts: LoadOptions = {}): LoadedCapture {
  const files: DumpFile[] = [];
  const problems: Problem[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      problems.push(problem(p, `cannot read ${p}: no such file or folder`, 'error'));
      continue;
    }
    if (st.isDirectory()) readFolder(p, files, problems);
    else readSingle(p, path.basename(p), opts, files, problems);
  }
  return { files, problems };
}

/** Loads paths and builds the model; read problems come first in `problems`. */
export function loadModel(paths: string[], opts: LoadOptions = {}): Model {
  const { files, problems } = readCapture(paths, opts);
  const model = buildModel(files);
  model.problems.unshift(...problems);
  return model;
}

function problem(file: string, message: string, severity: Problem['severity'] = 'error', code = 'read'): Problem {
  return { code, severity, message, file, line: 1, col: 1, endCol: 2 };
}

function readText(abs: string, rel: string, problems: Problem[]): string | undefined {
  let size: number;
  try {
    size = fs.statSync(abs).size;
  } catch (e) {
    problems.push(problem(rel, `cannot read: ${(e as Error).message}`));
    return undefined;
  }
  if (size > MAX_FILE_BYTES) {
    problems.push(problem(rel, `file is ${(size / 1048576).toFixed(0)} MB, over meshtrace's limit of ${MAX_FILE_BYTES / 1048576} MB; not read (split it per namespace)`));
    return undefined;
  }
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch (e) {
    problems.push(problem(rel, `cannot read: ${(e as Error).message}`));
    return undefined;
  }
}

function readSingle(abs: string, rel: string, opts: LoadOptions, files: DumpFile[], problems: Problem[]): void {
  const text = readText(abs, rel, problems);
  if (text === undefined) return;
  const d = dumpsOfFile(text, rel, opts.node ?? 'pasted', opts.namespace ?? 'host');
  files.push(...d.value);
  problems.push(...d.problems);
}

interface Entry {
  abs: string;
  rel: string;
}

/**
 * The sub-folders and files of a capture folder that count, sorted: hidden entries and
 * node_modules are skipped. The language server finds capture roots with the same listing.
 */
export function listDir(abs: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(abs, { withFileTypes: true });
  } catch {
    return { dirs, files };
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    if (e.isDirectory()) dirs.push(e.name);
    else if (e.isFile()) files.push(e.name);
  }
  return { dirs, files };
}

/**
 * A folder is a capture (`<node>/<namespace>/<file>`) when some sub-folder has sub-folders of
 * its own; a node folder (`<namespace>/<file>`) when its sub-folders hold only files; and a
 * folder of bundles or single dumps when it has no sub-folders.
 */
function readFolder(root: string, files: DumpFile[], problems: Problem[]): void {
  const top = listDir(root);
  const isCapture = top.dirs.some((d) => listDir(path.join(root, d)).dirs.length > 0);
  let count = 0;
  const take = (e: Entry, node: string, namespace: string): void => {
    if (++count > MAX_FILES) {
      if (count === MAX_FILES + 1) problems.push(problem(e.rel, `more than ${MAX_FILES} files in this capture; the rest are not read`));
      return;
    }
    const text = readText(e.abs, e.rel, problems);
    if (text === undefined) return;
    const d = dumpsOfFile(text, e.rel, node, namespace);
    files.push(...d.value);
    problems.push(...d.problems);
  };
  const readNode = (nodeAbs: string, nodeRel: string, nodeName: string): void => {
    const n = listDir(nodeAbs);
    for (const f of n.files) take({ abs: path.join(nodeAbs, f), rel: path.posix.join(nodeRel, f) }, nodeName, '');
    for (const ns of n.dirs) {
      const nsAbs = path.join(nodeAbs, ns);
      const inner = listDir(nsAbs);
      for (const f of inner.files) take({ abs: path.join(nsAbs, f), rel: path.posix.join(nodeRel, ns, f) }, nodeName, ns);
      if (inner.dirs.length) problems.push(problem(path.posix.join(nodeRel, ns), `folders inside a namespace folder are not read (${inner.dirs.join(', ')}); expected <node>/<namespace>/<dump file>`, 'info', 'layout'));
    }
  };
  const base = path.basename(path.resolve(root));
  if (isCapture) {
    for (const f of top.files) {
      // Files beside the node folders: bundles are read, anything else is noted.
      take({ abs: path.join(root, f), rel: f }, 'pasted', 'host');
    }
    for (const d of top.dirs) readNode(path.join(root, d), d, d);
  } else if (top.dirs.length > 0) {
    readNode(root, base, base);
  } else {
    for (const f of top.files) take({ abs: path.join(root, f), rel: f }, 'pasted', 'host');
  }
}
