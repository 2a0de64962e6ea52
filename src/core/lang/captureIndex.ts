/**
 * What the language features ask of a loaded capture, answered from its Model: who owns an
 * address, which IPVS service a mark feeds, which Docker service a published port or fwmark
 * belongs to, which task an address is. Built once per model; every answer keeps the model's
 * ids so hovers can say "eth0 of swarm-manager/ingress_sbox".
 */
import type { Model, ModelIface, Namespace } from '../model/model';
import type { IpvsService } from '../model/ipvs';
import type { Source } from '../problem';
import { parseIPv4 } from '../parsers/iptablesRule';

/** An address on an interface somewhere in the capture. */
export interface AddrOwner {
  ns: Namespace;
  iface: ModelIface;
  prefixLen: number;
}

/** A subnet the capture knows: an interface's network or a Docker network. */
export interface KnownSubnet {
  net: number;
  prefixLen: number;
  /** What it is, e.g. `Docker network ingress` or `eth0 of swarm-manager/host`. */
  what: string;
}

/** An IPVS service and the namespace it is in. */
export interface IpvsAt {
  ns: Namespace;
  svc: IpvsService;
}

/** A Docker service's load balancer on one network (`docker network inspect -v` Services). */
export interface DockerLb {
  service: string;
  network: string;
  vip?: string;
  fwmark?: number;
  ports: { target: number; publish: number; proto?: string }[];
  tasks: { name: string; ip?: string; hostIp?: string }[];
}

/** A published port of a Docker service. */
export interface PublishedPort {
  service: string;
  proto: string;
  published: number;
  target: number;
  mode: 'ingress' | 'host';
}

/** A task or container address. */
export interface TaskAddr {
  name: string;
  service?: string;
  network?: string;
  node?: string;
}

/** Unsigned 32-bit mask of a prefix length. */
export function prefixMask(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function dotted(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The indexes over one model. */
export class CaptureIndex {
  readonly nsById = new Map<string, Namespace>();
  private readonly ifById = new Map<string, ModelIface>();
  private readonly byAddr = new Map<string, AddrOwner[]>();
  private readonly subnetList: KnownSubnet[] = [];
  private readonly lbs: DockerLb[] = [];
  private readonly published: PublishedPort[] = [];
  private readonly tasks = new Map<string, TaskAddr[]>();
  private readonly vips = new Map<string, DockerLb[]>();

  constructor(readonly model: Model) {
    for (const ns of model.namespaces) this.nsById.set(ns.id, ns);
    for (const i of model.interfaces) {
      this.ifById.set(i.id, i);
      const ns = this.nsById.get(i.namespaceId);
      if (!ns) continue;
      for (const a of i.addrs) {
        if (a.family !== 'inet') continue;
        const list = this.byAddr.get(a.local) ?? [];
        list.push({ ns, iface: i, prefixLen: a.prefixLen });
        this.byAddr.set(a.local, list);
        const v = parseIPv4(a.local);
        if (v >= 0 && a.prefixLen < 31 && i.name !== 'lo') {
          this.subnetList.push({ net: (v & prefixMask(a.prefixLen)) >>> 0, prefixLen: a.prefixLen, what: `the network of ${i.name} in ${ns.id} (${a.local}/${a.prefixLen})` });
        }
      }
    }
    const seenLb = new Set<string>();
    for (const net of model.docker.networks) {
      for (const s of net.subnets) {
        const [a, p] = s.subnet.split('/');
        const v = parseIPv4(a);
        if (v >= 0 && p !== undefined) this.subnetList.push({ net: v, prefixLen: Number(p), what: `Docker network ${net.name} (${s.subnet})` });
      }
      for (const s of net.services) {
        if (!s.name) continue;
        const key = `${net.name}|${s.name}|${s.vip ?? ''}|${s.localLBIndex ?? ''}`;
        if (seenLb.has(key)) {
          // The same service seen from another node: merge its tasks.
          const lb = this.lbs.find((x) => `${x.network}|${x.service}|${x.vip ?? ''}|${x.fwmark ?? ''}` === key);
          for (const t of s.tasks) if (lb && !lb.tasks.some((x) => x.name === t.name)) lb.tasks.push({ name: t.name, ip: t.endpointIp, hostIp: t.hostIp });
          continue;
        }
        seenLb.add(key);
        const lb: DockerLb = { service: s.name, network: net.name, vip: s.vip, fwmark: s.localLBIndex, ports: s.ports, tasks: s.tasks.map((t) => ({ name: t.name, ip: t.endpointIp, hostIp: t.hostIp })) };
        this.lbs.push(lb);
        if (s.vip) this.vips.set(s.vip, [...(this.vips.get(s.vip) ?? []), lb]);
        for (const t of s.tasks) if (t.endpointIp) this.addTask(t.endpointIp, { name: t.name, service: s.name, network: net.name });
        for (const p of s.ports) this.addPublished({ service: s.name, proto: (p.proto ?? 'tcp').toLowerCase(), published: p.publish, target: p.target, mode: 'ingress' });
      }
      for (const e of net.endpoints) {
        if (e.ipv4 && e.name) this.addTask(e.ipv4.addr, { name: e.name, network: net.name, node: net.node });
      }
    }
    for (const s of model.docker.services) {
      for (const p of s.ports) if (p.published !== undefined) this.addPublished({ service: s.name, proto: p.protocol, published: p.published, target: p.target, mode: p.mode });
      for (const v of s.vips) {
        const net = model.docker.networks.find((n) => n.id === v.networkId);
        if (!this.vips.has(v.addr)) this.vips.set(v.addr, [{ service: s.name, network: net?.name ?? v.networkId, vip: v.addr, ports: [], tasks: [] }]);
      }
    }
    for (const c of model.docker.containers) {
      for (const n of c.networks) {
        if (n.ip) this.addTask(n.ip, { name: c.labels['com.docker.swarm.task.name'] ?? c.name, service: c.labels['com.docker.swarm.service.name'], network: n.name, node: c.node });
      }
    }
  }

  private addTask(ip: string, t: TaskAddr): void {
    const list = this.tasks.get(ip) ?? [];
    const same = list.find((x) => x.name === t.name || x.name.startsWith(t.name) || t.name.startsWith(x.name));
    if (same) {
      same.service ??= t.service;
      same.network ??= t.network;
      same.node ??= t.node;
      if (t.name.length > same.name.length) same.name = t.name;
      return;
    }
    list.push({ ...t });
    this.tasks.set(ip, list);
  }

  private addPublished(p: PublishedPort): void {
    if (!this.published.some((x) => x.service === p.service && x.proto === p.proto && x.published === p.published && x.mode === p.mode)) this.published.push(p);
  }

  /** Namespace by id (`node/namespace`). */
  namespace(node: string, name: string): Namespace | undefined {
    return this.nsById.get(`${node}/${name}`);
  }

  /** Interface by id. */
  iface(id: string): ModelIface | undefined {
    return this.ifById.get(id);
  }

  /** Interfaces holding an IPv4 address, those of `preferNs` first, then the same node's. */
  addrOwners(addr: string, preferNs?: string): AddrOwner[] {
    const list = [...(this.byAddr.get(addr) ?? [])];
    const node = preferNs?.split('/')[0];
    const rank = (o: AddrOwner): number => (o.ns.id === preferNs ? 0 : o.ns.node === node ? 1 : 2);
    return list.sort((a, b) => rank(a) - rank(b));
  }

  /** The interface named `name` in a namespace. */
  ifaceByName(nsId: string, name: string): ModelIface | undefined {
    const ns = this.nsById.get(nsId);
    if (!ns) return undefined;
    for (const id of ns.interfaceIds) {
      const i = this.ifById.get(id);
      if (i && i.name === name) return i;
    }
    return undefined;
  }

  /** Interfaces of a namespace whose names start with `prefix` (for `docker+` wildcards). */
  ifacesByPrefix(nsId: string, prefix: string): ModelIface[] {
    const ns = this.nsById.get(nsId);
    if (!ns) return [];
    return ns.interfaceIds.map((id) => this.ifById.get(id)).filter((i): i is ModelIface => !!i && i.name.startsWith(prefix));
  }

  /** Subnets the capture knows that contain the address (narrowest first). */
  subnetsOf(addr: string): KnownSubnet[] {
    const v = parseIPv4(addr);
    if (v < 0) return [];
    return this.subnetList.filter((s) => ((v & prefixMask(s.prefixLen)) >>> 0) === s.net).sort((a, b) => b.prefixLen - a.prefixLen);
  }

  /** IPVS services with this fwmark, those of `preferNs` first. */
  ipvsByMark(mark: number, preferNs?: string): IpvsAt[] {
    const out: IpvsAt[] = [];
    for (const ns of this.nsById.values()) for (const svc of ns.ipvs?.services ?? []) if (svc.proto === 'fwm' && svc.fwmark === mark) out.push({ ns, svc });
    const node = preferNs?.split('/')[0];
    const rank = (o: IpvsAt): number => (o.ns.id === preferNs ? 0 : o.ns.node === node ? 1 : 2);
    return out.sort((a, b) => rank(a) - rank(b));
  }

  /** Docker load balancers with this fwmark (LocalLBIndex). */
  lbByMark(mark: number): DockerLb[] {
    return this.lbs.filter((l) => l.fwmark === mark);
  }

  /** Docker load balancers whose VIP is this address. */
  lbByVip(addr: string): DockerLb[] {
    return this.vips.get(addr) ?? [];
  }

  /** Docker services publishing this port (ingress or host mode). */
  publishedPorts(port: number, proto?: string): PublishedPort[] {
    return this.published.filter((p) => p.published === port && (!proto || p.proto === proto));
  }

  /** Docker tasks or containers with this address. */
  tasksAt(addr: string): TaskAddr[] {
    return this.tasks.get(addr) ?? [];
  }

  /** Whether the capture has any Docker facts (JSON) at all. */
  get hasDocker(): boolean {
    const d = this.model.docker;
    return d.networks.length + d.services.length + d.containers.length > 0;
  }
}

/** `file:line` of a source, for hover text. */
export function where(s: Source): string {
  return `${s.file}:${s.line}`;
}
