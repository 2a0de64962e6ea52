/** meshtrace.trace: Trace Packet… (the wizard, then the Trace view and the path diagram). */
import * as vscode from 'vscode';
import type { MeshtraceCommand } from './command';
import type { Session } from './session';
import type { QueryHint } from '../views/viewItem';
import type { Trace, TraceQuery } from '../core/sim/trace';
import { traceWizard } from './traceWizard';
import { DiagramPanel } from '../webview/diagramPanel';
import type { TracePrefill } from '../shared/protocol';

/** Asks for a query (starting from `hint`), traces it, and shows the result. */
export async function traceWithWizard(session: Session, hint?: QueryHint): Promise<Trace | undefined> {
  if (!session.model) {
    const pick = await vscode.window.showInformationMessage('meshtrace: load a capture first.', 'Open Sample Swarm', 'Load Capture Folder…');
    if (pick === 'Open Sample Swarm') await vscode.commands.executeCommand('meshtrace.openSample');
    else if (pick) await vscode.commands.executeCommand('meshtrace.loadCapture');
    if (!session.model) return;
  }
  // A complete query (from a keybinding, another extension or a test) needs no questions.
  const query = isComplete(hint) ? hint : await traceWizard(session.model, session.lastQuery, hint);
  if (!query) return;
  const trace = await session.runTrace(query);
  if (!trace) return;
  if (trace.outcomes.length === 0) {
    void vscode.window.showWarningMessage(`meshtrace: no outcome${trace.warnings.length ? `: ${trace.warnings[0]}` : ''}`);
  }
  await vscode.commands.executeCommand('meshtrace.trace.focus');
  DiagramPanel.show(session);
  return trace;
}

function isComplete(h: QueryHint | undefined): h is TraceQuery {
  return !!h && !!h.node && !!h.namespace && !!h.proto && !!h.src && !!h.dst;
}

/** The palette command: the wizard; or, given a complete TraceQuery, that query. Resolves to the Trace. */
export const tracePacket: MeshtraceCommand = {
  id: 'meshtrace.trace',
  async run(session, arg) {
    if (isPrefill(arg)) {
      // A code lens of the language server: load the capture the rule file belongs to, then ask
      // for what the chain does not tell (src/shared/protocol.ts TracePrefill).
      if (session.source?.root?.fsPath !== arg.capture) await session.loadPath(vscode.Uri.file(arg.capture), arg.capture.split(/[\\/]/).pop() ?? arg.capture);
      const q = arg.query;
      return traceWithWizard(session, { ...q, ...(q.proto ? { proto: q.proto } : {}) } as QueryHint);
    }
    return traceWithWizard(session, isHint(arg) ? arg : undefined);
  },
};

function isPrefill(x: unknown): x is TracePrefill {
  return typeof x === 'object' && x !== null && typeof (x as TracePrefill).capture === 'string' && typeof (x as TracePrefill).query === 'object';
}

function isHint(x: unknown): x is QueryHint {
  return typeof x === 'object' && x !== null && !('contextValue' in x) && !(x instanceof vscode.Uri);
}
