/**
 * Splits a meshtrace bundle (what the collector writes) into its dumps. Each section opens with
 *
 *     ### meshtrace node=swarm-manager ns=ingress_sbox cmd=iptables-save -c
 *
 * and holds that command's output verbatim. Lines before the first header are ignored.
 */
import { ProblemSink, type ParseResult } from '../problem';
import type { DumpFile } from '../model/model';

const HEADER = /^### meshtrace(?:\s+(.*))?$/;

/** True when the text is a bundle (a header line within its first 64 KB). */
export function isBundle(text: string): boolean {
  const head = text.slice(0, 65536);
  return /(^|\n)### meshtrace\s/.test(head);
}

/**
 * Splits a bundle into dump files. `file` is the bundle's path relative to the capture. Each
 * section's text is its lines, each ending in `\n` (a `\r` before it removed, as for CRLF files),
 * taken as a slice of the bundle where it has no `\r` (captures are tens of megabytes).
 */
export function parseBundle(text: string, file: string): ParseResult<DumpFile[]> {
  const sink = new ProblemSink(file);
  const out: DumpFile[] = [];
  let cur: { node: string; namespace: string; cmd?: string; start: number; from: number } | undefined;
  const flush = (end: number): void => {
    if (!cur) return;
    out.push({ path: file, node: cur.node, namespace: cur.namespace, cmd: cur.cmd, lineOffset: cur.start, text: sectionText(text, cur.from, end) });
  };
  const n = text.length;
  let pos = 0;
  // Lines as `text.split('\n')` gives them, without the empty one after a final newline.
  for (let i = 0; pos < n; i++) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? n : nl;
    const next = nl < 0 ? n : nl + 1;
    const m = text.startsWith('### meshtrace', pos) ? HEADER.exec(text.slice(pos, end).replace(/\r$/, '')) : null;
    if (!m) {
      pos = next;
      continue;
    }
    flush(pos);
    const lineLength = end - pos - (text.charCodeAt(end - 1) === 13 ? 1 : 0);
    const attrs = parseAttrs(m[1] ?? '');
    const node = attrs.node ?? '';
    const ns = attrs.ns ?? 'host';
    if (!attrs.node) sink.error('bundle-header', i + 1, 'bundle header without node=: expected `### meshtrace node=<node> ns=<namespace> cmd=<command>`; this section is read as node "pasted"', 1, lineLength + 1);
    if (!/^[A-Za-z0-9_.:@-]*$/.test(node) || !/^[A-Za-z0-9_.:@-]+$/.test(ns)) {
      sink.error('bundle-header', i + 1, `node and namespace names may hold letters, digits and . _ : @ - only (got node=${JSON.stringify(node)} ns=${JSON.stringify(ns)}); this section is skipped`, 1, lineLength + 1);
      cur = undefined;
    } else cur = { node: node || 'pasted', namespace: ns, cmd: attrs.cmd, start: i + 1, from: next };
    pos = next;
  }
  flush(n);
  if (out.length === 0) sink.error('bundle-empty', 1, 'no `### meshtrace node=… ns=… cmd=…` section in this bundle');
  return { value: out, problems: sink.problems };
}

/** The lines of `text[from, end)`, each ending in `\n`, without the `\r` of CRLF line ends. */
function sectionText(text: string, from: number, end: number): string {
  if (end <= from) return '';
  let s = text.slice(from, end);
  if (s.charCodeAt(s.length - 1) !== 10) s += '\n';
  return s.indexOf('\r') < 0 ? s : s.replace(/\r\n/g, '\n');
}

/** Reads `key=value` pairs; `cmd=` takes the rest of the line. */
function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let rest = s.trim();
  while (rest.length) {
    const m = /^([a-z]+)=/.exec(rest);
    if (!m) break;
    const key = m[1];
    rest = rest.slice(m[0].length);
    if (key === 'cmd') {
      out.cmd = rest.trim();
      break;
    }
    const sp = rest.search(/\s/);
    out[key] = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? '' : rest.slice(sp).trimStart();
  }
  return out;
}

/**
 * The dumps a file holds: a bundle's sections (with the bundle's problems), or else the whole
 * text as one dump of `node`/`namespace`. How the loader, and the language server for a file
 * open on its own, read any file.
 */
export function dumpsOfFile(text: string, file: string, node: string, namespace: string): ParseResult<DumpFile[]> {
  if (isBundle(text)) return parseBundle(text, file);
  return { value: [{ path: file, node, namespace, text, lineOffset: 0 }], problems: [] };
}
