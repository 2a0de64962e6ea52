/**
 * The meshtrace language server: `node dist/server.js --stdio` (or `--node-ipc`). Wiring only:
 * documents come in over LSP, core/lang answers, convert.ts turns the answers into LSP types.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  ProposedFeatures,
  ResponseError,
  SymbolKind,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
  type Hover,
  type InitializeResult,
  type Location,
  type WorkspaceEdit,
  type WorkspaceSymbol,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyzeRuleDoc, type RuleDoc } from '../core/lang/ruleDoc';
import { hoverRuleDoc } from '../core/lang/hover';
import { ruleDocDiagnostics } from '../core/lang/diagnostics';
import { chainSymbols, codeLenses, definition, documentSymbols, foldingRanges, prepareRename, references, rename } from '../core/lang/navigation';
import { CaptureInfoRequest, CaptureLoadedNotification, ReloadCapturesNotification, type CaptureInfo } from '../shared/protocol';
import { CaptureStore, type LoadedCapture, type Located } from './captureStore';
import { toDiagnostic, toFold, toLens, toLocation, toRange, toSymbol } from './convert';
import { findRuleFiles, readSmall } from './workspaceScan';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

/** Problems the model finds about a file as a whole (the parsers' own come from the document). */
const MODEL_CODES = new Set(['views-disagree', 'kind-mismatch', 'unknown-kind', 'dump-outside-namespace', 'not-text']);

let workspaceFolders: string[] = [];
let canWatch = false;
let relativeGlobs = false;
const watched = new Set<string>();

function uriPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

const store = new CaptureStore(() =>
  documents.all().flatMap((d) => {
    const p = uriPath(d.uri);
    return p ? [{ path: p, text: d.getText(), version: d.version }] : [];
  }),
);

interface DocState {
  uri: string;
  version: number;
  loc: Located;
  doc: RuleDoc;
}

const states = new Map<string, DocState>();

/** The analysed document (parsed once per version). */
function state(uri: string): DocState | undefined {
  const td = documents.get(uri);
  if (!td) return undefined;
  const old = states.get(uri);
  if (old && old.version === td.version) return old;
  const text = td.getText();
  const p = uriPath(uri);
  const loc: Located = p ? store.locate(p, text) : { root: uri, shape: 'file', rel: uri.split('/').pop() || 'untitled', place: { node: 'pasted', namespace: 'host' } };
  const doc = analyzeRuleDoc(text, { file: loc.rel, place: loc.place });
  const st = { uri, version: td.version, loc, doc };
  states.set(uri, st);
  return st;
}

/** The capture of a document (loaded or cached). */
function capture(st: DocState): LoadedCapture | undefined {
  const td = documents.get(st.uri);
  if (!td) return undefined;
  try {
    const before = store.peek(st.loc.root);
    const cap = store.get(st.loc, td.getText(), td.version);
    if (cap !== before) {
      // A reload found by the disk check (no watcher told us) changes what the other open files see.
      if (before && st.loc.shape !== 'file') scheduleCapture(st.loc.root, st.uri);
      connection.console.log(`meshtrace: loaded ${st.loc.shape} ${st.loc.root}: ${cap.model.nodes.length} nodes, ${cap.model.namespaces.length} namespaces in ${cap.millis} ms`);
      void connection.sendNotification(CaptureLoadedNotification, { root: st.loc.root, nodes: cap.model.nodes.map((n) => n.name), namespaces: cap.model.namespaces.length, millis: cap.millis });
      watch(st.loc);
    }
    return cap;
  } catch (e) {
    connection.console.error(`meshtrace: cannot load the capture of ${st.uri}: ${e instanceof Error ? e.stack : String(e)}`);
    return undefined;
  }
}

/** Asks the client to report changes under a folder capture (when it can register watchers). */
function watch(loc: Located): void {
  if (!canWatch || loc.shape === 'file' || watched.has(loc.root)) return;
  watched.add(loc.root);
  const baseUri = pathToFileURL(loc.root).toString();
  const globPattern = relativeGlobs ? { baseUri, pattern: '**/*' } : `${loc.root.replace(/\\/g, '/')}/**/*`;
  connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern }] }).catch(() => watched.delete(loc.root));
}

// ---------------------------------------------------------------------------------------------
// Diagnostics, debounced per document; a change re-checks every open document of its capture.
// ---------------------------------------------------------------------------------------------

const pending = new Map<string, NodeJS.Timeout>();

function schedule(uri: string, delay = 200): void {
  const old = pending.get(uri);
  if (old) clearTimeout(old);
  pending.set(
    uri,
    setTimeout(() => {
      pending.delete(uri);
      publish(uri);
    }, delay),
  );
}

function publish(uri: string): void {
  const st = state(uri);
  if (!st) return;
  try {
    const cap = capture(st);
    const modelProblems = cap ? cap.model.problems.filter((p) => p.file === st.loc.rel && MODEL_CODES.has(p.code)) : [];
    const diags = ruleDocDiagnostics(st.doc, cap?.index, modelProblems).map((d) => toDiagnostic(d, st.loc, uri));
    void connection.sendDiagnostics({ uri, version: st.version, diagnostics: diags });
  } catch (e) {
    connection.console.error(`meshtrace: diagnostics of ${uri} failed: ${e instanceof Error ? e.stack : String(e)}`);
  }
}

function scheduleCapture(root: string, except?: string): void {
  for (const d of documents.all()) {
    if (d.uri === except) continue;
    const st = state(d.uri);
    if (st && st.loc.root === root) schedule(d.uri, 300);
  }
}

documents.onDidChangeContent((e) => {
  schedule(e.document.uri);
  const st = state(e.document.uri);
  if (st && st.loc.shape !== 'file') scheduleCapture(st.loc.root, e.document.uri);
});

documents.onDidClose((e) => {
  states.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  const p = uriPath(e.document.uri);
  if (!p) return;
  // Its unsaved text no longer overrides the disk: the others see the file as saved.
  const loc = store.locate(p);
  if (loc.shape !== 'file') scheduleCapture(loc.root);
  else store.invalidate(loc.root);
});

connection.onDidChangeWatchedFiles((e) => {
  const roots = new Set<string>();
  for (const c of e.changes) {
    const p = uriPath(c.uri);
    if (p) for (const r of store.rootsContaining(p)) roots.add(r);
  }
  for (const r of roots) {
    store.invalidate(r);
    scheduleCapture(r);
  }
});

connection.onNotification(ReloadCapturesNotification, (p) => {
  store.invalidate(p.root);
  states.clear();
  for (const d of documents.all()) schedule(d.uri, 0);
});

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

connection.onInitialize((params): InitializeResult => {
  const folders = params.workspaceFolders?.map((f) => uriPath(f.uri)).filter((p): p is string => !!p) ?? [];
  const root = params.rootUri ? uriPath(params.rootUri) : undefined;
  workspaceFolders = folders.length ? folders : root ? [root] : [];
  const w = params.capabilities.workspace?.didChangeWatchedFiles;
  canWatch = w?.dynamicRegistration === true;
  relativeGlobs = w?.relativePatternSupport === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      documentSymbolProvider: { label: 'meshtrace' },
      workspaceSymbolProvider: true,
      foldingRangeProvider: true,
      renameProvider: { prepareProvider: true },
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'meshtrace' },
  };
});

connection.onHover((p): Hover | null => {
  const st = state(p.textDocument.uri);
  if (!st) return null;
  const h = hoverRuleDoc(st.doc, p.position, capture(st)?.index);
  return h ? { contents: { kind: 'markdown', value: h.markdown }, range: toRange(h.span) } : null;
});

connection.onDefinition((p): Location[] => {
  const st = state(p.textDocument.uri);
  if (!st) return [];
  return definition(st.doc, p.position).map((span) => toLocation(st.loc, st.uri, { span }));
});

connection.onReferences((p): Location[] => {
  const st = state(p.textDocument.uri);
  if (!st) return [];
  return references(st.doc, p.position, p.context.includeDeclaration).map((span) => toLocation(st.loc, st.uri, { span }));
});

connection.onDocumentSymbol((p) => {
  const st = state(p.textDocument.uri);
  return st ? documentSymbols(st.doc).map(toSymbol) : [];
});

connection.onFoldingRanges((p) => {
  const st = state(p.textDocument.uri);
  return st ? foldingRanges(st.doc).map(toFold) : [];
});

connection.onCodeLens((p) => {
  const st = state(p.textDocument.uri);
  return st ? codeLenses(st.doc).map((l) => toLens(l, st.loc)) : [];
});

connection.onPrepareRename((p) => {
  const st = state(p.textDocument.uri);
  if (!st) return null;
  const r = prepareRename(st.doc, p.position);
  if (!r) return null;
  if ('error' in r) return new ResponseError(ErrorCodes.InvalidRequest, r.error);
  return { range: toRange(r.span), placeholder: r.name };
});

connection.onRenameRequest((p): WorkspaceEdit | ResponseError<void> | null => {
  const st = state(p.textDocument.uri);
  if (!st) return null;
  const r = rename(st.doc, p.position, p.newName);
  if ('error' in r) return new ResponseError(ErrorCodes.InvalidRequest, r.error);
  return { changes: { [st.uri]: r.edits.map((e) => ({ range: toRange(e.at.span), newText: e.newText })) } };
});

/** Workspace symbol scan results, by file and mtime. */
const scanned = new Map<string, { mtime: number; symbols: ReturnType<typeof chainSymbols> }>();

connection.onWorkspaceSymbol((p): WorkspaceSymbol[] => {
  const q = p.query.toLowerCase();
  const out: WorkspaceSymbol[] = [];
  const add = (uri: string, syms: ReturnType<typeof chainSymbols>): void => {
    for (const s of syms) {
      if (out.length >= 1000) return;
      if (q && !s.name.toLowerCase().includes(q)) continue;
      out.push({ name: s.name, kind: SymbolKind.Function, containerName: s.container, location: { uri, range: toRange(s.span) } });
    }
  };
  const open = new Set<string>();
  for (const d of documents.all()) {
    const st = state(d.uri);
    if (!st) continue;
    open.add(d.uri);
    add(d.uri, chainSymbols(st.doc));
  }
  const files = new Set(findRuleFiles(workspaceFolders));
  for (const root of store.roots()) {
    const cap = store.peek(root);
    for (const f of cap?.model.files ?? []) if (f.kind?.startsWith('iptables')) files.add(CaptureStore.toPath({ root, shape: cap?.shape ?? 'capture' }, f.path));
  }
  for (const f of files) {
    const uri = pathToFileURL(f).toString();
    if (open.has(uri)) continue;
    const r = readSmall(f);
    if (!r) continue;
    let hit = scanned.get(f);
    if (!hit || hit.mtime !== r.mtime) {
      const loc = store.locate(f, r.text);
      hit = { mtime: r.mtime, symbols: chainSymbols(analyzeRuleDoc(r.text, { file: loc.rel, place: loc.place })) };
      scanned.set(f, hit);
    }
    add(uri, hit.symbols);
  }
  return out;
});

connection.onRequest(CaptureInfoRequest, (p): CaptureInfo | null => {
  const st = state(p.uri);
  if (!st) return null;
  const cap = capture(st);
  const problems = { error: 0, warning: 0, info: 0 };
  for (const x of cap?.model.problems ?? []) problems[x.severity]++;
  return {
    root: st.loc.root,
    shape: st.loc.shape,
    file: st.loc.rel,
    node: st.loc.place?.node,
    namespace: st.loc.place?.namespace,
    kind: st.doc.sections[0]?.kind,
    nodes: cap?.model.nodes.map((n) => n.name) ?? [],
    namespaces: cap?.model.namespaces.length ?? 0,
    problems,
  };
});

documents.listen(connection);
connection.listen();
