/**
 * Port classes for the full-topology simulation. A packet of a published-port connection only
 * ever carries a few port numbers (the published port P, the target port T, the client's source
 * port and the VXLAN port), so a rule that requires another port can never match it. Two ports
 * whose port-specific rules are the same everywhere, up to the names P and T, behave the same:
 * one trace answers for the whole class, and long chains are cut to the rules that can match,
 * which keeps first-match order exactly (only rules that cannot match are left out).
 */
import type { Model, Namespace } from '../model/model';
import type { Chain, Rule, RuleSpec, Ruleset, Table } from '../model/netfilter';
import { formatRuleSpec } from '../parsers/iptablesRule';
import type { World } from '../sim/world';

/** A positive port constraint of a rule: the packet's port must be in one of the ranges. */
interface PortCons {
  ranges: [number, number][];
}

/** A rule that requires particular ports. */
interface Constrained {
  nsId: string;
  chainKey: string;
  idx: number;
  rule: Rule;
  cons: PortCons[];
  /** The number of rules before it in its chain that need no particular port. */
  before: number;
  /** Its chain (`chainKey`) as a small integer, for class keys. */
  chainId: number;
  /** canMatch(cons, fixed) once the fixed ports are closed. */
  viaFixed?: boolean;
}

/** A long chain's rules indexed by the ports they require, to cut it for a port set without testing every rule. */
interface LongChain {
  table: Table;
  chain: Chain;
  cons: PortCons[][];
  /** Indexes of the rules that need no particular port (always kept). */
  always: number[];
  /** Port → indexes of the constrained rules whose first constraint is a short list of single ports including it. */
  byPort: Map<number, number[]>;
  /** Indexes of the other constrained rules (tested one by one). */
  ranged: number[];
}

/** A rule's iptables-save form, ports to be written as $P and $T per port pair. */
function template(r: Rule): string {
  return formatRuleSpec(r.spec);
}

/** Chains at least this long are cut per class; shorter ones are left whole. */
const LONG_CHAIN = 16;

function parsePortList(v: string): [number, number][] | undefined {
  const out: [number, number][] = [];
  for (const part of v.split(',')) {
    const m = /^(\d+)(?::(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    out.push([Math.min(a, b), Math.max(a, b)]);
  }
  return out;
}

const PORT_OPTIONS = new Set(['dport', 'sport', 'dports', 'sports', 'ports', 'destination-port', 'source-port', 'destination-ports', 'source-ports']);

/**
 * The positive port constraints of a rule; an empty list when it needs no particular port.
 * `lists`: parsed port lists by their text, shared between calls (parsePortList is a function of
 * the text, and the ranges are only read).
 */
export function portConstraints(r: Rule, lists?: Map<string, [number, number][] | undefined>): PortCons[] {
  const out: PortCons[] = [];
  for (const m of r.spec.matches) {
    const portMatch = m.name === 'tcp' || m.name === 'udp' || m.name === 'sctp' || m.name === 'udplite' || m.name === 'multiport';
    if (!portMatch) continue;
    for (const o of m.options) {
      if (o.invert) continue;
      if (!PORT_OPTIONS.has(o.name)) continue;
      const v = o.values[0];
      if (v === undefined) continue;
      let ranges = lists?.get(v);
      if (ranges === undefined && !lists?.has(v)) {
        ranges = parsePortList(v);
        lists?.set(v, ranges);
      }
      if (ranges) out.push({ ranges });
    }
  }
  return out;
}

function inRanges(ranges: [number, number][], p: number): boolean {
  for (const [a, b] of ranges) if (p >= a && p <= b) return true;
  return false;
}

/** Whether a rule with these constraints can match a packet whose ports are all in `s`. */
export function canMatch(cons: PortCons[], s: ReadonlySet<number>): boolean {
  for (const c of cons) {
    let hit = false;
    for (const p of s) {
      if (inRanges(c.ranges, p)) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  return true;
}

/** Port numbers a NAT target writes (`--to-destination 1.2.3.4:80`, `--to-ports 80`, `--to-source :53`). */
function natPorts(r: Rule): number[] {
  const t = r.spec.target;
  if (!t) return [];
  const out: number[] = [];
  for (const o of t.options) {
    if (o.name !== 'to-destination' && o.name !== 'to-source' && o.name !== 'to-ports') continue;
    for (const v of o.values) {
      const m = /(?:^|:)(\d+)(?:-(\d+))?$/.exec(v);
      if (m && (o.name === 'to-ports' || v.includes(':'))) out.push(Number(m[1]));
    }
  }
  return out;
}

/** A rule's text split around its whole numbers (after a space, colon or comma): text, number, text, …, text. */
function splitNumbers(text: string): string[] {
  return text.split(/(?<=[ :,])(\d+)(?=[ ,:]|$)/);
}

/** Writes the port numbers p and t of a rule's text (split by splitNumbers) as $P and $T. */
function tokenize(parts: string[], p: string, t: string): string {
  let out = parts[0];
  for (let i = 1; i < parts.length; i += 2) {
    const m = parts[i];
    out += m === p ? '$P' : m === t ? '$T' : m;
    out += parts[i + 1];
  }
  return out;
}

/** The single ports of a rule's first constraint, when it is a short list of them (the index key); else undefined. */
function singlePorts(cons: PortCons[]): number[] | undefined {
  const first = cons[0].ranges;
  if (first.length > 16 || !first.every(([a, b]) => a === b)) return undefined;
  return first.map(([a]) => a);
}

/**
 * The rules of a long chain a packet with ports in `s` can meet, in chain order: the same as
 * `chain.rules.filter((_, i) => cons[i].length === 0 || canMatch(cons[i], s))`. A constrained rule
 * indexed under the ports of its first constraint can only match when one of those is in `s`,
 * so the candidates are the unconstrained rules, the unindexed ones and those under a port of `s`.
 */
export function keptRules(lc: Pick<LongChain, 'chain' | 'cons' | 'always' | 'byPort' | 'ranged'>, s: ReadonlySet<number>): Rule[] {
  const idx: number[] = [];
  for (const i of lc.ranged) if (canMatch(lc.cons[i], s)) idx.push(i);
  for (const p of s) for (const i of lc.byPort.get(p) ?? []) if (canMatch(lc.cons[i], s)) idx.push(i);
  if (idx.length === 0) return lc.always.map((i) => lc.chain.rules[i]);
  const all = [...new Set(idx)].concat(lc.always).sort((a, b) => a - b);
  return all.map((i) => lc.chain.rules[i]);
}

/** The index of a model's port-specific rules, built once. */
export class PortIndex {
  /** Ports every connection carries (client source port, VXLAN ports, common NAT targets). */
  readonly fixed: Set<number>;
  private readonly constrained: Constrained[] = [];
  private readonly byPort = new Map<number, number[]>();
  private readonly ranged: number[] = [];
  private readonly longByNs = new Map<string, LongChain[]>();
  /** Interned tokenized rule texts (see classKey): text → id, unique within this index. */
  private readonly tokIds = new Map<string, number>();
  /**
   * Per spec number, the last pair (p, t) as `p * 65536 + t` whose tokenize(template, p, t) was
   * looked up, and that text's id. The tokenized text depends only on the spec (through its
   * template) and on the two port strings, so (spec, pair) is a complete key. A spec is met by
   * the same pair on every node in a row, so one entry per spec is enough.
   */
  private readonly tokPair: number[] = [];
  private readonly tokId: number[] = [];
  /**
   * Typed views of `constrained`, by index, for the per-pair loops: the one port a rule requires
   * when its only constraint is a single port (else -1), its chain id, its `before`, its template
   * number (-1 until asked).
   */
  private simplePort = new Int32Array(0);
  private chainOf = new Int32Array(0);
  private beforeOf = new Int32Array(0);
  private specNoArr = new Int32Array(0);

  /**
   * The distinct spec objects of the model's rules, numbered in first-met order (`specOf[k]`: the
   * number of constrained rule k's spec), with what is derived from each: its port constraints
   * (computed once per spec while indexing), its NAT ports and its template number (-1 until
   * asked). All three are functions of the spec alone, and specs are never mutated: the spec
   * object is a complete key. Integers replace spec-keyed map lookups on the per-pair loops.
   */
  private readonly specs: RuleSpec[] = [];
  private readonly specNat: (number[] | undefined)[] = [];
  private specNoOfSpec: number[] = [];
  private specOf = new Int32Array(0);

  /** Template number by template text, and by spec object (see specNoOf). */
  private readonly specNos = new Map<string, number>();
  private readonly specNoBySpec = new Map<RuleSpec, number>();
  /** The split template of each template number. */
  private readonly specTemplate: string[][] = [];

  /**
   * The number of a constrained rule's template (its spec in iptables-save form) in this index:
   * one per distinct template text. A class key reads a rule only through its template, so
   * rules with the same number are the same to it, whatever node they are on.
   */
  private specNoOf(k: number): number {
    if (this.specNoArr[k] >= 0) return this.specNoArr[k];
    const si = this.specOf[k];
    const known = this.specNoOfSpec[si];
    if (known >= 0) return (this.specNoArr[k] = known);
    const r = this.constrained[k].rule;
    // The template is a function of the spec, and specs are never mutated: a spec object shared
    // by several rules (the parser shares them between rules spelled the same) is formatted once.
    let no = this.specNoBySpec.get(r.spec);
    if (no === undefined) {
      const text = template(r);
      no = this.specNos.get(text);
      if (no === undefined) {
        this.specNos.set(text, (no = this.specTemplate.length));
        this.specTemplate.push(splitNumbers(text));
        this.tokPair.push(-1);
        this.tokId.push(-1);
      }
      this.specNoBySpec.set(r.spec, no);
    }
    this.specNoOfSpec[si] = no;
    return (this.specNoArr[k] = no);
  }

  private chainCount = 0;
  /** portSet results by `p|t`, once the fixed ports are closed (the index is immutable after that). */
  private readonly portSets = new Map<string, ReadonlySet<number>>();
  private readonly byRef = new Map<string, number>();
  private readonly nsById = new Map<string, Namespace>();

  constructor(model: Model, clientPort: number) {
    this.fixed = new Set([clientPort, 40000]);
    for (const i of model.interfaces) if (i.details.vxlan) this.fixed.add(i.details.vxlan.dstport ?? 4789);
    const lists = new Map<string, [number, number][] | undefined>();
    // Spec object → its number in `specs` (see there), and each number's port constraints.
    const specIdx = new Map<RuleSpec, number>();
    const consOf: PortCons[][] = [];
    // specOf, in `constrained` order.
    const ruleSpec: number[] = [];
    // singlePorts of each spec number's constraints (a function of them: once per spec; null: none).
    const firsts: (number[] | null | undefined)[] = [];
    const firstOf = (si: number): number[] | undefined => {
      let f = firsts[si];
      if (f === undefined) firsts[si] = f = singlePorts(consOf[si]) ?? null;
      return f ?? undefined;
    };
    for (const ns of model.namespaces) {
      this.nsById.set(ns.id, ns);
      const rs = ns.iptables;
      if (!rs) continue;
      for (const t of rs.tables) {
        for (const c of t.chains) {
          const key = `${ns.id}|${t.name}|${c.name}`;
          const chainId = this.chainCount++;
          const sis: number[] = [];
          const cons = c.rules.map((r) => {
            let si = specIdx.get(r.spec);
            if (si === undefined) {
              specIdx.set(r.spec, (si = this.specs.length));
              this.specs.push(r.spec);
              consOf.push(portConstraints(r, lists));
              this.specNat.push(undefined);
              this.specNoOfSpec.push(-1);
            }
            sis.push(si);
            return consOf[si];
          });
          let common = 0;
          c.rules.forEach((r, idx) => {
            if (cons[idx].length === 0) {
              common++;
              for (const p of this.natOfSpec(sis[idx], r)) this.fixed.add(p);
              return;
            }
            const k = this.constrained.length;
            ruleSpec.push(sis[idx]);
            this.constrained.push({ nsId: ns.id, chainKey: key, idx, rule: r, cons: cons[idx], before: common, chainId });
            const first = firstOf(sis[idx]);
            if (first) {
              for (const a of first) {
                const l = this.byPort.get(a);
                if (l) l.push(k);
                else this.byPort.set(a, [k]);
              }
            } else this.ranged.push(k);
          });
          if (cons.some((x) => x.length > 0)) {
            if (c.rules.length >= LONG_CHAIN) {
              const l = this.longByNs.get(ns.id) ?? [];
              const lc: LongChain = { table: t, chain: c, cons, always: [], byPort: new Map(), ranged: [] };
              cons.forEach((x, i) => {
                if (x.length === 0) return void lc.always.push(i);
                const first = firstOf(sis[i]);
                if (!first) return void lc.ranged.push(i);
                for (const a of first) {
                  const m = lc.byPort.get(a);
                  if (m) m.push(i);
                  else lc.byPort.set(a, [i]);
                }
              });
              l.push(lc);
              this.longByNs.set(ns.id, l);
            }
          }
        }
      }
    }
    const n = this.constrained.length;
    this.specOf = Int32Array.from(ruleSpec);
    this.simplePort = new Int32Array(n).fill(-1);
    this.chainOf = new Int32Array(n);
    this.beforeOf = new Int32Array(n);
    this.specNoArr = new Int32Array(n).fill(-1);
    this.constrained.forEach((c, k) => {
      const r = c.cons.length === 1 && c.cons[0].ranges.length === 1 ? c.cons[0].ranges[0] : undefined;
      if (r && r[0] === r[1] && r[0] >= 0 && r[0] <= 0x7fffffff) this.simplePort[k] = r[0];
      this.chainOf[k] = c.chainId;
      this.beforeOf[k] = c.before;
    });
  }

  /**
   * The port set of a connection using published port `p` and target port `t`. Memoised by
   * `p|t`: the answer depends only on p, t and the index, which no longer changes once the fixed
   * ports are closed (the first call closes them, before anything is stored).
   */
  portSet(p: number, t: number): ReadonlySet<number> {
    if (!this.fixedClosed) {
      // Rules that match the fixed ports alone may NAT to further ports: those are fixed too.
      this.fixedClosed = true;
      this.close(this.fixed, [...this.fixed]);
    }
    const key = `${p}|${t}`;
    const hit = this.portSets.get(key);
    if (hit) return hit;
    const s = new Set(this.fixed);
    s.add(p);
    s.add(t);
    this.close(s, [p, t]);
    this.portSets.set(key, s);
    return s;
  }

  private fixedClosed = false;

  /** natPorts of spec number `si` (`r`: a rule with that spec), once per spec. */
  private natOfSpec(si: number, r: Rule): number[] {
    let nat = this.specNat[si];
    if (nat === undefined) this.specNat[si] = nat = natPorts(r);
    return nat;
  }

  /** Adds the NAT target ports of the rules that can match (a fixed point; usually nothing). */
  private close(s: Set<number>, fresh: number[]): void {
    let todo = fresh;
    for (let round = 0; round < 4 && todo.length; round++) {
      const added: number[] = [];
      for (const k of this.candidates(todo)) {
        const sp = this.simplePort[k];
        const c = this.constrained[k];
        if (sp >= 0 ? !s.has(sp) : !canMatch(c.cons, s)) continue;
        for (const q of this.natOfSpec(this.specOf[k], c.rule)) {
          if (!s.has(q)) {
            s.add(q);
            added.push(q);
          }
        }
      }
      todo = added;
    }
  }

  /** The constrained rules indexed under these ports, and the unindexed ones: sorted, without repeats. */
  private candidates(ports: number[]): number[] {
    // Every list is sorted (rules are indexed in order): merge them.
    const lists = [this.ranged];
    for (const p of ports) {
      const l = this.byPort.get(p);
      if (l && !lists.includes(l)) lists.push(l);
    }
    if (lists.length === 1) return lists[0].slice();
    const out: number[] = [];
    const at = lists.map(() => 0);
    for (;;) {
      let min = Infinity;
      for (let i = 0; i < lists.length; i++) if (at[i] < lists[i].length && lists[i][at[i]] < min) min = lists[i][at[i]];
      if (min === Infinity) return out;
      out.push(min);
      for (let i = 0; i < lists.length; i++) if (at[i] < lists[i].length && lists[i][at[i]] === min) at[i]++;
    }
  }

  /** The port-specific rules a connection on (p, t) can meet, excluding those every connection meets. */
  private specific(p: number, t: number, s: ReadonlySet<number>): Constrained[] {
    return this.specificIdx(p, t, s).map((k) => this.constrained[k]);
  }

  /** specific() as indexes into `constrained`. */
  private specificIdx(p: number, t: number, s: ReadonlySet<number>): number[] {
    const out: number[] = [];
    for (const k of this.candidates([p, t])) {
      const sp = this.simplePort[k];
      if (sp >= 0) {
        // One constraint, one port: canMatch(cons, x) is x.has(port).
        if (!s.has(sp) || this.fixed.has(sp)) continue;
      } else {
        const c = this.constrained[k];
        if (!canMatch(c.cons, s)) continue;
        const viaFixed = this.fixedClosed ? (c.viaFixed ??= canMatch(c.cons, this.fixed)) : canMatch(c.cons, this.fixed);
        if (viaFixed) continue;
      }
      out.push(k);
    }
    return out;
  }


  /**
   * The class key of a port pair: the port-specific rules it meets, in chain order, with the
   * ports written as $P and $T. Pairs with the same key get the same trace up to renaming.
   * A pair whose ports collide with the fixed ports, or that brings extra ports in, gets a key of
   * its own.
   */
  classKey(proto: string, p: number, t: number): string {
    const s = this.portSet(p, t);
    const own = this.fixed.has(p) || this.fixed.has(t) || s.size > this.fixed.size + (p === t ? 1 : 2);
    if (own) return `${proto}|own|${p}|${t}`;
    // Each met rule is written as three integers: its chain (one id per chainKey), its `before`,
    // and its text with $P/$T (one id per distinct tokenized text). Two keys are equal exactly
    // when the lists of (chainKey, before, tokenized text) are, which is what the key stands for.
    const nums: number[] = [];
    const ps = String(p);
    const ts = String(t);
    // The pair as one number, for the per-spec cache (-1: not cached, ports out of range).
    const pt = p >= 0 && p < 65536 && t >= 0 && t < 65536 && Number.isInteger(p) && Number.isInteger(t) ? p * 65536 + t : -1;
    for (const k of this.specificIdx(p, t, s)) {
      const no = this.specNoOf(k);
      let id = pt >= 0 && this.tokPair[no] === pt ? this.tokId[no] : -1;
      if (id < 0) {
        const text = tokenize(this.specTemplate[no], ps, ts);
        id = this.tokIds.get(text) ?? -1;
        if (id < 0) this.tokIds.set(text, (id = this.tokIds.size));
        this.tokPair[no] = pt;
        this.tokId[no] = id;
      }
      nums.push(this.chainOf[k], this.beforeOf[k], id);
    }
    return `${proto}\n${p === t ? 'P=T' : 'P≠T'}\n${nums.join(',')}`;
  }

  /**
   * The rule of pair (p, t) that corresponds to a port-specific rule `file:line` met by pair
   * (p0, t0) of the same class; undefined when that rule is not port-specific (it is the same rule).
   */
  counterpart(file: string, line: number, p0: number, t0: number, p: number, t: number): Rule | undefined {
    if (this.byRef.size === 0) this.constrained.forEach((c, k) => this.byRef.set(`${c.rule.source.file}:${c.rule.source.line}`, k));
    const k = this.byRef.get(`${file}:${line}`);
    if (k === undefined) return undefined;
    const c0 = this.constrained[k];
    const s0 = this.portSet(p0, t0);
    const mine = this.specific(p0, t0, s0).filter((x) => x.chainKey === c0.chainKey);
    const rank = mine.indexOf(c0);
    if (rank < 0) return undefined;
    const theirs = this.specific(p, t, this.portSet(p, t)).filter((x) => x.chainKey === c0.chainKey);
    return theirs[rank]?.rule;
  }

  /** A namespace with its long chains cut to the rules a connection with ports `s` can meet; undefined when nothing is cut. */
  sliceNs(nsId: string, s: ReadonlySet<number>): Namespace | undefined {
    const chains = this.longByNs.get(nsId);
    const ns = this.nsById.get(nsId);
    if (!chains || !ns?.iptables) return undefined;
    const perTable = new Map<Table, Chain[]>();
    for (const lc of chains) {
      const { table, chain } = lc;
      const kept = keptRules(lc, s);
      if (kept.length === chain.rules.length) continue;
      const list = perTable.get(table) ?? [...table.chains];
      list[list.indexOf(chain)] = { ...chain, rules: kept };
      perTable.set(table, list);
    }
    if (perTable.size === 0) return undefined;
    const rs: Ruleset = { ...ns.iptables, tables: ns.iptables.tables.map((t) => (perTable.has(t) ? { ...t, chains: perTable.get(t) as Chain[] } : t)) };
    return { ...ns, iptables: rs };
  }
}

/**
 * Runs `fn` with the world's namespaces replaced by their sliced views, then puts the originals
 * back. The simulator reads a namespace's rules through `SimNs.ns` only, so this is all it takes.
 */
export function withSlice<T>(world: World, sliced: Map<string, Namespace>, fn: () => T): T {
  const saved: [string, Namespace][] = [];
  for (const [id, ns] of sliced) {
    const s = world.ns.get(id);
    if (!s) continue;
    saved.push([id, s.ns]);
    s.ns = ns;
  }
  try {
    return fn();
  } finally {
    for (const [id, ns] of saved) {
      const s = world.ns.get(id);
      if (s) s.ns = ns;
    }
  }
}
