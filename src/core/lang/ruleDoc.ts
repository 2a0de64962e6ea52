/**
 * A rule file as the language features see it: its lines, the dumps in it (one, or one per bundle
 * section), what the core parsers made of each, and an index from lines to the rules, chains and
 * tables they hold. Tokens of a line (`lexLine`) are cut on demand, with the same quoting rules as
 * the parsers (iptablesRule.ts `tokenizeRule`), so columns agree with the parsers' problems.
 */
import type { Problem } from '../problem';
import type { DumpKind } from '../model/model';
import type { Chain, Rule, Ruleset, Table } from '../model/netfilter';
import type { IpvsTable } from '../model/ipvs';
import { detectKind } from '../parsers/detectKind';
import { parseDump } from '../parsers/index';
import { isBundle, parseBundle } from '../parsers/parseBundle';
import { MATCH_BY_NAME, RuleTokens, TARGET_BY_NAME, lookupOpt, tokenizeRule, type ExtDef, type OptDef } from '../parsers/iptablesRule';

/** Which node and namespace a dump belongs to. */
export interface DocPlace {
  node: string;
  namespace: string;
}

/** One dump in a document: the whole file, or one section of a bundle. */
export interface DocSection {
  kind?: DumpKind;
  /** 0-based line of the dump's first line. */
  first: number;
  /** 0-based line after the dump's last line. */
  end: number;
  /** The bundle header line (`### meshtrace node=… ns=… cmd=…`), when in a bundle. */
  header?: { line: number; cmd?: string };
  place?: DocPlace;
  ruleset?: Ruleset;
  ipvs?: IpvsTable;
  problems: Problem[];
}

/** A rule, chain or table found on a line, with its section. */
export interface LineEntry<T> {
  item: T;
  section: DocSection;
}

/** A parsed rule file. */
export interface RuleDoc {
  /** Path of the file as the model names it (capture-relative), used in every Source. */
  file: string;
  lines: string[];
  bundle: boolean;
  sections: DocSection[];
  /** Problems of the document as a whole (bundle headers). */
  problems: Problem[];
  rules: Map<number, LineEntry<Rule>>;
  chains: Map<number, LineEntry<Chain>>;
  tables: Map<number, LineEntry<Table>>;
}

/** How to read a document. */
export interface AnalyzeOptions {
  /** Capture-relative path (or the file name of a lone dump). */
  file: string;
  /** Node and namespace of a plain (non-bundle) document, when it sits in a capture. */
  place?: DocPlace;
}

/** Splits text into lines exactly as an editor numbers them (a final newline opens an empty line). */
export function docLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  return lines;
}

/** Reads a document: finds its dumps, parses the iptables and ipvsadm ones, indexes lines. Never throws. */
export function analyzeRuleDoc(text: string, opts: AnalyzeOptions): RuleDoc {
  const lines = docLines(text);
  const doc: RuleDoc = { file: opts.file, lines, bundle: false, sections: [], problems: [], rules: new Map(), chains: new Map(), tables: new Map() };
  if (isBundle(text)) {
    doc.bundle = true;
    const b = parseBundle(text, opts.file);
    doc.problems.push(...b.problems);
    for (const f of b.value) {
      const first = f.lineOffset;
      const count = f.text === '' ? 0 : f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0);
      const det = detectKind(f.text, '', f.cmd);
      const sec: DocSection = { kind: det.kind, first, end: first + count, header: { line: first - 1, cmd: f.cmd }, place: { node: f.node, namespace: f.namespace }, problems: [] };
      readSection(sec, f.text, opts.file, det.table ?? f.cmd, doc);
    }
  } else {
    const base = opts.file.split('/').pop() ?? opts.file;
    const det = detectKind(text, base);
    const sec: DocSection = { kind: det.kind, first: 0, end: lines.length, place: opts.place, problems: [] };
    readSection(sec, text, opts.file, det.table ?? base, doc);
  }
  return doc;
}

function readSection(sec: DocSection, text: string, file: string, hint: string | undefined, doc: RuleDoc): void {
  doc.sections.push(sec);
  if (!sec.kind) return;
  if (sec.kind !== 'iptables-save' && sec.kind !== 'iptables-S' && sec.kind !== 'iptables-L' && sec.kind !== 'ipvsadm') return;
  const out = parseDump(sec.kind, text, { file, hint, lineOffset: sec.first });
  sec.problems = out.result.problems;
  if (out.kind === 'iptables-save' || out.kind === 'iptables-S' || out.kind === 'iptables-L') {
    sec.ruleset = out.result.value;
    for (const t of sec.ruleset.tables) {
      doc.tables.set(t.source.line - 1, { item: t, section: sec });
      for (const c of t.chains) {
        doc.chains.set(c.source.line - 1, { item: c, section: sec });
        for (const r of c.rules) doc.rules.set(r.source.line - 1, { item: r, section: sec });
      }
    }
  } else if (out.kind === 'ipvsadm') {
    sec.ipvs = out.result.value;
  }
}

/** The section a 0-based line belongs to (bundle header lines belong to the section they open). */
export function sectionAt(doc: RuleDoc, line: number): DocSection | undefined {
  for (const s of doc.sections) {
    if (line >= s.first && line < s.end) return s;
    if (s.header && s.header.line === line) return s;
  }
  return undefined;
}

/** Whether a section holds iptables rules in one of the three forms. */
export function isIptablesKind(k: DumpKind | undefined): k is 'iptables-save' | 'iptables-S' | 'iptables-L' {
  return k === 'iptables-save' || k === 'iptables-S' || k === 'iptables-L';
}

// ---------------------------------------------------------------------------------------------
// Tokens of one line
// ---------------------------------------------------------------------------------------------

/** What a token of a rule file is. */
export type TokKind =
  | 'header' // `# Generated by …`, `# Completed on …`
  | 'comment' // any other `#` line
  | 'bundle' // `### meshtrace …`
  | 'table' // `*nat`
  | 'commit' // COMMIT
  | 'chain-decl' // `:NAME`, `-N NAME`, `-P NAME`, `Chain NAME`
  | 'policy' // ACCEPT / DROP / `-` of a declaration
  | 'refs' // `(2 references)` of `iptables -L`
  | 'counters' // `[12:806]`, `-c 12 806`, the pkts/bytes columns, policy counters
  | 'command' // `-A`, `-N`, `-P`
  | 'chain' // the chain after `-A`
  | 'bang' // `!`
  | 'option' // `-s`, `--dport`, `-m`, `-j`, …
  | 'match' // the name after `-m`
  | 'target' // the name after `-j` / `-g`, or the target column of `iptables -L`
  | 'value' // an option's argument (also the prot/in/out/source/destination columns of `-L`)
  | 'ext' // a word of the match and target text of an `iptables -L` row
  | 'colhead' // a column title of `iptables -L`
  | 'num'; // the `--line-numbers` column

/** One token of a line. Columns are 0-based, end exclusive. */
export interface Tok {
  kind: TokKind;
  start: number;
  end: number;
  /** The token's text, unquoted. */
  text: string;
  /** The option this token is, or is an argument of, as written (`-s`, `--dport`, `-j`). */
  opt?: string;
  /** The match or target the option belongs to; '' for the rule's own -s/-d/-i/-o/-p/-f. */
  owner?: string;
  ownerKind?: 'match' | 'target' | 'top';
  /** Which argument of its option this value is (0-based). */
  arg?: number;
  /** For `-j`/`-g` targets: `-g`. */
  goto?: boolean;
  /** Set on a value or option preceded by `!`. */
  invert?: boolean;
}

const TOP_OPTS: Readonly<Record<string, string>> = {
  '-s': '-s', '--source': '-s', '--src': '-s',
  '-d': '-d', '--destination': '-d', '--dst': '-d',
  '-i': '-i', '--in-interface': '-i',
  '-o': '-o', '--out-interface': '-o',
  '-p': '-p', '--protocol': '-p',
  '-f': '-f', '--fragment': '-f',
};

const PROTO_MATCH: Readonly<Record<string, string>> = { tcp: 'tcp', udp: 'udp', sctp: 'sctp', icmp: 'icmp', '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', 'ipv6-icmp': 'icmp6', icmpv6: 'icmp6' };

/** Finds an option of an extension by its written form: exact, alias, or unique prefix (getopt_long). */
export function findOptDef(d: ExtDef | undefined, written: string): OptDef | undefined {
  return d && written.startsWith('--') ? lookupOpt(d, written) : undefined;
}

const scratch = new RuleTokens();

/** Tokens of one 0-based line of the document. */
export function lexLine(doc: RuleDoc, line: number): Tok[] {
  const raw = doc.lines[line];
  if (raw === undefined) return [];
  const sec = sectionAt(doc, line);
  if (sec?.header && sec.header.line === line) return [{ kind: 'bundle', start: 0, end: raw.length, text: raw }];
  if (!sec) return [];
  if (sec.kind === 'iptables-L') return lexListLine(doc, sec, line, raw);
  if (sec.kind === 'iptables-save' || sec.kind === 'iptables-S') return lexSaveLine(raw);
  return [];
}

/** Tokens of an `iptables-save` or `iptables -S` line. */
export function lexSaveLine(raw: string): Tok[] {
  let p = 0;
  while (p < raw.length && (raw[p] === ' ' || raw[p] === '\t')) p++;
  if (p >= raw.length) return [];
  const c = raw[p];
  if (c === '#') {
    const body = raw.slice(p);
    const kind: TokKind = body.startsWith('# Generated by ') || body.startsWith('# Completed on ') ? 'header' : 'comment';
    return [{ kind, start: p, end: raw.length, text: body }];
  }
  if (c === '*') return [{ kind: 'table', start: p, end: raw.trimEnd().length, text: raw.slice(p + 1).trim() }];
  if (raw.startsWith('COMMIT', p)) return [{ kind: 'commit', start: p, end: p + 6, text: 'COMMIT' }];
  if (c === ':') {
    const out: Tok[] = [];
    const words = wordsOf(raw, p + 1);
    if (words.length > 0) out.push({ kind: 'chain-decl', start: p, end: words[0].end, text: words[0].text });
    if (words.length > 1) out.push({ kind: 'policy', start: words[1].start, end: words[1].end, text: words[1].text });
    if (words.length > 2) out.push({ kind: 'counters', start: words[2].start, end: raw.trimEnd().length, text: raw.slice(words[2].start).trim() });
    return out;
  }
  const out: Tok[] = [];
  let at = p;
  if (c === '[') {
    const close = raw.indexOf(']', p);
    if (close < 0) return [];
    out.push({ kind: 'counters', start: p, end: close + 1, text: raw.slice(p, close + 1) });
    at = close + 1;
  }
  tokenizeRule(raw, at, scratch);
  const n = scratch.n;
  const T = scratch.texts;
  const S = scratch.starts;
  const E = scratch.ends;
  const Q = scratch.quoted;
  if (n === 0) return out;
  const tok = (k: number, kind: TokKind, extra: Partial<Tok> = {}): Tok => ({ kind, start: S[k], end: E[k], text: T[k], ...extra });
  const cmd = T[0];
  if (cmd === '-P' || cmd === '--policy') {
    out.push(tok(0, 'command'));
    if (n > 1) out.push(tok(1, 'chain-decl'));
    if (n > 2) out.push(tok(2, 'policy'));
    if (n > 3 && T[3] === '-c') out.push({ kind: 'counters', start: S[3], end: E[Math.min(n, 6) - 1], text: T.slice(3, Math.min(n, 6)).join(' ') });
    return out;
  }
  if (cmd === '-N' || cmd === '--new-chain') {
    out.push(tok(0, 'command'));
    if (n > 1) out.push(tok(1, 'chain-decl'));
    return out;
  }
  if (cmd !== '-A' && cmd !== '--append') return out;
  out.push(tok(0, 'command'));
  if (n > 1) out.push(tok(1, 'chain'));
  // Walk the options the way buildRuleSpec does, to know who owns each `--option`.
  const owners: { name: string; kind: 'match' | 'target'; def?: ExtDef }[] = [];
  let cur = -1;
  let proto: string | undefined;
  let invert = false;
  let k = 2;
  while (k < n) {
    const t = T[k];
    if (!Q[k] && t === '!') {
      out.push(tok(k, 'bang'));
      invert = true;
      k++;
      continue;
    }
    if (Q[k] || !t.startsWith('-') || t.length < 2) {
      out.push(tok(k, 'value', { invert }));
      invert = false;
      k++;
      continue;
    }
    if (t === '-m' || t === '--match') {
      out.push(tok(k, 'option', { opt: '-m' }));
      if (k + 1 < n) {
        const def = MATCH_BY_NAME.get(T[k + 1]);
        owners.push({ name: T[k + 1], kind: 'match', def });
        cur = owners.length - 1;
        out.push(tok(k + 1, 'match', { owner: T[k + 1], ownerKind: 'match' }));
      }
      k += 2;
      invert = false;
      continue;
    }
    if (t === '-j' || t === '--jump' || t === '-g' || t === '--goto') {
      const isGoto = t === '-g' || t === '--goto';
      out.push(tok(k, 'option', { opt: isGoto ? '-g' : '-j' }));
      if (k + 1 < n) {
        const def = isGoto ? undefined : TARGET_BY_NAME.get(T[k + 1]);
        owners.push({ name: T[k + 1], kind: 'target', def });
        cur = owners.length - 1;
        out.push(tok(k + 1, 'target', { owner: T[k + 1], ownerKind: 'target', goto: isGoto }));
      }
      k += 2;
      invert = false;
      continue;
    }
    if (t === '-c' && k + 2 < n) {
      out.push({ kind: 'counters', start: S[k], end: E[k + 2], text: `${T[k + 1]} ${T[k + 2]}` });
      k += 3;
      continue;
    }
    const top = TOP_OPTS[t];
    if (top !== undefined) {
      out.push(tok(k, 'option', { opt: top, owner: '', ownerKind: 'top', invert }));
      k++;
      if (top === '-f') {
        invert = false;
        continue;
      }
      if (k + 1 < n && !Q[k] && T[k] === '!') {
        out.push(tok(k, 'bang'));
        invert = true;
        k++;
      }
      if (k < n) {
        out.push(tok(k, 'value', { opt: top, owner: '', ownerKind: 'top', arg: 0, invert }));
        if (top === '-p') proto = T[k];
        k++;
      }
      invert = false;
      continue;
    }
    // An extension option: the current match or target, an earlier one, or the protocol's match.
    let ownerName = cur >= 0 ? owners[cur].name : '';
    let ownerKind: 'match' | 'target' = cur >= 0 ? owners[cur].kind : 'match';
    let od = cur >= 0 ? findOptDef(owners[cur].def, t) : undefined;
    if (!od) {
      for (let m = owners.length - 1; m >= 0; m--) {
        const d = findOptDef(owners[m].def, t);
        if (d) {
          od = d;
          ownerName = owners[m].name;
          ownerKind = owners[m].kind;
          break;
        }
      }
    }
    if (!od && proto) {
      const pm = PROTO_MATCH[proto.toLowerCase()];
      const d = pm ? findOptDef(MATCH_BY_NAME.get(pm), t) : undefined;
      if (d && pm) {
        od = d;
        ownerName = pm;
        ownerKind = 'match';
        owners.push({ name: pm, kind: 'match', def: MATCH_BY_NAME.get(pm) });
      }
    }
    const optName = od ? `--${od.name}` : t;
    out.push(tok(k, 'option', { opt: optName, owner: ownerName, ownerKind, invert }));
    k++;
    let inv = invert;
    if (k + 1 < n && !Q[k] && T[k] === '!') {
      out.push(tok(k, 'bang'));
      inv = true;
      k++;
    }
    const want = od ? od.args : -1;
    let a = 0;
    while (k < n && (want < 0 || a < want) && (Q[k] || (!T[k].startsWith('-') && T[k] !== '!') || (want > 0 && T[k] !== '!'))) {
      out.push(tok(k, 'value', { opt: optName, owner: ownerName, ownerKind, arg: a, invert: inv }));
      a++;
      k++;
    }
    invert = false;
  }
  return out;
}

interface Word {
  text: string;
  start: number;
  end: number;
}

function wordsOf(raw: string, from = 0): Word[] {
  const out: Word[] = [];
  let i = from;
  while (i < raw.length) {
    while (i < raw.length && (raw[i] === ' ' || raw[i] === '\t')) i++;
    if (i >= raw.length) break;
    const s = i;
    while (i < raw.length && raw[i] !== ' ' && raw[i] !== '\t') i++;
    out.push({ text: raw.slice(s, i), start: s, end: i });
  }
  return out;
}

const LIST_COLUMNS = new Set(['num', 'pkts', 'bytes', 'target', 'prot', 'opt', 'in', 'out', 'source', 'destination']);

/** Tokens of an `iptables -L` line: a chain title, the column titles, or a rule row. */
function lexListLine(doc: RuleDoc, sec: DocSection, line: number, raw: string): Tok[] {
  const words = wordsOf(raw);
  if (words.length === 0) return [];
  if (words[0].text === 'Chain' && words.length >= 2) {
    const out: Tok[] = [{ kind: 'chain-decl', start: words[0].start, end: words[1].end, text: words[1].text }];
    const open = raw.indexOf('(', words[1].end);
    const close = raw.lastIndexOf(')');
    if (open >= 0 && close > open) {
      const inner = raw.slice(open + 1, close);
      const pol = /^policy (\S+)(?: (.*))?$/.exec(inner);
      if (pol) {
        const ps = open + 1 + 'policy '.length;
        out.push({ kind: 'policy', start: ps, end: ps + pol[1].length, text: pol[1] });
        if (pol[2]) out.push({ kind: 'counters', start: ps + pol[1].length + 1, end: close, text: pol[2] });
      } else out.push({ kind: 'refs', start: open, end: close + 1, text: inner });
    }
    return out;
  }
  if (LIST_COLUMNS.has(words[0].text) && words.every((w) => LIST_COLUMNS.has(w.text))) {
    return words.map((w) => ({ kind: 'colhead' as const, start: w.start, end: w.end, text: w.text }));
  }
  // A rule row: which columns the listing has comes from the last title row of this chain.
  let head: string[] | undefined;
  for (let l = line - 1; l >= sec.first && l >= line - 100000; l--) {
    const w = wordsOf(doc.lines[l]);
    if (w.length && w.every((x) => LIST_COLUMNS.has(x.text))) {
      head = w.map((x) => x.text);
      break;
    }
    if (w[0]?.text === 'Chain') break;
  }
  head ??= ['pkts', 'bytes', 'target', 'prot', 'opt', 'in', 'out', 'source', 'destination'];
  const rule = doc.rules.get(line)?.item;
  const hasTarget = rule ? rule.spec.target !== undefined : true;
  const out: Tok[] = [];
  let w = 0;
  for (const col of head) {
    if (w >= words.length) break;
    const x = words[w];
    if (col === 'target' && !hasTarget) continue;
    w++;
    const inv = x.text.startsWith('!') && x.text.length > 1;
    const text = inv ? x.text.slice(1) : x.text;
    const start = inv ? x.start + 1 : x.start;
    switch (col) {
      case 'num':
        out.push({ kind: 'num', start: x.start, end: x.end, text: x.text });
        break;
      case 'pkts':
      case 'bytes':
        out.push({ kind: 'counters', start: x.start, end: x.end, text: x.text, opt: col });
        break;
      case 'target':
        out.push({ kind: 'target', start: x.start, end: x.end, text: x.text, owner: x.text, ownerKind: 'target' });
        break;
      case 'prot':
        out.push({ kind: 'value', start, end: x.end, text, opt: '-p', owner: '', ownerKind: 'top', arg: 0, invert: inv });
        break;
      case 'opt':
        out.push({ kind: 'value', start: x.start, end: x.end, text: x.text, opt: '-f', owner: '', ownerKind: 'top', arg: 0 });
        break;
      case 'in':
      case 'out':
        out.push({ kind: 'value', start, end: x.end, text, opt: col === 'in' ? '-i' : '-o', owner: '', ownerKind: 'top', arg: 0, invert: inv });
        break;
      case 'source':
      case 'destination':
        out.push({ kind: 'value', start, end: x.end, text, opt: col === 'source' ? '-s' : '-d', owner: '', ownerKind: 'top', arg: 0, invert: inv });
        break;
    }
  }
  // The rest is what the matches' and target's print callbacks wrote; a `/* comment */` is one token.
  while (w < words.length) {
    const x = words[w];
    if (x.text === '/*') {
      const close = raw.indexOf(' */', x.end - 1);
      const end = close >= 0 ? close + 3 : raw.length;
      out.push({ kind: 'ext', start: x.start, end, text: raw.slice(x.start, end), opt: 'comment' });
      while (w < words.length && words[w].start < end) w++;
      continue;
    }
    out.push({ kind: 'ext', start: x.start, end: x.end, text: x.text });
    w++;
  }
  return out;
}

/** The token under a 0-based column, preferring the one that starts there. */
export function tokenAt(toks: Tok[], character: number): Tok | undefined {
  let best: Tok | undefined;
  for (const t of toks) {
    if (character >= t.start && character < t.end) return t;
    if (character === t.end) best = t;
  }
  return best;
}
