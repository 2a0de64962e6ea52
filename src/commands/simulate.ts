/**
 * meshtrace.simulate: Simulate Whole Topology. Runs the full-topology simulation and the doctor
 * (simulateTopology) on the loaded capture in a worker thread, behind a cancellable progress
 * notification, then shows the matrix (matrixPanel.ts) and the findings (Findings view and
 * Problems panel). The worker and the Findings view are made on first use: the command table
 * has no activation hook of its own.
 */
import * as vscode from 'vscode';
import { Worker } from 'node:worker_threads';
import type { MeshtraceCommand } from './command';
import type { Session } from './session';
import { CancelledError, CaptureWorkerClient } from '../node/captureWorkerClient';
import { FindingsView } from '../views/findingsView';
import { MatrixPanel } from '../webview/matrixPanel';

interface SimulationState {
  worker: CaptureWorkerClient;
  findings: FindingsView;
}

let state: SimulationState | undefined;

function ensureState(session: Session): SimulationState {
  if (state) return state;
  const script = vscode.Uri.joinPath(session.extensionUri, 'dist', 'worker.js').fsPath;
  // Its own worker: a simulation may run while the session's worker traces a packet. Unref'd, so
  // it never holds the extension host open.
  const worker = new CaptureWorkerClient(() => {
    const w = new Worker(script);
    w.unref();
    return w;
  });
  state = { worker, findings: new FindingsView(session) };
  return state;
}

/** Simulates the loaded capture and shows the matrix and the findings. */
export const simulate: MeshtraceCommand = {
  id: 'meshtrace.simulate',
  async run(session) {
    const model = session.model;
    if (!model) {
      void vscode.window.showInformationMessage('meshtrace: load a capture first ("meshtrace: Open Sample Swarm" or "Load Capture Folder…").');
      return;
    }
    const s = ensureState(session);
    const started = Date.now();
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `meshtrace: Simulating ${session.source?.label ?? 'the capture'}`, cancellable: true }, (_progress, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ac.abort());
        return s.worker.simulate(model, {}, ac.signal).finally(() => sub.dispose());
      });
      // The capture was reloaded meanwhile: this result belongs to a model that is gone.
      if (session.model !== model) return;
      const sum = result.summary;
      session.output.appendLine(`Simulated ${session.source?.label ?? 'the capture'}: ${sum.nodes} nodes, ${sum.entries} entries (${sum.ok} ok, ${sum.failed} not ok), ${result.findings.length} findings in ${Date.now() - started} ms`);
      for (const w of result.warnings) session.output.appendLine(`  warning: ${w}`);
      s.findings.update(result.findings);
      void vscode.commands.executeCommand('setContext', 'meshtrace.simulated', true);
      MatrixPanel.show(session, result);
    } catch (e) {
      if (e instanceof CancelledError) {
        void vscode.window.showInformationMessage('meshtrace: simulation cancelled');
        return;
      }
      const msg = e instanceof Error ? e.message : String(e);
      session.output.appendLine(`simulation failed: ${msg}`);
      void vscode.window.showErrorMessage(`meshtrace: simulation failed: ${msg.split('\n')[0]}`);
    }
  },
};
