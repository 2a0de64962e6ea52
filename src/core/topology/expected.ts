/**
 * What libnetwork programs on each node, generated from the swarm facts
 * (../shared/docs/docker-network-semantics.md §2–§6; moby daemon/libnetwork/service_linux.go
 * `programIngressPorts`, `configureFWMark`, `addRedirectRules`, `addLBBackend`; drivers/bridge for
 * the bridge rules). Rules are produced as iptables-save lines, so the synthesiser writes them as
 * they are and the doctor parses them to compare with the capture. Plain data, no I/O.
 */
import type { TableName } from '../model/netfilter';
import type { NamespaceRole } from '../model/model';
import type { DockerFamily, SwarmFacts, SwarmNetwork, SwarmNode, SwarmPort, SwarmService, SwarmTask } from './facts';
import { ingressOf } from './facts';

/** What a generated rule is for; findings are typed by it. */
export type ExpectKind =
  | 'ingress-jump'
  | 'ingress-dnat'
  | 'ingress-accept'
  | 'ingress-return'
  | 'gw-masquerade'
  | 'sbox-mark'
  | 'ipvs-snat'
  | 'vip-mark'
  | 'task-redirect'
  | 'task-accept'
  | 'task-drop'
  | 'bridge'
  | 'dns';

/** One rule Docker writes, as iptables-save prints it. */
export interface ExpectedRule {
  table: TableName;
  chain: string;
  /** The `-A CHAIN …` line. */
  text: string;
  kind: ExpectKind;
  /** False for rules whose details are not fixed (embedded-DNS ports, bridge layout): written, not diffed. */
  compare: boolean;
  why: string;
  service?: string;
  port?: SwarmPort;
}

/** A chain declaration. */
export interface ExpectedChain {
  table: TableName;
  name: string;
  policy?: 'ACCEPT' | 'DROP';
}

/** An IPVS fwmark service with its real servers. */
export interface ExpectedIpvs {
  fwmark: number;
  scheduler: 'rr';
  service: string;
  networkId: string;
  dests: { addr: string; forward: 'Masq' | 'Route'; weight: number; task: string }[];
  why: string;
}

/** An address Docker puts on an interface. */
export interface ExpectedAddr {
  iface: string;
  addr: string;
  prefixLen: number;
  kind: 'vip' | 'endpoint';
  service?: string;
  why: string;
}

/** A static neighbour + FDB pair Docker programs for a remote endpoint (drivers/overlay/peerdb.go). */
export interface ExpectedFdb {
  networkId: string;
  ip: string;
  mac: string;
  /** The VTEP: the remote node's data-path address. */
  dst: string;
  dstNode: string;
  /** The task or LB endpoint behind it. */
  owner: string;
}

/** A sysctl Docker sets (or needs). */
export interface ExpectedSysctl {
  key: string;
  value: string;
  kind: 'ip-forward' | 'bridge-nf' | 'route-localnet' | 'vs-conntrack' | 'vs-tweak';
  why: string;
}

/** Everything expected in one namespace. */
export interface ExpectedNamespace {
  node: string;
  /** The namespace folder name (`host`, `ingress_sbox`, `lb_<id>`, `1-<id>`, a task folder). */
  name: string;
  role: NamespaceRole;
  networkId?: string;
  task?: string;
  chains: ExpectedChain[];
  rules: ExpectedRule[];
  ipvs: ExpectedIpvs[];
  addrs: ExpectedAddr[];
  fdb: ExpectedFdb[];
  sysctls: ExpectedSysctl[];
}

/** Everything expected on one node. */
export interface ExpectedNode {
  node: string;
  family: DockerFamily;
  familyWhy: string;
  namespaces: ExpectedNamespace[];
}

/** Options of the generator. */
export interface ExpectOptions {
  /** Namespace folder of a task (default: the captured one, else `<svc>.<slot>.<id[:12]>`). */
  taskNamespace?: (t: SwarmTask) => string;
  /** Embedded-DNS ports of a namespace (default: derived from its name). */
  dnsPorts?: (node: string, ns: string) => { tcp: number; udp: number };
}

/** `lb_` + the first 9 characters of the network id (osl GenerateKey keeps 12). */
export function lbNamespaceName(networkId: string): string {
  return `lb_${networkId.slice(0, 9)}`;
}

/** `1-` + the first 10 characters of the network id (ov_network.go initSandbox, epoch 1). */
export function overlayNamespaceName(networkId: string): string {
  return `1-${networkId.slice(0, 10)}`;
}

/** A task's folder name: `web.1.udlzvsraha1x` (task id cut to 12, as in the sample captures). */
export function taskFolderName(taskName: string): string {
  const parts = taskName.split('.');
  if (parts.length < 3) return taskName;
  return `${parts[0]}.${parts[1]}.${parts.slice(2).join('.').slice(0, 12)}`;
}

/** Docker's overlay MAC for an IPv4 address (02:42 + the address's bytes). */
export function macOfIp(ip: string): string {
  // Memoised: a pure function of `ip` (a swarm's nodes each list every remote endpoint).
  let m = macMemo.get(ip);
  if (m === undefined) {
    if (macMemo.size >= 100_000) macMemo.clear();
    macMemo.set(ip, (m = computeMac(ip)));
  }
  return m;
}

const macMemo = new Map<string, string>();

function computeMac(ip: string): string {
  return ['02', '42', ...ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0'))].join(':');
}

/** A small stable hash of a string (FNV-1a), for deterministic names and ports. */
export function stableHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hexMark(m: number): string {
  return `0x${m.toString(16)}/0xffffffff`;
}

function netOf(ip: string, prefixLen: number): string {
  const n = ip.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
  const mask = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  const v = (n & mask) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The published ingress ports of the swarm, in the order Docker programs them (service order, port order). */
export function ingressPorts(f: SwarmFacts): { svc: SwarmService; port: SwarmPort }[] {
  const seen = new Set<string>();
  const out: { svc: SwarmService; port: SwarmPort }[] = [];
  for (const svc of f.services) {
    for (const port of svc.ports) {
      if (port.mode !== 'ingress') continue;
      // filterPortConfigs reference-counts port configs: one set of rules per port.
      const k = `${port.proto}/${port.published}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ svc, port });
    }
  }
  return out;
}

/** The fwmark of a service's load balancer on a network, as the node programs it, when known. */
export function expectedMark(f: SwarmFacts, svc: SwarmService, networkId: string, node: string): number | undefined {
  return svc.marks[node]?.[networkId];
}

class NsBuilder {
  readonly ns: ExpectedNamespace;
  constructor(node: string, name: string, role: NamespaceRole, extra: Partial<ExpectedNamespace> = {}) {
    this.ns = { node, name, role, chains: [], rules: [], ipvs: [], addrs: [], fdb: [], sysctls: [], ...extra };
  }
  chain(table: TableName, name: string, policy?: 'ACCEPT' | 'DROP'): void {
    if (!this.ns.chains.some((c) => c.table === table && c.name === name)) this.ns.chains.push({ table, name, policy });
  }
  /** Per `table|chain`: its first rule in `ns.rules` and a hint of that rule's index. */
  private readonly first = new Map<string, { r: ExpectedRule; at: number }>();
  rule(table: TableName, chain: string, spec: string, kind: ExpectKind, why: string, extra?: Partial<ExpectedRule>): void {
    this.ruleText(table, chain, `-A ${chain} ${spec}`, kind, why, extra);
  }
  /** {@link rule} with the whole `-A CHAIN …` line given. */
  ruleText(table: TableName, chain: string, text: string, kind: ExpectKind, why: string, extra?: Partial<ExpectedRule>): void {
    const r: ExpectedRule = { table, chain, text, kind, compare: kind !== 'bridge' && kind !== 'dns', why };
    // What `{ ...r, ...extra }` gives (own enumerable keys, in order, overriding), without the spread's slow path.
    if (extra) for (const key in extra) (r as unknown as Record<string, unknown>)[key] = (extra as Record<string, unknown>)[key];
    // A chain with a rule in `first` was declared with that rule (every way in declares it).
    // Entries of `first` are never removed: the last chain found there is still there.
    if (table !== this.lastTable || chain !== this.lastChain) {
      const k = `${table}|${chain}`;
      if (!this.first.has(k)) {
        this.chain(table, chain);
        this.first.set(k, { r, at: this.ns.rules.length });
      }
      this.lastTable = table;
      this.lastChain = chain;
    }
    this.ns.rules.push(r);
  }
  /** The table and chain of the last ruleText call: `first` has it. */
  private lastTable = '';
  private lastChain = '';
  /** Inserts at the top of the chain (`iptables -I`). */
  insert(table: TableName, chain: string, spec: string, kind: ExpectKind, why: string, extra: Partial<ExpectedRule> = {}): void {
    this.chain(table, chain);
    const r: ExpectedRule = { table, chain, text: `-A ${chain} ${spec}`, kind, compare: kind !== 'bridge' && kind !== 'dns', why, ...extra };
    const k = `${table}|${chain}`;
    const f = this.first.get(k);
    // The index of the chain's first rule: the hint, unless inserts into earlier chains moved it.
    const i = !f ? -1 : this.ns.rules[f.at] === f.r ? f.at : this.ns.rules.indexOf(f.r);
    if (i < 0) {
      this.first.set(k, { r, at: this.ns.rules.length });
      this.ns.rules.push(r);
    } else {
      this.first.set(k, { r, at: i });
      this.ns.rules.splice(i, 0, r);
    }
  }
  /**
   * Inserts `rules` (all of `table`/`chain`) at the top of the chain one after the other, as that
   * many {@link insert} calls would: the last one ends up first. One splice instead of one per
   * rule (a node publishing 1,000 ports inserts 3,000 rules into DOCKER-INGRESS).
   */
  insertAll(table: TableName, chain: string, rules: ExpectedRule[]): void {
    if (rules.length === 0) return;
    this.chain(table, chain);
    const k = `${table}|${chain}`;
    const f = this.first.get(k);
    const i = !f ? -1 : this.ns.rules[f.at] === f.r ? f.at : this.ns.rules.indexOf(f.r);
    // Without a rule of the chain yet, the first insert appends and the others go above it.
    const at = i < 0 ? this.ns.rules.length : i;
    const rs = this.ns.rules;
    const tail = rs.splice(at);
    for (let j = rules.length - 1; j >= 0; j--) rs.push(rules[j]);
    for (const r of tail) rs.push(r);
    this.first.set(k, { r: rules[rules.length - 1], at });
  }
  sysctl(key: string, value: string, kind: ExpectedSysctl['kind'], why: string): void {
    this.ns.sysctls.push({ key, value, kind, why });
  }
}

const BUILTINS: Record<'raw' | 'mangle' | 'nat' | 'filter', string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

function builtins(b: NsBuilder, table: 'raw' | 'mangle' | 'nat' | 'filter', forwardPolicy: 'ACCEPT' | 'DROP' = 'ACCEPT'): void {
  for (const c of BUILTINS[table]) b.chain(table, c, table === 'filter' && c === 'FORWARD' ? forwardPolicy : 'ACCEPT');
}

/** Embedded-DNS rules (sandbox_dns_unix.go setupResolutionFiles → resolver rules), in every sandbox. */
function dnsRules(b: NsBuilder, ports: { tcp: number; udp: number }): void {
  builtins(b, 'nat');
  const why = 'embedded DNS at 127.0.0.11 (libnetwork resolver_unix.go setupIPTable)';
  b.rule('nat', 'OUTPUT', '-d 127.0.0.11/32 -j DOCKER_OUTPUT', 'dns', why);
  b.rule('nat', 'POSTROUTING', '-d 127.0.0.11/32 -j DOCKER_POSTROUTING', 'dns', why);
  b.rule('nat', 'DOCKER_OUTPUT', `-d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:${ports.tcp}`, 'dns', why);
  b.rule('nat', 'DOCKER_OUTPUT', `-d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:${ports.udp}`, 'dns', why);
  b.rule('nat', 'DOCKER_POSTROUTING', `-s 127.0.0.11/32 -p tcp -m tcp --sport ${ports.tcp} -j SNAT --to-source :53`, 'dns', why);
  b.rule('nat', 'DOCKER_POSTROUTING', `-s 127.0.0.11/32 -p udp -m udp --sport ${ports.udp} -j SNAT --to-source :53`, 'dns', why);
}

function defaultDnsPorts(node: string, ns: string): { tcp: number; udp: number } {
  const h = stableHash(`${node}/${ns}`);
  return { tcp: 32768 + (h % 28000), udp: 32768 + ((h >>> 15) % 28000) };
}

/**
 * What the nodes of one {@link expectedState} call share: the per-port rules, generated once and
 * copied per node. Equal rules of different nodes then hold the same strings, which the doctor
 * hashes once. Each memo is keyed on every input of what it holds (said at each).
 */
interface Shared {
  /** ingressPorts(f): depends on f only, and f is fixed for the call. */
  ports: { svc: SwarmService; port: SwarmPort }[];
  /**
   * The DOCKER-INGRESS rules of the published ports, in insertion order, by `gw` and whether the
   * family is legacy: the only per-node inputs of those rules (the ports are the call's).
   */
  ingress: Map<string, { nat: ExpectedRule[]; filter: ExpectedRule[] }>;
  /** ingress_sbox MARK rules (`-A PREROUTING …` line, why) by service (its name), port (proto, published) and mark. */
  marks: Map<SwarmService, Map<SwarmPort, Map<number, { text: string; why: string }>>>;
}

function sharedOf(f: SwarmFacts): Shared {
  return { ports: ingressPorts(f), ingress: new Map(), marks: new Map() };
}

/** The DOCKER-INGRESS rules (nat DNAT, filter accepts) of the published ports, in the order programIngressPorts inserts them. */
function ingressRules(sh: Shared, gw: string, legacy: boolean): { nat: ExpectedRule[]; filter: ExpectedRule[] } {
  const k = `${gw}|${legacy}`;
  let hit = sh.ingress.get(k);
  if (hit) return hit;
  const mkRule = (table: TableName, spec: string, kind: ExpectKind, why: string, extra: Partial<ExpectedRule>): ExpectedRule => ({ table, chain: 'DOCKER-INGRESS', text: `-A DOCKER-INGRESS ${spec}`, kind, compare: kind !== 'bridge' && kind !== 'dns', why, ...extra });
  const nat: ExpectedRule[] = [];
  const filter: ExpectedRule[] = [];
  for (const { svc, port } of sh.ports) {
    nat.push(mkRule('nat', `-p ${port.proto} -m ${port.proto} --dport ${port.published} -j DNAT --to-destination ${gw}:${port.published}`, 'ingress-dnat', `published port ${port.published}/${port.proto} of service ${svc.name}: DNAT to ingress_sbox (${gw}) keeping the port (service_linux.go programIngressPorts)`, { service: svc.name, port }));
    // programIngressPorts inserts the sport rule, then the dport rule above it.
    const est = legacy
      ? `-p ${port.proto} -m state --state RELATED,ESTABLISHED -m ${port.proto} --sport ${port.published} -j ACCEPT`
      : `-p ${port.proto} -m ${port.proto} --sport ${port.published} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`;
    filter.push(mkRule('filter', est, 'ingress-accept', `replies from published port ${port.published}/${port.proto} (service ${svc.name}) must be let back out through FORWARD`, { service: svc.name, port }));
    filter.push(mkRule('filter', `-p ${port.proto} -m ${port.proto} --dport ${port.published} -j ACCEPT`, 'ingress-accept', `new connections to published port ${port.published}/${port.proto} (service ${svc.name}) must be forwarded to ingress_sbox; FORWARD's policy is DROP`, { service: svc.name, port }));
  }
  hit = { nat, filter };
  sh.ingress.set(k, hit);
  return hit;
}

/**
 * `{ ...r }` of a rule made by ingressRules: it has exactly these keys, in this order (mkRule
 * there, with `service` and `port` always given), so the literal is the same object, made faster.
 */
function copyIngressRule(r: ExpectedRule): ExpectedRule {
  return { table: r.table, chain: r.chain, text: r.text, kind: r.kind, compare: r.compare, why: r.why, service: r.service, port: r.port };
}

/** The host namespace of a node. */
function hostNs(f: SwarmFacts, node: SwarmNode, tasksHere: SwarmTask[], sh: Shared = sharedOf(f)): ExpectedNamespace {
  const b = new NsBuilder(node.name, 'host', 'host');
  const fam = node.family;
  const gw = node.gwIp ?? '172.18.0.2';
  const gwSub = node.gwSubnet ?? { addr: '172.18.0.0', prefixLen: 16 };
  const legacy = fam === 'legacy';
  // Each node gets its own rule objects (plain data a caller may change); the strings are shared.
  const ing = ingressRules(sh, gw, legacy);
  if (fam === 'iptabler') {
    builtins(b, 'raw');
    for (const ip of [gw, ...tasksHere.map((t) => t.ips['docker_gwbridge']).filter((x): x is string => !!x)]) {
      b.rule('raw', 'PREROUTING', `-d ${ip}/32 ! -i docker_gwbridge -j DROP`, 'bridge', 'direct-routing protection for a container on docker_gwbridge (Docker 28+, iptabler/network.go)');
    }
  }
  // nat
  builtins(b, 'nat');
  b.chain('nat', 'DOCKER');
  b.chain('nat', 'DOCKER-INGRESS');
  const why2 = 'service_linux.go initIngressConfiguration: EnsureJumpRule inserts the jump at the top';
  b.rule('nat', 'PREROUTING', '-m addrtype --dst-type LOCAL -j DOCKER-INGRESS', 'ingress-jump', `nat PREROUTING must send local-destination packets to DOCKER-INGRESS (${why2})`);
  b.rule('nat', 'PREROUTING', '-m addrtype --dst-type LOCAL -j DOCKER', 'bridge', 'bridge driver');
  b.rule('nat', 'OUTPUT', '-m addrtype --dst-type LOCAL -j DOCKER-INGRESS', 'ingress-jump', `nat OUTPUT must send local-destination packets to DOCKER-INGRESS, for \`curl localhost:<port>\` on the node (${why2})`);
  b.rule('nat', 'OUTPUT', fam === 'iptabler' ? '-m addrtype --dst-type LOCAL -j DOCKER' : '! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER', 'bridge', 'bridge driver');
  b.rule('nat', 'POSTROUTING', '-o docker_gwbridge -m addrtype --src-type LOCAL -j MASQUERADE', 'gw-masquerade', 'service_linux.go initIngressConfiguration: locally generated connections to a published port (via route_localnet) are masqueraded onto docker_gwbridge');
  if (fam === 'iptabler') {
    b.rule('nat', 'POSTROUTING', `-s ${gwSub.addr}/${gwSub.prefixLen} ! -o docker_gwbridge -j MASQUERADE`, 'bridge', 'bridge driver: docker_gwbridge egress');
    b.rule('nat', 'POSTROUTING', '-o docker0 -m addrtype --src-type LOCAL -j MASQUERADE', 'bridge', 'bridge driver: hairpin');
    b.rule('nat', 'POSTROUTING', '-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE', 'bridge', 'bridge driver: docker0 egress');
  } else {
    b.rule('nat', 'POSTROUTING', '-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE', 'bridge', 'bridge driver: docker0 egress');
    b.rule('nat', 'POSTROUTING', `-s ${gwSub.addr}/${gwSub.prefixLen} ! -o docker_gwbridge -j MASQUERADE`, 'bridge', 'bridge driver: docker_gwbridge egress');
    b.rule('nat', 'DOCKER', '-i docker0 -j RETURN', 'bridge', 'bridge driver');
    b.rule('nat', 'DOCKER', '-i docker_gwbridge -j RETURN', 'bridge', 'bridge driver');
  }
  b.rule('nat', 'DOCKER-INGRESS', '-j RETURN', 'ingress-return', 'initIngressConfiguration: AddReturnRule keeps RETURN last');
  b.insertAll('nat', 'DOCKER-INGRESS', ing.nat.map(copyIngressRule));
  // filter
  builtins(b, 'filter', legacy ? 'DROP' : 'DROP');
  for (const c of ['DOCKER', 'DOCKER-INGRESS', 'DOCKER-USER']) b.chain('filter', c);
  const br = (spec: string, chain = 'FORWARD'): void => b.rule('filter', chain, spec, 'bridge', 'bridge driver (docker-network-semantics.md §6)');
  if (legacy) {
    for (const c of ['DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2']) b.chain('filter', c);
    br('-j DOCKER-USER');
    b.rule('filter', 'FORWARD', '-j DOCKER-INGRESS', 'ingress-jump', 'Docker ≤ 28.0.0 jumps from FORWARD to DOCKER-INGRESS after DOCKER-USER (arrangeIngressFilterRule)');
    br('-j DOCKER-ISOLATION-STAGE-1');
    for (const [name, icc] of [['docker0', true], ['docker_gwbridge', false]] as const) {
      br(`-o ${name} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      br(`-o ${name} -j DOCKER`);
      br(`-i ${name} ! -o ${name} -j ACCEPT`);
      br(`-i ${name} -o ${name} -j ${icc ? 'ACCEPT' : 'DROP'}`);
    }
    for (const name of ['docker0', 'docker_gwbridge']) br(`-i ${name} ! -o ${name} -j DOCKER-ISOLATION-STAGE-2`, 'DOCKER-ISOLATION-STAGE-1');
    br('-j RETURN', 'DOCKER-ISOLATION-STAGE-1');
    for (const name of ['docker0', 'docker_gwbridge']) br(`-o ${name} -j DROP`, 'DOCKER-ISOLATION-STAGE-2');
    br('-j RETURN', 'DOCKER-ISOLATION-STAGE-2');
    br('-j RETURN', 'DOCKER-USER');
  } else {
    for (const c of ['DOCKER-BRIDGE', 'DOCKER-CT', 'DOCKER-FORWARD']) b.chain('filter', c);
    if (fam === 'iptabler') b.chain('filter', 'DOCKER-INTERNAL');
    else for (const c of ['DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2']) b.chain('filter', c);
    br('-j DOCKER-USER');
    br('-j DOCKER-FORWARD');
    b.rule('filter', 'DOCKER-FORWARD', '-j DOCKER-INGRESS', 'ingress-jump', 'Docker 28.0.1+ puts `-j DOCKER-INGRESS` first in DOCKER-FORWARD (initIngressConfiguration)');
    br('-j DOCKER-CT', 'DOCKER-FORWARD');
    if (fam === 'iptabler') br('-j DOCKER-INTERNAL', 'DOCKER-FORWARD');
    else br('-j DOCKER-ISOLATION-STAGE-1', 'DOCKER-FORWARD');
    br('-j DOCKER-BRIDGE', 'DOCKER-FORWARD');
    br('-i docker0 -j ACCEPT', 'DOCKER-FORWARD');
    br('-i docker_gwbridge -o docker_gwbridge -j DROP', 'DOCKER-FORWARD');
    br('-i docker_gwbridge ! -o docker_gwbridge -j ACCEPT', 'DOCKER-FORWARD');
    for (const name of ['docker0', 'docker_gwbridge']) {
      if (fam === 'iptabler') br(`! -i ${name} -o ${name} -j DROP`, 'DOCKER');
      br(`-o ${name} -j DOCKER`, 'DOCKER-BRIDGE');
      br(`-o ${name} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, 'DOCKER-CT');
    }
    if (fam !== 'iptabler') {
      for (const name of ['docker0', 'docker_gwbridge']) br(`-i ${name} ! -o ${name} -j DOCKER-ISOLATION-STAGE-2`, 'DOCKER-ISOLATION-STAGE-1');
      br('-j RETURN', 'DOCKER-ISOLATION-STAGE-1');
      for (const name of ['docker0', 'docker_gwbridge']) br(`-o ${name} -j DROP`, 'DOCKER-ISOLATION-STAGE-2');
      br('-j RETURN', 'DOCKER-ISOLATION-STAGE-2');
      br('-j RETURN', 'DOCKER-USER');
    }
  }
  b.rule('filter', 'DOCKER-INGRESS', '-j RETURN', 'ingress-return', 'initIngressConfiguration: AddReturnRule keeps RETURN last');
  b.insertAll('filter', 'DOCKER-INGRESS', ing.filter.map(copyIngressRule));
  b.sysctl('net.ipv4.ip_forward', '1', 'ip-forward', 'the host routes published-port traffic from its NIC to docker_gwbridge; Docker turns forwarding on (drivers/bridge/setup_ip_forwarding.go)');
  b.sysctl('net.bridge.bridge-nf-call-iptables', '1', 'bridge-nf', 'Docker needs br_netfilter so bridged container traffic passes iptables (icc=false on docker_gwbridge, DNAT between containers); `docker info` warns when it is off');
  b.sysctl('net.ipv4.conf.docker_gwbridge.route_localnet', '1', 'route-localnet', 'initIngressConfiguration writes route_localnet=1 on docker_gwbridge so `curl localhost:<published port>` on the node works');
  return b.ns;
}

/** ingress_sbox of a node. */
function ingressSbox(f: SwarmFacts, node: SwarmNode, ingress: SwarmNetwork, o: Required<ExpectOptions>, sh: Shared = sharedOf(f)): ExpectedNamespace {
  const b = new NsBuilder(node.name, 'ingress_sbox', 'ingress-sbox', { networkId: ingress.id });
  const eIp = ingress.lbIps[node.name];
  const sub = ingress.subnet;
  builtins(b, 'mangle');
  dnsRules(b, o.dnsPorts(node.name, 'ingress_sbox'));
  if (eIp && sub) b.ns.addrs.push({ iface: 'eth0', addr: eIp, prefixLen: sub.prefixLen, kind: 'endpoint', why: 'ingress_sbox\'s endpoint on the ingress network (ingress-endpoint)' });
  if (node.gwIp) b.ns.addrs.push({ iface: 'eth1', addr: node.gwIp, prefixLen: node.gwSubnet?.prefixLen ?? 16, kind: 'endpoint', why: 'ingress_sbox\'s gateway endpoint on docker_gwbridge: the host DNATs published ports here' });
  const lbSvcs = f.services.filter((s) => s.endpointMode === 'vip' && s.ports.some((p) => p.mode === 'ingress') && s.vips[ingress.id]);
  let snatDone = false;
  for (const svc of lbSvcs) {
    const mark = expectedMark(f, svc, ingress.id, node.name);
    const vip = svc.vips[ingress.id];
    b.ns.addrs.push({ iface: 'eth0', addr: vip, prefixLen: 32, kind: 'vip', service: svc.name, why: `service ${svc.name}'s ingress VIP as a /32 alias (addLBBackend → AddAliasIP)` });
    if (mark === undefined) continue;
    for (const port of svc.ports) {
      if (port.mode !== 'ingress') continue;
      // The texts read svc.name, port.proto, port.published and mark: the memo's keys (the facts do not change during the call).
      let byPort = sh.marks.get(svc);
      if (!byPort) sh.marks.set(svc, (byPort = new Map()));
      let byMark = byPort.get(port);
      if (!byMark) byPort.set(port, (byMark = new Map()));
      let t = byMark.get(mark);
      if (!t) byMark.set(mark, (t = { text: `-A PREROUTING -p ${port.proto} -m ${port.proto} --dport ${port.published} -j MARK --set-xmark ${hexMark(mark)}`, why: `published port ${port.published}/${port.proto} must be marked ${mark} (0x${mark.toString(16)}) so IPVS service FWM ${mark} of ${svc.name} takes it (configureFWMark)` }));
      b.ruleText('mangle', 'PREROUTING', t.text, 'sbox-mark', t.why, { service: svc.name, port });
    }
    if (!snatDone && ingress.lbMode === 'nat' && eIp && sub) {
      b.rule('nat', 'POSTROUTING', `-d ${netOf(eIp, sub.prefixLen)}/${sub.prefixLen} -m ipvs --ipvs -j SNAT --to-source ${eIp}`, 'ipvs-snat', 'IPVS-forwarded packets leave with ingress_sbox\'s own ingress address, so replies come back through it (configureFWMark, NAT mode)');
      snatDone = true;
    }
    b.rule('mangle', 'INPUT', `-d ${vip}/32 -j MARK --set-xmark ${hexMark(mark)}`, 'vip-mark', `the VIP ${vip} of ${svc.name} is marked ${mark} (configureFWMark)`, { service: svc.name });
    b.ns.ipvs.push(ipvsFor(f, svc, ingress, mark));
  }
  lbSysctls(b, ingress);
  return b.ns;
}

function ipvsFor(f: SwarmFacts, svc: SwarmService, net: SwarmNetwork, mark: number): ExpectedIpvs {
  const dests = f.tasks
    .filter((t) => t.service === svc.name && t.ips[net.id])
    .map((t) => ({ addr: t.ips[net.id], forward: net.lbMode === 'dsr' ? ('Route' as const) : ('Masq' as const), weight: 1, task: t.name }))
    .sort((a, b) => cmpIp(a.addr, b.addr));
  return { fwmark: mark, scheduler: 'rr', service: svc.name, networkId: net.id, dests, why: `IPVS service FWM ${mark} rr with one real server per running task of ${svc.name} on ${net.name}, port 0, weight 1 (addLBBackend)` };
}

function lbSysctls(b: NsBuilder, net: SwarmNetwork): void {
  if (net.lbMode === 'nat') b.sysctl('net.ipv4.vs.conntrack', '1', 'vs-conntrack', 'the `-m ipvs --ipvs -j SNAT` rule only sees IPVS traffic when net.ipv4.vs.conntrack=1; Docker writes it with that rule (configureFWMark)');
  b.sysctl('net.ipv4.vs.conn_reuse_mode', '0', 'vs-tweak', 'osl ApplyOSTweaks for load-balancer sandboxes');
  b.sysctl('net.ipv4.vs.expire_nodest_conn', '1', 'vs-tweak', 'osl ApplyOSTweaks for load-balancer sandboxes');
  b.sysctl('net.ipv4.vs.expire_quiescent_template', '1', 'vs-tweak', 'osl ApplyOSTweaks for load-balancer sandboxes');
}

/** The lb_<net> sandbox of a user overlay on a node. */
function lbSandbox(f: SwarmFacts, node: SwarmNode, net: SwarmNetwork, o: Required<ExpectOptions>): ExpectedNamespace {
  const name = lbNamespaceName(net.id);
  const b = new NsBuilder(node.name, name, 'lb', { networkId: net.id });
  const eIp = net.lbIps[node.name];
  const sub = net.subnet;
  builtins(b, 'mangle');
  dnsRules(b, o.dnsPorts(node.name, name));
  if (eIp && sub) b.ns.addrs.push({ iface: 'eth0', addr: eIp, prefixLen: sub.prefixLen, kind: 'endpoint', why: `the load-balancer endpoint ${net.name}-endpoint` });
  let snatDone = false;
  for (const svc of f.services) {
    if (svc.endpointMode !== 'vip' || !svc.vips[net.id]) continue;
    const vip = svc.vips[net.id];
    b.ns.addrs.push({ iface: 'eth0', addr: vip, prefixLen: 32, kind: 'vip', service: svc.name, why: `service ${svc.name}'s VIP on ${net.name} as a /32 alias (addLBBackend)` });
    const mark = expectedMark(f, svc, net.id, node.name);
    if (mark === undefined) continue;
    if (!snatDone && net.lbMode === 'nat' && eIp && sub) {
      b.rule('nat', 'POSTROUTING', `-d ${netOf(eIp, sub.prefixLen)}/${sub.prefixLen} -m ipvs --ipvs -j SNAT --to-source ${eIp}`, 'ipvs-snat', `IPVS-forwarded packets leave with the LB endpoint's address ${eIp}, so replies come back through ${name}`);
      snatDone = true;
    }
    b.rule('mangle', 'INPUT', `-d ${vip}/32 -j MARK --set-xmark ${hexMark(mark)}`, 'vip-mark', `the VIP ${vip} of ${svc.name} is marked ${mark} so IPVS service FWM ${mark} takes it (configureFWMark)`, { service: svc.name });
    b.ns.ipvs.push(ipvsFor(f, svc, net, mark));
  }
  lbSysctls(b, net);
  return b.ns;
}

/** The overlay network namespace 1-<id> of a node: remote endpoints in the neighbour table and FDB. */
function overlayNs(f: SwarmFacts, node: SwarmNode, net: SwarmNetwork): ExpectedNamespace {
  const b = new NsBuilder(node.name, overlayNamespaceName(net.id), 'overlay', { networkId: net.id });
  if (net.gateway && net.subnet) b.ns.addrs.push({ iface: 'br0', addr: net.gateway, prefixLen: net.subnet.prefixLen, kind: 'endpoint', why: 'br0 holds the subnet gateway (setupSubnetSandbox)' });
  const nodeAddr = new Map(f.nodes.map((n) => [n.name, n.addr]));
  const remote: { ip: string; node: string; owner: string }[] = [];
  for (const [n, ip] of Object.entries(net.lbIps)) if (n !== node.name) remote.push({ ip, node: n, owner: net.ingress ? `ingress-sbox of ${n}` : `lb-${net.name} of ${n}` });
  for (const t of f.tasks) if (t.ips[net.id] && t.node && t.node !== node.name) remote.push({ ip: t.ips[net.id], node: t.node, owner: t.name });
  for (const r of remote) {
    const dst = nodeAddr.get(r.node);
    if (!dst) continue;
    b.ns.fdb.push({ networkId: net.id, ip: r.ip, mac: macOfIp(r.ip), dst, dstNode: r.node, owner: r.owner });
  }
  return b.ns;
}

/** A task's namespace: REDIRECT and filter rules for ingress-published ports (addRedirectRules). */
function taskNs(f: SwarmFacts, node: SwarmNode, t: SwarmTask, ingress: SwarmNetwork | undefined, o: Required<ExpectOptions>): ExpectedNamespace {
  const name = o.taskNamespace(t);
  const b = new NsBuilder(node.name, name, 'container', { task: t.name });
  const svc = f.services.find((s) => s.name === t.service);
  const eIp = ingress ? t.ips[ingress.id] : undefined;
  const ports = (svc?.ports ?? []).filter((p) => p.mode === 'ingress');
  if (eIp && ports.length) {
    builtins(b, 'filter');
    for (const p of ports) {
      b.rule('nat', 'PREROUTING', `-d ${eIp}/32 -p ${p.proto} -m ${p.proto} --dport ${p.published} -j REDIRECT --to-ports ${p.target}`, 'task-redirect', `published port ${p.published} becomes the target port ${p.target} inside the task (addRedirectRules)`, { service: t.service, port: p });
    }
    for (const p of ports) {
      b.insert('filter', 'INPUT', `-d ${eIp}/32 -p ${p.proto} -m ${p.proto} --dport ${p.target} -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT`, 'task-accept', `the task accepts connections to its target port ${p.target} on its ingress address (addRedirectRules)`, { service: t.service, port: p });
      b.insert('filter', 'OUTPUT', `-s ${eIp}/32 -p ${p.proto} -m ${p.proto} --sport ${p.target} -m conntrack --ctstate ESTABLISHED -j ACCEPT`, 'task-accept', `the task's replies from port ${p.target} leave through its ingress address (addRedirectRules)`, { service: t.service, port: p });
    }
    for (const proto of ['sctp', 'udp', 'tcp']) {
      b.rule('filter', 'INPUT', `-d ${eIp}/32 -p ${proto} -j DROP`, 'task-drop', 'anything else arriving on the ingress address is dropped (addRedirectRules)');
    }
    for (const proto of ['sctp', 'udp', 'tcp']) {
      b.rule('filter', 'OUTPUT', `-s ${eIp}/32 -p ${proto} -j DROP`, 'task-drop', 'anything else leaving by the ingress address is dropped (addRedirectRules)');
    }
  }
  const hasUserNet = Object.keys(t.ips).some((id) => id !== ingress?.id && f.networks.some((n) => n.id === id));
  if (hasUserNet || (eIp && ports.length)) dnsRules(b, o.dnsPorts(node.name, name));
  return b.ns;
}

/** Generates the expected state of every node of the facts. */
export function expectedState(f: SwarmFacts, opts: ExpectOptions = {}): ExpectedNode[] {
  const o: Required<ExpectOptions> = {
    taskNamespace: opts.taskNamespace ?? ((t) => (t.namespaceId ? t.namespaceId.split('/').slice(1).join('/') : taskFolderName(t.name))),
    dnsPorts: opts.dnsPorts ?? defaultDnsPorts,
  };
  const ingress = ingressOf(f);
  const sh = sharedOf(f);
  const out: ExpectedNode[] = [];
  for (const node of f.nodes) {
    const here = f.tasks.filter((t) => t.node === node.name);
    const nss: ExpectedNamespace[] = [hostNs(f, node, here, sh)];
    if (ingress) {
      nss.push(ingressSbox(f, node, ingress, o, sh));
      nss.push(overlayNs(f, node, ingress));
    }
    for (const net of f.networks) {
      if (net.ingress || !net.nodes.includes(node.name)) continue;
      nss.push(overlayNs(f, node, net));
      if (f.services.some((s) => s.endpointMode === 'vip' && s.vips[net.id])) nss.push(lbSandbox(f, node, net, o));
    }
    for (const t of here) nss.push(taskNs(f, node, t, ingress, o));
    out.push({ node: node.name, family: node.family, familyWhy: node.familyWhy, namespaces: nss });
  }
  return out;
}

/** Orders dotted IPv4 addresses numerically. */
export function cmpIp(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** Renders one namespace's expected rules as an iptables-save text (legacy chain order). */
export function renderIptablesSave(ns: ExpectedNamespace, header: { version: string; date: string; nft?: boolean }): string {
  const tables: TableName[] = ['raw', 'mangle', 'nat', 'filter'];
  const lines: string[] = [];
  for (const t of tables) {
    const chains = ns.chains.filter((c) => c.table === t);
    if (chains.length === 0) continue;
    const builtin = (BUILTINS as Record<string, string[]>)[t] ?? [];
    const ordered = [...chains.filter((c) => builtin.includes(c.name)).sort((a, b) => builtin.indexOf(a.name) - builtin.indexOf(b.name)), ...chains.filter((c) => !builtin.includes(c.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))];
    lines.push(`# Generated by iptables-save v${header.version}${header.nft ? ' (nf_tables)' : ''} on ${header.date}`);
    lines.push(`*${t}`);
    for (const c of ordered) lines.push(builtin.includes(c.name) ? `:${c.name} ${c.policy ?? 'ACCEPT'} [0:0]` : `:${c.name} - [0:0]`);
    for (const c of ordered) for (const r of ns.rules) if (r.table === t && r.chain === c.name) lines.push(r.text);
    lines.push('COMMIT');
    lines.push(`# Completed on ${header.date}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
