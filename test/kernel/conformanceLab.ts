/**
 * Kernel conformance labs: a seeded generator of small routed/bridged labs (3–5 namespaces) with
 * Docker- and kube-proxy-shaped rulesets, a builder that makes them real with `ip`, `sysctl` and
 * `iptables-restore`, a capture step that dumps them with the real tools into a meshtrace capture
 * folder, a probe runner (listeners in every namespace, TCP/UDP probes from a local process),
 * an `xtables-monitor --trace` reader, and the judge that says whether a meshtrace Trace agrees
 * with what the kernel did. Every command is an argument array (execFile/spawn), never a shell
 * string; every namespace is one of the Lab's (`mt-<id>-<key>`), deleted by `dispose()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../scripts/genRuleset';
import { Lab, run, waitFor } from './lab';
import type { Model } from '../../src/core/model/model';
import type { Rule } from '../../src/core/model/netfilter';
import type { Outcome, Step, Trace } from '../../src/core/sim/trace';

// ====================================================================== the lab description

/** Ports every listener listens on (TCP and UDP); every probe and every NAT target uses one. */
export const PORTS: readonly number[] = [80, 443, 3128, 5353, 8000, 8080, 8081, 8443, 9000, 9090, 30080];

/** Probe source ports start here (above every listener port, so a PACKET line's SPORT tells the direction). */
export const SPORT_BASE = 41000;

/** One namespace of a lab. */
export interface NsSpec {
  /** Short key (`c`, `r1`, `r2`, `s1` …): the namespace is `mt-<lab id>-<key>`. */
  key: string;
  role: 'client' | 'router' | 'server';
  /** `ip -batch` lines run inside the namespace once every veth exists. */
  ip: string[];
  /** Sysctls set after the links exist (`net.ipv4.ip_forward` …). */
  sysctl: [string, string][];
  /** `iptables-restore` input ('' when the namespace has no rules). */
  iptables: string;
  /** Its IPv4 addresses, for probes. */
  addrs: string[];
  /** Interface names (for the sysctl capture keys). */
  ifaces: string[];
}

/** A veth pair between two namespaces. */
export interface VethSpec {
  ns: string;
  name: string;
  peerNs: string;
  peerName: string;
}

/** One probe: a local process in namespace `from` connects (tcp) or sends a datagram (udp). */
export interface ProbeSpec {
  id: number;
  from: string;
  proto: 'tcp' | 'udp';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** What the generator aimed at, for messages. */
  aim: string;
}

/** A whole generated lab. */
export interface LabSpec {
  seed: number;
  /** Which shapes the seed drew, one line. */
  description: string;
  shapes: string[];
  namespaces: NsSpec[];
  veths: VethSpec[];
  probes: ProbeSpec[];
  /** True when the lab has a Linux bridge (needs br_netfilter). */
  bridged: boolean;
}

/** Options of {@link genLab}. */
export interface GenLabOptions {
  /** Whether bridge shapes may be drawn (br_netfilter is there). Default true. */
  bridges?: boolean;
}

type TableName = 'raw' | 'mangle' | 'nat' | 'filter';
const BUILTIN: Record<TableName, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** Collects one namespace's chains and rules and prints them as an `iptables-restore` input. */
class Ipt {
  private readonly policies = new Map<string, string>();
  private readonly user = new Map<TableName, string[]>();
  private readonly rules = new Map<TableName, string[]>();

  /** Sets a built-in chain's policy. */
  policy(table: TableName, chain: string, p: 'ACCEPT' | 'DROP'): void {
    this.touch(table);
    this.policies.set(`${table}/${chain}`, p);
  }

  /** Declares a user chain (idempotent). */
  chain(table: TableName, name: string): string {
    this.touch(table);
    const l = this.user.get(table) as string[];
    if (!l.includes(name)) l.push(name);
    return name;
  }

  /** Appends `-A chain rest`. */
  add(table: TableName, chain: string, rest: string): void {
    this.touch(table);
    if (!BUILTIN[table].includes(chain) && !(this.user.get(table) as string[]).includes(chain)) throw new Error(`genLab: chain ${table}/${chain} used before it was declared`);
    (this.rules.get(table) as string[]).push(`-A ${chain}${rest ? ` ${rest}` : ''}`);
  }

  /** Inserts `-A chain rest` before the chain's first rule (kube-proxy and Docker insert at the top). */
  addFirst(table: TableName, chain: string, rest: string): void {
    this.touch(table);
    const l = this.rules.get(table) as string[];
    const i = l.findIndex((x) => x.startsWith(`-A ${chain} `) || x === `-A ${chain}`);
    l.splice(i < 0 ? l.length : i, 0, `-A ${chain}${rest ? ` ${rest}` : ''}`);
  }

  /** Whether the namespace has any table. */
  get empty(): boolean {
    return this.rules.size === 0;
  }

  render(): string {
    if (this.empty) return '';
    const out: string[] = ['# Generated by meshtrace test/kernel/conformanceLab.ts'];
    for (const t of ['raw', 'mangle', 'nat', 'filter'] as TableName[]) {
      if (!this.rules.has(t)) continue;
      out.push(`*${t}`);
      for (const c of BUILTIN[t]) out.push(`:${c} ${this.policies.get(`${t}/${c}`) ?? 'ACCEPT'} [0:0]`);
      for (const c of this.user.get(t) as string[]) out.push(`:${c} - [0:0]`);
      out.push(...(this.rules.get(t) as string[]));
      out.push('COMMIT');
    }
    return `${out.join('\n')}\n`;
  }

  private touch(table: TableName): void {
    if (!this.rules.has(table)) {
      this.rules.set(table, []);
      this.user.set(table, []);
    }
  }
}

/** Quotes a comment the way iptables-save prints it. */
function q(s: string): string {
  return /^[A-Za-z0-9_-]+$/.test(s) ? s : `"${s}"`;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const HEX = '0123456789abcdef';

/** The client's two addresses and the LAN. */
const C1 = '192.0.2.2';
const C2 = '192.0.2.3';
const LAN_GW = '192.0.2.1';

/** What the rule generators may refer to. */
interface Facts {
  clientAddrs: string[];
  serverAddrs: string[];
  routerAddrs: string[];
}

/** Where a random filter rule goes: which interface options are allowed, which chains it may call. */
interface RuleWhere {
  table: TableName;
  inIfaces?: string[];
  outIfaces?: string[];
  jumpTo?: string[];
  /** Allow REJECT (filter INPUT/FORWARD/OUTPUT and chains called only from them). */
  reject: boolean;
  /** Allow MARK targets (mangle). */
  mark?: boolean;
}

const REJECT_WITH = ['icmp-port-unreachable', 'icmp-host-unreachable', 'icmp-net-unreachable', 'icmp-proto-unreachable', 'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited'];

/**
 * One random filter rule made of things the lab has (its addresses, ports and interfaces) so that
 * probes meet it, using only matches whose result the capture decides (no rate limits, owners,
 * nth counters or recent lists).
 */
function randomRule(rng: Rng, f: Facts, w: RuleWhere): string {
  const p: string[] = [];
  let proto: 'tcp' | 'udp' | undefined;
  const conds = rng.int(1, 3);
  const used = new Set<number>();
  for (let i = 0; i < conds; i++) {
    const k = rng.int(0, 7);
    if (used.has(k)) continue;
    used.add(k);
    switch (k) {
      case 0:
        p.push(rng.chance(0.2) ? `! -s ${rng.pick(f.clientAddrs)}/32` : `-s ${rng.chance(0.7) ? `${rng.pick(f.clientAddrs)}/32` : '192.0.2.0/28'}`);
        break;
      case 1:
        if (f.serverAddrs.length) p.push(`${rng.chance(0.15) ? '! ' : ''}-d ${rng.chance(0.7) ? `${rng.pick(f.serverAddrs)}/32` : '203.0.113.0/24'}`);
        break;
      case 2:
        if (w.inIfaces?.length) p.push(`${rng.chance(0.15) ? '! ' : ''}-i ${rng.pick(w.inIfaces)}`);
        break;
      case 3:
        if (w.outIfaces?.length) p.push(`${rng.chance(0.15) ? '! ' : ''}-o ${rng.pick(w.outIfaces)}`);
        break;
      case 4:
      case 5: {
        if (proto) break;
        proto = rng.chance(0.7) ? 'tcp' : 'udp';
        const ports = rng.sample(PORTS, rng.int(2, 3));
        switch (rng.int(0, 3)) {
          case 0:
            p.push(`-p ${proto} -m ${proto} --dport ${rng.pick(PORTS)}`);
            break;
          case 1:
            p.push(`-p ${proto} -m multiport ${rng.chance(0.2) ? '! ' : ''}--dports ${ports.join(',')}`);
            break;
          case 2: {
            const lo = rng.pick(PORTS);
            p.push(`-p ${proto} -m ${proto} --dport ${lo}:${lo + rng.int(0, 1000)}`);
            break;
          }
          default:
            p.push(`-p ${proto}`);
        }
        break;
      }
      case 6:
        p.push(rng.chance(0.5) ? `-m conntrack --ctstate ${rng.pick(['NEW', 'RELATED,ESTABLISHED', 'NEW,UNTRACKED', 'INVALID'])}` : `-m state --state ${rng.pick(['NEW', 'RELATED,ESTABLISHED'])}`);
        break;
      default: {
        const last = Number(rng.pick(f.clientAddrs).split('.')[3]);
        p.push(`-m iprange --src-range 192.0.2.${last}-192.0.2.${last + rng.int(0, 2)}`);
        break;
      }
    }
  }
  if (rng.chance(0.25)) p.push(`-m comment --comment ${q(rng.pick(['DOCKER-USER block', 'ops: temporary', 'allow-lan', 'kube fw']))}`);
  const targets: (() => string)[] = [() => '-j ACCEPT', () => '-j RETURN', () => `-j LOG --log-prefix ${q(rng.pick(['fw: ', 'mt-']))}`];
  if (w.table !== 'nat') targets.push(() => '-j DROP');
  if (w.reject) {
    targets.push(() => `-j REJECT --reject-with ${rng.pick(REJECT_WITH)}`);
    targets.push(() => (proto === 'tcp' ? '-j REJECT --reject-with tcp-reset' : '-j REJECT'));
  }
  if (w.mark) targets.push(() => `-j MARK --set-xmark ${rng.pick(['0x1/0xff', '0x20/0xff', '0x4000/0x4000'])}`);
  if (w.jumpTo?.length) targets.push(() => `${rng.chance(0.3) ? '-g' : '-j'} ${rng.pick(w.jumpTo ?? [])}`);
  p.push(rng.pick(targets)());
  return p.join(' ');
}

/** Builds one lab: namespaces, links, routes and rules, then the probes. */
class LabGen {
  readonly ns = new Map<string, NsSpec & { ipt: Ipt }>();
  readonly veths: VethSpec[] = [];
  readonly shapes: string[] = [];
  readonly probes: Omit<ProbeSpec, 'id' | 'sport'>[] = [];
  bridged = false;

  constructor(readonly rng: Rng) {}

  add(key: string, role: NsSpec['role']): NsSpec & { ipt: Ipt } {
    const n = { key, role, ip: [], sysctl: [], iptables: '', addrs: [], ifaces: [], ipt: new Ipt() };
    this.ns.set(key, n);
    return n;
  }

  get(key: string): NsSpec & { ipt: Ipt } {
    const n = this.ns.get(key);
    if (!n) throw new Error(`genLab: no namespace ${key}`);
    return n;
  }

  /** A veth pair; either end may become a bridge port later. */
  veth(a: string, aName: string, b: string, bName: string): void {
    this.veths.push({ ns: a, name: aName, peerNs: b, peerName: bName });
    this.get(a).ifaces.push(aName);
    this.get(b).ifaces.push(bName);
  }

  addr(key: string, dev: string, cidr: string): void {
    const n = this.get(key);
    n.ip.push(`addr add ${cidr} dev ${dev}`);
    n.addrs.push(cidr.split('/')[0]);
  }

  bridge(key: string, name: string, ports: string[], cidr: string): void {
    const n = this.get(key);
    this.bridged = true;
    n.ip.unshift(`link add ${name} type bridge`);
    n.ifaces.push(name);
    for (const p of ports) n.ip.push(`link set ${p} master ${name}`);
    this.addr(key, name, cidr);
  }

  shape(s: string): void {
    if (!this.shapes.includes(s)) this.shapes.push(s);
  }

  probe(from: string, proto: 'tcp' | 'udp', src: string, dst: string, dport: number, aim: string): void {
    if (this.probes.some((p) => p.from === from && p.proto === proto && p.src === src && p.dst === dst && p.dport === dport)) return;
    this.probes.push({ from, proto, src, dst, dport, aim });
  }
}

/**
 * A random lab for one seed: a client `c`, one or two routers (`r1`, `r2`) and one to three
 * servers (`s1` …), 3–5 namespaces in all, with routes that give every address a deterministic
 * fate (a route, or a blackhole/unreachable/prohibit route), and rulesets in the shapes Docker
 * and kube-proxy write. Deterministic: the same seed and options give the same lab.
 */
export function genLab(seed: number, opts: GenLabOptions = {}): LabSpec {
  const rng = new Rng(seed * 7919 + 17);
  const g = new LabGen(rng);
  const bridges = opts.bridges ?? true;

  // ------------------------------------------------------------------ topology
  const twoRouters = rng.chance(0.45);
  const nServers = rng.int(1, twoRouters ? 2 : 3);
  const c = g.add('c', 'client');
  const r1 = g.add('r1', 'router');
  const r2 = twoRouters ? g.add('r2', 'router') : undefined;
  const servers = Array.from({ length: nServers }, (_, i) => g.add(`s${i + 1}`, 'server'));
  // With two routers and two servers, the second may sit behind r1.
  const splitServer = twoRouters && nServers === 2 && rng.chance(0.5);
  const last = r2 ?? r1;
  const behindLast = splitServer ? [servers[0]] : servers;
  const serverBridge = bridges && rng.chance(0.6);
  const clientBridge = bridges && rng.chance(0.3);

  // Client LAN: 192.0.2.0/28, the client on eth0 with two addresses.
  let lanDev = 'eth0';
  if (clientBridge) {
    g.veth('c', 'eth0', 'r1', 'vethc0');
    lanDev = 'lan0';
    g.bridge('r1', 'lan0', ['vethc0'], `${LAN_GW}/28`);
    g.shape('client behind a bridge');
  } else {
    g.veth('c', 'eth0', 'r1', 'eth0');
    g.addr('r1', 'eth0', `${LAN_GW}/28`);
  }
  g.addr('c', 'eth0', `${C1}/28`);
  g.addr('c', 'eth0', `${C2}/28`);
  c.ip.push(`route add default via ${LAN_GW}`);

  // r1 — r2: 198.51.100.0/30.
  if (r2) {
    g.veth('r1', 'eth1', 'r2', 'eth0');
    g.addr('r1', 'eth1', '198.51.100.1/30');
    g.addr('r2', 'eth0', '198.51.100.2/30');
    g.shape('two routers');
  }

  // Servers behind the last router: one Docker-like bridge, or one veth /30 each.
  const bridgeName = rng.chance(0.5) ? 'docker0' : `br-${rng.word(12, HEX)}`;
  const serverNet: { key: string; addr: string; gw: string; dev: string }[] = [];
  if (serverBridge) {
    const legs: string[] = [];
    behindLast.forEach((s, i) => {
      const leg = `veth${rng.word(7, HEX)}`;
      g.veth(last.key, leg, s.key, 'eth0');
      legs.push(leg);
      const a = `203.0.113.${10 + i}`;
      g.addr(s.key, 'eth0', `${a}/26`);
      serverNet.push({ key: s.key, addr: a, gw: '203.0.113.1', dev: bridgeName });
    });
    g.bridge(last.key, bridgeName, legs, '203.0.113.1/26');
    g.shape('servers on a bridge (br_netfilter)');
  } else {
    behindLast.forEach((s, i) => {
      const dev = `srv${i}`;
      g.veth(last.key, dev, s.key, 'eth0');
      const base = 64 + 4 * i;
      g.addr(last.key, dev, `203.0.113.${base + 1}/30`);
      g.addr(s.key, 'eth0', `203.0.113.${base + 2}/30`);
      serverNet.push({ key: s.key, addr: `203.0.113.${base + 2}`, gw: `203.0.113.${base + 1}`, dev });
    });
    g.shape('servers on veth links');
  }
  if (splitServer) {
    const s = servers[1];
    g.veth('r1', 'srv9', s.key, 'eth0');
    g.addr('r1', 'srv9', '203.0.113.129/30');
    g.addr(s.key, 'eth0', '203.0.113.130/30');
    serverNet.push({ key: s.key, addr: '203.0.113.130', gw: '203.0.113.129', dev: 'srv9' });
    g.shape('a server behind each router');
  }
  for (const s of serverNet) g.get(s.key).ip.push(`route add default via ${s.gw}`);

  // Routes: every address has a deterministic fate.
  const unrouted = { prohibit: '203.0.113.192/28', blackhole: '203.0.113.208/28', unreachable: '203.0.113.224/28' };
  if (r2) {
    for (const s of serverNet) if (s.dev !== 'srv9') r1.ip.push(`route add ${s.addr}/32 via 198.51.100.2`);
    r1.ip.push('route add default via 198.51.100.2');
    r2.ip.push('route add 192.0.2.0/28 via 198.51.100.1');
    if (splitServer) r2.ip.push('route add 203.0.113.128/30 via 198.51.100.1');
    r2.ip.push('route add unreachable default');
  } else {
    r1.ip.push(`route add ${rng.pick(['unreachable', 'prohibit', 'blackhole'])} default`);
  }
  for (const [type, net] of Object.entries(unrouted)) r1.ip.push(`route add ${type} ${net}`);
  r1.ip.push('route add prohibit 198.51.100.96/27');
  g.shape('blackhole/unreachable/prohibit routes');
  const clientLocal = rng.chance(0.5);
  if (clientLocal) {
    c.ip.push('route add prohibit 198.51.100.64/29', 'route add blackhole 198.51.100.72/29', 'route add unreachable 198.51.100.80/28');
    g.shape('route types on the client');
  }

  // Sysctls: forwarding on routers, reverse-path filter sometimes strict/loose on r1.
  for (const n of g.ns.values()) {
    n.sysctl.push(['net.ipv4.ip_forward', n.role === 'router' ? '1' : '0']);
    n.sysctl.push(['net.ipv4.conf.all.rp_filter', '0'], ['net.ipv4.conf.default.rp_filter', '0']);
    for (const i of n.ifaces) n.sysctl.push([`net.ipv4.conf.${i}.rp_filter`, '0']);
    n.sysctl.push(['net.ipv4.icmp_ratelimit', '0'], ['net.ipv4.icmp_ratemask', '0']);
    if (bridges) n.sysctl.push(['net.bridge.bridge-nf-call-iptables', '1']);
  }
  if (rng.chance(0.3)) {
    const v = rng.pick(['1', '2']);
    r1.sysctl.push(['net.ipv4.conf.all.rp_filter', v]);
    g.shape(`rp_filter=${v} on r1`);
  }

  const facts: Facts = {
    clientAddrs: [C1, C2],
    serverAddrs: serverNet.map((s) => s.addr),
    routerAddrs: [...r1.addrs, ...(r2?.addrs ?? [])],
  };
  const upIf = r2 ? 'eth0' : lanDev; // the last router's interface towards the client
  const lastUpAddr = r2 ? '198.51.100.2' : LAN_GW;

  // ------------------------------------------------------------------ rulesets
  const published: { host: string; port: number; proto: 'tcp' | 'udp'; to: string; toPort: number }[] = [];
  const docker = serverBridge && rng.chance(0.75);
  if (docker) {
    const t = last.ipt;
    const br = bridgeName;
    const subnet = '203.0.113.0/26';
    const proxy = rng.chance(0.5);
    g.shape(`docker bridge (${proxy ? 'userland proxy' : 'hairpin NAT'})`);
    t.chain('nat', 'DOCKER');
    t.add('nat', 'PREROUTING', '-m addrtype --dst-type LOCAL -j DOCKER');
    t.add('nat', 'OUTPUT', '! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER');
    t.add('nat', 'POSTROUTING', `-s ${subnet} ! -o ${br} -j MASQUERADE`);
    if (proxy) t.add('nat', 'DOCKER', `-i ${br} -j RETURN`);
    for (const f of ['DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER']) t.chain('filter', f);
    t.policy('filter', 'FORWARD', 'DROP');
    t.add('filter', 'FORWARD', '-j DOCKER-USER');
    t.add('filter', 'FORWARD', '-j DOCKER-ISOLATION-STAGE-1');
    t.add('filter', 'FORWARD', `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    t.add('filter', 'FORWARD', `-o ${br} -j DOCKER`);
    t.add('filter', 'FORWARD', `-i ${br} ! -o ${br} -j ACCEPT`);
    t.add('filter', 'FORWARD', `-i ${br} -o ${br} -j ${rng.chance(0.75) ? 'ACCEPT' : 'DROP'}`);
    t.add('filter', 'DOCKER-ISOLATION-STAGE-1', `-i ${br} ! -o ${br} -j DOCKER-ISOLATION-STAGE-2`);
    t.add('filter', 'DOCKER-ISOLATION-STAGE-1', '-j RETURN');
    t.add('filter', 'DOCKER-ISOLATION-STAGE-2', `-o ${rng.chance(0.5) ? 'br-0badc0ffee00' : 'docker_gwbridge'} -j DROP`);
    t.add('filter', 'DOCKER-ISOLATION-STAGE-2', '-j RETURN');
    for (const s of serverNet.filter((x) => x.dev === br)) {
      const n = rng.int(1, 2);
      for (let i = 0; i < n; i++) {
        const proto = rng.chance(0.75) ? 'tcp' : 'udp';
        const host = rng.pick([8000, 8080, 9090, 30080].filter((p) => !published.some((x) => x.port === p && x.proto === proto)));
        if (host === undefined) continue;
        const toPort = rng.pick([80, 443, 8080, 9000]);
        published.push({ host: lastUpAddr, port: host, proto, to: s.addr, toPort });
        t.add('nat', 'DOCKER', `! -i ${br} -p ${proto} -m ${proto} --dport ${host} -j DNAT --to-destination ${s.addr}:${toPort}`);
        t.add('filter', 'DOCKER', `-d ${s.addr}/32 ! -i ${br} -o ${br} -p ${proto} -m ${proto} --dport ${toPort} -j ACCEPT`);
        if (!proxy) t.add('nat', 'POSTROUTING', `-s ${s.addr}/32 -d ${s.addr}/32 -p ${proto} -m ${proto} --dport ${toPort} -j MASQUERADE`);
      }
    }
    // DOCKER-USER: what admins put there, ending in RETURN.
    const nUser = rng.int(0, 4);
    for (let i = 0; i < nUser; i++) t.add('filter', 'DOCKER-USER', randomRule(rng, facts, { table: 'filter', inIfaces: [upIf, br], outIfaces: [br, upIf], reject: true }));
    t.add('filter', 'DOCKER-USER', '-j RETURN');
    if (nUser) g.shape('DOCKER-USER filters');
  }

  // kube-proxy: on r1 (PREROUTING, for the client's connections) or on the client (OUTPUT).
  const kubeHost = rng.chance(0.55) ? (rng.chance(0.6) ? r1 : c) : undefined;
  const services: { vip: string; port: number; proto: 'tcp' | 'udp'; endpoints: number; nodePort?: number }[] = [];
  if (kubeHost) {
    const t = kubeHost.ipt;
    const onClient = kubeHost === c;
    g.shape(`kube-proxy on ${kubeHost.key} (statistic)`);
    t.chain('nat', 'KUBE-SERVICES');
    t.chain('nat', 'KUBE-MARK-MASQ');
    t.chain('nat', 'KUBE-POSTROUTING');
    t.chain('nat', 'KUBE-NODEPORTS');
    t.chain('filter', 'KUBE-SERVICES');
    t.chain('filter', 'KUBE-FORWARD');
    t.chain('filter', 'KUBE-FIREWALL');
    t.add('nat', 'PREROUTING', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    t.add('nat', 'OUTPUT', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    t.add('nat', 'POSTROUTING', '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
    t.add('nat', 'KUBE-MARK-MASQ', '-j MARK --set-xmark 0x4000/0x4000');
    t.add('nat', 'KUBE-POSTROUTING', '-m mark ! --mark 0x4000/0x4000 -j RETURN');
    t.add('nat', 'KUBE-POSTROUTING', '-j MARK --xor-mark 0x4000');
    t.add('nat', 'KUBE-POSTROUTING', '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE');
    t.add('filter', 'INPUT', '-j KUBE-FIREWALL');
    t.add('filter', 'KUBE-FIREWALL', '-m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP');
    const fwdFirst = rng.chance(0.5);
    (fwdFirst ? t.addFirst.bind(t) : t.add.bind(t))('filter', 'FORWARD', '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD');
    t.add('filter', 'FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    t.add('filter', 'OUTPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    t.add('filter', 'KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP');
    t.add('filter', 'KUBE-FORWARD', '-m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT');
    t.add('filter', 'KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    const nSvc = rng.int(1, 3);
    const endpointsPool = serverNet.map((s) => s.addr);
    for (let i = 0; i < nSvc; i++) {
      const proto: 'tcp' | 'udp' = rng.chance(0.75) ? 'tcp' : 'udp';
      const vip = `198.51.100.${100 + i}`;
      const port = rng.pick([80, 443, 8080]);
      const name = `${rng.pick(['default', 'prod', 'kube-system'])}/${rng.pick(['web', 'api', 'dns'])}:${rng.pick(['http', 'p'])}`;
      const n = i === 0 ? rng.int(2, 3) : rng.int(0, 3);
      services.push({ vip, port, proto, endpoints: n });
      if (n === 0) {
        t.add('filter', 'KUBE-SERVICES', `-d ${vip}/32 -p ${proto} -m comment --comment ${q(`${name} has no endpoints`)} -m ${proto} --dport ${port} -j REJECT --reject-with icmp-port-unreachable`);
        continue;
      }
      const svc = t.chain('nat', `KUBE-SVC-${rng.word(16, B32)}`);
      t.add('nat', 'KUBE-SERVICES', `! -s 203.0.113.0/24 -d ${vip}/32 -p ${proto} -m comment --comment ${q(`${name} cluster IP`)} -m ${proto} --dport ${port} -j KUBE-MARK-MASQ`);
      t.add('nat', 'KUBE-SERVICES', `-d ${vip}/32 -p ${proto} -m comment --comment ${q(`${name} cluster IP`)} -m ${proto} --dport ${port} -j ${svc}`);
      if (i === 0 && !onClient && rng.chance(0.6)) {
        services[i].nodePort = 30080;
        t.add('nat', 'KUBE-NODEPORTS', `-p ${proto} -m comment --comment ${q(name)} -m ${proto} --dport 30080 -j KUBE-MARK-MASQ`);
        t.add('nat', 'KUBE-NODEPORTS', `-p ${proto} -m comment --comment ${q(name)} -m ${proto} --dport 30080 -j ${svc}`);
        g.shape('kube NodePort');
      }
      for (let e = 0; e < n; e++) {
        const sep = t.chain('nat', `KUBE-SEP-${rng.word(16, B32)}`);
        const ep = endpointsPool[e % endpointsPool.length];
        const toPort = e < endpointsPool.length ? rng.pick([80, 8080, 9090]) : 443;
        const left = n - e;
        const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
        t.add('nat', svc, `-m comment --comment ${q(name)}${stat} -j ${sep}`);
        t.add('nat', sep, `-s ${ep}/32 -m comment --comment ${q(name)} -j KUBE-MARK-MASQ`);
        t.add('nat', sep, `-p ${proto} -m comment --comment ${q(name)} -m ${proto} -j DNAT --to-destination ${ep}:${toPort}`);
      }
    }
    t.add('nat', 'KUBE-SERVICES', '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  }

  // r1 when it is not the Docker host: a forwarding firewall with user chains, RETURN and goto.
  if (!(docker && last === r1) && rng.chance(0.7)) {
    const t = r1.ipt;
    g.shape('r1 FORWARD user chains (RETURN, goto)');
    const a = t.chain('filter', rng.pick(['LAN-IN', 'fw-fwd', 'FORWARD_direct']));
    const b = t.chain('filter', rng.pick(['LAN-CHECK', 'fw-deny', 'x.y']));
    const policy = rng.chance(0.4) ? 'DROP' : 'ACCEPT';
    t.policy('filter', 'FORWARD', policy);
    t.add('filter', 'FORWARD', '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    t.add('filter', 'FORWARD', `-i ${lanDev} ${rng.chance(0.3) ? '-g' : '-j'} ${a}`);
    const inIfs = [lanDev, ...(r2 ? ['eth1'] : [])];
    const outIfs = r2 ? ['eth1', ...(splitServer ? ['srv9'] : [])] : serverNet.map((s) => s.dev);
    for (let i = rng.int(1, 4); i > 0; i--) t.add('filter', a, randomRule(rng, facts, { table: 'filter', outIfaces: outIfs, inIfaces: inIfs, jumpTo: [b], reject: true }));
    if (rng.chance(0.6)) t.add('filter', a, '-j RETURN');
    for (let i = rng.int(1, 3); i > 0; i--) t.add('filter', b, randomRule(rng, facts, { table: 'filter', outIfaces: outIfs, inIfaces: inIfs, reject: true }));
    if (policy === 'DROP') t.add('filter', 'FORWARD', rng.chance(0.5) ? '-j ACCEPT' : `-o ${lanDev} -j ACCEPT`);
  }

  // Host firewalls (INPUT) on routers and servers: conntrack states, multiport, REJECT variants.
  for (const n of [r1, ...(r2 ? [r2] : []), ...servers]) {
    if (!rng.chance(0.5)) continue;
    const t = n.ipt;
    g.shape('INPUT host firewall');
    const policyDrop = rng.chance(0.3);
    if (policyDrop) t.policy('filter', 'INPUT', 'DROP');
    t.add('filter', 'INPUT', '-i lo -j ACCEPT');
    t.add('filter', 'INPUT', `-m ${rng.chance(0.5) ? 'state --state' : 'conntrack --ctstate'} RELATED,ESTABLISHED -j ACCEPT`);
    t.add('filter', 'INPUT', '-m conntrack --ctstate INVALID -j DROP');
    const open = rng.sample(PORTS, rng.int(2, 5));
    t.add('filter', 'INPUT', `-p tcp -m multiport --dports ${open.join(',')} -m conntrack --ctstate NEW -j ACCEPT`);
    if (rng.chance(0.5)) {
      const ch = t.chain('filter', 'LOG-REJECT');
      t.add('filter', ch, `-j LOG --log-prefix ${q('rej: ')}`);
      t.add('filter', ch, '-p tcp -j REJECT --reject-with tcp-reset');
      t.add('filter', ch, `-p udp -j REJECT --reject-with ${rng.pick(REJECT_WITH)}`);
      const pr = rng.pick(['tcp', 'udp']);
      t.add('filter', 'INPUT', `-p ${pr} -m ${pr} --dport ${rng.pick(PORTS)} ${rng.chance(0.4) ? '-g' : '-j'} ${ch}`);
    }
    for (let i = rng.int(1, 3); i > 0; i--) t.add('filter', 'INPUT', randomRule(rng, facts, { table: 'filter', inIfaces: n.ifaces, reject: true }));
    if (!policyDrop && rng.chance(0.5)) t.add('filter', 'INPUT', `-j REJECT --reject-with ${rng.pick(REJECT_WITH)}`);
  }

  // r1: REDIRECT to a local port, DNAT to 127.0.0.1 (route_localnet), fwmark policy routing.
  if (rng.chance(0.45)) {
    r1.ipt.add('nat', 'PREROUTING', `-i ${lanDev} -p tcp -m tcp --dport 3128 -j REDIRECT --to-ports 8081`);
    if (rng.chance(0.5)) r1.ipt.add('nat', 'PREROUTING', `-i ${lanDev} -p udp -m udp --dport 5353 -j REDIRECT --to-ports 9090`);
    g.shape('REDIRECT on r1');
  }
  if (rng.chance(0.3)) {
    const on = rng.chance(0.5) ? '1' : '0';
    r1.ipt.add('nat', 'PREROUTING', `-d ${LAN_GW}/32 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 127.0.0.1:8081`);
    r1.sysctl.push([`net.ipv4.conf.${lanDev}.route_localnet`, on]);
    g.shape(`DNAT to 127.0.0.1 (route_localnet=${on})`);
  }
  if (rng.chance(0.5)) {
    const t = r1.ipt;
    const connmark = rng.chance(0.5);
    if (connmark) {
      t.add('mangle', 'PREROUTING', '-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff');
      t.add('mangle', 'PREROUTING', `-i ${lanDev} -p tcp -m tcp --dport 9000 -m mark --mark 0x0/0xff -j MARK --set-xmark 0x10/0xff`);
      t.add('mangle', 'PREROUTING', '-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff');
    } else {
      t.add('mangle', 'PREROUTING', `-i ${lanDev} -p tcp -m multiport --dports 9000,9090 -j MARK --set-xmark 0x10/0xff`);
    }
    r1.ip.push('rule add pref 100 fwmark 0x10/0xff lookup 100');
    const how = rng.pick(['blackhole', 'prohibit', 'unreachable', 'via']);
    if (how === 'via' && r2) r1.ip.push('route add 203.0.113.0/24 via 198.51.100.2 table 100');
    else if (how === 'via') r1.ip.push('route add throw 203.0.113.0/24 table 100');
    else r1.ip.push(`route add ${how} 203.0.113.0/24 table 100`);
    g.shape(`MARK + fwmark routing (${how}${connmark ? ', CONNMARK' : ''})`);
  }
  if (rng.chance(0.35)) {
    r1.ip.push(`rule add pref 200 from ${C2} lookup 200`);
    r1.ip.push(`route add ${rng.pick(['unreachable', 'prohibit', 'blackhole'])} ${rng.pick(['203.0.113.0/24', '203.0.113.0/26', '203.0.113.64/27'])} table 200`);
    g.shape('source policy rule');
  }
  if (rng.chance(0.3)) {
    r1.ipt.add('raw', 'PREROUTING', `-p udp -m udp --dport ${rng.pick([5353, 9090])} -j ${rng.chance(0.5) ? 'CT --notrack' : 'NOTRACK'}`);
    g.shape('raw NOTRACK');
  }
  if (!docker && rng.chance(0.5)) {
    const t = last.ipt;
    if (rng.chance(0.5)) t.add('nat', 'POSTROUTING', `-s 192.0.2.0/28 -o ${serverNet.find((s) => s.dev !== 'srv9')?.dev ?? 'eth0'} -j SNAT --to-source ${serverNet[0].gw}`);
    else t.add('nat', 'POSTROUTING', `-s 192.0.2.0/28 ! -o ${upIf} -j MASQUERADE`);
    g.shape('SNAT/MASQUERADE towards the servers');
  }
  if (r2 && rng.chance(0.3)) {
    r1.ipt.add('nat', 'POSTROUTING', '-o eth1 -j MASQUERADE');
    g.shape('MASQUERADE on r1 uplink');
  }
  if (!docker && rng.chance(0.4)) {
    // A plain port forward on the last router (what admins write without Docker).
    const s = serverNet[0];
    last.ipt.add('nat', 'PREROUTING', `-d ${lastUpAddr}/32 -p tcp -m tcp --dport 8000 -j DNAT --to-destination ${s.addr}:80`);
    published.push({ host: lastUpAddr, port: 8000, proto: 'tcp', to: s.addr, toPort: 80 });
    g.shape('port forward DNAT');
  }

  // The client's own output rules.
  if (rng.chance(0.5)) {
    const t = c.ipt;
    const k = rng.int(0, 2);
    if (k === 0 || rng.chance(0.3)) {
      t.add('nat', 'OUTPUT', '-d 198.51.100.50/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8081');
      t.add('nat', 'OUTPUT', '-d 198.51.100.50/32 -p udp -m udp --dport 5353 -j REDIRECT --to-ports 9090');
      g.shape('REDIRECT in OUTPUT');
    }
    if (k === 1 || rng.chance(0.3)) {
      t.add('filter', 'OUTPUT', `-p tcp -m tcp --dport 9090 -j REJECT --reject-with ${rng.pick(['tcp-reset', 'icmp-port-unreachable', 'icmp-admin-prohibited'])}`);
      t.add('filter', 'OUTPUT', '-p udp -m udp --dport 8443 -j DROP');
      g.shape('client OUTPUT filter');
    }
    if (k === 2 || rng.chance(0.3)) {
      t.add('mangle', 'OUTPUT', '-p tcp -m tcp --dport 8443 -j MARK --set-xmark 0x20/0xff');
      c.ip.push('rule add pref 120 fwmark 0x20/0xff lookup 120');
      const how = rng.pick(['blackhole', 'unreachable', 'prohibit']);
      c.ip.push(`route add ${how} 203.0.113.0/24 table 120`);
      g.shape(`OUTPUT MARK re-route (${how})`);
    }
  }

  for (const n of g.ns.values()) n.iptables = n.ipt.render();

  // ------------------------------------------------------------------ probes
  const pick = <T>(xs: readonly T[], k: number): T[] => rng.sample(xs, k);
  const proto = (): 'tcp' | 'udp' => (rng.chance(0.7) ? 'tcp' : 'udp');
  const csrc = (): string => (rng.chance(0.65) ? C1 : C2);
  for (const s of serverNet) {
    for (const port of pick(PORTS, 3)) g.probe('c', proto(), csrc(), s.addr, port, `server ${s.key}`);
    g.probe('c', 'tcp', C2, s.addr, rng.pick(PORTS), `server ${s.key} from the second address`);
    g.probe('c', 'tcp', csrc(), s.addr, 9000, `server ${s.key} port 9000 (fwmark shapes)`);
  }
  for (const a of facts.routerAddrs) g.probe('c', proto(), csrc(), a, rng.pick(PORTS), 'a router address (INPUT)');
  for (const p of published) {
    g.probe('c', p.proto, csrc(), p.host, p.port, `published ${p.proto}/${p.port} → ${p.to}:${p.toPort}`);
    if (p.proto === 'tcp') g.probe('c', 'udp', csrc(), p.host, p.port, 'the published port over the other protocol');
  }
  for (const s of services) {
    g.probe('c', s.proto, csrc(), s.vip, s.port, `cluster IP ${s.vip} (${s.endpoints} endpoints)`);
    g.probe('c', s.proto, C1, s.vip, s.port, `cluster IP ${s.vip} again (another branch)`);
    g.probe('c', s.proto === 'tcp' ? 'udp' : 'tcp', csrc(), s.vip, s.port, 'cluster IP, other protocol');
    if (s.nodePort) g.probe('c', s.proto, csrc(), LAN_GW, s.nodePort, 'NodePort on r1');
  }
  g.probe('c', 'tcp', csrc(), rng.pick(facts.serverAddrs), 3128, 'port 3128 (REDIRECT shapes)');
  g.probe('c', 'udp', csrc(), rng.pick(facts.serverAddrs), 5353, 'udp 5353 (REDIRECT/NOTRACK shapes)');
  g.probe('c', 'tcp', csrc(), LAN_GW, 8443, 'r1 8443 (DNAT to 127.0.0.1 shapes)');
  g.probe('c', rng.chance(0.5) ? 'tcp' : 'udp', csrc(), rng.pick(facts.serverAddrs), 8443, 'port 8443 (OUTPUT MARK shapes)');
  g.probe('c', proto(), csrc(), '203.0.113.200', rng.pick(PORTS), 'prohibit route on r1');
  g.probe('c', proto(), csrc(), '203.0.113.210', rng.pick(PORTS), 'blackhole route on r1');
  g.probe('c', proto(), csrc(), '203.0.113.230', rng.pick(PORTS), 'unreachable route on r1');
  g.probe('c', proto(), csrc(), '203.0.113.250', rng.pick(PORTS), 'default route of the last router');
  g.probe('c', 'tcp', csrc(), '198.51.100.99', 80, 'service range without a service');
  if (clientLocal) {
    g.probe('c', proto(), csrc(), '198.51.100.66', 80, 'local prohibit route');
    g.probe('c', proto(), csrc(), '198.51.100.74', 80, 'local blackhole route');
    g.probe('c', proto(), csrc(), '198.51.100.84', 80, 'local unreachable route');
  }
  g.probe('c', proto(), C1, C2, rng.pick(PORTS), 'the client itself');
  g.probe('c', proto(), '127.0.0.1', '127.0.0.1', rng.pick(PORTS), 'loopback');
  g.probe('c', 'tcp', csrc(), '198.51.100.50', 80, 'REDIRECT in OUTPUT (tcp)');
  g.probe('c', 'udp', csrc(), '198.51.100.50', 5353, 'REDIRECT in OUTPUT (udp)');
  g.probe('c', 'tcp', csrc(), rng.pick(facts.serverAddrs), 9090, 'port 9090 (client OUTPUT filter)');
  // From the servers: to each other (bridged or routed), to the client, hairpin to a published port.
  const s0 = serverNet[0];
  for (const s of serverNet.slice(1)) g.probe(s0.key, proto(), s0.addr, s.addr, rng.pick(PORTS), `${s0.key} to ${s.key}`);
  g.probe(s0.key, proto(), s0.addr, C1, rng.pick(PORTS), `${s0.key} to the client`);
  g.probe(s0.key, 'tcp', s0.addr, LAN_GW, rng.pick(PORTS), `${s0.key} to r1`);
  for (const p of published.slice(0, 1)) g.probe(s0.key, p.proto, s0.addr, p.host, p.port, 'hairpin to a published port');

  const probes: ProbeSpec[] = g.probes.map((p, i) => ({ ...p, id: i + 1, sport: SPORT_BASE + i + 1 }));
  const namespaces = [...g.ns.values()].map(({ ipt: _ipt, ...n }) => n);
  return {
    seed,
    description: `seed ${seed}: ${namespaces.length} namespaces; ${g.shapes.join(', ')}`,
    shapes: g.shapes,
    namespaces,
    veths: g.veths,
    probes,
    bridged: g.bridged,
  };
}

// ====================================================================== making it real

/** The listener/probe script, run with plain `node` inside a namespace. */
export const LISTENER = path.join(__dirname, 'listener.mjs');

/** Source port of the datagram that shows an xtables-monitor is listening. */
const MARKER_PORT = 39999;

/** The comment on the TRACE rules this file adds (after the capture), to tell them apart. */
export const TRACE_COMMENT = 'mt-conformance-trace';

/** The order `ip -batch` lines must run in: links, ports, addresses, (links up), routes and rules. */
function ipPhase(line: string): number {
  if (line.startsWith('link add')) return 0;
  if (line.startsWith('link set')) return 1;
  if (line.startsWith('addr')) return 2;
  return 4;
}

/** What the client process saw. */
export interface ClientResult {
  id: number;
  result: 'connected' | 'reply' | 'timeout' | 'error';
  errno?: string;
  /** An error a connected TCP socket met afterwards (its third packet or data was refused). */
  afterConnect?: string;
  ms: number;
}

/** What a listener saw: one connection or datagram. */
export interface ListenerRecord {
  ns: string;
  proto: string;
  id: string | null;
  local: string;
  peer: string;
  /**
   * A TCP connection the listener's kernel holds in SYN-RECV (`ss state syn-recv`): the SYN
   * reached the socket, but the handshake did not complete (the SYN-ACK or the ACK was lost).
   */
  halfOpen?: boolean;
}

/** The kernel's answer to one probe: the client's result and every listener record with its id. */
export interface KernelAnswer {
  client: ClientResult;
  records: ListenerRecord[];
}

/** Reads a child's stdout line by line. */
function lines(child: ChildProcess, onLine: (l: string) => void): void {
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (l.trim()) onLine(l);
    }
  });
}

/** A lab from a LabSpec, built in namespaces of its own. */
export class ConformanceLab {
  readonly lab = new Lab();
  private readonly children = new Set<ChildProcess>();
  private readonly brnf: boolean;

  constructor(
    readonly spec: LabSpec,
    opts: { bridges: boolean },
  ) {
    this.brnf = opts.bridges;
  }

  /** The real namespace name of a key (`mt-<id>-<key>`). */
  name(key: string): string {
    return this.lab.nsName(key);
  }

  /** Creates the namespaces, links, addresses, routes, sysctls and rules. */
  async build(): Promise<void> {
    await Promise.all(this.spec.namespaces.map((n) => this.lab.addNamespace(n.key)));
    for (const v of this.spec.veths) {
      await run('ip', ['-n', this.name(v.ns), 'link', 'add', v.name, 'type', 'veth', 'peer', 'name', v.peerName, 'netns', this.name(v.peerNs)]);
    }
    await Promise.all(
      this.spec.namespaces.map(async (n) => {
        const ns = this.name(n.key);
        const ordered = n.ip.map((l, i) => ({ l, i })).sort((a, b) => ipPhase(a.l) - ipPhase(b.l) || a.i - b.i).map((x) => x.l);
        const up = n.ifaces.map((i) => `link set dev ${i} up`);
        const batch = [...ordered.filter((l) => ipPhase(l) < 3), ...up, ...ordered.filter((l) => ipPhase(l) >= 3)];
        await run('ip', ['-n', ns, '-batch', '-'], { input: `${batch.join('\n')}\n` });
        const sysctl = n.sysctl.filter(([k]) => this.brnf || !k.startsWith('net.bridge.'));
        await this.lab.exec(ns, 'sysctl', ['-q', '-w', ...sysctl.map(([k, v]) => `${k}=${v}`)]);
        if (n.iptables) await this.lab.iptablesRestore(ns, n.iptables);
      }),
    );
    // Carrier on every veth end and bridge before any probe.
    await waitFor('every lab link to be up', async () => {
      for (const n of this.spec.namespaces) {
        const out = await this.lab.ip(this.name(n.key), '-o', 'link', 'show');
        for (const i of n.ifaces) {
          const l = out.split('\n').find((x) => x.includes(` ${i}:`) || x.includes(` ${i}@`));
          if (!l || !l.includes('LOWER_UP')) return false;
        }
      }
      return true;
    });
  }

  /** The sysctl keys a capture takes (the ones the simulator reads, plus what the lab set). */
  private sysctlKeys(n: NsSpec): string[] {
    const keys = new Set<string>(['net.ipv4.ip_forward', 'net.ipv4.icmp_ratelimit', 'net.ipv4.icmp_ratemask']);
    for (const i of ['all', 'default', 'lo', ...n.ifaces]) {
      for (const k of ['forwarding', 'rp_filter', 'route_localnet', 'src_valid_mark', 'accept_local']) keys.add(`net.ipv4.conf.${i}.${k}`);
    }
    if (this.brnf) keys.add('net.bridge.bridge-nf-call-iptables');
    for (const [k] of n.sysctl) if (this.brnf || !k.startsWith('net.bridge.')) keys.add(k);
    return [...keys];
  }

  /**
   * Dumps every namespace with the real tools into `<dir>/lab/<namespace>/` (node `lab`, one
   * folder per namespace, named as `ip netns` names it so `link-netns` pairs the veths).
   */
  async capture(dir: string): Promise<void> {
    fs.rmSync(dir, { recursive: true, force: true });
    await Promise.all(
      this.spec.namespaces.map(async (n) => {
        const ns = this.name(n.key);
        const out = path.join(dir, 'lab', ns);
        fs.mkdirSync(out, { recursive: true });
        const jobs: [string, string, string[]][] = [
          ['iptables-save.txt', 'iptables-save', ['-c']],
          ['ip-addr.txt', 'ip', ['-d', 'addr']],
          ['ip-route.txt', 'ip', ['route', 'show', 'table', 'all']],
          ['ip-rule.txt', 'ip', ['rule']],
          ['sysctl.txt', 'sysctl', this.sysctlKeys(n)],
          ['bridge-fdb.txt', 'bridge', ['fdb', 'show']],
          ['ip-neigh.txt', 'ip', ['neigh']],
        ];
        for (const [file, cmd, args] of jobs) {
          const r = await this.lab.exec(ns, cmd, args);
          fs.writeFileSync(path.join(out, file), r.stdout);
        }
      }),
    );
  }

  private spawnIn(ns: string, file: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.stdin?.on('error', () => undefined);
    return child;
  }

  /** Starts a listener in every namespace on every port of PORTS; resolves once all are bound. */
  async startListeners(): Promise<Listeners> {
    const records: ListenerRecord[] = [];
    const procs: ChildProcess[] = [];
    await Promise.all(
      this.spec.namespaces.map(
        (n) =>
          new Promise<void>((resolve, reject) => {
            const ns = this.name(n.key);
            const child = this.spawnIn(ns, process.execPath, [LISTENER, 'listen', ns, PORTS.join(',')]);
            procs.push(child);
            let err = '';
            child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
            child.on('exit', (code) => reject(new Error(`listener in ${ns} exited (${code}): ${err.trim()}`)));
            lines(child, (l) => {
              const o = JSON.parse(l) as { ready?: boolean; fatal?: string } & ListenerRecord;
              if (o.ready) resolve();
              else if (o.fatal) reject(new Error(`listener in ${ns}: ${o.fatal}`));
              else records.push(o);
            });
          }),
      ),
    );
    return new Listeners(records, procs);
  }

  /**
   * Runs every probe: one client process per source namespace, all probes at once, or one every
   * `staggerMs` (in probe order) when a burst would be too much for an observer.
   */
  async runProbes(probes: readonly ProbeSpec[], opts: { tcpMs?: number; udpMs?: number; staggerMs?: number } = {}): Promise<Map<number, ClientResult>> {
    const timeouts = { tcp: opts.tcpMs ?? 3000, udp: opts.udpMs ?? 2000 };
    const delay = new Map(probes.map((p, i) => [p.id, i * (opts.staggerMs ?? 0)]));
    const out = new Map<number, ClientResult>();
    const byNs = new Map<string, ProbeSpec[]>();
    for (const p of probes) byNs.set(p.from, [...(byNs.get(p.from) ?? []), p]);
    await Promise.all(
      [...byNs].map(
        ([key, list]) =>
          new Promise<void>((resolve, reject) => {
            const ns = this.name(key);
            const child = this.spawnIn(ns, process.execPath, [LISTENER, 'probe']);
            let err = '';
            child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
            lines(child, (l) => {
              const o = JSON.parse(l) as ClientResult & { fatal?: string };
              if (o.fatal) reject(new Error(`probe client in ${ns}: ${o.fatal}`));
              else out.set(o.id, o);
            });
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`probe client in ${ns} exited (${code}): ${err.trim()}`))));
            child.stdin?.end(JSON.stringify(list.map((p) => ({ ...p, timeoutMs: timeouts[p.proto], delayMs: delay.get(p.id) ?? 0 }))));
          }),
      ),
    );
    return out;
  }

  /**
   * Adds TRACE rules at the top of raw PREROUTING and OUTPUT in every namespace (after the
   * capture, so the dumps stay clean) and starts `xtables-monitor --trace` in each; resolves once
   * every monitor has shown a marker packet.
   */
  async startMonitors(): Promise<Monitors> {
    const mons = new Map<string, { child: ChildProcess; lines: string[] }>();
    for (const n of this.spec.namespaces) {
      const ns = this.name(n.key);
      // Only the probes' first packets (TCP SYN, UDP from a probe port) and the readiness marker:
      // a trace of every packet overflows xtables-monitor's netlink socket (ENOBUFS) and it exits.
      const sports = `${SPORT_BASE}:${SPORT_BASE + 9999}`;
      const matches = [
        ['-p', 'tcp', '-m', 'tcp', '--sport', sports, '--tcp-flags', 'SYN,ACK,FIN,RST', 'SYN'],
        ['-p', 'udp', '-m', 'udp', '--sport', sports],
        ['-p', 'udp', '-m', 'udp', '--sport', String(MARKER_PORT)],
      ];
      for (const chain of ['PREROUTING', 'OUTPUT']) {
        for (const m of matches) await this.lab.exec(ns, 'iptables', ['-t', 'raw', '-I', chain, '1', ...m, '-m', 'comment', '--comment', TRACE_COMMENT, '-j', 'TRACE']);
      }
      // Line-buffered: xtables-monitor writes through stdio, and a killed process loses its buffer.
      const child = this.spawnIn(ns, 'stdbuf', ['-oL', 'xtables-monitor', '--trace']);
      const m = { child, lines: [] as string[] };
      lines(child, (l) => m.lines.push(l));
      child.stderr?.on('data', (d: Buffer) => m.lines.push(...d.toString().trim().split('\n').map((x) => `STDERR: ${x}`)));
      mons.set(ns, m);
    }
    // Readiness: a marker datagram to 127.0.0.1 from a port no probe uses, until the monitor shows it.
    await Promise.all(
      [...mons].map(async ([ns, m]) => {
        await waitFor(`xtables-monitor in ${ns}`, async () => {
          await run('ip', ['netns', 'exec', ns, process.execPath, LISTENER, 'mark', String(MARKER_PORT)]);
          await new Promise((r) => setTimeout(r, 100));
          return m.lines.some((l) => l.includes(`SPORT=${MARKER_PORT}`));
        }, 10_000, 0);
      }),
    );
    // Rule handles per chain, in order, to turn a trace line's handle into a rule position.
    const handles = new Map<string, Map<string, number[]>>();
    for (const n of this.spec.namespaces) {
      const ns = this.name(n.key);
      handles.set(ns, await nftHandles(this.lab, ns));
    }
    return new Monitors(mons, handles);
  }

  /**
   * TCP connections waiting in SYN-RECV in every namespace (`ss -Htn state syn-recv`): a SYN that
   * reached a listening socket whose SYN-ACK never got back. Call before the listeners stop.
   */
  async halfOpen(): Promise<ListenerRecord[]> {
    const out: ListenerRecord[] = [];
    for (const n of this.spec.namespaces) {
      const ns = this.name(n.key);
      const text = (await this.lab.exec(ns, 'ss', ['-Htn', 'state', 'syn-recv'])).stdout;
      for (const l of text.split('\n')) {
        const f = l.trim().split(/\s+/);
        if (f.length >= 4) out.push({ ns, proto: 'tcp', id: null, local: f[2], peer: f[3], halfOpen: true });
      }
    }
    return out;
  }

  /**
   * TCP sockets by namespace and local address:port (`ss -Htan`): state names as ss prints them.
   * A probe's socket still there in ESTAB, FIN-WAIT-*, TIME-WAIT, CLOSE-WAIT, LAST-ACK or CLOSING
   * had completed its handshake, even when connect() reported an error: Linux hands a soft error
   * (an ICMP error that met the connection after the SYN-ACK) to SO_ERROR, which is what
   * libuv reads when the connect completes (sock_getsockopt, net/core/sock.c).
   */
  async tcpSockets(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const n of this.spec.namespaces) {
      const ns = this.name(n.key);
      const text = (await this.lab.exec(ns, 'ss', ['-Htan'])).stdout;
      for (const l of text.split('\n')) {
        const f = l.trim().split(/\s+/);
        if (f.length >= 5) out.set(`${ns}|${f[3]}`, f[0]);
      }
    }
    return out;
  }

  /** Ends every process this lab started and deletes its namespaces. */
  async dispose(): Promise<void> {
    for (const c of this.children) {
      c.stdin?.end();
      c.kill('SIGTERM');
    }
    await this.lab.dispose();
  }
}

/**
 * `nft -a list table ip T` of every table: chain → rule handles in order, leaving out the TRACE
 * helpers (nft shows them as `meta nftrace set 1`; the lab's own rulesets have no TRACE rule).
 */
async function nftHandles(lab: Lab, ns: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const t of ['raw', 'mangle', 'nat', 'filter']) {
    let text: string;
    try {
      text = (await lab.exec(ns, 'nft', ['-a', 'list', 'table', 'ip', t])).stdout;
    } catch {
      continue; // no such table in this namespace
    }
    let chain = '';
    for (const l of text.split('\n')) {
      const c = /^\s*chain (\S+) \{/.exec(l);
      if (c) {
        chain = c[1].replace(/^"|"$/g, '');
        out.set(`${t}:${chain}`, []);
        continue;
      }
      const h = /# handle (\d+)\s*$/.exec(l);
      if (h && chain && !/^\s*(type|policy) /.test(l) && !l.includes('nftrace set 1')) out.get(`${t}:${chain}`)?.push(Number(h[1]));
    }
  }
  return out;
}

/** Running listeners and what they recorded. */
export class Listeners {
  constructor(
    readonly records: ListenerRecord[],
    private readonly procs: ChildProcess[],
  ) {}

  /** Waits until no record has come for a while (the last connections are being logged). */
  async settle(quietMs = 250, maxMs = 3000): Promise<void> {
    const deadline = Date.now() + maxMs;
    let n = -1;
    while (Date.now() < deadline && n !== this.records.length) {
      n = this.records.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  /** Stops every listener (stdin closes; they exit). */
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.removeAllListeners('exit');
            c.on('exit', () => resolve());
            c.stdin?.end();
            setTimeout(() => c.kill('SIGTERM'), 2000).unref();
          }),
      ),
    );
  }
}

/** One rule-level event of `xtables-monitor --trace`. */
export interface KernelEvent {
  ns: string;
  table: string;
  chain: string;
  kind: 'rule' | 'return' | 'policy';
  /** For rules: the nftables handle, and the position in its chain (0-based) when known. */
  handle?: number;
  position?: number;
  /** ACCEPT, DROP, CONTINUE, JUMP, GOTO, RETURN (for policy: the policy). */
  verdict: string;
  /** The chain a JUMP/GOTO goes to. */
  target?: string;
  /** The rule as xtables-monitor prints it (`-4 -t filter -A INPUT …`). */
  text?: string;
}

/** Running `xtables-monitor --trace` processes, one per namespace. */
export class Monitors {
  constructor(
    private readonly mons: Map<string, { child: ChildProcess; lines: string[] }>,
    private readonly handles: Map<string, Map<string, number[]>>,
  ) {}

  /** Stops the monitors once their output has been quiet for a while. */
  async stop(quietMs = 250, maxMs = 3000): Promise<void> {
    const deadline = Date.now() + maxMs;
    const count = (): number => [...this.mons.values()].reduce((a, m) => a + m.lines.length, 0);
    let n = -1;
    while (Date.now() < deadline && n !== count()) {
      n = count();
      await new Promise((r) => setTimeout(r, quietMs));
    }
    await Promise.all(
      [...this.mons.values()].map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.child.exitCode !== null || m.child.signalCode !== null) return resolve();
            m.child.on('exit', () => resolve());
            m.child.kill('SIGTERM');
          }),
      ),
    );
  }

  /** Monitors that stopped on an error (ENOBUFS: events came faster than they were read). */
  failures(): string[] {
    const out: string[] = [];
    for (const [ns, m] of this.mons) for (const l of m.lines) if (l.startsWith('STDERR: ')) out.push(`${ns}: ${l.slice(8)}`);
    return out;
  }

  /** Every namespace's raw monitor output. */
  raw(): Map<string, string[]> {
    return new Map([...this.mons].map(([ns, m]) => [ns, m.lines]));
  }

  /**
   * The rule-level events of one probe's first packet in every namespace: the blocks whose PACKET
   * line has the probe's source port (forward direction; every probe has its own), only for the
   * first IP ID seen there (retransmissions are left out).
   */
  eventsOf(sport: number): KernelEvent[] {
    const out: KernelEvent[] = [];
    for (const [ns, m] of this.mons) out.push(...parseMonitor(ns, m.lines, sport, this.handles.get(ns)));
    return out;
  }
}

/** Parses one namespace's `xtables-monitor --trace` output for one source port. */
export function parseMonitor(ns: string, text: readonly string[], sport: number, handles?: Map<string, number[]>): KernelEvent[] {
  const out: KernelEvent[] = [];
  const wantIds = new Map<string, boolean>(); // trace id → belongs to the probe's first packet
  let firstIpId: string | undefined;
  for (const l of text) {
    const pk = /^PACKET: \d+ ([0-9a-f]+) (.*)$/.exec(l);
    if (pk) {
      const f = fields(pk[2]);
      const mine = f.SPORT === String(sport);
      if (mine && firstIpId === undefined) firstIpId = f.ID;
      wantIds.set(pk[1], mine && f.ID === firstIpId);
      continue;
    }
    const tr = /^\s*TRACE: \d+ ([0-9a-f]+) (\S+)(?:\s+(.*))?$/.exec(l);
    if (!tr || !wantIds.get(tr[1])) continue;
    const parts = tr[2].split(':');
    const [table, chain, kind] = parts;
    const text = tr[3]?.trim();
    if (kind === 'rule') {
      if (text?.includes(TRACE_COMMENT)) continue;
      const handle = parseInt(parts[3], 16);
      let verdict = parts[4] ?? '';
      if (verdict === '0xfffffffb') verdict = 'RETURN';
      const list = handles?.get(`${table}:${chain}`);
      const pos = list ? list.indexOf(handle) : -1;
      out.push({ ns, table, chain, kind: 'rule', handle, position: pos >= 0 ? pos : undefined, verdict, target: parts[5], text });
    } else if (kind === 'policy') {
      out.push({ ns, table, chain, kind: 'policy', verdict: parts[3] ?? '' });
    } else if (kind === 'return') {
      out.push({ ns, table, chain, kind: 'return', verdict: 'RETURN' });
    }
  }
  return out;
}

/** `KEY=value` fields of a PACKET line. */
function fields(s: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const t of s.split(/\s+/)) {
    const i = t.indexOf('=');
    if (i > 0) o[t.slice(0, i)] = t.slice(i + 1);
  }
  return o;
}

// ====================================================================== the judge

/** `a:p`, or `a` without a port. */
function ap(a: string, p?: number): string {
  return p === undefined ? a : `${a}:${p}`;
}

/** How an outcome says the packet was refused: the REJECT's --reject-with, or `route-<type>`. */
export function rejectKind(o: Outcome): string | undefined {
  const m = /^rejected \(([^)]+)\)/.exec(o.reason);
  if (m) return m[1];
  const r = /^(unreachable|prohibit) route/.exec(o.reason);
  return r ? `route-${r[1]}` : undefined;
}

/**
 * What a client sees for a refusal (icmp_err_convert in net/ipv4/icmp.c; tcp_v4_err aborts a
 * SYN_SENT socket on any of them; udp_err reports only the "fatal" ones without IP_RECVERR; a
 * local unreachable/prohibit route fails connect() with EHOSTUNREACH/EACCES, ip_route_output).
 */
export function expectedRefusal(kind: string | undefined, proto: 'tcp' | 'udp', local: boolean): string[] {
  const tcp: Record<string, string[]> = {
    'tcp-reset': ['ECONNREFUSED'],
    'tcp-rst': ['ECONNREFUSED'],
    'icmp-port-unreachable': ['ECONNREFUSED'],
    'icmp-host-unreachable': ['EHOSTUNREACH'],
    'icmp-host-prohibited': ['EHOSTUNREACH'],
    'icmp-admin-prohibited': ['EHOSTUNREACH'],
    'icmp-net-unreachable': ['ENETUNREACH'],
    'icmp-net-prohibited': ['ENETUNREACH'],
    'icmp-proto-unreachable': ['ENOPROTOOPT'],
    'route-unreachable': ['EHOSTUNREACH'],
    'route-prohibit': [local ? 'EACCES' : 'EHOSTUNREACH'],
  };
  const udp: Record<string, string[]> = {
    'icmp-port-unreachable': ['ECONNREFUSED'],
    'icmp-proto-unreachable': ['ENOPROTOOPT'],
    'icmp-host-prohibited': ['EHOSTUNREACH'],
    'icmp-admin-prohibited': ['EHOSTUNREACH'],
    'icmp-net-prohibited': ['ENETUNREACH'],
    // Host and net unreachable are not "fatal" for UDP: the socket hears nothing.
    'icmp-host-unreachable': ['timeout'],
    'icmp-net-unreachable': ['timeout'],
    'route-unreachable': [local ? 'EHOSTUNREACH' : 'timeout'],
    'route-prohibit': [local ? 'EACCES' : 'EHOSTUNREACH'],
  };
  const all = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOPROTOOPT', 'EACCES', ...(proto === 'udp' ? ['timeout'] : [])];
  const want = (kind ? (proto === 'tcp' ? tcp : udp)[kind] : undefined) ?? all;
  // A REJECT in the sender's own OUTPUT drops the datagram there (NF_DROP): sendmsg() fails with
  // EPERM before the ICMP error it also sends can be read (ip_local_out → udp_send_skb).
  return local && proto === 'udp' && kind !== undefined && !kind.startsWith('route-') ? ['EPERM', ...want] : want;
}

/** The client's result as one word (`connected`, `reply`, `timeout` or the errno). */
export function clientWord(k: KernelAnswer): string {
  return k.client.result === 'error' ? k.client.errno ?? 'error' : k.client.result;
}

/** The kernel's answer in one line. */
export function describeKernel(k: KernelAnswer): string {
  const recs = k.records.map((r) => `${r.proto} listener in ${r.ns} got it at ${r.local} from ${r.peer}${r.halfOpen ? ' (SYN-RECV: the handshake did not complete)' : ''}`);
  const after = k.client.afterConnect ? ` (then ${k.client.afterConnect})` : '';
  return `client: ${clientWord(k)}${after} after ${k.client.ms} ms; ${recs.length ? recs.join('; ') : 'no listener got it'}`;
}

/** Why one outcome does not fit what the kernel did, or undefined when it does. */
export function outcomeMismatch(o: Outcome, probe: ProbeSpec, srcNs: string, k: KernelAnswer): string | undefined {
  const rec = k.records[0];
  const word = clientWord(k);
  const f = o.final;
  const local = f.namespace === srcNs;
  switch (o.verdict) {
    case 'delivered': {
      if (f.namespace === '(outside)') return `meshtrace says it left the lab (${o.reason}); ${describeKernel(k)}`;
      const replyOk = o.reply?.verdict === 'delivered';
      if (!rec) {
        // A SYN-ACK refused on its way back (RST or ICMP to the server) ends the server's
        // SYN-RECV entry too: then nothing shows the SYN arrived.
        if (probe.proto === 'tcp' && o.reply?.verdict === 'rejected' && word !== 'connected') return undefined;
        return `meshtrace delivers it in ${f.namespace} at ${ap(f.dst, f.dport)} from ${ap(f.src, f.sport)}, but no listener got it (client: ${word}; no SYN-RECV entry either)`;
      }
      const diffs: string[] = [];
      if (k.records.length > 1) diffs.push(`the kernel delivered it ${k.records.length} times`);
      if (rec.ns !== f.namespace) diffs.push(`namespace: kernel ${rec.ns}, meshtrace ${f.namespace}`);
      if (rec.local !== ap(f.dst, f.dport)) diffs.push(`address:port the socket sees as local: kernel ${rec.local}, meshtrace ${ap(f.dst, f.dport)}`);
      if (rec.peer !== ap(f.src, f.sport)) diffs.push(`peer address:port: kernel ${rec.peer}, meshtrace ${ap(f.src, f.sport)}`);
      if (diffs.length) return diffs.join('; ');
      // A connected client got the SYN-ACK; a SYN-RECV entry then only says the third packet was
      // lost, which the simulator does not follow.
      const gotReply = probe.proto === 'tcp' ? word === 'connected' : word === 'reply';
      if (gotReply !== replyOk) {
        return `the reply: kernel ${gotReply ? 'reached the client' : `did not reach the client (client: ${word})`}; meshtrace says the reply is ${o.reply ? `${o.reply.verdict} (${o.reply.reason})` : 'not traced'}`;
      }
      return undefined;
    }
    case 'dropped': {
      if (rec) return `meshtrace says dropped (${o.reason}), but ${rec.proto} listener in ${rec.ns} got it at ${rec.local} from ${rec.peer}`;
      const ok = ['timeout', ...(local ? ['EINVAL', 'EPERM'] : [])];
      return ok.includes(word) ? undefined : `meshtrace says dropped (${o.reason}), so the client should see ${ok.join(' or ')}; it saw ${word}`;
    }
    case 'rejected': {
      if (rec) return `meshtrace says rejected (${o.reason}), but ${rec.proto} listener in ${rec.ns} got it at ${rec.local} from ${rec.peer}`;
      // The refusal (ICMP error or RST) is a packet of its own; when meshtrace traces it (`reply`)
      // and it does not get back, the sender hears nothing.
      if (o.reply && o.reply.verdict !== 'delivered') {
        return word === 'timeout' ? undefined : `meshtrace says rejected (${o.reason}) and that the answer does not reach the sender (${o.reply.reason}), so the client should see a timeout; it saw ${word}`;
      }
      const want = expectedRefusal(rejectKind(o), probe.proto, local);
      return want.includes(word) ? undefined : `meshtrace says rejected (${o.reason}), so the client should see ${want.join(' or ')}; it saw ${word}`;
    }
    case 'no-route': {
      if (rec) return `meshtrace says no route (${o.reason}), but ${rec.proto} listener in ${rec.ns} got it at ${rec.local} from ${rec.peer}`;
      const want = probe.proto === 'udp' && !local ? ['timeout'] : ['ENETUNREACH'];
      return want.includes(word) ? undefined : `meshtrace says no route (${o.reason}), so the client should see ${want.join(' or ')}; it saw ${word}`;
    }
  }
  return `unknown verdict ${String(o.verdict)}`;
}

/** The judge's answer for one probe. */
export interface Judgement {
  ok: boolean;
  /** The outcomes that fit what the kernel did. */
  matched: Outcome[];
  /** Why each outcome does not fit (when none does), and probability problems. */
  problems: string[];
}

/**
 * Compares a trace with the kernel: some outcome must fit (for `-m statistic` splits the kernel
 * took one branch, which must be one of the outcomes) and the probabilities must add up to 1.
 */
export function judge(t: Trace, probe: ProbeSpec, srcNs: string, k: KernelAnswer): Judgement {
  const problems: string[] = [];
  if (t.outcomes.length === 0) return { ok: false, matched: [], problems: [`meshtrace gave no outcome${t.warnings.length ? ` (${t.warnings.join('; ')})` : ''}`] };
  const sum = t.outcomes.reduce((a, o) => a + o.probability, 0);
  if (Math.abs(sum - 1) > 1e-6) problems.push(`the outcomes' probabilities add up to ${sum}, not 1`);
  for (const o of t.outcomes) if (!(o.probability > 0 && o.probability <= 1)) problems.push(`an outcome has probability ${o.probability}`);
  const matched: Outcome[] = [];
  t.outcomes.forEach((o, i) => {
    const why = outcomeMismatch(o, probe, srcNs, k);
    if (why === undefined) matched.push(o);
    else problems.push(`outcome ${i + 1} (${o.verdict}, p=${o.probability}): ${why}`);
  });
  if (matched.length === 0) problems.unshift(`no outcome of meshtrace fits what the kernel did (${describeKernel(k)})`);
  const ok = matched.length > 0 && !problems.some((p) => p.startsWith('the outcomes') || p.startsWith('an outcome has'));
  return { ok, matched, problems: ok ? [] : problems };
}

/** The kernel verdict a meshtrace netfilter step stands for (xtables-monitor's words), or undefined when it prints none. */
export function kernelVerdictOf(action: string): { verdict: string; target?: string } | undefined {
  if (action === 'ACCEPT' || action === 'DROP') return { verdict: action };
  if (action.startsWith('REJECT')) return { verdict: 'DROP' };
  const j = /^(jump|goto) (\S+)$/.exec(action);
  if (j) return { verdict: j[1] === 'jump' ? 'JUMP' : 'GOTO', target: j[2] };
  if (action.startsWith('RETURN')) return { verdict: 'RETURN' };
  if (['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT'].includes(action)) return { verdict: 'ACCEPT' };
  if (/^(MARK|CONNMARK|LOG|NFLOG|NOTRACK|CT|TRACE|TCPMSS|matched \(no target)/.test(action)) return { verdict: 'CONTINUE' };
  return undefined;
}

/** A model rule by the dump line a step names. */
function ruleAt(model: Model, node: string, ns: string, file: string, line: number): Rule | undefined {
  const n = model.namespaces.find((x) => x.node === node && x.name === ns);
  for (const t of n?.iptables?.tables ?? []) for (const c of t.chains) for (const r of c.rules) if (r.source.file === file && r.source.line === line) return r;
  return undefined;
}

/** A rule's text without counters, for comparing with xtables-monitor's. */
function ruleText(s: string): string {
  return s.replace(/^\[\d+:\d+\]\s+/, '').replace(/^-4 -t \S+ /, '').replace(/\s+/g, ' ').trim();
}

/**
 * Compares the rule-level steps of a matched outcome with what `xtables-monitor --trace` saw:
 * every netfilter step that names a rule must be a rule the kernel traversed with the same
 * verdict at the same table, chain and position; every policy step a policy the kernel applied;
 * and every rule the kernel traversed must be a step of the outcome.
 */
export function compareSteps(model: Model, steps: readonly Step[], events: readonly KernelEvent[]): string[] {
  const problems: string[] = [];
  const seen = new Set<KernelEvent>();
  const where = (e: KernelEvent): string => `${e.ns} ${e.table}:${e.chain}${e.kind === 'rule' ? ` rule #${e.position ?? `handle ${e.handle}`}${e.text ? ` (${ruleText(e.text)})` : ''}` : ` ${e.kind}`} → ${e.verdict}${e.target ? ` ${e.target}` : ''}`;
  for (const s of steps) {
    if (s.kind === 'policy' && s.table && s.chain && s.action.startsWith('policy ')) {
      const want = s.action.slice('policy '.length);
      const e = events.find((x) => !seen.has(x) && x.kind === 'policy' && x.ns === s.namespace && x.table === s.table && x.chain === s.chain);
      if (!e) problems.push(`meshtrace: ${s.namespace} ${s.table}:${s.chain} policy ${want}; the kernel applied no policy there`);
      else {
        seen.add(e);
        if (e.verdict !== want) problems.push(`meshtrace: ${s.namespace} ${s.table}:${s.chain} policy ${want}; kernel: policy ${e.verdict}`);
      }
      continue;
    }
    if (s.kind !== 'netfilter' || !s.rule || !s.table || !s.chain) continue;
    const want = kernelVerdictOf(s.action);
    if (!want) continue;
    const r = ruleAt(model, s.node, s.namespace, s.rule.file, s.rule.line);
    const pos = r?.index;
    const sameRule = (x: KernelEvent): boolean =>
      x.kind === 'rule' && x.ns === s.namespace && x.table === s.table && x.chain === s.chain && (x.position !== undefined && pos !== undefined ? x.position === pos : ruleText(x.text ?? '') === ruleText(s.rule?.text ?? ''));
    const label = `${s.namespace} ${s.table}:${s.chain} rule #${pos ?? '?'} (${s.rule.file}:${s.rule.line}: ${ruleText(s.rule.text)}) → ${s.action}`;
    const e = events.find((x) => !seen.has(x) && sameRule(x) && x.verdict === want.verdict && (want.target === undefined || x.target === want.target));
    if (e) {
      seen.add(e);
      continue;
    }
    const other = events.find((x) => !seen.has(x) && sameRule(x));
    if (other) {
      seen.add(other);
      problems.push(`meshtrace: ${label}; kernel: that rule → ${other.verdict}${other.target ? ` ${other.target}` : ''}`);
    } else {
      problems.push(`meshtrace: ${label}; the kernel did not traverse that rule`);
    }
  }
  for (const e of events) {
    if (seen.has(e) || e.kind !== 'rule') continue;
    problems.push(`kernel: ${where(e)}; meshtrace has no such step`);
  }
  return problems;
}

/**
 * The namespaces and source addresses whose ICMP errors `ip_error` would send for this trace: a
 * router answering from an unreachable/prohibit route or without a route. ip_error (net/ipv4/
 * route.c) rate-limits those per source address, 5 at once then one a second
 * (net.ipv4.route.error_burst/error_cost, not per namespace), so a lab must not ask for more.
 */
export function routeErrorKeys(t: Trace, srcNs: string): string[] {
  const keys = new Set<string>();
  for (const o of t.outcomes) {
    const routeRefusal = (o.verdict === 'rejected' && /^(unreachable|prohibit) route/.test(o.reason)) || o.verdict === 'no-route';
    if (routeRefusal && o.final.namespace !== srcNs) keys.add(`${o.final.namespace}|${o.final.src}`);
  }
  return [...keys];
}

/** How many route errors per source address a wave may ask a router for (ip_error's burst is 5). */
export const ROUTE_ERRORS_PER_WAVE = 4;

/**
 * Splits the probes into waves: the first holds every probe that makes no router send a route
 * error plus as many that do as ip_error's burst allows; later waves hold the rest.
 */
export function scheduleProbes(probes: readonly ProbeSpec[], keysOf: (p: ProbeSpec) => string[], perWave = ROUTE_ERRORS_PER_WAVE): ProbeSpec[][] {
  const waves: { probes: ProbeSpec[]; count: Map<string, number> }[] = [];
  for (const p of probes) {
    const keys = keysOf(p);
    let w = waves.find((x) => keys.every((k) => (x.count.get(k) ?? 0) < perWave));
    if (!w) {
      w = { probes: [], count: new Map() };
      waves.push(w);
    }
    w.probes.push(p);
    for (const k of keys) w.count.set(k, (w.count.get(k) ?? 0) + 1);
  }
  return waves.map((w) => w.probes);
}

/** Socket states that only a connection whose handshake completed can be in. */
export const AFTER_HANDSHAKE = new Set(['ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSING']);
