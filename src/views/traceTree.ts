/** The Trace view: the last trace's outcomes and steps (items from traceModel.ts). */
import * as vscode from 'vscode';
import type { Session } from '../commands/session';
import { ItemTreeProvider } from './itemTree';
import { traceItems } from './traceModel';
import type { ViewItem } from './viewItem';

/** The view's id in package.json. */
export const TRACE_VIEW = 'meshtrace.trace';

/** Creates the Trace view; it follows the session's trace and the diagram's step selection. */
export function createTraceView(session: Session): vscode.Disposable {
  const provider = new ItemTreeProvider();
  const view = vscode.window.createTreeView<ViewItem>(TRACE_VIEW, { treeDataProvider: provider, showCollapseAll: true });
  const update = (): void => {
    const t = session.trace;
    provider.setRoots(t ? traceItems(t) : []);
    view.message = t ? undefined : undefined;
    view.description = t ? `${t.outcomes.length} outcome${t.outcomes.length === 1 ? '' : 's'}` : undefined;
  };
  update();
  const follow = session.onDidSelectStep((sel) => {
    if (!view.visible) return;
    const item = provider.find((i) => !!i.step && i.step.outcome === sel.outcome && i.step.index === sel.step && i.contextValue.startsWith('step'));
    if (item) void view.reveal(item, { select: true, focus: false, expand: false });
  });
  return vscode.Disposable.from(provider, view, session.onDidChangeTrace(update), follow);
}
