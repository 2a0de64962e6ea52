/**
 * VS Code activation: wiring only. Every registration is disposed with the extension.
 */
import * as vscode from 'vscode';
import { loadModel } from './node/loadCapture';
import { summarizeModel } from './core/model/summary';
import { formatProblem } from './core/problem';

/** Activates meshtrace: registers its commands. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('meshtrace');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('meshtrace.loadCapture', async (uri?: vscode.Uri) => {
      const target =
        uri ??
        (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: 'Load capture' }))?.[0];
      if (!target) return;
      const model = loadModel([target.fsPath]);
      output.clear();
      for (const line of summarizeModel(model)) output.appendLine(line);
      for (const p of model.problems) output.appendLine(formatProblem(p));
      output.show(true);
    }),
  );
}

/** Nothing to release beyond the subscriptions. */
export function deactivate(): void {}
