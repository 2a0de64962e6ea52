/**
 * Small pieces shared by the iproute2 parsers (`ip addr`, `ip route`, `ip rule`, `ip neigh`,
 * `bridge fdb`): a whitespace tokenizer that keeps columns, address and number readers built on
 * ipaddr.js, author-annotation detection and a problem reporter that caps what a garbage input
 * can produce. Nothing here throws.
 */
import ipaddr from 'ipaddr.js';
import { ProblemSink, type ParseOptions, type Problem, type Severity, type Source } from '../problem';
import { J, parseJsonDump, type JsonValue } from './json';

/** An address family as iproute2 names it. */
export type Family = 'inet' | 'inet6';

/** One whitespace-separated word of a line, with its 1-based start column. */
export interface Tok {
  text: string;
  col: number;
}

/** iproute2 never prints lines this long; longer ones are garbage and are not tokenized. */
export const MAX_LINE = 65536;

/** Splits a line (from index `from`) on blanks and tabs, keeping each word's 1-based column. */
export function tokenize(line: string, from = 0): Tok[] {
  const out: Tok[] = [];
  let i = from;
  const n = line.length;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 32 || c === 9) break;
      i++;
    }
    out.push({ text: line.slice(start, i), col: start + 1 });
  }
  return out;
}

/**
 * Author annotations pasted into dumps (corpus SOURCES.md): `# ingress-sbox`, `# task`,
 * `[...snip...]`, a bare `...`. No iproute2 command prints a line starting with `#` or `[`.
 */
export function isAnnotation(line: string): boolean {
  const t = line.trim();
  if (t.startsWith('#')) return true;
  if (t === '...' || t === '…') return true;
  return t.startsWith('[') && t.endsWith(']') && (t.includes('...') || t.includes('…') || /snip/i.test(t));
}

/**
 * `ip -o` prints a record on one line with `\\` where the normal output breaks lines (`_SL_`).
 * Splits such a line into its parts; later parts are padded with blanks to their column, so they
 * read as the indented continuation lines they stand for and problems keep the right columns.
 */
export function onelineParts(raw: string): string[] {
  if (!raw.includes('\\')) return [raw];
  const parts = raw.split('\\');
  if (parts.length > 64) return [raw];
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < parts.length; i++) {
    out.push(i === 0 ? parts[i] : ' '.repeat(start) + parts[i]);
    start += parts[i].length + 1;
  }
  return out;
}

/** The value of `WORD VALUE` in a hint (a command such as `ip route show table 100`). */
export function hintWord(hint: string | undefined, word: string): string | undefined {
  if (!hint) return undefined;
  const toks = tokenize(hint);
  for (let i = 0; i + 1 < toks.length; i++) if (toks[i].text === word) return toks[i + 1].text;
  return undefined;
}

/** Shortens text for a message. */
export function clip(s: string, max = 60): string {
  return s.length > max ? s.slice(0, max) + '…' : s;
}

/** Strict unsigned decimal (what `%u`/`%d` print), up to 2^32-1. */
export function parseUint(s: string | undefined, max = 0xffffffff): number | undefined {
  if (s === undefined || s.length === 0 || s.length > 10) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const v = Number(s);
  return v <= max ? v : undefined;
}

/** `0x1f` (as `%#x` prints) or a decimal, up to 2^32-1. */
export function parseHexOrUint(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (/^0x[0-9a-fA-F]{1,8}$/.test(s)) return parseInt(s.slice(2), 16);
  return parseUint(s);
}

/** A parsed IP address, normalised the way inet_ntop prints it (shared: do not mutate). */
export interface Addr {
  readonly addr: string;
  readonly family: Family;
  readonly bytes: readonly number[];
}

/**
 * Reads an IPv4 (dotted quad only: inet_ntop never prints `10.1` or `0x0a...`) or IPv6 address
 * and normalises it (RFC 5952, like inet_ntop; v4-mapped addresses keep their dotted tail).
 */
export function parseAddr(s: string | undefined): Addr | undefined {
  if (!s || s.length > 64) return undefined;
  // Dumps repeat the same few addresses (gateways, prefsrc); ipaddr.js parsing dominates the
  // run time otherwise. The memo is bounded so a dump of distinct addresses cannot grow it.
  const hit = addrMemo.get(s);
  if (hit !== undefined) return hit ?? undefined;
  if (addrMemo.size >= ADDR_MEMO_MAX) addrMemo.clear();
  const a = parseAddrUncached(s);
  addrMemo.set(s, a ?? null);
  return a;
}

const ADDR_MEMO_MAX = 20000;
const addrMemo = new Map<string, Addr | null>();

function parseAddrUncached(s: string): Addr | undefined {
  try {
    if (s.includes(':')) {
      if (!ipaddr.IPv6.isValid(s) || s.includes('%')) return undefined;
      const a = ipaddr.IPv6.parse(s);
      const text = a.isIPv4MappedAddress() ? `::ffff:${a.toIPv4Address().toString()}` : a.toRFC5952String();
      return { addr: text, family: 'inet6', bytes: a.toByteArray() };
    }
    if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
    const a = ipaddr.IPv4.parse(s);
    return { addr: a.toString(), family: 'inet', bytes: a.toByteArray() };
  } catch {
    return undefined;
  }
}

/** Host prefix length of a family. */
export function hostLen(f: Family): number {
  return f === 'inet' ? 32 : 128;
}

/** The all-zero address of a family. */
export function anyAddr(f: Family): string {
  return f === 'inet' ? '0.0.0.0' : '::';
}

/** A prefix read from `ADDR/LEN`, a bare host address, or iproute2's `0/LEN` (no RTA_DST). */
export interface Prefix {
  addr: string;
  prefixLen: number;
  /** Undefined for `0/LEN`, whose family only the context tells. */
  family?: Family;
  /** Network address (host bits cleared); equals `addr` for a proper prefix. */
  network: string;
}

/** Why a prefix could not be read, for the message. */
export type PrefixError = 'address' | 'length';

/** Reads `10.0.0.0/24`, `fe80::/64`, `10.0.0.3` (host: /32 or /128) or `0/8`. */
export function parsePrefix(s: string): Prefix | PrefixError {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const lenText = slash < 0 ? undefined : s.slice(slash + 1);
  if (addrText === '0' && lenText !== undefined) {
    // print_route: `snprintf(b1, "0/%d ", r->rtm_dst_len)` when RTA_DST is absent.
    const len = parseUint(lenText, 128);
    if (len === undefined) return 'length';
    return { addr: '0', prefixLen: len, network: '0' };
  }
  const a = parseAddr(addrText);
  if (!a) return 'address';
  const max = hostLen(a.family);
  const len = lenText === undefined ? max : parseUint(lenText, max);
  if (len === undefined) return 'length';
  return { addr: a.addr, prefixLen: len, family: a.family, network: networkOf(a, len) };
}

/** The network address of `a/len`. */
export function networkOf(a: Addr, len: number): string {
  const bytes = a.bytes.slice();
  for (let i = 0; i < bytes.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, len - i * 8));
    bytes[i] &= bitsHere === 0 ? 0 : (0xff << (8 - bitsHere)) & 0xff;
  }
  if (a.family === 'inet') return bytes.join('.');
  const net = parseAddr(ipaddr.fromByteArray(bytes).toString());
  return net ? net.addr : a.addr;
}

/** A MAC (or other link-layer) address as ll_addr_n2a prints it: hex pairs joined by `:`. */
export function isLladdr(s: string): boolean {
  return s.length <= 200 && /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})*$/.test(s);
}

/**
 * Reports problems with lines relative to the dump (the reporter adds `lineOffset`) and caps
 * their number, so a 200 MB paste of garbage yields a readable list and a summary, not millions.
 */
export class Reporter {
  readonly sink: ProblemSink;
  readonly file: string;
  readonly offset: number;
  private count = 0;
  private annotations = 0;
  private dropped = 0;
  private droppedWorst: Severity = 'info';
  private lastDroppedLine = 0;

  constructor(opts: ParseOptions, private readonly limit = 500) {
    this.file = opts.file ?? '<input>';
    this.offset = opts.lineOffset ?? 0;
    this.sink = new ProblemSink(this.file);
  }

  /** Source of a dump line (1-based within the dump). */
  src(line: number): Source {
    return { file: this.file, line: line + this.offset };
  }

  /** A problem on a dump line, optionally on one token. */
  add(severity: Severity, code: string, line: number, message: string, tok?: Tok): void {
    if (this.capped(code)) return this.drop(severity, line);
    if (code !== 'annotation') this.count++;
    if (tok) this.sink.add(severity, code, line + this.offset, message, tok.col, tok.col + Math.max(1, tok.text.length));
    else this.sink.add(severity, code, line + this.offset, message);
  }

  /** A problem covering a whole line. */
  line(severity: Severity, code: string, line: number, text: string, message: string): void {
    if (this.capped(code)) return this.drop(severity, line);
    if (code !== 'annotation') this.count++;
    this.sink.lineProblem(severity, code, line + this.offset, text, message);
  }

  /**
   * Annotation warnings are reported one per line (users and tests count them) and do not use up
   * the budget of other problems; they have a far larger cap of their own.
   */
  private capped(code: string): boolean {
    if (code === 'annotation') return this.annotations++ >= this.limit * 20;
    return this.count >= this.limit;
  }

  private drop(severity: Severity, line: number): void {
    this.dropped++;
    this.lastDroppedLine = line;
    if (rank(severity) > rank(this.droppedWorst)) this.droppedWorst = severity;
  }

  /** Reports author annotation lines (one warning each). */
  annotation(line: number, text: string): void {
    this.line('warning', 'annotation', line, text, `author annotation \`${clip(text.trim())}\` is not iproute2 output; skipped`);
  }

  /** Adds the summary of capped problems and returns them all. */
  finish(): Problem[] {
    if (this.dropped > 0) {
      this.sink.add(this.droppedWorst, 'too-many-problems', this.lastDroppedLine + this.offset, `${this.dropped} more problems in this file are not listed`);
    }
    return this.sink.problems;
  }
}

function rank(s: Severity): number {
  return s === 'error' ? 2 : s === 'warning' ? 1 : 0;
}

/** A JSON scalar as text, for `extra`-style records (objects and arrays as compact JSON). */
export function jsonText(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = JSON.stringify(v);
  return s.length > 2000 ? s.slice(0, 2000) + '…' : s;
}

/** True when a JSON object has the key (iproute2 prints flags as `"key": null`). */
export function hasKey(o: Record<string, JsonValue>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Reads a dump that must be a JSON array; reports why not. */
export function jsonArray(
  text: string,
  r: Reporter,
  what: string,
): { list: JsonValue[]; line: (v: JsonValue) => number } | undefined {
  if (text.trim() === '') {
    r.add('info', 'empty', 1, `the file is empty (no ${what})`);
    return undefined;
  }
  const doc = parseJsonDump(text, r.sink, r.offset);
  const line = (v: JsonValue): number => doc.lineOf(v) - r.offset;
  if (doc.value === undefined) return undefined;
  const list = J.arr(doc.value);
  if (!list) {
    r.add('error', 'json-shape', line(doc.value), `expected a JSON array of ${what}, got ${jsonKind(doc.value)}`);
    return undefined;
  }
  return { list, line };
}

/** Describes a JSON value's type for a message. */
export function jsonKind(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
