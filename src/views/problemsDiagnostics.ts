/** The capture's problems in the Problems panel, at their file, line and columns. */
import * as vscode from 'vscode';
import type { Problem, Severity } from '../core/problem';
import type { Session } from '../commands/session';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** A problem as a diagnostic (lines and columns are 1-based in the core, 0-based here). */
export function toDiagnostic(p: Problem): vscode.Diagnostic {
  const line = Math.max(0, p.line - 1);
  const range = new vscode.Range(line, Math.max(0, p.col - 1), line, Math.max(p.col, p.endCol - 1));
  const d = new vscode.Diagnostic(range, p.message, SEVERITY[p.severity]);
  d.source = 'meshtrace';
  d.code = p.code;
  return d;
}

/** Keeps a diagnostic collection equal to the loaded capture's problems. */
export function createProblemsDiagnostics(session: Session): vscode.Disposable {
  const collection = vscode.languages.createDiagnosticCollection('meshtrace');
  const update = (): void => {
    collection.clear();
    const m = session.model;
    if (!m) return;
    const byUri = new Map<string, { uri: vscode.Uri; list: vscode.Diagnostic[] }>();
    for (const p of m.problems) {
      const uri = session.resolve(p.file);
      if (!uri) continue;
      const k = uri.toString();
      const e = byUri.get(k) ?? { uri, list: [] };
      e.list.push(toDiagnostic(p));
      byUri.set(k, e);
    }
    collection.set([...byUri.values()].map((e) => [e.uri, e.list]));
  };
  update();
  return vscode.Disposable.from(collection, session.onDidChangeModel(update));
}
