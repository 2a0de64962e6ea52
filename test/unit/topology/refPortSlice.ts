/**
 * The port index as it was before the class keys and slices were made cheap (commit 3550fa5,
 * src/core/topology/portSlice.ts, unchanged but for the imports and the class name): the
 * reference that test/unit/topology/simCaches.test.ts compares the optimised PortIndex with.
 * Its class keys are the rules' texts, so equal keys mean equal rule texts by construction.
 */
import type { Model, Namespace } from '../../../src/core/model/model';
import type { Chain, Rule, Ruleset, Table } from '../../../src/core/model/netfilter';
import { formatRuleSpec } from '../../../src/core/parsers/iptablesRule';

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
  template?: string[];
  /** natPorts(rule), once. */
  nat?: number[];
  /** canMatch(cons, fixed) once the fixed ports are closed. */
  viaFixed?: boolean;
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

/** The positive port constraints of a rule; an empty list when it needs no particular port. */
export function portConstraints(r: Rule): PortCons[] {
  const out: PortCons[] = [];
  for (const m of r.spec.matches) {
    const portMatch = m.name === 'tcp' || m.name === 'udp' || m.name === 'sctp' || m.name === 'udplite' || m.name === 'multiport';
    if (!portMatch) continue;
    for (const o of m.options) {
      if (o.invert) continue;
      if (!['dport', 'sport', 'dports', 'sports', 'ports', 'destination-port', 'source-port', 'destination-ports', 'source-ports'].includes(o.name)) continue;
      const ranges = o.values[0] !== undefined ? parsePortList(o.values[0]) : undefined;
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

/** The index of a model's port-specific rules, built once. */
export class RefPortIndex {
  /** Ports every connection carries (client source port, VXLAN ports, common NAT targets). */
  readonly fixed: Set<number>;
  private readonly constrained: Constrained[] = [];
  private readonly byPort = new Map<number, number[]>();
  private readonly ranged: number[] = [];
  private readonly longByNs = new Map<string, { table: Table; chain: Chain; cons: PortCons[][] }[]>();
  private readonly byRef = new Map<string, number>();
  private readonly nsById = new Map<string, Namespace>();

  constructor(model: Model, clientPort: number) {
    this.fixed = new Set([clientPort, 40000]);
    for (const i of model.interfaces) if (i.details.vxlan) this.fixed.add(i.details.vxlan.dstport ?? 4789);
    for (const ns of model.namespaces) {
      this.nsById.set(ns.id, ns);
      const rs = ns.iptables;
      if (!rs) continue;
      for (const t of rs.tables) {
        for (const c of t.chains) {
          const key = `${ns.id}|${t.name}|${c.name}`;
          const cons = c.rules.map(portConstraints);
          let common = 0;
          c.rules.forEach((r, idx) => {
            if (cons[idx].length === 0) {
              common++;
              for (const p of natPorts(r)) this.fixed.add(p);
              return;
            }
            const k = this.constrained.length;
            this.constrained.push({ nsId: ns.id, chainKey: key, idx, rule: r, cons: cons[idx], before: common });
            const first = cons[idx][0].ranges;
            if (first.every(([a, b]) => a === b) && first.length <= 16) {
              for (const [a] of first) {
                const l = this.byPort.get(a);
                if (l) l.push(k);
                else this.byPort.set(a, [k]);
              }
            } else this.ranged.push(k);
          });
          if (cons.some((x) => x.length > 0)) {
            if (c.rules.length >= LONG_CHAIN) {
              const l = this.longByNs.get(ns.id) ?? [];
              l.push({ table: t, chain: c, cons });
              this.longByNs.set(ns.id, l);
            }
          }
        }
      }
    }
  }

  /** The port set of a connection using published port `p` and target port `t`. */
  portSet(p: number, t: number): Set<number> {
    if (!this.fixedClosed) {
      // Rules that match the fixed ports alone may NAT to further ports: those are fixed too.
      this.fixedClosed = true;
      this.close(this.fixed, [...this.fixed]);
    }
    const s = new Set(this.fixed);
    s.add(p);
    s.add(t);
    this.close(s, [p, t]);
    return s;
  }

  private fixedClosed = false;

  /** Adds the NAT target ports of the rules that can match (a fixed point; usually nothing). */
  private close(s: Set<number>, fresh: number[]): void {
    let todo = fresh;
    for (let round = 0; round < 4 && todo.length; round++) {
      const added: number[] = [];
      for (const k of this.candidates(todo)) {
        const c = this.constrained[k];
        if (!canMatch(c.cons, s)) continue;
        for (const q of (c.nat ??= natPorts(c.rule))) {
          if (!s.has(q)) {
            s.add(q);
            added.push(q);
          }
        }
      }
      todo = added;
    }
  }

  private candidates(ports: number[]): number[] {
    const out = new Set<number>(this.ranged);
    for (const p of ports) for (const k of this.byPort.get(p) ?? []) out.add(k);
    return [...out].sort((a, b) => a - b);
  }

  /** The port-specific rules a connection on (p, t) can meet, excluding those every connection meets. */
  private specific(p: number, t: number, s: Set<number>): Constrained[] {
    const out: Constrained[] = [];
    for (const k of this.candidates([p, t])) {
      const c = this.constrained[k];
      if (!canMatch(c.cons, s)) continue;
      const viaFixed = this.fixedClosed ? (c.viaFixed ??= canMatch(c.cons, this.fixed)) : canMatch(c.cons, this.fixed);
      if (viaFixed) continue;
      out.push(c);
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
    const parts: string[] = [proto, p === t ? 'P=T' : 'P≠T'];
    const ps = String(p);
    const ts = String(t);
    for (const c of this.specific(p, t, s)) {
      c.template ??= splitNumbers(template(c.rule));
      parts.push(`${c.chainKey}#${c.before}#${tokenize(c.template, ps, ts)}`);
    }
    return parts.join('\n');
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
    for (const { table, chain, cons } of chains) {
      const kept = chain.rules.filter((_, i) => cons[i].length === 0 || canMatch(cons[i], s));
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

