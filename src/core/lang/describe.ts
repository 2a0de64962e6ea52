/**
 * Rules and values in words: what a rule matches and does, what a mark, address, interface or
 * port is in the loaded capture, and who (Docker, kube-proxy) programmed a rule. Used by hover
 * and by the diagnostics' messages. Everything returned is Markdown; text that comes from a dump
 * goes through `code()` or `esc()`, because a dump is untrusted input.
 */
import type { Namespace } from '../model/model';
import type { Rule, RuleSpec, XtMatch, XtOption, XtTarget } from '../model/netfilter';
import { parseIPv4, parseUint } from '../parsers/iptablesRule';
import { CaptureIndex, dotted, prefixMask, type DockerLb } from './captureIndex';
import { ADDR_TYPES, CT_STATES, FORWARDS, SCHEDULERS, TARGETS, chainOrigin } from './knowledge';

/** Where a question is asked from: the capture's index and the namespace of the dump. */
export interface LangContext {
  index?: CaptureIndex;
  /** `node/namespace` of the dump being read. */
  nsId?: string;
}

/** Inline code that survives any backticks in `s`. */
export function code(s: string): string {
  const clean = s.replace(/[\r\n]+/g, ' ');
  let run = 0;
  let cur = 0;
  for (const ch of clean) {
    cur = ch === '`' ? cur + 1 : 0;
    run = Math.max(run, cur);
  }
  const fence = '`'.repeat(run + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/** Escapes Markdown (and HTML) in plain text from a dump. */
export function esc(s: string): string {
  return s.replace(/[\\`*[\]<>&|~]/g, (c) => `\\${c}`);
}

/** The namespace a context points at. */
export function ctxNs(ctx: LangContext): Namespace | undefined {
  return ctx.nsId ? ctx.index?.nsById.get(ctx.nsId) : undefined;
}

/** Number with its hex form: `256 (0x100)`. */
export function numHex(v: number): string {
  return `${v} (0x${(v >>> 0).toString(16)})`;
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/** `VALUE[/MASK]` (as `--set-xmark` and `--mark` print them) to numbers. */
export function readMarkMask(text: string): { value: number; mask: number } | undefined {
  const slash = text.indexOf('/');
  const value = parseUint(slash >= 0 ? text.slice(0, slash) : text);
  const mask = slash >= 0 ? parseUint(text.slice(slash + 1)) : 0xffffffff;
  if (Number.isNaN(value) || Number.isNaN(mask) || value > 0xffffffff || mask > 0xffffffff) return undefined;
  return { value, mask };
}

/** The mark a `MARK`/`CONNMARK` target leaves on the packet when it replaces every bit, else undefined. */
export function markSet(t: XtTarget | undefined): number | undefined {
  if (!t || (t.name !== 'MARK' && t.name !== 'CONNMARK')) return undefined;
  const o = t.options.find((x) => x.name === 'set-xmark');
  const mm = o?.values[0] ? readMarkMask(o.values[0]) : undefined;
  return mm && mm.mask === 0xffffffff ? mm.value : undefined;
}

/** Explains a `--set-xmark VALUE/MASK` (libxt_MARK.c: mark = (mark AND NOT MASK) XOR VALUE). */
export function explainSetXmark(text: string, conn = false): string {
  const mm = readMarkMask(text);
  const what = conn ? "the connection's mark" : 'the mark';
  if (!mm) return `${code(text)} is not a mark value`;
  if (mm.mask === 0xffffffff) return `${what} becomes **${numHex(mm.value)}** (mask 0xffffffff: all 32 bits are replaced)`;
  if (mm.mask === mm.value) return `the bits 0x${mm.value.toString(16)} are turned on in ${what}, the others kept (\`--or-mark\`)`;
  if (mm.value === 0) return `the bits 0x${mm.mask.toString(16)} are cleared in ${what}, the others kept`;
  return `${what} = (${what} AND NOT 0x${mm.mask.toString(16)}) XOR 0x${mm.value.toString(16)}; with a mark of 0 before, it becomes ${numHex(mm.value)}`;
}

/** Explains a `--mark VALUE[/MASK]` test. */
export function explainMarkTest(text: string, conn = false): string {
  const mm = readMarkMask(text);
  const what = conn ? "the connection's mark" : "the packet's mark";
  if (!mm) return `${code(text)} is not a mark value`;
  if (mm.mask === 0xffffffff) return `${what} is exactly **${numHex(mm.value)}**`;
  return `(${what} AND 0x${mm.mask.toString(16)}) equals 0x${mm.value.toString(16)}`;
}

/** What uses mark `mark` in the capture: IPVS fwmark services and Docker load balancers. */
export function markFacts(mark: number, ctx: LangContext): string[] {
  const out: string[] = [];
  const idx = ctx.index;
  if (!idx) return out;
  const svcs = idx.ipvsByMark(mark, ctx.nsId);
  const local = svcs.filter((s) => s.ns.id === ctx.nsId);
  const shown = local.length ? local : svcs.slice(0, 3);
  for (const s of shown) {
    const dests = s.svc.dests.map((d) => `${d.addr}:${d.port} (${d.forward}, weight ${d.weight}${taskNote(d.addr, ctx)})`);
    out.push(`mark ${mark} selects IPVS service ${code(`FWM ${mark}`)} (${s.svc.scheduler}) in ${s.ns.id} → ${dests.length ? dests.join(', ') : '**no real servers**'} (${s.svc.source.file}:${s.svc.source.line})`);
  }
  if (local.length === 0 && svcs.length > shown.length) out.push(`(${svcs.length - shown.length} more namespaces have an IPVS service ${code(`FWM ${mark}`)})`);
  if (svcs.length === 0 && ctx.nsId && idx.nsById.get(ctx.nsId)?.ipvs) out.push(`no IPVS service uses mark ${mark} in ${ctx.nsId} (its ipvsadm dump has no ${code(`FWM ${mark}`)})`);
  for (const lb of idx.lbByMark(mark)) out.push(`Docker: fwmark ${mark} is the load balancer of service **${esc(lb.service)}** on network ${esc(lb.network)}${lb.vip ? ` (VIP ${lb.vip})` : ''}`);
  return out;
}

function taskNote(addr: string, ctx: LangContext): string {
  const t = ctx.index?.tasksAt(addr)[0];
  return t ? `: ${t.service ? `task ${esc(t.name)} of service ${esc(t.service)}` : esc(t.name)}` : '';
}

/** Special IPv4 ranges worth a word (RFC 6890 and Docker's own addresses). */
function specialAddr(v: number, prefixLen: number): string | undefined {
  if (prefixLen === 0) return 'any address';
  if (v === 0x7f00000b && prefixLen === 32) return "Docker's embedded DNS server (127.0.0.11, answered inside every container's namespace)";
  if ((v >>> 24) === 127) return prefixLen <= 8 ? 'the loopback network' : 'a loopback address';
  if (v === 0xffffffff) return 'the limited broadcast address';
  if ((v >>> 28) === 0xe) return 'a multicast address';
  if ((v >>> 16) === 0xa9fe) return 'a link-local address (169.254.0.0/16)';
  return undefined;
}

/** What an address or network (`10.0.0.5`, `10.0.0.0/24`) is in the capture. */
export function addrFacts(text: string, ctx: LangContext): string[] {
  const out: string[] = [];
  const slash = text.indexOf('/');
  const host = slash >= 0 ? text.slice(0, slash) : text;
  const v = parseIPv4(host);
  if (v < 0) return out;
  const ptext = slash >= 0 ? text.slice(slash + 1) : '32';
  let prefixLen = /^\d+$/.test(ptext) ? Number(ptext) : -1;
  if (prefixLen < 0) {
    const m = parseIPv4(ptext);
    if (m >= 0) {
      const inv = ~m >>> 0;
      prefixLen = (inv & (inv + 1)) === 0 ? 32 - Math.log2(inv + 1) : -1;
    }
  }
  const special = prefixLen >= 0 ? specialAddr(v, prefixLen) : undefined;
  if (special) out.push(`${code(text)} is ${special}`);
  else if (prefixLen === 32) out.push(`${code(text)} is the single address ${host}`);
  else if (prefixLen > 0) {
    const net = (v & prefixMask(prefixLen)) >>> 0;
    const last = (net | (~prefixMask(prefixLen) >>> 0)) >>> 0;
    out.push(`${code(text)} is the network ${dotted(net)} to ${dotted(last)} (${2 ** (32 - prefixLen)} addresses)`);
  }
  const idx = ctx.index;
  if (!idx) return out;
  if (prefixLen === 32) {
    const all = idx.addrOwners(host, ctx.nsId);
    // On one node an address means its owner there; other nodes reuse Docker's addresses.
    const node = ctx.nsId?.split('/')[0];
    const sameNode = all.filter((o) => o.ns.node === node);
    const owners = sameNode.length ? sameNode : all;
    for (const o of owners.slice(0, 4)) {
      const here = o.ns.id === ctx.nsId ? ' (this namespace)' : '';
      out.push(`${host}/${o.prefixLen} is on ${code(o.iface.name)} of ${o.ns.id}${here}${nsRole(o.ns)} (${o.iface.source.file}:${o.iface.source.line})`);
    }
    if (owners.length > 4) out.push(`… and on ${owners.length - 4} more interfaces`);
    const others = new Set(all.filter((o) => !owners.includes(o)).map((o) => o.ns.node));
    if (others.size) out.push(`the same address is also used on ${others.size === 1 ? 'node' : 'nodes'} ${[...others].join(', ')}`);
    for (const t of idx.tasksAt(host).slice(0, 3)) {
      out.push(`Docker: ${host} is ${t.service ? `task ${esc(t.name)} of service **${esc(t.service)}**` : `endpoint ${esc(t.name)}`}${t.network ? ` on network ${esc(t.network)}` : ''}${t.node ? ` (node ${esc(t.node)})` : ''}`);
    }
    for (const lb of idx.lbByVip(host)) out.push(`Docker: ${host} is the virtual IP (VIP) of service **${esc(lb.service)}** on network ${esc(lb.network)}${lb.fwmark !== undefined ? `, load-balanced by IPVS with fwmark ${numHex(lb.fwmark)}` : ''}`);
    if (owners.length === 0) {
      const nets = idx.subnetsOf(host);
      if (nets.length) out.push(`${host} lies in ${nets[0].what}`);
    }
  } else if (prefixLen > 0) {
    const net = (v & prefixMask(prefixLen)) >>> 0;
    const same = idx.subnetsOf(dotted(net)).filter((s) => s.prefixLen === prefixLen && s.net === net);
    const docker = same.find((s) => s.what.startsWith('Docker'));
    if (docker) out.push(`it is ${docker.what}`);
    const ns = ctxNs(ctx);
    if (ns) {
      const mine = same.filter((s) => s.what.includes(` in ${ns.id} `));
      for (const s of mine.slice(0, 3)) out.push(`in this namespace: ${s.what}`);
    }
  }
  return out;
}

function nsRole(ns: Namespace): string {
  const d = ns.docker;
  const what = d?.taskName ?? d?.containerName ?? (d?.networkName ? `network ${d.networkName}` : undefined);
  switch (ns.role) {
    case 'ingress-sbox':
      return ", Docker's ingress load-balancer sandbox";
    case 'lb':
      return `, Docker's load-balancer sandbox${what ? ` of ${esc(what)}` : ''}`;
    case 'overlay':
      return `, an overlay network namespace${what ? ` (${esc(what)})` : ''}`;
    case 'container':
      return what ? `, container ${esc(what)}` : ', a container';
    default:
      return what ? ` (${esc(what)})` : '';
  }
}

/** What an interface name (`docker0`, `docker+`) is in the dump's namespace. */
export function ifaceFacts(name: string, ctx: LangContext): string[] {
  const out: string[] = [];
  const idx = ctx.index;
  if (!idx || !ctx.nsId) return out;
  const wild = name.endsWith('+');
  const list = wild ? idx.ifacesByPrefix(ctx.nsId, name.slice(0, -1)) : [idx.ifaceByName(ctx.nsId, name)].filter((x) => x !== undefined);
  for (const i of list.slice(0, 6)) {
    const addrs = i.addrs.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixLen}`);
    const kind = i.details.kind ? `${i.details.kind}` : 'interface';
    let peer = '';
    if (i.peerId) {
      const p = idx.iface(i.peerId);
      if (p) peer = `, its veth peer is ${code(p.name)} in ${p.namespaceId}`;
    }
    const master = i.masterId ? `, a port of bridge ${code(idx.iface(i.masterId)?.name ?? i.masterId)}` : '';
    out.push(`in ${ctx.nsId}: ${code(i.name)} is a ${kind}${addrs.length ? ` with ${addrs.join(', ')}` : ''}${master}${peer} (${i.source.file}:${i.source.line})`);
  }
  if (list.length === 0 && ctx.index?.nsById.get(ctx.nsId)?.interfaceIds.length) out.push(`${ctx.nsId} has no interface ${wild ? `whose name starts with ${code(name.slice(0, -1))}` : code(name)} in its \`ip addr\` dump`);
  return out;
}

/** Docker services that publish a port. */
export function portFacts(port: number, proto: string | undefined, ctx: LangContext): string[] {
  const out: string[] = [];
  for (const p of ctx.index?.publishedPorts(port, proto) ?? []) {
    out.push(`Docker: published port ${p.published}/${p.proto} of service **${esc(p.service)}** (${p.mode} mode, target port ${p.target} in the tasks)`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rules in words
// ---------------------------------------------------------------------------------------------

function opt(x: { options: XtOption[] }, name: string): XtOption | undefined {
  return x.options.find((o) => o.name === name);
}

function portText(v: string): string {
  const c = v.indexOf(':');
  return c >= 0 ? `${v.slice(0, c) || '0'} to ${v.slice(c + 1) || '65535'}` : v;
}

function not(o: { invert: boolean }): string {
  return o.invert ? 'not ' : '';
}

/** One match as a condition in words. */
export function matchInWords(m: XtMatch): string {
  if (!m.known) return `match ${code(m.raw || m.name)} (not understood by meshtrace)`;
  const parts: string[] = [];
  for (const o of m.options) {
    const v = o.values[0] ?? '';
    switch (`${m.name}.${o.name}`) {
      case 'tcp.dport':
      case 'udp.dport':
      case 'sctp.dport':
        parts.push(`destination port is ${not(o)}${portText(v)}`);
        break;
      case 'tcp.sport':
      case 'udp.sport':
      case 'sctp.sport':
        parts.push(`source port is ${not(o)}${portText(v)}`);
        break;
      case 'tcp.tcp-flags':
        parts.push(v === 'FIN,SYN,RST,ACK' && o.values[1] === 'SYN' ? `it is ${not(o)}a TCP SYN (the first packet of a connection)` : `of the TCP flags ${o.values[0]}, ${not(o)}exactly ${o.values[1]} are set`);
        break;
      case 'multiport.dports':
        parts.push(`destination port is ${not(o)}one of ${v.split(',').map(portText).join(', ')}`);
        break;
      case 'multiport.sports':
        parts.push(`source port is ${not(o)}one of ${v.split(',').map(portText).join(', ')}`);
        break;
      case 'multiport.ports':
        parts.push(`source or destination port is ${not(o)}one of ${v.split(',').map(portText).join(', ')}`);
        break;
      case 'icmp.icmp-type':
      case 'icmp6.icmpv6-type':
        parts.push(`ICMP type is ${not(o)}${v}${v === '8' ? ' (echo-request, a ping)' : v === '0' ? ' (echo-reply)' : ''}`);
        break;
      case 'conntrack.ctstate':
      case 'state.state':
        parts.push(`connection state is ${not(o)}${v.split(',').join(' or ')}`);
        break;
      case 'addrtype.dst-type':
        parts.push(`destination address is ${not(o)}of type ${v}${ADDR_TYPES[v] ? ` (${ADDR_TYPES[v]})` : ''}`);
        break;
      case 'addrtype.src-type':
        parts.push(`source address is ${not(o)}of type ${v}${ADDR_TYPES[v] ? ` (${ADDR_TYPES[v]})` : ''}`);
        break;
      case 'mark.mark':
        parts.push(`${o.invert ? 'not: ' : ''}${explainMarkTest(v)}`);
        break;
      case 'connmark.mark':
        parts.push(`${o.invert ? 'not: ' : ''}${explainMarkTest(v, true)}`);
        break;
      case 'statistic.probability':
        parts.push(`at random, with probability ${v}`);
        break;
      case 'statistic.every':
        parts.push(`one packet in every ${v}`);
        break;
      case 'ipvs.ipvs':
        parts.push(`it ${o.invert ? 'does not belong' : 'belongs'} to a connection IPVS balances`);
        break;
      case 'physdev.physdev-is-bridged':
        parts.push(`it is ${not(o)}being bridged`);
        break;
      case 'physdev.physdev-in':
        parts.push(`it entered the bridge ${not(o)}through port ${code(v)}`);
        break;
      case 'physdev.physdev-out':
        parts.push(`it leaves the bridge ${not(o)}through port ${code(v)}`);
        break;
      case 'set.match-set':
        parts.push(`the ${o.values[1] ?? ''} address is ${not(o)}in ipset ${code(v)}`);
        break;
      case 'limit.limit':
        parts.push(`at most ${v}`);
        break;
      case 'comment.comment':
        break;
      default:
        parts.push(`${m.name} ${o.invert ? '! ' : ''}--${o.name}${o.values.length ? ' ' + o.values.join(' ') : ''}`);
    }
  }
  if (m.name === 'comment') return '';
  return parts.join(' and ') || `match ${m.name}`;
}

/** The conditions of a rule in words (empty: every packet). */
export function conditionsInWords(spec: RuleSpec): string[] {
  const out: string[] = [];
  if (spec.proto) out.push(`protocol is ${not(spec.proto)}${spec.proto.name}`);
  if (spec.src) out.push(`source is ${not(spec.src)}${spec.src.addr}/${spec.src.mask ?? spec.src.prefixLen}`);
  if (spec.dst) out.push(`destination is ${not(spec.dst)}${spec.dst.addr}/${spec.dst.mask ?? spec.dst.prefixLen}`);
  if (spec.iif) out.push(`it arrives ${spec.iif.invert ? 'not ' : ''}on ${spec.iif.wildcard ? `an interface whose name starts with ${code(spec.iif.name.slice(0, -1))}` : code(spec.iif.name)}`);
  if (spec.oif) out.push(`it leaves ${spec.oif.invert ? 'not ' : ''}by ${spec.oif.wildcard ? `an interface whose name starts with ${code(spec.oif.name.slice(0, -1))}` : code(spec.oif.name)}`);
  if (spec.fragment) out.push(spec.fragment.invert ? 'it is not a non-first fragment' : 'it is a non-first fragment');
  for (const m of spec.matches) {
    const w = matchInWords(m);
    if (w) out.push(w);
  }
  return out;
}

/** What a rule's target does, in words. */
export function targetInWords(t: XtTarget | undefined): string {
  if (!t) return 'nothing: the rule only counts the packets it matches';
  const o = (n: string): string | undefined => opt(t, n)?.values[0];
  if (!t.known) return `target ${code(t.raw || t.name)} (not understood by meshtrace)`;
  switch (t.name) {
    case 'ACCEPT':
      return 'accept the packet (it leaves this table)';
    case 'DROP':
      return 'drop the packet silently';
    case 'RETURN':
      return 'return from this chain';
    case 'REJECT':
      return `reject the packet, answering with ${o('reject-with') ?? 'icmp-port-unreachable'}`;
    case 'DNAT':
      return `rewrite the destination to **${o('to-destination') ?? '?'}** (DNAT)`;
    case 'SNAT':
      return `rewrite the source to **${o('to-source') ?? '?'}** (SNAT)`;
    case 'MASQUERADE':
      return `rewrite the source to the address of the outgoing interface (MASQUERADE)${o('to-ports') ? `, ports ${o('to-ports')}` : ''}`;
    case 'REDIRECT':
      return `redirect to this namespace${o('to-ports') ? `, port ${o('to-ports')}` : ''}`;
    case 'MARK': {
      const v = o('set-xmark');
      const mm = v ? readMarkMask(v) : undefined;
      return mm && mm.mask === 0xffffffff ? `set the packet mark to **${numHex(mm.value)}**, then go on` : `change the packet mark (${v ?? '?'}), then go on`;
    }
    case 'CONNMARK':
      return opt(t, 'save-mark') ? "copy the packet mark to the connection, then go on" : opt(t, 'restore-mark') ? "copy the connection's mark to the packet, then go on" : `set the connection mark (${o('set-xmark') ?? '?'}), then go on`;
    case 'LOG':
      return `log the packet${o('log-prefix') !== undefined ? ` with prefix ${code(o('log-prefix') ?? '')}` : ''}, then go on`;
    default:
      if (t.goto) return `go to chain ${code(t.name)} (when it returns, this chain's caller continues)`;
      if (!(t.name in TARGETS)) return `jump to chain ${code(t.name)}, and come back to the next rule if it returns`;
      return `${TARGETS[t.name].title} (${t.name})`;
  }
}

/** A rule in one sentence: in TABLE CHAIN (rule k): if …, then …. */
export function ruleInWords(r: Rule): string {
  const conds = conditionsInWords(r.spec);
  const cond = conds.length ? `if ${conds.join(', and ')}` : 'for every packet';
  return `${cond}: ${targetInWords(r.spec.target)}`;
}

/** The destination port a rule tests, with its protocol. */
export function ruleDport(spec: RuleSpec): { port: number; proto?: string } | undefined {
  for (const m of spec.matches) {
    if (m.name !== 'tcp' && m.name !== 'udp' && m.name !== 'sctp') continue;
    const d = opt(m, 'dport');
    if (d && !d.invert && /^\d+$/.test(d.values[0] ?? '')) return { port: Number(d.values[0]), proto: m.name };
  }
  return undefined;
}

function ruleSport(spec: RuleSpec): number | undefined {
  for (const m of spec.matches) {
    const d = (m.name === 'tcp' || m.name === 'udp' || m.name === 'sctp') ? opt(m, 'sport') : undefined;
    if (d && !d.invert && /^\d+$/.test(d.values[0] ?? '')) return Number(d.values[0]);
  }
  return undefined;
}

function serviceNames(port: number, proto: string | undefined, ctx: LangContext, mode?: 'ingress' | 'host'): string[] {
  const ps = (ctx.index?.publishedPorts(port, proto) ?? []).filter((p) => !mode || p.mode === mode);
  return [...new Set(ps.map((p) => p.service))];
}

function ofServices(names: string[]): string {
  return names.length ? ` of service ${names.map((n) => `**${esc(n)}**`).join(', ')}` : '';
}

function lbText(lbs: DockerLb[]): string {
  return lbs.map((l) => `service **${esc(l.service)}** on network ${esc(l.network)}`).join(', ');
}

/**
 * Who programmed a rule and why, when it is recognisably Docker's or kube-proxy's
 * (libnetwork service_linux.go, drivers/bridge; kube-proxy proxier.go). Undefined otherwise.
 */
export function ruleOrigin(r: Rule, ctx: LangContext): string | undefined {
  const t = r.spec.target;
  const tn = t?.name;
  const dp = ruleDport(r.spec);
  const ns = ctxNs(ctx);
  const nsName = ctx.nsId?.split('/')[1] ?? '';
  const sbox = ns?.role === 'ingress-sbox' || nsName === 'ingress_sbox';
  const lbNs = ns?.role === 'lb' || nsName.startsWith('lb_');
  const comment = r.spec.matches.find((m) => m.name === 'comment')?.options[0]?.values[0];
  if (r.chain === 'DOCKER-INGRESS' && r.table === 'nat' && tn === 'DNAT' && dp) {
    const to = t ? opt(t, 'to-destination')?.values[0] : undefined;
    return `Docker's routing mesh: published port ${dp.port}${ofServices(serviceNames(dp.port, dp.proto, ctx, 'ingress'))} (${dp.proto ?? 'tcp'}, ingress mode): the host sends it to ingress_sbox${to ? ` at ${code(to)}` : ''}, keeping the published port`;
  }
  if (r.chain === 'DOCKER-INGRESS' && r.table === 'filter' && tn === 'ACCEPT') {
    if (dp) return `Docker's routing mesh: lets packets to published port ${dp.port}${ofServices(serviceNames(dp.port, dp.proto, ctx, 'ingress'))} be forwarded to ingress_sbox`;
    const sp = ruleSport(r.spec);
    if (sp !== undefined) return `Docker's routing mesh: lets the replies from published port ${sp}${ofServices(serviceNames(sp, undefined, ctx, 'ingress'))} go back out`;
  }
  const mark = markSet(t);
  if (tn === 'MARK' && mark !== undefined && r.table === 'mangle') {
    const lbs = ctx.index?.lbByMark(mark) ?? [];
    if (dp && (sbox || r.chain === 'PREROUTING')) {
      const names = serviceNames(dp.port, dp.proto, ctx, 'ingress');
      return `Docker's routing mesh: published port ${dp.port}${ofServices(names.length ? names : [...new Set(lbs.map((l) => l.service))])} gets the service's fwmark ${numHex(mark)}, so IPVS service \`FWM ${mark}\` balances it across the tasks`;
    }
    if (r.spec.dst && r.spec.dst.prefixLen === 32 && (sbox || lbNs || lbs.length)) {
      const byVip = ctx.index?.lbByVip(r.spec.dst.addr) ?? [];
      const who = byVip.length ? lbText(byVip) : lbs.length ? lbText(lbs) : 'the service';
      return `Docker's load balancer: packets to the VIP ${r.spec.dst.addr} of ${who} get fwmark ${numHex(mark)}, so IPVS service \`FWM ${mark}\` balances them`;
    }
  }
  if (tn === 'SNAT' && r.table === 'nat' && r.spec.matches.some((m) => m.name === 'ipvs')) {
    const to = t ? opt(t, 'to-source')?.values[0] : undefined;
    return `Docker's load balancer (NAT mode, libnetwork \`configureFWMark\`): connections IPVS sends to a task${r.spec.dst ? ` on ${r.spec.dst.addr}/${r.spec.dst.prefixLen}` : ''} leave with source ${to ? code(to) : 'this sandbox\'s address'}, so the replies come back here to be translated back; the task sees that address, not the client's`;
  }
  if (r.chain === 'DOCKER_OUTPUT' || r.chain === 'DOCKER_POSTROUTING' || (r.spec.dst?.addr === '127.0.0.11' && (r.chain === 'OUTPUT' || r.chain === 'POSTROUTING'))) {
    return chainOrigin(r.chain.startsWith('DOCKER_') ? r.chain : r.chain === 'OUTPUT' ? 'DOCKER_OUTPUT' : 'DOCKER_POSTROUTING', r.table);
  }
  if (tn === 'REDIRECT' && r.table === 'nat' && dp && r.spec.dst?.prefixLen === 32) {
    const to = t ? opt(t, 'to-ports')?.values[0] : undefined;
    const task = ctx.index?.tasksAt(r.spec.dst.addr)[0];
    return `Docker's routing mesh, inside ${task ? `task ${esc(task.name)}` : 'the task'}: published port ${dp.port}${ofServices(serviceNames(dp.port, dp.proto, ctx))} arriving on the ingress network is redirected to the target port ${to ?? '?'}`;
  }
  if (r.table === 'nat' && r.chain === 'DOCKER' && tn === 'DNAT' && dp) {
    const to = t ? opt(t, 'to-destination')?.values[0] : undefined;
    const ip = to?.split(':')[0];
    const who = ip ? ctx.index?.tasksAt(ip)[0] : undefined;
    return `Docker port publishing: host port ${dp.port} goes to ${to ? code(to) : 'a container'}${who ? ` (${esc(who.name)})` : ''}`;
  }
  if (r.table === 'nat' && r.chain === 'POSTROUTING' && tn === 'MASQUERADE') {
    if (r.spec.oif?.name === 'docker_gwbridge' && r.spec.matches.some((m) => m.name === 'addrtype')) {
      return "Docker's routing mesh: locally sent packets to a published port (DNATed in OUTPUT) get docker_gwbridge's address as their source";
    }
    if (r.spec.src && r.spec.oif?.invert) {
      const net = ctx.index?.subnetsOf(r.spec.src.addr).find((s) => s.what.startsWith('Docker') && s.prefixLen === r.spec.src?.prefixLen);
      return `Docker: outbound NAT for the bridge network ${net ? esc(net.what.replace(/^Docker network /, '')) : `${r.spec.src.addr}/${r.spec.src.prefixLen} (bridge ${code(r.spec.oif.name)})`}: its containers reach other networks with the address of the interface the packet leaves by`;
    }
  }
  if (comment && /^[a-z0-9-]+\/[a-z0-9.-]+(:[a-z0-9-]*)?( |$)/i.test(comment)) {
    return `kube-proxy: Service ${code(comment.split(' ')[0])}${comment.includes(' ') ? ` (${esc(comment.slice(comment.indexOf(' ') + 1))})` : ''}`;
  }
  return chainOrigin(r.chain, r.table);
}

/** IPVS scheduler and forwarding method in words, for ipvsadm hovers. */
export function ipvsWords(kind: 'scheduler' | 'forward', name: string): string | undefined {
  return kind === 'scheduler' ? SCHEDULERS[name] : FORWARDS[name];
}

/** A conntrack state list in words. */
export function ctStatesInWords(v: string): string {
  return v
    .split(',')
    .map((s) => `${s}${CT_STATES[s] ? ` (${CT_STATES[s]})` : ''}`)
    .join('; ');
}

/** Whether an IPv4 text is the network or broadcast address of a subnet the capture knows. */
export function badNatAddress(addr: string, ctx: LangContext): string | undefined {
  const v = parseIPv4(addr);
  if (v < 0) return undefined;
  if (v === 0) return `${addr} is the unspecified address`;
  if (v === 0xffffffff) return `${addr} is the limited broadcast address`;
  if ((v >>> 28) === 0xe) return `${addr} is a multicast address`;
  for (const s of ctx.index?.subnetsOf(addr) ?? []) {
    if (s.prefixLen >= 31) continue;
    const bcast = (s.net | (~prefixMask(s.prefixLen) >>> 0)) >>> 0;
    if (v === s.net) return `${addr} is the network address of ${s.what}`;
    if (v === bcast) return `${addr} is the broadcast address of ${s.what}`;
  }
  return undefined;
}
