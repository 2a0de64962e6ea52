/** meshtrace.pasteDump: Paste Dump from Clipboard (node and namespace asked, kind detected). */
import * as vscode from 'vscode';
import type { DumpKind } from '../core/model/model';
import { detectKind } from '../core/parsers/detectKind';
import type { MeshtraceCommand } from './command';
import { checkName } from './queryValidation';
import { focusTopology } from './openSample';

/** Every kind a user may choose when detection is wrong. */
const KINDS = [
  'iptables-save',
  'iptables-S',
  'iptables-L',
  'ipvsadm',
  'ip-addr',
  'ip-addr-json',
  'ip-route',
  'ip-route-json',
  'ip-rule',
  'ip-rule-json',
  'bridge-fdb',
  'bridge-fdb-json',
  'ip-neigh',
  'ip-neigh-json',
  'sysctl',
  'nft',
  'docker-json',
] as const satisfies readonly DumpKind[];

/** Reads the clipboard, asks whose dump it is, keeps the text in an editor and adds it to the capture. */
export const pasteDump: MeshtraceCommand = {
  id: 'meshtrace.pasteDump',
  async run(session) {
    const text = await vscode.env.clipboard.readText();
    if (!text.trim()) {
      void vscode.window.showWarningMessage('meshtrace: the clipboard holds no text. Copy a dump (iptables-save, ip addr, ipvsadm -Ln, docker network inspect, …) first.');
      return;
    }
    const last = session.pastes[session.pastes.length - 1];
    const node = await vscode.window.showInputBox({ title: 'meshtrace: Paste Dump (1/3)', prompt: 'Node the dump was taken on', value: last?.node ?? 'pasted', validateInput: (t) => checkName(t, 'node') });
    if (node === undefined) return;
    const namespace = await vscode.window.showInputBox({ title: 'meshtrace: Paste Dump (2/3)', prompt: 'Network namespace (host = the node itself; ingress_sbox, a task, …)', value: last?.namespace ?? 'host', validateInput: (t) => checkName(t, 'namespace') });
    if (namespace === undefined) return;
    const det = detectKind(text);
    type KindItem = vscode.QuickPickItem & { dumpKind?: DumpKind };
    const items: KindItem[] = [];
    if (det.kind) items.push({ label: det.kind, description: 'detected', dumpKind: det.kind });
    else items.push({ label: '$(question) not recognised', description: det.reason ?? 'meshtrace could not tell the kind; pick one', dumpKind: undefined });
    for (const k of KINDS) if (k !== det.kind) items.push({ label: k, dumpKind: k });
    const chosen = await vscode.window.showQuickPick(items, { title: 'meshtrace: Paste Dump (3/3)', placeHolder: 'Kind of dump' });
    if (!chosen) return;
    const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
    await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: true, viewColumn: vscode.ViewColumn.One });
    const p = await session.addPaste({ doc: doc.uri, node: node.trim(), namespace: namespace.trim(), kind: chosen.dumpKind, text });
    void vscode.window.showInformationMessage(`meshtrace: pasted ${chosen.dumpKind ?? 'dump'} added as ${p.node}/${p.namespace} (${p.name}); edit it in its editor and the model follows.`);
    await focusTopology();
  },
};
