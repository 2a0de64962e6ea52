/**
 * unit: `meshtrace synth`. The seed swarm described as a stack file synthesises a capture that
 * loads with no warning or error and gives the same simulate cells as samples/seed-swarm; the
 * description's ports, modes and placement become the right facts; a larger swarm loads clean.
 */
import { synthDumpFiles } from './synthFiles';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../../src/node/loadCapture';
import { buildModel } from '../../../src/core/model/buildModel';
import { formatProblem } from '../../../src/core/problem';
import { synthesize, type SynthFile } from '../../../src/core/topology/synth';
import { describe as describeSwarm } from '../../../src/core/topology/description';
import { simulateTopology, type TopologyResult } from '../../../src/core/topology/simulate';
import { main } from '../../../src/cli/main';

const FIXTURE = path.resolve(__dirname, 'fixtures/seed-swarm.yml');
const SAMPLE = path.resolve(__dirname, '../../../samples/seed-swarm');

/** The files as the loader would read them from disk (bundle-headed dumps split as bundles). */
function modelOf(files: SynthFile[]): ReturnType<typeof buildModel> {
  return buildModel(synthDumpFiles(files));
}

/** The cells of a simulation, without file/line details. */
function cells(r: TopologyResult): string[] {
  return r.entries.map((e) => `${e.node} ${e.kind} ${e.proto} ${e.port ?? e.vip} ${e.from?.task ?? ''}: ${e.outcomes.map((o) => `${o.verdict} ${o.probability} ${o.final.node}/${o.final.namespace} ${o.final.src}→${o.final.dst}:${o.final.dport} reply ${o.reply?.verdict}`).sort().join(' | ')}`).sort();
}

describe('unit: topology synth', () => {
  const out = synthesize(fs.readFileSync(FIXTURE, 'utf8'), 'seed-swarm.yml');

  it('the seed description makes the sample\'s namespaces, with no problem', () => {
    assert.deepEqual(out.problems, []);
    const dirs = [...new Set(out.files.map((f) => f.path.split('/').slice(0, 2).join('/')))].filter((d) => !d.endsWith('.json')).sort();
    assert.deepEqual(dirs, [
      'swarm-manager/1-pf1nzx5l2r', 'swarm-manager/1-u8nhcsxq2t', 'swarm-manager/host', 'swarm-manager/ingress_sbox', 'swarm-manager/lb_u8nhcsxq2', 'swarm-manager/web.2.mms2c65e5ygt',
      'swarm-worker1/1-pf1nzx5l2r', 'swarm-worker1/1-u8nhcsxq2t', 'swarm-worker1/host', 'swarm-worker1/ingress_sbox', 'swarm-worker1/lb_u8nhcsxq2', 'swarm-worker1/web.1.udlzvsraha1x',
      'swarm-worker2/1-pf1nzx5l2r', 'swarm-worker2/host', 'swarm-worker2/ingress_sbox',
    ]);
    const host = out.files.find((f) => f.path === 'swarm-manager/host/iptables-save.txt')?.text ?? '';
    assert.match(host, /^-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172\.18\.0\.2:8080$/m);
    assert.match(host, /^-A DOCKER-INGRESS -p tcp -m state --state RELATED,ESTABLISHED -m tcp --sport 8080 -j ACCEPT$/m);
    const ipvs = out.files.find((f) => f.path === 'swarm-worker2/ingress_sbox/ipvsadm.txt')?.text ?? '';
    assert.match(ipvs, /^FWM  256 rr\n  -> 10\.0\.0\.6:0 {19}Masq    1      0          0         \n  -> 10\.0\.0\.7:0 /m);
  });

  it('written to disk, it loads with loadModel with no warning or error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-synth-'));
    try {
      let text = '';
      assert.equal(main(['synth', FIXTURE, '--out', dir, '--force'], (s) => (text += s), () => undefined), 0);
      assert.match(text, /3 nodes, 1 services, 2 tasks/);
      const m = loadModel([dir]);
      assert.deepEqual(m.problems.filter((p) => p.severity !== 'info').map(formatProblem), []);
      assert.equal(m.nodes.length, 3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('it gives the same simulate cells as samples/seed-swarm', () => {
    const a = cells(simulateTopology(modelOf(out.files)));
    const b = cells(simulateTopology(loadModel([SAMPLE])));
    assert.equal(a.length, 5);
    assert.deepEqual(a, b);
  });

  it('ports, modes and placement become facts: ranges, udp, host mode, global, dnsrr, constraints', () => {
    const d = describeSwarm(`
services:
  a: { image: x, ports: ["9000-9002:80-82", "53:53/udp", { target: 443, published: 8443, mode: host }], deploy: { replicas: 3 } }
  b: { image: y, deploy: { mode: global, placement: { constraints: ["node.role == worker"] } } }
  c: { image: z, deploy: { endpoint_mode: dnsrr, replicas: 1 } }
x-meshtrace:
  nodes: [{ name: m1, addr: 192.0.2.10/24, role: manager }, { name: w1, addr: 192.0.2.11/24 }, { name: w2, addr: 192.0.2.12/24 }]
`);
    assert.deepEqual(d.problems, []);
    const a = d.facts.services.find((s) => s.name === 'a');
    assert.deepEqual(a?.ports.map((p) => `${p.published}:${p.target}/${p.proto} ${p.mode}`), ['9000:80/tcp ingress', '9001:81/tcp ingress', '9002:82/tcp ingress', '53:53/udp ingress', '8443:443/tcp host']);
    assert.deepEqual(d.facts.tasks.filter((t) => t.service === 'a').map((t) => t.node), ['m1', 'w1', 'w2']);
    assert.deepEqual(d.facts.tasks.filter((t) => t.service === 'b').map((t) => t.node), ['w1', 'w2']);
    assert.deepEqual(d.facts.services.find((s) => s.name === 'c')?.vips, {});
    const ingress = d.facts.networks.find((n) => n.ingress);
    assert.deepEqual(ingress?.lbIps, { m1: '10.0.0.2', w1: '10.0.0.3', w2: '10.0.0.4' });
    assert.equal(a?.vips[ingress?.id ?? ''], '10.0.0.5');
    assert.deepEqual(a?.marks.m1, { [ingress?.id ?? '']: 256, [d.facts.networks.find((n) => n.name === 'default')?.id ?? '']: 257 });
  });

  it('a bad description is reported with its line, and makes nothing', () => {
    const r = synthesize('services: [\n', 'bad.yml');
    assert.equal(r.files.length, 0);
    assert.ok(r.problems.some((p) => p.severity === 'error' && p.file === 'bad.yml'));
  });

  it('a 12-node swarm with 120 published ports (Docker 29 layout) loads clean and every cell reaches a task', () => {
    let y = 'services:\n';
    for (let s = 0; s < 4; s++) y += `  s${s}: { image: nginx, ports: ["${7000 + s * 30}-${7029 + s * 30}:8000-8029"], networks: [back], deploy: { replicas: 2 } }\n`;
    y += 'networks:\n  back: { driver: overlay }\nx-meshtrace:\n  docker: "29.0.1"\n  nodes:\n';
    for (let n = 0; n < 12; n++) y += `    - { name: n${n}, addr: 198.51.100.${10 + n}/24 }\n`;
    const r = synthesize(y);
    const m = modelOf(r.files);
    assert.deepEqual(m.problems.filter((p) => p.severity !== 'info').map(formatProblem), []);
    const s = simulateTopology(m);
    assert.equal(s.entries.filter((e) => e.kind === 'published-port').length, 12 * 120);
    assert.deepEqual(s.entries.filter((e) => !e.ok).map((e) => `${e.node} ${e.port ?? e.vip}: ${e.outcomes.map((o) => o.reason).join('; ')}`), []);
    assert.equal(s.summary.classes, 4, 'one port class per service');
    assert.deepEqual(s.findings.filter((f) => f.severity !== 'info').map((f) => f.message), []);
    assert.match(r.files.find((f) => f.path === 'n0/host/iptables-save.txt')?.text ?? '', /^-A DOCKER-FORWARD -j DOCKER-INGRESS$/m);
  });
});
