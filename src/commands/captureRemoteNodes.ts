/**
 * meshtrace.captureRemoteNodes: picks hosts from the user's SSH config, runs the collector on each
 * as `sudo sh -s` over the user's own ssh (several at once, with progress and cancel), combines
 * the bundles and loads them as one capture. No password or key is stored by the extension.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MeshtraceCommand } from './command';
import { captureRemoteNodes as capture, combineBundles, readSshConfigHosts } from '../node/sshCapture';
import { makeCaptureDir, readCollectorScript } from '../node/collect';

/** Asks for hosts, captures them and loads the combined bundle. */
export const captureRemoteNodes: MeshtraceCommand = {
  id: 'meshtrace.captureRemoteNodes',
  async run(session) {
    let hosts: string[] = [];
    try {
      hosts = readSshConfigHosts();
    } catch {
      hosts = [];
    }
    const picked = hosts.length
      ? (await vscode.window.showQuickPick(hosts, { canPickMany: true, title: 'meshtrace: nodes to capture (from ~/.ssh/config)' })) ?? []
      : ((await vscode.window.showInputBox({ title: 'meshtrace: nodes to capture', prompt: 'ssh host names, separated by spaces' })) ?? '').split(/\s+/).filter(Boolean);
    if (picked.length === 0) return;
    const redact = (await vscode.window.showQuickPick(['No', 'Yes: replace host names and public addresses'], { title: 'Redact the capture (to attach it to a public issue)?' })) ?? 'No';
    const script = readCollectorScript(path.join(session.extensionUri.fsPath, 'collector', 'meshtrace-collect.sh'));
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `meshtrace: capturing ${picked.length} node(s)`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        return capture(picked, {
          script,
          signal: abort.signal,
          collect: redact.startsWith('Yes') ? { redact: true } : {},
          onProgress: (p) => {
            const pct = Math.round(p.overall * 100);
            progress.report({ increment: Math.max(0, pct - last), message: `${p.host}: ${p.detail ?? p.state}` });
            last = Math.max(last, pct);
          },
        });
      },
    );
    const combined = combineBundles(result.results);
    for (const f of combined.failed) void vscode.window.showWarningMessage(`meshtrace: ${f.error}`);
    if (combined.nodes.length === 0) return;
    const file = path.join(makeCaptureDir(), 'capture.bundle');
    fs.writeFileSync(file, combined.text, { mode: 0o600 });
    await session.loadPath(vscode.Uri.file(file), `${combined.nodes.length} node(s) over ssh`);
  },
};
