/** `meshtrace trace`: runs the core's simulator and prints the Trace as text or JSON (cli.md). */
import { loadModel } from '../node/loadCapture';
import { traceQuery } from '../core/sim/simulate';
import type { PacketView, Step, Trace, TraceQuery } from '../core/sim/trace';
import { formatProblem } from '../core/problem';

/** Renders a packet as `src:sport → dst:dport`. */
function pk(p: PacketView): string {
  const a = (ip: string, port?: number): string => (port !== undefined ? `${ip}:${port}` : ip);
  return `${a(p.src, p.sport)} → ${a(p.dst, p.dport)}${p.mark !== '0x0' ? ` mark ${p.mark}` : ''}`;
}

/** One line per step: where, what, the rewrite, and the deciding dump line. */
export function formatStep(s: Step): string {
  const where = `${s.node}/${s.namespace}`;
  const hook = s.table ? ` ${s.table} ${s.chain ?? s.hook}` : s.hook ? ` ${s.hook}` : '';
  const rewrite = s.before && pk(s.before) !== pk(s.packet) ? `  [${pk(s.before)}  ⇒  ${pk(s.packet)}]` : '';
  const at = s.rule ? `  (${s.rule.file}:${s.rule.line})` : '';
  const note = s.note ? `  — ${s.note}` : '';
  return `${where}${hook}: ${s.action}${rewrite}${at}${note}`;
}

/** Renders a whole trace as text. */
export function formatTrace(t: Trace): string[] {
  const q = t.query;
  const out: string[] = [];
  out.push(`trace ${q.proto} ${q.src}${q.proto !== 'icmp' ? `:${q.sport}` : ''} → ${q.dst}${q.dport !== undefined ? `:${q.dport}` : ''} from ${q.node}/${q.namespace}${q.iif ? ` (arriving on ${q.iif})` : ' (sent by a local process)'}`);
  for (const w of t.warnings) out.push(`warning: ${w}`);
  t.outcomes.forEach((o, i) => {
    const f = o.final;
    out.push('');
    out.push(`outcome ${i + 1}: ${o.verdict} (p=${o.probability}) at ${f.node}/${f.namespace}: ${f.src}${f.sport !== undefined ? `:${f.sport}` : ''} → ${f.dst}${f.dport !== undefined ? `:${f.dport}` : ''}`);
    out.push(`  ${o.reason}`);
    for (const s of o.steps) out.push(`  ${formatStep(s)}`);
    if (o.reply) {
      out.push(`  reply: ${o.reply.verdict}: ${o.reply.reason}`);
      for (const s of o.reply.steps) out.push(`    ${formatStep(s)}`);
    }
  });
  return out;
}

/** Options of `meshtrace trace` (cli.md). */
export interface TraceCliOptions extends Omit<TraceQuery, 'sport'> {
  sport?: number;
  json: boolean;
}

/** Runs `meshtrace trace`; returns the exit status. */
export function runTrace(paths: string[], o: TraceCliOptions, out: (s: string) => void, err: (s: string) => void): number {
  const model = loadModel(paths);
  if (!model.files.some((f) => f.kind)) {
    const first = model.problems.find((p) => p.severity === 'error') ?? model.problems[0];
    err(`meshtrace trace: no dump could be read from ${paths.join(', ')}${first ? ` (${formatProblem(first)})` : ''}`);
    return 2;
  }
  const { json, ...q } = o;
  const t = traceQuery(model, q);
  if (t.outcomes.length === 0 && t.warnings.length) {
    err(`meshtrace trace: ${t.warnings[0]}`);
    return 2;
  }
  if (json) out(JSON.stringify(t, null, 2));
  else out(formatTrace(t).join('\n'));
  return 0;
}
