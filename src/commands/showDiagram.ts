/** meshtrace.showDiagram: Show Path Diagram (of the last trace; from an outcome item, at it). */
import * as vscode from 'vscode';
import type { MeshtraceCommand } from './command';
import type { ViewItem } from '../views/viewItem';
import { DiagramPanel } from '../webview/diagramPanel';

/** Opens the path diagram panel. */
export const showDiagram: MeshtraceCommand = {
  id: 'meshtrace.showDiagram',
  run(session, arg) {
    if (!session.trace) {
      void vscode.window.showInformationMessage('meshtrace: no trace yet. Run "meshtrace: Trace Packet…" first.');
      return;
    }
    const step = (arg as ViewItem | undefined)?.step;
    DiagramPanel.show(session, step ? { outcome: step.outcome, step: step.index } : undefined);
  },
};
