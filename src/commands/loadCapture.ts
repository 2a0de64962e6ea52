/** meshtrace.loadCapture: Load Capture Folder… (from the palette, or a folder in the Explorer). */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { MeshtraceCommand } from './command';
import { focusTopology } from './openSample';

/** Loads a capture folder: `<capture>/<node>/<namespace>/<dump>`, a node folder, or a folder of bundles. */
export const loadCapture: MeshtraceCommand = {
  id: 'meshtrace.loadCapture',
  async run(session, arg) {
    const uri =
      arg instanceof vscode.Uri
        ? arg
        : (
            await vscode.window.showOpenDialog({
              canSelectFolders: true,
              canSelectFiles: false,
              canSelectMany: false,
              defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
              openLabel: 'Load Capture',
              title: 'meshtrace: Load Capture Folder',
            })
          )?.[0];
    if (!uri) return;
    if (await session.loadPath(uri, path.basename(uri.fsPath))) await focusTopology();
  },
};
