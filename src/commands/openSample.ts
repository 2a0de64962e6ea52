/** meshtrace.openSample: Open Sample Swarm (the three-node swarm shipped in the extension). */
import * as vscode from 'vscode';
import type { MeshtraceCommand } from './command';

/** Shows the Topology view. */
export async function focusTopology(): Promise<void> {
  await vscode.commands.executeCommand('meshtrace.topology.focus');
}

/** Loads samples/seed-swarm from the extension's own folder. */
export const openSample: MeshtraceCommand = {
  id: 'meshtrace.openSample',
  async run(session) {
    const uri = vscode.Uri.joinPath(session.extensionUri, 'samples', 'seed-swarm');
    if (await session.loadPath(uri, 'seed-swarm (sample)')) await focusTopology();
  },
};
