/** unit: the path diagram's data (lanes, hops, header fields) from the seed's demo trace. */
import * as assert from 'node:assert/strict';
import { hopLabel, packetFields, percent, traceToDiagram } from '../../../src/webview/diagramModel';
import type { Step } from '../../../src/core/sim/trace';
import { seedCase } from './fixtures';

describe('unit: ext diagramModel', () => {
  const d = traceToDiagram(seedCase().trace);

  it('has the query line and one entry per outcome, 50% each', () => {
    assert.equal(d.query, 'tcp 192.168.200.1:36828 → 192.168.200.10:8080 from swarm-manager/host (arriving on eth1)');
    assert.deepEqual(d.outcomes.map((o) => [o.label, o.final]), [
      ['delivered 50%', 'swarm-manager/web.2.mms2c65e5ygt 10.0.0.2:36828 → 10.0.0.6:80'],
      ['delivered 50%', 'swarm-worker1/web.1.udlzvsraha1x 10.0.0.2:36828 → 10.0.0.7:80'],
    ]);
  });

  it('orders lanes by first visit', () => {
    assert.deepEqual(d.outcomes[0].lanes.map((l) => l.id), ['swarm-manager/host', 'swarm-manager/ingress_sbox', 'swarm-manager/1-pf1nzx5l2r', 'swarm-manager/web.2.mms2c65e5ygt']);
    assert.deepEqual(d.outcomes[1].lanes.map((l) => l.id), [
      'swarm-manager/host',
      'swarm-manager/ingress_sbox',
      'swarm-manager/1-pf1nzx5l2r',
      'swarm-worker1/host',
      'swarm-worker1/1-pf1nzx5l2r',
      'swarm-worker1/web.1.udlzvsraha1x',
    ]);
  });

  it('labels every hop with the step that moved the packet', () => {
    const hops = (i: number): string[] => d.outcomes[i].steps.filter((s) => s.phase === 'request' && s.hop).map((s) => s.hop!.label);
    assert.deepEqual(hops(0), ['veth vethc4c0ace', 'veth eth0', 'veth veth1']);
    assert.deepEqual(hops(1), ['veth vethc4c0ace', 'veth eth0', 'VXLAN 4096 → 192.168.200.11', 'eth1 → swarm-worker1', 'decap at 192.168.200.11:4789', 'veth veth1']);
  });

  it('marks the fields a step rewrote, with their old values', () => {
    const dnat = d.outcomes[0].steps[1];
    assert.equal(dnat.action, 'DNAT');
    assert.deepEqual(dnat.packet.filter((f) => f.changed), [{ name: 'dst', value: '172.18.0.2', changed: true, was: '192.168.200.10' }]);
    const ipvs = d.outcomes[0].steps.find((s) => s.kind === 'ipvs')!;
    assert.deepEqual(ipvs.packet.filter((f) => f.changed).map((f) => `${f.name}:${f.was}→${f.value}`), ['dst:172.18.0.2→10.0.0.6']);
    assert.equal(ipvs.rule?.file, 'swarm-manager/ingress_sbox/ipvsadm.txt');
    assert.equal(d.outcomes[0].steps[0].rewrote, false);
  });

  it('puts the reply after the request', () => {
    const o = d.outcomes[0];
    const t = seedCase().trace.outcomes[0];
    assert.equal(o.replyStart, t.steps.length);
    assert.equal(o.steps.length, t.steps.length + t.reply!.steps.length);
    assert.equal(o.steps[o.replyStart!].phase, 'reply');
    assert.equal(o.replyVerdict, 'delivered');
  });

  const check = (p: number, expected: string): void => assert.equal(percent(p), expected, String(p));
  it('prints probabilities', () => {
    check(0.5, '50%');
    check(1, '100%');
    check(1 / 3, '33.3%');
    check(0.125, '12.5%');
  });

  it('ignores interface changes in packetFields and keeps empty fields out', () => {
    const f = packetFields({ src: '1.1.1.1', dst: '2.2.2.2', proto: 'icmp', mark: '0x0', iif: 'eth1' }, { src: '1.1.1.1', dst: '2.2.2.2', proto: 'icmp', mark: '0x0', iif: 'eth0' });
    assert.deepEqual(f.map((x) => `${x.name}=${x.value}${x.changed ? '*' : ''}`), ['src=1.1.1.1', 'dst=2.2.2.2', 'proto=icmp', 'mark=0x0', 'iif=eth1']);
  });

  it('shortens hop labels', () => {
    const step = (kind: Step['kind'], action: string): Step => ({ node: 'n', namespace: 'ns', kind, action, packet: { src: '', dst: '', proto: 'tcp', mark: '0x0' } });
    assert.equal(hopLabel(step('route', 'routing decision: via 172.18.0.1 dev eth1')), 'route via 172.18.0.1 dev eth1');
    assert.equal(hopLabel(step('ipvs', 'IPVS FWM 256 rr: Masq to 10.0.0.7')), 'IPVS → 10.0.0.7');
    assert.equal(hopLabel(step('note', 'x'.repeat(50))).length, 30);
  });
});
