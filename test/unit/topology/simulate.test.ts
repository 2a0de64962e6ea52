/**
 * unit: the full-topology simulation (`meshtrace simulate`) on samples/seed-swarm, and the doctor's
 * findings, one test per finding kind. Failures are made by editing lines of the sample in memory,
 * as in test/unit/sim/seedSwarm.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { readCapture } from '../../../src/node/loadCapture';
import { buildModel } from '../../../src/core/model/buildModel';
import type { DumpFile } from '../../../src/core/model/model';
import { simulateTopology, type TopologyResult } from '../../../src/core/topology/simulate';
import type { FindingKind } from '../../../src/core/topology/findings';
import { simulateJson } from '../../../src/cli/simulate';
import { main } from '../../../src/cli/main';

const SAMPLE = path.resolve(__dirname, '../../../samples/seed-swarm');
const files = readCapture([SAMPLE]).files;

type Edit = (f: DumpFile) => DumpFile | undefined;

/** Simulates the sample with its files edited (an edit returning undefined drops the file). */
function sim(...edits: Edit[]): TopologyResult {
  let fs = files;
  for (const e of edits) fs = fs.map(e).filter((f): f is DumpFile => f !== undefined);
  return simulateTopology(buildModel(fs));
}

/** Replaces every line of `file` matching `re` by `by` (an empty `by` removes the line; `by` may use $1). */
function line(file: string, re: RegExp, by: string, alsoNext = false): Edit {
  return (f) => {
    if (f.path !== file) return f;
    const out: string[] = [];
    const lines = f.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!re.test(lines[i])) {
        out.push(lines[i]);
        continue;
      }
      if (by !== '') out.push(lines[i].replace(re, by));
      if (alsoNext) i++;
    }
    return { ...f, text: out.join('\n') };
  };
}

function drop(file: string): Edit {
  return (f) => (f.path === file ? undefined : f);
}

/** One cell as a comparable string. */
function cellsOf(r: TopologyResult, node: string, port = 8080): string[] {
  const e = r.entries.find((x) => x.kind === 'published-port' && x.node === node && x.port === port);
  assert.ok(e, `no entry for ${node}:${port}`);
  return e.outcomes.map((o) => `${o.verdict} ${o.probability} ${o.target?.task ?? `${o.final.node}/${o.final.namespace}`} ${o.final.src} → ${o.final.dst}:${o.final.dport}`).sort();
}

const HEALTHY = (sbox: string): string[] => [
  `delivered 0.5 web.1.udlzvsraha1xwcsa212ofldjg ${sbox} → 10.0.0.7:80`,
  `delivered 0.5 web.2.mms2c65e5ygt6n4pswpdpmcqg ${sbox} → 10.0.0.6:80`,
];

describe('unit: topology simulate on samples/seed-swarm', () => {
  const r = sim();

  it('3 nodes × published port 8080, each reaching web.1 and web.2 at 0.5, seen from that node\'s ingress_sbox', () => {
    const pp = r.entries.filter((e) => e.kind === 'published-port');
    assert.deepEqual(pp.map((e) => `${e.node} ${e.proto}/${e.port} → ${e.service}:${e.targetPort} ${e.mode}`), [
      'swarm-manager tcp/8080 → web:80 ingress',
      'swarm-worker1 tcp/8080 → web:80 ingress',
      'swarm-worker2 tcp/8080 → web:80 ingress',
    ]);
    assert.deepEqual(cellsOf(r, 'swarm-manager'), HEALTHY('10.0.0.2'));
    assert.deepEqual(cellsOf(r, 'swarm-worker1'), HEALTHY('10.0.0.3'));
    assert.deepEqual(cellsOf(r, 'swarm-worker2'), HEALTHY('10.0.0.4'));
    for (const e of pp) {
      assert.equal(e.ok, true);
      assert.deepEqual(e.query, { node: e.node, namespace: 'host', iif: 'eth1', proto: 'tcp', src: '192.168.200.1', sport: 40000, dst: { 'swarm-manager': '192.168.200.10', 'swarm-worker1': '192.168.200.11', 'swarm-worker2': '192.168.200.12' }[e.node], dport: 8080 });
      for (const o of e.outcomes) assert.equal(o.reply?.verdict, 'delivered');
    }
  });

  it('the mynet VIP 10.0.1.12 from each web task reaches both tasks at 0.5, seen from the lb_ endpoint', () => {
    const v = r.entries.filter((e) => e.kind === 'vip').map((e) => `${e.from?.task} → ${e.vip}:${e.dport}: ${e.outcomes.map((o) => `${o.probability} ${o.final.src}→${o.final.dst}`).sort().join(', ')}`).sort();
    assert.deepEqual(v, [
      'web.1.udlzvsraha1xwcsa212ofldjg → 10.0.1.12:80: 0.5 10.0.1.10→10.0.1.13, 0.5 10.0.1.10→10.0.1.14',
      'web.2.mms2c65e5ygt6n4pswpdpmcqg → 10.0.1.12:80: 0.5 10.0.1.9→10.0.1.13, 0.5 10.0.1.9→10.0.1.14',
    ]);
  });

  it('the healthy sample has no error or warning findings, only the client-address note', () => {
    assert.deepEqual(r.findings.map((f) => `${f.severity} ${f.kind}`), ['info client-ip-lost']);
  });

  it('--json follows the contract: entries × outcomes with verdict, probability, final; findings', () => {
    const doc = simulateJson(r) as { entries: Record<string, unknown>[]; findings: unknown[] };
    const e = doc.entries[0];
    assert.deepEqual(Object.keys(e).slice(0, 4), ['node', 'kind', 'proto', 'port']);
    const o = (e.outcomes as Record<string, unknown>[])[0];
    for (const k of ['verdict', 'probability', 'final']) assert.ok(k in o, k);
    assert.ok(doc.entries.some((x) => x.kind === 'vip' && typeof x.vip === 'string'));
    assert.ok(Array.isArray(doc.findings));
    let text = '';
    assert.equal(main(['simulate', SAMPLE, '--json'], (s) => (text += s), () => undefined), 0);
    assert.equal((JSON.parse(text) as { entries: unknown[] }).entries.length, r.entries.length);
  });

  it('one node\'s DNAT line deleted: its cell changes and a finding names that node and the missing DNAT', () => {
    const x = sim(line('swarm-worker2/host/iptables-save.txt', /-A DOCKER-INGRESS .*-j DNAT/, ''));
    assert.deepEqual(cellsOf(x, 'swarm-manager'), HEALTHY('10.0.0.2'));
    assert.deepEqual(cellsOf(x, 'swarm-worker2'), ['delivered 1 swarm-worker2/host 192.168.200.1 → 192.168.200.12:8080']);
    const e = x.entries.find((y) => y.node === 'swarm-worker2' && y.kind === 'published-port');
    assert.equal(e?.ok, false);
    const f = x.findings.find((y) => y.kind === 'missing-dnat');
    assert.ok(f);
    assert.equal(f.node, 'swarm-worker2');
    assert.equal(f.namespace, 'host');
    assert.equal(f.expected, '-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080');
    assert.equal(f.at?.file, 'swarm-worker2/host/iptables-save.txt');
    assert.match(f.message, /8080\/tcp \(web\) has no DNAT/);
  });

  it('one IPVS real server deleted: that node\'s cell goes to the other task only, and a finding names the node and the task', () => {
    const x = sim(line('swarm-worker1/ingress_sbox/ipvsadm.txt', /10\.0\.0\.7:0/, ''));
    assert.deepEqual(cellsOf(x, 'swarm-worker1'), ['delivered 1 web.2.mms2c65e5ygt6n4pswpdpmcqg 10.0.0.3 → 10.0.0.6:80']);
    assert.deepEqual(cellsOf(x, 'swarm-worker2'), HEALTHY('10.0.0.4'));
    const f = x.findings.find((y) => y.kind === 'ipvs-missing-backend');
    assert.ok(f);
    assert.equal(f.node, 'swarm-worker1');
    assert.equal(f.namespace, 'ingress_sbox');
    assert.match(f.message, /web\.1\.udlzvsraha1xwcsa212ofldjg \(10\.0\.0\.7\) is missing from IPVS FWM 256/);
  });
});

const M = 'swarm-manager';
const W1 = 'swarm-worker1';
const W2 = 'swarm-worker2';

/** [kind, node, namespace, edits, message pattern]: one row per finding kind. */
const KINDS: [FindingKind, string, string, Edit[], RegExp][] = [
  ['missing-dnat', W2, 'host', [line(`${W2}/host/iptables-save.txt`, /-j DNAT/, '')], /no DNAT/],
  ['missing-ingress-accept', M, 'host', [line(`${M}/host/iptables-save.txt`, /-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j ACCEPT/, '')], /--dport 8080 -j ACCEPT/],
  ['missing-ingress-jump', M, 'host', [line(`${M}/host/iptables-save.txt`, /-A FORWARD -j DOCKER-INGRESS/, '')], /FORWARD lacks `-A FORWARD -j DOCKER-INGRESS`/],
  ['missing-gw-masquerade', M, 'host', [line(`${M}/host/iptables-save.txt`, /-o docker_gwbridge -m addrtype --src-type LOCAL -j MASQUERADE/, '')], /MASQUERADE/],
  ['stale-ingress-rule', M, 'host', [line(`${M}/host/iptables-save.txt`, /^(\[302:18430\] -A DOCKER-INGRESS -j RETURN)$/, '[0:0] -A DOCKER-INGRESS -p tcp -m tcp --dport 9999 -j DNAT --to-destination 172.18.0.2:9999\n$1')], /port 9999 that no service publishes/],
  ['missing-mark', W2, 'ingress_sbox', [line(`${W2}/ingress_sbox/iptables-save.txt`, /--dport 8080 -j MARK/, '')], /no MARK for published port 8080/],
  ['mark-mismatch', W1, 'ingress_sbox', [line(`${W1}/ingress_sbox/iptables-save.txt`, /(--dport 8080 -j MARK --set-xmark )0x100/, '$10x105')], /marked 261 \(0x105\), but web's load balancer uses fwmark 256/],
  ['missing-vip-mark', M, 'ingress_sbox', [line(`${M}/ingress_sbox/iptables-save.txt`, /-A INPUT -d 10\.0\.0\.5\/32 -j MARK/, '')], /mangle INPUT lacks/],
  ['missing-ipvs-snat', M, 'ingress_sbox', [line(`${M}/ingress_sbox/iptables-save.txt`, /-m ipvs --ipvs -j SNAT/, '')], /SNAT --to-source 10\.0\.0\.2/],
  ['missing-ipvs-service', W2, 'ingress_sbox', [line(`${W2}/ingress_sbox/ipvsadm.txt`, /^(FWM|  ->.*Masq)/, '')], /no IPVS service FWM 256 for web/],
  ['ipvs-missing-backend', W1, 'ingress_sbox', [line(`${W1}/ingress_sbox/ipvsadm.txt`, /10\.0\.0\.7:0/, '')], /missing from IPVS/],
  ['ipvs-stale-backend', M, 'ingress_sbox', [line(`${M}/ingress_sbox/ipvsadm.txt`, /^(  -> 10\.0\.0\.7:0 .*)$/, '$1\n  -> 10.0.0.9:0                   Masq    1      0          0')], /sends to 10\.0\.0\.9, which is no running task/],
  ['ipvs-weight-zero', M, 'ingress_sbox', [line(`${M}/ingress_sbox/ipvsadm.txt`, /(10\.0\.0\.7:0\s+Masq\s+)1/, '$10')], /10\.0\.0\.7 .* has weight 0/],
  ['missing-vip-alias', M, 'lb_u8nhcsxq2', [line(`${M}/lb_u8nhcsxq2/ip-addr.txt`, /inet 10\.0\.1\.12\/32/, '', true)], /VIP 10\.0\.1\.12\/32 of web is not on eth0/],
  ['missing-redirect', M, 'web.2.mms2c65e5ygt', [line(`${M}/web.2.mms2c65e5ygt/iptables-save.txt`, /-j REDIRECT/, '')], /REDIRECT --to-ports 80/],
  ['missing-task-accept', M, 'web.2.mms2c65e5ygt', [line(`${M}/web.2.mms2c65e5ygt/iptables-save.txt`, /-A INPUT -d 10\.0\.0\.6\/32 -p tcp -m tcp --dport 80 /, '')], /filter INPUT lacks/],
  ['fdb-missing', M, '1-pf1nzx5l2r', [line(`${M}/1-pf1nzx5l2r/bridge-fdb.txt`, /^02:42:0a:00:00:07 /, '')], /no FDB entry sends 02:42:0a:00:00:07 \(10\.0\.0\.7/],
  ['fdb-stale', M, '1-pf1nzx5l2r', [line(`${M}/1-pf1nzx5l2r/bridge-fdb.txt`, /^(02:42:0a:00:00:07 dev vxlan0 dst) 192\.168\.200\.11/, '$1 192.168.200.12')], /is on swarm-worker1 \(192\.168\.200\.11\), but the FDB sends it to 192\.168\.200\.12/],
  ['ip-forward-off', W1, 'host', [line(`${W1}/host/sysctl.txt`, /^net\.ipv4\.ip_forward = 1$/, 'net.ipv4.ip_forward = 0')], /ip_forward = 0/],
  ['bridge-nf-off', M, 'host', [line(`${M}/host/sysctl.txt`, /^net\.bridge\.bridge-nf-call-iptables = 1$/, 'net.bridge.bridge-nf-call-iptables = 0')], /bridge-nf-call-iptables = 0/],
  ['route-localnet-off', M, 'host', [line(`${M}/host/sysctl.txt`, /^net\.ipv4\.conf\.docker_gwbridge\.route_localnet = 1$/, 'net.ipv4.conf.docker_gwbridge.route_localnet = 0')], /route_localnet = 0/],
  ['vs-conntrack-off', M, 'ingress_sbox', [line(`${M}/ingress_sbox/sysctl.txt`, /^net\.ipv4\.vs\.conntrack = 1$/, 'net.ipv4.vs.conntrack = 0')], /vs\.conntrack = 0/],
  ['docker-user-drop', M, 'host', [line(`${M}/host/iptables-save.txt`, /^\[0:0\] -A DOCKER-USER -j RETURN$/, '[0:0] -A DOCKER-USER -s 192.168.200.0/24 -j DROP')], /DOCKER-USER drops published traffic \(8080\/tcp on swarm-manager\)/],
  ['underlay-blocked', W1, 'host', [line(`${W1}/host/iptables-save.txt`, /^(\[10:924\] -A FORWARD -j DOCKER-USER)$/, '[0:0] -A INPUT -p udp -m udp --dport 4789 -j DROP\n$1')], /4789\/udp from swarm-manager \(192\.168\.200\.10\) to swarm-worker1 \(192\.168\.200\.11\) is dropped/],
  ['client-ip-lost', M, 'ingress_sbox', [], /tasks see connections to 8080\/tcp from 10\.0\.0\.2 \(ingress_sbox\), not from the client 192\.168\.200\.1/],
  ['path-broken', W1, 'host', [line(`${W1}/host/sysctl.txt`, /^net\.ipv4\.ip_forward = 1$/, 'net.ipv4.ip_forward = 0')], /1 published port fails at swarm-worker1\/host: ip_forward=0/],
  ['unchecked', W2, 'ingress_sbox', [drop(`${W2}/ingress_sbox/ipvsadm.txt`)], /no ipvsadm dump of ingress_sbox/],
];

describe('unit: topology findings, one per kind', () => {
  for (const [kind, node, ns, edits, re] of KINDS) {
    it(`${kind}: on ${node}/${ns}`, () => {
      const r = sim(...edits);
      const f = r.findings.find((x) => x.kind === kind && x.node === node && x.namespace === ns);
      assert.ok(f, `no ${kind} on ${node}/${ns}; got: ${r.findings.map((x) => `${x.kind} ${x.node}/${x.namespace}: ${x.message}`).join('\n')}`);
      assert.match(f.message, re);
      assert.ok(f.explanation.length > 40, 'a plain explanation');
      assert.ok(f.fix || f.confirm, 'a command that fixes or confirms it');
      if (kind !== 'underlay-blocked' && kind !== 'path-broken') assert.ok(f.at && f.at.file.startsWith(`${node}/`) && f.at.line >= 1, `dump line of ${kind}: ${JSON.stringify(f.at)}`);
      // Only the edit's own kinds are errors: the unedited parts stay quiet.
      const errors = r.findings.filter((x) => x.severity === 'error').map((x) => x.kind);
      const allowed = new Set<FindingKind>([kind, 'path-broken', 'missing-ingress-accept', 'missing-task-accept', ...(kind === 'path-broken' ? (['ip-forward-off'] as const) : [])]);
      for (const k of errors) assert.ok(allowed.has(k) || kind === 'mark-mismatch' || kind === 'missing-ipvs-service', `unexpected ${k} for ${kind}`);
    });
  }

  it('every finding kind has a test', () => {
    const kinds: FindingKind[] = ['missing-dnat', 'missing-ingress-accept', 'missing-ingress-jump', 'missing-gw-masquerade', 'stale-ingress-rule', 'missing-mark', 'mark-mismatch', 'missing-vip-mark', 'missing-ipvs-snat', 'missing-ipvs-service', 'ipvs-missing-backend', 'ipvs-stale-backend', 'ipvs-weight-zero', 'missing-vip-alias', 'missing-redirect', 'missing-task-accept', 'fdb-missing', 'fdb-stale', 'ip-forward-off', 'bridge-nf-off', 'route-localnet-off', 'vs-conntrack-off', 'docker-user-drop', 'underlay-blocked', 'client-ip-lost', 'path-broken', 'unchecked'];
    assert.deepEqual(KINDS.map((k) => k[0]).sort(), [...kinds].sort());
  });
});
