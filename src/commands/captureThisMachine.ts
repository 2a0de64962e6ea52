/**
 * meshtrace.captureThisMachine: runs the collector on this machine in a terminal, with sudo (the
 * password, if any, is typed there, never seen by the extension), and loads the bundle it writes.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MeshtraceCommand } from './command';
import { captureThisMachineCommand, makeCaptureDir } from '../node/collect';

/** Starts the capture terminal and loads the result when it exits with status 0. */
export const captureThisMachine: MeshtraceCommand = {
  id: 'meshtrace.captureThisMachine',
  async run(session) {
    const dir = makeCaptureDir();
    const output = path.join(dir, 'capture.bundle');
    const cmd = captureThisMachineCommand({ output }, { scriptPath: path.join(session.extensionUri.fsPath, 'collector', 'meshtrace-collect.sh') });
    const terminal = vscode.window.createTerminal({ name: 'meshtrace capture', shellPath: cmd.shellPath, shellArgs: cmd.shellArgs });
    terminal.show();
    const sub = vscode.window.onDidCloseTerminal(async (t) => {
      if (t !== terminal) return;
      sub.dispose();
      if (t.exitStatus?.code === 0) await session.loadPath(vscode.Uri.file(output), 'this machine');
      else void vscode.window.showErrorMessage(`meshtrace: the capture ended with status ${t.exitStatus?.code ?? 'unknown'}; see the terminal for why`);
    });
  },
};
