/**
 * Indexes a Model for the simulator: local addresses, routing tables and policy rules as
 * integers, sysctls with the kernel's defaults, interfaces by name. Built once per model.
 */
import type { Model, ModelIface, Namespace } from '../model/model';
import type { IpRule, Route } from '../model/link';
import { inPrefix, ip4, maskOf } from './addr';

/** A route with its prefix as integers. */
export interface SimRoute {
  r?: Route;
  type: string;
  net: number;
  prefixLen: number;
  table: string;
  via?: number;
  dev?: string;
  src?: number;
  metric: number;
  /** True when derived from `ip addr` because the dump had no local table. */
  derived?: boolean;
}

/** A policy rule with integers. */
export interface SimRule {
  r?: IpRule;
  priority: number;
  not: boolean;
  from?: { net: number; prefixLen: number };
  to?: { net: number; prefixLen: number };
  fwmark?: number;
  fwmask: number;
  iif?: string;
  oif?: string;
  action: IpRule['action'];
  table?: string;
  gotoPriority?: number;
  derived?: boolean;
}

/** The simulator's view of one namespace. */
export interface SimNs {
  ns: Namespace;
  ifaces: Map<string, ModelIface>;
  /** Local addresses: address → interface name. */
  local: Map<number, { iface: string; prefixLen: number }>;
  routes: SimRoute[];
  rules: SimRule[];
  rulesDerived: boolean;
  localTableDerived: boolean;
}

/** The final namespace of a packet that a partial world cannot follow (see World.wider): never a real answer. */
export const LEFT_OUT = '(left out)';

/** Normalises table names: numbers of the reserved tables become their names. */
export function tableName(t: string | undefined): string {
  if (t === undefined || t === '' || t === '254') return 'main';
  if (t === '255') return 'local';
  if (t === '253') return 'default';
  return t;
}

/** The simulator's index of a model. */
export class World {
  readonly ns = new Map<string, SimNs>();
  readonly ifById = new Map<string, ModelIface>();
  /** Node name → its host-namespace addresses (how other nodes reach it). */
  readonly nodeByAddr = new Map<number, { node: string; nsId: string; iface: string }>();

  /** Bridge id → its ports. */
  readonly portsOf = new Map<string, ModelIface[]>();
  /** VNI → the VXLAN devices with it, on every node. */
  readonly vxlanByVni = new Map<number, ModelIface[]>();
  /** Address → the last namespace (in `ns` order) that has it as a local address. */
  readonly lastOwner = new Map<number, SimNs>();
  /** `vni|node` → the VXLAN devices with that VNI in that node's namespaces (in vxlanByVni order). */
  readonly vxlanByVniNode = new Map<string, ModelIface[]>();
  /**
   * The whole world this one is a part of, when the packet walk is to say so where the part
   * differs: a packet leaving towards a next hop that `wider` sends elsewhere ends as
   * {@link LEFT_OUT} instead of going outside.
   */
  readonly wider?: World;
  /** The SimNs objects as built (`ns` entries may have their `.ns` swapped for a while, by withSlice). */
  private readonly own = new Map<string, SimNs>();

  /**
   * `from`: a world of a model that has every namespace and interface of this one (the same
   * objects), e.g. the whole swarm when this is a few of its nodes. Its per-namespace indexes are
   * reused: a SimNs is a function of its namespace and of the interfaces its `interfaceIds`
   * name, so it is taken over only when the namespace is the same object and every one of those
   * interfaces is in this model too (then both worlds resolve them to the same objects).
   * `checkHops`: this world is part of `from`, and a packet that leaves towards a next hop must go
   * where it would go in `from` (see `wider`).
   */
  constructor(
    readonly model: Model,
    from?: World,
    checkHops = false,
  ) {
    this.wider = checkHops ? from : undefined;
    for (const i of model.interfaces) {
      this.ifById.set(i.id, i);
      if (i.masterId) {
        const l = this.portsOf.get(i.masterId);
        if (l) l.push(i);
        else this.portsOf.set(i.masterId, [i]);
      }
      const vni = i.details.vxlan?.vni;
      if (vni !== undefined) {
        const l = this.vxlanByVni.get(vni);
        if (l) l.push(i);
        else this.vxlanByVni.set(vni, [i]);
      }
    }
    for (const ns of model.namespaces) {
      const prev = from?.own.get(ns.id);
      this.ns.set(ns.id, prev && prev.ns === ns && ns.interfaceIds.every((id) => this.ifById.has(id)) ? prev : this.index(ns));
    }
    for (const [id, s] of this.ns) this.own.set(id, s);
    for (const s of this.ns.values()) for (const a of s.local.keys()) this.lastOwner.set(a, s);
    for (const [vni, list] of this.vxlanByVni) {
      for (const x of list) {
        const xs = this.ns.get(x.namespaceId);
        if (!xs) continue;
        const k = `${vni}|${xs.ns.node}`;
        const l = this.vxlanByVniNode.get(k);
        if (l) l.push(x);
        else this.vxlanByVniNode.set(k, [x]);
      }
    }
    for (const s of this.ns.values()) {
      if (s.ns.role !== 'host') continue;
      for (const [a, v] of s.local) if (v.iface !== 'lo' && (a >>> 24) !== 127) this.nodeByAddr.set(a, { node: s.ns.node, nsId: s.ns.id, iface: v.iface });
    }
  }

  private index(ns: Namespace): SimNs {
    const ifaces = new Map<string, ModelIface>();
    const local = new Map<number, { iface: string; prefixLen: number }>();
    for (const id of ns.interfaceIds) {
      const i = this.ifById.get(id);
      if (!i) continue;
      ifaces.set(i.name, i);
      for (const a of i.addrs) {
        if (a.family !== 'inet') continue;
        const n = ip4(a.local);
        if (n !== undefined) local.set(n, { iface: i.name, prefixLen: a.prefixLen });
      }
    }
    const routes: SimRoute[] = [];
    for (const r of ns.routes) {
      if (r.family !== 'inet') continue;
      const net = ip4(r.dst);
      if (net === undefined) continue;
      routes.push({ r, type: r.type, net: (net & maskOf(r.prefixLen)) >>> 0, prefixLen: r.prefixLen, table: tableName(r.table), via: r.via ? ip4(r.via) : undefined, dev: r.dev, src: r.src ? ip4(r.src) : undefined, metric: r.metric ?? 0 });
    }
    const localTableDerived = !routes.some((r) => r.table === 'local');
    if (localTableDerived) {
      // fib_add_ifaddr (net/ipv4/fib_frontend.c) adds a local route per address, the
      // prefix route and the broadcast routes; without a `table all` dump, derive them.
      for (const [a, v] of local) {
        routes.push({ type: 'local', net: a, prefixLen: 32, table: 'local', dev: v.iface, src: a, metric: 0, derived: true });
        if (v.iface === 'lo' && (a >>> 24) === 127) routes.push({ type: 'local', net: 0x7f000000, prefixLen: 8, table: 'local', dev: 'lo', src: a, metric: 0, derived: true });
      }
      const hasMain = routes.some((r) => r.table === 'main');
      if (!hasMain) {
        for (const [a, v] of local) {
          if (v.iface === 'lo' || v.prefixLen >= 32) continue;
          const m = maskOf(v.prefixLen);
          routes.push({ type: 'unicast', net: (a & m) >>> 0, prefixLen: v.prefixLen, table: 'main', dev: v.iface, src: a, metric: 0, derived: true });
        }
      }
    }
    let rules: SimRule[] = ns.rules.map((r) => ({
      r,
      priority: r.priority,
      not: r.not,
      from: r.from && ip4(r.from.addr) !== undefined ? { net: ip4(r.from.addr) as number, prefixLen: r.from.prefixLen } : undefined,
      to: r.to && ip4(r.to.addr) !== undefined ? { net: ip4(r.to.addr) as number, prefixLen: r.to.prefixLen } : undefined,
      fwmark: r.fwmark,
      fwmask: r.fwmask ?? 0xffffffff,
      iif: r.iif,
      oif: r.oif,
      action: r.action,
      table: r.table !== undefined ? tableName(r.table) : undefined,
      gotoPriority: r.gotoPriority,
    }));
    const rulesDerived = rules.length === 0;
    if (rulesDerived) {
      // fib_default_rules_init (net/ipv4/fib_rules.c): local 0, main 32766, default 32767.
      rules = [
        { priority: 0, not: false, fwmask: 0, action: 'lookup', table: 'local', derived: true },
        { priority: 32766, not: false, fwmask: 0, action: 'lookup', table: 'main', derived: true },
        { priority: 32767, not: false, fwmask: 0, action: 'lookup', table: 'default', derived: true },
      ];
    }
    rules.sort((a, b) => a.priority - b.priority);
    return { ns, ifaces, local, routes, rules, rulesDerived, localTableDerived };
  }

  /** A sysctl of a namespace, with the kernel's default where the capture lacks it. */
  sysctl(s: SimNs, key: string, dflt: string): { value: string; captured: boolean; source?: { file: string; line: number } } {
    const e = s.ns.sysctls[key];
    return e ? { value: e.value, captured: true, source: e.source } : { value: dflt, captured: false };
  }

  /**
   * Whether a namespace forwards IPv4. Captured sysctls decide. Otherwise: Docker turns forwarding
   * on in the host namespace when it sets up its bridges (moby drivers/bridge/setup_ip_forwarding.go),
   * so a host with Docker's chains is taken as forwarding; and a new namespace copies init_net's
   * settings when it is made (net/ipv4/devinet.c devinet_init_net, devconf_inherit_init_net=0), so
   * the other namespaces of a node take the host's value. Else the kernel default, 0.
   */
  ipForward(s: SimNs): { on: boolean; captured: boolean; why: string } {
    let r = this.forwardCache.get(s);
    if (!r) {
      r = this.ipForwardUncached(s);
      this.forwardCache.set(s, r);
    }
    return r;
  }

  private readonly forwardCache = new Map<SimNs, { on: boolean; captured: boolean; why: string }>();

  private ipForwardUncached(s: SimNs): { on: boolean; captured: boolean; why: string } {
    const own = s.ns.sysctls['net.ipv4.ip_forward'] ?? s.ns.sysctls['net.ipv4.conf.all.forwarding'];
    if (own) return { on: own.value === '1', captured: true, why: `net.ipv4.ip_forward=${own.value} (${own.source.file}:${own.source.line})` };
    const host = this.ns.get(`${s.ns.node}/host`);
    const hostOwn = host?.ns.sysctls['net.ipv4.ip_forward'] ?? host?.ns.sysctls['net.ipv4.conf.all.forwarding'];
    if (host && host !== s && hostOwn) return { on: hostOwn.value === '1', captured: false, why: `not captured here; a namespace inherits the host's net.ipv4.ip_forward=${hostOwn.value} when it is created` };
    const docker = (x: SimNs | undefined): boolean => !!x?.ns.iptables?.tables.some((t) => t.chains.some((c) => /^DOCKER(-FORWARD|-USER|-INGRESS|-ISOLATION-STAGE-1)?$/.test(c.name)));
    if (docker(host ?? s)) return { on: true, captured: false, why: 'net.ipv4.ip_forward not captured; Docker enables it on the host when it sets up its bridges, and namespaces inherit it' };
    return { on: false, captured: false, why: 'net.ipv4.ip_forward not captured: the kernel default 0 is assumed' };
  }

  /** addrtype as xt_addrtype sees it (inet_addr_type_table on the main/local tables). */
  addrType(s: SimNs, addr: number, iface?: string): string {
    if (addr === 0xffffffff) return 'BROADCAST';
    if ((addr >>> 28) === 14) return 'MULTICAST';
    const loc = s.local.get(addr);
    if (loc && (!iface || loc.iface === iface)) return 'LOCAL';
    for (const r of s.routes) {
      if (r.table !== 'local') continue;
      if (r.type === 'broadcast' && r.net === addr) return 'BROADCAST';
      if (r.type === 'local' && inPrefix(addr, r.net, r.prefixLen) && (!iface || r.dev === iface)) return 'LOCAL';
    }
    const main = this.lpm(s, 'main', addr);
    if (main && main.type !== 'unicast') return main.type.toUpperCase();
    return 'UNICAST';
  }

  /** Longest-prefix match in one table (lowest metric among equals). */
  lpm(s: SimNs, table: string, addr: number): SimRoute | undefined {
    let best: SimRoute | undefined;
    for (const r of s.routes) {
      if (r.table !== table) continue;
      if (!inPrefix(addr, r.net, r.prefixLen)) continue;
      if (!best || r.prefixLen > best.prefixLen || (r.prefixLen === best.prefixLen && r.metric < best.metric)) best = r;
    }
    return best;
  }

  /** Which interface of a node's namespaces owns an address (for veth/bridge resolution). */
  owner(nsIds: string[], addr: number): { nsId: string; iface: string } | undefined {
    for (const id of nsIds) {
      const s = this.ns.get(id);
      const l = s?.local.get(addr);
      if (s && l) return { nsId: id, iface: l.iface };
    }
    return undefined;
  }
}
