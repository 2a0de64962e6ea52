/** meshtrace.loadFile: Load Dump or Bundle File… */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MeshtraceCommand } from './command';
import { uriArgOrPick } from './quickInput';
import { isBundle } from '../core/parsers/parseBundle';
import { checkName } from './queryValidation';
import { focusTopology } from './openSample';

/** Loads one file: a collector bundle (nodes and namespaces in its headers) or one plain dump (asked). */
export const loadFile: MeshtraceCommand = {
  id: 'meshtrace.loadFile',
  async run(session, arg) {
    const uri = await uriArgOrPick(arg, { folders: false, openLabel: 'Load Dump', title: 'meshtrace: Load Dump or Bundle File' });
    if (!uri) return;
    let head = '';
    try {
      const fd = fs.openSync(uri.fsPath, 'r');
      const buf = Buffer.alloc(64 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      fs.closeSync(fd);
      head = buf.subarray(0, n).toString('utf8');
    } catch (e) {
      void vscode.window.showErrorMessage(`meshtrace: cannot read ${uri.fsPath}: ${(e as Error).message}`);
      return;
    }
    let opts: { node?: string; namespace?: string } = {};
    if (!isBundle(head)) {
      const node = await vscode.window.showInputBox({ title: 'meshtrace: Load Dump (1/2)', prompt: 'Node the dump was taken on', value: 'pasted', validateInput: (t) => checkName(t, 'node') });
      if (node === undefined) return;
      const namespace = await vscode.window.showInputBox({ title: 'meshtrace: Load Dump (2/2)', prompt: 'Network namespace (host = the node itself)', value: 'host', validateInput: (t) => checkName(t, 'namespace') });
      if (namespace === undefined) return;
      opts = { node: node.trim(), namespace: namespace.trim() };
    }
    if (await session.loadPath(uri, path.basename(uri.fsPath), opts)) await focusTopology();
  },
};
