/**
 * unit: the real single-node swarm of moby PR #52934 (test/fixtures/moby-pr52934, the corpus's
 * moby-pr52934-* dumps copied unedited), loaded and traced from outside to the two ports that
 * service `foo` publishes in ingress mode: 3000/tcp → target 80 and 3001/udp → target 53.
 *
 * The path the kernel takes (docs/docker-network-semantics.md §7, from moby
 * daemon/libnetwork/service_linux.go and the kernel sources named at each hop below):
 *   host nat PREROUTING → DOCKER-INGRESS DNAT to ingress_sbox's gwbridge address 172.19.0.2:P
 *   → forwarded over docker_gwbridge (filter DOCKER-FORWARD → DOCKER-INGRESS ACCEPT)
 *   → ingress_sbox mangle PREROUTING MARK 0x100 → local → IPVS (LOCAL_IN) FWM 256 → 10.0.0.4:P
 *   → nat POSTROUTING `-m ipvs --ipvs` SNAT to 10.0.0.2 → ingress overlay br0 → the task's eth0
 *   → task nat PREROUTING REDIRECT to the target port → filter INPUT ACCEPT → the socket.
 *
 * The capture has no sysctl dump. Two hops need IPv4 forwarding on: the host (DNAT'd packet to
 * docker_gwbridge) and ingress_sbox (the reply, de-SNAT'd to the client's address, leaves by
 * eth1; IPVS undoes its DNAT at FORWARD, ip_vs_core.c ip_vs_reply4). The node had it on:
 * - host: the bridge driver turns net.ipv4.ip_forward on when it sets up docker0 and
 *   docker_gwbridge (moby daemon/libnetwork/drivers/bridge/bridge_linux.go step
 *   "setupIPv4Forwarding", setup_ip_forwarding.go); had Docker switched it on itself, it would
 *   also have set the filter FORWARD policy to DROP (default daemon options), and the dump's
 *   FORWARD policy is ACCEPT, so it was on already (inherited, see next line). Without it the
 *   kernel refuses to route the packet at all (route.c ip_route_input_slow: !IN_DEV_FORWARD).
 * - ingress_sbox: a new network namespace copies init_net's IPv4 devconf, forwarding included
 *   (net/ipv4/devinet.c devinet_init_net, net.core.devconf_inherit_init_net=0 by default);
 *   Docker does not write it there.
 * The SNAT in ingress_sbox applies only with net.ipv4.vs.conntrack=1 (ip_vs_xmit.c
 * ip_vs_nat_send_or_cont: without IP_VS_CONN_F_NFCT the packet is untracked), which Docker
 * writes together with that rule (service_linux.go configureFWMark).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../../src/node/loadCapture';
import { traceQuery } from '../../../src/core/sim/simulate';
import { World } from '../../../src/core/sim/world';
import type { Outcome, Step, StepKind, TraceQuery } from '../../../src/core/sim/trace';
import { corpusFile } from '../helpers';

const FIXTURE = path.resolve(__dirname, '../../fixtures/moby-pr52934');
const NODE = 'dab0d2bf09bf';
const TASK = '231b9363e169';
const CLIENT = '203.0.113.50';
/** The node's one external address (host eth0, and the IP of its `Peers` entry). */
const NODE_IP = '172.17.0.3';

/** Each fixture file (relative to the node folder) and the corpus file it is a copy of. */
const COPIED: [string, string][] = [
  ['docker-network-inspect-v.json', 'docker-network-inspect/moby-pr52934-ingress-and-overlay-inspect-v.json'],
  ['docker-inspect-task.json', 'other/moby-pr52934-swarm-task-docker-inspect-networksettings.json'],
  ['host/iptables-save.txt', 'iptables-save/moby-pr52934-swarm-host-nft-annotated.txt'],
  ['host/ip-d-addr.txt', 'ip-addr/moby-pr52934-swarm-host-ip-d-a.txt'],
  ['host/ip-route.txt', 'ip-route/moby-pr52934-swarm-host-ip-route.txt'],
  ['ingress_sbox/iptables-save.txt', 'iptables-save/moby-pr52934-ingress_sbox-nft-annotated.txt'],
  ['ingress_sbox/ip-d-addr.txt', 'ip-addr/moby-pr52934-ingress_sbox-ip-d-a.txt'],
  ['ingress_sbox/ip-route.txt', 'ip-route/moby-pr52934-ingress_sbox-ip-route.txt'],
  ['ingress_sbox/ipvsadm-S.txt', 'ipvsadm/moby-pr52934-ingress_sbox-ipvsadm-S.txt'],
  [`${TASK}/iptables-save.txt`, 'iptables-save/moby-pr52934-swarm-task-container-nft-annotated.txt'],
  [`${TASK}/ip-d-addr.txt`, 'ip-addr/moby-pr52934-swarm-task-container-ip-d-a.txt'],
  [`${TASK}/ip-route.txt`, 'ip-route/moby-pr52934-swarm-task-container-ip-route.txt'],
  ['1-s7wv09h339/ip-d-addr.txt', 'ip-addr/moby-pr52934-overlay-netns-ingress-ip-d-a.txt'],
  ['1-0a7kccl4dj/ip-d-addr.txt', 'ip-addr/moby-pr52934-overlay-netns-someovl-ip-d-a.txt'],
  ['lb_0a7kccl4d/iptables-save.txt', 'iptables-save/moby-pr52934-lb-netns-nft-annotated.txt'],
  ['lb_0a7kccl4d/ip-d-addr.txt', 'ip-addr/moby-pr52934-lb-netns-ip-d-a.txt'],
  ['lb_0a7kccl4d/ipvsadm-S.txt', 'ipvsadm/moby-pr52934-lb-netns-ipvsadm-S.txt'],
];

/** Line `n` (1-based) of a fixture file given relative to the capture root. */
function fixtureLine(rel: string, n: number): string {
  return fs.readFileSync(path.join(FIXTURE, rel), 'utf8').split('\n')[n - 1] ?? '';
}

/** One step the trace must contain, in order (other steps may come between). */
interface Hop {
  ns: string;
  kind: StepKind;
  /** The dump line that decides it: `<namespace folder>/<file>:<line>` under the node folder. */
  at?: string;
  action?: string | RegExp;
  /** The packet after the step: `src:sport → dst:dport`. */
  pkt?: string;
  mark?: string;
  /** For steps whose `rule.text` is meshtrace's rendering (routes, IPVS): text the dump line holds. */
  lineHas?: string;
}

function show(s: Step): string {
  const p = s.packet;
  return `${s.namespace} ${s.kind}${s.chain ? ` ${s.table}/${s.chain}` : ''} "${s.action}"${s.rule ? ` @${s.rule.file}:${s.rule.line}` : ''} [${p.src}:${p.sport ?? ''} → ${p.dst}:${p.dport ?? ''} ${p.mark}]`;
}

/** Checks that the hops occur in the steps in this order, each decided by the named dump line. */
function expectHops(steps: Step[], hops: Hop[]): void {
  let from = 0;
  const trail = (): string => `\n  steps:\n    ${steps.map(show).join('\n    ')}`;
  for (const h of hops) {
    const want = h.at ? `${NODE}/${h.at}` : undefined;
    const i = steps.findIndex((s, k) => k >= from && s.namespace === h.ns && s.kind === h.kind && (!want || (s.rule && `${s.rule.file}:${s.rule.line}` === want)));
    assert.ok(i >= 0, `no ${h.kind} step in ${h.ns}${want ? ` decided by ${want}` : ''} after step ${from}${trail()}`);
    const s = steps[i];
    if (h.action !== undefined) {
      if (typeof h.action === 'string') assert.equal(s.action, h.action, show(s));
      else assert.match(s.action, h.action, show(s));
    }
    if (h.pkt) assert.equal(`${s.packet.src}:${s.packet.sport} → ${s.packet.dst}:${s.packet.dport}`, h.pkt, show(s));
    if (h.mark) assert.equal(s.packet.mark, h.mark, show(s));
    if (s.rule) {
      const line = fixtureLine(s.rule.file, s.rule.line);
      // iptables rules are quoted verbatim; routes and IPVS entries are rendered, so only their content is checked.
      if (h.lineHas) assert.ok(line.includes(h.lineHas), `${s.rule.file}:${s.rule.line} is "${line}", expected it to hold "${h.lineHas}"`);
      else assert.equal(s.rule.text, line, `${s.rule.file}:${s.rule.line}`);
    }
    from = i + 1;
  }
}

interface Case {
  proto: 'tcp' | 'udp';
  published: number;
  target: number;
  /** Lines of the dumps that decide each hop, by proto. */
  lines: { dnat: number; fwdIn: number; fwdReply: number; mark: number; redirect: number; input: number; output: number };
}

const CASES: Case[] = [
  // host iptables-save.txt:86 `-A DOCKER-INGRESS -p tcp -m tcp --dport 3000 -j DNAT --to-destination 172.19.0.2:3000`;
  // task iptables-save.txt:32 `... --dport 3000 -j REDIRECT --to-ports 80`, :8 INPUT --dport 80 ACCEPT, :14 OUTPUT --sport 80 ACCEPT.
  { proto: 'tcp', published: 3000, target: 80, lines: { dnat: 86, fwdIn: 41, fwdReply: 42, mark: 8, redirect: 32, input: 8, output: 14 } },
  // host :85 udp 3001 DNAT; task :33 `... --dport 3001 -j REDIRECT --to-ports 53`, :7 INPUT udp --dport 53, :13 OUTPUT udp --sport 53.
  { proto: 'udp', published: 3001, target: 53, lines: { dnat: 85, fwdIn: 39, fwdReply: 40, mark: 9, redirect: 33, input: 7, output: 13 } },
];

describe('unit: moby PR #52934 single-node swarm (test/fixtures/moby-pr52934)', () => {
  const model = loadModel([FIXTURE]);
  const world = new World(model);

  describe('the capture', () => {
    it('every fixture file is a byte-for-byte copy of its corpus file', () => {
      const files = fs.readdirSync(path.join(FIXTURE, NODE), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      assert.equal(files.length, COPIED.length, 'a fixture file without a corpus original (or one missing)');
      for (const [rel, corpus] of COPIED) assert.equal(fs.readFileSync(path.join(FIXTURE, NODE, rel), 'utf8'), corpusFile(corpus), rel);
    });

    it('loads one node with its six namespaces, in the roles Docker gave them', () => {
      assert.deepEqual(model.nodes.map((n) => n.name), [NODE]);
      const roles = Object.fromEntries(model.namespaces.map((n) => [n.name, n.role]));
      assert.deepEqual(roles, { '1-0a7kccl4dj': 'overlay', '1-s7wv09h339': 'overlay', [TASK]: 'container', host: 'host', ingress_sbox: 'ingress-sbox', lb_0a7kccl4d: 'lb' });
      const net = (name: string): string | undefined => model.namespaces.find((n) => n.name === name)?.docker?.networkName;
      assert.equal(net('1-s7wv09h339'), 'ingress');
      assert.equal(net('1-0a7kccl4dj'), 'someovl');
      assert.equal(net('lb_0a7kccl4d'), 'someovl');
      assert.deepEqual(model.nodes[0].addresses, [NODE_IP, '172.18.0.1', '172.19.0.1']);
    });

    it('joins the veth pairs by @ifN across namespaces, the bridge ports and the two VXLAN devices', () => {
      const id = (ns: string, i: string): string => `${NODE}/${ns}/${i}`;
      const veths = model.links.filter((l) => l.kind === 'veth').map((l) => [l.a, l.b].sort().join(' = ')).sort();
      assert.deepEqual(
        veths,
        [
          [id('host', 'vethee00f7d'), id('ingress_sbox', 'eth1')], // eth1@if18 ↔ vethee00f7d@if17 (docker_gwbridge)
          [id('host', 'veth4928a46'), id(TASK, 'eth1')], // eth1@if25 ↔ veth4928a46@if24 (docker_gwbridge)
          [id('1-s7wv09h339', 'veth0'), id('ingress_sbox', 'eth0')], // eth0@if15 ↔ veth0@if14 (ingress)
          [id('1-s7wv09h339', 'veth1'), id(TASK, 'eth0')], // eth0@if23 ↔ veth1@if22 (ingress)
          [id('1-0a7kccl4dj', 'veth0'), id('lb_0a7kccl4d', 'eth0')], // eth0@if21 ↔ veth0@if20 (someovl)
          [id('1-0a7kccl4dj', 'veth1'), id(TASK, 'eth2')], // eth2@if27 ↔ veth1@if26 (someovl)
        ]
          .map((p) => p.sort().join(' = '))
          .sort(),
      );
      const ports = model.links.filter((l) => l.kind === 'bridge-port').map((l) => `${l.bridge} ← ${l.port}`).sort();
      assert.deepEqual(
        ports,
        [
          `${id('host', 'docker_gwbridge')} ← ${id('host', 'vethee00f7d')}`,
          `${id('host', 'docker_gwbridge')} ← ${id('host', 'veth4928a46')}`,
          ...['vxlan0', 'veth0', 'veth1'].map((p) => `${id('1-s7wv09h339', 'br0')} ← ${id('1-s7wv09h339', p)}`),
          ...['vxlan0', 'veth0', 'veth1'].map((p) => `${id('1-0a7kccl4dj', 'br0')} ← ${id('1-0a7kccl4dj', p)}`),
        ].sort(),
      );
      // One node: the only Peer of both overlays is this node itself, so the VXLAN devices reach no other VTEP.
      const vx = model.links.flatMap((l) => (l.kind === 'vxlan' ? [`${l.iface} vni ${l.vni} remotes ${l.remote.length}`] : [])).sort();
      assert.deepEqual(vx, [`${id('1-0a7kccl4dj', 'vxlan0')} vni 4097 remotes 0`, `${id('1-s7wv09h339', 'vxlan0')} vni 4096 remotes 0`]);
    });

    it('says what it cannot join: the host eth0@if82 peer lives on the outer machine (docker-in-docker)', () => {
      const p = model.problems.find((x) => x.code === 'missing-peer');
      assert.ok(p, 'expected a missing-peer problem for host eth0@if82');
      assert.equal(`${p.file}:${p.line}`, `${NODE}/host/ip-d-addr.txt:8`);
      assert.equal(model.problems.filter((x) => x.code === 'missing-peer').length, 1);
    });

    it('reports each author annotation line as a warning, and nothing else above info', () => {
      // `##`/`###` lines, `[...snip...]` and `# <netns>` notes; `# Generated by`/`# Completed on` are iptables-save's own.
      const annotation = /^(##|\[\.\.\.snip\.\.\.\]|# (?!Generated by |Completed on ))/;
      const want: string[] = [];
      for (const [rel] of COPIED) {
        if (rel.endsWith('.json')) continue;
        fs.readFileSync(path.join(FIXTURE, NODE, rel), 'utf8')
          .split('\n')
          .forEach((l, k) => {
            if (annotation.test(l)) want.push(`${NODE}/${rel}:${k + 1}`);
          });
      }
      const got = model.problems.filter((x) => x.severity !== 'info');
      assert.deepEqual(got.filter((x) => x.code !== 'annotation').map((x) => `${x.file}:${x.line} ${x.severity} ${x.code}: ${x.message}`), []);
      assert.deepEqual(got.map((x) => `${x.file}:${x.line}`).sort(), want.sort());
      assert.equal(want.length, 64);
    });
  });

  for (const c of CASES) {
    const P = c.published;
    const q: TraceQuery = { node: NODE, namespace: 'host', iif: 'eth0', proto: c.proto, src: CLIENT, sport: 40000, dst: NODE_IP, dport: P };
    const title = `${c.proto} ${CLIENT}:40000 → ${NODE_IP}:${P} (published ${P}/${c.proto} → target ${c.target})`;
    const run = (): Outcome[] => traceQuery(model, q, world).outcomes;

    describe(title, () => {
      it(`host: nat DOCKER-INGRESS DNAT to ingress_sbox's gwbridge address 172.19.0.2:${P}`, () => {
        const o = run();
        assert.equal(o.length, 1, JSON.stringify(o.map((x) => x.reason)));
        expectHops(o[0].steps, [
          { ns: 'host', kind: 'netfilter', at: 'host/iptables-save.txt:74', action: 'jump DOCKER-INGRESS' },
          { ns: 'host', kind: 'netfilter', at: `host/iptables-save.txt:${c.lines.dnat}`, action: 'DNAT', pkt: `${CLIENT}:40000 → 172.19.0.2:${P}` },
          { ns: 'host', kind: 'route', at: 'host/ip-route.txt:4', lineHas: '172.19.0.0/16 dev docker_gwbridge' },
        ]);
      });

      it(`is delivered to the task, whose socket sees 10.0.0.2:40000 → 10.0.0.4:${c.target}, through every hop of the routing mesh`, () => {
        const o = run();
        assert.equal(o.length, 1, JSON.stringify(o.map((x) => x.reason)));
        const [x] = o;
        // Failing here with "not forwarded: net.ipv4.ip_forward=0 in dab0d2bf09bf/host" is the
        // missing-sysctl assumption; Docker's node had forwarding on (see the file comment).
        assert.equal(x.verdict, 'delivered', `${x.reason}; last step: ${x.steps.length ? show(x.steps[x.steps.length - 1]) : '-'}`);
        assert.equal(x.probability, 1);
        assert.deepEqual(x.final, { node: NODE, namespace: TASK, src: '10.0.0.2', sport: 40000, dst: '10.0.0.4', dport: c.target });
        expectHops(x.steps, [
          { ns: 'host', kind: 'netfilter', at: `host/iptables-save.txt:${c.lines.dnat}`, action: 'DNAT', pkt: `${CLIENT}:40000 → 172.19.0.2:${P}` },
          // Forwarded: filter FORWARD → DOCKER-USER (empty) → DOCKER-FORWARD → DOCKER-INGRESS --dport P ACCEPT.
          { ns: 'host', kind: 'netfilter', at: 'host/iptables-save.txt:32', action: 'jump DOCKER-INGRESS' },
          { ns: 'host', kind: 'netfilter', at: `host/iptables-save.txt:${c.lines.fwdIn}`, action: 'ACCEPT' },
          { ns: 'host', kind: 'link', action: 'veth vethee00f7d → ingress_sbox/eth1' },
          // ingress_sbox: mangle PREROUTING --dport P MARK 0x100 (service_linux.go configureFWMark).
          { ns: 'ingress_sbox', kind: 'netfilter', at: `ingress_sbox/iptables-save.txt:${c.lines.mark}`, mark: '0x100', pkt: `${CLIENT}:40000 → 172.19.0.2:${P}` },
          // 172.19.0.2 is local → LOCAL_IN → IPVS FWM 256 rr, Masq to 10.0.0.4, port 0 keeps P (ip_vs_core.c ip_vs_in, ip_vs_xmit.c ip_vs_nat_xmit).
          { ns: 'ingress_sbox', kind: 'ipvs', at: 'ingress_sbox/ipvsadm-S.txt:2', lineHas: '-a -f 256 -r 10.0.0.4:0 -m', pkt: `${CLIENT}:40000 → 10.0.0.4:${P}`, mark: '0x100' },
          // nat POSTROUTING -d 10.0.0.0/24 -m ipvs --ipvs SNAT --to-source 10.0.0.2.
          { ns: 'ingress_sbox', kind: 'netfilter', at: 'ingress_sbox/iptables-save.txt:26', action: 'SNAT', pkt: `10.0.0.2:40000 → 10.0.0.4:${P}` },
          { ns: 'ingress_sbox', kind: 'link', action: 'veth eth0 → 1-s7wv09h339/veth0' },
          // Bridged over the ingress overlay's br0 to the task's veth (no VXLAN: the task is local).
          { ns: '1-s7wv09h339', kind: 'bridge', action: 'bridge br0: in from veth0, out to veth1' },
          { ns: '1-s7wv09h339', kind: 'link', action: `veth veth1 → ${TASK}/eth0` },
          // Task: REDIRECT to the first address of eth0 (nf_nat_redirect_ipv4) and the target port.
          { ns: TASK, kind: 'netfilter', at: `${TASK}/iptables-save.txt:${c.lines.redirect}`, action: 'REDIRECT', pkt: `10.0.0.2:40000 → 10.0.0.4:${c.target}` },
          { ns: TASK, kind: 'netfilter', at: `${TASK}/iptables-save.txt:${c.lines.input}`, action: 'ACCEPT' },
          { ns: TASK, kind: 'deliver' },
        ]);
      });

      it(`reply: back to the client from ${NODE_IP}:${P}`, () => {
        const o = run();
        const x = o[0];
        assert.equal(x?.verdict, 'delivered', x?.reason);
        const r = x.reply;
        assert.ok(r, 'a delivered outcome has a reply trace');
        // Needs forwarding in ingress_sbox: the de-SNAT'd reply (→ 203.0.113.50) is routed out of eth1.
        assert.equal(r.verdict, 'delivered', `${r.reason}; last step: ${r.steps.length ? show(r.steps[r.steps.length - 1]) : '-'}`);
        assert.deepEqual({ src: r.final.src, sport: r.final.sport, dst: r.final.dst, dport: r.final.dport }, { src: NODE_IP, sport: P, dst: CLIENT, dport: 40000 });
        expectHops(r.steps, [
          // Task OUTPUT -s 10.0.0.4 --sport target --ctstate ESTABLISHED ACCEPT.
          { ns: TASK, kind: 'netfilter', at: `${TASK}/iptables-save.txt:${c.lines.output}`, action: 'ACCEPT' },
          { ns: 'ingress_sbox', kind: 'route', at: 'ingress_sbox/ip-route.txt:1', lineHas: 'default via 172.19.0.1 dev eth1' },
          // Host FORWARD: DOCKER-INGRESS --sport P --ctstate RELATED,ESTABLISHED ACCEPT.
          { ns: 'host', kind: 'netfilter', at: `host/iptables-save.txt:${c.lines.fwdReply}`, action: 'ACCEPT' },
        ]);
      });
    });
  }
});
