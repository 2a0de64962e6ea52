/**
 * The path-diagram panel: a webview that draws the session's trace. The page gets data only by
 * message (protocol.ts), runs only the extension's bundled script under a nonce, and may load
 * nothing but files from the extension's dist folder.
 */
import * as vscode from 'vscode';
import type { Session } from '../commands/session';
import { diagramHtml, makeNonce } from './diagramHtml';
import { traceToDiagram } from './diagramModel';
import { isFromWebview, type ToWebview } from './protocol';

/** The panel's view type (for `when` clauses and serializers). */
export const DIAGRAM_VIEW_TYPE = 'meshtrace.diagram';

/** The one path-diagram panel. */
export class DiagramPanel implements vscode.Disposable {
  private static current: DiagramPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private selection: { outcome: number; step: number } | undefined;

  /** Shows the panel (creating it when needed), optionally at a step. */
  static show(session: Session, select?: { outcome: number; step: number }): DiagramPanel {
    if (DiagramPanel.current) {
      DiagramPanel.current.panel.reveal(undefined, true);
      if (select) DiagramPanel.current.post({ type: 'select', ...select });
      return DiagramPanel.current;
    }
    DiagramPanel.current = new DiagramPanel(session, select);
    return DiagramPanel.current;
  }

  /** The open panel, if any. */
  static get open(): DiagramPanel | undefined {
    return DiagramPanel.current;
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(private readonly session: Session, select?: { outcome: number; step: number }) {
    const dist = vscode.Uri.joinPath(session.extensionUri, 'dist');
    this.selection = select;
    this.panel = vscode.window.createWebviewPanel(DIAGRAM_VIEW_TYPE, 'meshtrace: Path Diagram', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      enableCommandUris: false,
      enableForms: false,
      localResourceRoots: [dist],
    });
    this.panel.iconPath = vscode.Uri.joinPath(session.extensionUri, 'media', 'meshtrace.svg');
    const w = this.panel.webview;
    w.html = diagramHtml({
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
    });
    this.disposables.push(
      w.onDidReceiveMessage((m: unknown) => this.receive(m)),
      session.onDidChangeTrace(() => {
        this.selection = undefined;
        this.sendTrace();
      }),
      session.onDidSelectStep((sel) => {
        this.selection = sel;
        this.post({ type: 'select', ...sel });
      }),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  private receive(m: unknown): void {
    if (!isFromWebview(m)) return;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sendTrace();
        break;
      case 'reveal':
        this.selection = { outcome: m.outcome, step: m.step };
        this.session.selectStep(this.selection);
        void this.session.revealStep(this.selection, { preserveFocus: true });
        break;
      case 'selected':
        this.selection = { outcome: m.outcome, step: m.step };
        break;
    }
  }

  private sendTrace(): void {
    const t = this.session.trace;
    if (!t) this.post({ type: 'empty', message: 'No trace yet: run "meshtrace: Trace Packet…".' });
    else this.post({ type: 'show', diagram: traceToDiagram(t), outcome: this.selection?.outcome, step: this.selection?.step });
  }

  private post(m: ToWebview): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    if (DiagramPanel.current === this) DiagramPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.panel.dispose();
  }
}
