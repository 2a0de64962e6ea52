/**
 * Simulator worlds over a few nodes of a large capture. The simulator looks up bridge ports and
 * VXLAN peers by scanning every interface of its model, so a trace costs in proportion to the
 * whole swarm; a published-port connection only ever touches the node it arrives on, the nodes
 * of the tasks behind the port, and the nodes its VXLAN entries point at. Tracing in a world of
 * just those nodes gives the same answer when it succeeds; a failure that could come from a
 * node left out (a next hop outside, a VXLAN peer not found) is traced again in the full world.
 */
import type { Model, ModelIface, Namespace } from '../model/model';
import type { Outcome } from '../sim/trace';
import { LEFT_OUT, World } from '../sim/world';

/** closure's view of one node (see SubWorlds.closureIndex). */
interface ClosureIdx {
  ns: { neigh: Map<string, string[]>; fdbMac: string[]; fdbNode: (string | undefined)[] }[];
  remotes: string[];
}

/** Builds sub-models and worlds of a model, by node. */
export class SubWorlds {
  private readonly nsByNode = new Map<string, Namespace[]>();
  private readonly ifByNode = new Map<string, ModelIface[]>();
  private readonly nodeByAddr = new Map<string, string>();

  /** `world`, when given, is the whole model's world: sub-worlds reuse its per-namespace indexes (see World). */
  constructor(
    readonly model: Model,
    private readonly world?: World,
  ) {
    const nodeOfNs = new Map<string, string>();
    for (const ns of model.namespaces) {
      nodeOfNs.set(ns.id, ns.node);
      const l = this.nsByNode.get(ns.node);
      if (l) l.push(ns);
      else this.nsByNode.set(ns.node, [ns]);
    }
    for (const i of model.interfaces) {
      const n = nodeOfNs.get(i.namespaceId) ?? '';
      const l = this.ifByNode.get(n);
      if (l) l.push(i);
      else this.ifByNode.set(n, [i]);
    }
    for (const n of model.nodes) for (const a of n.addresses) this.nodeByAddr.set(a, n.name);
  }

  /** The node whose host namespace has an address. */
  nodeOf(addr: string): string | undefined {
    return this.nodeByAddr.get(addr);
  }

  /**
   * Adds to `nodes` the nodes that the overlay namespaces of those nodes send `ips` to (neighbour →
   * FDB → VTEP, the all-zero FDB entry, a VXLAN `remote`), twice over, so stale entries are followed.
   */
  closure(nodes: Set<string>, ips: Set<string>): Set<string> {
    for (let round = 0; round < 2; round++) {
      for (const n of [...nodes]) {
        const idx = this.closureIndex(n);
        for (const x of idx.ns) {
          const macs = new Set<string>(['00:00:00:00:00:00']);
          if (x.neigh.size <= ips.size) {
            for (const [dst, l] of x.neigh) if (ips.has(dst)) for (const m of l) macs.add(m);
          } else {
            for (const ip of ips) for (const m of x.neigh.get(ip) ?? []) macs.add(m);
          }
          // In FDB order, as the entries are scanned: the order nodes are added in is kept.
          for (let k = 0; k < x.fdbMac.length; k++) {
            if (!macs.has(x.fdbMac[k])) continue;
            const o = x.fdbNode[k];
            if (o) nodes.add(o);
          }
        }
        for (const o of idx.remotes) nodes.add(o);
      }
    }
    return nodes;
  }

  /**
   * What closure reads of a node, prepared once (the model is never mutated): per overlay (or
   * FDB-holding) namespace in model order, its neighbour entries with a link-layer address as
   * address → lower-case MACs, its FDB entries with a `dst` as lower-case MAC and the node of that
   * address (undefined when no node has it), in FDB order; and the nodes the node's VXLAN
   * `remote`s name, in interface order (a node with no match is left out, as closure skips it).
   */
  private closureIndex(n: string): ClosureIdx {
    let c = this.closureIdx.get(n);
    if (c) return c;
    c = { ns: [], remotes: [] };
    for (const ns of this.nsByNode.get(n) ?? []) {
      if (ns.role !== 'overlay' && ns.fdb.length === 0) continue;
      const neigh = new Map<string, string[]>();
      for (const ne of ns.neighbours) {
        if (!ne.lladdr) continue;
        const l = neigh.get(ne.dst);
        if (l) l.push(ne.lladdr.toLowerCase());
        else neigh.set(ne.dst, [ne.lladdr.toLowerCase()]);
      }
      const fdbMac: string[] = [];
      const fdbNode: (string | undefined)[] = [];
      for (const f of ns.fdb) {
        if (!f.dst) continue;
        fdbMac.push(f.mac.toLowerCase());
        fdbNode.push(this.nodeByAddr.get(f.dst));
      }
      c.ns.push({ neigh, fdbMac, fdbNode });
    }
    for (const i of this.ifByNode.get(n) ?? []) {
      const r = i.details.vxlan?.remote;
      const o = r ? this.nodeByAddr.get(r) : undefined;
      if (o) c.remotes.push(o);
    }
    this.closureIdx.set(n, c);
    return c;
  }

  private readonly closureIdx = new Map<string, ClosureIdx>();

  /**
   * A model and world of only these nodes. `checkHops` (needs the whole world at construction):
   * a packet leaving towards a next hop on a node left out ends as LEFT_OUT (see World.wider),
   * so an outcome that goes outside is one the whole world gives too (see trustworthy).
   */
  build(nodes: Iterable<string>, checkHops = false): { model: Model; world: World } {
    const names = new Set(nodes);
    const model: Model = {
      ...this.model,
      nodes: this.model.nodes.filter((n) => names.has(n.name)),
      namespaces: [...names].flatMap((n) => this.nsByNode.get(n) ?? []),
      interfaces: [...names].flatMap((n) => this.ifByNode.get(n) ?? []),
      links: [],
      problems: [],
      files: [],
    };
    return { model, world: new World(model, this.world, checkHops && this.world !== undefined) };
  }
}

/**
 * Whether a sub-world's outcomes can be kept: every outcome ends in a namespace of the sub-world,
 * and every failure was decided by a rule, a route or IPVS (not by a missing peer or next hop).
 * `hopsChecked`: the sub-world was built with `checkHops`, so a packet that left it towards a next
 * hop went where the whole world sends it too: an outcome or reply that went outside is kept,
 * one that met a node left out (LEFT_OUT) is not.
 */
export function trustworthy(outcomes: Outcome[], hopsChecked = false): boolean {
  if (outcomes.length === 0) return false;
  if (hopsChecked) {
    for (const o of outcomes) if (o.final.namespace === LEFT_OUT || o.reply?.final.namespace === LEFT_OUT) return false;
  }
  const decided = (steps: Outcome['steps']): boolean => {
    const last = [...steps].reverse().find((s) => s.kind !== 'note' && s.kind !== 'conntrack');
    return !!last && (last.kind === 'netfilter' || last.kind === 'policy' || last.kind === 'ipvs' || last.kind === 'drop' || last.kind === 'deliver');
  };
  const outside = (ns: string): boolean => ns === '(outside)' && !hopsChecked;
  for (const o of outcomes) {
    if (outside(o.final.namespace)) return false;
    if (o.verdict !== 'delivered' && !decided(o.steps)) return false;
    if (o.reply && (o.reply.verdict !== 'delivered' || outside(o.reply.final.namespace)) && !decided(o.reply.steps)) return false;
  }
  return true;
}
