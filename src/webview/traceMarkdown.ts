/**
 * Export Trace as Markdown: the query, the warnings, and per outcome its verdict, probability,
 * where it ended and a table of its steps (and of its reply's) with the deciding dump line. Every
 * string from a dump is escaped, so a rule comment holding HTML stays text in any renderer.
 */
import type { Step, Trace } from '../core/sim/trace';
import { endpoint, percent, queryLine } from './diagramModel';
import { escapeMarkdown as md } from './escape';

function packet(s: Step): string {
  const p = s.packet;
  const now = `${endpoint(p.src, p.sport)} → ${endpoint(p.dst, p.dport)}${p.mark !== '0x0' ? ` mark ${p.mark}` : ''}`;
  if (!s.before) return md(now);
  const b = s.before;
  const was = `${endpoint(b.src, b.sport)} → ${endpoint(b.dst, b.dport)}${b.mark !== '0x0' ? ` mark ${b.mark}` : ''}`;
  return was === now ? md(now) : `${md(was)} ⇒ **${md(now)}**`;
}

function table(steps: Step[]): string[] {
  const out = ['| # | node/namespace | where | action | packet | dump line |', '|---|---|---|---|---|---|'];
  steps.forEach((s, i) => {
    const where = s.table ? `${s.table} ${s.chain ?? s.hook ?? ''}` : (s.hook ?? '');
    const line = s.rule ? `${md(`${s.rule.file}:${s.rule.line}`)}: ${md(s.rule.text)}` : '';
    const action = `${md(s.action)}${s.note ? ` — ${md(s.note)}` : ''}`;
    out.push(`| ${i + 1} | ${md(`${s.node}/${s.namespace}`)} | ${md(where.trim())} | ${action} | ${packet(s)} | ${line} |`);
  });
  return out;
}

/** The whole trace as a Markdown document. */
export function traceToMarkdown(t: Trace): string {
  const out: string[] = [`# meshtrace trace`, '', `**Query:** ${md(queryLine(t))}`, ''];
  for (const w of t.warnings) out.push(`> warning: ${md(w)}`, '');
  if (t.outcomes.length === 0) out.push('No outcome: the packet could not be traced.', '');
  t.outcomes.forEach((o, i) => {
    const f = o.final;
    out.push(`## Outcome ${i + 1}: ${o.verdict} (${percent(o.probability)})`, '');
    out.push(`Ends at ${md(`${f.node}/${f.namespace}`)} as ${md(`${endpoint(f.src, f.sport)} → ${endpoint(f.dst, f.dport)}`)}: ${md(o.reason)}`, '');
    out.push(...table(o.steps), '');
    if (o.reply) {
      out.push(`### Reply: ${o.reply.verdict}`, '', md(o.reply.reason), '');
      out.push(...table(o.reply.steps), '');
    }
  });
  return out.join('\n');
}
