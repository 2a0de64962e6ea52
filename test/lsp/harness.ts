/**
 * The lsp tier's client: starts `node dist/server.js --stdio` as its own process and talks to it
 * with vscode-languageserver-protocol, as any editor would. Cursor positions come from case
 * strings with a `|` where the cursor is.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { Diagnostic, Position, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

/** The project root. */
export const ROOT = path.resolve(__dirname, '../..');
/** The shared corpus of real dumps. */
export const CORPUS = path.resolve(ROOT, '../shared/corpus');
/** The seed swarm sample capture. */
export const SEED = path.join(ROOT, 'samples/seed-swarm');
/** The built server. */
export const SERVER = path.join(ROOT, 'dist/server.js');

/** A file's URI. */
export function uriOf(file: string): string {
  return pathToFileURL(file).toString();
}

/** Finds the one line of `text` (or the `nth`) that holds `marked` without its `|`, and the cursor there. */
export function cursorIn(text: string, marked: string, nth?: number): Position {
  const bar = marked.indexOf('|');
  assert.ok(bar >= 0, `case ${JSON.stringify(marked)} has no | cursor`);
  const needle = marked.slice(0, bar) + marked.slice(bar + 1);
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const hits = lines.flatMap((l, i) => (l.includes(needle) ? [i] : []));
  if (nth === undefined) assert.equal(hits.length, 1, `case ${JSON.stringify(marked)} must match exactly one line (matched ${hits.length})`);
  const line = hits[nth ?? 0];
  assert.ok(line !== undefined, `case ${JSON.stringify(marked)} has no match number ${nth}`);
  return { line, character: lines[line].indexOf(needle) + bar };
}

/** A running server and the client side of its connection. */
export class LspSession {
  readonly conn: ProtocolConnection;
  private readonly proc: ChildProcess;
  private readonly diags = new Map<string, { version?: number; diagnostics: Diagnostic[] }>();
  private readonly waiters: (() => void)[] = [];
  readonly stderr: string[] = [];
  readonly logs: string[] = [];
  private versions = new Map<string, number>();

  constructor() {
    assert.ok(fs.existsSync(SERVER), `${SERVER} is missing: run \`npm run build\` first`);
    this.proc = spawn(process.execPath, [SERVER, '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diags.set(p.uri, { version: p.version, diagnostics: p.diagnostics });
      for (const w of this.waiters.splice(0)) w();
    });
    this.conn.onNotification('window/logMessage', (p: { message: string }) => {
      this.logs.push(p.message);
    });
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('workspace/configuration', () => []);
    this.conn.listen();
  }

  /** Starts the session the way an editor does. */
  async initialize(folders: string[] = [ROOT]): Promise<void> {
    await this.conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: uriOf(folders[0]),
      workspaceFolders: folders.map((f) => ({ uri: uriOf(f), name: path.basename(f) })),
      capabilities: {
        workspace: { didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true }, workspaceFolders: true },
        textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] }, rename: { prepareSupport: true }, publishDiagnostics: { relatedInformation: true, versionSupport: true } },
      },
    });
    await this.conn.sendNotification('initialized', {});
  }

  /** Opens a file (its disk text, or `text` in its place) as an editor would. */
  async open(file: string, text?: string, languageId = 'iptables'): Promise<string> {
    const uri = uriOf(file);
    this.versions.set(uri, 1);
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text: text ?? fs.readFileSync(file, 'utf8') } });
    return uri;
  }

  /** Replaces an open document's whole text. */
  async change(uri: string, text: string): Promise<number> {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
    return v;
  }

  /** Closes a document. */
  async close(uri: string): Promise<void> {
    await this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
    this.diags.delete(uri);
  }

  /** Waits until the server publishes diagnostics for `uri` that satisfy `ok` (deadline, no sleeps). */
  async diagnostics(uri: string, ok: (d: Diagnostic[], version?: number) => boolean = () => true, ms = 15000): Promise<Diagnostic[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const cur = this.diags.get(uri);
      if (cur && ok(cur.diagnostics, cur.version)) return cur.diagnostics;
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no matching diagnostics for ${uri} within ${ms} ms; last: ${JSON.stringify(cur?.diagnostics.map((d) => [d.range.start.line, d.code, d.message]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a request. */
  request<R>(method: string, params: unknown): Promise<R> {
    return this.conn.sendRequest(method, params) as Promise<R>;
  }

  /** Shuts the server down and waits for it to exit. */
  async dispose(): Promise<void> {
    try {
      await this.conn.sendRequest('shutdown');
      await this.conn.sendNotification('exit');
    } catch {
      // The server may already be gone.
    }
    await new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        this.proc.kill();
        resolve();
      }, 3000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.conn.dispose();
  }
}
