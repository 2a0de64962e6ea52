/**
 * The packet walk: follows a packet through the namespaces of every node the way Linux does,
 * returning a `Trace`. Hook order (net/ipv4/ip_input.c, ip_forward.c, ip_output.c and the
 * netfilter priorities in include/uapi/linux/netfilter_ipv4.h):
 *
 *   received:  PREROUTING raw(-300) → conntrack(-200) → mangle(-150) → nat DNAT(-100) → routing
 *   local in:  INPUT mangle(-150) → filter(0) → security(50) → IPVS (LOCAL_IN, 98) → nat SNAT(100)
 *   forward:   FORWARD mangle → filter → security → POSTROUTING
 *   local out: routing → OUTPUT raw → conntrack → mangle → nat DNAT → filter → security → re-route
 *   leaving:   POSTROUTING mangle(-150) → nat SNAT(100) → conntrack confirm → the interface
 *
 * nat chains are consulted only for a connection's first packet, once per manip type
 * (nf_nat_core.c: nf_nat_inet_fn checks nf_nat_initialized()).
 */
import type { Model, ModelIface, Namespace } from '../model/model';
import type { Rule, TableName } from '../model/netfilter';
import type { IpvsDest, IpvsService } from '../model/ipvs';
import { inPrefix, ip4, ip4str } from './addr';
import { hex, tableOf, walkTable, type CtState, type NatAction, type NfBranch, type NfConn, type NfPacket } from './netfilter';
import { LEFT_OUT, World, type SimNs, type SimRoute, type SimRule } from './world';
import type { FinalView, Outcome, PacketView, ReplyTrace, Step, Trace, TraceQuery, Verdict } from './trace';

/** The packet while it travels. */
interface Pkt {
  src: number;
  dst: number;
  proto: string;
  sport?: number;
  dport?: number;
  icmpType?: number;
  tcpFlags?: number;
  mark: number;
}

/** A conntrack entry in one namespace. */
interface Conn {
  orig: { src: number; dst: number; sport?: number; dport?: number };
  /** The reply tuple: the packet's addresses after every rewrite in this namespace, reversed. */
  reply?: { src: number; dst: number; sport?: number; dport?: number };
  dnat: boolean;
  snat: boolean;
  dstManipDone: boolean;
  srcManipDone: boolean;
  mark: number;
  untracked: boolean;
  ipvs?: NfConn['ipvs'];
}

/** One branch of the walk. */
interface Flow {
  prob: number;
  steps: Step[];
  pkt: Pkt;
  conns: Map<string, Conn>;
  dir: 'ORIGINAL' | 'REPLY';
  hops: number;
  /** The conntrack state of the packet in the namespace it is in now. */
  ct?: { state: CtState; conn?: Conn };
  /** An ICMP error about the flow's packet: conntrack sees it as RELATED to the connection. */
  related?: boolean;
}

interface End {
  flow: Flow;
  verdict: Verdict;
  reason: string;
  final: FinalView;
  /** For rejected packets: the answer the kernel sends back (a TCP reset or an ICMP error). */
  answer?: 'rst' | 'icmp';
}

const MAX_HOPS = 48;

function clone(f: Flow): Flow {
  const conns = new Map<string, Conn>();
  let ctConn: Conn | undefined;
  for (const [k, v] of f.conns) {
    const c = { ...v, orig: { ...v.orig }, reply: v.reply ? { ...v.reply } : undefined };
    conns.set(k, c);
    // The current conntrack entry must be the branch's own copy, not the parent's.
    if (f.ct?.conn === v) ctConn = c;
  }
  return { prob: f.prob, steps: [...f.steps], pkt: { ...f.pkt }, conns, dir: f.dir, hops: f.hops, ct: f.ct ? { state: f.ct.state, conn: ctConn ?? f.ct.conn } : undefined, related: f.related };
}

/** Options of a trace. */
export interface TraceOptions {
  /** Trace each delivered outcome's reply back to the sender (default true). */
  reply?: boolean;
  /**
   * Build each step's `packet` (and `before`) view (default true). false: every step's `packet`
   * (and `before`, where a step has one) is {@link NO_VIEW}, for callers that read only the decisions (kind,
   * hook, table, chain, rule, action, note), the outcomes' verdicts, finals and reasons (the full
   * topology simulation). Nothing else about the walk changes: views are never read by it.
   */
  views?: boolean;
}

/** The placeholder packet view of steps traced with `views: false`. */
export const NO_VIEW: PacketView = Object.freeze({ src: '', dst: '', proto: '', mark: '' });

/** Traces a query through a model. */
export function traceQuery(model: Model, q: TraceQuery, world = new World(model), opts: TraceOptions = {}): Trace {
  const sport = q.sport ?? (q.proto === 'icmp' ? 0 : 40000);
  const query = { ...q, sport };
  const warnings: string[] = [];
  const sim = new Sim(world, warnings, opts.views !== false);
  const src = ip4(q.src);
  const dst = ip4(q.dst);
  const nsId = `${q.node}/${q.namespace}`;
  const s = world.ns.get(nsId);
  if (src === undefined || dst === undefined) {
    warnings.push(`--src and --dst must be IPv4 addresses (got ${q.src} → ${q.dst})`);
    return { query, outcomes: [], warnings };
  }
  if (!s) {
    warnings.push(`no namespace ${q.namespace} on node ${q.node} in this capture (namespaces: ${[...world.ns.keys()].join(', ')})`);
    return { query, outcomes: [], warnings };
  }
  const pkt: Pkt = { src, dst, proto: q.proto, sport: q.proto === 'icmp' ? undefined : sport, dport: q.proto === 'icmp' ? undefined : q.dport, icmpType: q.proto === 'icmp' ? q.icmpType ?? 8 : undefined, tcpFlags: q.proto === 'tcp' ? 0x02 : undefined, mark: 0 };
  const flow: Flow = { prob: 1, steps: [], pkt, conns: new Map(), dir: 'ORIGINAL', hops: 0 };
  let ends: End[];
  if (q.iif) {
    const i = s.ifaces.get(q.iif);
    if (!i) {
      warnings.push(`interface ${q.iif} is not in ${nsId} (interfaces: ${[...s.ifaces.keys()].join(', ') || 'none: add an ip addr dump'})`);
      if (s.ifaces.size > 0) return { query, outcomes: [], warnings };
    }
    ends = sim.receive(s, q.iif, flow, pkt.dst);
  } else {
    ends = sim.localOut(s, flow);
  }
  const outcomes: Outcome[] = [];
  for (const e of merge(ends)) {
    const o: Outcome = { verdict: e.verdict, probability: round(e.flow.prob), final: e.final, reason: e.reason, steps: e.flow.steps };
    if (opts.reply !== false && e.verdict === 'delivered' && e.final.namespace !== '(outside)') o.reply = sim.reply(e, query);
    if (opts.reply !== false && e.verdict === 'rejected' && e.answer) o.reply = sim.answer(e, query);
    outcomes.push(o);
  }
  return { query, outcomes, warnings };
}

type Neighbour = Namespace['neighbours'][number];
type FdbEntry = Namespace['fdb'][number];
const neighbourIdx = new WeakMap<Neighbour[], { n: number; m: Map<string, Neighbour> }>();
const fdbIdx = new WeakMap<FdbEntry[], { n: number; m: Map<string, { byMac: Map<string, FdbEntry>; zero?: FdbEntry }> }>();

/** Address → the first neighbour entry with a link-layer address (what `find` would return), built once per list. */
function neighbourIndex(list: Neighbour[]): Map<string, Neighbour> {
  const c = neighbourIdx.get(list);
  if (c && c.n === list.length) return c.m;
  const m = new Map<string, Neighbour>();
  for (const n of list) if (n.lladdr && !m.has(n.dst)) m.set(n.dst, n);
  neighbourIdx.set(list, { n: list.length, m });
  return m;
}

/** Device → its FDB entries with a `dst`: the first by lower-case MAC, and the first all-zero one; built once per list. */
function fdbIndex(list: FdbEntry[]): Map<string, { byMac: Map<string, FdbEntry>; zero?: FdbEntry }> {
  const c = fdbIdx.get(list);
  if (c && c.n === list.length) return c.m;
  const m = new Map<string, { byMac: Map<string, FdbEntry>; zero?: FdbEntry }>();
  for (const e of list) {
    if (!e.dst) continue;
    let d = m.get(e.dev);
    if (!d) m.set(e.dev, (d = { byMac: new Map() }));
    const k = e.mac.toLowerCase();
    if (!d.byMac.has(k)) d.byMac.set(k, e);
    if (e.mac === '00:00:00:00:00:00' && !d.zero) d.zero = e;
  }
  fdbIdx.set(list, { n: list.length, m });
  return m;
}

function round(p: number): number {
  return Math.round(p * 1e9) / 1e9;
}

/** Merges branches that ended the same way at the same place (statistic splits that re-join). */
function merge(ends: End[]): End[] {
  if (ends.length <= 1) return ends.slice();
  const out: End[] = [];
  // `${verdict}|${JSON.stringify(final)}|` then each step as `${file}:${line}:${action}`, comma-separated (built in one pass).
  const key = (e: End): string => {
    let k = `${e.verdict}|${JSON.stringify(e.final)}|`;
    const steps = e.flow.steps;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      k += `${i > 0 ? ',' : ''}${s.rule?.file}:${s.rule?.line}:${s.action}`;
    }
    return k;
  };
  const seen = new Map<string, End>();
  for (const e of ends) {
    const k = key(e);
    const prev = seen.get(k);
    if (prev) prev.flow.prob += e.flow.prob;
    else {
      seen.set(k, e);
      out.push(e);
    }
  }
  return out.sort((a, b) => b.flow.prob - a.flow.prob);
}

class Sim {
  constructor(
    private readonly w: World,
    private readonly warnings: string[],
    private readonly views = true,
  ) {}

  // ---------------------------------------------------------------- steps and views

  private view(p: Pkt, iif?: string, oif?: string): PacketView {
    if (!this.views) return NO_VIEW;
    return { src: ip4str(p.src), sport: p.sport, dst: ip4str(p.dst), dport: p.dport, proto: p.proto, mark: hex(p.mark), iif, oif };
  }

  private step(f: Flow, s: SimNs, st: Omit<Step, 'node' | 'namespace' | 'packet'> & { packet?: PacketView }): void {
    f.steps.push({ node: s.ns.node, namespace: s.ns.name, packet: st.packet ?? this.view(f.pkt), ...st });
  }

  private final(s: SimNs | undefined, p: Pkt, nsName?: string): FinalView {
    return { node: s?.ns.node ?? '', namespace: nsName ?? s?.ns.name ?? '', src: ip4str(p.src), sport: p.sport, dst: ip4str(p.dst), dport: p.dport };
  }

  private end(f: Flow, s: SimNs, verdict: Verdict, reason: string, answer?: End['answer']): End[] {
    return [{ flow: f, verdict, reason, final: this.final(s, f.pkt), answer }];
  }

  private ruleRef(r: Rule): { file: string; line: number; text: string } {
    return { file: r.source.file, line: r.source.line, text: r.text };
  }

  // ---------------------------------------------------------------- conntrack

  /** Looks up or creates the packet's conntrack entry in a namespace (nf_conntrack_in). */
  private conntrack(s: SimNs, f: Flow): void {
    const p = f.pkt;
    const c = f.conns.get(s.ns.id);
    if (f.dir === 'ORIGINAL') {
      if (c) {
        f.ct = { state: c.untracked ? 'UNTRACKED' : 'NEW', conn: c };
        return;
      }
      const conn: Conn = { orig: { src: p.src, dst: p.dst, sport: p.sport, dport: p.dport }, dnat: false, snat: false, dstManipDone: false, srcManipDone: false, mark: 0, untracked: false };
      f.conns.set(s.ns.id, conn);
      f.ct = { state: 'NEW', conn };
      return;
    }
    if (f.related) {
      // An ICMP error carries the offending packet; conntrack finds that packet's connection and
      // marks the error RELATED (nf_conntrack_icmpv4_error → icmp_error_message); none: INVALID.
      f.ct = c ? { state: 'RELATED', conn: c } : { state: 'INVALID' };
      return;
    }
    // Reply direction: the packet must match the reply tuple of the entry the original made here.
    if (c?.reply && c.reply.src === p.src && c.reply.dst === p.dst && c.reply.sport === p.sport && c.reply.dport === p.dport) {
      f.ct = { state: c.untracked ? 'UNTRACKED' : 'ESTABLISHED', conn: c };
      return;
    }
    if (c && !c.reply) {
      f.ct = { state: 'ESTABLISHED', conn: c };
      return;
    }
    // No entry here (the original was not tracked, or took another way). A TCP SYN-ACK cannot
    // open a connection (nf_conntrack_proto_tcp.c tcp_new: tcp_conntracks[0][SYNACK][NONE] is
    // sIV): INVALID. A UDP or ICMP reply starts a new entry of its own, and the nat table is
    // consulted for it as for any first packet (seen in the conformance lab: a NOTRACKed UDP
    // request's reply was MASQUERADEd; test/fixtures/conformance/notrack-reply-is-tracked-and-masqueraded).
    if (p.proto === 'tcp') {
      f.ct = { state: 'INVALID' };
      return;
    }
    const conn: Conn = { orig: { src: p.src, dst: p.dst, sport: p.sport, dport: p.dport }, dnat: false, snat: false, dstManipDone: false, srcManipDone: false, mark: 0, untracked: false };
    f.conns.set(s.ns.id, conn);
    f.ct = { state: 'NEW', conn };
  }

  /** Undoes NAT for a reply packet at the DST-manip (PREROUTING/OUTPUT) or SRC-manip (POSTROUTING/INPUT) point. */
  private replyNat(s: SimNs, f: Flow, manip: 'dst' | 'src', hook: string): void {
    const c = f.ct?.conn;
    if (f.dir !== 'REPLY' || !c || (f.ct?.state !== 'ESTABLISHED' && f.ct?.state !== 'RELATED')) return;
    // An ICMP error's outer source is the router that sent it; only its destination goes back
    // to the original sender (nf_nat_icmp_reply_translation).
    if (f.related && manip === 'src') return;
    const before = this.view(f.pkt);
    if (manip === 'dst' && c.snat) {
      f.pkt.dst = c.orig.src;
      if (c.orig.sport !== undefined) f.pkt.dport = c.orig.sport;
      this.step(f, s, { kind: 'conntrack', hook, action: 'de-SNAT (reply)', before, note: 'conntrack restores the original source as the reply\'s destination' });
    } else if (manip === 'src' && c.dnat) {
      f.pkt.src = c.orig.dst;
      if (c.orig.dport !== undefined) f.pkt.sport = c.orig.dport;
      this.step(f, s, { kind: 'conntrack', hook, action: 'de-DNAT (reply)', before, note: 'conntrack restores the original destination as the reply\'s source' });
    }
  }

  private nfConn(f: Flow): NfConn {
    const c = f.ct?.conn;
    return {
      state: f.ct?.state ?? 'NEW',
      dir: f.dir,
      mark: c?.mark ?? 0,
      orig: c?.orig ?? { src: f.pkt.src, dst: f.pkt.dst, sport: f.pkt.sport, dport: f.pkt.dport },
      dnat: c?.dnat ?? false,
      snat: c?.snat ?? false,
      ipvs: c?.ipvs,
    };
  }

  // ---------------------------------------------------------------- netfilter

  /**
   * Runs one table's built-in chain. Returns the branches that continue (ACCEPT), each as a new
   * flow, and the ends (DROP, REJECT, unknown).
   */
  private hook(s: SimNs, f: Flow, table: TableName, hook: string, io: { iif?: string; oif?: string; physIn?: string; physOut?: string; bridged?: boolean }): { go: { f: Flow; nat?: NatAction }[]; ends: End[] } {
    const t = tableOf(s.ns.iptables, table);
    if (!t) return { go: [{ f }], ends: [] };
    if (table === 'nat' && (f.ct?.state !== 'NEW' || f.ct.conn?.untracked)) return { go: [{ f }], ends: [] };
    const k = f.pkt;
    // Field by field (one object shape; a spread of two differently shaped objects is slow here).
    const p: NfPacket = { src: k.src, dst: k.dst, proto: k.proto, sport: k.sport, dport: k.dport, icmpType: k.icmpType, tcpFlags: k.tcpFlags, mark: k.mark, iif: io.iif, oif: io.oif, physIn: io.physIn, physOut: io.physOut, bridged: io.bridged };
    const ctx = { addrType: (a: number, i?: string) => this.w.addrType(s, a, i), local: !io.iif || io.iif === 'lo' };
    const branches: NfBranch[] = walkTable(t, hook, p, this.nfConn(f), ctx);
    const go: { f: Flow; nat?: NatAction }[] = [];
    const ends: End[] = [];
    for (const b of branches) {
      const g = branches.length > 1 ? clone(f) : f;
      g.prob *= b.probability;
      for (const e of b.events) {
        if (!e.rule && !e.action.startsWith('policy')) continue;
        // An empty built-in chain with an ACCEPT policy decides nothing worth a step.
        if (!e.rule && e.action === 'policy ACCEPT' && (b.policyOf?.rules.length ?? 0) === 0 && b.events.length === 1) continue;
        if (e.action === 'not matched' && !e.note) continue;
        const pv = this.views ? this.view({ ...g.pkt, mark: e.mark }, io.iif, io.oif) : NO_VIEW;
        this.step(g, s, { kind: e.rule ? 'netfilter' : 'policy', hook, table, chain: e.chain, rule: e.rule ? this.ruleRef(e.rule) : undefined, action: e.action, packet: pv, note: e.note });
      }
      g.pkt.mark = b.mark;
      if (g.ct?.conn) {
        g.ct.conn.mark = b.ctmark;
        if (b.untracked) {
          // NOTRACK / CT --notrack untrack this one packet (xt_CT.c notrack_tg): no entry is made,
          // so a later packet of the flow (its reply) is new to conntrack here.
          g.conns.delete(s.ns.id);
          g.ct = { state: 'UNTRACKED' };
        }
      }
      if (b.verdict === 'ACCEPT') go.push({ f: g, nat: b.nat });
      else if (b.verdict === 'DROP') ends.push(...this.end(g, s, 'dropped', `dropped by ${b.decidedBy ? `${b.decidedBy.source.file}:${b.decidedBy.source.line}` : `the policy of ${table} ${b.policyOf?.name ?? hook}`}`));
      else if (b.verdict === 'REJECT') ends.push(...this.end(g, s, 'rejected', `rejected (${b.detail}) by ${b.decidedBy?.source.file}:${b.decidedBy?.source.line}`, b.detail === 'tcp-reset' ? 'rst' : 'icmp'));
      else ends.push(...this.end(g, s, 'dropped', `unknown: ${b.detail} — meshtrace cannot tell what happens next`));
    }
    return { go, ends };
  }

  /** Runs a list of (table, hook) in order, threading the branches through. */
  private chains(s: SimNs, f: Flow, list: [TableName, string][], io: Parameters<Sim['hook']>[4], onNat: (g: Flow, a: NatAction, hook: string) => void): { go: Flow[]; ends: End[] } {
    let cur: Flow[] = [f];
    const ends: End[] = [];
    for (const [table, hook] of list) {
      const next: Flow[] = [];
      for (const g of cur) {
        const r = this.hook(s, g, table, hook, io);
        ends.push(...r.ends);
        for (const x of r.go) {
          if (table === 'nat' && x.f.ct?.conn) {
            const c = x.f.ct.conn;
            if (hook === 'PREROUTING' || hook === 'OUTPUT') c.dstManipDone = true;
            else c.srcManipDone = true;
          }
          if (x.nat) onNat(x.f, x.nat, hook);
          next.push(x.f);
        }
      }
      cur = next;
    }
    return { go: cur, ends };
  }

  /** Applies a NAT target's rewrite (nf_nat_setup_info; REDIRECT: nf_nat_redirect_ipv4; MASQUERADE: nf_nat_masquerade_ipv4). */
  private applyNat(s: SimNs, f: Flow, a: NatAction, hook: string, iif?: string, oif?: string, nexthop?: number): void {
    const p = f.pkt;
    const before = this.view(p);
    const c = f.ct?.conn;
    switch (a.kind) {
      case 'DNAT':
        if (a.addr !== undefined) p.dst = a.addr;
        if (a.port !== undefined && p.proto !== 'icmp') p.dport = a.port;
        if (c) c.dnat = true;
        break;
      case 'REDIRECT': {
        // Locally generated: 127.0.0.1; received: the first address of the incoming interface.
        let addr = 0x7f000001;
        if (iif && iif !== 'lo') {
          const i = s.ifaces.get(iif);
          const first = i?.addrs.find((x) => x.family === 'inet');
          addr = first ? ip4(first.local) ?? addr : addr;
        }
        p.dst = addr;
        if (a.port !== undefined && p.proto !== 'icmp') p.dport = a.port;
        if (c) c.dnat = true;
        break;
      }
      case 'SNAT':
        if (a.addr !== undefined) p.src = a.addr;
        if (a.port !== undefined && p.proto !== 'icmp') p.sport = a.port;
        if (c) c.snat = true;
        break;
      case 'MASQUERADE': {
        const src = this.selectSrc(s, oif, nexthop ?? p.dst);
        if (src !== undefined) p.src = src;
        if (a.port !== undefined && p.proto !== 'icmp') p.sport = a.port;
        if (c) c.snat = true;
        break;
      }
    }
    const last = f.steps[f.steps.length - 1];
    if (last && this.views) {
      last.before = before;
      last.packet = this.view(p, last.packet.iif, last.packet.oif);
    }
    void hook;
  }

  /** inet_select_addr: the route's preferred source, else a primary address of the interface in the next hop's subnet. */
  private selectSrc(s: SimNs, oif: string | undefined, towards: number): number | undefined {
    const r = this.route(s, towards, { mark: 0, iif: 'lo' });
    if (r.kind === 'ok' && r.src !== undefined) return r.src;
    const i = oif ? s.ifaces.get(oif) : undefined;
    const addrs = (i?.addrs ?? []).filter((a) => a.family === 'inet' && a.scope !== 'host');
    for (const a of addrs) {
      const n = ip4(a.local);
      if (n !== undefined && inPrefix(towards, n, a.prefixLen)) return n;
    }
    return addrs[0] ? ip4(addrs[0].local) : undefined;
  }

  // ---------------------------------------------------------------- routing

  /** fib_lookup with policy rules (net/ipv4/fib_rules.c, fib_trie.c). */
  private route(s: SimNs, dst: number, o: { src?: number; iif?: string; oif?: string; mark: number }): { kind: 'ok'; type: string; r: SimRoute; rule: SimRule; oif?: string; nexthop: number; src?: number } | { kind: 'none'; rule?: SimRule } {
    let i = 0;
    let lastRule: SimRule | undefined;
    while (i < s.rules.length) {
      const rule = s.rules[i++];
      let hit = true;
      if (rule.from && (o.src === undefined || !inPrefix(o.src, rule.from.net, rule.from.prefixLen))) hit = rule.from.prefixLen === 0;
      if (hit && rule.to && !inPrefix(dst, rule.to.net, rule.to.prefixLen)) hit = false;
      if (hit && rule.fwmark !== undefined && ((o.mark & rule.fwmask) >>> 0) !== rule.fwmark) hit = false;
      if (hit && rule.iif && rule.iif !== (o.iif ?? 'lo')) hit = false;
      if (hit && rule.oif && rule.oif !== o.oif) hit = false;
      if (rule.not) hit = !hit;
      if (!hit) continue;
      lastRule = rule;
      if (rule.action === 'goto') {
        const j = s.rules.findIndex((x) => x.priority >= (rule.gotoPriority ?? 0));
        if (j >= 0) i = j;
        continue;
      }
      if (rule.action === 'nop') continue;
      if (rule.action !== 'lookup') return { kind: 'ok', type: rule.action, r: { type: rule.action, net: 0, prefixLen: 0, table: '', metric: 0 }, rule, nexthop: dst };
      const r = this.w.lpm(s, rule.table ?? 'main', dst);
      if (!r) continue;
      if (r.type === 'throw') continue;
      let dev = r.dev;
      let nexthop = r.via ?? dst;
      if (!dev && r.via !== undefined) {
        // A gateway route without dev: the device comes from the route to the gateway.
        const g = this.w.lpm(s, 'main', r.via);
        dev = g?.dev;
      }
      if (r.type === 'local') nexthop = dst;
      return { kind: 'ok', type: r.type, r, rule, oif: r.type === 'local' ? 'lo' : dev, nexthop, src: r.src };
    }
    return { kind: 'none', rule: lastRule };
  }

  private routeStep(f: Flow, s: SimNs, r: ReturnType<Sim['route']>, what: string): void {
    if (r.kind === 'none') {
      this.step(f, s, { kind: 'route', action: `${what}: no route to ${ip4str(f.pkt.dst)}`, note: s.rulesDerived ? 'no ip rule dump: the kernel\'s default rules (local, main, default) were used' : undefined });
      return;
    }
    const src = r.r.r?.source;
    const desc = r.type === 'local' ? 'local delivery' : r.type === 'unicast' ? `${r.r.via !== undefined ? `via ${ip4str(r.r.via)} ` : ''}dev ${r.oif ?? '?'}` : r.type;
    const ruleNote = r.rule.r ? ` (ip rule ${r.rule.priority}: lookup ${r.rule.table})` : '';
    this.step(f, s, {
      kind: 'route',
      action: `${what}: ${desc}${r.rule.table && r.rule.table !== 'main' && r.rule.table !== 'local' ? ` [table ${r.rule.table}]` : ''}`,
      rule: src && r.r.r ? { file: src.file, line: src.line, text: routeText(r.r) } : r.rule.r ? { file: r.rule.r.source.file, line: r.rule.r.source.line, text: `${r.rule.priority}: lookup ${r.rule.table}` } : undefined,
      note: r.r.derived ? `route derived from the ip addr dump (no local/main table in the capture)${ruleNote}` : ruleNote || undefined,
    });
  }

  // ---------------------------------------------------------------- paths

  /** A packet arrives on an interface of a namespace (from the wire, a veth peer or VXLAN). */
  receive(s: SimNs, iifName: string, f: Flow, nexthop: number): End[] {
    if (++f.hops > MAX_HOPS) return this.end(f, s, 'dropped', `more than ${MAX_HOPS} hops: a forwarding loop`);
    const i = s.ifaces.get(iifName);
    if (i?.masterId) {
      const br = this.w.ifById.get(i.masterId);
      if (br) return this.bridgeIn(s, br, i, f, nexthop);
    }
    return this.ipReceive(s, iifName, f, false);
  }

  /** IP input: ip_rcv → PREROUTING → routing → local in or forward. */
  private ipReceive(s: SimNs, iif: string, f: Flow, preroutingDone: boolean): End[] {
    this.conntrack(s, f);
    let flows: Flow[] = [f];
    const ends: End[] = [];
    if (!preroutingDone) {
      this.replyNat(s, f, 'dst', 'PREROUTING');
      const r = this.chains(s, f, [['raw', 'PREROUTING'], ['mangle', 'PREROUTING'], ['nat', 'PREROUTING']], { iif }, (g, a, hook) => this.applyNat(s, g, a, hook, iif));
      flows = r.go;
      ends.push(...r.ends);
    }
    for (const g of flows) ends.push(...this.routeInput(s, iif, g));
    return ends;
  }

  private routeInput(s: SimNs, iif: string, f: Flow): End[] {
    const p = f.pkt;
    if (iif !== 'lo') {
      // ip_route_input_slow (net/ipv4/route.c) runs after PREROUTING, on the rewritten packet:
      // a loopback destination or source on another interface is a martian unless route_localnet,
      // and (fib_validate_source, net/ipv4/fib_frontend.c) a source that is one of this
      // namespace's own addresses is a martian unless accept_local.
      const sys = (k: string): string => this.w.sysctl(s, `net.ipv4.conf.${iif}.${k}`, '0').value === '1' || this.w.sysctl(s, `net.ipv4.conf.all.${k}`, '0').value === '1' ? '1' : '0';
      const localnet = sys('route_localnet') === '1';
      if (((p.dst >>> 24) === 127 || (p.src >>> 24) === 127) && !localnet) {
        const which = (p.dst >>> 24) === 127 ? 'destination' : 'source';
        this.step(f, s, { kind: 'drop', action: `martian ${which}`, note: `127.0.0.0/8 ${which} arriving on ${iif} with route_localnet=0 (net.ipv4.conf.{all,${iif}}.route_localnet)` });
        return this.end(f, s, 'dropped', `martian ${which} ${ip4str(which === 'destination' ? p.dst : p.src)} on ${iif} (route_localnet is off)`);
      }
      if (s.local.has(p.src) && sys('accept_local') !== '1') {
        this.step(f, s, { kind: 'drop', action: 'martian source', note: `the source ${ip4str(p.src)} is an address of this namespace, arriving on ${iif} (accept_local=0)` });
        return this.end(f, s, 'dropped', `martian source ${ip4str(p.src)} on ${iif}: a local address coming from outside`);
      }
      if (p.src === 0 || (p.src >>> 28) === 14 || p.src === 0xffffffff) {
        this.step(f, s, { kind: 'drop', action: 'martian source', note: `source ${ip4str(p.src)} is not a unicast address` });
        return this.end(f, s, 'dropped', `martian source ${ip4str(p.src)}`);
      }
    }
    const r = this.route(s, p.dst, { src: p.src, iif, mark: p.mark });
    this.routeStep(f, s, r, 'routing decision');
    if (r.kind === 'none') return this.end(f, s, 'no-route', `no route to ${ip4str(p.dst)} in ${s.ns.id}`);
    if (r.type === 'blackhole') return this.end(f, s, 'dropped', 'blackhole route');
    if (r.type === 'unreachable' || r.type === 'prohibit') return this.end(f, s, 'rejected', `${r.type} route (ICMP ${r.type === 'prohibit' ? 'administratively prohibited' : 'host unreachable'})`, 'icmp');
    // rp_filter (fib_validate_source): the route back to the source must leave by iif (strict) or exist (loose).
    const rpAll = this.w.sysctl(s, 'net.ipv4.conf.all.rp_filter', '0');
    const rpIf = this.w.sysctl(s, `net.ipv4.conf.${iif}.rp_filter`, '0');
    const rp = Math.max(Number(rpAll.value) || 0, Number(rpIf.value) || 0);
    if (rp > 0 && iif !== 'lo') {
      const back = this.route(s, p.src, { mark: p.mark, iif: 'lo' });
      const ok = back.kind === 'ok' && (back.type === 'unicast' || back.type === 'local') && (rp === 2 || back.oif === iif);
      if (!ok) {
        this.step(f, s, { kind: 'drop', action: `rp_filter=${rp}`, note: `the route back to ${ip4str(p.src)} ${back.kind === 'ok' ? `leaves by ${back.oif}` : 'does not exist'}, not by ${iif} (reverse-path filter, net.ipv4.conf.{all,${iif}}.rp_filter)` });
        return this.end(f, s, 'dropped', `reverse-path filter (rp_filter=${rp}) on ${iif}`);
      }
    }
    if (r.type === 'local' || r.type === 'broadcast') return this.localIn(s, iif, f);
    const fwd = this.w.ipForward(s);
    if (!fwd.on) {
      this.step(f, s, { kind: 'drop', action: 'ip_forward=0', note: `the packet is not for this namespace and forwarding is off (${fwd.why})` });
      return this.end(f, s, 'dropped', `not forwarded: net.ipv4.ip_forward=0 in ${s.ns.id}`);
    }
    if (!fwd.captured) this.step(f, s, { kind: 'note', action: 'forwarding on', note: fwd.why });
    const oif = r.oif;
    const out = this.chains(s, f, [['mangle', 'FORWARD'], ['filter', 'FORWARD'], ['security', 'FORWARD']], { iif, oif }, () => undefined);
    const ends = [...out.ends];
    for (const g of out.go) ends.push(...this.postrouting(s, g, oif, r.nexthop, iif));
    return ends;
  }

  /** Local delivery: INPUT chains, IPVS at LOCAL_IN, nat INPUT, then a socket. */
  private localIn(s: SimNs, iif: string, f: Flow): End[] {
    const ends: End[] = [];
    const r = this.chains(s, f, [['mangle', 'INPUT'], ['filter', 'INPUT'], ['security', 'INPUT']], { iif }, () => undefined);
    ends.push(...r.ends);
    for (const g of r.go) {
      if (g.dir === 'ORIGINAL') {
        const svc = this.ipvsService(s, g.pkt);
        if (svc) {
          ends.push(...this.ipvs(s, iif, g, svc));
          continue;
        }
      }
      this.replyNat(s, g, 'src', 'INPUT');
      const n = this.chains(s, g, [['nat', 'INPUT']], { iif }, (h, a, hook) => this.applyNat(s, h, a, hook, iif));
      ends.push(...n.ends);
      for (const h of n.go) {
        this.confirm(s, h);
        const sandbox = s.ns.role === 'ingress-sbox' || s.ns.role === 'lb' || s.ns.role === 'overlay';
        if (sandbox && h.dir === 'ORIGINAL' && h.pkt.proto !== 'icmp') {
          // Docker's sandboxes run no process: a connection that IPVS did not take finds no socket,
          // and the kernel answers RST (tcp) or ICMP port unreachable (udp).
          const svcs = (s.ns.ipvs?.services ?? []).map((x) => (x.proto === 'fwm' ? `FWM ${x.fwmark} (0x${(x.fwmark ?? 0).toString(16)})` : `${x.proto.toUpperCase()} ${x.addr}:${x.port}`));
          const why = svcs.length
            ? `no IPVS service took it: the packet's mark is ${hex(h.pkt.mark)} and the services here are ${svcs.join(', ')}${h.pkt.mark === 0 ? `; a mangle MARK rule for ${h.pkt.proto}/${h.pkt.dport} is missing in ${s.ns.name}` : ''}`
            : `${s.ns.name} has no IPVS service${s.ns.ipvs ? '' : ' (no ipvsadm dump in the capture)'}`;
          this.step(h, s, { kind: 'drop', action: `no socket in ${s.ns.name}`, note: why });
          ends.push(...this.end(h, s, 'rejected', `reached ${s.ns.name}, where nothing listens: ${why}`, h.pkt.proto === 'tcp' ? 'rst' : 'icmp'));
          continue;
        }
        this.step(h, s, { kind: 'deliver', action: `delivered to ${ip4str(h.pkt.dst)}${h.pkt.dport !== undefined ? `:${h.pkt.dport}` : ''}`, note: 'a local address of this namespace: a socket listening there receives it' });
        ends.push(...this.end(h, s, 'delivered', 'delivered to a local address of the namespace'));
      }
    }
    return ends;
  }

  /** Records the reply tuple once the packet leaves or is delivered (conntrack confirm). */
  private confirm(s: SimNs, f: Flow): void {
    const c = f.ct?.conn;
    if (f.dir !== 'ORIGINAL' || !c || c.reply) return;
    c.reply = { src: f.pkt.dst, dst: f.pkt.src, sport: f.pkt.dport, dport: f.pkt.sport };
    void s;
  }

  // ---------------------------------------------------------------- IPVS

  /** ip_vs_service_find: fwmark services first (by skb->mark), then proto/VIP/port. */
  private ipvsService(s: SimNs, p: Pkt): IpvsService | undefined {
    const list = s.ns.ipvs?.services ?? [];
    if (p.mark) {
      const fw = list.find((x) => x.proto === 'fwm' && x.fwmark === p.mark);
      if (fw) return fw;
    }
    return list.find((x) => x.proto === p.proto && x.addr !== undefined && ip4(x.addr) === p.dst && x.port === p.dport);
  }

  /** The scheduler's choice as probabilities (ip_vs_rr.c, ip_vs_wrr.c, ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sh.c …). */
  private schedule(svc: IpvsService): { dest: IpvsDest; p: number }[] {
    const live = svc.dests.filter((d) => d.weight > 0);
    if (live.length === 0) return [];
    const weighted = ['wrr', 'wlc', 'sed', 'nq', 'fo', 'ovf', 'mh'].includes(svc.scheduler);
    if (svc.scheduler === 'fo') {
      const top = Math.max(...live.map((d) => d.weight));
      const first = live.find((d) => d.weight === top) as IpvsDest;
      return [{ dest: first, p: 1 }];
    }
    const total = weighted ? live.reduce((a, d) => a + d.weight, 0) : live.length;
    return live.map((d) => ({ dest: d, p: (weighted ? d.weight : 1) / total }));
  }

  private ipvs(s: SimNs, iif: string, f: Flow, svc: IpvsService): End[] {
    const name = svc.proto === 'fwm' ? `FWM ${svc.fwmark}` : `${svc.proto.toUpperCase()} ${svc.addr}:${svc.port}`;
    const ref = { file: svc.source.file, line: svc.source.line, text: `${name} ${svc.scheduler}` };
    const choices = this.schedule(svc);
    if (choices.length === 0) {
      this.step(f, s, { kind: 'ipvs', hook: 'INPUT', rule: ref, action: `IPVS ${name}: no real server with weight > 0`, note: svc.dests.length ? 'every real server has weight 0 (Docker de-weights a task it is removing); ip_vs_leave answers ICMP port unreachable' : 'the service has no real servers' });
      return this.end(f, s, 'rejected', `IPVS service ${name} has no usable real server (${svc.dests.length ? 'all weights are 0' : 'none'})`, 'icmp');
    }
    const ends: End[] = [];
    for (const ch of choices) {
      const g = choices.length > 1 ? clone(f) : f;
      g.prob *= ch.p;
      const before = this.view(g.pkt);
      const d = ch.dest;
      const daddr = ip4(d.addr);
      const sched = svc.scheduler === 'rr' || svc.scheduler === 'lc' ? 'equal share among live real servers' : svc.scheduler === 'sh' || svc.scheduler === 'dh' ? 'chosen by a hash of the address: each real server is equally likely for an unknown client' : 'share by weight';
      const c = g.ct?.conn;
      if (c) c.ipvs = { vaddr: g.pkt.dst, vport: g.pkt.dport, vproto: g.pkt.proto, method: d.forward === 'Masq' ? 'MASQ' : d.forward === 'Route' ? 'GATE' : d.forward === 'Tunnel' ? 'TUNNEL' : 'MASQ', fwmark: svc.fwmark };
      if (d.forward === 'Local') {
        this.step(g, s, { kind: 'ipvs', hook: 'INPUT', rule: { ...ref, line: d.source.line, text: `-> ${d.addr}:${d.port} Local` }, action: `IPVS ${name} → ${d.addr} (local)`, note: `probability ${ch.p}` });
        ends.push(...this.end(g, s, 'delivered', 'delivered locally by IPVS'));
        continue;
      }
      if (daddr === undefined) {
        this.step(g, s, { kind: 'ipvs', hook: 'INPUT', action: `IPVS ${name} → ${d.addr}`, note: 'the real server is a name, not an address (dump taken without -n): cannot follow it' });
        ends.push(...this.end(g, s, 'dropped', `IPVS real server ${d.addr} is not an address (use ipvsadm -Ln)`));
        continue;
      }
      if (d.forward === 'Masq') {
        g.pkt.dst = daddr;
        if (d.port) g.pkt.dport = d.port;
        if (c) c.dnat = true;
      }
      this.step(g, s, {
        kind: 'ipvs',
        hook: 'INPUT',
        rule: { file: d.source.file, line: d.source.line, text: `${name} ${svc.scheduler} -> ${d.addr}:${d.port} ${d.forward} ${d.weight}` },
        action: `IPVS ${name} ${svc.scheduler}: ${d.forward} to ${d.addr}${d.port ? `:${d.port}` : ''}`,
        before,
        note: `probability ${round(ch.p)} (${sched}); ${d.forward === 'Masq' ? 'destination rewritten (port 0 keeps the packet\'s port); the packet leaves through LOCAL_OUT and POSTROUTING (ip_vs_nat_xmit)' : 'sent on unchanged to the real server'}`,
      });
      // net.ipv4.vs.conntrack=0 (the kernel default) leaves IPVS traffic out of conntrack, so no
      // POSTROUTING NAT applies to it (ip_vs_xmit.c ip_vs_send_or_cont → ip_vs_notrack). Docker
      // writes 1 together with its `-m ipvs` SNAT rule (service_linux.go configureFWMark).
      const vsct = s.ns.sysctls['net.ipv4.vs.conntrack'];
      if (vsct?.value === '0' && g.ct?.conn) {
        g.ct.conn.untracked = true;
        g.ct.state = 'UNTRACKED';
        this.step(g, s, { kind: 'conntrack', action: 'IPVS traffic not tracked', note: `net.ipv4.vs.conntrack=0 (${vsct.source.file}:${vsct.source.line}): no NAT rule applies to it after IPVS` });
      }
      // ip_vs_xmit.c: the rewritten packet is routed and sent through NF_INET_LOCAL_OUT, then POSTROUTING.
      const r = this.route(s, g.pkt.dst, { mark: g.pkt.mark, iif: 'lo' });
      this.routeStep(g, s, r, 'IPVS re-route');
      if (r.kind === 'none') {
        ends.push(...this.end(g, s, 'no-route', `no route to real server ${d.addr}`));
        continue;
      }
      const out = this.chains(s, g, [['mangle', 'OUTPUT'], ['filter', 'OUTPUT'], ['security', 'OUTPUT']], { oif: r.oif }, () => undefined);
      ends.push(...out.ends);
      for (const h of out.go) ends.push(...this.postrouting(s, h, r.oif, r.nexthop, undefined));
      void iif;
    }
    return ends;
  }

  // ---------------------------------------------------------------- local output and leaving

  /** A local process sends: routing, then OUTPUT chains, re-routing, POSTROUTING. */
  localOut(s: SimNs, f: Flow): End[] {
    const p = f.pkt;
    const r = this.route(s, p.dst, { src: p.src, mark: p.mark, iif: 'lo' });
    this.routeStep(f, s, r, 'routing decision (local output)');
    if (r.kind === 'none') return this.end(f, s, 'no-route', `no route to ${ip4str(p.dst)} in ${s.ns.id} (connect fails: network unreachable)`);
    if (r.type === 'blackhole') return this.end(f, s, 'dropped', 'blackhole route (the sender gets EINVAL)');
    if (r.type === 'unreachable' || r.type === 'prohibit') return this.end(f, s, 'rejected', `${r.type} route`);
    this.conntrack(s, f);
    this.replyNat(s, f, 'dst', 'OUTPUT');
    const ends: End[] = [];
    const origDst = p.dst;
    const origMark = p.mark;
    const out = this.chains(s, f, [['raw', 'OUTPUT'], ['mangle', 'OUTPUT'], ['nat', 'OUTPUT'], ['filter', 'OUTPUT'], ['security', 'OUTPUT']], { oif: r.oif }, (g, a, hook) => this.applyNat(s, g, a, hook, undefined, r.kind === 'ok' ? r.oif : undefined));
    ends.push(...out.ends);
    for (const g of out.go) {
      let rr: ReturnType<Sim['route']> = r;
      if (g.pkt.dst !== origDst || g.pkt.mark !== origMark) {
        // ip_route_me_harder: a changed destination or mark re-routes the packet.
        rr = this.route(s, g.pkt.dst, { src: g.pkt.src, mark: g.pkt.mark, iif: 'lo' });
        this.routeStep(g, s, rr, 're-route after OUTPUT');
        if (rr.kind === 'none') {
          ends.push(...this.end(g, s, 'no-route', `no route to ${ip4str(g.pkt.dst)} after OUTPUT rewrote the packet`));
          continue;
        }
        if (rr.type === 'blackhole' || rr.type === 'unreachable' || rr.type === 'prohibit') {
          // ip_route_me_harder fails on these (fib_props[type].error) and the hook drops the packet
          // with that error (nf_route_table_hook4 / ipt_mangle_out: NF_DROP_ERR).
          ends.push(...this.end(g, s, 'dropped', `re-routing after OUTPUT found a ${rr.type} route: the packet is dropped (the sender gets an error)`));
          continue;
        }
      }
      if (rr.kind !== 'ok') continue;
      ends.push(...this.postrouting(s, g, rr.oif, rr.nexthop, undefined, rr.type === 'local'));
    }
    return ends;
  }

  /** POSTROUTING, conntrack confirm, then out of the interface. */
  private postrouting(s: SimNs, f: Flow, oif: string | undefined, nexthop: number, iif: string | undefined, loopback = false): End[] {
    this.replyNat(s, f, 'src', 'POSTROUTING');
    const r = this.chains(s, f, [['mangle', 'POSTROUTING'], ['nat', 'POSTROUTING']], { iif, oif }, (g, a, hook) => this.applyNat(s, g, a, hook, iif, oif, nexthop));
    const ends = [...r.ends];
    for (const g of r.go) {
      this.confirm(s, g);
      if (loopback || oif === 'lo') {
        this.step(g, s, { kind: 'link', action: 'loopback', packet: this.view(g.pkt, undefined, 'lo') });
        ends.push(...this.loopbackIn(s, g));
      } else ends.push(...this.transmit(s, oif, nexthop, g));
    }
    return ends;
  }

  /** A locally generated packet to a local address comes back in on lo; nat PREROUTING is already done. */
  private loopbackIn(s: SimNs, f: Flow): End[] {
    const r = this.chains(s, f, [['raw', 'PREROUTING'], ['mangle', 'PREROUTING']], { iif: 'lo' }, () => undefined);
    const ends = [...r.ends];
    for (const g of r.go) ends.push(...this.localIn(s, 'lo', g));
    return ends;
  }

  /** Sends a packet out of an interface toward a next hop. */
  private transmit(s: SimNs, oif: string | undefined, nexthop: number, f: Flow): End[] {
    const i = oif ? s.ifaces.get(oif) : undefined;
    if (!i) {
      return this.leave(s, oif, nexthop, f);
    }
    if (i.details.kind === 'bridge' || this.w.portsOf.has(i.id)) return this.bridgeOut(s, i, undefined, nexthop, f);
    if (i.details.vxlan) return this.vxlanSend(s, i, nexthop, f);
    if (i.peerId) {
      const peer = this.w.ifById.get(i.peerId);
      const ps = peer ? this.w.ns.get(peer.namespaceId) : undefined;
      if (peer && ps) {
        this.step(f, s, { kind: 'link', action: `veth ${i.name} → ${ps.ns.name}/${peer.name}`, packet: this.view(f.pkt, undefined, i.name) });
        this.scrub(f, s, ps);
        return this.receive(ps, peer.name, f, nexthop);
      }
    }
    return this.leave(s, oif, nexthop, f);
  }

  /** The packet leaves the namespace by an interface with no peer in the capture: another node, or outside. */
  private leave(s: SimNs, oif: string | undefined, nexthop: number, f: Flow): End[] {
    const other = this.w.nodeByAddr.get(nexthop);
    const wider = this.w.wider;
    if (wider) {
      // A part of a bigger world: where the bigger one would send the packet (to a namespace of
      // another node, or outside) must be where this one does, else this answer is not the real one.
      const hop = (o: typeof other): string => (o && o.node !== s.ns.node ? `${o.nsId}|${o.iface}` : '');
      if (hop(other) !== hop(wider.nodeByAddr.get(nexthop))) {
        this.step(f, s, { kind: 'note', action: `out of ${oif ?? '?'} towards ${ip4str(nexthop)}`, packet: this.view(f.pkt, undefined, oif), note: 'the next hop is on a node left out of this partial world' });
        return [{ flow: f, verdict: 'dropped', reason: `the next hop ${ip4str(nexthop)} is on a node left out of this partial world`, final: this.final(s, f.pkt, LEFT_OUT) }];
      }
    }
    if (other && other.node !== s.ns.node) {
      const os = this.w.ns.get(other.nsId);
      if (os) {
        this.step(f, s, { kind: 'link', action: `out of ${oif ?? '?'} to node ${other.node} (${ip4str(nexthop)} on ${other.iface})`, packet: this.view(f.pkt, undefined, oif) });
        this.scrub(f, s, os);
        return this.receive(os, other.iface, f, nexthop);
      }
    }
    this.step(f, s, { kind: 'link', action: `out of ${oif ?? '?'} towards ${ip4str(nexthop)}`, packet: this.view(f.pkt, undefined, oif), note: 'the next hop is outside the capture' });
    return [{ flow: f, verdict: 'delivered', reason: `left ${s.ns.id} through ${oif ?? '?'} towards ${ip4str(nexthop)}, which is outside the capture`, final: this.final(s, f.pkt, '(outside)') }];
  }

  // ---------------------------------------------------------------- bridges and VXLAN

  private ports(br: ModelIface): ModelIface[] {
    return this.w.portsOf.get(br.id) ?? [];
  }

  /** Which port of a bridge leads to the host that answers ARP for an address. */
  private portFor(s: SimNs, br: ModelIface, addr: number, except?: ModelIface): { port: ModelIface; how: string } | undefined {
    const ports = this.ports(br).filter((p) => p !== except);
    for (const p of ports) {
      if (!p.peerId) continue;
      const peer = this.w.ifById.get(p.peerId);
      const ps = peer ? this.w.ns.get(peer.namespaceId) : undefined;
      // arp_ignore=0: a namespace answers ARP for any of its local addresses.
      if (ps?.local.has(addr)) return { port: p, how: `${ps.ns.name} owns ${ip4str(addr)}` };
    }
    for (const p of ports) {
      if (!p.details.vxlan) continue;
      const r = this.vxlanResolve(s, p, addr);
      if (r) return { port: p, how: r.how };
    }
    return undefined;
  }

  /** A frame enters a bridge from a port: bridged to another port, or up to the bridge's own IP stack. */
  private bridgeIn(s: SimNs, br: ModelIface, port: ModelIface, f: Flow, nexthop: number): End[] {
    const brnf = this.w.sysctl(s, 'net.bridge.bridge-nf-call-iptables', '1');
    const local = s.local.has(nexthop);
    const out = local ? undefined : this.portFor(s, br, nexthop, port);
    this.step(f, s, { kind: 'bridge', action: `bridge ${br.name}: in from ${port.name}${local ? ', to the bridge itself' : out ? `, out to ${out.port.name}` : ''}`, note: out?.how, packet: this.view(f.pkt, port.name) });
    if (!local && !out) {
      return this.end(f, s, 'dropped', `bridge ${br.name}: no port leads to ${ip4str(nexthop)} (nobody answers ARP for it)`);
    }
    let flows: Flow[] = [f];
    const ends: End[] = [];
    if (brnf.value === '1') {
      // br_netfilter (br_netfilter_hooks.c): bridged IPv4 frames traverse PREROUTING with -i the
      // bridge and physdev the port; ip_sabotage_in stops a second PREROUTING pass upstream.
      this.conntrack(s, f);
      this.replyNat(s, f, 'dst', 'PREROUTING');
      const r = this.chains(s, f, [['raw', 'PREROUTING'], ['mangle', 'PREROUTING'], ['nat', 'PREROUTING']], { iif: br.name, physIn: port.name, bridged: !local }, (g, a, hook) => this.applyNat(s, g, a, hook, br.name));
      flows = r.go;
      ends.push(...r.ends);
    }
    for (const g of flows) {
      if (local) {
        ends.push(...(brnf.value === '1' ? this.routeInputAfterBridge(s, br.name, g) : this.ipReceive(s, br.name, g, false)));
        continue;
      }
      if (!out) continue;
      if (brnf.value === '1') {
        const r = this.chains(s, g, [['mangle', 'FORWARD'], ['filter', 'FORWARD']], { iif: br.name, oif: br.name, physIn: port.name, physOut: out.port.name, bridged: true }, () => undefined);
        ends.push(...r.ends);
        for (const h of r.go) {
          this.replyNat(s, h, 'src', 'POSTROUTING');
          const pr = this.chains(s, h, [['mangle', 'POSTROUTING'], ['nat', 'POSTROUTING']], { oif: br.name, physIn: port.name, physOut: out.port.name, bridged: true }, (x, a, hook) => this.applyNat(s, x, a, hook, br.name, br.name, nexthop));
          ends.push(...pr.ends);
          for (const x of pr.go) {
            this.confirm(s, x);
            ends.push(...this.portOut(s, out.port, nexthop, x));
          }
        }
      } else ends.push(...this.portOut(s, out.port, nexthop, g));
    }
    return ends;
  }

  private routeInputAfterBridge(s: SimNs, iif: string, f: Flow): End[] {
    return this.routeInput(s, iif, f);
  }

  /** The namespace's own IP stack sends out of a bridge device. */
  private bridgeOut(s: SimNs, br: ModelIface, _from: ModelIface | undefined, nexthop: number, f: Flow): End[] {
    const out = this.portFor(s, br, nexthop);
    if (!out) {
      this.step(f, s, { kind: 'bridge', action: `bridge ${br.name}: no port leads to ${ip4str(nexthop)}`, packet: this.view(f.pkt, undefined, br.name) });
      return this.end(f, s, 'no-route', `bridge ${br.name}: nobody answers ARP for ${ip4str(nexthop)}`);
    }
    this.step(f, s, { kind: 'bridge', action: `bridge ${br.name}: out to ${out.port.name}`, note: out.how, packet: this.view(f.pkt, undefined, br.name) });
    return this.portOut(s, out.port, nexthop, f);
  }

  private portOut(s: SimNs, port: ModelIface, nexthop: number, f: Flow): End[] {
    if (port.details.vxlan) return this.vxlanSend(s, port, nexthop, f);
    if (port.peerId) {
      const peer = this.w.ifById.get(port.peerId);
      const ps = peer ? this.w.ns.get(peer.namespaceId) : undefined;
      if (peer && ps) {
        this.step(f, s, { kind: 'link', action: `veth ${port.name} → ${ps.ns.name}/${peer.name}` });
        this.scrub(f, s, ps);
        return this.receive(ps, peer.name, f, nexthop);
      }
    }
    return this.leave(s, port.name, nexthop, f);
  }

  /** The VXLAN device with a VNI on the node that owns a VTEP address (preferring the owner's namespace). */
  private vxlanAt(vni: number | undefined, vtep: number): { nsId: string; iface: ModelIface; vtepNs: SimNs } | undefined {
    const vtepNs = this.w.lastOwner.get(vtep);
    if (!vtepNs) return undefined;
    let best: { nsId: string; iface: ModelIface } | undefined;
    for (const x of vni === undefined ? [] : this.w.vxlanByVniNode.get(`${vni}|${vtepNs.ns.node}`) ?? []) {
      if (x.namespaceId === vtepNs.ns.id) return { nsId: x.namespaceId, iface: x, vtepNs };
      best ??= { nsId: x.namespaceId, iface: x };
    }
    return best ? { ...best, vtepNs } : undefined;
  }

  /**
   * Which VTEP a VXLAN device sends an inner address to: the neighbour entry gives the MAC, the
   * FDB entry for that MAC (or the all-zeros default entry) gives the remote VTEP. Docker programs
   * both, static, for every remote endpoint (drivers/overlay/peerdb.go). Without them, an endpoint
   * with that address behind the same VNI on another node is looked for.
   */
  private vxlanResolve(s: SimNs, vx: ModelIface, addr: number): { vtep: number; nsId: string; iface: ModelIface; vtepNs?: SimNs; how: string; source?: { file: string; line: number; text: string } } | undefined {
    const vni = vx.details.vxlan?.vni;
    const a = ip4str(addr);
    const neigh = neighbourIndex(s.ns.neighbours).get(a);
    const fdbs = fdbIndex(s.ns.fdb).get(vx.name);
    const byMac = neigh && fdbs ? fdbs.byMac.get((neigh.lladdr as string).toLowerCase()) : undefined;
    const fdb = byMac ?? fdbs?.zero;
    const remote = fdb?.dst ?? vx.details.vxlan?.remote;
    if (remote) {
      const vtep = ip4(remote);
      const t = vtep !== undefined ? this.vxlanAt(vni, vtep) : undefined;
      if (vtep !== undefined && t) {
        const how = fdb ? `${neigh ? `neighbour ${a} → ${neigh.lladdr}, ` : ''}FDB ${fdb.mac} → VTEP ${remote}` : `remote ${remote}`;
        return { vtep, ...t, how, source: fdb ? { file: fdb.source.file, line: fdb.source.line, text: `${fdb.mac} dev ${fdb.dev} dst ${fdb.dst}` } : undefined };
      }
    }
    // Fallback: an endpoint with that address behind the same VNI on another node.
    for (const x of vni === undefined ? [] : this.w.vxlanByVni.get(vni) ?? []) {
      if (x === vx) continue;
      const ts = this.w.ns.get(x.namespaceId);
      if (!ts || ts.ns.node === s.ns.node) continue;
      const br = x.masterId ? this.w.ifById.get(x.masterId) : undefined;
      const owners: SimNs[] = [];
      if (ts.local.has(addr)) owners.push(ts);
      if (br) {
        for (const p of this.ports(br)) {
          const peer = p.peerId ? this.w.ifById.get(p.peerId) : undefined;
          const ps = peer ? this.w.ns.get(peer.namespaceId) : undefined;
          if (ps?.local.has(addr)) owners.push(ps);
        }
      }
      if (owners.length === 0) continue;
      const host = this.w.ns.get(`${ts.ns.node}/host`);
      const vtepAddr = host ? [...host.local.keys()].find((k) => this.w.nodeByAddr.get(k)?.node === ts.ns.node) : undefined;
      return { vtep: vtepAddr ?? 0, nsId: x.namespaceId, iface: x, vtepNs: host, how: `${a} is ${owners[0].ns.name} on ${ts.ns.node} (no neighbour/FDB entry in the capture: found through the overlay on the other nodes)` };
    }
    return undefined;
  }

  /** The namespace whose stack carries a VXLAN device's UDP packets (link-netns, else its own). */
  private underlayOf(s: SimNs, vx: ModelIface): SimNs {
    if (vx.linkNetns !== undefined || vx.linkNetnsid !== undefined) {
      const named = vx.linkNetns ? this.w.ns.get(`${s.ns.node}/${vx.linkNetns}`) : undefined;
      return named ?? this.w.ns.get(`${s.ns.node}/host`) ?? s;
    }
    return s;
  }

  private vxlanSend(s: SimNs, vx: ModelIface, nexthop: number, f: Flow): End[] {
    const info = vx.details.vxlan;
    const r = this.vxlanResolve(s, vx, nexthop);
    if (!r) {
      this.step(f, s, { kind: 'vxlan', action: `${vx.name} (VNI ${info?.vni}): no remote for ${ip4str(nexthop)}`, note: 'no neighbour/FDB entry and no node of the capture has it: the kernel reports an L2/L3 miss and drops the packet' });
      return this.end(f, s, 'dropped', `VXLAN ${info?.vni}: no FDB entry for ${ip4str(nexthop)}`);
    }
    const rs = this.w.ns.get(r.nsId);
    if (!rs) return this.end(f, s, 'dropped', 'VXLAN peer namespace missing');
    const port = info?.dstport ?? 4789;
    this.step(f, s, { kind: 'vxlan', rule: r.source, action: `VXLAN ${info?.vni}: encapsulated to VTEP ${ip4str(r.vtep)} udp/${port} (${rs.ns.node}/${rs.ns.name})`, note: r.how, packet: this.view(f.pkt, undefined, vx.name) });
    // The outer UDP packet crosses the underlay like any other: routed with the inner skb's mark
    // (vxlan_xmit_one keeps skb->mark), through the sender's OUTPUT/POSTROUTING and the VTEP's
    // PREROUTING/INPUT, where a firewall on udp/4789 would stop it.
    const under = this.underlayOf(s, vx);
    if (r.vtep && under.local.size > 0) {
      const src = (info?.local ? ip4(info.local) : undefined) ?? this.selectSrc(under, undefined, r.vtep) ?? 0;
      const outer: Flow = { prob: 1, steps: [], pkt: { src, dst: r.vtep, proto: 'udp', sport: 40000, dport: port, mark: f.pkt.mark }, conns: new Map(), dir: 'ORIGINAL', hops: f.hops };
      const ends = merge(this.localOut(under, outer));
      const ok = ends.find((e) => e.verdict === 'delivered' && e.final.dst === ip4str(r.vtep) && e.final.namespace !== '(outside)');
      const worst = ok ?? ends[0];
      for (const st of (worst?.flow.steps ?? [])) f.steps.push({ ...st, note: `underlay (outer VXLAN packet)${st.note ? `: ${st.note}` : ''}` });
      if (!ok) {
        return this.end(f, s, worst?.verdict === 'rejected' ? 'rejected' : 'dropped', `the VXLAN underlay packet to ${ip4str(r.vtep)}:${port} did not arrive: ${worst?.reason ?? 'no path'}`);
      }
    }
    this.scrub(f, s, rs);
    return this.receive(rs, r.iface.name, f, nexthop);
  }

  /** Crossing into another namespace clears the skb mark (skb_scrub_packet with xnet, net/core/skbuff.c). */
  private scrub(f: Flow, from: SimNs, to: SimNs): void {
    if (from.ns.id !== to.ns.id) f.pkt.mark = 0;
  }

  // ---------------------------------------------------------------- replies

  /**
   * Traces the answer to a rejected packet (the TCP reset or ICMP error the kernel sends from the
   * namespace that refused it, nf_send_reset / nf_send_unreach → ip_local_out) back to the sender:
   * a firewall on the way back can stop it, and then the sender only sees silence.
   */
  answer(e: End, q: TraceQuery & { sport: number }): ReplyTrace | undefined {
    const s = this.w.ns.get(`${e.final.node}/${e.final.namespace}`);
    if (!s || !e.answer) return undefined;
    if (`${q.node}/${q.namespace}` === s.ns.id && !q.iif) return undefined; // refused on the sender's own host: the error is returned directly
    const fwd = e.flow;
    const rst = e.answer === 'rst';
    const src = rst ? fwd.pkt.dst : this.selectSrc(s, undefined, fwd.pkt.src) ?? fwd.pkt.dst;
    const p: Pkt = rst
      ? { src, dst: fwd.pkt.src, proto: 'tcp', sport: fwd.pkt.dport, dport: fwd.pkt.sport, tcpFlags: 0x14, mark: 0 }
      : { src, dst: fwd.pkt.src, proto: 'icmp', icmpType: 3, mark: 0 };
    const conns = new Map<string, Conn>();
    for (const [k, v] of fwd.conns) conns.set(k, { ...v, orig: { ...v.orig }, reply: v.reply ? { ...v.reply } : undefined });
    const flow: Flow = { prob: 1, steps: [], pkt: p, conns, dir: 'REPLY', hops: 0, related: !rst };
    this.step(flow, s, { kind: 'note', action: `${answerName(e.answer)} sent back to ${ip4str(p.dst)}`, note: 'the refusal is a packet of its own and crosses every namespace back to the sender' });
    const ends = merge(this.localOut(s, flow));
    const best = ends[0];
    if (!best) return { verdict: 'dropped', final: e.final, reason: `the ${answerName(e.answer)} went nowhere`, steps: flow.steps };
    const reached = best.verdict === 'delivered' && best.final.dst === q.src;
    return {
      verdict: reached ? 'delivered' : best.verdict === 'delivered' ? 'dropped' : best.verdict,
      final: best.final,
      reason: reached ? `the ${answerName(e.answer)} reaches the sender ${q.src}: it sees the connection refused` : `the ${answerName(e.answer)} does not reach the sender (${best.reason}): it sees silence, as for a drop`,
      steps: best.flow.steps,
    };
  }

  /** Traces the reply of a delivered outcome back to the original sender. */
  reply(e: End, q: TraceQuery & { sport: number }): ReplyTrace {
    const fs = this.w.ns.get(`${e.final.node}/${e.final.namespace}`);
    const fwd = e.flow;
    const p: Pkt = {
      src: ip4(e.final.dst) as number,
      dst: ip4(e.final.src) as number,
      proto: fwd.pkt.proto,
      sport: e.final.dport,
      dport: e.final.sport,
      icmpType: fwd.pkt.proto === 'icmp' ? 0 : undefined,
      tcpFlags: fwd.pkt.proto === 'tcp' ? 0x12 : undefined,
      mark: 0,
    };
    if (!fs) return { verdict: 'no-route', final: e.final, reason: 'the receiving namespace is not in the capture', steps: [] };
    const conns = new Map<string, Conn>();
    for (const [k, v] of fwd.conns) conns.set(k, { ...v, orig: { ...v.orig }, reply: v.reply ? { ...v.reply } : undefined });
    const flow: Flow = { prob: 1, steps: [], pkt: p, conns, dir: 'REPLY', hops: 0 };
    const ends = this.localOut(fs, flow);
    const best = merge(ends)[0];
    if (!best) return { verdict: 'dropped', final: e.final, reason: 'the reply went nowhere', steps: flow.steps };
    const wantSrc = q.dst;
    const wantSport = q.proto === 'icmp' ? undefined : q.dport;
    const toClient = best.final.dst === q.src && (q.proto === 'icmp' || best.final.dport === q.sport);
    let verdict = best.verdict;
    let reason = best.reason;
    if (verdict === 'delivered' && toClient && (best.final.src !== wantSrc || best.final.sport !== wantSport)) {
      verdict = 'dropped';
      reason = `the reply reaches ${q.src} from ${best.final.src}${best.final.sport !== undefined ? `:${best.final.sport}` : ''}, but the client sent to ${wantSrc}${wantSport !== undefined ? `:${wantSport}` : ''}: its TCP/UDP stack does not match it to the connection`;
    } else if (verdict === 'delivered' && !toClient) {
      reason = `${reason}; the reply was addressed to ${best.final.dst}, not back to the client ${q.src}`;
    } else if (verdict === 'delivered') {
      reason = `the reply reaches the client ${q.src} from ${best.final.src}${best.final.sport !== undefined ? `:${best.final.sport}` : ''}`;
    }
    return { verdict, final: best.final, reason, steps: best.flow.steps };
  }
}

/** A short name for an answer kind. */
function answerName(a: End['answer']): string {
  return a === 'rst' ? 'TCP reset' : 'ICMP error';
}

function routeText(r: SimRoute): string {
  const x = r.r;
  if (!x) return '';
  const dst = x.prefixLen === 0 ? 'default' : `${x.dst}/${x.prefixLen}`;
  return `${x.type !== 'unicast' ? `${x.type} ` : ''}${dst}${x.via ? ` via ${x.via}` : ''}${x.dev ? ` dev ${x.dev}` : ''}${x.table !== 'main' ? ` table ${x.table}` : ''}`;
}
