/**
 * A TreeDataProvider over ViewItems: holds the plain items, computes each item's children once,
 * remembers parents (for `reveal`), and makes a TreeItem only in `getTreeItem`. The Topology and
 * Trace views are two instances fed by the session's events.
 */
import * as vscode from 'vscode';
import type { ViewItem } from './viewItem';

/** The command a row runs when selected: reveal its dump line (and its step, for trace rows). */
export const REVEAL_COMMAND = 'meshtrace.revealSource';

/** A tree of ViewItems. */
export class ItemTreeProvider implements vscode.TreeDataProvider<ViewItem>, vscode.Disposable {
  private roots: ViewItem[] = [];
  private readonly kids = new Map<ViewItem, ViewItem[]>();
  private readonly parents = new Map<ViewItem, ViewItem | undefined>();
  private readonly emitter = new vscode.EventEmitter<ViewItem | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;

  /** Replaces every item. */
  setRoots(roots: ViewItem[]): void {
    this.roots = roots;
    this.kids.clear();
    this.parents.clear();
    for (const r of roots) this.parents.set(r, undefined);
    this.emitter.fire();
  }

  getTreeItem(item: ViewItem): vscode.TreeItem {
    const state = item.children ? (item.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None;
    const t = new vscode.TreeItem(item.label, state);
    t.id = item.id;
    t.description = item.description;
    t.tooltip = item.tooltip;
    t.contextValue = item.contextValue;
    if (item.icon) t.iconPath = new vscode.ThemeIcon(item.icon, item.iconColor ? new vscode.ThemeColor(item.iconColor) : undefined);
    if (item.source || item.step) t.command = { command: REVEAL_COMMAND, title: 'Open Dump Line', arguments: [item] };
    return t;
  }

  getChildren(item?: ViewItem): ViewItem[] {
    if (!item) return this.roots;
    let c = this.kids.get(item);
    if (!c) {
      c = item.children ? item.children() : [];
      this.kids.set(item, c);
      for (const k of c) this.parents.set(k, item);
    }
    return c;
  }

  getParent(item: ViewItem): ViewItem | undefined {
    return this.parents.get(item);
  }

  /** Finds an item by id, expanding the items on the way (for `TreeView.reveal`). */
  find(pred: (i: ViewItem) => boolean, within: ViewItem[] = this.roots, depth = 4): ViewItem | undefined {
    for (const i of within) {
      if (pred(i)) return i;
      if (depth > 0 && i.children) {
        const hit = this.find(pred, this.getChildren(i), depth - 1);
        if (hit) return hit;
      }
    }
    return undefined;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
