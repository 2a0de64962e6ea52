/**
 * The doctor's findings in VS Code: the Findings view (a tree, items from findingsModel.ts) and
 * the Problems panel (a diagnostic collection of its own, beside the capture's parse problems).
 * Both are cleared when the capture is loaded again: findings of an old model point at old lines.
 */
import * as vscode from 'vscode';
import type { Session } from '../commands/session';
import type { Severity } from '../core/problem';
import type { Finding } from '../core/topology/findings';
import { ItemTreeProvider } from './itemTree';
import { findingDiagnostics, findingItems } from './findingsModel';
import type { ViewItem } from './viewItem';

/** The view's id in package.json. */
export const FINDINGS_VIEW = 'meshtrace.findings';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** The Findings view and the findings' diagnostics, kept together. */
export class FindingsView implements vscode.Disposable {
  private readonly provider = new ItemTreeProvider();
  private readonly view: vscode.TreeView<ViewItem>;
  private readonly collection = vscode.languages.createDiagnosticCollection('meshtrace-doctor');
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly session: Session) {
    this.view = vscode.window.createTreeView<ViewItem>(FINDINGS_VIEW, { treeDataProvider: this.provider, showCollapseAll: true });
    this.disposables.push(this.provider, this.view, this.collection, session.onDidChangeModel(() => this.update(undefined)));
  }

  /** Shows these findings (undefined: no simulation of the loaded capture yet). */
  update(findings: readonly Finding[] | undefined): void {
    this.provider.setRoots(findings ? findingItems(findings) : []);
    this.view.description = findings ? `${findings.length} finding${findings.length === 1 ? '' : 's'}` : undefined;
    this.view.message = findings?.length === 0 ? 'No findings: the capture holds what Docker should have programmed.' : findings ? undefined : 'Run "meshtrace: Simulate Whole Topology" to check this capture.';
    this.collection.clear();
    if (!findings) return;
    const files = this.session.model?.files ?? [];
    const fallback = (node: string, namespace: string): string | undefined => files.find((f) => f.node === node && f.namespace === namespace && f.kind)?.path;
    const byUri = new Map<string, { uri: vscode.Uri; list: vscode.Diagnostic[] }>();
    for (const d of findingDiagnostics(findings, fallback)) {
      const uri = this.session.resolve(d.file);
      if (!uri) continue;
      const diag = new vscode.Diagnostic(new vscode.Range(d.line, 0, d.line, Number.MAX_SAFE_INTEGER), d.message, SEVERITY[d.severity]);
      diag.source = 'meshtrace doctor';
      diag.code = d.code;
      const k = uri.toString();
      const e = byUri.get(k) ?? { uri, list: [] };
      e.list.push(diag);
      byUri.set(k, e);
    }
    this.collection.set([...byUri.values()].map((e) => [e.uri, e.list]));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
  }
}
