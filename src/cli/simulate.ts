/** `meshtrace simulate`: runs the full-topology simulation and the doctor, prints text or JSON. */
import { loadModel } from '../node/loadCapture';
import { formatProblem } from '../core/problem';
import { simulateTopology, type CellOutcome, type Entry, type TopologyResult } from '../core/topology/simulate';
import type { Finding } from '../core/topology/findings';

/** Options of `meshtrace simulate`. */
export interface SimulateCliOptions {
  json: boolean;
  client?: string;
  nodes?: string[];
  vips: boolean;
}

/** The JSON document of `simulate --json` (issue 6's contract: entries × outcomes, findings). */
export function simulateJson(r: TopologyResult): unknown {
  return {
    entries: r.entries.map((e) => {
      const base: Record<string, unknown> = { node: e.node, kind: e.kind, proto: e.proto };
      if (e.kind === 'published-port') base.port = e.port;
      else base.vip = e.vip;
      return { ...base, ...e, outcomes: e.outcomes };
    }),
    findings: r.findings,
    summary: r.summary,
    warnings: r.warnings,
  };
}

/** The keys simulateJson puts first in an entry, in its order. */
const LEAD_PORT = ['node', 'kind', 'proto', 'port'];
const LEAD_VIP = ['node', 'kind', 'proto', 'vip'];

/** One entry of simulateJson as JSON text. */
function entryJson(e: Entry): string {
  // When the entry's own keys already start with node, kind, proto, port|vip (as the simulator
  // makes them), simulateJson's copy has the same keys in the same order with the same values:
  // its text is the entry's. Otherwise the copy is made.
  const lead = e.kind === 'published-port' ? LEAD_PORT : LEAD_VIP;
  const keys = Object.keys(e);
  let same = keys.length >= lead.length;
  for (let i = 0; same && i < lead.length; i++) same = keys[i] === lead[i];
  if (same) return JSON.stringify(e);
  const base: Record<string, unknown> = { node: e.node, kind: e.kind, proto: e.proto };
  if (e.kind === 'published-port') base.port = e.port;
  else base.vip = e.vip;
  return JSON.stringify({ ...base, ...e, outcomes: e.outcomes });
}

/**
 * Writes `JSON.stringify(simulateJson(r))` in pieces of about `chunk` characters: the same text,
 * without holding the whole document (hundreds of MB for a large swarm) as one string.
 */
export function writeSimulateJson(r: TopologyResult, write: (s: string) => void, chunk = 1 << 20): void {
  let buf = '{"entries":[';
  for (let i = 0; i < r.entries.length; i++) {
    buf += (i === 0 ? '' : ',') + entryJson(r.entries[i]);
    if (buf.length >= chunk) {
      write(buf);
      buf = '';
    }
  }
  buf += ']';
  // The rest as simulateJson has it (a value JSON leaves out, undefined, drops its key there too).
  const rest: Record<string, unknown> = { findings: r.findings, summary: r.summary, warnings: r.warnings };
  for (const k of Object.keys(rest)) {
    const v = JSON.stringify(rest[k]) as string | undefined;
    if (v !== undefined) buf += `,${JSON.stringify(k)}:${v}`;
  }
  write(buf + '}');
}

function cellText(o: CellOutcome): string {
  const f = o.final;
  const who = o.target?.task ?? `${f.node}/${f.namespace}`;
  const p = `${Math.round(o.probability * 1000) / 10}%`;
  if (o.verdict === 'delivered' && o.target) {
    const reply = o.reply && o.reply.verdict !== 'delivered' ? `  REPLY ${o.reply.verdict.toUpperCase()}: ${o.reply.reason}` : '';
    return `${p} → ${who} (${f.dst}:${f.dport}), seen from ${f.src}${reply}`;
  }
  const at = o.failedAt ? ` at ${o.failedAt.node}/${o.failedAt.namespace}${o.failedAt.chain ? ` ${o.failedAt.table ?? ''} ${o.failedAt.chain}` : ''}: ${o.failedAt.action}${o.failedAt.rule ? ` (${o.failedAt.rule.file}:${o.failedAt.rule.line})` : ''}` : '';
  return `${p} ${o.verdict.toUpperCase()}${o.verdict === 'delivered' ? ` to ${who}, not a task` : ''}${at} — ${o.reason}`;
}

function entryTitle(e: Entry): string {
  if (e.kind === 'vip') return `VIP ${e.vip}:${e.dport}/${e.proto} (${e.service} on ${e.network}) from ${e.from?.task}`;
  return `${e.port}/${e.proto}${e.mode === 'host' ? ' (host mode)' : ''} → ${e.service ?? '?'}:${e.targetPort}`;
}

function findingText(f: Finding): string[] {
  const at = f.at ? `${f.at.file}:${f.at.line}` : `${f.node}/${f.namespace}`;
  const out = [`${at}: ${f.severity}: [${f.kind}] ${f.message}`, `    ${f.explanation}`];
  if (f.fix) out.push(`    fix:     ${f.fix}`);
  if (f.confirm) out.push(`    confirm: ${f.confirm}`);
  return out;
}

/** Renders the result as text: per node, one line per entry and outcome; then the findings. */
export function formatSimulation(r: TopologyResult): string[] {
  const out: string[] = [];
  const s = r.summary;
  out.push(`${s.nodes} nodes, ${s.entries} entries: ${s.ok} ok, ${s.failed} not ok (${s.traces} traces, ${s.classes} port classes); ${r.findings.length} findings`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  let node = '';
  for (const e of r.entries) {
    if (e.node !== node) {
      node = e.node;
      out.push('', `${node}:`);
    }
    out.push(`  ${e.ok ? 'ok  ' : 'FAIL'} ${entryTitle(e)}`);
    if (e.outcomes.length === 0) out.push('       (not traced: the node has no address a client can reach)');
    for (const o of e.outcomes) out.push(`       ${cellText(o)}`);
  }
  if (r.findings.length) {
    out.push('', `findings (${r.findings.length}):`);
    for (const f of r.findings) out.push(...findingText(f).map((l) => `  ${l}`));
  }
  return out;
}

/** Runs `meshtrace simulate`; returns the exit status. */
export function runSimulate(paths: string[], o: SimulateCliOptions, out: (s: string) => void, err: (s: string) => void, write?: (s: string) => void): number {
  const model = loadModel(paths);
  if (!model.files.some((f) => f.kind)) {
    const first = model.problems.find((p) => p.severity === 'error') ?? model.problems[0];
    err(`meshtrace simulate: no dump could be read from ${paths.join(', ')}${first ? ` (${formatProblem(first)})` : ''}`);
    return 2;
  }
  const r = simulateTopology(model, { client: o.client, nodes: o.nodes, vips: o.vips });
  // Compact: a large swarm's matrix runs to hundreds of MB indented. With a raw writer the JSON
  // goes out in pieces (then the line break `out` would add); the bytes are the same.
  if (o.json && write) {
    writeSimulateJson(r, write);
    write('\n');
  } else if (o.json) {
    const parts: string[] = [];
    writeSimulateJson(r, (s) => parts.push(s));
    out(parts.join(''));
  } else out(formatSimulation(r).join('\n'));
  return 0;
}
