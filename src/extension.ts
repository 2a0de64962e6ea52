/**
 * VS Code activation: wiring only. The session (state and the worker), the two views, the
 * Problems-panel diagnostics and the command table; every registration is disposed with the
 * extension. Activation is lazy: on meshtrace's commands, views and languages (package.json).
 */
import * as vscode from 'vscode';
import { Session } from './commands/session';
import { COMMANDS } from './commands/index';
import { createTopologyView } from './views/topologyTree';
import { createTraceView } from './views/traceTree';
import { createProblemsDiagnostics } from './views/problemsDiagnostics';
import { DiagramPanel } from './webview/diagramPanel';
import { startLanguageClient } from './lsp/client';

/** Activates meshtrace. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('meshtrace');
  const session = new Session(context.extensionUri, output);
  context.subscriptions.push(
    output,
    session,
    createTopologyView(session),
    createTraceView(session),
    createProblemsDiagnostics(session),
    { dispose: () => DiagramPanel.open?.dispose() },
    ...COMMANDS.map((c) => vscode.commands.registerCommand(c.id, (...args: unknown[]) => c.run(session, ...args))),
  );
  // The language server (hover, diagnostics, navigation in rule files) runs in its own process.
  void startLanguageClient(context).catch((e: unknown) => void vscode.window.showErrorMessage(`meshtrace language server: ${String(e)}`));
  void vscode.commands.executeCommand('setContext', 'meshtrace.loaded', false);
  void vscode.commands.executeCommand('setContext', 'meshtrace.hasTrace', false);
}

/** Nothing to release beyond the subscriptions. */
export function deactivate(): void {}
