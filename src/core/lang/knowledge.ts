/**
 * What iptables' tables, chains, matches and targets do, in plain words, with the exact kernel
 * facts an expert checks (hook, priority, where a target is allowed). Sources: the kernel's
 * include/uapi/linux/netfilter_ipv4.h (`NF_IP_PRI_*`), net/netfilter/xt_*.c and
 * net/ipv4/netfilter/*.c (each target's `.table` and `.hooks`), and the iptables-extensions(8)
 * man page of iptables 1.8.10. Docker and kube-proxy chain names: libnetwork
 * (service_linux.go, drivers/bridge, iptabler) and kube-proxy's proxier.go.
 */
import type { TableName } from '../model/netfilter';

/** A netfilter hook as a built-in chain sees it. */
export interface HookInfo {
  kernel: string;
  what: string;
}

/** The five IPv4 hooks, by built-in chain name. */
export const HOOKS: Readonly<Record<string, HookInfo>> = {
  PREROUTING: { kernel: 'NF_INET_PRE_ROUTING', what: 'every packet that arrives on an interface of this namespace, before the routing decision (a DNAT here changes where the packet is routed)' },
  INPUT: { kernel: 'NF_INET_LOCAL_IN', what: 'packets that the routing decision delivers to this namespace itself (to one of its local addresses)' },
  FORWARD: { kernel: 'NF_INET_FORWARD', what: 'packets routed through this namespace, from one interface out of another (only when ip_forward is 1)' },
  OUTPUT: { kernel: 'NF_INET_LOCAL_OUT', what: 'packets sent by processes of this namespace, just after they are created' },
  POSTROUTING: { kernel: 'NF_INET_POST_ROUTING', what: 'every packet about to leave through an interface, forwarded or locally sent, after the routing decision' },
};

/** A table: what it is for and its priority on each hook (lower runs first). */
export interface TableInfo {
  what: string;
  priority: (chain: string) => string;
}

/** The five tables (priorities from netfilter_ipv4.h `NF_IP_PRI_*`). */
export const TABLES: Readonly<Record<TableName, TableInfo>> = {
  raw: {
    what: 'runs first, before connection tracking: it exempts packets from conntrack (`NOTRACK`, `CT --notrack`) or attaches conntrack helpers and zones',
    priority: () => '-300 (NF_IP_PRI_RAW)',
  },
  mangle: {
    what: "changes packet metadata: the mark, TOS/DSCP, TTL, the TCP MSS. The packet's addresses are not changed here",
    priority: () => '-150 (NF_IP_PRI_MANGLE)',
  },
  nat: {
    what: 'does address translation. Only the first packet of each connection goes through it; the translation chosen for that packet then applies to the whole connection (conntrack), replies included',
    priority: (c) => (c === 'PREROUTING' || c === 'OUTPUT' ? '-100 (NF_IP_PRI_NAT_DST, destination NAT)' : '100 (NF_IP_PRI_NAT_SRC, source NAT)'),
  },
  filter: {
    what: 'is the default table: it decides whether packets pass (ACCEPT) or not (DROP, REJECT)',
    priority: () => '0 (NF_IP_PRI_FILTER)',
  },
  security: {
    what: 'holds SELinux labels (`SECMARK`, `CONNSECMARK`); it runs after filter',
    priority: () => '50 (NF_IP_PRI_SECURITY)',
  },
};

/** What a match does. */
export interface MatchInfo {
  title: string;
  what: string;
}

/** Matches meshtrace knows (the names of iptablesRule.ts MATCH_DEFS). */
export const MATCHES: Readonly<Record<string, MatchInfo>> = {
  tcp: { title: 'TCP header match', what: 'tests the TCP header: source and destination ports (`--sport`, `--dport`), flags (`--tcp-flags MASK SET`: of the flags in MASK, exactly those in SET are on; `--syn` is `--tcp-flags FIN,SYN,RST,ACK SYN`, the first packet of a connection) and options. Loaded implicitly by `-p tcp`' },
  udp: { title: 'UDP header match', what: 'tests the UDP source and destination ports (`--sport`, `--dport`, single ports or ranges `a:b`). Loaded implicitly by `-p udp`' },
  sctp: { title: 'SCTP header match', what: 'tests SCTP ports and chunk types' },
  icmp: { title: 'ICMP type match', what: 'tests the ICMP type and code (`--icmp-type 8` is echo-request, a ping)' },
  icmp6: { title: 'ICMPv6 type match', what: 'tests the ICMPv6 type and code' },
  multiport: { title: 'several ports at once', what: 'tests the port against a list of up to 15 ports or ranges (`--dports 80,443`); needs `-p tcp`, `udp` or `sctp`' },
  conntrack: { title: 'connection tracking state', what: "tests what conntrack knows about the packet's connection: `--ctstate` NEW (first packet), ESTABLISHED (a packet of a connection that has seen traffic both ways), RELATED (e.g. an ICMP error or FTP data for a known connection), INVALID, UNTRACKED, and the virtual states SNAT/DNAT (the connection's addresses were translated); also its original and reply addresses, ports and status" },
  state: { title: 'connection tracking state (old form)', what: 'is the older name for `-m conntrack --ctstate`: NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED' },
  addrtype: { title: 'address type', what: "tests the kind of the source or destination address as this namespace's routing sees it (`--dst-type LOCAL`: the address is one of this namespace's own addresses, in the local routing table; also UNICAST, BROADCAST, MULTICAST, BLACKHOLE, …)" },
  comment: { title: 'comment', what: 'matches every packet; it only carries a note (`--comment`), which tools like kube-proxy use to say what the rule is for' },
  mark: { title: 'packet mark', what: "tests the packet's mark (skb->mark), a 32-bit number set earlier by `-j MARK` or by the routing of another namespace; `--mark VALUE/MASK` is true when (mark AND MASK) equals VALUE" },
  connmark: { title: 'connection mark', what: "tests the mark stored on the packet's conntrack entry (set by `-j CONNMARK`), the same way `-m mark` tests the packet mark" },
  statistic: { title: 'statistic', what: 'matches a share of packets: `--mode random --probability P` (each packet with probability P) or `--mode nth --every N --packet P` (one packet in N). kube-proxy spreads connections over endpoints with it' },
  physdev: { title: 'bridge port', what: 'applies to packets crossing a Linux bridge (with br_netfilter): it tests the bridge ports they come in on and go out of (`--physdev-in`, `--physdev-out`, `--physdev-is-bridged`)' },
  ipvs: { title: 'IPVS connection', what: "tests whether the packet belongs to a connection IPVS (the kernel load balancer) handles (`--ipvs`), and that connection's virtual address, port, protocol, direction and forwarding method" },
  limit: { title: 'rate limit', what: 'matches at most a given rate of packets (`--limit 5/min`), with a burst allowance (`--limit-burst`, default 5); packets over the rate do not match' },
  owner: { title: 'socket owner', what: 'tests the user, group or socket of the process that sent the packet (locally sent packets only: OUTPUT, POSTROUTING)' },
  pkttype: { title: 'link-layer packet type', what: 'tests whether the packet was sent to this host (unicast), to everyone (broadcast) or to a group (multicast) at the link layer' },
  iprange: { title: 'address range', what: 'tests the source or destination address against an arbitrary range `a.b.c.d-e.f.g.h`' },
  recent: { title: 'recently seen addresses', what: 'keeps a list of recently seen addresses (`--set`) and tests packets against it (`--rcheck`, `--update` within `--seconds`, `--hitcount`)' },
  set: { title: 'ipset', what: 'tests an address or port against an ipset (`--match-set NAME dst`), a kernel hash or bitmap that may hold many entries' },
  helper: { title: 'conntrack helper', what: 'tests which conntrack helper (ftp, sip, …) handles the connection' },
  mac: { title: 'source MAC', what: 'tests the source Ethernet address (PREROUTING, FORWARD, INPUT only)' },
  length: { title: 'packet length', what: 'tests the length of the IP packet (a number or a range)' },
};

/** What a target does, and where the kernel allows it. */
export interface TargetInfo {
  title: string;
  what: string;
  /** Whether the packet stops going through the chain (and the table) when the target runs. */
  ends: boolean;
  /** Where it is allowed (kernel `.table` / `.hooks`), when restricted. */
  allowed?: string;
  /** Table and built-in chains a kernel allows it in, for checks. */
  table?: TableName;
  hooks?: string[];
}

/** Targets meshtrace knows (the names of iptablesRule.ts TARGET_DEFS). */
export const TARGETS: Readonly<Record<string, TargetInfo>> = {
  ACCEPT: { title: 'accept', what: 'lets the packet through: it leaves this chain and this table, and goes on to the next table on the same hook (and then on its way)', ends: true },
  DROP: { title: 'drop', what: 'throws the packet away, silently: the sender gets no answer and will retry until it times out', ends: true },
  RETURN: { title: 'return', what: "stops going through this chain: in a user chain, the packet goes back to the rule after the one that jumped here; in a built-in chain, the chain's policy decides", ends: true },
  QUEUE: { title: 'queue to user space', what: 'hands the packet to a user-space program (NFQUEUE queue 0), which decides its fate', ends: true },
  REJECT: { title: 'reject', what: 'drops the packet and answers the sender with an error (`--reject-with`, by default ICMP port-unreachable; `tcp-reset` sends a TCP RST), so the sender fails at once instead of timing out', ends: true, allowed: 'INPUT, FORWARD and OUTPUT (and user chains called from them)', hooks: ['INPUT', 'FORWARD', 'OUTPUT'] },
  DNAT: { title: 'destination NAT', what: "rewrites the packet's destination address (and port) to `--to-destination`; conntrack applies the same rewrite to the rest of the connection and undoes it on replies. Ends the nat table for this packet", ends: true, allowed: 'table nat, chains PREROUTING and OUTPUT (and user chains called from them)', table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] },
  SNAT: { title: 'source NAT', what: "rewrites the packet's source address (and port) to `--to-source`; replies are translated back. Ends the nat table for this packet", ends: true, allowed: 'table nat, chains POSTROUTING and INPUT', table: 'nat', hooks: ['POSTROUTING', 'INPUT'] },
  MASQUERADE: { title: 'masquerade (automatic source NAT)', what: 'rewrites the source address to the address of the interface the packet leaves by, chosen at the time (good for dynamic addresses); connections are forgotten when that interface goes down', ends: true, allowed: 'table nat, chain POSTROUTING', table: 'nat', hooks: ['POSTROUTING'] },
  REDIRECT: { title: 'redirect to this namespace', what: "rewrites the destination to this namespace's own address (the primary address of the incoming interface; 127.0.0.1 for local packets) and, with `--to-ports`, the port", ends: true, allowed: 'table nat, chains PREROUTING and OUTPUT', table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] },
  MARK: { title: 'set the packet mark', what: "sets the packet's mark (skb->mark), a 32-bit number that later rules (`-m mark`), policy routing (`ip rule fwmark`) and IPVS fwmark services can test. Nothing on the wire changes, and the packet goes on to the next rule", ends: false },
  CONNMARK: { title: "set or copy the connection's mark", what: "sets the mark stored on the packet's conntrack entry, or copies it between the packet and the connection (`--save-mark`, `--restore-mark`), so every packet of the connection can carry it. The packet goes on to the next rule", ends: false },
  LOG: { title: 'log', what: 'writes a line about the packet to the kernel log (`dmesg`, journal) with `--log-prefix`; the packet goes on to the next rule', ends: false },
  NFLOG: { title: 'log through nflog', what: 'passes a copy of the packet to a user-space logger (ulogd, tcpdump -i nflog) on `--nflog-group`; the packet goes on to the next rule', ends: false },
  TCPMSS: { title: 'clamp the TCP MSS', what: 'rewrites the MSS option of TCP SYN packets (`--set-mss`, or `--clamp-mss-to-pmtu` to fit the path MTU), so connections through a tunnel with a smaller MTU do not stall', ends: false },
  CT: { title: 'conntrack settings', what: 'sets how conntrack handles the connection: `--notrack` (not tracked at all), a helper, a zone or timeouts', ends: false, allowed: 'table raw', table: 'raw' },
  NOTRACK: { title: 'do not track', what: 'exempts the packet from connection tracking (the old form of `CT --notrack`)', ends: false, allowed: 'table raw', table: 'raw' },
  TRACE: { title: 'trace', what: 'makes the kernel log every rule this packet then hits, in every table (see `xtables-monitor --trace` or the kernel log)', ends: false, allowed: 'table raw', table: 'raw' },
};

/** What a column of `iptables -L -v` holds (iptables/xshared.c `print_header`). */
export const LIST_COLUMNS: Readonly<Record<string, string>> = {
  num: 'the rule\'s position in its chain (`--line-numbers`), as `iptables -D CHAIN N` and `-I CHAIN N` count it',
  pkts: 'packets that matched the rule (rounded to K, M, G… unless listed with `-x`)',
  bytes: 'bytes of the packets that matched the rule (rounded unless `-x`)',
  target: 'what happens to a matching packet: a target (ACCEPT, DNAT, MARK…) or a user chain to jump to; empty when the rule only counts',
  prot: 'the protocol the rule requires (`all` or `0`: any)',
  opt: 'fragment option: `--` none, `-f` only non-first fragments, `!f` only first fragments and unfragmented packets',
  in: 'the interface the packet must arrive on (`*`: any)',
  out: 'the interface the packet must leave by (`*`: any)',
  source: 'the source address or network the packet must come from (`0.0.0.0/0`: any)',
  destination: 'the destination address or network the packet must go to (`0.0.0.0/0`: any)',
};

/** The address types of `-m addrtype` (libxt_addrtype.c `rtn_names`, the kernel's RTN_*). */
export const ADDR_TYPES: Readonly<Record<string, string>> = {
  UNSPEC: 'an address of no type',
  UNICAST: 'an ordinary address reached through a gateway or a link',
  LOCAL: "one of this namespace's own addresses (in its `local` routing table)",
  BROADCAST: 'a broadcast address of a local network',
  ANYCAST: 'an anycast address',
  MULTICAST: 'a multicast address',
  BLACKHOLE: 'an address routed to a blackhole route',
  UNREACHABLE: 'an address with an unreachable route',
  PROHIBIT: 'an address with a prohibit route',
  THROW: 'an address with a throw route',
  NAT: 'an address with a nat route',
  XRESOLVE: 'an address resolved externally',
};

/** Conntrack states (xt_conntrack, iptables-extensions(8)). */
export const CT_STATES: Readonly<Record<string, string>> = {
  NEW: 'the first packet of a connection (or one of a connection that has not seen a reply yet)',
  ESTABLISHED: 'a packet of a connection that has seen packets in both directions',
  RELATED: 'a new connection related to a known one (an ICMP error, FTP data)',
  INVALID: 'a packet conntrack cannot place (e.g. out of window)',
  UNTRACKED: 'a packet exempted from tracking in the raw table',
  SNAT: "a packet of a connection whose source was translated",
  DNAT: "a packet of a connection whose destination was translated",
};

/** IPVS schedulers (ipvsadm(8)). */
export const SCHEDULERS: Readonly<Record<string, string>> = {
  rr: 'round robin: each new connection goes to the next real server in turn',
  wrr: 'weighted round robin: servers get new connections in proportion to their weights',
  lc: 'least connections: the server with the fewest active connections',
  wlc: 'weighted least connections',
  lblc: 'locality-based least connections',
  lblcr: 'locality-based least connections with replication',
  dh: 'destination hashing',
  sh: 'source hashing: the same client address always goes to the same server',
  sed: 'shortest expected delay',
  nq: 'never queue',
  fo: 'weighted failover: the available server with the highest weight',
  ovf: 'weighted overflow',
  mh: 'maglev hashing',
};

/** IPVS forwarding methods (ipvsadm.c `fwd_name`). */
export const FORWARDS: Readonly<Record<string, string>> = {
  Masq: 'NAT ("masquerading"): IPVS rewrites the destination to the real server, and replies must come back through this namespace to be rewritten back',
  Route: 'direct routing: the packet is sent to the real server unchanged (only the MAC changes); the server must hold the virtual address and replies go straight to the client',
  Tunnel: 'IP-in-IP tunnelling to the real server',
  Local: 'the real server is an address of this namespace itself',
};

/** Who made a chain, from its name (Docker's libnetwork, kube-proxy, kubelet). */
export function chainOrigin(name: string, table: string): string | undefined {
  switch (name) {
    case 'DOCKER':
      return table === 'nat'
        ? "Docker's bridge driver: one DNAT per published port of a container on a bridge network (`docker run -p`, or swarm `mode=host` publishing), reached from PREROUTING and OUTPUT for local destination addresses; `-i <bridge> -j RETURN` skips traffic from the bridges themselves"
        : "Docker's bridge driver: ACCEPT rules for the published ports of containers, reached from FORWARD for packets going out to a Docker bridge";
    case 'DOCKER-USER':
      return "Docker: the chain for your own rules, which FORWARD runs before Docker's; Docker creates it (with a lone RETURN before 28.2) and adds nothing else";
    case 'DOCKER-ISOLATION-STAGE-1':
      return 'Docker (up to 27.x): isolation between bridge networks, stage 1 catches packets leaving a Docker bridge for another interface';
    case 'DOCKER-ISOLATION-STAGE-2':
      return 'Docker (up to 27.x): isolation between bridge networks, stage 2 drops packets that would enter another Docker bridge';
    case 'DOCKER-INGRESS':
      return table === 'nat'
        ? "Docker's swarm routing mesh (libnetwork service_linux.go `initIngressConfiguration`): one DNAT per ingress-published port, to ingress_sbox's docker_gwbridge address, reached from PREROUTING and OUTPUT for local destination addresses"
        : "Docker's swarm routing mesh: accepts forwarded packets to and from the published ports (reached from FORWARD, or from DOCKER-FORWARD since Docker 28.0.1)";
    case 'DOCKER-FORWARD':
      return "Docker (28.0.1 and later): Docker's part of FORWARD, run after DOCKER-USER";
    case 'DOCKER-CT':
      return 'Docker (28.0.1 and later): accepts packets of established connections going to a Docker bridge';
    case 'DOCKER-BRIDGE':
      return 'Docker (28.0.1 and later): sends packets going out to a Docker bridge to the DOCKER chain';
    case 'DOCKER-INTERNAL':
      return 'Docker (28.2 and later): keeps internal networks from reaching outside their subnet';
    case 'DOCKER_OUTPUT':
      return "Docker's embedded DNS server (127.0.0.11): sends DNS queries to port 53 to the port the daemon really listens on inside this namespace";
    case 'DOCKER_POSTROUTING':
      return "Docker's embedded DNS server (127.0.0.11): rewrites the answers' source port back to 53";
    case 'KUBE-SERVICES':
      return 'kube-proxy (iptables mode): the entry point for Service cluster IPs, one rule per service port jumping to its KUBE-SVC- chain';
    case 'KUBE-NODEPORTS':
      return 'kube-proxy: NodePort services (reached from the end of KUBE-SERVICES for local destination addresses)';
    case 'KUBE-MARK-MASQ':
      return 'kube-proxy: marks packets (0x4000) that KUBE-POSTROUTING must masquerade';
    case 'KUBE-MARK-DROP':
      return 'kube-proxy / kubelet: marks packets (0x8000) that KUBE-FIREWALL drops';
    case 'KUBE-POSTROUTING':
      return 'kube-proxy: masquerades the packets KUBE-MARK-MASQ marked';
    case 'KUBE-FIREWALL':
      return 'kubelet: drops packets marked by KUBE-MARK-DROP';
    case 'KUBE-FORWARD':
      return 'kube-proxy: accepts forwarded packets of Services';
    case 'KUBE-EXTERNAL-SERVICES':
      return 'kube-proxy: rejects traffic to external IPs and node ports of Services with no endpoints';
    case 'KUBE-PROXY-CANARY':
    case 'KUBE-KUBELET-CANARY':
      return 'Kubernetes: an empty canary chain whose disappearance tells kube-proxy/kubelet that the rules were flushed';
  }
  if (name.startsWith('KUBE-SVC-')) return 'kube-proxy: one Service port; `-m statistic` rules spread new connections over its endpoints (KUBE-SEP- chains)';
  if (name.startsWith('KUBE-SEP-')) return 'kube-proxy: one Service endpoint (a pod address): DNAT to it';
  if (name.startsWith('KUBE-FW-') || name.startsWith('KUBE-EXT-')) return 'kube-proxy: external (load balancer) traffic of one Service port';
  if (name.startsWith('KUBE-XLB-') || name.startsWith('KUBE-SVL-')) return 'kube-proxy: a Service with externalTrafficPolicy Local (only local endpoints)';
  if (name.startsWith('KUBE-')) return 'Kubernetes (kube-proxy or kubelet)';
  return undefined;
}

/** Names of the built-in verdicts and targets, for chain-name checks. */
export function isKnownTargetName(name: string): boolean {
  return name in TARGETS;
}
