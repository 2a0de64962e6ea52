/**
 * unit: the second round of caches behind `simulate` on large swarms (issue 6): PortIndex's per-spec
 * table (specs shared across nodes), and SubWorlds.closure's
 * per-node index, each against the plain computation it replaces (cold vs. memoised, and the
 * pre-optimisation code written out here). A memo must be able to fail: distinct specs must give
 * distinct answers, a mutated input must change the answer.
 */
import { synthDumpFiles } from './synthFiles';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { buildModel } from '../../../src/core/model/buildModel';
import type { Model } from '../../../src/core/model/model';
import type { Rule, RuleSpec } from '../../../src/core/model/netfilter';
import { synthesize } from '../../../src/core/topology/synth';
import { PortIndex, portConstraints } from '../../../src/core/topology/portSlice';
import { swarmFacts } from '../../../src/core/topology/facts';
import { SubWorlds } from '../../../src/core/topology/subWorld';

const FIXTURE = path.resolve(__dirname, 'fixtures/seed-swarm.yml');

function seedModel(): Model {
  const out = synthesize(fs.readFileSync(FIXTURE, 'utf8'), 'seed-swarm.yml');
  assert.deepEqual(out.problems, []);
  return buildModel(synthDumpFiles(out.files));
}


/** A rule with this spec (only the spec is read by the functions under test). */
function ruleOf(spec: RuleSpec): Rule {
  return { spec, text: '', source: { file: 'x', line: 1 } } as unknown as Rule;
}

function spec(over: Partial<RuleSpec>): RuleSpec {
  return { matches: [], ...over } as unknown as RuleSpec;
}


/** SubWorlds.closure before this round (a scan of every neighbour and FDB entry), for comparison. */
function refClosure(model: Model, nodes: Set<string>, ips: Set<string>): Set<string> {
  const nodeByAddr = new Map<string, string>();
  for (const n of model.nodes) for (const a of n.addresses) nodeByAddr.set(a, n.name);
  const nodeOfNs = new Map(model.namespaces.map((ns) => [ns.id, ns.node]));
  for (let round = 0; round < 2; round++) {
    for (const n of [...nodes]) {
      for (const ns of model.namespaces.filter((x) => x.node === n)) {
        if (ns.role !== 'overlay' && ns.fdb.length === 0) continue;
        const macs = new Set<string>(['00:00:00:00:00:00']);
        for (const ne of ns.neighbours) if (ips.has(ne.dst) && ne.lladdr) macs.add(ne.lladdr.toLowerCase());
        for (const f of ns.fdb) {
          if (!f.dst || !macs.has(f.mac.toLowerCase())) continue;
          const o = nodeByAddr.get(f.dst);
          if (o) nodes.add(o);
        }
      }
      for (const i of model.interfaces.filter((x) => nodeOfNs.get(x.namespaceId) === n)) {
        const r = i.details.vxlan?.remote;
        const o = r ? nodeByAddr.get(r) : undefined;
        if (o) nodes.add(o);
      }
    }
  }
  return nodes;
}

describe('simulate caches, round 2 (issue 6)', () => {
  const model = seedModel();

  it('PortIndex: rules sharing one spec object across nodes share its derived answers', () => {
    // The index numbers spec objects; a spec seen on several nodes is read once. Class keys
    // equal per node and the same across nodes are what the reference comparisons in
    // simCaches.test.ts check; here: a spec shared by rules on two nodes, and distinct specs that
    // differ in a port, constrain different ports.
    const bySpec = new Map<RuleSpec, Set<string>>();
    for (const ns of model.namespaces) for (const t of ns.iptables?.tables ?? []) for (const c of t.chains) for (const r of c.rules) (bySpec.get(r.spec) ?? bySpec.set(r.spec, new Set()).get(r.spec))?.add(ns.node);
    assert.ok([...bySpec.values()].some((n) => n.size > 1), 'some spec object is shared between nodes');
    const a = spec({ matches: [{ name: 'tcp', options: [{ name: 'dport', invert: false, values: ['80'] }] }] } as Partial<RuleSpec>);
    const b = spec({ matches: [{ name: 'tcp', options: [{ name: 'dport', invert: false, values: ['81'] }] }] } as Partial<RuleSpec>);
    assert.deepEqual(portConstraints(ruleOf(a)), [{ ranges: [[80, 80]] }]);
    assert.deepEqual(portConstraints(ruleOf(b)), [{ ranges: [[81, 81]] }]);
  });

  it('PortIndex: class keys and port sets are the same when no spec object is shared', () => {
    // Each rule given its own copy of its spec: the per-spec table then has one entry per rule.
    const unshared: Model = {
      ...model,
      namespaces: model.namespaces.map((ns) => (ns.iptables ? { ...ns, iptables: { ...ns.iptables, tables: ns.iptables.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.map((r) => ({ ...r, spec: structuredClone(r.spec) })) })) })) } } : ns)),
    };
    const a = new PortIndex(model, 40000);
    const b = new PortIndex(unshared, 40000);
    const pairs = swarmFacts(model).services.flatMap((sv) => sv.ports.map((p) => [p.proto, p.published, p.target] as const));
    assert.ok(pairs.length > 0);
    for (const [proto, p, t] of [...pairs, ['tcp', 8080, 80] as const, ['udp', 53, 53] as const]) {
      assert.equal(a.classKey(proto, p, t), b.classKey(proto, p, t), `${proto}/${p}/${t}`);
      assert.deepEqual([...a.portSet(p, t)], [...b.portSet(p, t)]);
    }
    // The keys tell ports apart: not every pair has one key.
    assert.ok(new Set(pairs.map(([proto, p, t]) => a.classKey(proto, p, t))).size > 1 || pairs.length === 1);
  });


  it('SubWorlds.closure equals the plain scan, in the same order, for every node and several address sets', () => {
    const sw = new SubWorlds(model);
    const allIps = new Set(model.namespaces.flatMap((ns) => ns.neighbours.map((n) => n.dst)));
    const ipSets = [new Set<string>(), allIps, new Set([...allIps].slice(0, 1)), new Set([...allIps].slice(1, 3)), new Set(['192.0.2.99'])];
    let grew = false;
    for (const n of model.nodes) {
      for (const ips of ipSets) {
        const got = [...sw.closure(new Set([n.name]), ips)];
        const want = [...refClosure(model, new Set([n.name]), ips)];
        assert.deepEqual(got, want, `${n.name} with ${[...ips].join(',')}`);
        if (got.length > 1) grew = true;
      }
    }
    assert.ok(grew, 'some closure reaches another node');
  });
});
