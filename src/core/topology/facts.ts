/**
 * The Docker-level facts of a swarm, gathered from a Model's Docker JSON (and, where Docker's JSON
 * is missing, from the dumps): nodes with their data-path address, overlay networks with subnets,
 * VNIs and per-node load-balancer endpoints, services with VIPs, published ports and per-node
 * fwmarks, and tasks with their IPs and nodes. Both the expected-state generator and the
 * synthesiser work from this one shape, so a synthesised capture and a real one are read alike.
 */
import type { Source } from '../problem';
import type { Model, Namespace } from '../model/model';
import type { Rule } from '../model/netfilter';

/** Which iptables layout a Docker engine writes (docker-network-semantics.md §2 and §6). */
export type DockerFamily =
  /** Docker ≤ 28.0.0: `-A FORWARD -j DOCKER-INGRESS`, DOCKER-ISOLATION-STAGE-1/2, `-m state` sport rule. */
  | 'legacy'
  /** Docker 28.0.1 – 28.1.x: DOCKER-FORWARD, DOCKER-CT, DOCKER-BRIDGE, isolation chains kept. */
  | 'forward'
  /** Docker 28.2+ and 29.x (iptabler): DOCKER-INTERNAL, no isolation chains, empty DOCKER-USER. */
  | 'iptabler';

/** A published port of a service. */
export interface SwarmPort {
  proto: 'tcp' | 'udp' | 'sctp';
  target: number;
  published: number;
  mode: 'ingress' | 'host';
}

/** One swarm node. */
export interface SwarmNode {
  /** The capture's node folder name. */
  name: string;
  /** Data-path address (what other nodes send VXLAN to, and what clients reach). */
  addr?: string;
  /** The host interface holding `addr`. */
  iface?: string;
  role?: string;
  family: DockerFamily;
  /** How the family was decided. */
  familyWhy: string;
  /** ingress_sbox's address on docker_gwbridge (the DNAT target), usually 172.18.0.2. */
  gwIp?: string;
  /** docker_gwbridge subnet (172.18.0.0/16) and gateway (172.18.0.1). */
  gwSubnet?: { addr: string; prefixLen: number };
  gwGateway?: string;
  source?: Source;
}

/** One swarm-scope overlay network. */
export interface SwarmNetwork {
  id: string;
  name: string;
  ingress: boolean;
  subnet?: { addr: string; prefixLen: number };
  gateway?: string;
  vni?: number;
  lbMode: 'nat' | 'dsr';
  /** Per node: the load-balancer endpoint's IP (ingress-sbox or lb-<net>). */
  lbIps: Record<string, string>;
  /** Nodes that have this network (Peers, or a dump of it). */
  nodes: string[];
  source?: Source;
}

/** One service. */
export interface SwarmService {
  id: string;
  name: string;
  endpointMode: 'vip' | 'dnsrr';
  ports: SwarmPort[];
  /** VIPs by network id. */
  vips: Record<string, string>;
  /** Network ids the tasks attach to (besides ingress, which published ports imply). */
  networks: string[];
  /** Per node, per network id: the fwmark (LocalLBIndex). */
  marks: Record<string, Record<string, number>>;
  source?: Source;
}

/** One task (a container of a service). */
export interface SwarmTask {
  /** Full task name, `web.1.udlzvsraha1xwcsa212ofldjg`. */
  name: string;
  service: string;
  node?: string;
  /** IP by network id. */
  ips: Record<string, string>;
  /** The namespace id of its container in the capture, when captured. */
  namespaceId?: string;
  source?: Source;
}

/** Everything the expected-state generator needs. */
export interface SwarmFacts {
  nodes: SwarmNode[];
  networks: SwarmNetwork[];
  services: SwarmService[];
  tasks: SwarmTask[];
  /** Where the facts are incomplete, in plain words. */
  gaps: string[];
}

/** Infers the iptables layout of a node's Docker from its host filter table. */
export function familyOfNamespace(host: Namespace | undefined): { family: DockerFamily; why: string } {
  const filter = host?.iptables?.tables.find((t) => t.name === 'filter');
  if (!filter) return { family: 'legacy', why: 'no host filter table captured: the ≤ 28.0.0 layout is assumed' };
  const has = (n: string): boolean => filter.chains.some((c) => c.name === n);
  if (has('DOCKER-INTERNAL')) return { family: 'iptabler', why: 'the host filter table has DOCKER-INTERNAL (Docker 28.2 or later)' };
  if (has('DOCKER-FORWARD')) return { family: 'forward', why: 'the host filter table has DOCKER-FORWARD but no DOCKER-INTERNAL (Docker 28.0.1 – 28.1)' };
  return { family: 'legacy', why: 'the host filter table has no DOCKER-FORWARD chain (Docker 28.0.0 or older)' };
}

/** The family of a Docker version string (`20.10.5`, `28.0.1`, `29.0.0`). */
export function familyOfVersion(v: string): DockerFamily {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  if (!m) return 'iptabler';
  const [maj, min, pat] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (maj < 28 || (maj === 28 && min === 0 && pat === 0)) return 'legacy';
  if (maj === 28 && min < 2) return 'forward';
  return 'iptabler';
}

/** Splits `10.0.0.0/24`. */
export function splitCidr(s: string | undefined): { addr: string; prefixLen: number } | undefined {
  if (!s) return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s.trim());
  return m ? { addr: m[1], prefixLen: Number(m[2]) } : undefined;
}

/** The ports a node's host nat DOCKER-INGRESS chain publishes (`--dport P -j DNAT --to-destination gw:P`). */
export function portsFromIngressRules(host: Namespace | undefined): { proto: 'tcp' | 'udp' | 'sctp'; published: number; gw?: string; rule: Rule }[] {
  const out: { proto: 'tcp' | 'udp' | 'sctp'; published: number; gw?: string; rule: Rule }[] = [];
  const nat = host?.iptables?.tables.find((t) => t.name === 'nat');
  const chain = nat?.chains.find((c) => c.name === 'DOCKER-INGRESS');
  for (const r of chain?.rules ?? []) {
    if (r.spec.target?.name !== 'DNAT') continue;
    const proto = r.spec.proto?.name;
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') continue;
    const dport = r.spec.matches.flatMap((m) => m.options).find((o) => o.name === 'dport' && !o.invert)?.values[0];
    if (!dport || !/^\d+$/.test(dport)) continue;
    const to = r.spec.target.options.find((o) => o.name === 'to-destination')?.values[0];
    out.push({ proto, published: Number(dport), gw: to?.split(':')[0], rule: r });
  }
  return out;
}

/** Gathers the swarm facts of a model. Pure; never throws. */
export function swarmFacts(model: Model): SwarmFacts {
  const gaps: string[] = [];
  const d = model.docker;
  const nsById = new Map(model.namespaces.map((n) => [n.id, n]));
  const hostOf = (node: string): Namespace | undefined => nsById.get(`${node}/host`);

  // Nodes: the capture's node folders, with the address Docker uses for them.
  const peerIps = new Set<string>();
  for (const n of d.networks) for (const p of n.peers) peerIps.add(p.ip);
  for (const n of d.networks) for (const s of n.services) for (const t of s.tasks) if (t.hostIp) peerIps.add(t.hostIp);
  for (const n of d.nodes) if (n.addr) peerIps.add(n.addr);
  const nodes: SwarmNode[] = [];
  // The first interface of each id (what a find over model.interfaces gives), built on first use.
  let ifById: Map<string, Model['interfaces'][number]> | undefined;
  const ifOf = (id: string): Model['interfaces'][number] | undefined => {
    if (!ifById) {
      ifById = new Map();
      for (const i of model.interfaces) if (!ifById.has(i.id)) ifById.set(i.id, i);
    }
    return ifById.get(id);
  };
  for (const n of model.nodes) {
    const host = hostOf(n.name);
    const fam = familyOfNamespace(host);
    const addr = n.addresses.find((a) => peerIps.has(a)) ?? d.nodes.find((x) => x.hostname === n.name)?.addr ?? n.addresses.find((a) => !a.startsWith('172.17.') && !a.startsWith('172.18.'));
    let iface: string | undefined;
    if (host && addr) {
      for (const id of host.interfaceIds) {
        const i = ifOf(id);
        if (i?.addrs.some((a) => a.local === addr)) iface = i.name;
      }
    }
    const gwNet = d.networks.find((x) => x.node === n.name && x.name === 'docker_gwbridge');
    const sboxEp = gwNet?.endpoints.find((e) => e.key === 'ingress-sbox');
    const dn = d.nodes.find((x) => x.hostname === n.name);
    nodes.push({
      name: n.name,
      addr,
      iface,
      role: dn?.role ?? (dn?.managerStatus ? 'manager' : dn ? 'worker' : undefined),
      family: fam.family,
      familyWhy: fam.why,
      gwIp: sboxEp?.ipv4?.addr ?? gatewayDnatTarget(host),
      gwSubnet: splitCidr(gwNet?.subnets[0]?.subnet),
      gwGateway: gwNet?.subnets[0]?.gateway,
      source: gwNet?.source,
    });
  }
  const nodeByIp = new Map<string, string>();
  for (const n of nodes) if (n.addr) nodeByIp.set(n.addr, n.name);
  for (const m of model.nodes) for (const a of m.addresses) if (!nodeByIp.has(a)) nodeByIp.set(a, m.name);

  // Networks: swarm-scope overlays, merged over the nodes that told about them.
  const networks = new Map<string, SwarmNetwork>();
  for (const n of d.networks) {
    if (n.driver !== 'overlay' && !n.ingress && n.scope !== 'swarm') continue;
    let net = networks.get(n.id);
    if (!net) {
      const sub = n.subnets[0];
      net = {
        id: n.id,
        name: n.name,
        ingress: n.ingress,
        subnet: splitCidr(sub?.subnet),
        gateway: sub?.gateway,
        vni: n.vnis[0],
        lbMode: 'dsr' in n.options ? 'dsr' : 'nat',
        lbIps: {},
        nodes: [],
        source: n.source,
      };
      networks.set(n.id, net);
    }
    if (!net.nodes.includes(n.node)) net.nodes.push(n.node);
    for (const p of n.peers) {
      const pn = nodeByIp.get(p.ip);
      if (pn && !net.nodes.includes(pn)) net.nodes.push(pn);
    }
    const lbKey = n.ingress ? 'ingress-sbox' : `lb-${n.name}`;
    const lb = n.endpoints.find((e) => e.key === lbKey);
    if (lb?.ipv4) net.lbIps[n.node] = lb.ipv4.addr;
    // Other nodes' LB endpoints show in the verbose Services "" entry (ingress-endpoint / <net>-endpoint).
    for (const s of n.services) {
      for (const t of s.tasks) {
        if (t.name !== `${n.name}-endpoint` || !t.endpointIp || !t.hostIp) continue;
        const tn = nodeByIp.get(t.hostIp);
        if (tn && !net.lbIps[tn]) net.lbIps[tn] = t.endpointIp;
      }
    }
  }
  // Overlay namespaces without Docker JSON still say which nodes have the network.
  for (const ns of model.namespaces) {
    if ((ns.role === 'overlay' || ns.role === 'lb') && ns.docker?.networkId) {
      const net = networks.get(ns.docker.networkId);
      if (net && !net.nodes.includes(ns.node)) net.nodes.push(ns.node);
    }
  }

  // Services: `docker service inspect` first; the verbose network inspect fills in.
  const services = new Map<string, SwarmService>();
  for (const s of d.services) {
    if (services.has(s.name)) continue;
    const vips: Record<string, string> = {};
    for (const v of s.vips) vips[v.networkId] = v.addr;
    services.set(s.name, {
      id: s.id,
      name: s.name,
      endpointMode: s.endpointMode,
      ports: s.ports.filter((p) => p.published !== undefined).map((p) => ({ proto: p.protocol, target: p.target, published: p.published as number, mode: p.mode })),
      vips,
      networks: [...s.networks],
      marks: {},
      source: s.source,
    });
  }
  const tasks = new Map<string, SwarmTask>();
  // The names `docker service inspect` told (d.services.every(name differs) is !inspected.has(name)).
  const inspected = new Set(d.services.map((x) => x.name));
  for (const n of d.networks) {
    for (const s of n.services) {
      if (s.name === '') continue;
      let svc = services.get(s.name);
      if (!svc) {
        svc = { id: '', name: s.name, endpointMode: s.vip ? 'vip' : 'dnsrr', ports: [], vips: {}, networks: [], marks: {}, source: s.source };
        services.set(s.name, svc);
      }
      if (n.ingress && !inspected.has(s.name)) {
        for (const p of s.ports) {
          const proto = (p.proto ?? 'tcp') as SwarmPort['proto'];
          if (!svc.ports.some((x) => x.published === p.publish && x.proto === proto)) svc.ports.push({ proto, target: p.target, published: p.publish, mode: 'ingress' });
        }
      }
      if (s.vip && !svc.vips[n.id]) svc.vips[n.id] = s.vip;
      if (!n.ingress && !svc.networks.includes(n.id)) svc.networks.push(n.id);
      if (s.localLBIndex) (svc.marks[n.node] ??= {})[n.id] = s.localLBIndex;
      for (const t of s.tasks) {
        let task = tasks.get(t.name);
        if (!task) {
          task = { name: t.name, service: s.name, ips: {}, source: t.source };
          tasks.set(t.name, task);
        }
        if (t.endpointIp) task.ips[n.id] = t.endpointIp;
        if (t.hostIp && !task.node) task.node = nodeByIp.get(t.hostIp);
      }
    }
  }
  // Containers of tasks: their node and namespace, and IPs where no verbose inspect told them.
  for (const c of d.containers) {
    const tn = c.labels['com.docker.swarm.task.name'];
    const sn = c.labels['com.docker.swarm.service.name'];
    if (!tn || !sn) continue;
    let task = tasks.get(tn);
    if (!task) {
      task = { name: tn, service: sn, ips: {}, source: c.source };
      tasks.set(tn, task);
    }
    task.node ??= c.node;
    for (const n of c.networks) if (n.networkId && n.ip && !task.ips[n.networkId]) task.ips[n.networkId] = n.ip;
  }
  for (const t of tasks.values()) {
    const ns = model.namespaces.find((n) => n.node === t.node && (n.docker?.taskName === t.name || (n.role === 'container' && t.name.startsWith(n.name)) || t.name.startsWith(n.name + '.') || n.name === t.name.split('.').slice(0, 2).join('.') + '.' + (t.name.split('.')[2] ?? '').slice(0, 12)));
    if (ns) t.namespaceId = ns.id;
  }
  inferMarks(model, [...services.values()], [...tasks.values()], [...networks.values()]);
  if (d.networks.length === 0) gaps.push('no `docker network inspect -v` in the capture: networks, VIPs, marks and tasks are unknown, so expected state is limited to what the dumps show');
  if (d.services.length === 0 && services.size > 0) gaps.push('no `docker service inspect`: published ports come from `docker network inspect -v` (protocol assumed tcp) or from the DOCKER-INGRESS rules');
  return { nodes, networks: [...networks.values()], services: [...services.values()], tasks: [...tasks.values()], gaps };
}

/**
 * Fills in fwmarks a node's Docker JSON did not tell (no `docker network inspect -v` there): the
 * IPVS service of that node's load-balancer sandbox whose real servers are the service's tasks.
 */
function inferMarks(model: Model, services: SwarmService[], tasks: SwarmTask[], networks: SwarmNetwork[]): void {
  for (const ns of model.namespaces) {
    if ((ns.role !== 'ingress-sbox' && ns.role !== 'lb') || !ns.ipvs) continue;
    const net = ns.role === 'ingress-sbox' ? networks.find((n) => n.ingress) : networks.find((n) => n.id === ns.docker?.networkId);
    if (!net) continue;
    for (const svc of services) {
      if (svc.marks[ns.node]?.[net.id] !== undefined || !svc.vips[net.id]) continue;
      const ips = new Set(tasks.filter((t) => t.service === svc.name && t.ips[net.id]).map((t) => t.ips[net.id]));
      let best: { mark: number; hits: number } | undefined;
      for (const v of ns.ipvs.services) {
        if (v.proto !== 'fwm' || v.fwmark === undefined) continue;
        const hits = v.dests.filter((x) => ips.has(x.addr)).length;
        if (hits > 0 && (!best || hits > best.hits)) best = { mark: v.fwmark, hits };
      }
      if (best) (svc.marks[ns.node] ??= {})[net.id] = best.mark;
    }
  }
}

/** ingress_sbox's gwbridge address from the host's DNAT targets, when Docker JSON does not say. */
function gatewayDnatTarget(host: Namespace | undefined): string | undefined {
  return portsFromIngressRules(host)[0]?.gw;
}

/** The ingress network of the facts. */
export function ingressOf(f: SwarmFacts): SwarmNetwork | undefined {
  return f.networks.find((n) => n.ingress);
}

/** Running tasks of a service. */
export function tasksOf(f: SwarmFacts, service: string): SwarmTask[] {
  return f.tasks.filter((t) => t.service === service);
}

/** The fwmark of a service on a network as seen on a node, with where it came from. */
export function markOf(f: SwarmFacts, svc: SwarmService, networkId: string, node: string): number | undefined {
  return svc.marks[node]?.[networkId];
}
