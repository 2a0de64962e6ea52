/** unit: the Topology and Trace trees as plain items, from the seed sample and the hostile capture. */
import * as assert from 'node:assert/strict';
import { indexProblems, ipRuleText, routeText, topologyItems } from '../../../src/views/topologyModel';
import { traceItems } from '../../../src/views/traceModel';
import type { ViewItem } from '../../../src/views/viewItem';
import { PAYLOAD, seedCase, xssCase } from './fixtures';

/** Follows a path of labels (prefix match) from the roots and returns the item reached. */
function walk(roots: ViewItem[], ...labels: string[]): ViewItem {
  let items = roots;
  let hit: ViewItem | undefined;
  for (const l of labels) {
    hit = items.find((i) => i.label.startsWith(l));
    assert.ok(hit, `no "${l}" among ${items.map((i) => i.label).join(', ')}`);
    items = hit.children?.() ?? [];
  }
  return hit!;
}

describe('unit: ext views (Topology and Trace items)', () => {
  const { model, trace } = seedCase();
  const topo = topologyItems(model, 'seed-swarm');

  it('starts with the capture, then nodes, Docker and capture-level problems', () => {
    assert.equal(topo.length, 1);
    assert.equal(topo[0].description, '3 nodes, 15 namespaces, 125 dumps');
    assert.deepEqual(topo[0].children!().map((i) => i.label), ['swarm-manager', 'swarm-worker1', 'swarm-worker2', 'Docker', 'Problems']);
  });

  it('reaches a rule with its counters and its dump line', () => {
    const rule = walk(topo, 'seed-swarm', 'swarm-manager', 'ingress_sbox', 'iptables', 'mangle', 'PREROUTING', '-A PREROUTING -p tcp');
    assert.equal(rule.label, '-A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x100/0xffffffff');
    assert.equal(rule.description, '[12:806]');
    assert.deepEqual(rule.source, { file: 'swarm-manager/ingress_sbox/iptables-save.txt', line: 8 });
    assert.equal(rule.contextValue, 'rule+source');
  });

  it('shows IPVS services with real servers and weights', () => {
    const svc = walk(topo, 'seed-swarm', 'swarm-manager', 'ingress_sbox', 'IPVS', 'FWM 256');
    assert.equal(svc.label, 'FWM 256 (0x100)');
    assert.deepEqual(svc.children!().map((d) => `${d.label} ${d.description}`), ['→ 10.0.0.6:0 Masq weight 1 · active 0 inactive 0', '→ 10.0.0.7:0 Masq weight 1 · active 0 inactive 0']);
  });

  it('shows interfaces with veth peers, bridge ports and VXLAN', () => {
    const eth0 = walk(topo, 'seed-swarm', 'swarm-manager', 'ingress_sbox', 'Interfaces', 'eth0');
    assert.match(eth0.description!, /^10\.0\.0\.2\/24 .*veth peer 1-pf1nzx5l2r\/veth0/);
    assert.deepEqual(eth0.query, { node: 'swarm-manager', namespace: 'ingress_sbox', iif: 'eth0' });
    const vx = walk(topo, 'seed-swarm', 'swarm-manager', '1-pf1nzx5l2r', 'Interfaces', 'vxlan0');
    assert.match(vx.description!, /^vxlan · port of br0 · VXLAN 4096 udp\/4789 to 192\.168\.200\.12 \(swarm-worker2\), 192\.168\.200\.11 \(swarm-worker1\)$/);
  });

  it('shows Docker services with published ports that can start a trace', () => {
    const port = walk(topo, 'seed-swarm', 'Docker', 'Services', 'web', 'published 8080');
    assert.equal(port.label, 'published 8080 → 80/tcp');
    assert.deepEqual(port.query, { proto: 'tcp', dport: 8080 });
    assert.equal(port.contextValue, 'publishedPort+source+traceable');
  });

  it('hangs problems on their node, namespace or the capture', () => {
    const idx = indexProblems(model);
    assert.deepEqual(idx.capture.map((p) => p.file), ['README.md']);
    assert.ok((idx.byNode.get('swarm-manager') ?? []).some((p) => p.file === 'swarm-manager/NAMES.txt'));
    assert.ok((idx.byNamespace.get('swarm-manager/1-pf1nzx5l2r') ?? []).some((p) => p.code === 'empty-dump'));
    assert.equal(idx.capture.length + [...idx.byNode.values(), ...idx.byNamespace.values()].reduce((n, l) => n + l.length, 0), model.problems.length);
  });

  it('prints routes and policy rules as iproute2 does', () => {
    const ns = model.namespaces.find((n) => n.id === 'swarm-manager/ingress_sbox')!;
    assert.equal(routeText(ns.routes.find((r) => r.prefixLen === 0)!), 'default via 172.18.0.1 dev eth1');
    assert.equal(ipRuleText(ns.rules[0]), '0: from all lookup local');
  });

  it('keeps a hostile comment verbatim in the rule label (tree labels are text)', () => {
    const x = xssCase();
    const rule = walk(topologyItems(x.model, 'xss'), 'xss', 'evil', 'host', 'iptables', 'filter', 'INPUT', '-A INPUT -p tcp');
    assert.ok(rule.label.includes(PAYLOAD));
  });

  it('lists the trace: query, outcomes, steps with packets before → after and their lines', () => {
    const items = traceItems(trace);
    assert.deepEqual(items.map((i) => i.label), ['tcp 192.168.200.1:36828 → 192.168.200.10:8080 from swarm-manager/host (arriving on eth1)', '1. delivered 50%', '2. delivered 50%']);
    assert.equal(items[1].description, 'at swarm-manager/web.2.mms2c65e5ygt 10.0.0.2:36828 → 10.0.0.6:80');
    const steps = items[1].children!();
    assert.equal(steps.length, trace.outcomes[0].steps.length + 1);
    assert.equal(steps[steps.length - 1].label, 'reply: delivered');
    const k = trace.outcomes[0].steps.findIndex((s) => s.kind === 'ipvs');
    const ipvs = steps[k];
    assert.equal(ipvs.label, `${k + 1}. INPUT: IPVS FWM 256 rr: Masq to 10.0.0.6`);
    assert.deepEqual(ipvs.step, { outcome: 0, index: k });
    assert.deepEqual(ipvs.source, { file: 'swarm-manager/ingress_sbox/ipvsadm.txt', line: trace.outcomes[0].steps[k].rule!.line });
    assert.deepEqual(ipvs.children!().map((c) => c.label).slice(0, 2), ['before: tcp 192.168.200.1:36828 → 172.18.0.2:8080 mark 0x100', 'after: tcp 192.168.200.1:36828 → 10.0.0.6:8080 mark 0x100']);
    const reply = steps[steps.length - 1].children!();
    assert.deepEqual(reply[0].step, { outcome: 0, index: trace.outcomes[0].steps.length });
  });
});
