/**
 * Reads `ip addr`, `ip -d addr`, `ip link`, `ip -d link` text and their `ip -j` JSON into Iface
 * values.
 *
 * Grammar source: iproute2 ip/ipaddress.c `print_linkinfo` (header and `link/` lines, the `-d`
 * details), `print_linktype` (the kind and `<kind>_slave` lines), `print_addrinfo` and
 * `print_ifa_flags` (address lines), lib/utils.c `print_name_and_link` (`NAME@LINK`), and
 * ip/iplink_vxlan.c `vxlan_print_opt` (the vxlan kind line). The text is line oriented:
 *
 * ```
 * N: NAME[@LINK]: <FLAGS> mtu M [xdp…] [qdisc Q] [master B] [state S] [mode M] [group G] [qlen N]
 *     link/TYPE [ADDR] [brd X | peer X] [permaddr X] [link-netns NAME | link-netnsid N] [promiscuity …]
 *     KIND options…                         (-d only)
 *     KIND_slave options…                   (-d only, for ports of a bridge/bond)
 *     inet|inet6 ADDR[ peer P]/LEN [metric N] [brd B] [any A] [mcast M] scope S [flags…] [LABEL]
 *        valid_lft (forever|Nsec) preferred_lft (forever|Nsec)
 * ```
 * Older iproute2 (3.x) omits `group default` and ends lines with a blank; `-d` link statistics
 * (`numtxqueues …`) are appended to the last details line.
 */
import type { IfAddr, Iface, LinkDetails, VxlanInfo } from '../model/link';
import { splitLines, type ParseOptions, type ParseResult } from '../problem';
import { J, type JsonObject, type JsonValue } from './json';
import {
  MAX_LINE,
  Reporter,
  clip,
  hasKey,
  isAnnotation,
  isLladdr,
  jsonArray,
  jsonKind,
  jsonText,
  onelineParts,
  parseAddr,
  parsePrefix,
  parseUint,
  tokenize,
  type Tok,
} from './iproute2Util';

/** Header words that take one value (print_linkinfo, print_operstate, print_linkmode, print_queuelen). */
const HEADER_KV = new Set(['mtu', 'qdisc', 'master', 'state', 'mode', 'group', 'qlen', 'event']);

/**
 * Link-level `-d` words, each followed by one value; print_linkinfo prints them after the
 * link-netns part and (for the queue/GSO ones) after the kind and slave lines, on the same line.
 */
const TAIL_KV = new Set([
  'promiscuity',
  'allmulti',
  'minmtu',
  'maxmtu',
  'numtxqueues',
  'numrxqueues',
  'gso_max_size',
  'gso_max_segs',
  'tso_max_size',
  'tso_max_segs',
  'gro_max_size',
  'gso_ipv4_max_size',
  'gro_ipv4_max_size',
  'portname',
  'portid',
  'switchid',
  'parentbus',
  'parentdev',
  'addrgenmode',
]);

/** Words of the `link/` line that take one value. */
const LINK_KV = new Set([
  'brd',
  'peer',
  'permaddr',
  'link-netns',
  'link-netnsid',
  'new-netns',
  'new-netnsid',
  'new-ifindex',
  'protodown',
  'protodown_reason',
]);

/** Address flags in print_ifa_flags order (`dynamic` is printed where `permanent` sits in the table). */
const ADDR_FLAGS = [
  'secondary',
  'temporary',
  'nodad',
  'optimistic',
  'dadfailed',
  'home',
  'deprecated',
  'tentative',
  'dynamic',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
  'stable-privacy',
];
const ADDR_FLAG_SET = new Set(ADDR_FLAGS);

/** vxlan_print_opt words with one value (`srcport`/old `port` take two). */
const VXLAN_KV = new Set(['tos', 'ttl', 'df', 'flowlabel', 'ageing', 'maxaddr', 'reserved_bits']);
/** vxlan boolean options, printed bare when set and `no`-prefixed when cleared (vxlan_opts, older spellings). */
const VXLAN_BOOL = new Set([
  'external',
  'vnifilter',
  'learning',
  'proxy',
  'rsc',
  'l2miss',
  'l3miss',
  'udp_csum',
  'udpcsum',
  'udp_zero_csum6_tx',
  'udp_zero_csum6_rx',
  'udp6zerocsumtx',
  'udp6zerocsumrx',
  'remcsum_tx',
  'remcsum_rx',
  'remcsumtx',
  'remcsumrx',
  'localbypass',
  'mcroute',
  'gbp',
  'gpe',
]);

/** JSON link keys renamed to the words the text prints, so `details.extra` reads the same. */
const JSON_EXTRA_NAMES: Record<string, string> = {
  min_mtu: 'minmtu',
  max_mtu: 'maxmtu',
  num_tx_queues: 'numtxqueues',
  num_rx_queues: 'numrxqueues',
  txqlen: 'qlen',
  linkmode: 'mode',
};

/** JSON link keys read into Iface fields (not copied into `details.extra`). */
const JSON_LINK_KEYS = new Set([
  'ifindex',
  'ifname',
  'link',
  'link_index',
  'link_netnsid',
  'flags',
  'mtu',
  'qdisc',
  'master',
  'operstate',
  'link_type',
  'address',
  'broadcast',
  'linkinfo',
  'addr_info',
]);

type Phase = 'header' | 'link' | 'details' | 'addrs';

/** An `ip -o addr` record: index, name, then the address part (print_addrinfo with oneline). */
const ONELINE_ADDR = /^(\d{1,10}):[ \t]+([^ \t:]+)[ \t]+(?=inet6?[ \t])/;

/**
 * Parses `ip [-d] addr` / `ip [-d] link` text. Never throws.
 * Example (`ip -d addr` in captures/docker20-swarm-lab/swarmlab/ingress_sbox):
 * ```
 * 6: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default
 *     link/ether 02:42:0a:00:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535
 *     veth numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535
 *     inet 10.0.0.2/24 brd 10.0.0.255 scope global eth0
 *        valid_lft forever preferred_lft forever
 * ```
 */
export function parseIpAddr(text: string, opts: ParseOptions = {}): ParseResult<Iface[]> {
  const r = new Reporter(opts);
  const out: Iface[] = [];
  const lines = splitLines(text);
  let cur: Iface | undefined;
  let phase: Phase = 'header';
  let lastAddr: IfAddr | undefined;
  let statsHeader = false;
  let statsNoted = false;

  for (let idx = 0; idx < lines.length; idx++) {
    const L = idx + 1;
    if (lines[idx].length > MAX_LINE) {
      r.add('error', 'line-too-long', L, `line of ${lines[idx].length} characters is not ip addr output; skipped`);
      continue;
    }
    if (isAnnotation(lines[idx])) {
      r.annotation(L, lines[idx]);
      continue;
    }
    for (const raw of onelineParts(lines[idx])) if (raw.trim() !== '') handle(raw, L);
  }
  return { value: out, problems: r.finish() };

  /** One logical line (a physical line, or a part of an `ip -o` line). */
  function handle(raw: string, L: number): void {
    const c0 = raw.charCodeAt(0);
    const prevStats = statsHeader;
    statsHeader = false;

    if (c0 >= 48 && c0 <= 57) {
      // `ip -o addr`: `N: NAME    inet ADDR/LEN … LABEL\       valid_lft …`, no header line.
      const ol = ONELINE_ADDR.exec(raw);
      if (ol) {
        const ifindex = Number(ol[1]);
        let iface = cur && cur.ifindex === ifindex ? cur : out.find((i) => i.ifindex === ifindex);
        if (!iface) {
          iface = { ifindex, name: ol[2], flags: [], details: {}, addrs: [], source: r.src(L) };
          const at = ol[2].lastIndexOf('@');
          if (at > 0 && at < ol[2].length - 1) {
            iface.name = ol[2].slice(0, at);
            iface.link = linkRef(ol[2].slice(at + 1));
          }
          out.push(iface);
        }
        cur = iface;
        phase = 'addrs';
        const a = parseAddrLine(tokenize(raw, ol[0].length), L, r);
        lastAddr = a;
        if (a) iface.addrs.push(a);
        return;
      }
      const iface = parseHeader(raw, L, r);
      cur = iface;
      phase = 'header';
      lastAddr = undefined;
      if (iface) out.push(iface);
      return;
    }
    if (c0 !== 32 && c0 !== 9) {
      r.line('error', 'unexpected-line', L, raw, `expected an interface header \`N: NAME: <FLAGS> mtu …\` or an indented line, got \`${clip(raw.trim())}\`; skipped`);
      return;
    }
    const toks = tokenize(raw);
    const t0 = toks[0].text;
    if (!cur) {
      r.line('error', 'orphan-line', L, raw, `\`${clip(raw.trim())}\` comes before any interface header (\`N: NAME: <FLAGS> …\`); skipped`);
      return;
    }
    const iface = cur;
    const extra = (): Record<string, string> => (iface.details.extra ??= {});

    if (t0 === 'valid_lft') {
      readLifetime(toks, L, r, lastAddr);
      lastAddr = undefined;
      return;
    }
    if (t0 === 'inet' || t0 === 'inet6') {
      phase = 'addrs';
      const a = parseAddrLine(toks, L, r);
      lastAddr = a;
      if (a) iface.addrs.push(a);
      return;
    }
    lastAddr = undefined;
    if (t0.startsWith('link/')) {
      if (phase !== 'header') r.add('warning', 'unexpected-line', L, `second \`link/\` line for ${iface.name}; read anyway`, toks[0]);
      parseLinkLine(toks, L, r, iface);
      phase = 'link';
      return;
    }
    // ip -s: `RX: bytes packets …` then a line of numbers (and the same for TX).
    if (t0 === 'RX:' || t0 === 'TX:' || t0 === 'RX' || t0 === 'TX' || (prevStats && toks.every((t) => /^-?\d+$/.test(t.text)))) {
      statsHeader = t0.startsWith('RX') || t0.startsWith('TX');
      if (!statsNoted) {
        statsNoted = true;
        r.line('info', 'link-stats', L, raw, 'interface statistics (`ip -s`) are not read');
      }
      return;
    }
    if (t0 === 'alias') {
      extra().alias = raw.trim().slice('alias'.length).trim();
      return;
    }
    if (t0 === 'altname') {
      const v = toks[1]?.text ?? '';
      extra().altname = extra().altname ? `${extra().altname} ${v}` : v;
      return;
    }
    if (t0 === 'vf' || t0.startsWith('prog/')) {
      extra()[`${t0}${toks[1] ? ' ' + toks[1].text : ''}`] = toks.slice(t0 === 'vf' ? 2 : 1).map((t) => t.text).join(' ');
      return;
    }
    if (t0.endsWith('_slave') && phase !== 'addrs') {
      if (iface.details.slaveKind) r.add('warning', 'unexpected-line', L, `second \`*_slave\` line for ${iface.name}; read anyway`, toks[0]);
      iface.details.slaveKind = t0;
      iface.details.slave = readSlave(toks, 1, L, r, iface.details);
      phase = 'details';
      return;
    }
    if (phase !== 'addrs' && !iface.details.kind && !iface.details.slaveKind && /^[a-z][a-z0-9_.-]*$/.test(t0)) {
      iface.details.kind = t0;
      readKind(toks, L, r, iface.details);
      phase = 'details';
      return;
    }
    r.line('warning', 'unknown-line', L, raw, `unknown line \`${clip(raw.trim())}\` in interface ${iface.name}; kept in details.extra`);
    extra()[`line ${L + r.offset}`] = raw.trim();
  }
}

/** `N: NAME[@LINK]: <FLAGS> mtu …` (print_linkinfo, print_name_and_link, print_link_flags). */
function parseHeader(raw: string, L: number, r: Reporter): Iface | undefined {
  const bad = (why: string): undefined => {
    r.line('error', 'bad-header', L, raw, `expected \`N: NAME: <FLAGS> mtu …\` (${why}), got \`${clip(raw.trim())}\`; interface skipped`);
    return undefined;
  };
  const colon = raw.indexOf(':');
  const ifindex = colon > 0 ? parseUint(raw.slice(0, colon), 0x7fffffff) : undefined;
  if (ifindex === undefined) return bad('interface index');
  let p = colon + 1;
  while (raw[p] === ' ' || raw[p] === '\t') p++;
  // Interface names cannot contain `:` or blanks (dev_valid_name), so the next `:` ends it.
  const nameEnd = raw.indexOf(':', p);
  if (nameEnd <= p) return bad('interface name');
  const fullName = raw.slice(p, nameEnd);
  if (/\s/.test(fullName)) return bad('interface name');
  p = nameEnd + 1;
  while (raw[p] === ' ' || raw[p] === '\t') p++;
  if (raw[p] !== '<') return bad('`<FLAGS>`');
  const close = raw.indexOf('>', p);
  if (close < 0) return bad('unterminated `<FLAGS>`');
  const flags = raw
    .slice(p + 1, close)
    .split(',')
    .filter((f) => f !== '');

  const iface: Iface = { ifindex, name: fullName, flags, details: {}, addrs: [], source: r.src(L) };
  // The last `@` splits NAME from LINK: `@` is allowed in names, `:` and blanks are not.
  const at = fullName.lastIndexOf('@');
  if (at > 0 && at < fullName.length - 1) {
    iface.name = fullName.slice(0, at);
    iface.link = linkRef(fullName.slice(at + 1));
  }

  const toks = tokenize(raw, close + 1);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    const key = t.text;
    if (HEADER_KV.has(key)) {
      const v = toks[i + 1];
      if (!v) {
        r.add('error', 'missing-value', L, `\`${key}\` without a value at the end of the header`, t);
        break;
      }
      i++;
      switch (key) {
        case 'mtu': {
          const mtu = parseUint(v.text);
          if (mtu === undefined) r.add('error', 'bad-number', L, `mtu \`${clip(v.text, 20)}\` is not a number; mtu left unknown`, v);
          else iface.mtu = mtu;
          break;
        }
        case 'qdisc':
          iface.qdisc = v.text;
          break;
        case 'master':
          iface.master = v.text;
          break;
        case 'state':
          iface.state = v.text;
          break;
        default:
          (iface.details.extra ??= {})[key] = v.text;
      }
      continue;
    }
    // xdp_dump without details: `xdp/id:12`, `xdpgeneric/id:3`, `xdpmulti` …
    if (key.startsWith('xdp')) {
      const ex = (iface.details.extra ??= {});
      ex.xdp = ex.xdp ? `${ex.xdp} ${key}` : key;
      continue;
    }
    r.add('warning', 'unknown-token', L, `unknown word \`${clip(key, 30)}\` in the interface header; kept in details.extra`, t);
    (iface.details.extra ??= {})[key] = '';
  }
  return iface;
}

/** The `@` part of a name: `if9` (index, other netns or unknown name), `NONE`, or a name. */
function linkRef(s: string): Iface['link'] {
  if (s === 'NONE') return { none: true };
  // ll_idx_n2a / ll_index_to_name print `if%u` for an index they cannot name.
  const m = /^if(\d{1,10})$/.exec(s);
  if (m) return { ifindex: Number(m[1]) };
  return { name: s };
}

/** `link/TYPE [ADDR] [brd X|peer X] [permaddr X] [link-netns N|link-netnsid N] [-d words]`. */
function parseLinkLine(toks: Tok[], L: number, r: Reporter, iface: Iface): void {
  iface.linkType = toks[0].text.slice('link/'.length);
  const extra = (): Record<string, string> => (iface.details.extra ??= {});
  let i = 1;
  const first = toks[1];
  if (first && !LINK_KV.has(first.text) && !TAIL_KV.has(first.text) && first.text !== 'netns-immutable') {
    // ll_addr_n2a prints hex pairs; tunnels (link/ipip, link/gre) print an IP address.
    if (!isLladdr(first.text) && !parseAddr(first.text)) {
      r.add('warning', 'bad-address', L, `link address \`${clip(first.text, 40)}\` is neither a MAC nor an IP address; kept as is`, first);
    }
    iface.mac = first.text;
    i = 2;
  }
  for (; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    if (k === 'netns-immutable') {
      extra()[k] = 'true';
      continue;
    }
    if (!LINK_KV.has(k) && !TAIL_KV.has(k)) {
      r.add('warning', 'unknown-token', L, `unknown word \`${clip(k, 30)}\` on the link/ line; kept in details.extra`, t);
      extra()[k] = '';
      continue;
    }
    const v = toks[i + 1];
    if (!v) {
      r.add('error', 'missing-value', L, `\`${k}\` without a value at the end of the line`, t);
      break;
    }
    i++;
    switch (k) {
      case 'brd':
        iface.brd = v.text;
        break;
      case 'peer':
        // IFF_POINTOPOINT prints IFLA_BROADCAST as `peer`; JSON calls it `broadcast` too.
        iface.brd = v.text;
        extra().link_pointtopoint = 'true';
        break;
      case 'link-netns':
        iface.linkNetns = v.text;
        break;
      case 'link-netnsid': {
        const id = parseUint(v.text, 0x7fffffff);
        if (id !== undefined) iface.linkNetnsid = id;
        else if (v.text === 'unknown') extra()['link-netnsid'] = 'unknown';
        else r.add('error', 'bad-number', L, `link-netnsid \`${clip(v.text, 20)}\` is not a number`, v);
        break;
      }
      default:
        extra()[k] = v.text;
    }
  }
}

/** Reads `-d` link words from `toks[i]` on into `extra`; returns the index after them. */
function takeTail(toks: Tok[], i: number, extra: Record<string, string>): number {
  while (i < toks.length) {
    const k = toks[i].text;
    if (k === 'netns-immutable') {
      extra[k] = 'true';
      i++;
    } else if (TAIL_KV.has(k) && toks[i + 1]) {
      extra[k] = toks[i + 1].text;
      i += 2;
    } else break;
  }
  return i;
}

/** Index of the first link-level `-d` word (numtxqueues …) from `from`, or the end. */
function tailStart(toks: Tok[], from: number): number {
  for (let i = from; i < toks.length; i++) if (TAIL_KV.has(toks[i].text) && i + 1 < toks.length) return i;
  return toks.length;
}

/** The kind line (`veth`, `bridge forward_delay 1500 …`, `vxlan id 4096 …`). */
function readKind(toks: Tok[], L: number, r: Reporter, d: LinkDetails): void {
  const kind = toks[0].text;
  const extra = (d.extra ??= {});
  const end = kind === 'vxlan' ? readVxlan(toks, L, r, d) : tailStart(toks, 1);
  if (kind === 'bridge') {
    // bridge_print_opt prints only `key value` pairs.
    readPairs(toks, 1, end, extra);
  } else if (kind !== 'vxlan' && end > 1) {
    // Other kinds (macvlan, ipip, vlan, bond, …) are kept verbatim under their kind's name.
    extra[kind] = toks
      .slice(1, end)
      .map((t) => t.text)
      .join(' ');
  }
  finishTail(toks, end, L, r, extra);
}

/** A `<kind>_slave` line: `key value` pairs (bridge_slave_print_opt, bond_slave_print_opt). */
function readSlave(toks: Tok[], from: number, L: number, r: Reporter, d: LinkDetails): Record<string, string> {
  const end = tailStart(toks, from);
  const slave: Record<string, string> = {};
  readPairs(toks, from, end, slave);
  finishTail(toks, end, L, r, (d.extra ??= {}));
  return slave;
}

function finishTail(toks: Tok[], from: number, L: number, r: Reporter, extra: Record<string, string>): void {
  const end = takeTail(toks, from, extra);
  for (let i = end; i < toks.length; i++) {
    r.add('warning', 'unknown-token', L, `unknown word \`${clip(toks[i].text, 30)}\` after the link details; kept in details.extra`, toks[i]);
    extra[toks[i].text] = '';
  }
}

function readPairs(toks: Tok[], from: number, end: number, into: Record<string, string>): void {
  for (let i = from; i < end; i += 2) into[toks[i].text] = i + 1 < end ? toks[i + 1].text : '';
}

/**
 * `vxlan id 4096 [group|remote X] [local X] [dev D] srcport A B dstport P [tos …] [ttl …]
 * [df …] [flowlabel …] ageing N [maxaddr N] [no]BOOL…` (vxlan_print_opt; iproute2 < 4.x printed
 * the source port range as `port A B`). Returns the index where link-level words begin.
 */
function readVxlan(toks: Tok[], L: number, r: Reporter, d: LinkDetails): number {
  const vx: VxlanInfo = { vni: 0, learning: true, proxy: false, l2miss: false, l3miss: false };
  const extra = (d.extra ??= {});
  let sawId = false;
  let i = 1;
  for (; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    if (TAIL_KV.has(k) || k === 'netns-immutable') break;
    const v = toks[i + 1];
    switch (k) {
      case 'id': {
        const vni = parseUint(v?.text, 0xffffff);
        if (vni === undefined) r.add('error', 'bad-number', L, `vxlan id \`${clip(v?.text ?? '', 20)}\` is not a VNI (0-16777215)`, v ?? t);
        else {
          vx.vni = vni;
          sawId = true;
        }
        i++;
        continue;
      }
      case 'group':
      case 'remote':
      case 'local': {
        const a = parseAddr(v?.text);
        if (!a) r.add('error', 'bad-address', L, `vxlan ${k} \`${clip(v?.text ?? '', 40)}\` is not an IP address`, v ?? t);
        else vx[k] = a.addr;
        i++;
        continue;
      }
      case 'dev':
        if (v) vx.dev = v.text;
        i++;
        continue;
      case 'dstport': {
        const p = parseUint(v?.text, 65535);
        if (p === undefined) r.add('error', 'bad-number', L, `vxlan dstport \`${clip(v?.text ?? '', 20)}\` is not a port`, v ?? t);
        else vx.dstport = p;
        i++;
        continue;
      }
      case 'srcport':
      case 'port':
        extra.srcport = `${v?.text ?? ''} ${toks[i + 2]?.text ?? ''}`.trim();
        i += 2;
        continue;
    }
    if (VXLAN_KV.has(k)) {
      extra[k] = v?.text ?? '';
      i++;
      continue;
    }
    const neg = k.startsWith('no') && VXLAN_BOOL.has(k.slice(2));
    const name = neg ? k.slice(2) : k;
    if (VXLAN_BOOL.has(name)) {
      if (name === 'learning' || name === 'proxy' || name === 'l2miss' || name === 'l3miss') vx[name] = !neg;
      else extra[name] = neg ? 'off' : 'on';
      continue;
    }
    r.add('warning', 'unknown-token', L, `unknown vxlan option \`${clip(k, 30)}\`; kept in details.extra`, t);
    extra[k] = '';
  }
  if (!sawId) r.add('warning', 'vxlan-no-id', L, 'vxlan line without `id N`; VNI taken as 0', toks[0]);
  d.vxlan = vx;
  return i;
}

/** `inet|inet6 ADDR[ peer P]/LEN [metric N] [brd B] [any A] [mcast M] scope S [flags] [LABEL]`. */
function parseAddrLine(toks: Tok[], L: number, r: Reporter): IfAddr | undefined {
  const family = toks[0].text as 'inet' | 'inet6';
  const a0 = toks[1];
  if (!a0) {
    r.add('error', 'bad-address', L, `\`${family}\` line without an address; skipped`, toks[0]);
    return undefined;
  }
  let i = 2;
  let prefTok = a0;
  let local: string;
  let peer: string | undefined;
  if (toks[2]?.text === 'peer') {
    const la = parseAddr(a0.text);
    if (!la) {
      r.add('error', 'bad-address', L, `\`${clip(a0.text, 40)}\` is not an IP address; address skipped`, a0);
      return undefined;
    }
    local = la.addr;
    prefTok = toks[3] ?? toks[2];
    i = 4;
  } else {
    local = '';
  }
  const p = parsePrefix(prefTok.text);
  if (typeof p === 'string' || !p.family) {
    r.add('error', 'bad-address', L, `expected ADDRESS/PREFIXLEN, got \`${clip(prefTok.text, 40)}\` (bad ${typeof p === 'string' ? p : 'address'}); address skipped`, prefTok);
    return undefined;
  }
  if (!prefTok.text.includes('/')) r.add('warning', 'no-prefix-length', L, `\`${prefTok.text}\` has no /PREFIXLEN (print_addrinfo always prints one); taken as /${p.prefixLen}`, prefTok);
  if (p.family !== family) {
    r.add('error', 'bad-address', L, `\`${clip(prefTok.text, 40)}\` is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address; address skipped`, prefTok);
    return undefined;
  }
  if (i === 4) peer = p.addr;
  else local = p.addr;
  const addr: IfAddr = { family, local, prefixLen: p.prefixLen, scope: 'global', flags: [], source: r.src(L) };
  if (peer !== undefined) addr.peer = peer;
  let sawScope = false;
  for (; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    const v = toks[i + 1];
    if (k === 'brd' || k === 'any' || k === 'mcast' || k === 'metric' || k === 'scope' || k === 'proto' || k === 'flags') {
      if (!v) {
        r.add('error', 'missing-value', L, `\`${k}\` without a value`, t);
        break;
      }
      i++;
      if (k === 'brd') {
        const b = parseAddr(v.text);
        if (!b || b.family !== family) r.add('warning', 'bad-address', L, `broadcast \`${clip(v.text, 40)}\` is not an ${family} address; kept as is`, v);
        addr.broadcast = b ? b.addr : v.text;
      } else if (k === 'scope') {
        addr.scope = v.text;
        sawScope = true;
      } else if (k === 'flags') {
        // print_ifa_flags: flag bits it has no name for, as `flags %02x`.
        addr.flags.push(`flags ${v.text}`);
      }
      // `any`/`mcast` (anycast/multicast address), `metric` (prefix route priority) and `proto`
      // (who added the address) do not change how packets are routed; they are not kept.
      continue;
    }
    if (ADDR_FLAG_SET.has(k)) {
      addr.flags.push(k);
      continue;
    }
    // The label (IFA_LABEL, IPv4 only) is the last word of the line.
    if (i === toks.length - 1 && family === 'inet') {
      addr.label = k;
      continue;
    }
    r.add('warning', 'unknown-token', L, `unknown word \`${clip(k, 30)}\` on the address line; kept in flags`, t);
    addr.flags.push(k);
  }
  if (!sawScope) r.add('warning', 'no-scope', L, 'address line without `scope`; scope taken as global', toks[0]);
  return addr;
}

/** `valid_lft (forever|Nsec) preferred_lft (forever|Nsec)` under an address. */
function readLifetime(toks: Tok[], L: number, r: Reporter, last: IfAddr | undefined): void {
  if (!last) {
    r.add('warning', 'orphan-line', L, '`valid_lft` line not under an address line; skipped', toks[0]);
    return;
  }
  const ok = (t: Tok | undefined): boolean => !!t && (t.text === 'forever' || /^-?\d{1,10}sec$/.test(t.text));
  if (toks.length !== 4 || !ok(toks[1]) || toks[2].text !== 'preferred_lft' || !ok(toks[3])) {
    r.add('warning', 'bad-lifetime', L, 'expected `valid_lft (forever|Nsec) preferred_lft (forever|Nsec)`', toks[0]);
  }
}

/**
 * Parses `ip -j [-d] addr` / `ip -j [-d] link` JSON into the same Iface values as the text.
 * Example (`ip -j -d addr`, abridged):
 * ```
 * [{"ifindex":6,"link_index":7,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],
 *   "mtu":1450,"qdisc":"noqueue","operstate":"UP","link_type":"ether","address":"02:42:0a:00:00:02",
 *   "link_netnsid":0,"linkinfo":{"info_kind":"veth"},
 *   "addr_info":[{"family":"inet","local":"10.0.0.2","prefixlen":24,"broadcast":"10.0.0.255","scope":"global","label":"eth0"}]}]
 * ```
 */
export function parseIpAddrJson(text: string, opts: ParseOptions = {}): ParseResult<Iface[]> {
  const r = new Reporter(opts);
  const out: Iface[] = [];
  const items = jsonArray(text, r, 'interfaces (`ip -j addr`)');
  if (!items) return { value: out, problems: r.finish() };
  const { list, line } = items;
  for (const item of list) {
    const o = J.obj(item);
    const L = line(item);
    if (!o) {
      r.add('error', 'json-shape', L, `expected an interface object, got ${jsonKind(item)}; skipped`);
      continue;
    }
    const ifindex = J.num(o.ifindex);
    const name = J.str(o.ifname);
    if (ifindex === undefined || !Number.isInteger(ifindex) || name === undefined) {
      r.add('error', 'json-shape', L, 'interface object without a numeric `ifindex` and a string `ifname`; skipped');
      continue;
    }
    const flags = (J.arr(o.flags) ?? []).map((f) => jsonText(f));
    const iface: Iface = { ifindex, name, flags, details: {}, addrs: [], source: r.src(L) };
    // print_name_and_link: `link_index` (+ `link_netnsid`) for a peer in another netns or an
    // unknown index, `link` (a name) in the same netns, `"link": null` for IFLA_LINK = 0.
    if (hasKey(o, 'link')) {
      const ln = J.str(o.link);
      iface.link = ln === undefined ? { none: true } : linkRef(ln);
    }
    const li = J.num(o.link_index);
    if (li !== undefined) iface.link = { ifindex: li };
    const nsid = J.num(o.link_netnsid);
    if (nsid !== undefined && nsid >= 0) iface.linkNetnsid = nsid;
    const mtu = J.num(o.mtu);
    if (mtu !== undefined) iface.mtu = mtu;
    else if (hasKey(o, 'mtu')) r.add('error', 'bad-number', L, `"mtu" of ${name} is not a number`);
    const setStr = (k: string, f: 'qdisc' | 'master' | 'state' | 'linkType' | 'mac' | 'brd'): void => {
      const v = J.str(o[k]);
      if (v !== undefined) iface[f] = v;
    };
    setStr('qdisc', 'qdisc');
    setStr('master', 'master');
    setStr('operstate', 'state');
    setStr('link_type', 'linkType');
    setStr('address', 'mac');
    setStr('broadcast', 'brd');

    const extra: Record<string, string> = {};
    for (const k of Object.keys(o)) {
      if (JSON_LINK_KEYS.has(k)) continue;
      extra[JSON_EXTRA_NAMES[k] ?? k] = jsonText(o[k]);
    }
    const linkinfo = J.obj(o.linkinfo);
    if (linkinfo) readJsonLinkinfo(linkinfo, iface.details, extra);
    if (Object.keys(extra).length > 0) iface.details.extra = extra;

    for (const ai of J.arr(o.addr_info) ?? []) {
      const a = readJsonAddr(ai, J.obj(ai) ? line(ai) : L, r, name);
      if (a) iface.addrs.push(a);
    }
    out.push(iface);
  }
  return { value: out, problems: r.finish() };
}

function readJsonLinkinfo(li: JsonObject, d: LinkDetails, extra: Record<string, string>): void {
  const kind = J.str(li.info_kind);
  if (kind !== undefined) d.kind = kind;
  const data = J.obj(li.info_data);
  if (kind === 'vxlan') {
    const x = data ?? (Object.create(null) as JsonObject);
    const vx: VxlanInfo = {
      vni: J.num(x.id) ?? 0,
      // Text prints `nolearning` only when learning is off; old JSON omits false booleans.
      learning: J.bool(x.learning) ?? true,
      proxy: truthy(x, 'proxy'),
      l2miss: truthy(x, 'l2miss'),
      l3miss: truthy(x, 'l3miss'),
    };
    const port = J.num(x.port);
    if (port !== undefined) vx.dstport = port;
    const addr = (k: string): string | undefined => {
      const a = parseAddr(J.str(x[k]));
      return a?.addr;
    };
    const local = addr('local') ?? addr('local6');
    if (local) vx.local = local;
    const remote = addr('remote') ?? addr('remote6');
    if (remote) vx.remote = remote;
    const group = addr('group') ?? addr('group6');
    if (group) vx.group = group;
    const dev = J.str(x.link);
    if (dev !== undefined) vx.dev = dev;
    d.vxlan = vx;
    const modelled = new Set(['id', 'port', 'local', 'local6', 'remote', 'remote6', 'group', 'group6', 'link', 'learning', 'proxy', 'l2miss', 'l3miss']);
    for (const k of Object.keys(x)) if (!modelled.has(k)) extra[k] = jsonText(x[k]);
  } else if (data) {
    for (const k of Object.keys(data)) extra[k] = jsonText(data[k]);
  }
  const sk = J.str(li.info_slave_kind);
  if (sk !== undefined) {
    // print_linktype prints the slave kind as `<kind>_slave` in text.
    d.slaveKind = `${sk}_slave`;
    const sd = J.obj(li.info_slave_data);
    const slave: Record<string, string> = {};
    if (sd) {
      for (const k of Object.keys(sd)) {
        const v = sd[k];
        // bridge_slave_print_opt prints booleans as on/off in text.
        slave[k] = typeof v === 'boolean' ? (v ? 'on' : 'off') : jsonText(v);
      }
    }
    d.slave = slave;
  }
}

function truthy(o: JsonObject, k: string): boolean {
  // Older iproute2 prints `"proxy": true` only when set; newer prints a boolean always.
  const v = o[k];
  return v === true || (hasKey(o, k) && v === null);
}

function readJsonAddr(v: JsonValue, L: number, r: Reporter, ifname: string): IfAddr | undefined {
  const o = J.obj(v);
  if (!o) {
    r.add('error', 'json-shape', L, `addr_info of ${ifname}: expected an object, got ${jsonKind(v)}; skipped`);
    return undefined;
  }
  const fam = J.str(o.family);
  if (fam !== 'inet' && fam !== 'inet6') {
    r.add('warning', 'unsupported-family', L, `addr_info of ${ifname}: family ${JSON.stringify(fam ?? null)} is not read; skipped`);
    return undefined;
  }
  const la = parseAddr(J.str(o.local) ?? J.str(o.address));
  const len = J.num(o.prefixlen);
  if (!la || la.family !== fam || len === undefined || len < 0 || len > (fam === 'inet' ? 32 : 128)) {
    r.add('error', 'bad-address', L, `addr_info of ${ifname}: bad "local"/"prefixlen" (${clip(jsonText(o.local), 40)}/${jsonText(o.prefixlen)}); skipped`);
    return undefined;
  }
  const a: IfAddr = { family: fam, local: la.addr, prefixLen: len, scope: J.str(o.scope) ?? 'global', flags: [], source: r.src(L) };
  // print_addrinfo: "address" is IFA_ADDRESS, printed only when it differs from IFA_LOCAL (peer).
  const pa = parseAddr(J.str(o.address));
  if (pa && J.str(o.local) !== undefined && pa.addr !== la.addr) a.peer = pa.addr;
  const b = J.str(o.broadcast);
  if (b !== undefined) a.broadcast = parseAddr(b)?.addr ?? b;
  for (const f of ADDR_FLAGS) if (o[f] === true) a.flags.push(f);
  const fl = J.str(o.ifa_flags);
  if (fl !== undefined) a.flags.push(`flags ${fl}`);
  const label = J.str(o.label);
  if (label !== undefined) a.label = label;
  return a;
}
