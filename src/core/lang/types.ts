/**
 * Plain data the language features return. Positions are 0-based lines and UTF-16 columns, as
 * editors count them; nothing here depends on LSP or VS Code types (the server converts).
 */

/** A place in a document: 0-based line, 0-based UTF-16 column. */
export interface Pos {
  line: number;
  character: number;
}

/** A span of a document, end exclusive. */
export interface Span {
  start: Pos;
  end: Pos;
}

/** A span in some file of the capture; `file` undefined means the document asked about. */
export interface FileSpan {
  /** Path relative to the capture root (as in the model's `Source.file`), or undefined for this document. */
  file?: string;
  span: Span;
}

/** How serious a diagnostic is. */
export type LangSeverity = 'error' | 'warning' | 'info' | 'hint';

/** One diagnostic, with links to the other lines that explain it. */
export interface LangDiagnostic {
  span: Span;
  severity: LangSeverity;
  code: string;
  message: string;
  related?: { at: FileSpan; message: string }[];
  /** `unnecessary` greys the text out (dead rules, unused chains). */
  tags?: 'unnecessary'[];
}

/** A hover: Markdown text and the token it is about. */
export interface LangHover {
  markdown: string;
  span: Span;
}

/** The kinds of outline entries. */
export type SymbolKindName = 'section' | 'table' | 'chain' | 'service' | 'dest';

/** An outline entry (tables → chains, IPVS services → real servers, bundle sections → …). */
export interface LangSymbol {
  name: string;
  detail: string;
  kind: SymbolKindName;
  /** The whole entry (for folding-like selection). */
  span: Span;
  /** The name to highlight. */
  selection: Span;
  children: LangSymbol[];
}

/** A foldable line range (0-based, inclusive end line). */
export interface LangFold {
  startLine: number;
  endLine: number;
  kind?: 'comment' | 'region';
}

/** What the "trace a packet into this chain" lens pre-fills in the Trace Packet wizard. */
export interface TraceSeed {
  /** Capture-relative path of the dump the lens is in. */
  file: string;
  node: string;
  namespace: string;
  table: string;
  chain: string;
  /** Built-in chains (hooks) from which this chain is reached, e.g. ['PREROUTING']. */
  hooks: string[];
  /** Where the packet starts: from outside on an interface, or from a local process. */
  entry: 'interface' | 'local';
  proto?: 'tcp' | 'udp' | 'icmp' | 'sctp';
  dport?: number;
  dst?: string;
  iif?: string;
}

/** A code lens: a label above a line, optionally running the trace wizard. */
export interface LangLens {
  span: Span;
  title: string;
  /** Set for the trace lens: the wizard's pre-filled answers. */
  trace?: TraceSeed;
}

/** A text edit in some file (rename). */
export interface LangEdit {
  at: FileSpan;
  newText: string;
}

/** Builds a span on one line. */
export function spanOn(line: number, start: number, end: number): Span {
  return { start: { line, character: start }, end: { line, character: end } };
}

/** Whether `pos` lies inside `s` (end inclusive, so a cursor right after a word still hits it). */
export function spanHas(s: Span, pos: Pos): boolean {
  if (pos.line < s.start.line || pos.line > s.end.line) return false;
  if (pos.line === s.start.line && pos.character < s.start.character) return false;
  if (pos.line === s.end.line && pos.character > s.end.character) return false;
  return true;
}
