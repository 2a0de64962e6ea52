/**
 * The Trace tree as plain items: the query, its warnings, then every outcome (verdict,
 * probability, where it ended) → its steps (the reply's under a "reply" item), each step showing
 * the packet before → after and the dump line that decided it. Pure: renders the Trace.
 */
import type { PacketView, Step, StepKind, Trace } from '../core/sim/trace';
import { endpoint, percent, queryLine } from '../webview/diagramModel';
import { contextOf, type ViewItem } from './viewItem';

/** `src:sport → dst:dport mark 0x100`, the way the CLI prints a packet. */
export function packetText(p: PacketView): string {
  return `${p.proto} ${endpoint(p.src, p.sport)} → ${endpoint(p.dst, p.dport)}${p.mark !== '0x0' ? ` mark ${p.mark}` : ''}${p.iif ? ` in ${p.iif}` : ''}${p.oif ? ` out ${p.oif}` : ''}`;
}

const KIND_ICON: Record<StepKind, string> = {
  netfilter: 'shield',
  policy: 'shield',
  route: 'milestone',
  ipvs: 'split-horizontal',
  link: 'plug',
  bridge: 'type-hierarchy',
  vxlan: 'cloud',
  conntrack: 'history',
  deliver: 'pass',
  drop: 'error',
  note: 'info',
};

function rewrote(s: Step): boolean {
  if (!s.before) return false;
  const a = s.before;
  const b = s.packet;
  return a.src !== b.src || a.dst !== b.dst || a.sport !== b.sport || a.dport !== b.dport || a.mark !== b.mark || a.proto !== b.proto;
}

function stepItem(s: Step, outcome: number, index: number, id: string): ViewItem {
  const where = s.table ? `${s.table} ${s.chain ?? s.hook ?? ''}`.trim() : (s.hook ?? '');
  const changed = rewrote(s);
  const before = s.before ? packetText(s.before) : undefined;
  const after = packetText(s.packet);
  const tooltip = [`${s.node}/${s.namespace}${where ? ` · ${where}` : ''}`, s.action, changed ? `${before}  ⇒  ${after}` : after, s.rule ? `${s.rule.file}:${s.rule.line}  ${s.rule.text}` : '', s.note ?? ''].filter(Boolean).join('\n');
  return {
    id,
    label: `${index + 1}. ${where ? `${where}: ` : ''}${s.action}`,
    description: `${s.node}/${s.namespace}${changed ? ` · ⇒ ${endpoint(s.packet.src, s.packet.sport)} → ${endpoint(s.packet.dst, s.packet.dport)}` : ''}`,
    tooltip,
    icon: KIND_ICON[s.kind] ?? 'circle-small',
    iconColor: s.kind === 'drop' ? 'problemsErrorIcon.foreground' : changed ? 'charts.orange' : undefined,
    source: s.rule ? { file: s.rule.file, line: s.rule.line } : undefined,
    step: { outcome, index },
    contextValue: contextOf(`step${changed ? 'Rewrite' : ''}`, { source: s.rule }),
    children: () => {
      const out: ViewItem[] = [];
      if (changed && before) out.push({ id: `${id}/before`, label: `before: ${before}`, icon: 'arrow-small-left', contextValue: 'packet' });
      out.push({ id: `${id}/after`, label: `${changed ? 'after' : 'packet'}: ${after}`, icon: changed ? 'arrow-small-right' : 'mail', contextValue: 'packet' });
      if (s.rule) out.push({ id: `${id}/rule`, label: s.rule.text, description: `${s.rule.file}:${s.rule.line}`, icon: 'symbol-field', source: { file: s.rule.file, line: s.rule.line }, step: { outcome, index }, contextValue: contextOf('stepRule', { source: true }) });
      if (s.note) out.push({ id: `${id}/note`, label: s.note, icon: 'note', contextValue: 'note' });
      return out;
    },
  };
}

/** The Trace tree of a trace. */
export function traceItems(t: Trace): ViewItem[] {
  const out: ViewItem[] = [{ id: 'query', label: queryLine(t), icon: 'search', contextValue: 'query', tooltip: queryLine(t) }];
  t.warnings.forEach((w, i) => out.push({ id: `warning/${i}`, label: w, icon: 'warning', iconColor: 'problemsWarningIcon.foreground', contextValue: 'warning', tooltip: w }));
  if (!t.outcomes.length) out.push({ id: 'none', label: 'No outcome: the packet could not be traced', icon: 'circle-slash', contextValue: 'none' });
  t.outcomes.forEach((o, i) => {
    const f = o.final;
    const id = `outcome/${i}`;
    out.push({
      id,
      label: `${i + 1}. ${o.verdict} ${percent(o.probability)}`,
      description: `at ${f.node}/${f.namespace} ${endpoint(f.src, f.sport)} → ${endpoint(f.dst, f.dport)}`,
      tooltip: `${o.verdict} with probability ${o.probability}\n${o.reason}`,
      icon: o.verdict === 'delivered' ? 'pass-filled' : 'error',
      iconColor: o.verdict === 'delivered' ? 'testing.iconPassed' : 'testing.iconFailed',
      contextValue: `outcome+${o.verdict}`,
      step: { outcome: i, index: 0 },
      expanded: i === 0,
      children: () => {
        const steps = o.steps.map((s, k) => stepItem(s, i, k, `${id}/step/${k}`));
        if (o.reply) {
          const r = o.reply;
          const base = o.steps.length;
          steps.push({
            id: `${id}/reply`,
            label: `reply: ${r.verdict}`,
            description: `at ${r.final.node}/${r.final.namespace}`,
            tooltip: r.reason,
            icon: 'reply',
            contextValue: `reply+${r.verdict}`,
            children: () => r.steps.map((s, k) => stepItem(s, i, base + k, `${id}/reply/${k}`)),
          });
        }
        return steps;
      },
    });
  });
  return out;
}
