/**
 * unit: the seed document's swarm (samples/seed-swarm). From each node, `curl <node>:8080` from
 * 192.168.200.1 reaches web.1 and web.2 at 0.5 each, and the task sees the source the seed's
 * RemoteAddr lines show (10.0.0.2 / .3 / .4 = that node's ingress_sbox) on port 80. Then the
 * classic failures, made by editing one line of the sample in memory.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { readCapture } from '../../../src/node/loadCapture';
import { buildModel } from '../../../src/core/model/buildModel';
import { traceQuery } from '../../../src/core/sim/simulate';
import type { DumpFile } from '../../../src/core/model/model';
import type { Trace, TraceQuery } from '../../../src/core/sim/trace';

const SAMPLE = path.resolve(__dirname, '../../../samples/seed-swarm');
const files = readCapture([SAMPLE]).files;

/** Traces a curl to a node's :8080, with the capture's files edited by `edit` first. */
function curl(node: string, ip: string, edit?: (f: DumpFile) => DumpFile): Trace {
  const model = buildModel(edit ? files.map(edit) : files);
  const q: TraceQuery = { node, namespace: 'host', iif: 'eth1', proto: 'tcp', src: '192.168.200.1', sport: 36828, dst: ip, dport: 8080 };
  return traceQuery(model, q);
}

/** Replaces lines of one file that match `re` with `by`. */
function editLine(file: string, re: RegExp, by: string): (f: DumpFile) => DumpFile {
  return (f) => (f.path === file ? { ...f, text: f.text.split('\n').map((l) => (re.test(l) ? by : l)).join('\n') } : f);
}

describe('unit: seed swarm (samples/seed-swarm)', () => {
  const nodes: [string, string, string][] = [
    ['swarm-manager', '192.168.200.10', '10.0.0.2'],
    ['swarm-worker1', '192.168.200.11', '10.0.0.3'],
    ['swarm-worker2', '192.168.200.12', '10.0.0.4'],
  ];
  for (const [node, ip, sbox] of nodes) {
    it(`curl ${ip}:8080 from ${node}'s eth1 reaches web.1 and web.2 at 0.5, seen from ${sbox}`, () => {
      const t = curl(node, ip);
      assert.equal(t.outcomes.length, 2, t.outcomes.map((o) => o.reason).join('\n'));
      const got = t.outcomes.map((o) => `${o.verdict} ${o.probability} ${o.final.node}/${o.final.namespace} ${o.final.src} → ${o.final.dst}:${o.final.dport}`).sort();
      assert.deepEqual(got, [
        `delivered 0.5 swarm-manager/web.2.mms2c65e5ygt ${sbox} → 10.0.0.6:80`,
        `delivered 0.5 swarm-worker1/web.1.udlzvsraha1x ${sbox} → 10.0.0.7:80`,
      ]);
      for (const o of t.outcomes) {
        const actions = o.steps.map((s) => s.action);
        assert.ok(actions.includes('DNAT'), 'host DNAT to ingress_sbox');
        assert.ok(o.steps.some((s) => s.action === 'DNAT' && s.packet.dst === '172.18.0.2' && s.packet.dport === 8080 && s.rule?.file === `${node}/host/iptables-save.txt`));
        assert.ok(o.steps.some((s) => s.namespace === 'ingress_sbox' && /^MARK 0x0 → 0x100$/.test(s.action)));
        assert.ok(o.steps.some((s) => s.kind === 'ipvs' && s.action.startsWith('IPVS FWM 256 rr')));
        assert.ok(o.steps.some((s) => s.namespace === 'ingress_sbox' && s.action === 'SNAT' && s.packet.src === sbox));
        assert.ok(o.steps.some((s) => s.action === 'REDIRECT' && s.packet.dport === 80));
        const crossesOverlay = o.final.node !== node;
        assert.equal(o.steps.some((s) => s.kind === 'vxlan'), crossesOverlay);
        assert.equal(o.reply?.verdict, 'delivered', o.reply?.reason);
        assert.equal(o.reply?.final.src, ip);
        assert.equal(o.reply?.final.sport, 8080);
        assert.equal(o.reply?.final.dst, '192.168.200.1');
      }
    });
  }

  it('a DOCKER-USER DROP stops it, naming the line', () => {
    const t = curl('swarm-manager', '192.168.200.10', editLine('swarm-manager/host/iptables-save.txt', /^\[0:0\] -A DOCKER-USER -j RETURN$/, '[0:0] -A DOCKER-USER -s 192.168.200.0/24 -j DROP'));
    assert.equal(t.outcomes.length, 1);
    assert.equal(t.outcomes[0].verdict, 'dropped');
    assert.equal(t.outcomes[0].final.namespace, 'host');
    assert.match(t.outcomes[0].reason, /swarm-manager\/host\/iptables-save\.txt:52/);
  });

  it('an IPVS service whose real servers all have weight 0 rejects new connections', () => {
    const t = curl('swarm-manager', '192.168.200.10', (f) =>
      f.path === 'swarm-manager/ingress_sbox/ipvsadm.txt' ? { ...f, text: f.text.replace(/Masq    1 /g, 'Masq    0 ') } : f,
    );
    assert.equal(t.outcomes.length, 1);
    assert.equal(t.outcomes[0].verdict, 'rejected');
    assert.equal(t.outcomes[0].final.namespace, 'ingress_sbox');
    assert.match(t.outcomes[0].reason, /FWM 256.*all weights are 0/);
    assert.ok(t.outcomes[0].steps.some((s) => s.kind === 'ipvs' && s.rule?.file === 'swarm-manager/ingress_sbox/ipvsadm.txt'));
  });

  it('a missing MARK rule in ingress_sbox: no IPVS service takes it, and the missing piece is named', () => {
    const t = curl('swarm-worker2', '192.168.200.12', editLine('swarm-worker2/ingress_sbox/iptables-save.txt', /--dport 8080 -j MARK/, ''));
    assert.equal(t.outcomes.length, 1);
    const o = t.outcomes[0];
    assert.equal(o.verdict, 'rejected');
    assert.equal(o.final.namespace, 'ingress_sbox');
    assert.match(o.reason, /mark is 0x0.*FWM 256 \(0x100\).*MARK rule for tcp\/8080 is missing in ingress_sbox/);
  });

  it('one weight-0 real server leaves the other with probability 1', () => {
    const t = curl('swarm-manager', '192.168.200.10', (f) =>
      f.path === 'swarm-manager/ingress_sbox/ipvsadm.txt' ? { ...f, text: f.text.replace(/(10\.0\.0\.7:0\s+Masq\s+)1/, '$10') } : f,
    );
    assert.equal(t.outcomes.length, 1);
    assert.equal(t.outcomes[0].probability, 1);
    assert.equal(t.outcomes[0].final.namespace, 'web.2.mms2c65e5ygt');
  });
});
