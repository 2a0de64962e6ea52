/**
 * REFERENCE for tests: parseBundle as it was before sections became slices of the bundle
 * (split into lines, joined again). test/unit/parsers/bundle.test.ts compares the two.
 *
 * Splits a meshtrace bundle (what the collector writes) into its dumps. Each section opens with
 *
 *     ### meshtrace node=swarm-manager ns=ingress_sbox cmd=iptables-save -c
 *
 * and holds that command's output verbatim. Lines before the first header are ignored.
 */
import { ProblemSink, type ParseResult } from '../../../src/core/problem';
import type { DumpFile } from '../../../src/core/model/model';

const HEADER = /^### meshtrace(?:\s+(.*))?$/;


/** Splits a bundle into dump files. `file` is the bundle's path relative to the capture. */
export function parseBundleRef(text: string, file: string): ParseResult<DumpFile[]> {
  const sink = new ProblemSink(file);
  const out: DumpFile[] = [];
  let cur: { node: string; namespace: string; cmd?: string; start: number; lines: string[] } | undefined;
  const flush = (): void => {
    if (!cur) return;
    out.push({ path: file, node: cur.node, namespace: cur.namespace, cmd: cur.cmd, lineOffset: cur.start, text: cur.lines.join('\n') + (cur.lines.length ? '\n' : '') });
  };
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const m = HEADER.exec(line);
    if (!m) {
      if (cur) cur.lines.push(line);
      continue;
    }
    flush();
    const attrs = parseAttrs(m[1] ?? '');
    const node = attrs.node ?? '';
    const ns = attrs.ns ?? 'host';
    if (!attrs.node) sink.error('bundle-header', i + 1, 'bundle header without node=: expected `### meshtrace node=<node> ns=<namespace> cmd=<command>`; this section is read as node "pasted"', 1, line.length + 1);
    if (!/^[A-Za-z0-9_.:@-]*$/.test(node) || !/^[A-Za-z0-9_.:@-]+$/.test(ns)) {
      sink.error('bundle-header', i + 1, `node and namespace names may hold letters, digits and . _ : @ - only (got node=${JSON.stringify(node)} ns=${JSON.stringify(ns)}); this section is skipped`, 1, line.length + 1);
      cur = undefined;
      continue;
    }
    cur = { node: node || 'pasted', namespace: ns, cmd: attrs.cmd, start: i + 1, lines: [] };
  }
  flush();
  if (out.length === 0) sink.error('bundle-empty', 1, 'no `### meshtrace node=… ns=… cmd=…` section in this bundle');
  return { value: out, problems: sink.problems };
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
