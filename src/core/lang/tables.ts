/**
 * The shape of one iptables table as the language features walk it: which table a line is in,
 * chains by name, who jumps where, and from which hooks a chain is reached. Built once per table
 * (a 100 000-chain kube-proxy dump must not be scanned per question).
 */
import type { Chain, Rule, Table } from '../model/netfilter';
import { BUILTIN_CHAINS } from '../model/netfilter';
import { CaptureIndex } from './captureIndex';
import type { LangContext } from './describe';
import { TARGETS } from './knowledge';
import type { DocSection } from './ruleDoc';

/** The context of a section: the capture's index and the section's namespace. */
export function sectionContext(sec: DocSection, index?: CaptureIndex): LangContext {
  return { index, nsId: sec.place ? `${sec.place.node}/${sec.place.namespace}` : undefined };
}

/** The table a line of an iptables section belongs to. */
export function tableOfLine(sec: DocSection, line: number): Table | undefined {
  let best: Table | undefined;
  for (const t of sec.ruleset?.tables ?? []) if (t.source.line - 1 <= line && (!best || t.source.line > best.source.line)) best = t;
  return best ?? sec.ruleset?.tables[0];
}

/** Whether a rule's target is a chain of its table. */
export function jumpsTo(table: Table, r: Rule): Chain | undefined {
  const t = r.spec.target;
  if (!t || (t.name in TARGETS && !t.goto)) return undefined;
  return chainNamed(table, t.name);
}

/** Per table: the rules jumping or going to each chain, and the hooks reaching each chain (built once). */
interface TableGraph {
  byName: Map<string, Chain>;
  jumpers: Map<string, Rule[]>;
  hooks: Map<string, string[]>;
}

const graphs = new WeakMap<Table, TableGraph>();

function graphOf(table: Table): TableGraph {
  let g = graphs.get(table);
  if (g) return g;
  g = { byName: new Map(table.chains.map((c) => [c.name, c])), jumpers: new Map(), hooks: new Map() };
  for (const c of table.chains) {
    for (const r of c.rules) {
      const t = r.spec.target;
      if (!t || (t.name in TARGETS && !t.goto)) continue;
      const list = g.jumpers.get(t.name);
      if (list) list.push(r);
      else g.jumpers.set(t.name, [r]);
    }
  }
  graphs.set(table, g);
  return g;
}

/** A table's chain by name. */
export function chainNamed(table: Table, name: string): Chain | undefined {
  return graphOf(table).byName.get(name);
}

/** Rules of a table that jump or go to `name`. */
export function jumpersOf(table: Table, name: string): Rule[] {
  return graphOf(table).jumpers.get(name) ?? [];
}

/** The built-in chains from which a chain is reached through jumps and gotos. */
export function hooksReaching(table: Table, name: string): string[] {
  const g = graphOf(table);
  const hit = g.hooks.get(name);
  if (hit) return hit;
  const order = BUILTIN_CHAINS[table.name] ?? [];
  const builtins = new Set(order);
  let result: string[];
  if (builtins.has(name)) result = [name];
  else {
    const seen = new Set<string>([name]);
    const out = new Set<string>();
    const queue = [name];
    for (let q = 0; q < queue.length; q++) {
      for (const r of jumpersOf(table, queue[q])) {
        if (builtins.has(r.chain)) out.add(r.chain);
        else if (!seen.has(r.chain)) {
          seen.add(r.chain);
          queue.push(r.chain);
        }
      }
    }
    result = [...out].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }
  g.hooks.set(name, result);
  return result;
}
