/**
 * Comparing rulesets read from different dump forms (iptables-save, `iptables -S`, `iptables -L`):
 * a normal form without positions, raw text, ids and counters, and a readable list of differences.
 */
import type { AddrMatch, Chain, Counters, Ruleset, RuleSpec, Table, XtOption } from './netfilter';
import { BUILTIN_CHAINS, TABLE_NAMES } from './netfilter';
import { formatRuleSpec } from '../parsers/iptablesRule';

/** An option in normal form. */
export interface NormOption {
  name: string;
  values: string[];
  invert: boolean;
}

/** A match or target in normal form (no raw text). */
export interface NormExt {
  name: string;
  options: NormOption[];
  known: boolean;
  goto?: boolean;
}

/** A rule's meaning in normal form: plain data with a fixed key order (JSON-comparable). */
export interface NormSpec {
  src?: { addr: string; prefixLen: number; mask?: string; invert: boolean };
  dst?: { addr: string; prefixLen: number; mask?: string; invert: boolean };
  iif?: { name: string; wildcard: boolean; invert: boolean };
  oif?: { name: string; wildcard: boolean; invert: boolean };
  proto?: { name: string; invert: boolean };
  fragment?: { invert: boolean };
  matches: NormExt[];
  target?: NormExt;
}

/** A rule in normal form; counters only when asked for. */
export interface NormRule {
  spec: NormSpec;
  counters?: { packets: number; bytes: number };
}

/** A chain in normal form. */
export interface NormChain {
  name: string;
  builtin: boolean;
  policy?: string;
  counters?: { packets: number; bytes: number };
  rules: NormRule[];
}

/** A table in normal form: built-in chains in kernel order, then user chains by name. */
export interface NormTable {
  name: string;
  chains: NormChain[];
}

/** A ruleset in normal form. */
export interface NormRuleset {
  family: string;
  tables: NormTable[];
}

/** What to keep when normalizing. */
export interface NormalizeOptions {
  /** Keep rule and policy counters (dropped by default: views are taken at different moments). */
  counters?: boolean;
}

function normAddr(a: AddrMatch): NonNullable<NormSpec['src']> {
  const o: NonNullable<NormSpec['src']> = { addr: a.addr, prefixLen: a.prefixLen, invert: a.invert };
  if (a.mask !== undefined) o.mask = a.mask;
  return o;
}

function normOptions(opts: readonly XtOption[]): NormOption[] {
  return opts.map((o) => ({ name: o.name, values: [...o.values], invert: o.invert }));
}

function normCounters(c: Counters): { packets: number; bytes: number } {
  return { packets: c.packets, bytes: c.bytes };
}

/** A RuleSpec without raw text, as plain comparable data. */
export function normalizeRuleSpec(spec: RuleSpec): NormSpec {
  const out: NormSpec = { matches: [] };
  if (spec.src) out.src = normAddr(spec.src);
  if (spec.dst) out.dst = normAddr(spec.dst);
  if (spec.iif) out.iif = { name: spec.iif.name, wildcard: spec.iif.wildcard, invert: spec.iif.invert };
  if (spec.oif) out.oif = { name: spec.oif.name, wildcard: spec.oif.wildcard, invert: spec.oif.invert };
  if (spec.proto) out.proto = { name: spec.proto.name, invert: spec.proto.invert };
  if (spec.fragment) out.fragment = { invert: spec.fragment.invert };
  out.matches = spec.matches.map((m) => ({ name: m.name, options: normOptions(m.options), known: m.known }));
  if (spec.target) {
    out.target = { name: spec.target.name, options: normOptions(spec.target.options), known: spec.target.known, goto: spec.target.goto };
  }
  return out;
}

function chainRank(table: string, c: Chain): [number, string] {
  const b = (BUILTIN_CHAINS as Record<string, readonly string[]>)[table] ?? [];
  const k = b.indexOf(c.name);
  return [k >= 0 && c.builtin ? k : b.length, c.name];
}

function normalizeTable(t: Table, opts: NormalizeOptions): NormTable {
  const chains = [...t.chains].sort((a, b) => {
    const [ka, na] = chainRank(t.name, a);
    const [kb, nb] = chainRank(t.name, b);
    return ka - kb || (na < nb ? -1 : na > nb ? 1 : 0);
  });
  return {
    name: t.name,
    chains: chains.map((c) => {
      const nc: NormChain = { name: c.name, builtin: c.builtin, rules: [] };
      if (c.policy !== undefined) nc.policy = c.policy;
      if (opts.counters && c.counters) nc.counters = normCounters(c.counters);
      nc.rules = c.rules.map((r) => {
        const nr: NormRule = { spec: normalizeRuleSpec(r.spec) };
        if (opts.counters && r.counters) nr.counters = normCounters(r.counters);
        return nr;
      });
      return nc;
    }),
  };
}

/**
 * Strips a ruleset to what the three dump forms all show: no sources, raw texts, ids, flavour,
 * version, references or COMMIT state, and (unless `opts.counters`) no counters, which differ
 * between dumps taken moments apart and are rounded by `iptables -L` without `-x`.
 * Tables come in kernel order, chains built-ins first, user chains by name; rule order is kept.
 */
export function normalizeRuleset(rs: Ruleset, opts: NormalizeOptions = {}): NormRuleset {
  const tables = [...rs.tables].sort((a, b) => TABLE_NAMES.indexOf(a.name) - TABLE_NAMES.indexOf(b.name));
  return { family: rs.family, tables: tables.map((t) => normalizeTable(t, opts)) };
}

/** Options for `diffRulesets`. */
export interface DiffOptions extends NormalizeOptions {
  /** Treat a table missing on one side as the kernel's empty table (built-ins, ACCEPT, no rules). */
  missingTableIsEmpty?: boolean;
  /** Stop after this many differences (default 50); a last line says how many more there were. */
  limit?: number;
}

function emptyNormTable(name: string): NormTable {
  const b = (BUILTIN_CHAINS as Record<string, readonly string[]>)[name] ?? [];
  return { name, chains: b.map((c) => ({ name: c, builtin: true, policy: 'ACCEPT', rules: [] })) };
}

function denorm(s: NormSpec): RuleSpec {
  return {
    ...s,
    matches: s.matches.map((m) => ({ ...m, raw: '' })),
    target: s.target ? { ...s.target, goto: s.target.goto ?? false, raw: '' } : undefined,
  } as RuleSpec;
}

function showRule(r: NormRule): string {
  const text = formatRuleSpec(denorm(r.spec)) || '(matches everything, no target)';
  const unknown = [...r.spec.matches, ...(r.spec.target ? [r.spec.target] : [])].filter((x) => !x.known).map((x) => x.name);
  const c = r.counters ? ` [${r.counters.packets}:${r.counters.bytes}]` : '';
  return `\`${text}\`${unknown.length ? ` (unread: ${unknown.join(', ')})` : ''}${c}`;
}

/**
 * Lists the differences between two rulesets as sentences (empty when they agree), comparing
 * their normal forms (`normalizeRuleset`). The family, flavour and version are not compared.
 * Example: `nat/DOCKER rule 2: \`-p tcp -m tcp --dport 80 -j ACCEPT\` here, \`-p tcp -j ACCEPT\` there`.
 */
export function diffRulesets(a: Ruleset, b: Ruleset, opts: DiffOptions = {}): string[] {
  const limit = opts.limit ?? 50;
  const out: string[] = [];
  let more = 0;
  const add = (s: string): void => {
    if (out.length < limit) out.push(s);
    else more++;
  };
  const na = normalizeRuleset(a, opts);
  const nb = normalizeRuleset(b, opts);
  for (const name of TABLE_NAMES) {
    let ta = na.tables.find((t) => t.name === name);
    let tb = nb.tables.find((t) => t.name === name);
    if (!ta && !tb) continue;
    if (!ta || !tb) {
      if (!opts.missingTableIsEmpty) {
        add(`table ${name} is only in the ${ta ? 'first' : 'second'} ruleset`);
        continue;
      }
      ta = ta ?? emptyNormTable(name);
      tb = tb ?? emptyNormTable(name);
    }
    diffTables(ta, tb, add);
  }
  if (more > 0) out.push(`… and ${more} more difference${more > 1 ? 's' : ''}`);
  return out;
}

function diffTables(ta: NormTable, tb: NormTable, add: (s: string) => void): void {
  const name = ta.name;
  const cb = new Map(tb.chains.map((c) => [c.name, c]));
  const ca = new Map(ta.chains.map((c) => [c.name, c]));
  for (const c of ta.chains) if (!cb.has(c.name)) add(`${name}: chain ${c.name} is only in the first ruleset (${c.rules.length} rule${c.rules.length === 1 ? '' : 's'})`);
  for (const c of tb.chains) if (!ca.has(c.name)) add(`${name}: chain ${c.name} is only in the second ruleset (${c.rules.length} rule${c.rules.length === 1 ? '' : 's'})`);
  for (const x of ta.chains) {
    const y = cb.get(x.name);
    if (!y) continue;
    const where = `${name}/${x.name}`;
    if (x.builtin !== y.builtin) add(`${where}: built-in in the ${x.builtin ? 'first' : 'second'} ruleset only`);
    if (x.policy !== y.policy) add(`${where}: policy ${x.policy ?? '(none)'} vs ${y.policy ?? '(none)'}`);
    if (JSON.stringify(x.counters) !== JSON.stringify(y.counters)) {
      add(`${where}: policy counters ${x.counters ? `${x.counters.packets}:${x.counters.bytes}` : '(none)'} vs ${y.counters ? `${y.counters.packets}:${y.counters.bytes}` : '(none)'}`);
    }
    const n = Math.max(x.rules.length, y.rules.length);
    if (x.rules.length !== y.rules.length) add(`${where}: ${x.rules.length} rule${x.rules.length === 1 ? '' : 's'} vs ${y.rules.length}`);
    for (let i = 0; i < n; i++) {
      const rx = x.rules[i];
      const ry = y.rules[i];
      if (rx && ry && JSON.stringify(rx) === JSON.stringify(ry)) continue;
      add(`${where} rule ${i + 1}: ${rx ? showRule(rx) : '(none)'} vs ${ry ? showRule(ry) : '(none)'}`);
    }
  }
}
