/**
 * The simulation matrix as plain data: one row per entry of the full-topology simulation (a
 * published port on a node, or a VIP seen from a task), one column per target (each task reached,
 * then one column per way of failing), and per cell the probability, a label and a colour class.
 * Sorting and filtering live here too. No `vscode`, no DOM, no Node: the host, the webview script
 * and plain mocha share it.
 */
import type { CellOutcome, Entry, TopologyResult } from '../core/topology/simulate';

/** How a cell is coloured: every outcome reached a task and got its reply back, or not. */
export type CellTone = 'ok' | 'reply-failed' | 'not-a-task' | 'failed' | 'empty';

/** One column: a task reached, or a way of failing (`dropped`, `rejected`, `no-route`). */
export interface MatrixColumn {
  /** Stable key (`task:<full task name>`, `fail:<verdict>`, `other:<node>/<namespace>`). */
  key: string;
  /** Short label (`web.1`: the task name without its id). */
  label: string;
  /** Full text for the tooltip. */
  title: string;
  kind: 'task' | 'other' | 'failure';
  service?: string;
}

/** One cell: the share of the entry's connections that ended in the column. */
export interface MatrixCell {
  probability: number;
  /** `50%`. */
  label: string;
  tone: CellTone;
  /** Plain text: each outcome of the cell on one line. */
  title: string;
  /** Indexes into the entry's outcomes. */
  outcomes: number[];
}

/** One row: an entry of the simulation. */
export interface MatrixRow {
  /** Index of the entry in the simulation result (what a click sends back). */
  entry: number;
  node: string;
  kind: Entry['kind'];
  /** `8080/tcp` or `VIP 10.0.1.12:80/tcp`. */
  label: string;
  /** `→ web:80`, or `from web.1`. */
  detail: string;
  service?: string;
  proto: Entry['proto'];
  /** Published port or VIP port, for sorting. */
  port: number;
  ok: boolean;
  /** Cells by column key (columns without a cell are empty). */
  cells: Record<string, MatrixCell>;
}

/** The whole matrix with the values the filters offer. */
export interface MatrixData {
  columns: MatrixColumn[];
  rows: MatrixRow[];
  nodes: string[];
  services: string[];
  /** One line: `3 nodes, 5 entries: 5 ok, 0 not ok; 1 finding`. */
  summary: string;
  warnings: string[];
}

/** What the rows can be sorted by: a fixed field, or a column's probability (`col:<key>`). */
export type SortKey = 'node' | 'entry' | 'service' | 'status' | `col:${string}`;

/** The filter the webview's controls set; empty fields match everything. */
export interface MatrixFilter {
  node?: string;
  service?: string;
  /** Case-insensitive text searched in the row's node, label and detail. */
  text?: string;
  /** Only rows that are not ok. */
  failedOnly?: boolean;
}

/** `web.1.udlzvsraha1xwcsa212ofldjg` → `web.1` (Swarm task names are `<service>.<slot>.<task id>`). */
export function shortTaskName(name: string): string {
  const m = /^(.+)\.([0-9a-z]{25})$/.exec(name);
  return m ? m[1] : name;
}

/** `0.5` → `50%`; small non-zero shares keep one decimal. */
export function percent(p: number): string {
  const v = Math.round(p * 1000) / 10;
  return `${v}%`;
}

/** The column an outcome lands in. */
export function columnOf(o: CellOutcome): MatrixColumn {
  if (o.verdict === 'delivered' && o.target?.task) {
    return { key: `task:${o.target.task}`, label: shortTaskName(o.target.task), title: `task ${o.target.task} on ${o.target.node}`, kind: 'task', service: o.target.service };
  }
  if (o.verdict === 'delivered') {
    const where = `${o.final.node}/${o.final.namespace}`;
    return { key: `other:${where}`, label: where, title: `delivered to ${where}, which is not a task`, kind: 'other' };
  }
  return { key: `fail:${o.verdict}`, label: o.verdict, title: `the connection is ${o.verdict}`, kind: 'failure' };
}

/** The colour of one outcome. */
export function outcomeTone(o: CellOutcome): CellTone {
  if (o.verdict !== 'delivered') return 'failed';
  if (!o.target?.task) return 'not-a-task';
  if (o.reply && o.reply.verdict !== 'delivered') return 'reply-failed';
  return 'ok';
}

const TONE_RANK: Record<CellTone, number> = { empty: 0, ok: 1, 'not-a-task': 2, 'reply-failed': 3, failed: 4 };

/** One outcome as a line of plain text (for tooltips). */
export function outcomeText(o: CellOutcome): string {
  const p = percent(o.probability);
  const f = o.final;
  if (o.verdict === 'delivered') {
    const who = o.target?.task ?? `${f.node}/${f.namespace}`;
    const reply = o.reply && o.reply.verdict !== 'delivered' ? `; reply ${o.reply.verdict}: ${o.reply.reason}` : '';
    return `${p} delivered to ${who} (${f.dst}${f.dport !== undefined ? `:${f.dport}` : ''}), seen from ${f.src}${reply}`;
  }
  const a = o.failedAt;
  const at = a ? ` at ${a.node}/${a.namespace}${a.chain ? ` ${a.table ?? ''} ${a.chain}` : ''}: ${a.action}${a.rule ? ` (${a.rule.file}:${a.rule.line})` : ''}` : '';
  return `${p} ${o.verdict}${at}: ${o.reason}`;
}

function entryLabel(e: Entry): { label: string; detail: string; port: number } {
  if (e.kind === 'vip') {
    const from = e.from ? shortTaskName(e.from.task) : '?';
    return { label: `VIP ${e.vip ?? '?'}:${e.dport ?? '?'}/${e.proto}`, detail: `${e.service ?? '?'} on ${e.network ?? '?'}, from ${from}`, port: e.dport ?? 0 };
  }
  return { label: `${e.port ?? '?'}/${e.proto}${e.mode === 'host' ? ' (host)' : ''}`, detail: `→ ${e.service ?? '?'}:${e.targetPort ?? '?'}`, port: e.port ?? 0 };
}

/** Builds the matrix of a simulation result. Columns: tasks (by name), other places, then failures. */
export function buildMatrix(r: Pick<TopologyResult, 'entries' | 'findings' | 'summary' | 'warnings'>): MatrixData {
  const columns = new Map<string, MatrixColumn>();
  const rows: MatrixRow[] = r.entries.map((e, i) => {
    const cells: Record<string, MatrixCell> = {};
    e.outcomes.forEach((o, k) => {
      const col = columnOf(o);
      if (!columns.has(col.key)) columns.set(col.key, col);
      const tone = outcomeTone(o);
      const c = cells[col.key] ?? { probability: 0, label: '', tone: 'empty', title: '', outcomes: [] };
      c.probability += o.probability;
      c.label = percent(c.probability);
      if (TONE_RANK[tone] > TONE_RANK[c.tone]) c.tone = tone;
      c.title = c.title ? `${c.title}\n${outcomeText(o)}` : outcomeText(o);
      c.outcomes.push(k);
      cells[col.key] = c;
    });
    const l = entryLabel(e);
    return { entry: i, node: e.node, kind: e.kind, label: l.label, detail: l.detail, service: e.service, proto: e.proto, port: l.port, ok: e.ok, cells };
  });
  const rank = { task: 0, other: 1, failure: 2 };
  const cols = [...columns.values()].sort((a, b) => rank[a.kind] - rank[b.kind] || a.label.localeCompare(b.label, 'en', { numeric: true }) || a.key.localeCompare(b.key));
  const s = r.summary;
  const nf = r.findings.length;
  return {
    columns: cols,
    rows,
    nodes: [...new Set(rows.map((x) => x.node))].sort(),
    services: [...new Set(rows.map((x) => x.service).filter((x): x is string => !!x))].sort(),
    summary: `${s.nodes} nodes, ${s.entries} entries: ${s.ok} ok, ${s.failed} not ok; ${nf} finding${nf === 1 ? '' : 's'}`,
    warnings: r.warnings,
  };
}

/** The rows the filter keeps, in their order. */
export function filterRows(rows: readonly MatrixRow[], f: MatrixFilter): MatrixRow[] {
  const text = f.text?.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (!f.node || r.node === f.node) &&
      (!f.service || r.service === f.service) &&
      (!f.failedOnly || !r.ok) &&
      (!text || `${r.node} ${r.label} ${r.detail}`.toLowerCase().includes(text)),
  );
}

function compareEntry(a: MatrixRow, b: MatrixRow): number {
  return a.kind.localeCompare(b.kind) || a.port - b.port || a.label.localeCompare(b.label, 'en', { numeric: true });
}

/** Sorts rows (a copy) by a key; ties fall back to node, then entry, so the order is stable. */
export function sortRows(rows: readonly MatrixRow[], key: SortKey, descending = false): MatrixRow[] {
  const byNode = (a: MatrixRow, b: MatrixRow): number => a.node.localeCompare(b.node, 'en', { numeric: true });
  const tie = (a: MatrixRow, b: MatrixRow): number => byNode(a, b) || compareEntry(a, b) || a.detail.localeCompare(b.detail) || a.entry - b.entry;
  let primary: (a: MatrixRow, b: MatrixRow) => number;
  if (key === 'node') primary = byNode;
  else if (key === 'entry') primary = compareEntry;
  else if (key === 'service') primary = (a, b) => (a.service ?? '').localeCompare(b.service ?? '');
  else if (key === 'status') primary = (a, b) => Number(a.ok) - Number(b.ok);
  else {
    const col = key.slice(4);
    primary = (a, b) => (a.cells[col]?.probability ?? 0) - (b.cells[col]?.probability ?? 0);
  }
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => sign * primary(a, b) || tie(a, b));
}

/** Which outcome of a trace a clicked cell stands for: the first whose verdict and place match. */
export function outcomeForCell(entry: Pick<Entry, 'outcomes'>, cell: MatrixCell | undefined, trace: { outcomes: readonly { verdict: string; final: { node: string; namespace: string } }[] }): number {
  const o = cell ? entry.outcomes[cell.outcomes[0]] : undefined;
  if (!o) return 0;
  const hit = trace.outcomes.findIndex((t) => t.verdict === o.verdict && t.final.node === o.final.node && t.final.namespace === o.final.namespace);
  return Math.max(0, hit);
}
