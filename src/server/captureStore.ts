/**
 * The captures the language server has loaded. A rule file opened in the editor belongs to the
 * capture around it: walking up from `<capture>/<node>/<namespace>/<file>` (or a node folder
 * `<node>/<namespace>/<file>`), the server loads every dump of that capture with the same loader
 * as the CLI, puts the editor's unsaved text of open files over the disk text, and builds one
 * model, cached until a file of the capture or an open document in it changes. A bundle or a dump
 * outside any capture is a capture of its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DumpFile, Model } from '../core/model/model';
import { buildModel } from '../core/model/buildModel';
import { dumpsOfFile, isBundle } from '../core/parsers/parseBundle';
import { CaptureIndex } from '../core/lang/captureIndex';
import type { DocPlace } from '../core/lang/ruleDoc';
import { listDir, readCapture } from '../node/loadCapture';

/** Where a document sits. */
export interface Located {
  /** Capture folder, node folder, or the file itself. */
  root: string;
  shape: 'capture' | 'node' | 'file';
  /** The document's path as the model names it. */
  rel: string;
  /** Node and namespace of a plain dump (undefined for bundles). */
  place?: DocPlace;
}

/** An open document's text, by absolute path. */
export interface OpenText {
  path: string;
  text: string;
  version: number;
}

/** A loaded capture. */
export interface LoadedCapture {
  root: string;
  shape: Located['shape'];
  model: Model;
  index: CaptureIndex;
  millis: number;
}

interface Entry extends LoadedCapture {
  overlayKey: string;
  diskKey: string;
  diskCheckedAt: number;
}

/** At most this many files in a folder tree taken for a capture (a wrong guess stays cheap). */
const MAX_CAPTURE_FILES = 5000;
/** How long a disk listing is trusted before it is checked again (file watchers usually tell sooner). */
const DISK_RECHECK_MS = 2000;

/**
 * Whether `dir` is laid out as `depth` levels of folders over files: depth 2 is a capture
 * (`<node>/<namespace>/<file>`), depth 1 a node folder (`<namespace>/<file>`). No deeper folder
 * may exist, and the tree holds at most MAX_CAPTURE_FILES files.
 */
function hasLayout(dir: string, depth: number): boolean {
  const key = `${depth}:${dir}`;
  const hit = layoutCache.get(key);
  if (hit && Date.now() - hit.at < 5000) return hit.ok;
  const ok = hasLayoutUncached(dir, depth);
  if (layoutCache.size > 1000) layoutCache.clear();
  layoutCache.set(key, { at: Date.now(), ok });
  return ok;
}

const layoutCache = new Map<string, { at: number; ok: boolean }>();

function hasLayoutUncached(dir: string, depth: number): boolean {
  const resolved = path.resolve(dir);
  if (resolved === path.parse(resolved).root || resolved === os.homedir()) return false;
  let files = 0;
  const walk = (d: string, level: number): boolean => {
    const { dirs, files: f } = listDir(d);
    files += f.length;
    if (files > MAX_CAPTURE_FILES) return false;
    if (level === depth) return dirs.length === 0;
    return dirs.every((x) => walk(path.join(d, x), level + 1));
  };
  return walk(dir, 0);
}

/** The loaded captures, and where each document belongs. */
export class CaptureStore {
  private readonly entries = new Map<string, Entry>();
  private readonly located = new Map<string, { at: number; loc: Located }>();

  constructor(private readonly openTexts: () => OpenText[]) {}

  /** Finds the capture a file belongs to. Cheap after the first call (cached a few seconds). */
  locate(file: string, text?: string): Located {
    const abs = path.resolve(file);
    const hit = this.located.get(abs);
    if (hit && Date.now() - hit.at < 5000) return hit.loc;
    const loc = this.locateUncached(abs, text);
    this.located.set(abs, { at: Date.now(), loc });
    return loc;
  }

  private locateUncached(abs: string, text?: string): Located {
    const base = path.basename(abs);
    if (text !== undefined && isBundle(text)) return { root: abs, shape: 'file', rel: base };
    const nsDir = path.dirname(abs);
    const nodeDir = path.dirname(nsDir);
    const capDir = path.dirname(nodeDir);
    const ns = path.basename(nsDir);
    const node = path.basename(nodeDir);
    if (capDir !== nodeDir && hasLayout(capDir, 2)) {
      return { root: capDir, shape: 'capture', rel: [node, ns, base].join('/'), place: { node, namespace: ns } };
    }
    if (nodeDir !== nsDir && hasLayout(nodeDir, 1)) {
      return { root: nodeDir, shape: 'node', rel: [node, ns, base].join('/'), place: { node, namespace: ns } };
    }
    // A lone dump: node `pasted`, namespace `host`, as the loader reads a single file.
    return { root: abs, shape: 'file', rel: base, place: { node: 'pasted', namespace: 'host' } };
  }

  /** Absolute path of a model file path (`Source.file`) of a capture. */
  static toPath(loc: Pick<Located, 'root' | 'shape'>, rel: string): string {
    const base = loc.shape === 'capture' ? loc.root : path.dirname(loc.root);
    return path.join(base, ...rel.split('/'));
  }

  /** The capture of a located document, loaded or taken from the cache. `text` is the document's own text. */
  get(loc: Located, text: string, version: number): LoadedCapture {
    const overlays = loc.shape === 'file' ? [] : this.overlaysOf(loc);
    const overlayKey = loc.shape === 'file' ? `${version}` : overlays.map((o) => `${o.rel}@${o.version}`).join('|');
    const old = this.entries.get(loc.root);
    if (old && old.overlayKey === overlayKey) {
      if (loc.shape === 'file' || Date.now() - old.diskCheckedAt < DISK_RECHECK_MS) return old;
      const diskKey = this.diskKey(loc.root, loc.shape);
      old.diskCheckedAt = Date.now();
      if (diskKey === old.diskKey) return old;
    }
    const t0 = Date.now();
    let files: DumpFile[];
    let readProblems: Model['problems'] = [];
    if (loc.shape === 'file') {
      files = dumpsOfFile(text, loc.rel, 'pasted', 'host').value;
    } else {
      const read = readCapture([loc.root]);
      files = read.files;
      readProblems = read.problems;
      for (const o of overlays) {
        // The editor's text wins over the disk's, in the file's place: the loader's order decides
        // which of two dumps of one kind the model uses. A bundle's sections are replaced as a whole.
        const at = files.findIndex((f) => f.path === o.rel);
        const was = at >= 0 ? files[at] : undefined;
        const mine = dumpsOfFile(o.text, o.rel, was?.node ?? o.place?.node ?? 'pasted', was?.namespace ?? o.place?.namespace ?? 'host').value;
        const rest = files.filter((f) => f.path !== o.rel);
        files = at >= 0 ? [...rest.slice(0, at), ...mine, ...rest.slice(at)] : [...rest, ...mine];
      }
    }
    const model = buildModel(files);
    model.problems.unshift(...readProblems);
    const entry: Entry = {
      root: loc.root,
      shape: loc.shape,
      model,
      index: new CaptureIndex(model),
      millis: Date.now() - t0,
      overlayKey,
      diskKey: loc.shape === 'file' ? '' : this.diskKey(loc.root, loc.shape),
      diskCheckedAt: Date.now(),
    };
    this.entries.set(loc.root, entry);
    return entry;
  }

  /** The loaded capture at `root`, without loading. */
  peek(root: string): LoadedCapture | undefined {
    return this.entries.get(root);
  }

  /** Forgets one capture (or all), so the next question reloads it. */
  invalidate(root?: string): void {
    if (root === undefined) {
      this.entries.clear();
      this.located.clear();
    } else {
      this.entries.delete(root);
      for (const [k, v] of this.located) if (v.loc.root === root) this.located.delete(k);
    }
  }

  /** Roots of loaded captures that contain a path (a changed file on disk). */
  rootsContaining(file: string): string[] {
    const abs = path.resolve(file);
    const out: string[] = [];
    for (const e of this.entries.values()) {
      if (e.shape === 'file') continue;
      const base = e.root + path.sep;
      if (abs === e.root || abs.startsWith(base)) out.push(e.root);
    }
    return out;
  }

  /** Roots of every loaded folder capture. */
  roots(): string[] {
    return [...this.entries.values()].filter((e) => e.shape !== 'file').map((e) => e.root);
  }

  private overlaysOf(loc: Located): (OpenText & { rel: string; place?: DocPlace })[] {
    const out: (OpenText & { rel: string; place?: DocPlace })[] = [];
    for (const o of this.openTexts()) {
      if (!o.path.startsWith(loc.root + path.sep)) continue;
      const l = this.locate(o.path, o.text);
      if (l.root !== loc.root) continue;
      out.push({ ...o, rel: l.rel, place: l.place });
    }
    return out.sort((a, b) => a.rel.localeCompare(b.rel));
  }

  /** Names, sizes and times of the files under a capture (what decides whether to reload it). */
  private diskKey(root: string, shape: Located['shape']): string {
    const parts: string[] = [];
    const depth = shape === 'capture' ? 2 : 1;
    const walk = (d: string, level: number): void => {
      const { dirs, files } = listDir(d);
      for (const f of files) {
        try {
          const st = fs.statSync(path.join(d, f));
          parts.push(`${path.relative(root, path.join(d, f))}:${st.size}:${st.mtimeMs}`);
        } catch {
          parts.push(`${f}:gone`);
        }
      }
      if (level < depth) for (const x of dirs) walk(path.join(d, x), level + 1);
    };
    walk(root, 0);
    return parts.sort().join('\n');
  }
}
