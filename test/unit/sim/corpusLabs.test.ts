/**
 * unit: the simulator against the two lab captures in the corpus, whose probes record what the
 * real kernel did (captures/netns-lab/probes/probe-results.txt and README.md;
 * captures/docker20-swarm-lab/README.md "Ground truth"). Each probe: verdict, the namespace where
 * it ended, and the addresses the receiving socket saw.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadModel } from '../../../src/node/loadCapture';
import { traceQuery } from '../../../src/core/sim/simulate';
import { World } from '../../../src/core/sim/world';
import type { TraceQuery, Verdict } from '../../../src/core/sim/trace';
import { CORPUS } from '../helpers';

interface Expect {
  verdict: Verdict;
  ns: string;
  /** What the receiving socket sees, `src → dst:dport`, for delivered packets. */
  seen?: string;
  /** A dump line that must decide one of the steps (file:line). */
  decidedBy?: string;
  reply?: Verdict;
}

function suite(capture: string, cases: [string, TraceQuery, Expect][]): void {
  const model = loadModel([path.join(CORPUS, capture)]);
  const world = new World(model);
  for (const [name, q, want] of cases) {
    it(`${capture}: ${name}`, () => {
      const t = traceQuery(model, q, world);
      assert.equal(t.outcomes.length, 1, JSON.stringify(t.outcomes.map((o) => o.reason)));
      const o = t.outcomes[0];
      assert.equal(o.verdict, want.verdict, o.reason);
      assert.equal(o.probability, 1);
      assert.equal(o.final.namespace, want.ns);
      if (want.seen) assert.equal(`${o.final.src} → ${o.final.dst}:${o.final.dport ?? ''}`.replace(/:$/, ''), want.seen);
      if (want.decidedBy) assert.ok(o.steps.some((s) => s.rule && `${s.rule.file}:${s.rule.line}` === want.decidedBy), `no step decided by ${want.decidedBy}`);
      if (want.reply) assert.equal(o.reply?.verdict, want.reply, o.reply?.reason);
    });
  }
}

const client = (dst: string, proto: 'tcp' | 'icmp', dport?: number): TraceQuery => ({ node: 'vm', namespace: 'client', proto, src: '192.0.2.10', sport: 40004, dst, dport });

describe('unit: simulator on the corpus labs (kernel ground truth)', () => {
  suite('captures/netns-lab', [
    ['bridged across br0 (physdev-is-bridged ACCEPT)', client('192.0.2.20', 'tcp', 80), { verdict: 'delivered', ns: 'server', seen: '192.0.2.10 → 192.0.2.20:80', decidedBy: 'vm/router/iptables-save.txt:36', reply: 'delivered' }],
    ['bridged :22, physdev REJECT tcp-reset', client('192.0.2.20', 'tcp', 22), { verdict: 'rejected', ns: 'router', decidedBy: 'vm/router/iptables-save.txt:35' }],
    ['MARK 0x1 → table 100 → vxlan0, SNAT 198.51.100.1', client('203.0.113.100', 'tcp', 80), { verdict: 'delivered', ns: 'server', seen: '198.51.100.1 → 203.0.113.100:80', decidedBy: 'vm/router/iptables-save.txt:55', reply: 'delivered' }],
    ['same path to :443 (the server kernel answers RST)', client('203.0.113.100', 'tcp', 443), { verdict: 'delivered', ns: 'server', seen: '198.51.100.1 → 203.0.113.100:443' }],
    ['multiport REJECT icmp-port-unreachable', client('203.0.113.2', 'tcp', 25), { verdict: 'rejected', ns: 'router', decidedBy: 'vm/router/iptables-save.txt:37' }],
    ['DNAT 8080 → 192.0.2.10:80, FORWARD --ctstate DNAT', { node: 'vm', namespace: 'server', proto: 'tcp', src: '203.0.113.2', sport: 43726, dst: '203.0.113.1', dport: 8080 }, { verdict: 'delivered', ns: 'client', seen: '203.0.113.2 → 192.0.2.10:80', decidedBy: 'vm/router/iptables-save.txt:52', reply: 'delivered' }],
    ['router INPUT REJECT icmp-host-prohibited', { node: 'vm', namespace: 'server', proto: 'tcp', src: '203.0.113.2', dst: '203.0.113.1', dport: 9999 }, { verdict: 'rejected', ns: 'router', decidedBy: 'vm/router/iptables-save.txt:32' }],
    ['router ping over vxlan0', { node: 'vm', namespace: 'router', proto: 'icmp', src: '198.51.100.1', dst: '198.51.100.2' }, { verdict: 'delivered', ns: 'server', seen: '198.51.100.1 → 198.51.100.2', reply: 'delivered' }],
    ['unmarked ping → main → wan0, MASQUERADE', client('203.0.113.2', 'icmp'), { verdict: 'delivered', ns: 'server', seen: '203.0.113.1 → 203.0.113.2', reply: 'delivered' }],
    ['blackhole route', client('198.18.0.1', 'icmp'), { verdict: 'dropped', ns: 'router' }],
    ['prohibit route', client('203.0.113.200', 'icmp'), { verdict: 'rejected', ns: 'router' }],
  ]);

  const outside = (dport: number): TraceQuery => ({ node: 'swarmlab', namespace: 'host', iif: 'eth1', proto: 'tcp', src: '198.51.100.1', sport: 51060, dst: '198.51.100.10', dport });
  suite('captures/docker20-swarm-lab', [
    ['host-mode publish :9090 → api task 172.17.0.2:80, client address kept', outside(9090), { verdict: 'delivered', ns: '77636091f5f6', seen: '198.51.100.1 → 172.17.0.2:80', reply: 'delivered' }],
    ['ingress :8080 with no DOCKER-INGRESS (no IPVS): ends in the host, where the kernel answers RST', outside(8080), { verdict: 'delivered', ns: 'host', seen: '198.51.100.1 → 198.51.100.10:8080' }],
    ['bridge publish :8081 → legacy-web 172.19.0.2:80', outside(8081), { verdict: 'delivered', ns: 'e337dcbfa24a', seen: '198.51.100.1 → 172.19.0.2:80', reply: 'delivered' }],
  ]);
});
