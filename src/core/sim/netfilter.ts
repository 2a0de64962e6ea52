/**
 * Evaluates one iptables chain for one packet, the way ipt_do_table does
 * (net/ipv4/netfilter/ip_tables.c): rules in order, the first matching terminal target decides,
 * user chains are called with a return stack, `-g` replaces the current frame, and a built-in
 * chain that runs out falls to its policy. Probabilistic matches (`-m statistic`) and matches the
 * simulator does not understand split the evaluation into branches, each with its probability.
 */
import type { Chain, Rule, Ruleset, Table, TableName, XtMatch, XtOption, XtTarget } from '../model/netfilter';
import { ip4, maskOf, parseCidr } from './addr';

/** Connection tracking state of the packet in this namespace (nf_conntrack ctinfo). */
export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

/** The packet as the matches see it. Addresses are 32-bit integers. */
export interface NfPacket {
  src: number;
  dst: number;
  proto: string;
  sport?: number;
  dport?: number;
  icmpType?: number;
  /** TCP flags of this packet (SYN for a connection's first packet). */
  tcpFlags?: number;
  mark: number;
  iif?: string;
  oif?: string;
  physIn?: string;
  physOut?: string;
  /** The packet is bridged (br_netfilter). */
  bridged?: boolean;
}

/** Conntrack facts of the packet's connection in this namespace. */
export interface NfConn {
  state: CtState;
  dir: 'ORIGINAL' | 'REPLY';
  mark: number;
  /** Original direction tuple as this namespace first saw it. */
  orig: { src: number; dst: number; sport?: number; dport?: number };
  /** The connection was DNATed / SNATed here. */
  dnat: boolean;
  snat: boolean;
  /** The connection belongs to IPVS (ip_vs conn with conntrack=1). */
  ipvs?: { vaddr: number; vport?: number; vproto: string; method: string; fwmark?: number };
}

/** What the rules need to know about the namespace. */
export interface NfContext {
  /** addrtype of an address (LOCAL, UNICAST, BROADCAST, MULTICAST, BLACKHOLE, UNREACHABLE, PROHIBIT). */
  addrType(addr: number, iface?: string): string;
  /** Whether the packet was generated locally (OUTPUT path): owner matches only apply there. */
  local: boolean;
}

/** A rewrite a NAT target asks for; applied by the caller, which knows routes and addresses. */
export type NatAction =
  | { kind: 'DNAT'; addr?: number; port?: number }
  | { kind: 'SNAT'; addr?: number; port?: number }
  | { kind: 'MASQUERADE'; port?: number }
  | { kind: 'REDIRECT'; port?: number };

/** One event of a chain walk worth a step in the trace. */
export interface NfEvent {
  chain: string;
  rule?: Rule;
  action: string;
  note?: string;
  /** Packet mark / conntrack mark after the event. */
  mark: number;
  ctmark: number;
}

/** One branch of a table walk. */
export interface NfBranch {
  probability: number;
  verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'UNKNOWN';
  /** For REJECT: the --reject-with type. For UNKNOWN: what was not understood. */
  detail?: string;
  /** The rule (or policy) that decided the verdict. */
  decidedBy?: Rule;
  policyOf?: Chain;
  mark: number;
  ctmark: number;
  untracked: boolean;
  nat?: NatAction;
  events: NfEvent[];
}

interface Frame {
  chain: Chain;
  next: number;
}

interface WalkState {
  probability: number;
  stack: Frame[];
  mark: number;
  ctmark: number;
  untracked: boolean;
  events: NfEvent[];
}

const MAX_STEPS = 1_000_000;

/** Finds a table of a ruleset. */
export function tableOf(rs: Ruleset | undefined, name: TableName): Table | undefined {
  return rs?.tables.find((t) => t.name === name);
}

/** Chain lookup per table, built once per table object. */
const chainIndex = new WeakMap<Table, Map<string, Chain>>();
function chainByName(t: Table, name: string): Chain | undefined {
  let m = chainIndex.get(t);
  if (!m) {
    m = new Map(t.chains.map((c) => [c.name, c]));
    chainIndex.set(t, m);
  }
  return m.get(name);
}

/**
 * Long runs of rules that each match one destination address (`-d 10.96.0.1/32`, as kube-proxy's
 * KUBE-SERVICES has by the ten thousand) are indexed by that address, so the walk jumps to the next
 * rule that can match instead of testing each one. First-match order is kept exactly: only rules
 * whose destination cannot match are skipped.
 */
interface DstRun {
  end: number;
  byDst: Map<number, number[]>;
}
interface ChainIndex {
  runOf: Int32Array;
  runs: DstRun[];
}
const MIN_RUN = 8;
const chainRuns = new WeakMap<Chain, ChainIndex>();
let useIndex = true;

/** Turns the destination index on or off (the benchmark's linear-scan baseline turns it off). */
export function setRuleIndex(on: boolean): void {
  useIndex = on;
}

function hostDst(r: Rule): number | undefined {
  const d = r.spec.dst;
  if (!d || d.invert || d.prefixLen !== 32 || d.mask) return undefined;
  return ip4(d.addr);
}

function indexChain(c: Chain): ChainIndex {
  let idx = chainRuns.get(c);
  if (idx) return idx;
  const runOf = new Int32Array(c.rules.length).fill(-1);
  const runs: DstRun[] = [];
  let i = 0;
  while (i < c.rules.length) {
    let j = i;
    while (j < c.rules.length && hostDst(c.rules[j]) !== undefined) j++;
    if (j - i >= MIN_RUN) {
      const byDst = new Map<number, number[]>();
      for (let k = i; k < j; k++) {
        const d = hostDst(c.rules[k]) as number;
        const l = byDst.get(d);
        if (l) l.push(k);
        else byDst.set(d, [k]);
        runOf[k] = runs.length;
      }
      runs.push({ end: j, byDst });
    }
    i = Math.max(j, i + 1);
  }
  idx = { runOf, runs };
  chainRuns.set(c, idx);
  return idx;
}

/** The next rule index at or after `i` that could match a packet to `dst`. */
function nextCandidate(c: Chain, i: number, dst: number): number {
  if (!useIndex || c.rules.length < MIN_RUN) return i;
  const idx = indexChain(c);
  const r = idx.runOf[i];
  if (r === undefined || r < 0) return i;
  const run = idx.runs[r];
  const list = run.byDst.get(dst);
  if (!list) return run.end;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo] : run.end;
}

/** Walks a built-in chain of a table and returns every branch with its verdict. */
export function walkTable(t: Table, hook: string, p: NfPacket, ct: NfConn, ctx: NfContext): NfBranch[] {
  const start = chainByName(t, hook);
  if (!start) return [{ probability: 1, verdict: 'ACCEPT', mark: p.mark, ctmark: ct.mark, untracked: false, events: [] }];
  const out: NfBranch[] = [];
  const work: WalkState[] = [{ probability: 1, stack: [{ chain: start, next: 0 }], mark: p.mark, ctmark: ct.mark, untracked: false, events: [] }];
  let steps = 0;
  // Field by field rather than by spread: one object shape here whatever the caller's (the
  // spread of a caller-shaped object is slow on this hot path). Every field of the types is copied.
  const pv: NfPacket = { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport, dport: p.dport, icmpType: p.icmpType, tcpFlags: p.tcpFlags, mark: p.mark, iif: p.iif, oif: p.oif, physIn: p.physIn, physOut: p.physOut, bridged: p.bridged };
  const cv: NfConn = { state: ct.state, dir: ct.dir, mark: ct.mark, orig: ct.orig, dnat: ct.dnat, snat: ct.snat, ipvs: ct.ipvs };
  while (work.length) {
    const s = work.pop() as WalkState;
    let done = false;
    while (!done) {
      if (++steps > MAX_STEPS) {
        out.push({ probability: s.probability, verdict: 'UNKNOWN', detail: 'rule evaluation did not end (a loop between chains?)', mark: s.mark, ctmark: s.ctmark, untracked: s.untracked, events: s.events });
        break;
      }
      const frame = s.stack[s.stack.length - 1];
      frame.next = nextCandidate(frame.chain, frame.next, p.dst);
      if (frame.next >= frame.chain.rules.length) {
        // End of chain: a built-in falls to its policy; a user chain returns to its caller.
        if (s.stack.length === 1 || frame.chain.builtin) {
          // An empty return stack means the hook's base chain policy decides, also when a `-g`
          // replaced the base chain's frame (ipt_do_table: underflow[hook]; nft_do_chain:
          // nft_base_chain(basechain)->policy).
          const policy = start.policy ?? 'ACCEPT';
          s.events.push({ chain: start.name, action: `policy ${policy}`, mark: s.mark, ctmark: s.ctmark });
          out.push({ probability: s.probability, verdict: policy, policyOf: start, mark: s.mark, ctmark: s.ctmark, untracked: s.untracked, events: s.events });
          done = true;
        } else {
          s.stack.pop();
          s.events.push({ chain: frame.chain.name, action: `end of ${frame.chain.name}: return`, mark: s.mark, ctmark: s.ctmark });
        }
        continue;
      }
      const rule = frame.chain.rules[frame.next++];
      // The walk's marks live in the branch; the packet and conntrack views are updated in place
      // rather than copied per rule (a hot path: 10,000-rule chains).
      pv.mark = s.mark;
      cv.mark = s.ctmark;
      const m = matchRule(rule, pv, cv, ctx);
      if (m.p <= 0) continue;
      if (m.p < 1) {
        // Split: the branch where the rule does not match continues from the next rule.
        const miss: WalkState = {
          probability: s.probability * (1 - m.p),
          stack: s.stack.map((f) => ({ ...f })),
          mark: s.mark,
          ctmark: s.ctmark,
          untracked: s.untracked,
          events: [...s.events, { chain: frame.chain.name, rule, action: 'not matched', note: m.note, mark: s.mark, ctmark: s.ctmark }],
        };
        work.push(miss);
        s.probability *= m.p;
        s.events = [...s.events, { chain: frame.chain.name, rule, action: 'matched', note: m.note, mark: s.mark, ctmark: s.ctmark }];
      }
      const r = applyTarget(rule, rule.spec.target, s, t, start);
      if (r === 'continue') continue;
      out.push({ verdict: r.verdict, detail: r.detail, nat: r.nat, probability: s.probability, decidedBy: rule, mark: s.mark, ctmark: s.ctmark, untracked: s.untracked, events: s.events });
      done = true;
    }
  }
  return out;
}

type TargetResult = 'continue' | Pick<NfBranch, 'verdict' | 'detail' | 'nat'>;

function opt(o: XtOption[], name: string): XtOption | undefined {
  for (const x of o) if (x.name === name) return x;
  return undefined;
}

function num(s: string | undefined): number {
  if (s === undefined) return 0;
  const n = s.startsWith('0x') ? parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n >>> 0 : 0;
}

/** `0x100/0xffffffff` → [value, mask]. */
function valMask(s: string | undefined, defMask = 0xffffffff): [number, number] {
  if (!s) return [0, defMask];
  const [v, m] = s.split('/');
  return [num(v), m === undefined ? defMask : num(m)];
}

/** `172.18.0.2:8080`, `:53`, `10.0.0.1-10.0.0.5:1000-2000` → first address and port. */
function natTo(s: string | undefined): { addr?: number; port?: number; range: boolean } {
  if (!s) return { range: false };
  const i = s.lastIndexOf(':');
  const a = i >= 0 ? s.slice(0, i) : s;
  const p = i >= 0 ? s.slice(i + 1) : '';
  const [a1, a2] = a.split('-');
  const [p1, p2] = p.split('-');
  return { addr: a1 ? ip4(a1) : undefined, port: p1 ? Number(p1) : undefined, range: a2 !== undefined || p2 !== undefined };
}

function applyTarget(rule: Rule, tg: XtTarget | undefined, s: WalkState, t: Table, start: Chain): TargetResult {
  const frame = s.stack[s.stack.length - 1];
  const ev = (action: string, note?: string): void => void s.events.push({ chain: frame.chain.name, rule, action, note, mark: s.mark, ctmark: s.ctmark });
  if (!tg) {
    ev('matched (no target: counts only)');
    return 'continue';
  }
  const o = tg.options;
  switch (tg.name) {
    case 'ACCEPT':
      ev('ACCEPT');
      return { verdict: 'ACCEPT' };
    case 'DROP':
      ev('DROP');
      return { verdict: 'DROP' };
    case 'REJECT': {
      const w = opt(o, 'reject-with')?.values[0] ?? 'icmp-port-unreachable';
      ev(`REJECT ${w}`);
      return { verdict: 'REJECT', detail: w };
    }
    case 'RETURN': {
      if (s.stack.length === 1 || frame.chain.builtin) {
        // RETURN with an empty return stack (in the base chain, or in a chain it reached by -g)
        // applies the base chain's policy (ip_tables.c: XT_RETURN with stackidx 0 → underflow).
        const policy = start.policy ?? 'ACCEPT';
        ev(`RETURN with nothing to return to: policy of ${start.name} ${policy}`);
        return { verdict: policy };
      }
      s.stack.pop();
      ev(`RETURN to ${s.stack[s.stack.length - 1].chain.name}`);
      return 'continue';
    }
    case 'DNAT':
    case 'SNAT': {
      const key = tg.name === 'DNAT' ? 'to-destination' : 'to-source';
      const to = natTo(opt(o, key)?.values[0]);
      ev(tg.name, to.range ? 'a range: the first address/port of it is shown' : undefined);
      return { verdict: 'ACCEPT', nat: { kind: tg.name, addr: to.addr, port: to.port } };
    }
    case 'MASQUERADE': {
      const ports = opt(o, 'to-ports')?.values[0];
      ev('MASQUERADE');
      return { verdict: 'ACCEPT', nat: { kind: 'MASQUERADE', port: ports ? Number(ports.split('-')[0]) : undefined } };
    }
    case 'REDIRECT': {
      const ports = opt(o, 'to-ports')?.values[0];
      ev('REDIRECT');
      return { verdict: 'ACCEPT', nat: { kind: 'REDIRECT', port: ports ? Number(ports.split('-')[0]) : undefined } };
    }
    case 'MARK': {
      // xt_mark.c mark_tg: skb->mark = (skb->mark & ~info->mask) ^ info->mark.
      const before = s.mark;
      const x = opt(o, 'set-xmark') ?? opt(o, 'set-mark');
      if (x) {
        const [v, m] = valMask(x.values[0]);
        s.mark = x.name === 'set-mark' ? (((s.mark & ~m) | v) >>> 0) : (((s.mark & ~m) ^ v) >>> 0);
      } else if (opt(o, 'and-mark')) s.mark = (s.mark & num(opt(o, 'and-mark')?.values[0])) >>> 0;
      else if (opt(o, 'or-mark')) s.mark = (s.mark | num(opt(o, 'or-mark')?.values[0])) >>> 0;
      else if (opt(o, 'xor-mark')) s.mark = (s.mark ^ num(opt(o, 'xor-mark')?.values[0])) >>> 0;
      ev(`MARK 0x${before.toString(16)} → 0x${s.mark.toString(16)}`);
      return 'continue';
    }
    case 'CONNMARK': {
      // xt_connmark.c connmark_tg_shift (rev 1/2).
      const nfmask = num(opt(o, 'nfmask')?.values[0] ?? opt(o, 'mask')?.values[0] ?? '0xffffffff');
      const ctmask = num(opt(o, 'ctmask')?.values[0] ?? opt(o, 'mask')?.values[0] ?? '0xffffffff');
      const set = opt(o, 'set-xmark') ?? opt(o, 'set-mark');
      if (set) {
        const [v, m] = valMask(set.values[0]);
        s.ctmark = set.name === 'set-mark' ? (((s.ctmark & ~m) | v) >>> 0) : (((s.ctmark & ~m) ^ v) >>> 0);
        ev(`CONNMARK set 0x${s.ctmark.toString(16)}`);
      } else if (opt(o, 'save-mark')) {
        s.ctmark = (((s.ctmark & ~ctmask) ^ (s.mark & nfmask)) >>> 0);
        ev(`CONNMARK save: connmark 0x${s.ctmark.toString(16)}`);
      } else if (opt(o, 'restore-mark')) {
        s.mark = (((s.mark & ~nfmask) ^ (s.ctmark & ctmask)) >>> 0);
        ev(`CONNMARK restore: mark 0x${s.mark.toString(16)}`);
      } else ev('CONNMARK');
      return 'continue';
    }
    case 'NOTRACK':
      s.untracked = true;
      ev('NOTRACK: the packet is not tracked by conntrack (ctstate UNTRACKED, no NAT)');
      return 'continue';
    case 'CT':
      if (opt(o, 'notrack')) {
        s.untracked = true;
        ev('CT --notrack: not tracked (ctstate UNTRACKED, no NAT)');
      } else ev('CT');
      return 'continue';
    case 'LOG':
    case 'NFLOG':
    case 'ULOG':
    case 'TRACE':
    case 'TCPMSS':
    case 'CHECKSUM':
    case 'TOS':
    case 'DSCP':
    case 'TTL':
    case 'CLASSIFY':
    case 'AUDIT':
      ev(`${tg.name} (does not decide the packet's fate; evaluation continues)`);
      return 'continue';
    default:
      break;
  }
  const target = chainByName(t, tg.name);
  if (target && !target.builtin) {
    if (tg.goto) {
      // -g: the called chain replaces the current frame, so its end returns past this chain.
      s.stack[s.stack.length - 1] = { chain: target, next: 0 };
      ev(`goto ${tg.name}`);
    } else {
      s.stack.push({ chain: target, next: 0 });
      ev(`jump ${tg.name}`);
    }
    return 'continue';
  }
  if (!tg.known || !target) {
    ev(`unknown target ${tg.name}`);
    return { verdict: 'UNKNOWN', detail: `target ${tg.name} is not known to meshtrace${target ? '' : ' (and no chain of that name exists)'}` };
  }
  return 'continue';
}

/** Result of matching one rule: the probability that it matches (0 or 1 unless uncertain). */
interface MatchResult {
  p: number;
  note?: string;
}

const NO: MatchResult = { p: 0 };
const YES: MatchResult = { p: 1 };

/** Interface name match with `+` wildcard (xt_iface: prefix compare). */
function ifaceMatch(name: string | undefined, want: { name: string; wildcard: boolean; invert: boolean }): boolean {
  const n = name ?? '';
  const base = want.wildcard ? want.name.slice(0, -1) : want.name;
  const hit = want.wildcard ? n.startsWith(base) : n === base;
  return hit !== want.invert;
}

interface CompiledAddr {
  net: number;
  mask: number;
  invert: boolean;
}
const addrCache = new WeakMap<object, CompiledAddr | null>();
function compiledAddr(a: { addr: string; prefixLen: number; mask?: string; invert: boolean }): CompiledAddr | null {
  let c = addrCache.get(a);
  if (c === undefined) {
    const n = ip4(a.addr);
    const m = a.mask ? ip4(a.mask) ?? maskOf(a.prefixLen) : maskOf(a.prefixLen);
    c = n === undefined ? null : { net: (n & m) >>> 0, mask: m, invert: a.invert };
    addrCache.set(a, c);
  }
  return c;
}

/** Matches a whole rule: the fixed header fields, then every match in order. */
export function matchRule(rule: Rule, p: NfPacket, ct: NfConn, ctx: NfContext): MatchResult {
  const s = rule.spec;
  if (s.src) {
    const c = compiledAddr(s.src);
    if (!c || ((((p.src & c.mask) >>> 0) === c.net) === c.invert)) return NO;
  }
  if (s.dst) {
    const c = compiledAddr(s.dst);
    if (!c || ((((p.dst & c.mask) >>> 0) === c.net) === c.invert)) return NO;
  }
  if (s.iif && !ifaceMatch(p.iif, s.iif)) return NO;
  if (s.oif && !ifaceMatch(p.oif, s.oif)) return NO;
  if (s.proto) {
    const want = s.proto.name.toLowerCase();
    const hit = want === 'all' || want === '0' || want === p.proto || (want === '6' && p.proto === 'tcp') || (want === '17' && p.proto === 'udp') || (want === '1' && p.proto === 'icmp');
    if (hit === s.proto.invert) return NO;
  }
  if (s.fragment && !s.fragment.invert) return NO; // a first fragment or whole packet is not a -f fragment
  let prob = 1;
  const notes: string[] = [];
  for (const m of s.matches) {
    const r = matchOne(m, p, ct, ctx);
    if (r.p <= 0) return NO;
    prob *= r.p;
    if (r.note) notes.push(r.note);
  }
  return prob === 1 && notes.length === 0 ? YES : { p: prob, note: notes.join('; ') || undefined };
}

function portIn(port: number | undefined, spec: string): boolean {
  if (port === undefined) return false;
  const [a, b] = spec.split(':');
  const lo = a === '' ? 0 : Number(a);
  const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
  return port >= lo && port <= hi;
}

function portList(port: number | undefined, spec: string): boolean {
  return spec.split(',').some((x) => portIn(port, x));
}

const TCP_FLAGS: Record<string, number> = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128, ALL: 255, NONE: 0 };
function flagSet(s: string): number {
  if (/^0x/i.test(s)) return parseInt(s, 16);
  return s.split(',').reduce((acc, f) => acc | (TCP_FLAGS[f.toUpperCase()] ?? 0), 0);
}

const ICMP_TYPES: Record<string, number> = { 'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'router-advertisement': 9, 'router-solicitation': 10, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14 };

function inv(hit: boolean, o: XtOption): boolean {
  return hit !== o.invert;
}

function matchOne(m: XtMatch, p: NfPacket, ct: NfConn, ctx: NfContext): MatchResult {
  const o = m.options;
  switch (m.name) {
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'udplite': {
      if (p.proto !== m.name) return NO;
      for (const x of o) {
        const v = x.values[0] ?? '';
        if (x.name === 'dport' || x.name === 'destination-port') {
          if (!inv(portIn(p.dport, v), x)) return NO;
        } else if (x.name === 'sport' || x.name === 'source-port') {
          if (!inv(portIn(p.sport, v), x)) return NO;
        } else if (x.name === 'tcp-flags') {
          const mask = flagSet(x.values[0] ?? '');
          const cmp = flagSet(x.values[1] ?? '');
          if (!inv(((p.tcpFlags ?? 0) & mask) === cmp, x)) return NO;
        } else if (x.name === 'syn') {
          if (!inv(((p.tcpFlags ?? 0) & 0x17) === 0x02, x)) return NO;
        } else return { p: 0.5, note: `option --${x.name} of -m ${m.name} is not simulated: both outcomes followed` };
      }
      return YES;
    }
    case 'icmp': {
      if (p.proto !== 'icmp') return NO;
      const x = opt(o, 'icmp-type');
      if (!x) return YES;
      const t = x.values[0] ?? 'any';
      if (t === 'any') return inv(true, x) ? YES : NO;
      const [typ] = t.split('/');
      const want = /^\d+$/.test(typ) ? Number(typ) : ICMP_TYPES[typ];
      return inv(want === (p.icmpType ?? 8), x) ? YES : NO;
    }
    case 'multiport': {
      for (const x of o) {
        const v = x.values[0] ?? '';
        const hit =
          x.name === 'dports' || x.name === 'destination-ports' ? portList(p.dport, v) : x.name === 'sports' || x.name === 'source-ports' ? portList(p.sport, v) : x.name === 'ports' ? portList(p.dport, v) || portList(p.sport, v) : true;
        if (!inv(hit, x)) return NO;
      }
      return YES;
    }
    case 'mark': {
      const x = opt(o, 'mark');
      if (!x) return YES;
      const [v, mask] = valMask(x.values[0]);
      return inv(((p.mark & mask) >>> 0) === v, x) ? YES : NO;
    }
    case 'connmark': {
      const x = opt(o, 'mark');
      if (!x) return YES;
      const [v, mask] = valMask(x.values[0]);
      return inv(((ct.mark & mask) >>> 0) === v, x) ? YES : NO;
    }
    case 'conntrack':
    case 'state': {
      for (const x of o) {
        const vals = (x.values[0] ?? '').split(',');
        let hit = true;
        switch (x.name) {
          case 'ctstate':
          case 'state':
            hit = vals.some((v) => v === ct.state || (v === 'SNAT' && ct.snat) || (v === 'DNAT' && ct.dnat));
            break;
          case 'ctdir':
            hit = vals[0] === ct.dir;
            break;
          case 'ctproto':
            hit = vals[0] === p.proto;
            break;
          case 'ctorigsrc':
          case 'ctorigdst':
          case 'ctreplsrc':
          case 'ctrepldst': {
            const c = parseCidr(vals[0]);
            const a = x.name === 'ctorigsrc' ? ct.orig.src : x.name === 'ctorigdst' ? ct.orig.dst : x.name === 'ctreplsrc' ? p.dst : p.src;
            hit = !!c && ((a & c.mask) >>> 0) === c.net;
            break;
          }
          case 'ctorigsrcport':
            hit = portIn(ct.orig.sport, vals[0]);
            break;
          case 'ctorigdstport':
            hit = portIn(ct.orig.dport, vals[0]);
            break;
          case 'ctstatus':
            hit = vals.some((v) => (v === 'CONFIRMED' || v === 'SEEN_REPLY' || v === 'ASSURED' ? ct.state !== 'NEW' : false));
            break;
          default:
            return { p: 0.5, note: `conntrack option --${x.name} is not simulated: both outcomes followed` };
        }
        if (!inv(hit, x)) return NO;
      }
      return YES;
    }
    case 'addrtype': {
      const limIn = opt(o, 'limit-iface-in') ? p.iif : undefined;
      const limOut = opt(o, 'limit-iface-out') ? p.oif : undefined;
      for (const x of o) {
        if (x.name !== 'src-type' && x.name !== 'dst-type') continue;
        const addr = x.name === 'src-type' ? p.src : p.dst;
        const type = ctx.addrType(addr, limIn ?? limOut);
        const hit = (x.values[0] ?? '').split(',').includes(type);
        if (!inv(hit, x)) return NO;
      }
      return YES;
    }
    case 'comment':
      return YES;
    case 'iprange': {
      for (const x of o) {
        const [a, b] = (x.values[0] ?? '').split('-');
        const lo = ip4(a) ?? 0;
        const hi = ip4(b ?? a) ?? 0;
        const v = x.name === 'src-range' ? p.src : p.dst;
        if (!inv(v >= lo && v <= hi, x)) return NO;
      }
      return YES;
    }
    case 'statistic': {
      const mode = opt(o, 'mode')?.values[0];
      const invert = o.some((x) => x.invert);
      if (mode === 'random') {
        const pr = Number(opt(o, 'probability')?.values[0] ?? '1');
        const q = invert ? 1 - pr : pr;
        return { p: q, note: `-m statistic --mode random: matches ${fmtP(q)} of new connections` };
      }
      if (mode === 'nth') {
        const every = Number(opt(o, 'every')?.values[0] ?? '1');
        const q = invert ? 1 - 1 / every : 1 / every;
        return { p: q, note: `-m statistic --mode nth --every ${every}: one packet in ${every}, taken as probability ${fmtP(q)}` };
      }
      return { p: 0.5, note: 'statistic mode unknown: both outcomes followed' };
    }
    case 'physdev': {
      for (const x of o) {
        let hit = true;
        if (x.name === 'physdev-in') hit = !!p.physIn && ifaceMatch(p.physIn, { name: x.values[0] ?? '', wildcard: (x.values[0] ?? '').endsWith('+'), invert: false });
        else if (x.name === 'physdev-out') hit = !!p.physOut && ifaceMatch(p.physOut, { name: x.values[0] ?? '', wildcard: (x.values[0] ?? '').endsWith('+'), invert: false });
        else if (x.name === 'physdev-is-in') hit = !!p.physIn;
        else if (x.name === 'physdev-is-out') hit = !!p.physOut;
        else if (x.name === 'physdev-is-bridged') hit = !!p.bridged;
        if (!inv(hit, x)) return NO;
      }
      return YES;
    }
    case 'ipvs': {
      // xt_ipvs.c ipvs_mt: --ipvs tests skb->ipvs_property; the others compare the IPVS connection.
      for (const x of o) {
        const v = x.values[0] ?? '';
        let hit = true;
        if (x.name === 'ipvs') hit = !!ct.ipvs;
        else if (!ct.ipvs) hit = false;
        else if (x.name === 'vaddr') {
          const c = parseCidr(v);
          hit = !!c && ((ct.ipvs.vaddr & c.mask) >>> 0) === c.net;
        } else if (x.name === 'vport') hit = ct.ipvs.vport === Number(v);
        else if (x.name === 'vproto') hit = ct.ipvs.vproto === v.toLowerCase() || (v === '6' && ct.ipvs.vproto === 'tcp') || (v === '17' && ct.ipvs.vproto === 'udp');
        else if (x.name === 'vdir') hit = v === ct.dir;
        else if (x.name === 'vmethod') hit = v.toUpperCase() === ct.ipvs.method;
        else if (x.name === 'vportctl') hit = false;
        if (!inv(hit, x)) return NO;
      }
      return YES;
    }
    case 'pkttype': {
      const x = opt(o, 'pkt-type');
      if (!x) return YES;
      const type = ctx.addrType(p.dst) === 'BROADCAST' ? 'broadcast' : (p.dst >>> 28) === 14 ? 'multicast' : 'unicast';
      return inv(type === (x.values[0] ?? '').toLowerCase(), x) ? YES : NO;
    }
    case 'limit':
    case 'hashlimit':
      return { p: 1, note: `-m ${m.name}: assumed under the limit (a single connection)` };
    case 'owner':
      if (!ctx.local) return NO;
      return { p: 0.5, note: '-m owner: which process sent the packet is not in the capture; both outcomes followed' };
    case 'ttl': {
      const ttl = ctx.local ? 64 : 63;
      for (const x of o) {
        const n = Number(x.values[0]);
        const hit = x.name === 'ttl-eq' ? ttl === n : x.name === 'ttl-gt' ? ttl > n : x.name === 'ttl-lt' ? ttl < n : true;
        if (!inv(hit, x)) return NO;
      }
      return { p: 1, note: `TTL taken as ${ttl}` };
    }
    default:
      return { p: 0.5, note: `match -m ${m.name} is not simulated by meshtrace: both outcomes followed` };
  }
}

function fmtP(p: number): string {
  return p.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

/** Formats a mark for display (`0x100`). */
export function hex(n: number): string {
  // Most packets carry no mark: the common answer without formatting (the same string).
  if (n === 0) return '0x0';
  return `0x${(n >>> 0).toString(16)}`;
}
