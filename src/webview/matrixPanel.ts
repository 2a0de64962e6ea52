/**
 * The simulation-matrix panel: a webview showing the full-topology simulation as entries ×
 * targets. Like the path diagram, the page gets data only by message (matrixProtocol.ts), runs
 * only the extension's bundled script under a nonce, and loads nothing but the dist folder. A
 * clicked cell traces its entry's query (in the session's worker) and opens the path diagram at
 * the outcome the cell stands for.
 */
import * as vscode from 'vscode';
import type { Session } from '../commands/session';
import type { TopologyResult } from '../core/topology/simulate';
import { makeNonce } from './diagramHtml';
import { DiagramPanel } from './diagramPanel';
import { matrixHtml } from './matrixHtml';
import { buildMatrix, outcomeForCell, type MatrixData } from './matrixModel';
import { isFromMatrix, type ToMatrix } from './matrixProtocol';

/** The panel's view type. */
export const MATRIX_VIEW_TYPE = 'meshtrace.matrix';

/** The one simulation-matrix panel. */
export class MatrixPanel implements vscode.Disposable {
  private static current: MatrixPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly panel: vscode.WebviewPanel;
  private ready = false;
  private result: TopologyResult | undefined;
  private matrix: MatrixData | undefined;

  /** Shows the panel (creating it when needed) with a simulation result. */
  static show(session: Session, result: TopologyResult): MatrixPanel {
    const p = MatrixPanel.current ?? new MatrixPanel(session);
    MatrixPanel.current = p;
    p.panel.reveal(undefined, false);
    p.setResult(result);
    return p;
  }

  /** The open panel, if any. */
  static get open(): MatrixPanel | undefined {
    return MatrixPanel.current;
  }

  private constructor(private readonly session: Session) {
    const dist = vscode.Uri.joinPath(session.extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel(MATRIX_VIEW_TYPE, 'meshtrace: Simulation Matrix', { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, {
      enableScripts: true,
      enableCommandUris: false,
      enableForms: false,
      retainContextWhenHidden: true,
      localResourceRoots: [dist],
    });
    this.panel.iconPath = vscode.Uri.joinPath(session.extensionUri, 'media', 'meshtrace.svg');
    const w = this.panel.webview;
    w.html = matrixHtml({
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'matrix.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'matrix.css')).toString(),
    });
    this.disposables.push(
      w.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      // A new model makes the matrix stale: its queries may no longer mean the same.
      session.onDidChangeModel(() => this.setResult(undefined)),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  private setResult(result: TopologyResult | undefined): void {
    this.result = result;
    this.matrix = result ? buildMatrix(result) : undefined;
    this.send();
  }

  private send(): void {
    if (this.matrix) this.post({ type: 'show', matrix: this.matrix });
    else this.post({ type: 'empty', message: 'The capture changed: run "meshtrace: Simulate Whole Topology" again.' });
  }

  private async receive(m: unknown): Promise<void> {
    if (!isFromMatrix(m)) return;
    if (m.type === 'ready') {
      this.ready = true;
      this.send();
      return;
    }
    const entry = this.result?.entries[m.entry];
    const row = this.matrix?.rows[m.entry];
    if (!entry || !row) return;
    const trace = await this.session.runTrace(entry.query);
    if (!trace) return;
    const outcome = outcomeForCell(entry, m.column !== undefined ? row.cells[m.column] : undefined, trace);
    DiagramPanel.show(this.session, { outcome, step: 0 });
  }

  private post(m: ToMatrix): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    if (MatrixPanel.current === this) MatrixPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.panel.dispose();
  }
}
