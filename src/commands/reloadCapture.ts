/** meshtrace.reload: Reload Capture (files changed outside VS Code, or to be sure). */
import * as vscode from 'vscode';
import type { MeshtraceCommand } from './command';

/** Loads the current capture again; the last trace is traced again on the new model. */
export const reloadCapture: MeshtraceCommand = {
  id: 'meshtrace.reload',
  async run(session) {
    if (!session.source) {
      void vscode.window.showInformationMessage('meshtrace: nothing is loaded yet.');
      return;
    }
    await session.reload();
  },
};
