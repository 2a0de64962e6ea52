/**
 * Problems and source positions shared by every parser, the model builder and the simulator.
 * Errors are values inside the core: nothing here throws on bad input.
 */

import type { SpecCache } from './parsers/iptablesRule';
import type { Ruleset } from './model/netfilter';

/** How bad a problem is: `error` loses data, `warning` is suspicious input, `info` is a note. */
export type Severity = 'error' | 'warning' | 'info';

/** A place in a dump file: the file's path relative to the capture and a 1-based line. */
export interface Source {
  file: string;
  line: number;
}

/** One problem found in a dump, with its place (1-based line, 1-based columns, end exclusive). */
export interface Problem {
  code: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  col: number;
  endCol: number;
}

/** What every parser returns: the value it could read, and every problem it met on the way. */
export interface ParseResult<T> {
  value: T;
  problems: Problem[];
}

/** Collects problems for one file; parsers use it so every problem carries the file name. */
export class ProblemSink {
  readonly problems: Problem[] = [];
  constructor(readonly file: string) {}

  add(
    severity: Severity,
    code: string,
    line: number,
    message: string,
    col = 1,
    endCol?: number,
  ): void {
    this.problems.push({
      code,
      severity,
      message,
      file: this.file,
      line,
      col,
      endCol: endCol ?? Math.max(col + 1, col),
    });
  }

  error(code: string, line: number, message: string, col = 1, endCol?: number): void {
    this.add('error', code, line, message, col, endCol);
  }

  warn(code: string, line: number, message: string, col = 1, endCol?: number): void {
    this.add('warning', code, line, message, col, endCol);
  }

  info(code: string, line: number, message: string, col = 1, endCol?: number): void {
    this.add('info', code, line, message, col, endCol);
  }

  /** Whole-line problem helper: the column range covers the line's text. */
  lineProblem(severity: Severity, code: string, line: number, text: string, message: string): void {
    this.add(severity, code, line, message, 1, Math.max(2, text.length + 1));
  }
}

/** Formats a problem the way compilers do: `file:line:col: severity: message`. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.severity}: ${p.message}`;
}

/**
 * Splits text into lines without keeping the terminators; a final newline does not make an
 * extra empty line. Handles \r\n pastes.
 */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Options every parser accepts. */
export interface ParseOptions {
  /** The file's path relative to the capture; it goes into every Source and Problem. */
  file?: string;
  /** A hint from the file name or bundle header, e.g. the table of an `iptables -L` listing. */
  hint?: string;
  /** Line number of the dump's first line in the file (bundles: the line after the header). */
  lineOffset?: number;
  /**
   * State the parsers of one capture share (one object per load, passed to every parse): the
   * iptables rule parts already read, so the 100 near-identical rulesets of a swarm's nodes share
   * their parts instead of each reading them anew. Parsers fill it in; callers only create `{}`.
   * A later dump spelled like an earlier one gets a copy of the earlier one's reading, made from
   * the result returned then: read every dump of the capture before changing any result (as
   * buildModel does: it parses every file, then builds).
   */
  shared?: ParseShare;
  /**
   * iptables-save: whether a rule of a shape read before has its spec read on first use
   * (parsers/lazyRule.ts; its problems are still all reported at load). Default true; false
   * reads every spec now and gives plain rule objects.
   */
  lazy?: boolean;
}

/** See {@link ParseOptions.shared}. Opaque to callers. */
export interface ParseShare {
  /** iptables rule parts (parsers/iptablesRule.ts SpecCache). */
  ruleParts?: SpecCache;
  /** iptables-save dumps read already, by the hash of their text (parsers/parseIptablesSave.ts). */
  saveDumps?: Map<number, SavedDump[]>;
}

/** An iptables-save dump read already in this capture, and what reading it gave (the result returned then). */
export interface SavedDump {
  text: string;
  hint: string | undefined;
  lineOffset: number;
  result: ParseResult<Ruleset>;
}
