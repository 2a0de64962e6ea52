/** Converts core/lang's plain data into LSP types. Nothing is computed here. */
import { pathToFileURL } from 'node:url';
import {
  type CodeLens,
  Diagnostic,
  DiagnosticSeverity,
  DiagnosticTag,
  DocumentSymbol,
  FoldingRange,
  FoldingRangeKind,
  Location,
  Range,
  SymbolKind,
} from 'vscode-languageserver/node';
import type { FileSpan, LangDiagnostic, LangFold, LangLens, LangSymbol, Span } from '../core/lang/types';
import { TRACE_COMMAND, type TracePrefill } from '../shared/protocol';
import { CaptureStore, type Located } from './captureStore';

/** A core span as an LSP range. */
export function toRange(s: Span): Range {
  return Range.create(s.start.line, s.start.character, s.end.line, s.end.character);
}

/** The URI of a file of a capture (`Source.file`), or the document's own URI. */
export function fileUri(loc: Located, docUri: string, file: string | undefined): string {
  if (file === undefined || file === loc.rel) return docUri;
  return pathToFileURL(CaptureStore.toPath(loc, file)).toString();
}

/** A location in the document or another file of its capture. */
export function toLocation(loc: Located, docUri: string, at: FileSpan): Location {
  return Location.create(fileUri(loc, docUri, at.file), toRange(at.span));
}

const SEVERITY: Record<LangDiagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** A diagnostic, with related information resolved to URIs. */
export function toDiagnostic(d: LangDiagnostic, loc: Located, docUri: string): Diagnostic {
  const out = Diagnostic.create(toRange(d.span), d.message, SEVERITY[d.severity], d.code, 'meshtrace');
  if (d.related?.length) out.relatedInformation = d.related.map((r) => ({ location: toLocation(loc, docUri, r.at), message: r.message }));
  if (d.tags?.includes('unnecessary')) out.tags = [DiagnosticTag.Unnecessary];
  return out;
}

const KIND: Record<LangSymbol['kind'], SymbolKind> = {
  section: SymbolKind.Module,
  table: SymbolKind.Namespace,
  chain: SymbolKind.Function,
  service: SymbolKind.Class,
  dest: SymbolKind.Field,
};

/** An outline entry. */
export function toSymbol(s: LangSymbol): DocumentSymbol {
  return DocumentSymbol.create(s.name, s.detail, KIND[s.kind], toRange(s.span), toRange(s.selection), s.children.map(toSymbol));
}

/** A folding range. */
export function toFold(f: LangFold): FoldingRange {
  const kind = f.kind === 'comment' ? FoldingRangeKind.Comment : f.kind === 'region' ? FoldingRangeKind.Region : undefined;
  return FoldingRange.create(f.startLine, f.endLine, undefined, undefined, kind);
}

/** A code lens: the trace lens runs the client's Trace Packet command; counter lenses only show. */
export function toLens(l: LangLens, loc: Located): CodeLens {
  // A counters lens only shows its title: an empty command id is not clickable in VS Code.
  if (!l.trace) return { range: toRange(l.span), command: { title: l.title, command: '' } };
  const s = l.trace;
  const prefill: TracePrefill = {
    capture: loc.root,
    query: { node: s.node, namespace: s.namespace, ...(s.iif ? { iif: s.iif } : {}), ...(s.proto && s.proto !== 'sctp' ? { proto: s.proto } : {}), ...(s.dst ? { dst: s.dst } : {}), ...(s.dport !== undefined ? { dport: s.dport } : {}) },
    table: s.table,
    chain: s.chain,
    hooks: s.hooks,
    entry: s.entry,
    cli: traceCli(loc.root, s),
  };
  return { range: toRange(l.span), command: { title: l.title, command: TRACE_COMMAND, arguments: [prefill] } };
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `meshtrace trace` command line (../shared/spec/cli.md) a lens stands for. */
export function traceCli(capture: string, s: NonNullable<LangLens['trace']>): string {
  const w = ['meshtrace', 'trace', shellWord(capture), '--node', shellWord(s.node), '--ns', shellWord(s.namespace)];
  if (s.entry === 'interface') w.push('--iif', s.iif ? shellWord(s.iif) : '<interface>');
  w.push('--proto', s.proto && s.proto !== 'sctp' ? s.proto : '<tcp|udp|icmp>', '--src', '<ip>', '--dst', s.dst ?? '<ip>');
  if (s.proto !== 'icmp') w.push('--dport', s.dport !== undefined ? String(s.dport) : '<port>');
  return w.join(' ');
}
