/**
 * Kernel tier: a capture written by `meshtrace synth` (src/core/topology/synth.ts) against the real
 * kernel (issue 6). For each Docker layout synth writes (28.0.1: DOCKER-FORWARD with isolation
 * chains; 29.0.1: iptabler, raw DROP of direct access to ingress_sbox), a 2-node swarm on
 * TEST-NET-2 (service `web`: ingress-published 8080→80/tcp and 5353→9090/udp, one replica on
 * each node) is synthesised, and the WHOLE of both nodes' captures is made real in namespaces of
 * this run (`mt-<id>-n1-host`, `…-n1-sbox`, …), plus one `lan` namespace that joins the two host
 * eth0s on a bridge and is the outside client (198.51.100.50):
 *
 *   - every namespace of the capture (host, ingress_sbox, the overlay namespaces, lb_, tasks);
 *   - its interfaces as the synthesised `ip -d addr` says (veth pairs joined by `@ifN`, bridges,
 *     ports, MACs, MTUs, addresses), the main-table routes of `ip route`, the sysctls of
 *     `sysctl.txt`, and the VXLAN devices (made in the host namespace and moved into the overlay
 *     namespace, as Docker does) with the FDB (`dst` entries) and the PERMANENT neighbours of
 *     `bridge-fdb.txt`/`ip-neigh.txt`, so the overlay really carries packets between the nodes;
 *   - every `iptables-save.txt` through the real `iptables-restore`.
 *
 * Checked: (1) the kernel reads back what was loaded: addresses, the IPv4 routes of every table
 * (the local table is the kernel's own, from the addresses), and every iptables rule, in order;
 * (2) meshtrace loads the synthesised capture without warnings; (3) probes: real TCP connects and
 * UDP datagrams (test/kernel/conformanceLab.ts machinery: listeners on its PORTS in every
 * namespace, one source port per probe) compared with traceQuery on the synthesised capture:
 *   - probes whose path needs no IPVS are judged whole by the conformance suite's judge (verdict,
 *     final node and namespace, the address:port the socket saw, whether the reply got back) and
 *     rule by rule against `xtables-monitor --trace` (table, chain, rule position, verdict). These
 *     cover the task sandbox's REDIRECT (8080→80, 5353→9090) and filter rules, sent from
 *     ingress_sbox as IPVS's masquerading would, to the local task and over the real VXLAN overlay
 *     to the other node's task; a port the task does not publish; the task's own OUTPUT filter;
 *     the host reaching a task over docker_gwbridge; an unpublished port on the host;
 *   - probes whose path needs IPVS (the trace has an `ipvs` step: published ports reached from the
 *     client or from the host itself, and, in the 28.0.1 layout, the client sending straight to
 *     ingress_sbox's gateway address) are compared up to that step: the host's DNAT (and
 *     MASQUERADE for the host's own traffic) and the forward through docker_gwbridge, the
 *     ingress_sbox's mangle MARK (the fwmark IPVS would look up) and the packet as it reaches
 *     ingress_sbox's INPUT: namespace, address:port seen by the socket there, peer address:port,
 *     skb mark (from xtables-monitor's PACKET lines), and every rule the kernel traversed up to
 *     there.
 *
 * Not checked, and why: this kernel has no IPVS (`ipvsadm` fails with "Protocol not available",
 * and xt_ipvs is missing), so (a) the IPVS scheduling and NAT to the tasks and everything after it
 * on those paths (which the REDIRECT probes above check from the point IPVS would send from), and
 * the replies of those connections, are not compared; (b) ingress_sbox's
 * `-A POSTROUTING -d <ingress subnet> -m ipvs --ipvs -j SNAT` line cannot be loaded: it is left
 * out of the lab (said in the output) and its effect (the task sees ingress_sbox's address as the
 * source) is what the REDIRECT probes send as; (c) the net.ipv4.vs.* sysctls are not set (no IPVS).
 * Steps of the outer VXLAN packet are not compared rule by rule (its source port is a flow hash,
 * so xtables-monitor's lines cannot be tied to a probe); its delivery is, by the inner packet's
 * arrival. Docker's embedded DNS (127.0.0.11) has no listener: no probe goes there.
 *
 * TEST-NET addresses only for nodes and the client; the overlay (10.0.x) and docker_gwbridge
 * (172.18/16) subnets exist only inside this run's namespaces. Every namespace is deleted in
 * `after` (Lab.dispose). The synthesised capture is left under test-artifacts/synth-conformance/.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { synthesize, type SynthFile } from '../../src/core/topology/synth';
import { loadModel } from '../../src/node/loadCapture';
import { traceQuery } from '../../src/core/sim/simulate';
import { World } from '../../src/core/sim/world';
import type { Model } from '../../src/core/model/model';
import type { Outcome, Step, Trace, TraceQuery } from '../../src/core/sim/trace';
import { formatProblem } from '../../src/core/problem';
import { formatTrace } from '../../src/cli/trace';
import { hasCommand, requireLab, run, waitFor } from './lab';
import {
  AFTER_HANDSHAKE,
  ConformanceLab,
  compareSteps,
  describeKernel,
  judge,
  SPORT_BASE,
  type KernelAnswer,
  type KernelEvent,
  type LabSpec,
  type ListenerRecord,
  type Monitors,
  type ProbeSpec,
} from './conformanceLab';

const TOOLS = ['ip', 'iptables', 'iptables-save', 'iptables-restore', 'sysctl', 'bridge', 'ss'];
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/synth-conformance');
const CLIENT = '198.51.100.50';
const NODES = [
  { name: 'n1', addr: '198.51.100.10' },
  { name: 'n2', addr: '198.51.100.11' },
];

/** The swarm: two nodes on TEST-NET-2, one service published on a TCP and a UDP port. */
function description(docker: string): string {
  return `services:
  web: { image: nginx, ports: ["8080:80", "5353:9090/udp"], deploy: { replicas: 2 } }
x-meshtrace:
  docker: "${docker}"
  nodes:
    - { name: ${NODES[0].name}, addr: ${NODES[0].addr}/24, role: manager }
    - { name: ${NODES[1].name}, addr: ${NODES[1].addr}/24 }
`;
}

// ====================================================================== reading the synthesised dumps

/** One interface of a synthesised `ip -d addr`. */
interface SIface {
  index: number;
  name: string;
  peerIndex?: number;
  kind: 'lo' | 'nic' | 'bridge' | 'veth' | 'vxlan';
  mac: string;
  mtu: number;
  master?: string;
  lowerUp: boolean;
  vni?: number;
  dstport?: number;
  addrs: string[];
}

/** One namespace of the synthesised capture and the lab namespace that makes it real. */
interface SNs {
  node: string;
  /** The capture's namespace name (`host`, `ingress_sbox`, `web.1.…`). */
  name: string;
  /** The lab key (`n1-host`, `n1-sbox`, `n1-t0` …). */
  key: string;
  ifaces: SIface[];
  routes: string[];
  fdb: string[];
  neigh: string[];
  sysctl: [string, string][];
  iptables: string;
}

/** Parses the `ip -d addr` synth writes (iproute2 6.1 shape). */
function parseAddr(text: string): SIface[] {
  const out: SIface[] = [];
  for (const l of text.split('\n')) {
    const h = /^(\d+): ([^:@\s]+)(?:@if(\d+))?: <([^>]*)> mtu (\d+)(?: .*?master (\S+))?/.exec(l);
    if (h) {
      out.push({ index: Number(h[1]), name: h[2], peerIndex: h[3] ? Number(h[3]) : undefined, kind: 'nic', mac: '', mtu: Number(h[5]), master: h[6], lowerUp: h[4].split(',').includes('LOWER_UP'), addrs: [] });
      continue;
    }
    const i = out[out.length - 1];
    if (!i) continue;
    const t = l.trim();
    if (t.startsWith('link/loopback')) i.kind = 'lo';
    else if (t.startsWith('link/ether')) i.mac = t.split(/\s+/)[1];
    else if (t.startsWith('bridge forward_delay')) i.kind = 'bridge';
    else if (t === 'veth' || t.startsWith('veth ')) i.kind = 'veth';
    else if (t.startsWith('vxlan id')) {
      i.kind = 'vxlan';
      i.vni = Number(/vxlan id (\d+)/.exec(t)?.[1]);
      i.dstport = Number(/dstport (\d+)/.exec(t)?.[1] ?? 4789);
    } else if (t.startsWith('inet ')) i.addrs.push(t.split(/\s+/)[1]);
  }
  return out;
}

/** The synthesised namespaces of every node, with lab keys. */
function readCapture(files: SynthFile[]): SNs[] {
  const byNs = new Map<string, Map<string, string>>();
  for (const f of files) {
    const parts = f.path.split('/');
    if (parts.length !== 3) continue;
    const k = `${parts[0]}/${parts[1]}`;
    if (!byNs.has(k)) byNs.set(k, new Map());
    byNs.get(k)?.set(parts[2], f.text);
  }
  const counters = new Map<string, number>();
  const keyOf = (node: string, ns: string): string => {
    if (ns === 'host') return `${node}-host`;
    if (ns === 'ingress_sbox') return `${node}-sbox`;
    const kind = ns.startsWith('lb_') ? 'lb' : /^\d+-/.test(ns) ? 'ov' : 't';
    const c = counters.get(`${node}/${kind}`) ?? 0;
    counters.set(`${node}/${kind}`, c + 1);
    return `${node}-${kind}${c}`;
  };
  const out: SNs[] = [];
  for (const [k, m] of [...byNs].sort(([a], [b]) => a.localeCompare(b))) {
    const [node, name] = k.split('/');
    const lines = (f: string): string[] => (m.get(f) ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    out.push({
      node,
      name,
      key: keyOf(node, name),
      ifaces: parseAddr(m.get('ip-addr.txt') ?? ''),
      routes: lines('ip-route.txt'),
      fdb: lines('bridge-fdb.txt'),
      neigh: lines('ip-neigh.txt'),
      sysctl: lines('sysctl.txt').map((l) => l.split(/\s*=\s*/) as [string, string]),
      iptables: m.get('iptables-save.txt') ?? '',
    });
  }
  return out;
}

/** The first address (without prefix) of an interface of a synthesised namespace. */
function addrOf(nss: SNs[], node: string, ns: string, iface: string): string {
  const a = nss.find((n) => n.node === node && n.name === ns)?.ifaces.find((i) => i.name === iface)?.addrs[0];
  if (!a) throw new Error(`the synthesised capture has no address on ${node}/${ns}/${iface}`);
  return a.split('/')[0];
}

// ====================================================================== comparing read-backs

/** Rule-level content of an iptables-save text: per table, the chain declarations (policies, no counters) and the rules in order. */
function ruleset(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = '';
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('*')) {
      table = l.slice(1);
      out.set(table, []);
    } else if (l.startsWith(':')) out.get(table)?.push(l.replace(/\s*\[\d+:\d+\]$/, ''));
    else if (l.startsWith('-A ')) out.get(table)?.push(l.replace(/^\[\d+:\d+\]\s+/, ''));
  }
  for (const [t, lines] of out) {
    // Chain declarations as a set (iptables-nft lists user chains in its own order), rules in order.
    out.set(t, [...lines.filter((l) => l.startsWith(':')).sort(), ...lines.filter((l) => !l.startsWith(':'))]);
  }
  return out;
}

/** Lines of `a` not in `b` and of `b` not in `a`, as readable diff lines. */
function setDiff(what: string, synth: readonly string[], kernel: readonly string[]): string[] {
  const k = new Set(kernel);
  const s = new Set(synth);
  return [...synth.filter((l) => !k.has(l)).map((l) => `${what}: synthesised, not in the kernel: ${l}`), ...kernel.filter((l) => !s.has(l)).map((l) => `${what}: in the kernel, not synthesised: ${l}`)];
}

// ====================================================================== the probes

/** A probe with where meshtrace starts it. */
interface Probe extends ProbeSpec {
  query: TraceQuery;
  /** The probe's source namespace as the capture names it (`(outside)` for the lan client). */
  srcNs: string;
}

function probeTitle(p: Probe): string {
  return `#${p.id} ${p.proto} ${p.src}:${p.sport} → ${p.dst}:${p.dport} from ${p.from} (${p.aim})`;
}

/** The probes of a layout (the same list for both; what each should do depends on the layout). */
function probesOf(nss: SNs[]): Probe[] {
  const out: Probe[] = [];
  const t1 = nss.find((n) => n.node === 'n1' && n.key.startsWith('n1-t'));
  const t2 = nss.find((n) => n.node === 'n2' && n.key.startsWith('n2-t'));
  if (!t1 || !t2) throw new Error('the synthesised swarm should have one task on each node');
  const sbox1 = addrOf(nss, 'n1', 'ingress_sbox', 'eth0');
  const sboxGw1 = addrOf(nss, 'n1', 'ingress_sbox', 'eth1');
  const task1 = addrOf(nss, 'n1', t1.name, 'eth0');
  const task2 = addrOf(nss, 'n2', t2.name, 'eth0');
  const task1Gw = addrOf(nss, 'n1', t1.name, 'eth1');
  const gw1 = addrOf(nss, 'n1', 'host', 'docker_gwbridge');
  const [n1, n2] = NODES;
  const add = (from: string, node: string, ns: string, proto: 'tcp' | 'udp', src: string, dst: string, dport: number, aim: string): void => {
    const id = out.length + 1;
    const sport = SPORT_BASE + id;
    const outside = from === 'lan';
    const query: TraceQuery = { node, namespace: ns, ...(outside ? { iif: 'eth0' } : {}), proto, src, sport, dst, dport };
    out.push({ id, from, proto, src, sport, dst, dport, aim, query, srcNs: outside ? '(outside)' : ns });
  };
  add('lan', 'n1', 'host', 'tcp', CLIENT, n1.addr, 8080, 'published tcp port on n1: host DNAT → ingress_sbox MARK');
  add('lan', 'n1', 'host', 'udp', CLIENT, n1.addr, 5353, 'published udp port on n1: host DNAT → ingress_sbox MARK');
  add('lan', 'n2', 'host', 'tcp', CLIENT, n2.addr, 8080, 'published tcp port on n2: host DNAT → ingress_sbox MARK');
  add('lan', 'n2', 'host', 'udp', CLIENT, n2.addr, 5353, 'published udp port on n2: host DNAT → ingress_sbox MARK');
  add('lan', 'n1', 'host', 'tcp', CLIENT, n1.addr, 8081, 'unpublished port on n1: the host itself');
  add('lan', 'n1', 'host', 'tcp', CLIENT, sboxGw1, 8080, "straight to ingress_sbox's docker_gwbridge address");
  add('n1-host', 'n1', 'host', 'udp', n1.addr, n1.addr, 5353, "the host's own traffic to a published port: OUTPUT DNAT + MASQUERADE");
  add('n1-host', 'n1', 'host', 'tcp', gw1, task1Gw, 80, 'host → task over docker_gwbridge');
  add('n1-sbox', 'n1', 'ingress_sbox', 'tcp', sbox1, task1, 8080, 'as IPVS masquerading sends to the local task: REDIRECT 8080→80');
  add('n1-sbox', 'n1', 'ingress_sbox', 'udp', sbox1, task1, 5353, 'as IPVS masquerading sends to the local task: REDIRECT 5353→9090');
  add('n1-sbox', 'n1', 'ingress_sbox', 'tcp', sbox1, task2, 8080, "as IPVS sends to n2's task: VXLAN overlay, REDIRECT 8080→80");
  add('n1-sbox', 'n1', 'ingress_sbox', 'udp', sbox1, task2, 5353, "as IPVS sends to n2's task: VXLAN overlay, REDIRECT 5353→9090");
  add('n1-sbox', 'n1', 'ingress_sbox', 'tcp', sbox1, task1, 8000, 'a port the task does not publish: its filter INPUT drops');
  add(t1.key, 'n1', t1.name, 'tcp', task1, task2, 80, "task → task over the overlay: the sender's own OUTPUT filter");
  return out;
}

/** The index of an outcome's first IPVS step, or -1. */
function ipvsAt(o: Outcome): number {
  return o.steps.findIndex((s) => s.kind === 'ipvs');
}

/** Steps of the outer VXLAN packet (its xtables-monitor lines cannot be tied to a probe). */
function outerVxlan(s: Step): boolean {
  return /outer VXLAN packet/.test(s.note ?? '');
}

/** The skb mark xtables-monitor printed for the probe's first packet in one namespace, last seen. */
function kernelMark(lines: readonly string[], sport: number): string | undefined {
  let firstId: string | undefined;
  let mark: string | undefined;
  for (const l of lines) {
    const m = /^PACKET: \d+ [0-9a-f]+ (.*)$/.exec(l);
    if (!m) continue;
    const f = new Map(m[1].split(/\s+/).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] as [string, string]));
    if (f.get('SPORT') !== String(sport)) continue;
    firstId ??= f.get('ID');
    if (f.get('ID') !== firstId) continue;
    mark = f.get('MARK') ?? '0x0';
  }
  return mark === undefined ? undefined : `0x${Number(mark).toString(16)}`;
}

/** Why rule-level checks cannot run here, or undefined. */
function monitorUnavailable(): string | undefined {
  for (const t of ['xtables-monitor', 'stdbuf', 'nft']) if (!hasCommand(t)) return `no ${t}`;
  try {
    if (!execFileSync('iptables', ['--version'], { encoding: 'utf8' }).includes('nf_tables')) return 'iptables is not the nf_tables variant';
  } catch {
    return 'iptables --version failed';
  }
  return undefined;
}

// ====================================================================== making it real

/** Builds every namespace of the capture, the lan and the underlay; returns notes on what could not be loaded. */
async function build(cl: ConformanceLab, nss: SNs[]): Promise<string[]> {
  const lab = cl.lab;
  const notes: string[] = [];
  const name = (key: string): string => cl.name(key);
  await Promise.all([lab.addNamespace('lan'), ...nss.map((n) => lab.addNamespace(n.key))]);
  await run('ip', ['-n', name('lan'), '-batch', '-'], { input: `link add lan0 type bridge\naddr add ${CLIENT}/24 brd + dev lan0\nlink set dev lan0 up\n` });

  const vx: { ns: SNs; i: SIface; tmp: string }[] = [];
  for (const n of nss) {
    for (const i of n.ifaces) {
      if (i.kind === 'nic') {
        // The node's NIC: a veth whose peer is a port of the lan bridge.
        await run('ip', ['-n', name(n.key), 'link', 'add', i.name, 'address', i.mac, 'type', 'veth', 'peer', 'name', n.node, 'netns', name('lan')]);
        await run('ip', ['-n', name('lan'), 'link', 'set', 'dev', n.node, 'master', 'lan0', 'up']);
      } else if (i.kind === 'veth' && i.peerIndex !== undefined) {
        const peerNs = nss.find((m) => m !== n && m.node === n.node && m.ifaces.some((x) => x.kind === 'veth' && x.index === i.peerIndex && x.peerIndex === i.index));
        const peer = peerNs?.ifaces.find((x) => x.index === i.peerIndex);
        if (!peerNs || !peer) throw new Error(`${n.node}/${n.name}/${i.name}@if${i.peerIndex}: no peer in the synthesised capture`);
        if (peerNs.key < n.key) continue; // made from the other end
        await run('ip', ['-n', name(n.key), 'link', 'add', i.name, 'address', i.mac, 'type', 'veth', 'peer', 'name', peer.name, 'address', peer.mac, 'netns', name(peerNs.key)]);
      } else if (i.kind === 'bridge') {
        await run('ip', ['-n', name(n.key), 'link', 'add', i.name, 'address', i.mac, 'type', 'bridge']);
      } else if (i.kind === 'vxlan') {
        // Docker makes the VXLAN device in the host namespace (its UDP socket stays there) and moves it.
        const host = nss.find((m) => m.node === n.node && m.name === 'host');
        if (!host) throw new Error(`${n.node}: no host namespace`);
        const tmp = `vxmt${vx.length}`;
        await run('ip', ['-n', name(host.key), 'link', 'add', tmp, 'address', i.mac, 'type', 'vxlan', 'id', String(i.vni), 'dstport', String(i.dstport ?? 4789), 'proxy', 'l2miss', 'l3miss']);
        await run('ip', ['-n', name(host.key), 'link', 'set', 'dev', tmp, 'netns', name(n.key), 'name', i.name]);
        vx.push({ ns: n, i, tmp });
      }
    }
  }
  await Promise.all(
    nss.map(async (n) => {
      const ns = name(n.key);
      const batch: string[] = [];
      for (const i of n.ifaces) if (i.kind !== 'lo') batch.push(`link set dev ${i.name} mtu ${i.mtu}`);
      for (const i of n.ifaces) if (i.master) batch.push(`link set dev ${i.name} master ${i.master}`);
      for (const i of n.ifaces) for (const a of i.addrs) if (i.kind !== 'lo') batch.push(`addr add ${a}${a.endsWith('/32') ? '' : ' brd +'} dev ${i.name}`);
      for (const i of n.ifaces) if (i.kind !== 'lo') batch.push(`link set dev ${i.name} up`);
      // Main-table routes that are not the kernel's own (those come from the addresses).
      for (const r of n.routes) if (!/\btable \S+/.test(r) && !/\bproto kernel\b/.test(r)) batch.push(`route add ${r}`);
      for (const l of n.neigh) {
        const m = /^(\S+) dev (\S+) lladdr (\S+) PERMANENT$/.exec(l);
        if (m) batch.push(`neigh add ${m[1]} lladdr ${m[3]} dev ${m[2]} nud permanent`);
      }
      if (batch.length) await run('ip', ['-n', ns, '-batch', '-'], { input: `${batch.join('\n')}\n` });
      for (const l of n.fdb) {
        // Remote VTEP entries; the bridge's own `master … permanent` and multicast entries are the kernel's.
        const m = /^(\S+) dev (\S+) dst (\S+) .*\bself permanent$/.exec(l);
        if (m) await lab.exec(ns, 'bridge', ['fdb', 'add', m[1], 'dev', m[2], 'dst', m[3], 'self', 'permanent']);
      }
      const sysctl = n.sysctl.filter(([k]) => !k.startsWith('net.ipv4.vs.'));
      if (sysctl.length) await lab.exec(ns, 'sysctl', ['-q', '-w', ...sysctl.map(([k, v]) => `${k}=${v}`)]);
      if (n.sysctl.length !== sysctl.length) notes.push(`${n.node}/${n.name}: net.ipv4.vs.* sysctls not set (no IPVS in this kernel)`);
      if (n.iptables.trim()) {
        try {
          await lab.iptablesRestore(ns, n.iptables);
        } catch (e) {
          const msg = (e as Error).message;
          if (!/ipvs/i.test(msg) || !/-m ipvs/.test(n.iptables)) throw new Error(`${n.node}/${n.name}/iptables-save.txt does not load: ${msg}`);
          const left = n.iptables.split('\n').filter((l) => /-m ipvs/.test(l));
          await lab.iptablesRestore(ns, n.iptables.split('\n').filter((l) => !/-m ipvs/.test(l)).join('\n'));
          notes.push(`${n.node}/${n.name}: no xt_ipvs in this kernel; left out: ${left.join(' | ')}`);
        }
      }
    }),
  );
  await waitFor('every synthesised link with carrier to be up', async () => {
    for (const n of nss) {
      const out = await lab.ip(name(n.key), '-o', 'link', 'show');
      for (const i of n.ifaces) {
        if (!i.lowerUp || i.kind === 'lo') continue;
        const l = out.split('\n').find((x) => x.includes(` ${i.name}:`) || x.includes(` ${i.name}@`));
        if (!l || !l.includes('LOWER_UP')) return false;
      }
    }
    return true;
  });
  return notes;
}

/** What the kernel holds, read back before any probe (and before the TRACE rules). */
interface Readback {
  addrs: string[];
  routes: string[];
  rules: Map<string, string[]>;
}

async function readBack(cl: ConformanceLab, n: SNs): Promise<Readback> {
  const ns = cl.name(n.key);
  const addrs = (await cl.lab.ip(ns, '-o', '-4', 'addr', 'show'))
    .split('\n')
    .map((l) => /^\d+: (\S+)\s+inet (\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
  const routes = (await cl.lab.ip(ns, '-4', 'route', 'show', 'table', 'all')).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const rules = ruleset((await cl.lab.exec(ns, 'iptables-save', [])).stdout);
  return { addrs, routes, rules };
}

// ====================================================================== the suite

/** `MESHTRACE_CONFORMANCE_VERBOSE=1`: print every probe's kernel answer and meshtrace's. */
const verbose = process.env.MESHTRACE_CONFORMANCE_VERBOSE === '1';

const layouts: [string, string][] = [
  ['28.0.1', 'Docker 28.0.1 layout (DOCKER-FORWARD, isolation chains)'],
  ['29.0.1', 'Docker 29 layout (iptabler, raw DROP of direct access)'],
];

for (const [docker, title] of layouts) {
  describe(`kernel: synthesised capture vs the kernel, ${title}`, function () {
    this.timeout(300_000);
    const captureDir = path.join(ARTIFACTS, docker, 'capture');
    const synth = synthesize(description(docker));
    const nss = readCapture(synth.files);
    const probes = probesOf(nss);
    let cl: ConformanceLab | undefined;
    let model: Model;
    let notes: string[] = [];
    const readbacks = new Map<string, Readback>();
    const answers = new Map<number, KernelAnswer>();
    const traces = new Map<number, Trace>();
    let monitors: Monitors | undefined;
    const traceWhy = monitorUnavailable();
    /** Lab namespace name → [node, capture namespace]. */
    const where = new Map<string, [string, string]>();

    before(async function () {
      requireLab(this, TOOLS);
      assert.deepEqual(synth.problems.filter((p) => p.severity === 'error').map(formatProblem), []);
      fs.rmSync(path.dirname(captureDir), { recursive: true, force: true });
      for (const f of synth.files) {
        fs.mkdirSync(path.dirname(path.join(captureDir, f.path)), { recursive: true });
        fs.writeFileSync(path.join(captureDir, f.path), f.text);
      }
      model = loadModel([captureDir]);
      const world = new World(model);
      for (const p of probes) traces.set(p.id, traceQuery(model, p.query, world));

      const keys = ['lan', ...nss.map((n) => n.key)];
      const spec: LabSpec = {
        seed: 0,
        description: `synthesised swarm, ${title}`,
        shapes: [],
        namespaces: keys.map((key) => ({ key, role: 'server', ip: [], sysctl: [], iptables: '', addrs: [], ifaces: [] })),
        veths: [],
        probes,
        bridged: true,
      };
      const l = new ConformanceLab(spec, { bridges: true });
      cl = l;
      for (const n of nss) where.set(l.name(n.key), [n.node, n.name]);
      where.set(l.name('lan'), ['(lan)', '(outside)']);
      notes = (await build(l, nss)).sort();
      // The client reaches ingress_sbox's docker_gwbridge address through n1 (lab-internal addresses only).
      await l.lab.ip(l.name('lan'), 'route', 'add', '172.18.0.0/16', 'via', NODES[0].addr);
      for (const note of notes) console.log(`      note: ${note}`);
      for (const n of nss) readbacks.set(n.key, await readBack(l, n));

      if (traceWhy) console.log(`      rule-level and mark checks skipped: ${traceWhy}`);
      monitors = traceWhy ? undefined : await l.startMonitors();
      const listeners = await l.startListeners();
      try {
        const results = await l.runProbes(probes, { staggerMs: monitors ? 60 : 0 });
        await listeners.settle();
        const halfOpen = await l.halfOpen();
        const sockets = await l.tcpSockets();
        for (const p of probes) {
          let client = results.get(p.id);
          if (!client) throw new Error(`probe #${p.id} has no result from the probe client`);
          const state = sockets.get(`${l.name(p.from)}|${p.src}:${p.sport}`);
          if (p.proto === 'tcp' && client.result === 'error' && state && AFTER_HANDSHAKE.has(state)) client = { ...client, result: 'connected', afterConnect: client.errno, errno: undefined };
          const records = [...listeners.records.filter((r) => r.id === String(p.id)), ...(p.proto === 'tcp' ? halfOpen.filter((r) => r.peer.endsWith(`:${p.sport}`)) : [])];
          answers.set(p.id, { client, records });
        }
      } finally {
        await listeners.stop();
        await monitors?.stop();
        for (const [ns, text] of monitors?.raw() ?? []) fs.writeFileSync(path.join(path.dirname(captureDir), `xtables-monitor-${ns}.txt`), `${text.join('\n')}\n`);
      }
    });

    after(async () => {
      await cl?.dispose();
    });

    it('the kernel holds the synthesised addresses, routes and rules', () => {
      const problems: string[] = [];
      for (const n of nss) {
        const rb = readbacks.get(n.key) as Readback;
        const at = `${n.node}/${n.name}`;
        const synthAddrs = n.ifaces.flatMap((i) => i.addrs.map((a) => `${i.name} ${a}`));
        problems.push(...setDiff(`${at} address`, synthAddrs, rb.addrs));
        problems.push(...setDiff(`${at} route`, n.routes, rb.routes));
        const want = ruleset(n.iptables.split('\n').filter((l) => !/-m ipvs/.test(l) || !notes.some((x) => x.startsWith(`${at}:`) && x.includes('xt_ipvs'))).join('\n'));
        for (const t of new Set([...want.keys(), ...rb.rules.keys()])) {
          const a = want.get(t) ?? [];
          const b = rb.rules.get(t) ?? [];
          if (a.join('\n') !== b.join('\n')) problems.push(`${at} iptables *${t}: synthesised\n        ${a.join('\n        ')}\n      kernel iptables-save\n        ${b.join('\n        ')}`);
        }
      }
      assert.deepEqual(problems, [], problems.join('\n'));
    });

    it('meshtrace loads the synthesised capture without warnings', () => {
      assert.deepEqual(model.problems.filter((p) => p.severity !== 'info').map(formatProblem), []);
      assert.equal(model.namespaces.length, nss.length);
    });

    if (!traceWhy) {
      it('xtables-monitor --trace kept up with every probe', () => {
        assert.deepEqual(monitors?.failures() ?? [], []);
      });
    }

    for (const p of probes) {
      it(probeTitle(p), () => {
        const l = cl as ConformanceLab;
        const t = traces.get(p.id) as Trace;
        const raw = answers.get(p.id) as KernelAnswer;
        // Listener records in the capture's names (node/namespace).
        const nodeOf = (r: ListenerRecord): string => where.get(r.ns)?.[0] ?? '?';
        const k: KernelAnswer = { client: raw.client, records: raw.records.map((r) => ({ ...r, ns: where.get(r.ns)?.[1] ?? r.ns })) };
        const kNodes = raw.records.map(nodeOf);
        const events = (node: string): KernelEvent[] =>
          monitors && monitors.failures().length === 0
            ? monitors
                .eventsOf(p.sport)
                .filter((e) => where.get(e.ns)?.[0] === node)
                .map((e) => ({ ...e, ns: where.get(e.ns)?.[1] ?? e.ns }))
            : [];
        const ruleLevel = (steps: readonly Step[]): string[] => {
          if (!monitors) return [];
          const out: string[] = [];
          for (const node of NODES.map((x) => x.name)) out.push(...compareSteps(model, steps.filter((s) => s.node === node && !outerVxlan(s)), events(node)).map((x) => `${node}: ${x}`));
          return out;
        };
        const problems: string[] = [];
        const needsIpvs = t.outcomes.some((o) => ipvsAt(o) >= 0);
        let simulated: string;
        if (!needsIpvs) {
          simulated = t.outcomes.map((o) => `${o.verdict} p=${o.probability} at ${o.final.node}/${o.final.namespace} ${o.final.src}:${o.final.sport} → ${o.final.dst}:${o.final.dport}${o.reply ? ` (reply ${o.reply.verdict})` : ''}`).join(' | ');
          const j = judge(t, p, p.srcNs, k);
          problems.push(...j.problems);
          if (j.ok) {
            // The judge compares namespace names; the node must agree as well.
            const fits = j.matched.filter((o) => o.verdict !== 'delivered' || (kNodes.length === 1 && o.final.node === kNodes[0]));
            if (fits.length === 0) problems.push(`the node: kernel ${kNodes.join(', ')}, meshtrace ${j.matched.map((o) => o.final.node).join(', ')}`);
            else {
              let best: string[] | undefined;
              for (const o of fits) {
                const d = ruleLevel(o.steps);
                if (!best || d.length < best.length) best = d;
              }
              if (best?.length) problems.push('rule-level steps differ from xtables-monitor --trace:', ...best);
            }
          }
        } else {
          // IPVS would take the packet in ingress_sbox's INPUT; this kernel has none, so the
          // listener there gets it: compare the packet as it reaches that point, and the way there.
          const o = t.outcomes[0];
          const at = ipvsAt(o);
          const s = o.steps[at];
          const b = s?.before ?? s?.packet;
          simulated = `reaches IPVS in ${s?.node}/${s?.namespace} as ${b?.src}:${b?.sport} → ${b?.dst}:${b?.dport} mark ${b?.mark}`;
          if (t.outcomes.some((x) => ipvsAt(x) < 0)) problems.push('some outcomes of meshtrace take IPVS and others do not');
          const rec = k.records[0];
          if (!s || !b) problems.push('meshtrace has no IPVS step');
          else if (k.records.length !== 1 || !rec) problems.push(`the kernel delivered it to ${k.records.length} listeners; meshtrace has it reach IPVS in ${s.node}/${s.namespace}`);
          else {
            if (kNodes[0] !== s.node || rec.ns !== s.namespace) problems.push(`where it reaches INPUT: kernel ${kNodes[0]}/${rec.ns}, meshtrace ${s.node}/${s.namespace}`);
            if (rec.local !== `${b.dst}:${b.dport}`) problems.push(`destination at INPUT: kernel ${rec.local}, meshtrace ${b.dst}:${b.dport}`);
            if (rec.peer !== `${b.src}:${b.sport}`) problems.push(`source at INPUT: kernel ${rec.peer}, meshtrace ${b.src}:${b.sport}`);
            if (monitors && monitors.failures().length === 0) {
              const lines = monitors.raw().get(l.name(nss.find((n) => n.node === s.node && n.name === s.namespace)?.key ?? '')) ?? [];
              const mark = kernelMark(lines, p.sport);
              if (verbose) console.log(`        kernel mark at INPUT: ${mark}`);
              if (mark !== b.mark) problems.push(`skb mark at INPUT: kernel ${mark ?? '(no xtables-monitor line)'}, meshtrace ${b.mark}`);
              const d = ruleLevel(o.steps.slice(0, at));
              if (d.length) problems.push('rule-level steps up to IPVS differ from xtables-monitor --trace:', ...d);
            }
          }
        }
        if (verbose) console.log(`        kernel: ${describeKernel(raw)}${kNodes.length ? ` (node ${kNodes.join(', ')})` : ''}\n        meshtrace: ${simulated}\n        kernel rule events: ${NODES.map((x) => `${x.name} ${events(x.name).filter((e) => e.kind === 'rule').length}`).join(', ')}`);
        if (problems.length === 0) return;
        const msg = [
          `${docker} layout, probe ${probeTitle(p)}`,
          `  capture: ${captureDir}`,
          `  kernel verdict: ${describeKernel(raw)}${kNodes.length ? ` (node ${kNodes.join(', ')})` : ''}`,
          `  simulated verdict: ${simulated}`,
          ...problems.map((x) => `  ${x}`),
          '  meshtrace trace:',
          ...formatTrace(t).map((x) => `    ${x}`),
        ].join('\n');
        assert.fail(msg);
      });
    }
  });
}
