/**
 * Navigation in rule files: where chains are declared and used (definition, references,
 * rename), the outline (tables → chains, bundle sections, IPVS services), folding, and the code
 * lenses (trace a packet into a chain, per-rule counters).
 */
import type { Chain, Rule, Table } from '../model/netfilter';
import { BUILTIN_CHAINS } from '../model/netfilter';
import { isTargetExtension } from '../parsers/iptablesRule';
import { ruleDport } from './describe';
import { chainNamed, hooksReaching, tableOfLine } from './tables';
import { ipvsFolds, ipvsSymbols } from './ipvsLang';
import { TARGETS } from './knowledge';
import { isIptablesKind, lexLine, sectionAt, tokenAt, type DocSection, type RuleDoc, type Tok } from './ruleDoc';
import { spanOn, type LangEdit, type LangFold, type LangLens, type LangSymbol, type Pos, type Span, type TraceSeed } from './types';

/** Where one chain name occurs in one table of a document. */
export interface ChainOccurrences {
  table: Table;
  section: DocSection;
  name: string;
  /** `:NAME`, `-N NAME`, `-P NAME`, `Chain NAME`. */
  decl?: Span;
  /** The chain names of its rules (`-A NAME`). */
  appends: Span[];
  /** Jumps and gotos to it (`-j NAME`, `-g NAME`, the target column of `-L`). */
  refs: Span[];
}

/** Chain occurrences of a document, per section and table, keyed `section#table#name`. */
export type ChainIndex = Map<string, ChainOccurrences>;

const cache = new WeakMap<RuleDoc, ChainIndex>();

function key(sec: DocSection, doc: RuleDoc, table: string, name: string): string {
  return `${doc.sections.indexOf(sec)}#${table}#${name}`;
}

/** Builds (once per document) the index of every chain name's declaration, rules and references. */
export function chainIndex(doc: RuleDoc): ChainIndex {
  const hit = cache.get(doc);
  if (hit) return hit;
  const idx: ChainIndex = new Map();
  for (const sec of doc.sections) {
    if (!isIptablesKind(sec.kind) || !sec.ruleset) continue;
    for (const t of sec.ruleset.tables) {
      for (const c of t.chains) idx.set(key(sec, doc, t.name, c.name), { table: t, section: sec, name: c.name, appends: [], refs: [] });
    }
    const occ = (t: Table, name: string): ChainOccurrences => {
      const k = key(sec, doc, t.name, name);
      let o = idx.get(k);
      if (!o) {
        o = { table: t, section: sec, name, appends: [], refs: [] };
        idx.set(k, o);
      }
      return o;
    };
    for (let line = sec.first; line < sec.end; line++) {
      const toks = lexLine(doc, line);
      if (toks.length === 0) continue;
      const t = tableOfLine(sec, line);
      if (!t) continue;
      for (const tok of toks) {
        if (tok.kind === 'chain-decl') {
          const o = occ(t, tok.text);
          o.decl ??= nameSpan(line, tok);
        } else if (tok.kind === 'chain') occ(t, tok.text).appends.push(spanOn(line, tok.start, tok.end));
        else if (tok.kind === 'target' && isChainTarget(t, tok)) occ(t, tok.text).refs.push(spanOn(line, tok.start, tok.end));
      }
    }
  }
  cache.set(doc, idx);
  return idx;
}

/** The name part of a declaration token (`:DOCKER` → `DOCKER`, `Chain DOCKER` → `DOCKER`). */
function nameSpan(line: number, tok: Tok): Span {
  return spanOn(line, tok.end - tok.text.length, tok.end);
}

function isChainTarget(t: Table, tok: Tok): boolean {
  if (tok.goto) return true;
  const c = chainNamed(t, tok.text);
  if (c && !c.builtin) return true;
  return !isTargetExtension(tok.text) && !(tok.text in TARGETS) && /^[^-]/.test(tok.text);
}

/** The chain occurrence under the cursor, if the cursor is on a chain name. */
export function chainAt(doc: RuleDoc, pos: Pos): { occ: ChainOccurrences; span: Span } | undefined {
  const sec = sectionAt(doc, pos.line);
  if (!sec || !isIptablesKind(sec.kind)) return undefined;
  const tok = tokenAt(lexLine(doc, pos.line), pos.character);
  if (!tok) return undefined;
  const t = tableOfLine(sec, pos.line);
  if (!t) return undefined;
  let span: Span;
  if (tok.kind === 'chain-decl') span = nameSpan(pos.line, tok);
  else if (tok.kind === 'chain' || (tok.kind === 'target' && isChainTarget(t, tok))) span = spanOn(pos.line, tok.start, tok.end);
  else return undefined;
  const occ = chainIndex(doc).get(key(sec, doc, t.name, tok.text));
  return occ ? { occ, span } : undefined;
}

/** Where the chain under the cursor is declared. */
export function definition(doc: RuleDoc, pos: Pos): Span[] {
  const hit = chainAt(doc, pos);
  if (!hit?.occ.decl) return [];
  return [hit.occ.decl];
}

/** The jumps and gotos to the chain under the cursor (and its declaration, when asked). */
export function references(doc: RuleDoc, pos: Pos, includeDeclaration: boolean): Span[] {
  const hit = chainAt(doc, pos);
  if (!hit) return [];
  const out = includeDeclaration && hit.occ.decl ? [hit.occ.decl] : [];
  return [...out, ...hit.occ.refs];
}

/** Checks a rename: the span and current name, or why it cannot be renamed. */
export function prepareRename(doc: RuleDoc, pos: Pos): { span: Span; name: string } | { error: string } | undefined {
  const hit = chainAt(doc, pos);
  if (!hit) return undefined;
  if ((BUILTIN_CHAINS[hit.occ.table.name] ?? []).includes(hit.occ.name)) return { error: `${hit.occ.name} is a built-in chain of table ${hit.occ.table.name}; it cannot be renamed` };
  if (!hit.occ.decl) return { error: `chain ${hit.occ.name} is not declared in this dump; rename it where it is declared` };
  return { span: hit.span, name: hit.occ.name };
}

/** Why a new chain name is not acceptable, or undefined (iptables `xtables_validate_chain`-like checks). */
export function badChainName(name: string, table: Table): string | undefined {
  if (name.length === 0) return 'a chain name cannot be empty';
  // XT_EXTENSION_MAXNAMELEN is 29 with the terminating NUL (x_tables.h).
  if (name.length > 28) return `chain names are at most 28 characters (${name.length} given)`;
  if (/[\s"'!]/.test(name) || name.startsWith('-')) return 'a chain name cannot hold blanks, quotes or `!`, nor start with `-`';
  if (isTargetExtension(name) || name in TARGETS) return `${name} is the name of a target`;
  if ((BUILTIN_CHAINS[table.name] ?? []).includes(name)) return `${name} is a built-in chain of table ${table.name}`;
  if (chainNamed(table, name)) return `table ${table.name} already has a chain ${name}`;
  return undefined;
}

/** The edits that rename the user chain under the cursor everywhere in its table, or why not. */
export function rename(doc: RuleDoc, pos: Pos, newName: string): { edits: LangEdit[] } | { error: string } {
  const prep = prepareRename(doc, pos);
  if (!prep) return { error: 'there is no chain name here' };
  if ('error' in prep) return prep;
  const hit = chainAt(doc, pos);
  if (!hit) return { error: 'there is no chain name here' };
  const bad = badChainName(newName, hit.occ.table);
  if (bad) return { error: bad };
  const spans = [...(hit.occ.decl ? [hit.occ.decl] : []), ...hit.occ.appends, ...hit.occ.refs];
  return { edits: spans.map((span) => ({ at: { span }, newText: newName })) };
}

function lineEnd(doc: RuleDoc, line: number): Pos {
  return { line, character: (doc.lines[line] ?? '').length };
}

function chainSymbol(doc: RuleDoc, occ: ChainOccurrences | undefined, c: Chain): LangSymbol {
  const declLine = c.source.line - 1;
  const last = c.rules.reduce((m, r) => Math.max(m, r.source.line - 1), declLine);
  const sel = occ?.decl ?? spanOn(declLine, 0, (doc.lines[declLine] ?? '').length);
  const n = c.rules.length;
  const detail = c.builtin ? `${c.policy ? `policy ${c.policy} · ` : ''}${n} rule${n === 1 ? '' : 's'}` : `${n} rule${n === 1 ? '' : 's'} · ${occ ? occ.refs.length : 0} reference${occ?.refs.length === 1 ? '' : 's'}`;
  return { name: c.name, detail, kind: 'chain', span: { start: { line: Math.min(declLine, sel.start.line), character: 0 }, end: lineEnd(doc, last) }, selection: sel, children: [] };
}

function tableSymbols(doc: RuleDoc, sec: DocSection): LangSymbol[] {
  const idx = chainIndex(doc);
  const tables = sec.ruleset?.tables ?? [];
  return tables.map((t, i) => {
    const first = t.source.line - 1;
    const next = tables[i + 1] ? tables[i + 1].source.line - 2 : sec.end - 1;
    let last = first;
    for (const c of t.chains) for (const r of c.rules) last = Math.max(last, r.source.line - 1);
    for (let l = last + 1; l <= next && l < doc.lines.length; l++) if ((doc.lines[l] ?? '').trim() === 'COMMIT') last = l;
    const rules = t.chains.reduce((n, c) => n + c.rules.length, 0);
    const head = spanOn(first, 0, (doc.lines[first] ?? '').length);
    return {
      name: t.name,
      detail: `${t.chains.length} chain${t.chains.length === 1 ? '' : 's'} · ${rules} rule${rules === 1 ? '' : 's'}`,
      kind: 'table' as const,
      span: { start: head.start, end: lineEnd(doc, Math.max(last, first)) },
      selection: head,
      children: t.chains.map((c) => chainSymbol(doc, idx.get(key(sec, doc, t.name, c.name)), c)),
    };
  });
}

/** The outline: tables → chains (with rule counts); bundles add a level per section; IPVS services. */
export function documentSymbols(doc: RuleDoc): LangSymbol[] {
  const out: LangSymbol[] = [];
  for (const sec of doc.sections) {
    const inner = isIptablesKind(sec.kind) ? tableSymbols(doc, sec) : sec.kind === 'ipvsadm' ? ipvsSymbols(doc, sec) : [];
    if (!doc.bundle) {
      out.push(...inner);
      continue;
    }
    const h = sec.header?.line ?? sec.first;
    const head = spanOn(h, 0, (doc.lines[h] ?? '').length);
    out.push({
      name: `${sec.place?.node ?? '?'}/${sec.place?.namespace ?? '?'}`,
      detail: sec.header?.cmd ?? sec.kind ?? '',
      kind: 'section',
      span: { start: head.start, end: lineEnd(doc, Math.max(h, sec.end - 1)) },
      selection: head,
      children: inner,
    });
  }
  return out;
}

/** Folding: bundle sections, tables (`*table` … COMMIT), each chain's rules, `iptables -L` chain blocks, IPVS services. */
export function foldingRanges(doc: RuleDoc): LangFold[] {
  const out: LangFold[] = [];
  for (const sec of doc.sections) {
    if (sec.header && sec.end - 1 > sec.header.line) out.push({ startLine: sec.header.line, endLine: sec.end - 1, kind: 'region' });
    if (sec.kind === 'ipvsadm') {
      out.push(...ipvsFolds(sec));
      continue;
    }
    if (!isIptablesKind(sec.kind) || !sec.ruleset) continue;
    for (const sym of tableSymbols(doc, sec)) {
      if (sec.kind === 'iptables-save' && sym.span.end.line > sym.span.start.line) out.push({ startLine: sym.span.start.line, endLine: sym.span.end.line });
    }
    for (const t of sec.ruleset.tables) {
      for (const c of t.chains) {
        if (c.rules.length === 0) {
          continue;
        }
        const first = c.rules[0].source.line - 1;
        const last = c.rules[c.rules.length - 1].source.line - 1;
        const decl = c.source.line - 1;
        // `iptables -L` and `-S` keep a chain's title and rules together; iptables-save does not.
        const start = sec.kind === 'iptables-save' ? first : Math.min(decl, first);
        if (last > start) out.push({ startLine: start, endLine: last });
      }
    }
    // Runs of `#` comment lines (author annotations).
    let run = -1;
    for (let l = sec.first; l <= sec.end; l++) {
      const isComment = l < sec.end && (doc.lines[l] ?? '').trimStart().startsWith('#');
      if (isComment && run < 0) run = l;
      if (!isComment && run >= 0) {
        if (l - 1 > run) out.push({ startLine: run, endLine: l - 1, kind: 'comment' });
        run = -1;
      }
    }
  }
  return out;
}

/** At most this many counter lenses per document. */
const MAX_COUNTER_LENSES = 5000;

/** What the trace wizard should start with for packets entering `c`. */
export function traceSeed(doc: RuleDoc, sec: DocSection, t: Table, c: Chain): TraceSeed {
  const hooks = hooksReaching(t, c.name);
  const entry: TraceSeed['entry'] = hooks.length > 0 && hooks.every((h) => h === 'OUTPUT') ? 'local' : 'interface';
  const seed: TraceSeed = { file: doc.file, node: sec.place?.node ?? 'pasted', namespace: sec.place?.namespace ?? 'host', table: t.name, chain: c.name, hooks, entry };
  const sample: Rule | undefined = c.rules.find((r) => ruleDport(r.spec)) ?? c.rules.find((r) => r.spec.dst || r.spec.iif);
  if (sample) {
    const dp = ruleDport(sample.spec);
    if (dp) {
      seed.dport = dp.port;
      const p = dp.proto ?? 'tcp';
      if (p === 'tcp' || p === 'udp' || p === 'sctp') seed.proto = p;
    } else if (sample.spec.proto && !sample.spec.proto.invert && ['tcp', 'udp', 'icmp', 'sctp'].includes(sample.spec.proto.name)) seed.proto = sample.spec.proto.name as TraceSeed['proto'];
    if (sample.spec.dst && !sample.spec.dst.invert && sample.spec.dst.prefixLen === 32) seed.dst = sample.spec.dst.addr;
    if (sample.spec.iif && !sample.spec.iif.invert && !sample.spec.iif.wildcard) seed.iif = sample.spec.iif.name;
  }
  return seed;
}

/** Code lenses: "trace a packet into this chain" on each chain, and each rule's counters. */
export function codeLenses(doc: RuleDoc): LangLens[] {
  const out: LangLens[] = [];
  let counters = 0;
  const idx = chainIndex(doc);
  for (const sec of doc.sections) {
    if (!isIptablesKind(sec.kind) || !sec.ruleset) continue;
    for (const t of sec.ruleset.tables) {
      for (const c of t.chains) {
        const occ = idx.get(key(sec, doc, t.name, c.name));
        const at = occ?.decl ?? spanOn(c.source.line - 1, 0, 0);
        const seed = traceSeed(doc, sec, t, c);
        const what = c.builtin ? `${t.name} ${c.name}` : `${t.name} ${c.name}${seed.hooks.length ? ` (via ${seed.hooks.join(', ')})` : ''}`;
        out.push({ span: at, title: `▶ Trace a packet into ${what}`, trace: seed });
        for (const r of c.rules) {
          if (!r.counters || counters >= MAX_COUNTER_LENSES) continue;
          counters++;
          const approx = r.counters.approximate ? '~' : '';
          const line = r.source.line - 1;
          out.push({ span: spanOn(line, 0, 0), title: r.counters.packets === 0 ? 'never matched (0 packets)' : `${approx}${r.counters.packets} packet${r.counters.packets === 1 ? '' : 's'} · ${approx}${r.counters.bytes} bytes` });
        }
      }
    }
  }
  return out;
}

/** Chains of a document as flat workspace symbols: name, table, and where. */
export function chainSymbols(doc: RuleDoc): { name: string; container: string; span: Span }[] {
  const out: { name: string; container: string; span: Span }[] = [];
  for (const sec of doc.sections) {
    if (!isIptablesKind(sec.kind) || !sec.ruleset) continue;
    const where = sec.place ? `${sec.place.node}/${sec.place.namespace} ` : '';
    for (const t of sec.ruleset.tables) {
      for (const c of t.chains) {
        const line = c.source.line - 1;
        const tok = lexLine(doc, line).find((x) => x.kind === 'chain-decl');
        out.push({ name: c.name, container: `${where}${t.name}`, span: tok ? nameSpan(line, tok) : spanOn(line, 0, (doc.lines[line] ?? '').length) });
      }
    }
  }
  return out;
}
