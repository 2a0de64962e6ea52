/**
 * The plain item both meshtrace trees are built of. The pure builders (topologyModel.ts,
 * traceModel.ts) make these from the core's Model and Trace without importing `vscode`, so they run
 * in plain mocha; the tree providers turn them into `TreeItem`s in `getTreeItem` and nowhere else.
 */
import type { Source } from '../core/problem';
import type { TraceQuery } from '../core/sim/trace';

/** What "Trace from here" starts from: the parts of a query an item fixes. */
export type QueryHint = Partial<Omit<TraceQuery, 'proto'>> & { proto?: TraceQuery['proto'] };

/** One row of a meshtrace tree. */
export interface ViewItem {
  /** Unique in its tree and stable across reloads, so expansion survives a reload. */
  id: string;
  label: string;
  description?: string;
  /** Plain text (dump text is untrusted: never rendered as Markdown). */
  tooltip?: string;
  /** A codicon id (`server`, `plug`, …). */
  icon?: string;
  /** A theme colour id for the icon (`problemsWarningIcon.foreground`). */
  iconColor?: string;
  /**
   * For `when` clauses: the item's kind first, then `+`-separated traits
   * (`rule+source`, `namespace+traceable`), so `viewItem =~ /\+traceable/` selects every item that
   * can start a trace.
   */
  contextValue: string;
  /** The dump line behind the item: selecting the item reveals it. */
  source?: Source;
  /** Set on items that can start "Trace from here". */
  query?: QueryHint;
  /** For trace steps: which outcome and drawn step (request steps, then the reply's). */
  step?: { outcome: number; index: number };
  /** Starts expanded (only meaningful with children). */
  expanded?: boolean;
  /** Children, computed when the item is first expanded. */
  children?: () => ViewItem[];
}

/** Builds a contextValue from a kind and its traits. */
export function contextOf(kind: string, traits: { source?: unknown; query?: unknown; problems?: boolean }): string {
  let v = kind;
  if (traits.source) v += '+source';
  if (traits.query) v += '+traceable';
  if (traits.problems) v += '+problems';
  return v;
}
