/**
 * Links, addresses, routes, policy rules, FDB and neighbour entries of one namespace, as
 * `ip addr`, `ip route`, `ip rule`, `bridge fdb` and `ip neigh` print them (text or `-j` JSON).
 */
import type { Source } from '../problem';

/** An address on an interface (`inet 10.0.0.2/24 brd 10.0.0.255 scope global eth0`). */
export interface IfAddr {
  family: 'inet' | 'inet6';
  local: string;
  prefixLen: number;
  /** Point-to-point peer (`inet 10.0.0.1 peer 10.0.0.2/32`). */
  peer?: string;
  broadcast?: string;
  scope: string;
  label?: string;
  /** Flags such as secondary, dynamic, noprefixroute, tentative, deprecated. */
  flags: string[];
  source: Source;
}

/** VXLAN device details from `ip -d` (`vxlan id 4096 ... dstport 4789 proxy l2miss l3miss`). */
export interface VxlanInfo {
  vni: number;
  dstport?: number;
  local?: string;
  /** Remote (unicast) or group (multicast) address. */
  remote?: string;
  group?: string;
  dev?: string;
  learning: boolean;
  proxy: boolean;
  l2miss: boolean;
  l3miss: boolean;
}

/** Details only `ip -d` prints, by the link's kind. */
export interface LinkDetails {
  /** `veth`, `bridge`, `vxlan`, `dummy`, `ipip`, … */
  kind?: string;
  /** `bridge_slave`, … */
  slaveKind?: string;
  vxlan?: VxlanInfo;
  /** `bridge_slave` fields (state, hairpin, learning, …). */
  slave?: Record<string, string>;
  /** Other key/value details, kept verbatim. */
  extra?: Record<string, string>;
}

/** One interface of `ip addr` / `ip link`. */
export interface Iface {
  ifindex: number;
  name: string;
  /**
   * The `@` part of the name: `if9` (peer index 9 in another namespace), a name in the same
   * namespace (`veth0`), or `NONE`.
   */
  link?: { ifindex?: number; name?: string; none?: boolean };
  /** `link-netns NAME`. */
  linkNetns?: string;
  /** `link-netnsid N`. */
  linkNetnsid?: number;
  flags: string[];
  mtu?: number;
  qdisc?: string;
  master?: string;
  state?: string;
  linkType?: string;
  mac?: string;
  brd?: string;
  details: LinkDetails;
  addrs: IfAddr[];
  source: Source;
}

/** Route types (`rtm_type`), as `ip route` names them. */
export type RouteType =
  | 'unicast'
  | 'local'
  | 'broadcast'
  | 'multicast'
  | 'anycast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | 'throw'
  | 'nat';

/** One route. `dst` is always a prefix: `default` is `0.0.0.0/0`. */
export interface Route {
  type: RouteType;
  /** Network address of the prefix (`10.0.0.0`). */
  dst: string;
  prefixLen: number;
  family: 'inet' | 'inet6';
  /** Table name as printed (`main` when absent, `local`, `default`, or a number as text). */
  table: string;
  via?: string;
  dev?: string;
  proto?: string;
  scope?: string;
  src?: string;
  metric?: number;
  tos?: string;
  /** Flags such as `linkdown`, `onlink`, `dead`. */
  flags: string[];
  /** Multipath next hops (`nexthop via … dev … weight …`). */
  nexthops?: { via?: string; dev?: string; weight?: number }[];
  source: Source;
}

/** One policy routing rule of `ip rule`. */
export interface IpRule {
  priority: number;
  not: boolean;
  /** `from all` is `0.0.0.0/0`. */
  from?: { addr: string; prefixLen: number };
  to?: { addr: string; prefixLen: number };
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  tos?: string;
  /** What the rule does: look up a table, or a terminal action. */
  action: 'lookup' | 'blackhole' | 'unreachable' | 'prohibit' | 'goto' | 'nop';
  table?: string;
  gotoPriority?: number;
  suppressPrefixLength?: number;
  source: Source;
}

/** A `bridge fdb show` entry. */
export interface FdbEntry {
  mac: string;
  dev: string;
  dst?: string;
  vlan?: number;
  vni?: number;
  port?: number;
  master?: string;
  self: boolean;
  /** permanent, static, or absent (learned). */
  state?: string;
  flags: string[];
  source: Source;
}

/** An `ip neigh` entry. */
export interface Neighbour {
  dst: string;
  dev?: string;
  lladdr?: string;
  router: boolean;
  /** PERMANENT, REACHABLE, STALE, FAILED, INCOMPLETE, NOARP, … */
  state: string[];
  source: Source;
}

/** One `key = value` line of `sysctl`. */
export interface SysctlEntry {
  key: string;
  value: string;
  source: Source;
}
