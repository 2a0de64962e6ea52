/**
 * The extension's state, shared by commands, views and the diagram (rust-analyzer's `ctx.ts`):
 * the loaded capture (a folder or file on disk, plus pasted dumps kept in editors), its model,
 * the last trace and query. Long work goes to the worker thread behind a cancellable progress
 * notification. Views listen to its events; they never compute anything themselves.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DumpFile, DumpKind, Model } from '../core/model/model';
import type { Trace, TraceQuery } from '../core/sim/trace';
import { CancelledError, CaptureWorkerClient } from '../node/captureWorkerClient';
import { stepAt } from '../webview/diagramModel';

/** A dump pasted from the clipboard; its text lives in an editor the user can fix. */
export interface PastedDump {
  /** The editor's document. */
  doc: vscode.Uri;
  /** The name the model knows it by (`paste-1.txt`). */
  name: string;
  node: string;
  namespace: string;
  kind?: DumpKind;
  text: string;
}

/** What is loaded: a folder or file on disk (or nothing), plus pastes. */
export interface CaptureSource {
  /** Folder or file; absent when the capture is only pastes. */
  root?: vscode.Uri;
  /** Shown as the capture's name. */
  label: string;
  /** For a single plain dump file: its node and namespace. */
  node?: string;
  namespace?: string;
}

/** Which step of the trace is selected (the Trace view and the diagram follow it). */
export interface StepSelection {
  outcome: number;
  step: number;
}

/** The extension's state. */
export class Session implements vscode.Disposable {
  model: Model | undefined;
  trace: Trace | undefined;
  lastQuery: TraceQuery | undefined;
  source: CaptureSource | undefined;
  pastes: PastedDump[] = [];

  private readonly modelEmitter = new vscode.EventEmitter<Model | undefined>();
  private readonly traceEmitter = new vscode.EventEmitter<Trace | undefined>();
  private readonly selectEmitter = new vscode.EventEmitter<StepSelection>();
  /** Fires after every load or reload. */
  readonly onDidChangeModel = this.modelEmitter.event;
  /** Fires after every trace (undefined: the trace was cleared). */
  readonly onDidChangeTrace = this.traceEmitter.event;
  /** Fires when a step is selected in the Trace view or the diagram. */
  readonly onDidSelectStep = this.selectEmitter.event;

  private readonly worker: CaptureWorkerClient;
  private watcher: vscode.Disposable | undefined;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private firstPending: number | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly extensionUri: vscode.Uri, readonly output: vscode.OutputChannel) {
    const script = vscode.Uri.joinPath(extensionUri, 'dist', 'worker.js').fsPath;
    this.worker = new CaptureWorkerClient(() => new Worker(script));
    this.disposables.push(
      this.modelEmitter,
      this.traceEmitter,
      this.selectEmitter,
      vscode.workspace.onDidChangeTextDocument((e) => {
        const p = this.pastes.find((x) => x.doc.toString() === e.document.uri.toString());
        if (!p || e.contentChanges.length === 0) return;
        p.text = e.document.getText();
        this.scheduleReload();
      }),
    );
  }

  dispose(): void {
    this.worker.dispose();
    this.watcher?.dispose();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const d of this.disposables) d.dispose();
  }

  /** Loads a folder or file as the capture, replacing what was loaded (pastes included). */
  async loadPath(root: vscode.Uri, label: string, opts: { node?: string; namespace?: string } = {}): Promise<boolean> {
    const previous = { source: this.source, pastes: this.pastes };
    this.source = { root, label, ...opts };
    this.pastes = [];
    const ok = await this.load(`Loading ${label}`, vscode.ProgressLocation.Notification, false);
    if (!ok) {
      this.source = previous.source;
      this.pastes = previous.pastes;
      return false;
    }
    // A trace of another capture means nothing here; the last query is still offered if it fits.
    this.setTrace(undefined);
    this.watch(root);
    return true;
  }

  /** Adds a pasted dump to the capture (starting a capture of pastes when nothing is loaded). */
  async addPaste(p: Omit<PastedDump, 'name'>): Promise<PastedDump> {
    const pasted: PastedDump = { ...p, name: `paste-${this.pastes.length + 1}.txt` };
    this.source ??= { label: 'pasted dumps' };
    this.pastes.push(pasted);
    await this.load(`Reading ${pasted.name}`, vscode.ProgressLocation.Notification);
    return pasted;
  }

  /** Loads the current capture again (after its files changed, or on request). */
  async reload(location = vscode.ProgressLocation.Notification): Promise<boolean> {
    if (!this.source) return false;
    return this.load(`Reloading ${this.source.label}`, location);
  }

  /** Traces a packet through the loaded capture in the worker, with progress and cancel. */
  async runTrace(query: TraceQuery): Promise<Trace | undefined> {
    if (!this.model) return undefined;
    const started = Date.now();
    try {
      const trace = await this.withProgress(`Tracing ${query.proto} ${query.src} → ${query.dst}${query.dport !== undefined ? `:${query.dport}` : ''}`, vscode.ProgressLocation.Notification, (signal) =>
        this.worker.trace(query, signal),
      );
      this.output.appendLine(`Traced ${query.proto} ${query.src} → ${query.dst}${query.dport !== undefined ? `:${query.dport}` : ''} from ${query.node}/${query.namespace}: ${trace.outcomes.length} outcomes in ${Date.now() - started} ms`);
      this.lastQuery = query;
      this.setTrace(trace);
      return trace;
    } catch (e) {
      this.report('trace', e);
      return undefined;
    }
  }

  /** Replaces the trace and tells the views. */
  setTrace(trace: Trace | undefined): void {
    this.trace = trace;
    void vscode.commands.executeCommand('setContext', 'meshtrace.hasTrace', !!trace);
    this.traceEmitter.fire(trace);
  }

  /** Selects a step (from the Trace view or the diagram); the other side follows. */
  selectStep(sel: StepSelection): void {
    this.selectEmitter.fire(sel);
  }

  /** The file a dump path of the model stands for (relative to the capture; pastes by name). */
  resolve(file: string): vscode.Uri | undefined {
    const paste = this.pastes.find((p) => p.name === file);
    if (paste) return paste.doc;
    const root = this.source?.root;
    if (!root) return undefined;
    const base = root.fsPath;
    let isDir = false;
    try {
      isDir = fs.statSync(base).isDirectory();
    } catch {
      return undefined;
    }
    // A capture folder's paths start below it; a node folder's and a single file's start at its parent.
    const candidates = isDir ? [path.join(base, file), path.join(path.dirname(base), file)] : [path.join(path.dirname(base), file)];
    const hit = candidates.find((c) => fs.existsSync(c));
    return hit ? vscode.Uri.file(hit) : undefined;
  }

  /** Opens a dump file at a line, selecting the line; false when the file is not at hand. */
  async reveal(file: string, line: number, opts: { preserveFocus?: boolean } = {}): Promise<boolean> {
    const uri = this.resolve(file);
    if (!uri) {
      void vscode.window.showWarningMessage(`meshtrace: ${file} is not at hand (was the capture moved?)`);
      return false;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const l = Math.max(0, Math.min(line - 1, doc.lineCount - 1));
    const range = doc.lineAt(l).range;
    await vscode.window.showTextDocument(doc, { selection: range, preview: true, preserveFocus: opts.preserveFocus ?? false, viewColumn: vscode.ViewColumn.One });
    return true;
  }

  /** Reveals the line that decided a drawn step (request steps, then the reply's). */
  async revealStep(sel: StepSelection, opts: { preserveFocus?: boolean } = {}): Promise<boolean> {
    const o = this.trace?.outcomes[sel.outcome];
    const s = o ? stepAt(o, sel.step) : undefined;
    if (!s?.rule) return false;
    return this.reveal(s.rule.file, s.rule.line, opts);
  }

  /** Loads the current source; `retrace`: trace the last query again on the new model (same capture). */
  private async load(title: string, location: vscode.ProgressLocation, retrace = true): Promise<boolean> {
    const src = this.source;
    if (!src) return false;
    const extra: DumpFile[] = this.pastes.map((p) => ({ path: p.name, node: p.node, namespace: p.namespace, text: p.text, lineOffset: 0, kind: p.kind }));
    try {
      const started = Date.now();
      const model = await this.withProgress(title, location, (signal) => this.worker.load(src.root ? [src.root.fsPath] : [], extra, { node: src.node, namespace: src.namespace }, signal));
      this.output.appendLine(`${title}: ${model.nodes.length} nodes, ${model.namespaces.length} namespaces, ${model.problems.length} problems in ${Date.now() - started} ms`);
      this.model = model;
      void vscode.commands.executeCommand('setContext', 'meshtrace.loaded', true);
      this.modelEmitter.fire(model);
      // A trace of the old model may point at lines that moved: trace the same query again.
      if (retrace && this.trace && this.lastQuery) await this.runTrace(this.lastQuery);
      return true;
    } catch (e) {
      this.report('load', e);
      return false;
    }
  }

  private async withProgress<T>(title: string, location: vscode.ProgressLocation, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return vscode.window.withProgress({ location, title: `meshtrace: ${title}`, cancellable: location === vscode.ProgressLocation.Notification }, (_progress, token) => {
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => ac.abort());
      return job(ac.signal).finally(() => sub.dispose());
    });
  }

  private report(what: string, e: unknown): void {
    if (e instanceof CancelledError) {
      void vscode.window.showInformationMessage(`meshtrace: ${what} cancelled`);
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    this.output.appendLine(`${what} failed: ${msg}`);
    void vscode.window.showErrorMessage(`meshtrace: ${what} failed: ${msg.split('\n')[0]}`);
  }

  /** Reloads 500 ms after the last change, but no later than 2 s after the first (files that keep changing). */
  private scheduleReload(): void {
    const now = Date.now();
    this.firstPending ??= now;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      this.firstPending = undefined;
      void this.reload(vscode.ProgressLocation.Window);
    }, Math.max(0, Math.min(500, this.firstPending + 2000 - now)));
  }

  private watch(root: vscode.Uri): void {
    this.watcher?.dispose();
    let folder = root;
    let pattern = '**/*';
    try {
      if (!fs.statSync(root.fsPath).isDirectory()) {
        folder = vscode.Uri.file(path.dirname(root.fsPath));
        pattern = path.basename(root.fsPath);
      }
    } catch {
      return;
    }
    // The sample ships inside the extension: it never changes, so it needs no watcher.
    if (folder.fsPath.startsWith(this.extensionUri.fsPath)) return;
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, pattern));
    const again = (): void => this.scheduleReload();
    this.watcher = vscode.Disposable.from(w, w.onDidChange(again), w.onDidCreate(again), w.onDidDelete(again));
  }
}
