/** meshtrace.loadCapture: Load Capture Folder… (from the palette, or a folder in the Explorer). */
import * as path from 'node:path';
import type { MeshtraceCommand } from './command';
import { uriArgOrPick } from './quickInput';
import { focusTopology } from './openSample';

/** Loads a capture folder: `<capture>/<node>/<namespace>/<dump>`, a node folder, or a folder of bundles. */
export const loadCapture: MeshtraceCommand = {
  id: 'meshtrace.loadCapture',
  async run(session, arg) {
    const uri = await uriArgOrPick(arg, { folders: true, openLabel: 'Load Capture', title: 'meshtrace: Load Capture Folder' });
    if (!uri) return;
    if (await session.loadPath(uri, path.basename(uri.fsPath))) await focusTopology();
  },
};
