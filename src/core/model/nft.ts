/**
 * The nftables ruleset of a namespace, as `nft list ruleset` prints it. meshtrace does not
 * simulate nft rules (iptables-nft hosts also give iptables-save); this is for display and to
 * keep the model complete, so rules stay verbatim with a few fields read out of them.
 */
import type { Source } from '../problem';
import type { Counters } from './netfilter';

/** What a rule ends in, read best-effort from its last verdict-like statement. */
export type NftVerdict =
  | 'accept'
  | 'drop'
  | 'reject'
  | 'return'
  | 'continue'
  | 'queue'
  | 'jump'
  | 'goto'
  | 'dnat'
  | 'snat'
  | 'masquerade'
  | 'redirect'
  | 'tproxy'
  | 'notrack'
  | 'vmap'
  /** An iptables-nft compat target (`xt target "MASQUERADE"`); its name is in `xt`. */
  | 'xt';

/** One rule line of a chain (`iifname "br0" counter packets 6 bytes 384 jump LAN-CHECK`). */
export interface NftRule {
  /** The rule as printed, without indentation, `comment "…"` kept, `# handle N` removed. */
  text: string;
  /** `counter packets N bytes M`, when the rule has an anonymous counter. */
  counters?: Counters;
  verdict?: NftVerdict;
  /** Target chain of `jump`/`goto`. */
  jump?: string;
  /** Name of an `xt target` (iptables-nft compat). */
  xt?: string;
  comment?: string;
  /** `# handle N` (printed by `nft -a`). */
  handle?: number;
  source: Source;
}

/** A chain; base chains have type, hook, priority and usually a policy. */
export interface NftChain {
  name: string;
  /** `filter`, `nat` or `route`; absent for regular (non-base) chains. */
  type?: string;
  /** `prerouting`, `input`, `forward`, `output`, `postrouting`, `ingress`, `egress`. */
  hook?: string;
  /** Devices of netdev/ingress chains (`device "eth0"` or `devices = { … }`). */
  devices?: string[];
  /** Priority as printed: `filter`, `dstnat`, `mangle - 5`, `-100`. */
  priority?: string;
  /** The priority as a number, when the name is a standard one (`dstnat` is -100 for ip). */
  priorityValue?: number;
  /** `accept` or `drop`. */
  policy?: string;
  /** `flags offload;`. */
  flags?: string[];
  comment?: string;
  handle?: number;
  rules: NftRule[];
  source: Source;
}

/** A named set or map, kept verbatim (`set allowed { type ipv4_addr; elements = { … } }`). */
export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  /** `type ipv4_addr` / `typeof ip saddr` text after the keyword. */
  type?: string;
  flags: string[];
  comment?: string;
  handle?: number;
  /** The lines between the braces, without indentation. */
  lines: string[];
  source: Source;
}

/** A flowtable (`flowtable ft { hook ingress priority filter; devices = { eth0, eth1 }; }`). */
export interface NftFlowtable {
  name: string;
  hook?: string;
  priority?: string;
  devices: string[];
  handle?: number;
  lines: string[];
  source: Source;
}

/** A named stateful object: `counter`, `quota`, `limit`, `ct helper`, `ct timeout`, … */
export interface NftObject {
  kind: string;
  name: string;
  handle?: number;
  lines: string[];
  source: Source;
}

/** One `table <family> <name> { … }`. */
export interface NftTable {
  /** `ip`, `ip6`, `inet`, `arp`, `bridge` or `netdev`. */
  family: string;
  name: string;
  /** `flags dormant` etc. */
  flags: string[];
  comment?: string;
  handle?: number;
  /** `# progname iptables-nft-restore`: the program that owns the table. */
  owner?: string;
  chains: NftChain[];
  sets: NftSet[];
  flowtables: NftFlowtable[];
  objects: NftObject[];
  source: Source;
}

/** A `#` comment line of the dump, e.g. `# Warning: table ip filter is managed by iptables-nft`. */
export interface NftNote {
  text: string;
  source: Source;
}

/** Everything one `nft list ruleset` dump told. */
export interface NftRuleset {
  tables: NftTable[];
  notes: NftNote[];
}
