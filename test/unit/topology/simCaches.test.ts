/**
 * unit: the caches and indexes that make `simulate` fast on a large swarm (issue 6), each against
 * the plain computation it replaces: PortIndex class keys, port sets and slices against the
 * pre-optimisation index (refPortSlice.ts), sub-worlds that reuse the whole world's namespace
 * indexes against fresh ones, and sub-worlds that check next hops (World.wider) against the
 * whole world. Swarms are synthesised, with port-specific rules added so that classes differ.
 */
import { synthDumpFiles } from './synthFiles';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildModel } from '../../../src/core/model/buildModel';
import type { DumpFile, Model } from '../../../src/core/model/model';
import { synthesize } from '../../../src/core/topology/synth';
import { PortIndex } from '../../../src/core/topology/portSlice';
import { SubWorlds, trustworthy } from '../../../src/core/topology/subWorld';
import { simulateTopology } from '../../../src/core/topology/simulate';
import { traceQuery } from '../../../src/core/sim/simulate';
import { LEFT_OUT, World } from '../../../src/core/sim/world';
import type { TraceQuery } from '../../../src/core/sim/trace';
import { RefPortIndex } from './refPortSlice';

const FIXTURE = path.resolve(__dirname, 'fixtures/seed-swarm.yml');

/** A swarm of `nodes` nodes and `services` services publishing `ports` ports each (10000+…→8000+…). */
function swarm(nodes: number, services: number, ports: number): DumpFile[] {
  let y = 'services:\n';
  for (let s = 0; s < services; s++) {
    const from = 10000 + s * ports;
    y += `  s${s}:\n    image: nginx:latest\n    ports: ["${from}-${from + ports - 1}:8000-${8000 + ports - 1}"]\n    deploy: { replicas: 2 }\n`;
    if (s === 0) y += '    networks: [backend]\n';
  }
  y += 'networks:\n  backend: { driver: overlay, ipam: { config: [{ subnet: 10.0.8.0/22 }] } }\n';
  y += 'x-meshtrace:\n  docker: "20.10.5"\n  defaultNetwork: false\n  ingress: { subnet: 10.0.0.0/22 }\n  nodes:\n';
  for (let n = 0; n < nodes; n++) y += `    - { name: node${n}, addr: 198.18.0.${n + 1}/16, role: ${n === 0 ? 'manager' : 'worker'} }\n`;
  const out = synthesize(y, 'swarm.yml');
  assert.deepEqual(out.problems, []);
  return synthDumpFiles(out.files);
}

/** Inserts lines before the first line of `file` that matches `before`. */
function insert(files: DumpFile[], file: string, before: RegExp, lines: string[]): DumpFile[] {
  let done = false;
  const out = files.map((f) => {
    if (f.path !== file) return f;
    const ls = f.text.split('\n');
    const i = ls.findIndex((l) => before.test(l));
    assert.ok(i >= 0, `no ${before} in ${file}`);
    ls.splice(i, 0, ...lines);
    done = true;
    return { ...f, text: ls.join('\n') };
  });
  assert.ok(done, `no file ${file}`);
  return out;
}

const PAIRS = (services: number, ports: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let s = 0; s < services; s++) for (let k = 0; k < ports; k++) out.push([10000 + s * ports + k, 8000 + k]);
  return out;
};

/** Each pair → the first pair with the same key (a partition, independent of how keys are spelled). */
function partition(pairs: [number, number][], key: (p: number, t: number) => string): string[] {
  const first = new Map<string, string>();
  return pairs.map(([p, t]) => {
    const k = key(p, t);
    if (!first.has(k)) first.set(k, `${p}/${t}`);
    return first.get(k) as string;
  });
}

describe('unit: simulate caches and indexes (issue 6)', function () {
  this.timeout(120000);
  const pristine = swarm(4, 3, 6);
  // Port-specific damage on node1: a range, a multiport list over published and target ports,
  // a source-port rule, and a rule on a port every connection has.
  const damaged = insert(pristine, 'node1/host/iptables-save.txt', /^-A DOCKER-USER -j RETURN$/, [
    '-A DOCKER-USER -p tcp -m tcp --dport 10002:10004 -j DROP',
    '-A DOCKER-USER -p tcp -m multiport --dports 10007,10008,8001 -j REJECT --reject-with tcp-reset',
    '-A DOCKER-USER -p tcp -m tcp --sport 8003 -j DROP',
    // Met by every connection (the client's port is always in the set): in no class key, though it
    // names a published port.
    '-A DOCKER-USER -p tcp -m multiport --ports 40000,10005 -j ACCEPT',
  ]);
  const models: [string, Model][] = [
    ['pristine', buildModel(pristine)],
    ['damaged', buildModel(damaged)],
  ];
  const pairs = PAIRS(3, 6);

  for (const [name, model] of models) {
    it(`${name}: class keys part the port pairs as the rule-text keys do, cold or warm`, () => {
      const ref = new RefPortIndex(model, 40000);
      const idx = new PortIndex(model, 40000);
      const want = partition(pairs, (p, t) => ref.classKey('tcp', p, t));
      assert.deepEqual(partition(pairs, (p, t) => idx.classKey('tcp', p, t)), want);
      // Warm (every per-spec and per-pair cache filled), in another order: the same keys.
      const warm = new Map(pairs.map(([p, t]) => [`${p}/${t}`, idx.classKey('tcp', p, t)]));
      for (const [p, t] of [...pairs].reverse()) assert.equal(idx.classKey('tcp', p, t), warm.get(`${p}/${t}`));
      // A fresh index asked in another order parts the pairs the same way (its key spellings may
      // differ: token ids are numbered in the order texts are first met).
      const cold = new PortIndex(model, 40000);
      const coldKeys = new Map([...pairs].reverse().map(([p, t]) => [`${p}/${t}`, cold.classKey('tcp', p, t)]));
      assert.deepEqual(partition(pairs, (p, t) => coldKeys.get(`${p}/${t}`) as string), want);
      if (name === 'damaged') assert.ok(new Set(want).size > 3, `the damage makes more classes than services: ${new Set(want).size}`);
    });

    it(`${name}: port sets and slices are the reference's, memoised or not`, () => {
      const ref = new RefPortIndex(model, 40000);
      const idx = new PortIndex(model, 40000);
      for (const [p, t] of [...pairs, [40000, 8000] as [number, number], [4789, 4789] as [number, number]]) {
        const s = ref.portSet(p, t);
        assert.deepEqual([...idx.portSet(p, t)].sort(), [...s].sort());
        assert.equal(idx.portSet(p, t), idx.portSet(p, t), 'memoised');
        for (const ns of model.namespaces) {
          const a = ref.sliceNs(ns.id, s);
          const b = idx.sliceNs(ns.id, s);
          assert.equal(b === undefined, a === undefined, ns.id);
          if (!a || !b) continue;
          const rules = (x: typeof a): string[][] => (x.iptables?.tables ?? []).flatMap((tb) => tb.chains.map((c) => c.rules.map((r) => r.id)));
          assert.deepEqual(rules(b), rules(a), `${ns.id} ${p}/${t}`);
        }
      }
    });
  }

  it('damaged: counterparts of the port-specific rules are the reference\'s', () => {
    const model = models[1][1];
    const ref = new RefPortIndex(model, 40000);
    const idx = new PortIndex(model, 40000);
    const byClass = new Map<string, [number, number][]>();
    for (const [p, t] of pairs) {
      const k = idx.classKey('tcp', p, t);
      byClass.set(k, [...(byClass.get(k) ?? []), [p, t]]);
    }
    const rules = model.namespaces.flatMap((ns) => ns.iptables?.tables.flatMap((tb) => tb.chains.flatMap((c) => c.rules)) ?? []).filter((r) => /--[ds]ports? /.test(r.text));
    let compared = 0;
    for (const list of byClass.values()) {
      const [p0, t0] = list[0];
      for (const [p, t] of list.slice(1, 3)) {
        for (const r of rules) {
          const a = ref.counterpart(r.source.file, r.source.line, p0, t0, p, t);
          assert.equal(idx.counterpart(r.source.file, r.source.line, p0, t0, p, t), a);
          if (a) compared++;
        }
      }
    }
    assert.ok(compared > 10, `compared ${compared}`);
  });

  it('a rule added for one port on one node splits that port from its class (the key sees it)', () => {
    const base = new PortIndex(models[0][1], 40000);
    assert.equal(base.classKey('tcp', 10001, 8001), base.classKey('tcp', 10003, 8003), 'same class before');
    const one = buildModel(insert(pristine, 'node3/host/iptables-save.txt', /^-A DOCKER-USER -j RETURN$/, ['-A DOCKER-USER -p tcp -m tcp --dport 10003 -j ACCEPT']));
    const idx = new PortIndex(one, 40000);
    assert.notEqual(idx.classKey('tcp', 10001, 8001), idx.classKey('tcp', 10003, 8003));
    assert.equal(idx.classKey('tcp', 10001, 8001), idx.classKey('tcp', 10002, 8002));
  });

  it('sub-worlds built from the whole world share its namespace indexes, equal to fresh ones', () => {
    const model = models[1][1];
    const world = new World(model);
    const sw = new SubWorlds(model, world);
    const plain = new SubWorlds(model);
    const a = sw.build(['node1', 'node2']);
    const b = plain.build(['node1', 'node2']);
    assert.deepEqual([...a.world.ns.keys()], [...b.world.ns.keys()]);
    for (const [id, s] of a.world.ns) {
      assert.equal(s, world.ns.get(id), `${id} shared`);
      const f = b.world.ns.get(id);
      assert.ok(f && f !== s);
      assert.deepEqual({ ...s, ns: undefined }, { ...f, ns: undefined }, id);
      assert.equal(s.ns, f.ns);
    }
    for (const k of ['ifById', 'portsOf', 'vxlanByVni', 'vxlanByVniNode', 'nodeByAddr'] as const) assert.deepEqual(a.world[k], b.world[k], k);
    // A namespace that is not the same object is indexed afresh, not taken over.
    const ns0 = model.namespaces.find((n) => n.id === 'node1/host');
    assert.ok(ns0);
    const changed: Model = { ...model, namespaces: model.namespaces.map((n) => (n === ns0 ? { ...n, routes: [] } : n)) };
    const w2 = new World(changed, world);
    assert.notEqual(w2.ns.get('node1/host'), world.ns.get('node1/host'));
    assert.equal(w2.ns.get('node1/host')?.routes.some((r) => r.table === 'main' && !r.derived), false);
    assert.equal(w2.ns.get('node2/host'), world.ns.get('node2/host'));
  });

  it('a sub-world that checks hops ends at LEFT_OUT where the whole world goes to a node left out, and agrees where it goes outside', () => {
    const model = models[0][1];
    const world = new World(model);
    const sw = new SubWorlds(model, world);
    const toNode: TraceQuery = { node: 'node0', namespace: 'host', proto: 'tcp', src: '198.18.0.1', sport: 40000, dst: '198.18.0.2', dport: 22 };
    const full = traceQuery(model, toNode, world).outcomes;
    assert.ok(full.every((o) => o.final.node === 'node1'), JSON.stringify(full.map((o) => o.final)));
    const checked = sw.build(['node0'], true);
    const outs = traceQuery(checked.model, toNode, checked.world).outcomes;
    assert.deepEqual(outs.map((o) => o.final.namespace), [LEFT_OUT]);
    assert.equal(trustworthy(outs, true), false);
    const unchecked = sw.build(['node0']);
    assert.deepEqual(traceQuery(unchecked.model, toNode, unchecked.world).outcomes.map((o) => o.final.namespace), ['(outside)']);
    // With node1 in the sub-world, the answer is the whole world's.
    const both = sw.build(['node0', 'node1'], true);
    const o2 = traceQuery(both.model, toNode, both.world).outcomes;
    assert.deepEqual(o2, full);
    assert.equal(trustworthy(o2, true), true);
    // Outside the capture: the same answer as the whole world's, and kept.
    const out: TraceQuery = { ...toNode, dst: '8.8.8.8' };
    const o3 = traceQuery(checked.model, out, checked.world).outcomes;
    assert.deepEqual(o3.map((o) => o.final.namespace), ['(outside)']);
    assert.deepEqual(o3, traceQuery(model, out, world).outcomes);
    assert.equal(trustworthy(o3, true), true);
    assert.equal(trustworthy(o3), false);
  });

  it('damaged: every simulate cell is what a plain trace in the whole world gives', () => {
    const model = models[1][1];
    const r = simulateTopology(model, { noFindings: true });
    assert.ok(r.entries.some((e) => !e.ok), 'the damage fails some entries');
    const world = new World(model);
    for (const e of r.entries) {
      const outs = traceQuery(model, e.query, world).outcomes;
      const view = (o: { verdict: string; probability: number; final: unknown; reason: string; reply?: { verdict: string; reason: string } }): unknown => ({ verdict: o.verdict, probability: o.probability, final: o.final, reason: o.reason, reply: o.reply && { verdict: o.reply.verdict, reason: o.reply.reason } });
      assert.deepEqual(e.outcomes.map(view), outs.map(view), `${e.node} ${e.kind} ${e.port ?? e.vip}`);
    }
  });

  it('the seed description synthesises a swarm whose keys match the reference too', () => {
    const model = buildModel(synthDumpFiles(synthesize(fs.readFileSync(FIXTURE, 'utf8'), 'seed.yml').files));
    const ref = new RefPortIndex(model, 40000);
    const idx = new PortIndex(model, 40000);
    const ps: [number, number][] = [[8080, 80], [80, 80], [40000, 80], [8081, 8080]];
    assert.deepEqual(partition(ps, (p, t) => idx.classKey('tcp', p, t)), partition(ps, (p, t) => ref.classKey('tcp', p, t)));
  });
});
