/**
 * The doctor's findings as plain data for VS Code: tree items for the Findings view (by severity,
 * then node) and diagnostics for the Problems panel (file, 0-based line, severity, message). No
 * `vscode` here, so plain mocha tests it.
 */
import type { Severity } from '../core/problem';
import type { Finding } from '../core/topology/findings';
import { contextOf, type ViewItem } from './viewItem';

/** One Problems-panel entry, before it becomes a `vscode.Diagnostic`. */
export interface FindingDiagnostic {
  /** The dump file (a capture path, as in the model). */
  file: string;
  /** 0-based line. */
  line: number;
  severity: Severity;
  /** First line: the finding; then its explanation and the fix/confirm commands. */
  message: string;
  /** The finding's kind (`missing-dnat`). */
  code: string;
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const ICON: Record<Severity, { icon: string; color: string }> = {
  error: { icon: 'error', color: 'problemsErrorIcon.foreground' },
  warning: { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  info: { icon: 'info', color: 'problemsInfoIcon.foreground' },
};

/** The full text of a finding (for tooltips and the Problems panel). */
export function findingText(f: Finding): string {
  const out = [`[${f.kind}] ${f.message}`, f.explanation];
  if (f.expected) out.push(`expected: ${f.expected}`);
  if (f.fix) out.push(`fix: ${f.fix}`);
  if (f.confirm) out.push(`confirm: ${f.confirm}`);
  return out.join('\n');
}

/**
 * The findings as diagnostics. A finding without a dump line goes to `fallback(node, namespace)`
 * (a dump of that namespace, line 0); when that has none either, it is left out (the tree has it).
 */
export function findingDiagnostics(findings: readonly Finding[], fallback: (node: string, namespace: string) => string | undefined = () => undefined): FindingDiagnostic[] {
  const out: FindingDiagnostic[] = [];
  for (const f of findings) {
    const file = f.at?.file ?? fallback(f.node, f.namespace);
    if (!file) continue;
    out.push({ file, line: f.at ? Math.max(0, f.at.line - 1) : 0, severity: f.severity, message: findingText(f), code: f.kind });
  }
  return out;
}

/** Tree items: one group per severity present (errors first), each finding under it, with its fix. */
export function findingItems(findings: readonly Finding[]): ViewItem[] {
  const sorted = findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => ORDER[a.f.severity] - ORDER[b.f.severity] || a.f.node.localeCompare(b.f.node, 'en', { numeric: true }) || a.i - b.i);
  const groups = new Map<Severity, { f: Finding; i: number }[]>();
  for (const x of sorted) {
    const g = groups.get(x.f.severity) ?? [];
    g.push(x);
    groups.set(x.f.severity, g);
  }
  const label: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };
  return [...groups.entries()].map(([sev, list]) => ({
    id: `findings/${sev}`,
    label: label[sev],
    description: String(list.length),
    icon: ICON[sev].icon,
    iconColor: ICON[sev].color,
    contextValue: 'findingGroup',
    expanded: sev !== 'info',
    children: () => list.map(({ f, i }) => findingItem(f, i)),
  }));
}

function findingItem(f: Finding, i: number): ViewItem {
  const source = f.at ? { file: f.at.file, line: f.at.line } : undefined;
  const kids: ViewItem[] = [];
  const add = (k: string, label: string, description?: string, icon = 'dash'): void => {
    kids.push({ id: `finding/${i}/${k}`, label, description, tooltip: description ? `${label} ${description}` : label, icon, contextValue: 'findingDetail', source });
  };
  add('why', f.explanation, undefined, 'info');
  if (f.at) add('at', `${f.at.file}:${f.at.line}`, f.at.text, 'go-to-file');
  if (f.expected) add('expected', 'expected:', f.expected, 'symbol-event');
  if (f.fix) add('fix', 'fix:', f.fix, 'tools');
  if (f.confirm) add('confirm', 'confirm:', f.confirm, 'terminal');
  return {
    id: `finding/${i}`,
    label: f.message,
    description: `${f.node}/${f.namespace} · ${f.kind}`,
    tooltip: findingText(f),
    icon: ICON[f.severity].icon,
    iconColor: ICON[f.severity].color,
    contextValue: contextOf('finding', { source }),
    source,
    children: () => kids,
  };
}
