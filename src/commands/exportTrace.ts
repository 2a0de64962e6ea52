/** meshtrace.exportTrace: Export Trace… as Markdown, JSON or SVG. */
import * as vscode from 'vscode';
import type { MeshtraceCommand } from './command';
import { traceToMarkdown } from '../webview/traceMarkdown';
import { traceToSvg } from '../webview/traceSvg';
import type { Trace } from '../core/sim/trace';

/** The export formats: a name, a file extension and the renderer. */
export const FORMATS = {
  markdown: { label: 'Markdown', ext: 'md', render: (t: Trace) => traceToMarkdown(t) },
  json: { label: 'JSON', ext: 'json', render: (t: Trace) => `${JSON.stringify(t, null, 2)}\n` },
  svg: { label: 'SVG (path diagram)', ext: 'svg', render: (t: Trace) => traceToSvg(t) },
} as const;

/** A format key. */
export type ExportFormat = keyof typeof FORMATS;

/** Asks for a format and a file (or takes both as arguments) and writes the last trace. */
export const exportTrace: MeshtraceCommand = {
  id: 'meshtrace.exportTrace',
  async run(session, formatArg, targetArg) {
    const t = session.trace;
    if (!t) {
      void vscode.window.showInformationMessage('meshtrace: no trace to export yet.');
      return;
    }
    let format = typeof formatArg === 'string' && formatArg in FORMATS ? (formatArg as ExportFormat) : undefined;
    if (!format) {
      const pick = await vscode.window.showQuickPick(
        (Object.keys(FORMATS) as ExportFormat[]).map((k) => ({ label: FORMATS[k].label, description: `.${FORMATS[k].ext}`, value: k })),
        { title: 'meshtrace: Export Trace', placeHolder: 'Format' },
      );
      if (!pick) return;
      format = pick.value;
    }
    const f = FORMATS[format];
    const q = t.query;
    const name = `trace-${q.proto}-${q.dst}${q.dport !== undefined ? `-${q.dport}` : ''}.${f.ext}`;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target =
      targetArg instanceof vscode.Uri
        ? targetArg
        : await vscode.window.showSaveDialog({ title: 'meshtrace: Export Trace', defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined, filters: { [f.label]: [f.ext] } });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(f.render(t), 'utf8'));
    if (!(targetArg instanceof vscode.Uri)) {
      const open = await vscode.window.showInformationMessage(`meshtrace: trace written to ${vscode.workspace.asRelativePath(target)}`, 'Open');
      if (open) await vscode.commands.executeCommand('vscode.open', target);
    }
  },
};
