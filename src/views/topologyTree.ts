/** The Topology view: the loaded capture's model as a tree (items from topologyModel.ts). */
import * as vscode from 'vscode';
import type { Session } from '../commands/session';
import { ItemTreeProvider } from './itemTree';
import { topologyItems } from './topologyModel';
import type { ViewItem } from './viewItem';

/** The view's id in package.json. */
export const TOPOLOGY_VIEW = 'meshtrace.topology';

/** Creates the Topology view and keeps it in step with the session's model. */
export function createTopologyView(session: Session): vscode.Disposable {
  const provider = new ItemTreeProvider();
  const view = vscode.window.createTreeView<ViewItem>(TOPOLOGY_VIEW, { treeDataProvider: provider, showCollapseAll: true });
  const update = (): void => {
    const m = session.model;
    provider.setRoots(m ? topologyItems(m, session.source?.label ?? 'capture') : []);
    view.message = m && m.files.length > 0 && !m.files.some((f) => f.kind) ? 'No dump in this capture could be read: see the Problems panel.' : undefined;
  };
  update();
  return vscode.Disposable.from(provider, view, session.onDidChangeModel(update));
}
