/**
 * Seeded random iptables rulesets in the shapes Docker (bridges, swarm ingress, ingress_sbox) and
 * kube-proxy (iptables mode) write, plus random user chains that use most of the matches and
 * targets those tools and admins use. The output is a full `iptables-restore` input for the raw,
 * mangle, nat and filter tables that the real kernel (nf_tables backend, iptables 1.8.9) accepts,
 * so the kernel tests can load it, dump it back with every dump form, and compare the parses.
 *
 * Every address is a TEST-NET address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24); Docker's
 * and Kubernetes' usual ranges (172.17.0.0/16, 10.96.0.0/12, 127.0.0.11) are mapped into those.
 * The same seed always gives the same text.
 */

/** mulberry32: a tiny 32-bit seeded PRNG, uniform in [0, 1). Deterministic per seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Convenience draws on top of mulberry32. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** `n` distinct elements of a list, in list order (n is clamped to its length). */
  sample<T>(items: readonly T[], n: number): T[] {
    const idx = items.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx
      .slice(0, Math.min(n, items.length))
      .sort((a, b) => a - b)
      .map((i) => items[i]);
  }

  /** A string of `len` characters drawn from `alphabet`. */
  word(len: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}

/** Options of {@link genRuleset}. */
export interface GenRulesetOptions {
  /**
   * Write `[pkts:bytes]` counters on rules and built-in policies (load with
   * `iptables-restore -c`). Default true: it exercises exact and rounded counters in the dumps.
   */
  counters?: boolean;
  /**
   * Add ingress_sbox's `-m ipvs --ipvs -j SNAT` rule. Default false: the lab kernel has no IPVS,
   * so iptables-restore rejects `-m ipvs` ("Extension ipvs revision 0 not supported").
   */
  ipvs?: boolean;
  /** Rough size factor for the random parts (user chains, DOCKER-USER rules). Default 1. */
  scale?: number;
}

/** Packet and byte counters written into the input. */
export interface GenCounters {
  packets: number;
  bytes: number;
}

/** One chain as the generator wrote it, to check a parse of the kernel's dump against. */
export interface GenChain {
  table: 'raw' | 'mangle' | 'nat' | 'filter';
  name: string;
  builtin: boolean;
  policy?: 'ACCEPT' | 'DROP';
  /** Policy counters of a built-in chain (only when counters are on). */
  counters?: GenCounters;
  /** The chain's rules in order, with their counters (only when counters are on). */
  rules: { counters?: GenCounters }[];
}

/** What {@link genRuleset} returns. */
export interface GeneratedRuleset {
  seed: number;
  /** A full `iptables-restore` input (raw, mangle, nat, filter), ending with a newline. */
  iptablesRestore: string;
  /** One line saying which shapes this seed drew, for test titles and failure reports. */
  description: string;
  /** Whether the text carries counters (load with `iptables-restore -c`). */
  counters: boolean;
  /** Number of `-A` rules written. */
  ruleCount: number;
  /** Every chain written (built-ins first per table, then user chains in declaration order). */
  chains: GenChain[];
}

/** The netfilter hooks; a user chain is valid only for the hooks it is reachable from. */
type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
type Table = 'raw' | 'mangle' | 'nat' | 'filter';

const TABLE_ORDER: readonly Table[] = ['raw', 'mangle', 'nat', 'filter'];
const BUILTINS: Readonly<Record<Table, readonly Hook[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

interface ChainDecl {
  name: string;
  builtin: boolean;
  hooks: Set<Hook>;
  policy?: 'ACCEPT' | 'DROP';
  counters?: GenCounters;
  rules: { counters?: GenCounters }[];
}

/** Collects chains and rules per table, then prints them as one iptables-restore input. */
class RulesetBuilder {
  private readonly chains = new Map<Table, Map<string, ChainDecl>>();
  private readonly rules = new Map<Table, string[]>();
  ruleCount = 0;

  constructor(
    private readonly rng: Rng,
    private readonly counters: boolean,
  ) {
    for (const t of TABLE_ORDER) {
      const m = new Map<string, ChainDecl>();
      for (const h of BUILTINS[t]) m.set(h, { name: h, builtin: true, hooks: new Set([h]), policy: 'ACCEPT', rules: [] });
      this.chains.set(t, m);
      this.rules.set(t, []);
    }
  }

  /** Declares a user chain (idempotent) reachable from the given hooks. */
  chain(table: Table, name: string, hooks: Iterable<Hook>): ChainDecl {
    const m = this.chains.get(table)!;
    let c = m.get(name);
    if (!c) {
      c = { name, builtin: false, hooks: new Set(), rules: [] };
      m.set(name, c);
    }
    for (const h of hooks) c.hooks.add(h);
    return c;
  }

  /** The hooks a chain is reachable from (a built-in chain: its own hook). */
  hooks(table: Table, name: string): Set<Hook> {
    return this.chains.get(table)!.get(name)?.hooks ?? new Set();
  }

  policy(table: Table, hook: Hook, policy: 'ACCEPT' | 'DROP'): void {
    this.chains.get(table)!.get(hook)!.policy = policy;
  }

  /** Appends `-A chain <rest>` to a table. */
  add(table: Table, chain: string, rest: string): void {
    const decl = this.chains.get(table)!.get(chain);
    if (!decl) throw new Error(`genRuleset: chain ${table}/${chain} used before it was declared`);
    const counters = this.counters ? this.counterPair() : undefined;
    const prefix = counters ? `[${counters.packets}:${counters.bytes}] ` : '';
    this.rules.get(table)!.push(`${prefix}-A ${chain}${rest ? ' ' + rest : ''}`);
    decl.rules.push({ counters });
    this.ruleCount++;
  }

  /** Random counters: mostly zero, else spread over many magnitudes so `-L` rounds them (K, M, G, T). */
  private counterPair(): GenCounters {
    if (!this.rng.chance(0.55)) return { packets: 0, bytes: 0 };
    const packets = Math.floor(this.rng.float() * 10 ** this.rng.int(0, 12));
    return { packets, bytes: packets * this.rng.int(40, 1500) };
  }

  /** The chains as written, for the caller's checks. */
  chainList(): GenChain[] {
    const out: GenChain[] = [];
    for (const t of TABLE_ORDER) {
      for (const c of this.chains.get(t)!.values()) {
        out.push({ table: t, name: c.name, builtin: c.builtin, policy: c.policy, counters: c.counters, rules: c.rules });
      }
    }
    return out;
  }

  render(): string {
    const out: string[] = ['# Generated by meshtrace scripts/genRuleset.ts'];
    for (const t of TABLE_ORDER) {
      out.push(`*${t}`);
      for (const c of this.chains.get(t)!.values()) {
        if (!c.builtin) continue;
        if (this.counters) c.counters = this.counterPair();
        out.push(`:${c.name} ${c.policy} [${c.counters?.packets ?? 0}:${c.counters?.bytes ?? 0}]`);
      }
      for (const c of this.chains.get(t)!.values()) {
        if (!c.builtin) out.push(`:${c.name} - [0:0]`);
      }
      out.push(...this.rules.get(t)!);
      out.push('COMMIT');
    }
    return out.join('\n') + '\n';
  }
}

/** Quotes a value for iptables-restore input the way iptables-save would (bare when safe). */
function q(value: string): string {
  return /^[A-Za-z0-9_-]+$/.test(value) ? value : `"${value.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const HEX = '0123456789abcdef';
const NETS = ['192.0.2', '198.51.100', '203.0.113'] as const;

/** A TEST-NET host address. */
function host(rng: Rng, net?: string): string {
  return `${net ?? rng.pick(NETS)}.${rng.int(1, 254)}`;
}

/** A TEST-NET prefix, sometimes written with host bits set (the kernel masks them on load). */
function prefix(rng: Rng): string {
  const len = rng.pick([32, 32, 32, 24, 25, 26, 27, 28, 29, 30]);
  return `${host(rng)}/${len}`;
}

/** A non-contiguous dotted mask inside the last octet (prints as `a.b.c.d/255.255.255.N`). */
function oddMask(rng: Rng): string {
  return `${host(rng)}/255.255.255.${rng.pick([5, 15, 85, 170, 249])}`;
}

function maybeNot(rng: Rng, p = 0.2): string {
  return rng.chance(p) ? '! ' : '';
}

/** What a random rule may use in this chain. */
interface RuleCtx {
  table: Table;
  hooks: Set<Hook>;
  /** The chain is INPUT/OUTPUT/... itself: iptables refuses -o in INPUT and -i in OUTPUT. */
  builtin?: Hook;
  /** User chains a rule may jump or go to (same table, same or narrower hooks). */
  jumpTo: string[];
  /** Offer targets (false: only conditions, e.g. for a rule that the caller completes). */
  targets: boolean;
}

const IN_HOOKS: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD'];
const OUT_HOOKS: readonly Hook[] = ['FORWARD', 'OUTPUT', 'POSTROUTING'];

function allIn(hooks: Set<Hook>, allowed: readonly Hook[]): boolean {
  for (const h of hooks) if (!allowed.includes(h)) return false;
  return hooks.size > 0;
}

function portOrRange(rng: Rng): string {
  switch (rng.int(0, 5)) {
    case 0:
      return `${rng.int(1, 1023)}:${rng.int(1024, 65535)}`;
    case 1:
      // Open ranges are printed with both ends (`:1024` saves as `0:1024`).
      return rng.chance(0.5) ? `:${rng.int(1, 2048)}` : `${rng.int(1024, 60000)}:`;
    default:
      return String(rng.pick([22, 53, 80, 443, 2377, 4789, 7946, 8080, rng.int(1, 65535)]));
  }
}

function portList(rng: Rng): string {
  const n = rng.int(2, 6);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.int(1, 60000);
    parts.push(rng.chance(0.25) ? `${a}:${a + rng.int(1, 500)}` : String(a));
  }
  return parts.join(',');
}

const ICMP_TYPES = [
  'echo-request',
  'echo-reply',
  'destination-unreachable',
  'port-unreachable',
  'fragmentation-needed',
  'time-exceeded',
  'any',
  '8',
  '0',
  '3/1',
  '11',
];
const TCP_FLAG_SETS = [
  'SYN,RST,ACK,FIN SYN',
  'ALL NONE',
  'ALL ALL',
  'SYN,ACK SYN,ACK',
  'FIN,SYN FIN,SYN',
  'ALL FIN,PSH,URG',
  'RST RST',
];
const CT_STATES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];
const ADDR_TYPES = ['LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT'];
const COMMENTS = [
  'kubernetes service portals',
  'default/kubernetes:https cluster IP',
  'kube-system/kube-dns:dns-tcp',
  'allow_swarm-2377',
  'plain',
  'ops: "temporary" rule',
  'path\\with\\backslash',
  "it's ok",
  'weird  double  spaces',
  'ünïcode ✓',
];
const LOG_PREFIXES = ['DROP: ', 'mt-', 'IN=fw ', 'x', 'DOCKER-USER drop '];
const REJECTS = [
  'icmp-net-unreachable',
  'icmp-host-unreachable',
  'icmp-port-unreachable',
  'icmp-proto-unreachable',
  'icmp-net-prohibited',
  'icmp-host-prohibited',
  'icmp-admin-prohibited',
];
const IFACES = ['eth0', 'eth1', 'docker0', 'docker_gwbridge', 'docker+', 'br-+', 'veth+', 'lo', 'vxlan0', 'br-5f3a1c2d9e0b'];

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function markValue(rng: Rng): string {
  const v = rng.pick([0x1, 0x4, 0x100, 0x101, 0x4000, 0x8000, rng.int(1, 0xffff)]);
  if (rng.chance(0.4)) return hex(v);
  const mask = rng.pick([0xff, 0xff00, 0x4000, 0xffff, v | 0xf]);
  return `${hex(v & mask)}/${hex(mask)}`;
}

/**
 * One random rule body (everything after `-A CHAIN `): addresses, interfaces, protocol with its
 * implicit match, 0–3 extra matches, and a target valid for the table and hooks.
 */
function randomRule(rng: Rng, ctx: RuleCtx): string {
  const p: string[] = [];
  const inOk = ctx.builtin ? IN_HOOKS.includes(ctx.builtin) : allIn(ctx.hooks, IN_HOOKS);
  const outOk = ctx.builtin ? OUT_HOOKS.includes(ctx.builtin) : allIn(ctx.hooks, OUT_HOOKS);
  if (rng.chance(0.3)) p.push(`${maybeNot(rng)}-s ${rng.chance(0.08) ? oddMask(rng) : prefix(rng)}`);
  if (rng.chance(0.3)) p.push(`${maybeNot(rng)}-d ${prefix(rng)}`);
  if (inOk && rng.chance(0.3)) p.push(`${maybeNot(rng)}-i ${rng.pick(IFACES)}`);
  if (outOk && rng.chance(0.25)) p.push(`${maybeNot(rng)}-o ${rng.pick(IFACES)}`);

  let proto: string | undefined;
  let protoInverted = false;
  if (rng.chance(0.6)) {
    proto = rng.pick(['tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'sctp', 'gre', '47', 'udplite', 'esp']);
    protoInverted = rng.chance(0.07);
    p.push(`${protoInverted ? '! ' : ''}-p ${proto}`);
  }
  const ports = !protoInverted && (proto === 'tcp' || proto === 'udp' || proto === 'sctp');
  if (!ports && rng.chance(0.05)) p.push(`${maybeNot(rng, 0.4)}-f`);

  // The protocol's own match, written implicitly or with an explicit `-m tcp`.
  if (!protoInverted && proto === 'tcp' && rng.chance(0.7)) {
    const m = rng.chance(0.5) ? '-m tcp ' : '';
    const opts: string[] = [];
    if (rng.chance(0.4)) opts.push(`${maybeNot(rng)}--sport ${portOrRange(rng)}`);
    if (rng.chance(0.7)) opts.push(`${maybeNot(rng)}--dport ${portOrRange(rng)}`);
    if (rng.chance(0.2)) opts.push(rng.chance(0.3) ? `${maybeNot(rng)}--syn` : `${maybeNot(rng)}--tcp-flags ${rng.pick(TCP_FLAG_SETS)}`);
    if (rng.chance(0.05)) opts.push(`${maybeNot(rng)}--tcp-option ${rng.pick([2, 3, 4, 8])}`);
    if (opts.length > 0) p.push(m + opts.join(' '));
  } else if (!protoInverted && proto === 'udp' && rng.chance(0.7)) {
    const m = rng.chance(0.5) ? '-m udp ' : '';
    const opts: string[] = [];
    if (rng.chance(0.4)) opts.push(`${maybeNot(rng)}--sport ${portOrRange(rng)}`);
    if (rng.chance(0.7) || opts.length === 0) opts.push(`${maybeNot(rng)}--dport ${portOrRange(rng)}`);
    p.push(m + opts.join(' '));
  } else if (!protoInverted && proto === 'icmp' && rng.chance(0.7)) {
    p.push(`${rng.chance(0.5) ? '-m icmp ' : ''}${maybeNot(rng, 0.15)}--icmp-type ${rng.pick(ICMP_TYPES)}`);
  } else if (!protoInverted && proto === 'sctp' && rng.chance(0.5)) {
    p.push(`-m sctp ${maybeNot(rng)}--dport ${portOrRange(rng)}`);
  }

  // Each extra match at most once per rule: iptables refuses a second `-m connmark --mark`.
  const used = new Set<number>();
  const extra = rng.int(0, 3);
  for (let i = 0; i < extra; i++) {
    const kind = rng.int(0, 10);
    if (used.has(kind)) continue;
    used.add(kind);
    switch (kind) {
      case 0:
        if (ports) {
          const which = rng.pick(['--dports', '--sports', '--ports']);
          p.push(`-m multiport ${maybeNot(rng)}${which} ${portList(rng)}`);
        }
        break;
      case 1: {
        const states = rng.sample(CT_STATES, rng.int(1, 3));
        // Docker writes ESTABLISHED,RELATED; iptables prints the states in its own order.
        if (rng.chance(0.5)) states.reverse();
        const more: string[] = [];
        if (rng.chance(0.2)) more.push(`${maybeNot(rng)}--ctorigdst ${prefix(rng)}`);
        if (rng.chance(0.15)) more.push(`--ctstatus ${rng.sample(['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'], rng.int(1, 2)).join(',')}`);
        if (rng.chance(0.1)) more.push(`--ctdir ${rng.pick(['ORIGINAL', 'REPLY'])}`);
        p.push(`-m conntrack ${maybeNot(rng, 0.15)}--ctstate ${states.join(',')}${more.length ? ' ' + more.join(' ') : ''}`);
        break;
      }
      case 2:
        p.push(`-m state ${maybeNot(rng, 0.1)}--state ${rng.pick(['ESTABLISHED,RELATED', 'NEW', 'INVALID', 'RELATED,ESTABLISHED', 'UNTRACKED'])}`);
        break;
      case 3:
        p.push(`-m mark ${maybeNot(rng)}--mark ${markValue(rng)}`);
        break;
      case 4:
        p.push(`-m connmark ${maybeNot(rng)}--mark ${markValue(rng)}`);
        break;
      case 5: {
        const o: string[] = [];
        if (rng.chance(0.5)) o.push(`${maybeNot(rng)}--src-type ${rng.sample(ADDR_TYPES, rng.int(1, 2)).join(',')}`);
        if (rng.chance(0.7) || o.length === 0) o.push(`${maybeNot(rng)}--dst-type ${rng.sample(ADDR_TYPES, rng.int(1, 2)).join(',')}`);
        // --limit-iface-in only in PREROUTING/INPUT/FORWARD, -out only in FORWARD/OUTPUT/POSTROUTING
        // (libxt_addrtype.c addrtype_check_hooks / xt_addrtype.c addrtype_mt_checkentry_v1).
        if (inOk && rng.chance(0.3)) o.push('--limit-iface-in');
        else if (outOk && rng.chance(0.3)) o.push('--limit-iface-out');
        p.push(`-m addrtype ${o.join(' ')}`);
        break;
      }
      case 6: {
        const net = rng.pick(NETS);
        const a = rng.int(1, 100);
        const r = `${net}.${a}-${net}.${a + rng.int(0, 100)}`;
        p.push(`-m iprange ${maybeNot(rng)}${rng.chance(0.5) ? '--src-range' : '--dst-range'} ${r}`);
        break;
      }
      case 7: {
        const burst = rng.chance(0.5) ? ` --limit-burst ${rng.int(1, 20)}` : '';
        p.push(`-m limit --limit ${rng.int(1, 100)}/${rng.pick(['sec', 'second', 'min', 'minute', 'hour', 'day'])}${burst}`);
        break;
      }
      case 8:
        p.push(`-m comment --comment ${q(rng.pick(COMMENTS))}`);
        break;
      case 9:
        p.push(
          rng.chance(0.5)
            ? `-m statistic --mode random --probability ${rng.pick(['0.5', '0.25', '0.1', '0.3333333333', '0.01'])}`
            : `-m statistic --mode nth --every ${rng.int(2, 5)} --packet 0`,
        );
        break;
      default:
        break;
    }
  }

  if (ctx.targets && !rng.chance(0.04)) p.push(randomTarget(rng, ctx, proto, protoInverted));
  return p.join(' ');
}

/** A target that the kernel accepts in this table and these hooks. */
function randomTarget(rng: Rng, ctx: RuleCtx, proto: string | undefined, protoInverted: boolean): string {
  const hooks = ctx.hooks;
  const portProto = !protoInverted && (proto === 'tcp' || proto === 'udp');
  const options: (() => string)[] = [
    () => '-j ACCEPT',
    () => '-j RETURN',
    () => {
      const o: string[] = [];
      if (rng.chance(0.7)) o.push(`--log-prefix ${q(rng.pick(LOG_PREFIXES))}`);
      if (rng.chance(0.4)) o.push(`--log-level ${rng.pick(['4', '6', '7', 'debug', 'info', 'warning', '0'])}`);
      if (rng.chance(0.15)) o.push('--log-tcp-sequence');
      if (rng.chance(0.15)) o.push('--log-tcp-options');
      if (rng.chance(0.15)) o.push('--log-ip-options');
      if (rng.chance(0.1)) o.push('--log-uid');
      return `-j LOG${o.length ? ' ' + o.join(' ') : ''}`;
    },
    () => {
      switch (rng.int(0, 4)) {
        case 0:
          return `-j MARK --set-mark ${rng.int(1, 4096)}`;
        case 1:
          return `-j MARK --set-xmark ${markValue(rng)}`;
        case 2:
          return `-j MARK --or-mark ${hex(rng.int(1, 0xffff))}`;
        case 3:
          return `-j MARK --and-mark ${hex(rng.int(1, 0xffff))}`;
        default:
          return `-j MARK --xor-mark ${hex(rng.int(1, 0xffff))}`;
      }
    },
    () => {
      switch (rng.int(0, 3)) {
        case 0:
          return `-j CONNMARK --save-mark${rng.chance(0.5) ? ` --mask ${hex(rng.pick([0xff, 0xffff, 0x4000]))}` : ''}`;
        case 1:
          return `-j CONNMARK --restore-mark${rng.chance(0.5) ? ` --mask ${hex(rng.pick([0xff, 0xffff, 0x4000]))}` : ''}`;
        case 2:
          return `-j CONNMARK --set-mark ${markValue(rng)}`;
        default:
          return `-j CONNMARK --set-xmark ${markValue(rng)}`;
      }
    },
  ];
  if (ctx.table !== 'nat') options.push(() => '-j DROP');
  if (ctx.table === 'filter') {
    options.push(() => '-j DROP');
    options.push(() => (proto === 'tcp' && !protoInverted && rng.chance(0.5) ? `-j REJECT --reject-with ${rng.pick(['tcp-reset', 'tcp-rst'])}` : `-j REJECT${rng.chance(0.8) ? ` --reject-with ${rng.pick(REJECTS)}` : ''}`));
  }
  if (ctx.table === 'raw') options.push(() => '-j TRACE');
  if (ctx.table === 'nat') {
    // nat targets are hook-bound (xt_nat.c, xt_REDIRECT.c, xt_MASQUERADE.c checkentry hooks).
    if (allIn(hooks, ['PREROUTING', 'OUTPUT'])) {
      options.push(() => {
        const port = portProto && rng.chance(0.6) ? `:${rng.chance(0.8) ? rng.int(1, 65535) : `${rng.int(1000, 2000)}-${rng.int(2001, 3000)}`}` : '';
        const addr = rng.chance(0.85) ? host(rng, '192.0.2') : `192.0.2.${rng.int(1, 50)}-192.0.2.${rng.int(51, 100)}`;
        return `-j DNAT --to-destination ${addr}${port}${rng.chance(0.1) ? ' --random' : ''}${rng.chance(0.1) ? ' --persistent' : ''}`;
      });
      if (portProto) options.push(() => `-j REDIRECT --${rng.pick(['to-ports', 'to-port'])} ${rng.chance(0.8) ? rng.int(1, 65535) : `${rng.int(8000, 8100)}-${rng.int(8101, 8200)}`}${rng.chance(0.2) ? ' --random' : ''}`);
    }
    if (allIn(hooks, ['POSTROUTING', 'INPUT'])) {
      options.push(() => {
        const port = portProto && rng.chance(0.4) ? `:${rng.int(1024, 30000)}-${rng.int(30001, 65535)}` : '';
        const addr = rng.chance(0.8) ? host(rng, '203.0.113') : `203.0.113.${rng.int(1, 50)}-203.0.113.${rng.int(51, 100)}`;
        return `-j SNAT --to-source ${addr}${port}${rng.chance(0.15) ? rng.pick([' --random', ' --random-fully', ' --persistent']) : ''}`;
      });
    }
    if (allIn(hooks, ['POSTROUTING'])) {
      options.push(() => {
        const ports = portProto && rng.chance(0.4) ? ` --to-ports ${rng.int(1024, 30000)}-${rng.int(30001, 65535)}` : '';
        return `-j MASQUERADE${ports}${rng.chance(0.3) ? rng.pick([' --random', ' --random-fully']) : ''}`;
      });
    }
  }
  if (ctx.jumpTo.length > 0) {
    options.push(() => `-j ${rng.pick(ctx.jumpTo)}`);
    options.push(() => `-g ${rng.pick(ctx.jumpTo)}`);
  }
  return rng.pick(options)();
}

/** Docker's bridge rules (DOCKER, DOCKER-USER, isolation chains) for 1–3 bridges. */
function genDocker(rng: Rng, b: RulesetBuilder, swarm: boolean, scale: number): string {
  const bridges = ['docker0'];
  const nUser = rng.int(0, 2);
  for (let i = 0; i < nUser; i++) bridges.push(`br-${rng.word(12, HEX)}`);
  if (swarm) bridges.push('docker_gwbridge');
  // Docker's 172.17.0.0/16-style subnets become /27 slices of 192.0.2.0/24.
  const subnet = (i: number): string => `192.0.2.${i * 32}/27`;
  const ctr = (i: number, k: number): string => `192.0.2.${i * 32 + 2 + k}`;

  b.chain('nat', 'DOCKER', ['PREROUTING', 'OUTPUT']);
  for (const c of ['DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER']) b.chain('filter', c, ['FORWARD']);
  b.add('nat', 'PREROUTING', '-m addrtype --dst-type LOCAL -j DOCKER');
  b.add('nat', 'OUTPUT', '! -d 203.0.113.0/24 -m addrtype --dst-type LOCAL -j DOCKER');

  b.add('filter', 'FORWARD', '-j DOCKER-USER');
  if (swarm) b.add('filter', 'FORWARD', '-j DOCKER-INGRESS');
  b.add('filter', 'FORWARD', '-j DOCKER-ISOLATION-STAGE-1');
  let published = 0;
  bridges.forEach((br, i) => {
    b.add('nat', 'POSTROUTING', `-s ${subnet(i)} ! -o ${br} -j MASQUERADE`);
    b.add('nat', 'DOCKER', `-i ${br} -j RETURN`);
    b.add('filter', 'FORWARD', `-o ${br} -m conntrack --ctstate ${rng.pick(['RELATED,ESTABLISHED', 'ESTABLISHED,RELATED'])} -j ACCEPT`);
    b.add('filter', 'FORWARD', `-o ${br} -j DOCKER`);
    b.add('filter', 'FORWARD', `-i ${br} ! -o ${br} -j ACCEPT`);
    b.add('filter', 'FORWARD', `-i ${br} -o ${br} -j ${br === 'docker_gwbridge' ? 'DROP' : 'ACCEPT'}`);
    b.add('filter', 'DOCKER-ISOLATION-STAGE-1', `-i ${br} ! -o ${br} -j DOCKER-ISOLATION-STAGE-2`);
    b.add('filter', 'DOCKER-ISOLATION-STAGE-2', `-o ${br} -j DROP`);
    const nPub = br === 'docker_gwbridge' ? 0 : rng.int(0, 3);
    for (let k = 0; k < nPub; k++) {
      const proto = rng.chance(0.8) ? 'tcp' : 'udp';
      const hostPort = rng.int(1024, 40000);
      const ctrPort = rng.pick([80, 443, 53, 5432, 6379, 8080]);
      const ip = ctr(i, k);
      const hostIp = rng.chance(0.3) ? `-d ${host(rng, '203.0.113')}/32 ` : '';
      b.add('nat', 'POSTROUTING', `-s ${ip}/32 -d ${ip}/32 -p ${proto} -m ${proto} --dport ${ctrPort} -j MASQUERADE`);
      b.add('nat', 'DOCKER', `${hostIp}! -i ${br} -p ${proto} -m ${proto} --dport ${hostPort} -j DNAT --to-destination ${ip}:${ctrPort}`);
      b.add('filter', 'DOCKER', `-d ${ip}/32 ! -i ${br} -o ${br} -p ${proto} -m ${proto} --dport ${ctrPort} -j ACCEPT`);
      published++;
    }
  });
  if (swarm) b.add('nat', 'POSTROUTING', '-o docker_gwbridge -m addrtype --src-type LOCAL -j MASQUERADE');
  b.add('filter', 'DOCKER-ISOLATION-STAGE-1', '-j RETURN');
  b.add('filter', 'DOCKER-ISOLATION-STAGE-2', '-j RETURN');
  const nUserRules = Math.round(rng.int(0, 4) * scale);
  for (let k = 0; k < nUserRules; k++) {
    b.add('filter', 'DOCKER-USER', randomRule(rng, { table: 'filter', hooks: b.hooks('filter', 'DOCKER-USER'), jumpTo: [], targets: true }));
  }
  b.add('filter', 'DOCKER-USER', '-j RETURN');
  return `docker(${bridges.length} bridge${bridges.length === 1 ? '' : 's'}, ${published} published)`;
}

/** Swarm's routing-mesh rules on the host (DOCKER-INGRESS) and in ingress_sbox (MARK, ipvs SNAT). */
function genSwarm(rng: Rng, b: RulesetBuilder, ipvs: boolean): string {
  b.chain('nat', 'DOCKER-INGRESS', ['PREROUTING', 'OUTPUT']);
  b.chain('filter', 'DOCKER-INGRESS', ['FORWARD']);
  b.add('nat', 'PREROUTING', '-m addrtype --dst-type LOCAL -j DOCKER-INGRESS');
  b.add('nat', 'OUTPUT', '-m addrtype --dst-type LOCAL -j DOCKER-INGRESS');
  const sbox = host(rng, '198.51.100');
  const nPorts = rng.int(1, 3);
  let fwmark = 0x100;
  for (let i = 0; i < nPorts; i++) {
    const proto = rng.chance(0.75) ? 'tcp' : 'udp';
    const port = rng.int(3000, 32000);
    b.add('nat', 'DOCKER-INGRESS', `-p ${proto} -m ${proto} --dport ${port} -j DNAT --to-destination ${sbox}:${port}`);
    b.add('filter', 'DOCKER-INGRESS', `-p ${proto} -m ${proto} --dport ${port} -j ACCEPT`);
    b.add(
      'filter',
      'DOCKER-INGRESS',
      rng.chance(0.5)
        ? `-p ${proto} -m state --state RELATED,ESTABLISHED -m ${proto} --sport ${port} -j ACCEPT`
        : `-p ${proto} -m ${proto} --sport ${port} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    );
    // ingress_sbox: mark the published port for IPVS (libnetwork service_linux.go programIngress).
    b.add('mangle', 'PREROUTING', `-p ${proto} -m ${proto} --dport ${port} -j MARK ${rng.chance(0.5) ? `--set-mark ${fwmark}` : `--set-xmark ${hex(fwmark)}/0xffffffff`}`);
    fwmark++;
  }
  const vip = host(rng, '198.51.100');
  b.add('mangle', 'INPUT', `-d ${vip}/32 -j MARK --set-xmark ${hex(fwmark)}/0xffffffff`);
  b.add('mangle', 'OUTPUT', `-d ${vip}/32 -j MARK --set-xmark ${hex(fwmark)}/0xffffffff`);
  if (ipvs) b.add('nat', 'POSTROUTING', `-d 198.51.100.0/24 -m ipvs --ipvs -j SNAT --to-source ${sbox}`);
  b.add('nat', 'DOCKER-INGRESS', '-j RETURN');
  b.add('filter', 'DOCKER-INGRESS', '-j RETURN');

  // A task container's embedded DNS (DOCKER_OUTPUT / DOCKER_POSTROUTING), with 127.0.0.11 mapped
  // into TEST-NET, and its published-port REDIRECT.
  const dns = '203.0.113.53';
  const tcpPort = rng.int(30000, 60000);
  const udpPort = rng.int(30000, 60000);
  b.chain('nat', 'DOCKER_OUTPUT', ['OUTPUT']);
  b.chain('nat', 'DOCKER_POSTROUTING', ['POSTROUTING']);
  b.add('nat', 'OUTPUT', `-d ${dns}/32 -j DOCKER_OUTPUT`);
  b.add('nat', 'POSTROUTING', `-d ${dns}/32 -j DOCKER_POSTROUTING`);
  b.add('nat', 'DOCKER_OUTPUT', `-d ${dns}/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination ${dns}:${tcpPort}`);
  b.add('nat', 'DOCKER_OUTPUT', `-d ${dns}/32 -p udp -m udp --dport 53 -j DNAT --to-destination ${dns}:${udpPort}`);
  b.add('nat', 'DOCKER_POSTROUTING', `-s ${dns}/32 -p tcp -m tcp --sport ${tcpPort} -j SNAT --to-source :53`);
  b.add('nat', 'DOCKER_POSTROUTING', `-s ${dns}/32 -p udp -m udp --sport ${udpPort} -j SNAT --to-source :53`);
  b.add('nat', 'PREROUTING', `-d ${host(rng, '198.51.100')}/32 -p tcp -m tcp --dport ${rng.int(3000, 9000)} -j REDIRECT --to-ports 80`);
  return `swarm(${nPorts} ingress port${nPorts === 1 ? '' : 's'}${ipvs ? ', ipvs' : ''})`;
}

/** kube-proxy iptables mode: KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-*, masquerade marks, filter chains. */
function genKube(rng: Rng, b: RulesetBuilder): string {
  const mode = rng.pick(['random', 'nth', 'mixed']);
  const podNet = '192.0.2.128/25';
  b.chain('nat', 'KUBE-SERVICES', ['PREROUTING', 'OUTPUT']);
  b.chain('nat', 'KUBE-NODEPORTS', ['PREROUTING', 'OUTPUT']);
  b.chain('nat', 'KUBE-MARK-MASQ', ['PREROUTING', 'OUTPUT']);
  b.chain('nat', 'KUBE-POSTROUTING', ['POSTROUTING']);
  b.chain('filter', 'KUBE-FIREWALL', ['INPUT', 'OUTPUT']);
  b.chain('filter', 'KUBE-FORWARD', ['FORWARD']);
  b.chain('filter', 'KUBE-SERVICES', ['FORWARD', 'OUTPUT']);
  b.add('nat', 'PREROUTING', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  b.add('nat', 'OUTPUT', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  b.add('nat', 'POSTROUTING', '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
  b.add('nat', 'KUBE-MARK-MASQ', '-j MARK --set-xmark 0x4000/0x4000');
  b.add('nat', 'KUBE-POSTROUTING', '-m mark ! --mark 0x4000/0x4000 -j RETURN');
  b.add('nat', 'KUBE-POSTROUTING', rng.chance(0.5) ? '-j MARK --xor-mark 0x4000' : '-j MARK --set-xmark 0x4000/0x0');
  b.add('nat', 'KUBE-POSTROUTING', `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${rng.chance(0.5) ? ' --random-fully' : ''}`);
  b.add('filter', 'INPUT', '-j KUBE-FIREWALL');
  b.add('filter', 'OUTPUT', '-j KUBE-FIREWALL');
  b.add('filter', 'FORWARD', '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD');
  b.add('filter', 'FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  b.add('filter', 'OUTPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  b.add('filter', 'KUBE-FIREWALL', '-m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP');
  b.add('filter', 'KUBE-FIREWALL', '! -s 203.0.113.0/24 -d 203.0.113.0/24 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  b.add('filter', 'KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP');
  b.add('filter', 'KUBE-FORWARD', '-m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT');
  b.add('filter', 'KUBE-FORWARD', `-s ${podNet} -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);

  const nSvc = rng.int(1, 6);
  let nEp = 0;
  const names = ['kubernetes', 'kube-dns', 'web', 'api', 'db', 'metrics-server', 'ingress-nginx'];
  const namespaces = ['default', 'kube-system', 'prod', 'team-a'];
  for (let s = 0; s < nSvc; s++) {
    const ns = rng.pick(namespaces);
    const name = rng.pick(names);
    const portName = rng.pick(['', 'http', 'https', 'dns-tcp', 'metrics']);
    const svcName = `${ns}/${name}:${portName}`;
    const proto = rng.chance(0.8) ? 'tcp' : 'udp';
    const clusterIp = `198.51.100.${10 + s}`;
    const port = rng.pick([53, 80, 443, 8080, 9090]);
    const targetPort = rng.pick([53, 80, 8080, 8443, 9153]);
    const endpoints = rng.int(0, 4);
    const svcChain = `KUBE-SVC-${rng.word(16, B32)}`;
    if (endpoints === 0) {
      b.add('filter', 'KUBE-SERVICES', `-d ${clusterIp}/32 -p ${proto} -m comment --comment ${q(`${svcName} has no endpoints`)} -m ${proto} --dport ${port} -j REJECT --reject-with icmp-port-unreachable`);
      continue;
    }
    b.chain('nat', svcChain, ['PREROUTING', 'OUTPUT']);
    b.add('nat', 'KUBE-SERVICES', `! -s ${podNet} -d ${clusterIp}/32 -p ${proto} -m comment --comment ${q(`${svcName} cluster IP`)} -m ${proto} --dport ${port} -j KUBE-MARK-MASQ`);
    b.add('nat', 'KUBE-SERVICES', `-d ${clusterIp}/32 -p ${proto} -m comment --comment ${q(`${svcName} cluster IP`)} -m ${proto} --dport ${port} -j ${svcChain}`);
    if (rng.chance(0.4)) {
      const nodePort = rng.int(30000, 32767);
      b.add('nat', 'KUBE-NODEPORTS', `-p ${proto} -m comment --comment ${q(svcName)} -m ${proto} --dport ${nodePort} -j KUBE-MARK-MASQ`);
      b.add('nat', 'KUBE-NODEPORTS', `-p ${proto} -m comment --comment ${q(svcName)} -m ${proto} --dport ${nodePort} -j ${svcChain}`);
    }
    const useNth = mode === 'nth' || (mode === 'mixed' && rng.chance(0.5));
    for (let e = 0; e < endpoints; e++) {
      const sep = `KUBE-SEP-${rng.word(16, B32)}`;
      const ep = `192.0.2.${rng.int(130, 254)}`;
      b.chain('nat', sep, ['PREROUTING', 'OUTPUT']);
      const left = endpoints - e;
      let stat = '';
      if (left > 1) {
        // kube-proxy writes 1/(n-i) with %0.10f (proxier.go writeServiceToEndpointRules).
        stat = useNth ? ` -m statistic --mode nth --every ${left} --packet 0` : ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}`;
      }
      b.add('nat', svcChain, `-m comment --comment ${q(svcName)}${stat} -j ${sep}`);
      b.add('nat', sep, `-s ${ep}/32 -m comment --comment ${q(svcName)} -j KUBE-MARK-MASQ`);
      b.add('nat', sep, `-p ${proto} -m comment --comment ${q(svcName)} -m ${proto} -j DNAT --to-destination ${ep}:${targetPort}`);
      nEp++;
    }
  }
  b.add('nat', 'KUBE-SERVICES', '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  return `kube-proxy(${nSvc} service${nSvc === 1 ? '' : 's'}, ${nEp} endpoint${nEp === 1 ? '' : 's'}, ${mode})`;
}

/** Random user chains with RETURN and goto, reached from one built-in chain each. */
function genUserChains(rng: Rng, b: RulesetBuilder, scale: number): string {
  const homes: [Table, Hook][] = [
    ['filter', 'INPUT'],
    ['filter', 'FORWARD'],
    ['filter', 'OUTPUT'],
    ['mangle', 'PREROUTING'],
    ['mangle', 'POSTROUTING'],
    ['nat', 'PREROUTING'],
    ['nat', 'POSTROUTING'],
    ['raw', 'PREROUTING'],
  ];
  const n = Math.max(1, Math.round(rng.int(1, 5) * scale));
  const made: { table: Table; hook: Hook; name: string }[] = [];
  for (let i = 0; i < n; i++) {
    const [table, hook] = rng.pick(homes);
    const name = rng.pick(['MT-USER', 'LAN-CHECK', 'fw_in', 'Chain.with.dots', 'x']) + `-${i}`;
    b.chain(table, name, [hook]);
    made.push({ table, hook, name });
  }
  for (let i = 0; i < made.length; i++) {
    const { table, hook, name } = made[i];
    // Only later chains with the same home: no loops, and every target stays valid for the hook.
    const later = made.slice(i + 1).filter((m) => m.table === table && m.hook === hook).map((m) => m.name);
    const nRules = Math.round(rng.int(1, 8) * scale);
    for (let k = 0; k < nRules; k++) {
      b.add(table, name, randomRule(rng, { table, hooks: new Set([hook]), jumpTo: later, targets: true }));
    }
    if (rng.chance(0.6)) b.add(table, name, '-j RETURN');
    // The built-in chain enters it with a jump or a goto, maybe under conditions.
    const cond = rng.chance(0.5) ? randomRule(rng, { table, hooks: new Set([hook]), builtin: hook, jumpTo: [], targets: false }) : '';
    b.add(table, hook, `${cond ? cond + ' ' : ''}${rng.chance(0.3) ? '-g' : '-j'} ${name}`);
  }
  return `${made.length} user chain${made.length === 1 ? '' : 's'}`;
}

/** A classic host firewall and NAT gateway, as admins write them next to Docker's rules. */
function genHostFirewall(rng: Rng, b: RulesetBuilder): string {
  const wan = rng.pick(['eth0', 'eth1', 'wan0']);
  b.chain('filter', 'LOG-REJECT', ['INPUT']);
  b.chain('mangle', 'MARK-LAN', ['PREROUTING']);
  b.add('filter', 'INPUT', '-i lo -j ACCEPT');
  b.add('filter', 'INPUT', `-m ${rng.chance(0.5) ? 'state --state' : 'conntrack --ctstate'} ESTABLISHED,RELATED -j ACCEPT`);
  b.add('filter', 'INPUT', `-p tcp ${rng.chance(0.5) ? '--tcp-flags ALL NONE' : '-m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE'} -j DROP`);
  b.add('filter', 'INPUT', '-f -j DROP');
  b.add('filter', 'INPUT', `-p icmp --icmp-type ${rng.pick(['echo-request', '8'])} -m limit --limit ${rng.int(1, 10)}/sec -j ACCEPT`);
  b.add('filter', 'INPUT', `-p icmp -m icmp --icmp-type ${rng.pick(['fragmentation-needed', '3/4', 'time-exceeded'])} -j ACCEPT`);
  b.add('filter', 'INPUT', `-p tcp ${rng.chance(0.5) ? '--syn' : '-m tcp ! --syn'} -m multiport --dports ${rng.pick(['22,80,443', '2377,7946', '22'])} -m conntrack --ctstate NEW -j ACCEPT`);
  b.add('filter', 'INPUT', `-i ${wan} -m addrtype ! --dst-type LOCAL --limit-iface-in -j DROP`);
  b.add('filter', 'INPUT', `-m iprange --src-range 198.51.100.${rng.int(1, 50)}-198.51.100.${rng.int(51, 99)} -j ACCEPT`);
  b.add('filter', 'INPUT', '-j LOG-REJECT');
  b.add('filter', 'LOG-REJECT', `-m limit --limit ${rng.int(1, 30)}/min --limit-burst ${rng.int(1, 10)} -j LOG --log-prefix ${q(rng.pick(LOG_PREFIXES))} --log-level ${rng.pick(['4', '6', 'info'])}`);
  b.add('filter', 'LOG-REJECT', `-p tcp -j REJECT --reject-with ${rng.pick(['tcp-reset', 'tcp-rst'])}`);
  b.add('filter', 'LOG-REJECT', `-p udp -j REJECT --reject-with ${rng.pick(REJECTS)}`);
  b.add('filter', 'LOG-REJECT', '-j REJECT');
  b.add('mangle', 'PREROUTING', '-j CONNMARK --restore-mark');
  b.add('mangle', 'PREROUTING', '-m mark ! --mark 0x0 -j ACCEPT');
  b.add('mangle', 'PREROUTING', `-i docker+ -g MARK-LAN`);
  b.add('mangle', 'MARK-LAN', `-s 192.0.2.0/24 -j MARK --set-mark ${rng.int(1, 15)}`);
  b.add('mangle', 'MARK-LAN', '-j CONNMARK --save-mark');
  b.add('nat', 'POSTROUTING', `-o ${wan} -p tcp -j MASQUERADE --to-ports ${rng.int(1024, 20000)}-65535${rng.pick(['', ' --random', ' --random-fully'])}`);
  b.add('nat', 'POSTROUTING', `-o ${wan} -p udp -j MASQUERADE --to-ports ${rng.int(1024, 20000)}-65535 --random`);
  b.add('nat', 'POSTROUTING', `-s 192.0.2.0/24 -o ${wan} -j SNAT --to-source 203.0.113.${rng.int(1, 99)}`);
  b.add('nat', 'PREROUTING', `-i ${wan} -p tcp -m tcp --dport ${rng.int(1, 1000)} -j REDIRECT --to-port ${rng.int(8000, 9000)}`);
  return 'host firewall';
}

/**
 * Less common extensions that real hosts carry next to Docker's rules: conntrack bypass for the
 * VXLAN underlay (raw CT --notrack / NOTRACK), MSS clamping, physdev, owner, recent, NFLOG,
 * pkttype, length, helper and SCTP chunk matches, and chain names with unusual characters.
 */
function genExtras(rng: Rng, b: RulesetBuilder): string {
  b.add('raw', 'PREROUTING', `-p udp -m udp --dport 4789 -j CT --notrack`);
  if (rng.chance(0.5)) b.add('raw', 'OUTPUT', `-p udp --dport ${rng.pick([4789, 7946])} -j NOTRACK`);
  if (rng.chance(0.3)) b.add('raw', 'OUTPUT', `-p udp --dport 53 -j CT --zone ${rng.int(1, 9)}`);
  b.add('mangle', 'FORWARD', `-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS ${rng.chance(0.6) ? '--clamp-mss-to-pmtu' : `--set-mss ${rng.int(1200, 1460)}`}`);
  b.add('mangle', 'PREROUTING', `-m pkttype ${maybeNot(rng)}--pkt-type ${rng.pick(['broadcast', 'multicast', 'unicast'])} -j RETURN`);
  b.add('mangle', 'PREROUTING', `-p udp -m length --length ${rng.int(0, 100)}:${rng.int(1200, 1500)} -j ACCEPT`);
  b.add('filter', 'FORWARD', `-m physdev --physdev-in ${rng.pick(['veth+', 'vethb1c2d3e', 'eth1'])} --physdev-is-bridged -j ACCEPT`);
  b.add('filter', 'FORWARD', `-m physdev ${maybeNot(rng, 0.5)}--physdev-out ${rng.pick(['eth0', 'vxlan0'])} -j DROP`);
  b.add('filter', 'OUTPUT', `-m owner ${maybeNot(rng)}--${rng.pick(['uid', 'gid'])}-owner ${rng.int(0, 1000)} -j ACCEPT`);
  b.add('filter', 'INPUT', `-p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name ssh --rsource`);
  b.add('filter', 'INPUT', `-p tcp -m tcp --dport 22 -m recent --update --seconds ${rng.int(10, 300)} --hitcount ${rng.int(2, 10)} --name ssh --rsource -j DROP`);
  b.add('filter', 'INPUT', `-j NFLOG --nflog-group ${rng.int(0, 20)}${rng.chance(0.5) ? ` --nflog-prefix ${q(rng.pick(LOG_PREFIXES))}` : ''}`);
  b.add('filter', 'INPUT', `-m helper --helper ${rng.pick(['ftp', 'sip', 'tftp'])} -j ACCEPT`);
  b.add('filter', 'INPUT', `-p sctp -m sctp --chunk-types ${rng.pick(['any', 'all', 'only'])} ${rng.pick(['INIT', 'INIT,INIT_ACK', 'DATA'])} -j ACCEPT`);
  b.add('filter', 'INPUT', `-m conntrack --ctorigdstport ${rng.int(1, 65535)} --ctreplsrcport ${rng.int(1, 1000)}:${rng.int(1001, 2000)} -j ACCEPT`);
  b.add('filter', 'INPUT', `-m statistic --mode nth --every ${rng.int(3, 9)} --packet ${rng.int(1, 2)} -j ACCEPT`);
  b.add('filter', 'INPUT', `-p ${rng.pick(['89', '132', 'ipv6-icmp', '255', 'ospf'])} -j ACCEPT`);
  // Counting rule without matches or target, and chain names at iptables' limits (28 chars).
  b.add('filter', 'INPUT', '');
  const odd = rng.sample(['MT-VERY-LONG-CHAIN-NAME-1234', 'fw@in', 'with:colon', '1chain', 'x!', 'a/b'], 2);
  for (const name of odd) {
    b.chain('filter', name, ['INPUT']);
    b.add('filter', 'INPUT', `-i ${rng.pick(['eth0.100', 'wg-0_x', 'eth0'])} ${rng.chance(0.3) ? '-g' : '-j'} ${name}`);
    b.add('filter', name, '-j RETURN');
  }
  return 'extras';
}

/** Random rules directly in built-in chains (TRACE in raw, policies, REJECTs, LOG, ...). */
function genBuiltinNoise(rng: Rng, b: RulesetBuilder, scale: number): string {
  let n = 0;
  for (const t of TABLE_ORDER) {
    for (const hook of BUILTINS[t]) {
      const k = Math.round(rng.int(0, 3) * scale);
      for (let i = 0; i < k; i++) {
        b.add(t, hook, randomRule(rng, { table: t, hooks: new Set([hook]), builtin: hook, jumpTo: [], targets: true }));
        n++;
      }
    }
  }
  b.add('raw', 'PREROUTING', `-s ${host(rng, '203.0.113')}/32 -p ${rng.pick(['tcp', 'udp', 'icmp'])} -j TRACE`);
  if (rng.chance(0.5)) b.add('raw', 'OUTPUT', `-d ${host(rng, '192.0.2')}/32 -j TRACE`);
  if (rng.chance(0.3)) b.policy('filter', 'FORWARD', 'DROP');
  if (rng.chance(0.15)) b.policy('filter', 'INPUT', 'DROP');
  return `${n} built-in rules`;
}

/**
 * A random, kernel-loadable ruleset in Docker / kube-proxy shapes for one seed.
 * Deterministic: the same seed and options always give the same text.
 */
export function genRuleset(seed: number, opts: GenRulesetOptions = {}): GeneratedRuleset {
  const rng = new Rng(seed);
  const counters = opts.counters ?? true;
  const scale = opts.scale ?? 1;
  const b = new RulesetBuilder(rng, counters);
  const parts: string[] = [];
  const swarm = rng.chance(0.6);
  if (rng.chance(0.85)) parts.push(genDocker(rng, b, swarm, scale));
  if (swarm) parts.push(genSwarm(rng, b, opts.ipvs ?? false));
  if (rng.chance(0.6)) parts.push(genKube(rng, b));
  if (rng.chance(0.6)) parts.push(genHostFirewall(rng, b));
  if (rng.chance(0.5)) parts.push(genExtras(rng, b));
  parts.push(genUserChains(rng, b, scale));
  parts.push(genBuiltinNoise(rng, b, scale));
  const text = b.render();
  return {
    seed,
    iptablesRestore: text,
    counters,
    ruleCount: b.ruleCount,
    chains: b.chainList(),
    description: `seed ${seed}: ${parts.join(', ')}; ${b.ruleCount} rules${counters ? ', counters' : ''}`,
  };
}
