/**
 * What the three iptables parsers share: a tokenizer with iptables-restore's quoting, the builder
 * that turns `-A CHAIN -s … -m … -j …` tokens into a RuleSpec, and the extension knowledge that
 * puts every match and target option into the exact form `iptables-save` prints (so a rule read
 * from `iptables-save`, `iptables -S` or `iptables -L` compares equal).
 *
 * Sources (iptables 1.8.10, qdeslandes/iptables @ ee87ad419e9a): iptables/xshared.c
 * (`add_param_to_argv`, `save_ipv4_addr`, `save_ipv6_addr`, `save_iface`, `save_rule_details`,
 * `proto_to_name`), iptables/iptables.c (`print_rule4`), libxtables/xtables.c
 * (`xtables_save_string`, `xtables_chain_protos`, `xtables_print_val_mask`) and the `save`
 * callbacks of extensions/libxt_*.c, libipt_*.c, libip6t_*.c.
 *
 * Everything here is written for speed (a kube-proxy node dumps hundreds of thousands of rules,
 * the benchmark 320 000): tokens live in reusable parallel arrays, values are scanned by hand, no
 * closure or regular expression is created per rule, and rule parts met before are shared
 * (`SpecCache`): `readRuleFast` reads such a rule with one hash lookup per part, on ranges of
 * the input, and `buildRuleSpec`, the full reader, reads the rest and feeds the cache.
 */
import { ProblemSink } from '../problem';
import { LazyRule, setSpecReader } from './lazyRule';
import { ShapeSet, setTargetCheck, shapeHit } from './ruleShape';
import type {
  AddrMatch,
  Chain,
  Counters,
  IfaceMatch,
  RuleSpec,
  TableName,
  XtMatch,
  XtOption,
  XtTarget,
} from '../model/netfilter';
import { BUILTIN_CHAINS, TABLE_NAMES } from '../model/netfilter';

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------

/** Tokens of one rule line in reusable parallel arrays: text (unquoted), 0-based span, quoted. */
export class RuleTokens {
  texts: string[] = [];
  starts: number[] = [];
  ends: number[] = [];
  quoted: boolean[] = [];
  n = 0;
  /** 0-based column of a quote left open at the end of the line, or -1. */
  openQuote = -1;

  push(text: string, start: number, end: number, quoted: boolean): void {
    const k = this.n++;
    this.texts[k] = text;
    this.starts[k] = start;
    this.ends[k] = end;
    this.quoted[k] = quoted;
  }
}

/**
 * Splits `line` from offset `from` into arguments the way iptables-restore does
 * (xshared.c `add_param_to_argv`): blanks separate arguments; `"` opens a quoted part in which
 * `\x` stands for `x`; the closing quote ends the argument. An unterminated quote sets
 * `tok.openQuote` (iptables-restore would take the rest of the line).
 */
export function tokenizeRule(line: string, from: number, tok: RuleTokens): void {
  tok.n = 0;
  tok.openQuote = -1;
  const len = line.length;
  let i = from;
  while (i < len) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    let j = i;
    while (j < len) {
      c = line.charCodeAt(j);
      if (c === 32 || c === 9 || c === 34) break;
      j++;
    }
    if (j >= len || c !== 34) {
      tok.push(line.slice(start, j), start, j, false);
      i = j;
      continue;
    }
    // Slow path: the argument contains a quote. Collect it in pieces between escapes.
    let text = line.slice(start, j);
    const quoteAt = j;
    let seg = j + 1;
    let open = true;
    j++;
    while (j < len && open) {
      c = line.charCodeAt(j);
      if (c === 92 && j + 1 < len) {
        text += line.slice(seg, j);
        seg = j + 1; // the escaped character starts the next piece
        j += 2;
      } else if (c === 34) {
        text += line.slice(seg, j);
        open = false; // the closing quote ends the argument
        j++;
      } else j++;
    }
    if (open) {
      text += line.slice(seg, j);
      tok.openQuote = quoteAt;
    }
    tok.push(text, start, j, true);
    i = j;
  }
}

// ---------------------------------------------------------------------------------------------
// Small value helpers
// ---------------------------------------------------------------------------------------------

/** True when `s` is a non-empty run of ASCII digits. */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses an unsigned number like strtoul(s, NULL, 0): `0x` hex, leading `0` octal; NaN if bad. */
export function parseUint(s: string): number {
  if (s.length === 0) return NaN;
  let base = 10;
  let i = 0;
  if (s.length > 2 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) === 120 || s.charCodeAt(1) === 88)) {
    base = 16;
    i = 2;
  } else if (s.length > 1 && s.charCodeAt(0) === 48) {
    base = 8;
    i = 1;
  }
  let v = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return NaN;
    if (d >= base) return NaN;
    v = v * base + d;
  }
  return v;
}

/** Formats a 32-bit value the way iptables prints marks: `0x%x`. */
export function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

/** Quotes a value for display the way `xtables_save_string` does (bare when only [A-Za-z0-9_-]). */
export function saveString(v: string): string {
  let plain = v.length > 0;
  for (let i = 0; i < v.length && plain; i++) {
    const c = v.charCodeAt(i);
    plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
  }
  if (plain) return v;
  let out = '"';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    if (ch === '"' || ch === '\\' || ch === "'") out += '\\';
    out += ch;
  }
  return out + '"';
}

/** Shortens text for a problem message. */
export function clip(s: string, max = 60): string {
  return s.length <= max ? s : s.slice(0, max) + '…';
}

// ---------------------------------------------------------------------------------------------
// Addresses, interfaces, protocols
// ---------------------------------------------------------------------------------------------

/** Parses a dotted quad into an unsigned 32-bit number; -1 when it is not one. */
export function parseIPv4(s: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIPv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Prefix length of a contiguous 32-bit mask, or -1. */
function maskToPrefix4(mask: number): number {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  let n = 0;
  for (let x = inv; x !== 0; x >>>= 1) n++;
  return 32 - n;
}

function prefixToMask4(n: number): number {
  return n <= 0 ? 0 : n >= 32 ? 0xffffffff : (0xffffffff << (32 - n)) >>> 0;
}

/** Parses an IPv6 address into eight 16-bit words; undefined when it is not one. */
export function parseIPv6(s: string): number[] | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const tail = dbl >= 0 ? s.slice(dbl + 2) : '';
  const hw = head.length > 0 ? head.split(':') : [];
  const tw = tail.length > 0 ? tail.split(':') : [];
  const words: number[] = [];
  const parts = dbl >= 0 ? [hw, tw] : [hw];
  const out: number[][] = [];
  for (let p = 0; p < parts.length; p++) {
    const list: number[] = [];
    const ws = parts[p];
    for (let k = 0; k < ws.length; k++) {
      const w = ws[k];
      const last = p === parts.length - 1 && k === ws.length - 1;
      if (last && w.indexOf('.') >= 0) {
        const v4 = parseIPv4(w);
        if (v4 < 0) return undefined;
        list.push(Math.floor(v4 / 65536), v4 & 0xffff);
        continue;
      }
      if (w.length === 0 || w.length > 4) return undefined;
      const v = parseUint('0x' + w);
      if (Number.isNaN(v)) return undefined;
      list.push(v);
    }
    out.push(list);
  }
  if (dbl >= 0) {
    const fill = 8 - out[0].length - out[1].length;
    if (fill < 1) return undefined;
    words.push(...out[0]);
    for (let k = 0; k < fill; k++) words.push(0);
    words.push(...out[1]);
  } else {
    if (out[0].length !== 8) return undefined;
    words.push(...out[0]);
  }
  return words;
}

/** Formats eight 16-bit words as glibc's inet_ntop does (longest zero run as `::`, v4-mapped). */
export function formatIPv6(w: readonly number[]): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase >= 0) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatIPv4(w[6] * 65536 + w[7]);
      return out;
    }
    out += w[i].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

function prefixToMask6(n: number): number[] {
  const m: number[] = [];
  for (let i = 0; i < 8; i++) {
    const bits = Math.max(0, Math.min(16, n - i * 16));
    m.push(bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff);
  }
  return m;
}

function maskToPrefix6(m: readonly number[]): number {
  let n = 0;
  let i = 0;
  for (; i < 8 && m[i] === 0xffff; i++) n += 16;
  if (i === 8) return 128;
  const inv = ~m[i] & 0xffff;
  if ((inv & (inv + 1)) !== 0) return -1;
  let z = 0;
  for (let x = inv; x !== 0; x >>>= 1) z++;
  n += 16 - z;
  for (i++; i < 8; i++) if (m[i] !== 0) return -1;
  return n;
}

/** The result of reading an address argument. */
export interface AddrParse {
  /** Undefined when the address matches everything and is not inverted (iptables omits it). */
  addr?: AddrMatch;
  family?: 'ipv4' | 'ipv6';
  /** Set when the text is not a numeric address (a host name): kept verbatim. */
  name?: boolean;
  error?: string;
}

/**
 * Reads `-s`/`-d` text (`10.0.0.0/8`, `10.1.2.3`, `10.0.0.0/255.0.255.0`, `fd00::/64`, `::1`)
 * into the form iptables-save prints: the network address (address AND mask), a prefix length
 * (32/128 when none is given), and a dotted mask only when it is not contiguous
 * (xshared.c `save_ipv4_addr`, `save_ipv6_addr`). `prefixLen` is -1 with a non-contiguous mask.
 */
export function parseAddress(text: string, invert: boolean): AddrParse {
  const slash = text.indexOf('/');
  const host = slash >= 0 ? text.slice(0, slash) : text;
  const maskText = slash >= 0 ? text.slice(slash + 1) : undefined;
  if (host.indexOf(':') >= 0) {
    const w = parseIPv6(host.charCodeAt(0) === 91 && host.endsWith(']') ? host.slice(1, -1) : host);
    if (!w) return { error: `\`${clip(text)}\` is not an IPv6 address` };
    let m: number[];
    let prefix: number;
    if (maskText === undefined) {
      prefix = 128;
      m = prefixToMask6(128);
    } else if (isDigits(maskText)) {
      prefix = Number(maskText);
      if (prefix > 128) return { error: `prefix length /${maskText} is over 128` };
      m = prefixToMask6(prefix);
    } else {
      const mw = parseIPv6(maskText);
      if (!mw) return { error: `\`${clip(maskText)}\` is not a mask` };
      m = mw;
      prefix = maskToPrefix6(mw);
    }
    if (prefix === 0 && !invert) return { family: 'ipv6' };
    const net: number[] = [];
    for (let i = 0; i < 8; i++) net.push(w[i] & m[i]);
    const addr: AddrMatch = { addr: formatIPv6(net), prefixLen: prefix, invert };
    if (prefix < 0) addr.mask = formatIPv6(m);
    return { addr, family: 'ipv6' };
  }
  const v = parseIPv4(host);
  if (v < 0) {
    if (host === 'anywhere' && maskText === undefined) return invert ? { addr: { addr: '0.0.0.0', prefixLen: 0, invert } } : {};
    if (host.length === 0 || !isHostName(host)) return { error: `\`${clip(text)}\` is not an address` };
    const prefixLen = maskText !== undefined && isDigits(maskText) ? Number(maskText) : 32;
    return { addr: { addr: host, prefixLen, invert }, name: true };
  }
  let mask: number;
  let prefix: number;
  if (maskText === undefined) {
    prefix = 32;
    mask = 0xffffffff;
  } else if (isDigits(maskText)) {
    prefix = Number(maskText);
    if (prefix > 32) return { error: `prefix length /${maskText} is over 32` };
    mask = prefixToMask4(prefix);
  } else {
    mask = parseIPv4(maskText);
    if (mask < 0) return { error: `\`${clip(maskText)}\` is not a mask` };
    prefix = maskToPrefix4(mask);
  }
  const net = (v & mask) >>> 0;
  if (mask === 0 && net === 0 && !invert) return { family: 'ipv4' };
  const addr: AddrMatch = { addr: formatIPv4(net), prefixLen: prefix, invert };
  if (prefix < 0) addr.mask = formatIPv4(mask);
  return { addr, family: 'ipv4' };
}

/** A DNS-style name with at least one letter (so `300.1.1.1` is a bad address, not a name). */
function isHostName(s: string): boolean {
  let letter = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alpha && !(c >= 48 && c <= 57) && c !== 45 && c !== 46 && c !== 95) return false;
    letter = letter || alpha;
  }
  return letter;
}

/** Reads `-i`/`-o` text; empty and `+` match every interface and are omitted (`save_iface`). */
export function parseIface(name: string, invert: boolean): IfaceMatch | undefined {
  if (name.length === 0 || name === '+') return undefined;
  return { name, wildcard: name.charCodeAt(name.length - 1) === 43, invert };
}

/**
 * Protocol numbers to the names iptables-save prints: `xtables_chain_protos` first, then the
 * names of Debian's /etc/protocols (what `getprotobynumber` answers on the machines that made the
 * corpus dumps).
 */
const PROTO_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp', 2: 'igmp', 3: 'ggp', 4: 'ipencap', 5: 'st', 6: 'tcp', 8: 'egp', 9: 'igp', 12: 'pup',
  17: 'udp', 20: 'hmp', 22: 'xns-idp', 27: 'rdp', 29: 'iso-tp4', 33: 'dccp', 36: 'xtp', 37: 'ddp',
  38: 'idpr-cmtp', 41: 'ipv6', 43: 'ipv6-route', 44: 'ipv6-frag', 45: 'idrp', 46: 'rsvp', 47: 'gre',
  50: 'esp', 51: 'ah', 57: 'skip', 58: 'ipv6-icmp', 59: 'ipv6-nonxt', 60: 'ipv6-opts', 73: 'rspf',
  81: 'vmtp', 88: 'eigrp', 89: 'ospf', 93: 'ax.25', 94: 'ipip', 97: 'etherip', 98: 'encap',
  103: 'pim', 108: 'ipcomp', 112: 'vrrp', 115: 'l2tp', 124: 'isis', 132: 'sctp', 133: 'fc',
  135: 'mobility-header', 136: 'udplite', 137: 'mpls-in-ip', 138: 'manet', 139: 'hip', 140: 'shim6',
  141: 'wesp', 142: 'rohc', 143: 'ethernet',
};
const PROTO_ALIASES: Readonly<Record<string, string>> = {
  icmpv6: 'ipv6-icmp', 'ipv6-mh': 'mobility-header', mh: 'mobility-header',
};

/** Canonical protocol name as iptables-save prints it; undefined for `all`/`0` (no protocol). */
export function canonProto(text: string): string | undefined {
  const known = PROTO_INTERN.get(text);
  if (known !== undefined) return known;
  if (isDigits(text)) {
    const n = Number(text);
    if (n === 0) return undefined;
    return PROTO_NAMES[n] ?? String(n);
  }
  const low = text.toLowerCase();
  if (low === 'all') return undefined;
  return PROTO_ALIASES[low] ?? PROTO_INTERN.get(low) ?? low;
}

/** Canonical names by themselves, so common protocols share one string. */
const PROTO_INTERN: ReadonlyMap<string, string> = new Map(Object.values(PROTO_NAMES).map((v) => [v, v]));

// ---------------------------------------------------------------------------------------------
// Extension knowledge
// ---------------------------------------------------------------------------------------------

/** One option of an extension: canonical long name, number of arguments, accepted aliases. */
export interface OptDef {
  name: string;
  args: number;
  aliases?: readonly string[];
}

/** A match or target meshtrace understands. */
export interface ExtDef {
  name: string;
  target: boolean;
  /** Options in the order the extension's `save` callback prints them. */
  opts: readonly OptDef[];
  /** Rewrites options (already renamed to canonical names) into save form; returns a warning. */
  canon?: (x: XtMatch | XtTarget, family: 'ipv4' | 'ipv6') => string | undefined;
  /** Option name (and alias) → index in `opts`. */
  index: Map<string, number>;
  /** The same keyed by the argument as written (`--dport`), so no substring is made per option. */
  dashIndex: Map<string, number>;
}

function def(name: string, target: boolean, opts: (string | [string, number, ...string[]])[], canon?: ExtDef['canon']): ExtDef {
  const list: OptDef[] = [];
  for (const o of opts) {
    if (typeof o === 'string') list.push({ name: o, args: 1 });
    else list.push({ name: o[0], args: o[1], aliases: o.slice(2) as string[] });
  }
  const index = new Map<string, number>();
  const dashIndex = new Map<string, number>();
  list.forEach((o, i) => {
    for (const n of [o.name, ...(o.aliases ?? [])]) {
      index.set(n, i);
      dashIndex.set('--' + n, i);
    }
  });
  return { name, target, opts: list, canon, index, dashIndex };
}

function findOpt(x: { options: XtOption[] }, name: string): XtOption | undefined {
  for (const o of x.options) if (o.name === name) return o;
  return undefined;
}

function removeOpt(x: { options: XtOption[] }, name: string): void {
  x.options = x.options.filter((o) => o.name !== name);
}

const SERVICES: Readonly<Record<string, number>> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, tftp: 69, http: 80,
  www: 80, kerberos: 88, pop3: 110, sunrpc: 111, ntp: 123, 'netbios-ns': 137, imap: 143, imap2: 143,
  snmp: 161, ldap: 389, https: 443, 'microsoft-ds': 445, submissions: 465, syslog: 514, submission: 587,
  ldaps: 636, imaps: 993, pop3s: 995, openvpn: 1194, mysql: 3306, 'postgresql': 5432, 'http-alt': 8080,
  vxlan: 4789,
};

/** Port text to its number (names from a small /etc/services subset); NaN when unknown. */
function portNumber(s: string): number {
  // xtables_parse_port: a number up to 65535 (xtables_strtoui(…, 0, UINT16_MAX)) or a service name.
  if (isDigits(s)) return Number(s) <= 65535 ? Number(s) : NaN;
  const n = SERVICES[s.toLowerCase()];
  return n === undefined ? NaN : n;
}

/** `80`, `1000:2000`, `:1024`, `1024:` → iptables-save's `%u` / `%u:%u` (tcp/udp/sctp `save`). */
function canonPortRange(v: string): string | undefined {
  const colon = v.indexOf(':');
  if (colon < 0) {
    const n = portNumber(v);
    return Number.isNaN(n) ? undefined : String(n);
  }
  const a = colon === 0 ? 0 : portNumber(v.slice(0, colon));
  const b = colon === v.length - 1 ? 65535 : portNumber(v.slice(colon + 1));
  // libxt_tcp.c parse_tcp_ports: "invalid portrange (min > max)".
  if (Number.isNaN(a) || Number.isNaN(b) || a > b) return undefined;
  return a === b ? String(a) : `${a}:${b}`;
}

const PORT_OPTS: readonly string[] = ['sport', 'dport'];

function canonPorts(x: { options: XtOption[] }, names: readonly string[]): string | undefined {
  for (const o of x.options) {
    if (names.indexOf(o.name) < 0 || o.values.length !== 1) continue;
    const c = canonPortRange(o.values[0]);
    if (c === undefined) return `--${o.name} \`${clip(o.values[0])}\` is not a port or port range`;
    o.values[0] = c;
  }
  return undefined;
}

const TCP_FLAGS: readonly [string, number][] = [
  ['FIN', 0x01], ['SYN', 0x02], ['RST', 0x04], ['PSH', 0x08], ['ACK', 0x10], ['URG', 0x20],
];

/** TCP flag list text (or `0x06`) to its bit mask; NaN when a name is unknown. */
export function tcpFlagBits(s: string): number {
  if (s.startsWith('0x') || s.startsWith('0X')) return parseUint(s);
  let bits = 0;
  for (const part of s.split(',')) {
    const p = part.toUpperCase();
    if (p === 'ALL') bits |= 0x3f;
    else if (p === 'NONE') continue;
    else {
      let found = false;
      for (const [n, b] of TCP_FLAGS) {
        if (n === p) {
          bits |= b;
          found = true;
        }
      }
      if (!found) return NaN;
    }
  }
  return bits;
}

/** Bit mask to the flag list `print_tcpf` writes (FIN,SYN,RST,PSH,ACK,URG order, `NONE`). */
export function tcpFlagNames(bits: number): string {
  const out: string[] = [];
  for (const [n, b] of TCP_FLAGS) if (bits & b) out.push(n);
  return out.length ? out.join(',') : 'NONE';
}

function canonTcp(x: XtMatch | XtTarget): string | undefined {
  const syn = findOpt(x, 'syn');
  if (syn) {
    // libxt_tcp.c: --syn is --tcp-flags SYN,RST,ACK,FIN SYN.
    syn.name = 'tcp-flags';
    syn.values = ['FIN,SYN,RST,ACK', 'SYN'];
  }
  for (const o of x.options) {
    if (o.name === 'tcp-flags' && o.values.length === 2) {
      const m = tcpFlagBits(o.values[0]);
      const c = tcpFlagBits(o.values[1]);
      if (Number.isNaN(m) || Number.isNaN(c)) return `--tcp-flags \`${clip(o.values.join(' '))}\` has an unknown flag`;
      o.values = [tcpFlagNames(m), tcpFlagNames(c)];
    } else if (o.name === 'tcp-option' && o.values.length === 1) {
      const n = parseUint(o.values[0]);
      if (!Number.isNaN(n)) o.values[0] = String(n);
    }
  }
  return canonPorts(x, PORT_OPTS);
}

function canonPortList(x: XtMatch | XtTarget): string | undefined {
  for (const o of x.options) {
    if (o.values.length !== 1) continue;
    const parts = o.values[0].split(',');
    const out: string[] = [];
    for (const p of parts) {
      const c = canonPortRange(p);
      if (c === undefined) return `--${o.name} \`${clip(o.values[0])}\` is not a port list`;
      out.push(c);
    }
    o.values[0] = out.join(',');
  }
  return undefined;
}

/** ICMP type names (extensions/libxt_icmp.h `icmp_codes`): name → [type, code_min, code_max]. */
const ICMP_NAMES: Readonly<Record<string, readonly [number, number, number]>> = {
  any: [0xff, 0, 0xff], 'echo-reply': [0, 0, 0xff], pong: [0, 0, 0xff],
  'destination-unreachable': [3, 0, 0xff], 'network-unreachable': [3, 0, 0], 'host-unreachable': [3, 1, 1],
  'protocol-unreachable': [3, 2, 2], 'port-unreachable': [3, 3, 3], 'fragmentation-needed': [3, 4, 4],
  'source-route-failed': [3, 5, 5], 'network-unknown': [3, 6, 6], 'host-unknown': [3, 7, 7],
  'network-prohibited': [3, 9, 9], 'host-prohibited': [3, 10, 10], 'tos-network-unreachable': [3, 11, 11],
  'tos-host-unreachable': [3, 12, 12], 'communication-prohibited': [3, 13, 13],
  'host-precedence-violation': [3, 14, 14], 'precedence-cutoff': [3, 15, 15], 'source-quench': [4, 0, 0xff],
  redirect: [5, 0, 0xff], 'network-redirect': [5, 0, 0], 'host-redirect': [5, 1, 1],
  'tos-network-redirect': [5, 2, 2], 'tos-host-redirect': [5, 3, 3], 'echo-request': [8, 0, 0xff],
  ping: [8, 0, 0xff], 'router-advertisement': [9, 0, 0xff], 'router-solicitation': [10, 0, 0xff],
  'time-exceeded': [11, 0, 0xff], 'ttl-exceeded': [11, 0, 0xff], 'ttl-zero-during-transit': [11, 0, 0],
  'ttl-zero-during-reassembly': [11, 1, 1], 'parameter-problem': [12, 0, 0xff], 'ip-header-bad': [12, 0, 0],
  'required-option-missing': [12, 1, 1], 'timestamp-request': [13, 0, 0xff], 'timestamp-reply': [14, 0, 0xff],
  'address-mask-request': [17, 0, 0xff], 'address-mask-reply': [18, 0, 0xff],
};
/** ICMPv6 type names (`icmpv6_codes`). */
const ICMP6_NAMES: Readonly<Record<string, readonly [number, number, number]>> = {
  'destination-unreachable': [1, 0, 0xff], 'no-route': [1, 0, 0], 'communication-prohibited': [1, 1, 1],
  'beyond-scope': [1, 2, 2], 'address-unreachable': [1, 3, 3], 'port-unreachable': [1, 4, 4],
  'failed-policy': [1, 5, 5], 'reject-route': [1, 6, 6], 'packet-too-big': [2, 0, 0xff],
  'time-exceeded': [3, 0, 0xff], 'ttl-exceeded': [3, 0, 0xff], 'ttl-zero-during-transit': [3, 0, 0],
  'ttl-zero-during-reassembly': [3, 1, 1], 'parameter-problem': [4, 0, 0xff], 'bad-header': [4, 0, 0],
  'unknown-header-type': [4, 1, 1], 'unknown-option': [4, 2, 2], 'echo-request': [128, 0, 0xff],
  ping: [128, 0, 0xff], 'echo-reply': [129, 0, 0xff], pong: [129, 0, 0xff], 'mld-listener-query': [130, 0, 0xff],
  'mld-listener-report': [131, 0, 0xff], 'mld-listener-done': [132, 0, 0xff],
  'mld-listener-reduction': [132, 0, 0xff], 'router-solicitation': [133, 0, 0xff],
  'router-advertisement': [134, 0, 0xff], 'neighbour-solicitation': [135, 0, 0xff],
  'neighbor-solicitation': [135, 0, 0xff], 'neighbour-advertisement': [136, 0, 0xff],
  'neighbor-advertisement': [136, 0, 0xff], redirect: [137, 0, 0xff],
};

/** ICMP type text as `icmp_save` prints it: `8`, `3/3`, `any` (v4 only). */
export function icmpTypeSave(type: number, codeMin: number, codeMax: number, v6: boolean): string {
  if (!v6 && type === 0xff && codeMin === 0 && codeMax === 0xff) return 'any';
  return codeMin !== 0 || codeMax !== 0xff ? `${type}/${codeMin}` : String(type);
}

function canonIcmp(x: XtMatch | XtTarget, v6: boolean): string | undefined {
  for (const o of x.options) {
    if (o.values.length !== 1) continue;
    const v = o.values[0];
    const slash = v.indexOf('/');
    if (isDigits(slash >= 0 ? v.slice(0, slash) : v)) {
      const t = Number(slash >= 0 ? v.slice(0, slash) : v);
      const code = slash >= 0 ? parseUint(v.slice(slash + 1)) : NaN;
      o.values[0] = Number.isNaN(code) ? icmpTypeSave(t, 0, 0xff, v6) : icmpTypeSave(t, code, code, v6);
      continue;
    }
    const table = v6 ? ICMP6_NAMES : ICMP_NAMES;
    const e = table[v.toLowerCase()];
    if (!e) return `unknown ICMP type \`${clip(v)}\``;
    o.values[0] = icmpTypeSave(e[0], e[1], e[2], v6);
  }
  return undefined;
}

/** Conntrack states in the order `print_state` writes them. */
const CT_STATES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];
const CT_STATUS = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'];
/** Address types in `rtn_names` order (libxt_addrtype.c). */
const RTN_NAMES = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];

/** Reorders a comma list into the fixed order of `order`; undefined if an item is unknown. */
function orderList(v: string, order: readonly string[]): string | undefined {
  if (v === 'NONE') return v;
  const parts = v.split(',');
  let mask = 0;
  for (const p of parts) {
    const k = order.indexOf(p.toUpperCase());
    if (k < 0) return undefined;
    mask |= 1 << k;
  }
  const out: string[] = [];
  for (let k = 0; k < order.length; k++) if (mask & (1 << k)) out.push(order[k]);
  return out.join(',');
}

/** Mark text `256`, `0x100/0xffffffff` → `0x100` (mask omitted when all ones; `xtables_print_val_mask`). */
export function canonMarkMask(v: string): string | undefined {
  const slash = v.indexOf('/');
  const mark = parseUint(slash >= 0 ? v.slice(0, slash) : v);
  const mask = slash >= 0 ? parseUint(v.slice(slash + 1)) : 0xffffffff;
  if (Number.isNaN(mark) || Number.isNaN(mask) || mark > 0xffffffff || mask > 0xffffffff) return undefined;
  return mask === 0xffffffff ? hex32(mark) : `${hex32(mark)}/${hex32(mask)}`;
}

function canonConntrack(x: XtMatch | XtTarget, family: 'ipv4' | 'ipv6'): string | undefined {
  for (const o of x.options) {
    if (o.values.length !== 1) continue;
    const v = o.values[0];
    switch (o.name) {
      case 'ctstate':
      case 'state': {
        const c = orderList(v, CT_STATES);
        if (c === undefined) return `unknown conntrack state in \`${clip(v)}\``;
        o.values[0] = c;
        break;
      }
      case 'ctstatus': {
        const c = orderList(v, CT_STATUS);
        if (c === undefined) return `unknown conntrack status in \`${clip(v)}\``;
        o.values[0] = c;
        break;
      }
      case 'ctproto': {
        if (!isDigits(v)) {
          const n = protoNumber(v);
          if (n < 0) return `unknown protocol \`${clip(v)}\``;
          o.values[0] = String(n);
        }
        break;
      }
      case 'ctorigsrc':
      case 'ctorigdst':
      case 'ctreplsrc':
      case 'ctrepldst':
        o.values[0] = canonMaskedAddr(v, family);
        break;
      case 'ctexpire':
      case 'ctorigsrcport':
      case 'ctorigdstport':
      case 'ctreplsrcport':
      case 'ctrepldstport': {
        const colon = v.indexOf(':');
        if (colon > 0 && v.slice(0, colon) === v.slice(colon + 1)) o.values[0] = v.slice(0, colon);
        break;
      }
      case 'ctdir':
        o.values[0] = v.toUpperCase();
        break;
    }
  }
  return undefined;
}

/** Protocol name to number (reverse of PROTO_NAMES); -1 if unknown. */
function protoNumber(name: string): number {
  const low = PROTO_ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  if (low === 'all') return 0;
  const names = PROTO_NAMES as Readonly<Record<string, string>>;
  for (const k in names) if (names[k] === low) return Number(k);
  return -1;
}

/** `10.0.0.1/32` → `10.0.0.1`, `10.0.0.0/255.0.0.0` → `10.0.0.0/8` (conntrack/ipvs address print). */
function canonMaskedAddr(v: string, _family: 'ipv4' | 'ipv6'): string {
  const p = parseAddress(v, true);
  if (!p.addr || p.name) return v;
  const full = p.family === 'ipv6' ? 128 : 32;
  if (p.addr.mask) return `${p.addr.addr}/${p.addr.mask}`;
  return p.addr.prefixLen === full ? p.addr.addr : `${p.addr.addr}/${p.addr.prefixLen}`;
}

function canonAddrtype(x: XtMatch | XtTarget): string | undefined {
  for (const o of x.options) {
    if ((o.name === 'src-type' || o.name === 'dst-type') && o.values.length === 1) {
      const c = orderList(o.values[0], RTN_NAMES);
      if (c === undefined) return `unknown address type in \`${clip(o.values[0])}\``;
      o.values[0] = c;
    }
  }
  return undefined;
}

function canonMarkMatch(x: XtMatch | XtTarget): string | undefined {
  for (const o of x.options) {
    if (o.name === 'mark' && o.values.length === 1) {
      const c = canonMarkMask(o.values[0]);
      if (c === undefined) return `--mark \`${clip(o.values[0])}\` is not a mark[/mask]`;
      o.values[0] = c;
    }
  }
  return undefined;
}

/** `--probability` as `%.11f` of the kernel's u32 fraction (libxt_statistic.c `print_match`). */
export function canonProbability(v: string): string | undefined {
  // Already `%.11f` (as every dump prints it): keep the text.
  if (v.length === 13 && v.charCodeAt(1) === 46 && (v.charCodeAt(0) === 48 || v.charCodeAt(0) === 49)) {
    // 0.DDDDDDDDDDD, or 1.00000000000 (over 1 is not a probability).
    const one = v.charCodeAt(0) === 49;
    let ok = true;
    for (let i = 2; i < 13 && ok; i++) ok = one ? v.charCodeAt(i) === 48 : v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57;
    if (ok) return v;
  }
  const p = Number(v);
  if (!Number.isFinite(p) || p < 0 || p > 1) return undefined;
  return (Math.round(0x80000000 * p) / 0x80000000).toFixed(11);
}

function canonStatistic(x: XtMatch | XtTarget): string | undefined {
  for (const o of x.options) {
    if (o.name === 'probability' && o.values.length === 1) {
      const c = canonProbability(o.values[0]);
      if (c === undefined) return `--probability \`${clip(o.values[0])}\` is not between 0 and 1`;
      o.values[0] = c;
    } else if ((o.name === 'every' || o.name === 'packet') && o.values.length === 1) {
      const n = parseUint(o.values[0]);
      if (!Number.isNaN(n)) o.values[0] = String(n);
    }
  }
  const mode = findOpt(x, 'mode');
  // The save callback always prints --packet in nth mode.
  if (mode && mode.values[0] === 'nth' && !findOpt(x, 'packet')) x.options.push({ name: 'packet', values: ['0'], invert: false });
  return undefined;
}

const LIMIT_UNITS: readonly [string, number][] = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
const LIMIT_SCALE = 10000;

/** `--limit` rate as `print_rate` writes it, via the kernel's period (libxt_limit.c). */
export function canonRate(v: string): string | undefined {
  const slash = v.indexOf('/');
  const num = slash >= 0 ? v.slice(0, slash) : v;
  let mult = 1;
  if (slash >= 0) {
    const unit = v.slice(slash + 1).toLowerCase();
    if (unit.length === 0) return undefined;
    let found = false;
    for (const [name, m] of LIMIT_UNITS) {
      if (name.startsWith(unit)) {
        mult = m;
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  if (!isDigits(num)) return undefined;
  const r = Number(num);
  if (r === 0) return undefined;
  const period = Math.floor((LIMIT_SCALE * mult) / r);
  if (period === 0) return undefined;
  const rates: readonly [string, number][] = [['day', 86400 * LIMIT_SCALE], ['hour', 3600 * LIMIT_SCALE], ['min', 60 * LIMIT_SCALE], ['sec', LIMIT_SCALE]];
  let i = 1;
  for (; i < rates.length; i++) {
    if (period > rates[i][1] || Math.floor(rates[i][1] / period) < rates[i][1] % period) break;
  }
  return `${Math.floor(rates[i - 1][1] / period)}/${rates[i - 1][0]}`;
}

function canonLimit(x: XtMatch | XtTarget): string | undefined {
  let lim = findOpt(x, 'limit');
  if (!lim) {
    lim = { name: 'limit', values: ['3/hour'], invert: false };
    x.options.unshift(lim);
  }
  if (lim.values.length === 1) {
    const c = canonRate(lim.values[0]);
    if (c === undefined) return `--limit \`${clip(lim.values[0])}\` is not a rate such as 5/min`;
    lim.values[0] = c;
  }
  const burst = findOpt(x, 'limit-burst');
  if (burst && burst.values.length === 1) {
    const n = parseUint(burst.values[0]);
    if (n === 5) removeOpt(x, 'limit-burst');
    else if (!Number.isNaN(n)) burst.values[0] = String(n);
  }
  return undefined;
}

const PKTTYPE_ALIASES: Readonly<Record<string, string>> = { bcast: 'broadcast', mcast: 'multicast', host: 'unicast' };

function canonPkttype(x: XtMatch | XtTarget): string | undefined {
  for (const o of x.options) if (o.values.length === 1) o.values[0] = PKTTYPE_ALIASES[o.values[0].toLowerCase()] ?? o.values[0].toLowerCase();
  return undefined;
}

function canonRecent(x: XtMatch | XtTarget, family: 'ipv4' | 'ipv6'): string | undefined {
  // recent_save always prints --name, --mask and the side (default source).
  if (!findOpt(x, 'name')) x.options.push({ name: 'name', values: ['DEFAULT'], invert: false });
  if (!findOpt(x, 'mask')) x.options.push({ name: 'mask', values: [family === 'ipv6' ? 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' : '255.255.255.255'], invert: false });
  if (!findOpt(x, 'rsource') && !findOpt(x, 'rdest')) x.options.push({ name: 'rsource', values: [], invert: false });
  for (const o of x.options) {
    if ((o.name === 'seconds' || o.name === 'hitcount') && o.values.length === 1) {
      const n = parseUint(o.values[0]);
      if (!Number.isNaN(n)) o.values[0] = String(n);
    }
  }
  // The save callback prints one `!` before the first option.
  let inv = false;
  for (const o of x.options) {
    if (o.invert) {
      inv = true;
      o.invert = false;
    }
  }
  if (inv) {
    sortOptions(x, DEFS_BY_NAME.get('recent') as ExtDef);
    x.options[0].invert = true;
  }
  return undefined;
}

function canonMac(x: XtMatch | XtTarget): string | undefined {
  for (const o of x.options) if (o.values.length === 1) o.values[0] = o.values[0].toLowerCase();
  return undefined;
}

function canonLength(x: XtMatch | XtTarget): string | undefined {
  for (const o of x.options) {
    if (o.values.length !== 1) continue;
    const v = o.values[0];
    const colon = v.indexOf(':');
    if (colon > 0 && v.slice(0, colon) === v.slice(colon + 1)) o.values[0] = v.slice(0, colon);
  }
  return undefined;
}

function canonIpvs(x: XtMatch | XtTarget, family: 'ipv4' | 'ipv6'): string | undefined {
  for (const o of x.options) {
    if (o.values.length !== 1) continue;
    if (o.name === 'vaddr') o.values[0] = canonMaskedAddr(o.values[0], family);
    else if (o.name === 'vproto' && !isDigits(o.values[0])) {
      const n = protoNumber(o.values[0]);
      if (n >= 0) o.values[0] = String(n);
    } else if (o.name === 'vdir' || o.name === 'vmethod') o.values[0] = o.values[0].toUpperCase();
  }
  return undefined;
}

function canonMarkTarget(x: XtMatch | XtTarget): string | undefined {
  // libxt_MARK.c mark_tg_parse: every form becomes mark/mask, saved as --set-xmark.
  for (const o of x.options) {
    if (o.values.length !== 1) continue;
    const v = o.values[0];
    const slash = v.indexOf('/');
    const a = parseUint(slash >= 0 ? v.slice(0, slash) : v);
    const b = slash >= 0 ? parseUint(v.slice(slash + 1)) : NaN;
    if (Number.isNaN(a) || (slash >= 0 && Number.isNaN(b))) return `--${o.name} \`${clip(v)}\` is not a mark`;
    let mark: number;
    let mask: number;
    switch (o.name) {
      case 'set-xmark':
        mark = a;
        mask = slash >= 0 ? b : 0xffffffff;
        break;
      case 'set-mark':
        mark = a;
        mask = slash >= 0 ? (a | b) >>> 0 : 0xffffffff;
        break;
      case 'and-mark':
        mark = 0;
        mask = ~a >>> 0;
        break;
      case 'or-mark':
        mark = a;
        mask = a;
        break;
      case 'xor-mark':
        mark = a;
        mask = 0;
        break;
      default:
        continue;
    }
    o.name = 'set-xmark';
    o.values = [`${hex32(mark)}/${hex32(mask)}`];
  }
  return undefined;
}

function canonConnmarkTarget(x: XtMatch | XtTarget): string | undefined {
  canonMarkTarget(x);
  const maskOpt = findOpt(x, 'mask');
  if (maskOpt) {
    // --mask sets both nfmask and ctmask (connmark_tg_parse O_MASK).
    removeOpt(x, 'mask');
    if (!findOpt(x, 'nfmask')) x.options.push({ name: 'nfmask', values: [...maskOpt.values], invert: false });
    if (!findOpt(x, 'ctmask')) x.options.push({ name: 'ctmask', values: [...maskOpt.values], invert: false });
  }
  if (findOpt(x, 'save-mark') || findOpt(x, 'restore-mark')) {
    if (!findOpt(x, 'nfmask')) x.options.push({ name: 'nfmask', values: ['0xffffffff'], invert: false });
    if (!findOpt(x, 'ctmask')) x.options.push({ name: 'ctmask', values: ['0xffffffff'], invert: false });
  } else {
    removeOpt(x, 'nfmask');
    removeOpt(x, 'ctmask');
  }
  for (const o of x.options) {
    if ((o.name === 'nfmask' || o.name === 'ctmask') && o.values.length === 1) {
      const n = parseUint(o.values[0].startsWith('~') ? o.values[0].slice(1) : o.values[0]);
      if (Number.isNaN(n)) return `--${o.name} \`${clip(o.values[0])}\` is not a mask`;
      o.values[0] = hex32(n);
    }
  }
  return undefined;
}

const REJECT4 = ['icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-proto-unreachable', 'icmp-port-unreachable', 'icmp-net-prohibited', 'icmp-host-prohibited', 'tcp-reset', 'icmp-admin-prohibited'];
const REJECT4_ALIASES: Readonly<Record<string, string>> = {
  'net-unreach': 'icmp-net-unreachable', 'host-unreach': 'icmp-host-unreachable', 'proto-unreach': 'icmp-proto-unreachable',
  'port-unreach': 'icmp-port-unreachable', 'net-prohib': 'icmp-net-prohibited', 'host-prohib': 'icmp-host-prohibited',
  'tcp-rst': 'tcp-reset', 'admin-prohib': 'icmp-admin-prohibited',
};
const REJECT6 = ['icmp6-no-route', 'icmp6-adm-prohibited', 'icmp6-not-neighbor', 'icmp6-addr-unreachable', 'icmp6-port-unreachable', 'tcp-reset', 'icmp6-policy-fail', 'icmp6-reject-route'];
const REJECT6_ALIASES: Readonly<Record<string, string>> = {
  'no-route': 'icmp6-no-route', 'adm-prohibited': 'icmp6-adm-prohibited', 'not-neighbor': 'icmp6-not-neighbor',
  'addr-unreach': 'icmp6-addr-unreachable', 'port-unreach': 'icmp6-port-unreachable', 'tcp-rst': 'tcp-reset',
  'policy-fail': 'icmp6-policy-fail', 'reject-route': 'icmp6-reject-route',
};

function canonReject(x: XtMatch | XtTarget, family: 'ipv4' | 'ipv6'): string | undefined {
  const v6 = family === 'ipv6';
  let o = findOpt(x, 'reject-with');
  if (!o) {
    // REJECT_init: the default is port-unreachable, and save always prints it.
    o = { name: 'reject-with', values: [v6 ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'], invert: false };
    x.options.push(o);
  }
  if (o.values.length === 1) {
    const v = o.values[0];
    const names = v6 ? REJECT6 : REJECT4;
    if (names.indexOf(v) < 0) {
      const c = (v6 ? REJECT6_ALIASES : REJECT4_ALIASES)[v];
      if (c === undefined) return `unknown --reject-with type \`${clip(v)}\``;
      o.values[0] = c;
    }
  }
  return undefined;
}

const SYSLOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];

function canonLog(x: XtMatch | XtTarget): string | undefined {
  const lvl = findOpt(x, 'log-level');
  if (lvl && lvl.values.length === 1) {
    const v = lvl.values[0].toLowerCase();
    let n = isDigits(v) ? Number(v) : SYSLOG_LEVELS.indexOf(v === 'err' ? 'error' : v === 'warn' ? 'warning' : v === 'panic' ? 'emerg' : v);
    if (n < 0) return `unknown --log-level \`${clip(lvl.values[0])}\``;
    n = Math.min(n, 7);
    // LOG_save omits the default level (LOG_WARNING = 4).
    if (n === 4) removeOpt(x, 'log-level');
    else lvl.values[0] = String(n);
  }
  return undefined;
}

function canonNflog(x: XtMatch | XtTarget): string | undefined {
  const t = findOpt(x, 'nflog-threshold');
  if (t && t.values[0] === '1') removeOpt(x, 'nflog-threshold');
  return undefined;
}

function canonTcpmss(x: XtMatch | XtTarget): string | undefined {
  const s = findOpt(x, 'set-mss');
  if (s && s.values.length === 1) {
    const n = parseUint(s.values[0]);
    if (!Number.isNaN(n)) s.values[0] = String(n);
  }
  return undefined;
}

const MATCH_DEFS: ExtDef[] = [
  def('tcp', false, [['sport', 1, 'source-port'], ['dport', 1, 'destination-port'], 'tcp-option', ['tcp-flags', 2], ['syn', 0]], canonTcp),
  def('udp', false, [['sport', 1, 'source-port'], ['dport', 1, 'destination-port']], (x) => canonPorts(x, PORT_OPTS)),
  def('sctp', false, [['sport', 1, 'source-port'], ['dport', 1, 'destination-port'], ['chunk-types', 2]], (x) => canonPorts(x, PORT_OPTS)),
  def('icmp', false, ['icmp-type'], (x) => canonIcmp(x, false)),
  def('icmp6', false, ['icmpv6-type'], (x) => canonIcmp(x, true)),
  def('multiport', false, [['sports', 1, 'source-ports'], ['dports', 1, 'destination-ports'], 'ports'], canonPortList),
  def('conntrack', false, ['ctstate', 'ctproto', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst', 'ctorigsrcport', 'ctorigdstport', 'ctreplsrcport', 'ctrepldstport', 'ctstatus', 'ctexpire', 'ctdir'], canonConntrack),
  def('state', false, ['state'], canonConntrack),
  def('addrtype', false, ['src-type', 'dst-type', ['limit-iface-in', 0], ['limit-iface-out', 0]], canonAddrtype),
  def('comment', false, ['comment']),
  def('mark', false, ['mark'], canonMarkMatch),
  def('connmark', false, ['mark'], canonMarkMatch),
  def('statistic', false, ['mode', 'probability', 'every', 'packet'], canonStatistic),
  def('physdev', false, [['physdev-is-in', 0], 'physdev-in', ['physdev-is-out', 0], 'physdev-out', ['physdev-is-bridged', 0]]),
  def('ipvs', false, [['ipvs', 0], 'vproto', 'vaddr', 'vport', 'vdir', 'vmethod', 'vportctl'], canonIpvs),
  def('limit', false, ['limit', 'limit-burst'], canonLimit),
  def('owner', false, [['socket-exists', 0], 'uid-owner', 'gid-owner', ['suppl-groups', 0], 'pid-owner', 'sid-owner', 'cmd-owner']),
  def('pkttype', false, ['pkt-type'], canonPkttype),
  def('iprange', false, ['src-range', 'dst-range']),
  def('recent', false, [['set', 0], ['rcheck', 0], ['update', 0], ['remove', 0], 'seconds', ['reap', 0], 'hitcount', ['rttl', 0], 'name', 'mask', ['rsource', 0], ['rdest', 0]], canonRecent),
  def('set', false, [['match-set', 2, 'set'], ['return-nomatch', 0], ['update-counters', 0], ['update-subcounters', 0], 'packets-eq', 'packets-lt', 'packets-gt', 'bytes-eq', 'bytes-lt', 'bytes-gt']),
  def('helper', false, ['helper']),
  def('mac', false, ['mac-source'], canonMac),
  def('length', false, ['length'], canonLength),
];

const TARGET_DEFS: ExtDef[] = [
  def('DNAT', true, ['to-destination', ['random', 0], ['random-fully', 0], ['persistent', 0]]),
  def('SNAT', true, ['to-source', ['random', 0], ['random-fully', 0], ['persistent', 0]]),
  def('MASQUERADE', true, ['to-ports', ['random', 0], ['random-fully', 0]]),
  def('REDIRECT', true, ['to-ports', ['random', 0]]),
  def('REJECT', true, ['reject-with'], canonReject),
  def('MARK', true, ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'], canonMarkTarget),
  def('CONNMARK', true, ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark', ['save-mark', 0], ['restore-mark', 0], 'nfmask', 'ctmask', 'mask', 'left-shift-mark', 'right-shift-mark'], canonConnmarkTarget),
  def('LOG', true, ['log-prefix', 'log-level', ['log-tcp-sequence', 0], ['log-tcp-options', 0], ['log-ip-options', 0], ['log-uid', 0], ['log-macdecode', 0]], canonLog),
  def('NFLOG', true, ['nflog-prefix', 'nflog-group', 'nflog-size', 'nflog-range', 'nflog-threshold'], canonNflog),
  def('TCPMSS', true, ['set-mss', ['clamp-mss-to-pmtu', 0]], canonTcpmss),
  def('CT', true, [['notrack', 0], 'helper', 'timeout', 'ctevents', 'expevents', 'zone-orig', 'zone-reply', 'zone']),
  def('NOTRACK', true, []),
  def('TRACE', true, []),
  def('ACCEPT', true, []),
  def('DROP', true, []),
  def('RETURN', true, []),
  def('QUEUE', true, []),
];

/** Known matches by name. */
export const MATCH_BY_NAME: ReadonlyMap<string, ExtDef> = new Map(MATCH_DEFS.map((d) => [d.name, d]));
/** Known targets by name. */
export const TARGET_BY_NAME: ReadonlyMap<string, ExtDef> = new Map(TARGET_DEFS.map((d) => [d.name, d]));
const DEFS_BY_NAME = new Map<string, ExtDef>([...MATCH_DEFS.map((d) => [d.name, d] as const)]);

/** The built-in verdicts (no extension, no options). */
export const VERDICTS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

/**
 * Target extensions iptables ships that meshtrace does not model (extensions/libxt_*.c,
 * libipt_*.c, libip6t_*.c): a `-j` to one of these is an unknown target, not a chain.
 */
export const OTHER_TARGETS: ReadonlySet<string> = new Set([
  'AUDIT', 'CHECKSUM', 'CLASSIFY', 'CLUSTERIP', 'CONNSECMARK', 'DNPT', 'DSCP', 'ECN', 'HL', 'HMARK', 'IDLETIMER',
  'LED', 'NETMAP', 'NFQUEUE', 'RATEEST', 'SECMARK', 'SET', 'SNPT', 'SYNPROXY', 'TCPOPTSTRIP', 'TEE', 'TOS',
  'TPROXY', 'TTL', 'ULOG', 'MIRROR', 'SAME', 'IPV4OPTSSTRIP', 'ROUTE', 'TARPIT', 'CHAOS', 'DELUDE', 'FULLCONENAT',
]);

/** Whether `name` is a target extension or verdict rather than a user chain. */
export function isTargetExtension(name: string): boolean {
  return TARGET_BY_NAME.has(name) || OTHER_TARGETS.has(name);
}

/** Implicit protocol matches (`-p tcp --dport 80` loads `-m tcp`); -p name → match name. */
const PROTO_MATCH: Readonly<Record<string, string>> = {
  tcp: 'tcp', udp: 'udp', sctp: 'sctp', icmp: 'icmp', 'ipv6-icmp': 'icmp6',
};

/** Sorts options into the order the extension's save callback prints them (stable). */
export function sortOptions(x: { options: XtOption[] }, d: ExtDef): void {
  const opts = x.options;
  let sorted = true;
  let last = -1;
  for (let i = 0; i < opts.length; i++) {
    const k = d.index.get(opts[i].name) ?? 999;
    if (k < last) {
      sorted = false;
      break;
    }
    last = k;
  }
  if (sorted) return;
  const keyed = opts.map((o, i) => ({ o, i, k: d.index.get(o.name) ?? 999 }));
  keyed.sort((a, b) => a.k - b.k || a.i - b.i);
  x.options = keyed.map((e) => e.o);
}

/**
 * Puts a known extension's options into save form (canonical names, values, defaults, order).
 * Returns a warning message when a value cannot be read; the match is then kept as given.
 */
export function canonicalizeExt(x: XtMatch | XtTarget, d: ExtDef, family: 'ipv4' | 'ipv6'): string | undefined {
  for (const o of x.options) {
    const k = d.index.get(o.name);
    if (k !== undefined) o.name = d.opts[k].name;
  }
  const msg = d.canon ? d.canon(x, family) : undefined;
  sortOptions(x, d);
  return msg;
}

/** Looks up an option (`--name` as written) of an extension: exact, alias, or a unique prefix (getopt_long). */
export function lookupOpt(d: ExtDef, arg: string): OptDef | undefined {
  const k = d.dashIndex.get(arg);
  if (k !== undefined) return d.opts[k];
  const name = arg.slice(2);
  if (name.length < 2) return undefined;
  let found: OptDef | undefined;
  for (const o of d.opts) {
    if (o.name.startsWith(name)) {
      if (found && found !== o) return undefined;
      found = o;
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Rule builder
// ---------------------------------------------------------------------------------------------

/** What the rule builder needs to know and report to. */
export interface RuleEnv {
  sink: ProblemSink;
  /** The line number problems are reported at (1-based, offset applied). */
  line: number;
  /** The ruleset's family so far; set to ipv6 when an IPv6 address is met. */
  family: 'ipv4' | 'ipv6';
  /** Set when any address of the input was IPv6. */
  sawIPv6: boolean;
  /** Where rule parts read without any problem are shared from (one per parse; optional). */
  cache?: SpecCache;
  /** The whole input, when the line given to {@link buildRuleSpec} is a slice of it. */
  text?: string;
  /** Where that line starts in `text` (shared parts are then keyed by ranges of `text`). */
  lineStart?: number;
}

/** A rule read from tokens. */
export interface BuiltRule {
  spec: RuleSpec;
  /** From `-c PKTS BYTES` (`iptables -S -v`). */
  counters?: Counters;
  /** 0-based span of the target's name, for problems about jumps. */
  targetStart: number;
  targetEnd: number;
  /** True when the target is a user chain (jump or goto). */
  chainTarget: boolean;
}

type Ext = XtMatch | XtTarget;

/** What the top options (`-s -d -i -o -p -f`) before a rule's first `-m`/`-j`/`-g` set. */
export interface TopParts {
  src?: AddrMatch;
  dst?: AddrMatch;
  iif?: IfaceMatch;
  oif?: IfaceMatch;
  proto?: { name: string; invert: boolean };
  fragment?: { invert: boolean };
  /** They make the ruleset IPv6 (an IPv6 address, `-p ipv6-icmp`). */
  family6: boolean;
  /** They contain an IPv6 address. */
  saw6: boolean;
}

/** Longest part (in characters) that is shared; longer ones are read anew each time. */
const MAX_PART = 4096;
/** How many parts seen once are remembered (see {@link TextIntern}). */
const YOUNG_BITS = 12;
/** The same for whole rules: a node's rulesets (a few thousand rules) wait for the next node's. */
const WHOLE_YOUNG_BITS = 14;

/**
 * The 32-bit polynomial hash of `s[a, b)` (h·31 + c per character). The fast path computes the
 * same value from prefix hashes taken while it scans a line, without making the substring.
 */
export function hashText(s: string, a: number, b: number): number {
  let h = 0;
  for (let i = a; i < b; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

const POW31: number[] = [1];

/** 31^n mod 2^32 (n ≤ MAX_PART). */
function pow31(n: number): number {
  while (POW31.length <= n) POW31.push(Math.imul(POW31[POW31.length - 1], 31));
  return POW31[n];
}

/** Spreads a {@link hashText} hash over the bits used as a table index. */
export function mixHash(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 15);
}

/** Whether `k[kp, kp + (b - a))` spells the same as `s[a, b)`. */
function sameRange(k: string, kp: number, s: string, a: number, b: number): boolean {
  if (k === s) {
    // Both in the same text (the usual case): one flat string, compared in place.
    for (let i = a; i < b; i++) if (s.charCodeAt(kp++) !== s.charCodeAt(i)) return false;
    return true;
  }
  for (let i = a; i < b; i++) if (k.charCodeAt(kp++) !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * A value kept for good by {@link TextIntern}, with what is worth remembering about it: the
 * `matches` arrays made of it (a match met as the first of one or two shared matches), and
 * the chain a shared jump target was last found to name.
 */
export interface Kept<T> {
  value: T;
  /** `[value]`. */
  one: XtMatch[] | undefined;
  /** The last `[value, m]` made. */
  two: XtMatch[] | undefined;
  /** The chain named by this target in the table of `chainIndex`. */
  chain: Chain | undefined;
  chainIndex: ChainIndex | undefined;
}

/**
 * Values by their exact source text, in two generations: a part met for the first time goes to
 * a small direct-mapped young table, and is kept for good once it is met again. Parts that never
 * repeat (a kube-proxy dump has 100 000 `-j KUBE-SEP-…` jumps and DNAT destinations) are
 * overwritten in the young table, so the kept table stays small. Lookups take the text as a
 * range of the input and its {@link hashText} hash, so no substring is made to look a part up;
 * young keys are ranges of the input, kept keys are copied into a small character arena.
 */
export class TextIntern<T> {
  // Kept parts: per slot, packed so that one probe reads one place: hash, offset of the key's
  // characters in `arena`, key length. The keys' characters are copied into the arena, a few
  // hundred kilobytes that stay in the CPU caches, rather than compared in place in the input.
  private meta = new Int32Array(4 * 1024);
  private kept: (Kept<T> | undefined)[] = new Array<Kept<T> | undefined>(1024).fill(undefined);
  private size = 0;
  private arena = new Uint16Array(16384);
  private arenaUsed = 0;
  // Young parts: hash, offset and length of the key in `youngKeys[y]` (a string, usually the input).
  private readonly youngMask: number;
  private readonly youngMeta: Int32Array;
  private readonly youngKeys: (string | undefined)[];
  private readonly youngValues: (T | undefined)[];

  /**
   * Kept keys also as strings of their own, compared with `startsWith` (natively) rather than
   * character by character from the arena: worth it for long keys (whole rules).
   */
  private readonly keptText: (string | undefined)[] | undefined;

  /**
   * `youngBits`: log2 of the young table's size (how many first-met parts wait for a second
   * meeting); `stringKeys`: see {@link keptText}.
   */
  constructor(youngBits = YOUNG_BITS, stringKeys = false) {
    if (stringKeys) this.keptText = [];
    this.youngMask = (1 << youngBits) - 1;
    this.youngMeta = new Int32Array(4 << youngBits);
    this.youngKeys = new Array<string | undefined>(1 << youngBits).fill(undefined);
    this.youngValues = new Array<T | undefined>(1 << youngBits).fill(undefined);
  }

  /** The part spelled by `s[a, b)` whose hash is `h`, now kept for good; or undefined. */
  find(h: number, s: string, a: number, b: number): Kept<T> | undefined {
    const len = b - a;
    const meta = this.meta;
    const mask = this.kept.length - 1;
    const m = mixHash(h);
    probe: for (let i = m & mask; ; i = (i + 1) & mask) {
      const kept = this.kept[i];
      if (kept === undefined) break;
      const j = 4 * i;
      if (meta[j] !== h || meta[j + 2] !== len) continue;
      if (this.keptText !== undefined) {
        if (s.startsWith(this.keptText[meta[j + 1]] as string, a)) return kept;
        continue;
      }
      const ar = this.arena;
      let o = meta[j + 1];
      for (let c = a; c < b; c++) if (ar[o++] !== s.charCodeAt(c)) continue probe;
      return kept;
    }
    const y = m & this.youngMask;
    const value = this.youngValues[y];
    if (value === undefined) return undefined;
    const ym = this.youngMeta;
    const j = 4 * y;
    if (ym[j] !== h || ym[j + 2] !== len) return undefined;
    const key = this.youngKeys[y] as string;
    if (!sameRange(key, ym[j + 1], s, a, b)) return undefined;
    // Met a second time: keep it.
    const kept: Kept<T> = { value, one: undefined, two: undefined, chain: undefined, chainIndex: undefined };
    this.youngValues[y] = undefined;
    this.youngKeys[y] = undefined;
    this.keep(h, s, a, len, kept);
    return kept;
  }

  /** Remembers a part first met now, spelled by `s[a, b)` (`h` is its hash). */
  add(h: number, s: string, a: number, b: number, value: T): void {
    if (b - a > MAX_PART) return;
    const y = mixHash(h) & this.youngMask;
    const j = 4 * y;
    const ym = this.youngMeta;
    ym[j] = h;
    ym[j + 1] = a;
    ym[j + 2] = b - a;
    this.youngKeys[y] = s;
    this.youngValues[y] = value;
  }

  /** Keeps a part for good; its key is `s[a, a + len)`. */
  private keep(h: number, s: string, a: number, len: number, kept: Kept<T>): void {
    if (this.keptText !== undefined) {
      // A copy of its own (a slice would keep the whole input alive); its number goes where the arena offset would.
      let key = '';
      for (let i = 0; i < len; i += 1024) key += String.fromCharCode.apply(null, charCodes(s, a + i, a + Math.min(len, i + 1024)));
      this.keptText.push(key);
      this.insert(h, this.keptText.length - 1, len, kept);
      return;
    }
    if (this.arenaUsed + len > this.arena.length) {
      const bigger = new Uint16Array(Math.max(2 * this.arena.length, this.arenaUsed + len));
      bigger.set(this.arena);
      this.arena = bigger;
    }
    const at = this.arenaUsed;
    for (let i = 0; i < len; i++) this.arena[at + i] = s.charCodeAt(a + i);
    this.arenaUsed += len;
    this.insert(h, at, len, kept);
  }

  private insert(h: number, at: number, len: number, kept: Kept<T>): void {
    if (2 * (this.size + 1) > this.kept.length) this.grow();
    const mask = this.kept.length - 1;
    let i = mixHash(h) & mask;
    while (this.kept[i] !== undefined) i = (i + 1) & mask;
    const j = 4 * i;
    this.meta[j] = h;
    this.meta[j + 1] = at;
    this.meta[j + 2] = len;
    this.kept[i] = kept;
    this.size++;
  }

  private grow(): void {
    const { meta, kept } = this;
    const n = kept.length * 2;
    this.meta = new Int32Array(4 * n);
    this.kept = new Array<Kept<T> | undefined>(n).fill(undefined);
    this.size = 0;
    for (let i = 0; i < kept.length; i++) {
      const k = kept[i];
      if (k !== undefined) this.insert(meta[4 * i], meta[4 * i + 1], meta[4 * i + 2], k);
    }
  }
}

/** The character codes of `s[a, b)`. */
function charCodes(s: string, a: number, b: number): number[] {
  const out = new Array<number>(b - a);
  for (let i = a; i < b; i++) out[i - a] = s.charCodeAt(i);
  return out;
}

/** The chains of one table by name, found from a range of a text and its {@link hashText} hash. */
export class ChainIndex {
  /** The text most names are ranges of (the input); other names are kept in `keys`. */
  private text: string | undefined;
  private slots: (Chain | undefined)[] = new Array<Chain | undefined>(64).fill(undefined);
  /** Per slot: hash, name offset, name length, 1 when the name is a range of `text`. */
  private meta = new Int32Array(4 * 64);
  private keys: (string | undefined)[] = new Array<string | undefined>(64).fill(undefined);
  private size = 0;

  /** The chain named `s[a, b)`, whose hash is `h`. */
  find(h: number, s: string, a: number, b: number): Chain | undefined {
    const mask = this.slots.length - 1;
    const meta = this.meta;
    // The step to the next slot runs on every lookup, not only on a collision: V8 throws away
    // optimised code at a step it never saw run (no type feedback), and a kube-proxy table meets
    // its first collision after its lookups got hot (measured: 4 deoptimisations fewer in a
    // first read, with the SERVICES rule in keepLayouts; about 6 % off a cold load).
    for (let i = (mixHash(h) - 1) & mask; ; ) {
      i = (i + 1) & mask;
      const c = this.slots[i];
      if (c === undefined) return undefined;
      const j = 4 * i;
      if (meta[j] === h && meta[j + 2] === b - a && sameRange(meta[j + 3] === 1 ? (this.text as string) : (this.keys[i] as string), meta[j + 1], s, a, b)) return c;
    }
  }

  /**
   * The chain named `s[a, b)` (hash `h`), or, when there is none, where {@link putAt} would put
   * it as `-1 - slot` (one probe for a declaration: look up, then add). Makes room first.
   */
  probe(h: number, s: string, a: number, b: number): Chain | number {
    if (2 * (this.size + 1) > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    const meta = this.meta;
    for (let i = (mixHash(h) - 1) & mask; ; ) {
      i = (i + 1) & mask; // as in find
      const c = this.slots[i];
      if (c === undefined) return -1 - i;
      const j = 4 * i;
      if (meta[j] === h && meta[j + 2] === b - a && sameRange(meta[j + 3] === 1 ? (this.text as string) : (this.keys[i] as string), meta[j + 1], s, a, b)) return c;
    }
  }

  /** Adds a chain at the slot {@link probe} gave (`-1 - slot`), nothing added since; see {@link add}. */
  putAt(at: number, h: number, chain: Chain, key: string = chain.name, pos = 0): void {
    this.set(-1 - at, h, chain, key, pos);
  }

  /** The chain named `name`. */
  get(name: string): Chain | undefined {
    return this.find(hashText(name, 0, name.length), name, 0, name.length);
  }

  /**
   * Adds a chain that is not in the index yet: `h` is the hash of its name, which is spelled at
   * `key[pos, pos + name.length)` (by default the name itself).
   */
  add(h: number, chain: Chain, key: string = chain.name, pos = 0): void {
    if (2 * (this.size + 1) > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    let i = (mixHash(h) - 1) & mask;
    do i = (i + 1) & mask; // as in find
    while (this.slots[i] !== undefined);
    this.set(i, h, chain, key, pos);
  }

  /** Four times the room (a kube-proxy table has 100 000 chains: fewer rounds of moving them). */
  private grow(): void {
    const { slots, meta, keys } = this;
    const n = slots.length * 4;
    this.slots = new Array<Chain | undefined>(n).fill(undefined);
    this.meta = new Int32Array(4 * n);
    this.keys = new Array<string | undefined>(n).fill(undefined);
    this.size = 0;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c !== undefined) this.add(meta[4 * i], c, meta[4 * i + 3] === 1 ? (this.text as string) : (keys[i] as string), meta[4 * i + 1]);
    }
  }

  private set(i: number, h: number, chain: Chain, key: string, pos: number): void {
    if (this.text === undefined && key !== chain.name) this.text = key;
    const j = 4 * i;
    const inText = key === this.text;
    this.slots[i] = chain;
    this.meta[j] = h;
    this.meta[j + 1] = pos;
    this.meta[j + 2] = chain.name.length;
    this.meta[j + 3] = inText ? 1 : 0;
    // A slot is written once (chains are never removed), its key undefined until then: a name in
    // `text` needs no write (one cache miss less per declaration in a table of 100 000).
    if (!inText) this.keys[i] = key;
    this.size++;
  }
}

/**
 * Rule parts shared between the rules of one parse, keyed by their exact source text: the top
 * options before the first `-m`/`-j`/`-g`, each `-m …` match and `-j …`/`-g …` target (per
 * family: a few save forms depend on it), and the `matches` arrays made of shared matches.
 * Only parts read without any problem and independently of their neighbours are stored, so a
 * part found here is exactly what reading its text again would give. kube-proxy dumps repeat
 * `-m tcp --dport 80`, `-j KUBE-MARK-MASQ`, statistic probabilities, comments, … thousands of
 * times; sharing them is what keeps a 320 000-rule model small. The model is never mutated
 * after parsing (the simulator, model builder and language features only read it).
 */
export class SpecCache {
  /** Top options, per family of the ruleset when the rule was started (an IPv4 address is an error in IPv6). */
  readonly top4 = new TextIntern<TopParts>();
  readonly top6 = new TextIntern<TopParts>();
  readonly ext4 = new TextIntern<Ext>();
  readonly ext6 = new TextIntern<Ext>();
  /**
   * Whole rules (the text after `-A CHAIN`) read by {@link readRuleFast}, per family: the nodes
   * of a swarm, and the tables of one node, repeat most of their rules word for word.
   */
  readonly rule4 = new TextIntern<WholeRule>(WHOLE_YOUNG_BITS, true);
  readonly rule6 = new TextIntern<WholeRule>(WHOLE_YOUNG_BITS, true);
  /**
   * Whole rules pay only where rules repeat (a swarm's nodes); a kube-proxy dump has 300 000
   * distinct ones. So they are looked up in rounds of {@link WHOLE_ROUND} rules, and after two
   * rounds in a row where fewer than 1 in 16 was found, the next {@link WHOLE_PAUSE} rules are
   * not looked up or remembered at all (each is read part by part, which gives the same spec).
   * Each pause in one dump is twice as long as the one before; a new dump starts afresh
   * ({@link newDump}: the next node of a swarm repeats the first).
   */
  wholeTries = 0;
  wholeHits = 0;
  wholePause = 0;
  wholeNextPause = WHOLE_PAUSE;
  /** Rounds in a row where fewer than 1 in 16 was found (the first dump of a capture is one). */
  wholeMisses = 0;
  /** Rule shapes learnt (ruleShape.ts): rules of a known shape are checked at load and read later. */
  readonly shapes = new ShapeSet();

  /** A new dump starts: whole rules are looked up again at once. */
  newDump(): void {
    this.wholeTries = this.wholeHits = this.wholePause = this.wholeMisses = 0;
    this.wholeNextPause = WHOLE_PAUSE;
  }
}

const WHOLE_ROUND = 4096;
const WHOLE_PAUSE = 16 * WHOLE_ROUND;

/** Whether whole rules are looked up and remembered for the rule being read (counts the round). */
function wholeActive(cache: SpecCache): boolean {
  if (cache.wholePause > 0) {
    cache.wholePause--;
    return false;
  }
  if (++cache.wholeTries === WHOLE_ROUND) {
    // One poor round is what the first node of a swarm gives (its rules are met for the first
    // time); two in a row is a dump whose rules do not repeat.
    if (cache.wholeHits * 16 >= WHOLE_ROUND) cache.wholeMisses = 0;
    else if (++cache.wholeMisses >= (cache.wholeNextPause > WHOLE_PAUSE ? 1 : 2)) {
      // After a pause in this dump, one poor round is enough to pause again.
      cache.wholePause = cache.wholeNextPause;
      cache.wholeNextPause *= 2;
      cache.wholeMisses = 0;
    }
    cache.wholeTries = cache.wholeHits = 0;
  }
  return true;
}

/**
 * A rule text read without any problem by {@link readRuleFast}: its spec (shared by every rule
 * spelled the same; never mutated: a rule that needs a different one gets its own copy), what
 * its top options did to the family, and where its target's name is, from the text's start.
 */
export interface WholeRule {
  /** The spec; undefined when it is read on first use (`pending`: the first rule spelled so). */
  spec: RuleSpec | undefined;
  pending: LazyRule | undefined;
  family6: boolean;
  saw6: boolean;
  chainTarget: boolean;
  targetStart: number;
  targetEnd: number;
}

/**
 * Remembers the rule text `s[from, to)` (after `-A CHAIN`, without trailing blanks), read by the
 * fast path or the full reader without any problem, so that {@link readRuleFast} takes its spec
 * when the same text comes again (`hash`: its {@link hashText}, when the caller has it). `before` is the family before the rule was read; `env` holds the one after.
 */
export function rememberRule(
  cache: SpecCache,
  before: { family6: boolean; saw6: boolean },
  env: RuleEnv,
  s: string,
  from: number,
  to: number,
  spec: RuleSpec | undefined,
  chainTarget: boolean,
  targetStart: number,
  targetEnd: number,
  hash = hashText(s, from, to),
  pending?: LazyRule,
): void {
  if (cache.wholePause > 0) return;
  const into = before.family6 ? cache.rule6 : cache.rule4;
  into.add(hash, s, from, to, {
    spec: pending === undefined ? spec : undefined,
    pending,
    family6: !before.family6 && env.family === 'ipv6',
    saw6: !before.saw6 && env.sawIPv6,
    chainTarget,
    targetStart: targetStart - from,
    targetEnd: targetEnd - from,
  });
}

/**
 * The chain a jump target spelled `s[ts, te)` names in `chains` (undefined when none is declared
 * yet), remembered on `memo` when there is one: a shared part, whole rule or shape, whose target
 * text names the same chain everywhere in one table. `h`: the target's {@link hashText} when the
 * caller has it.
 */
function jumpedTo(memo: { chain: Chain | undefined; chainIndex: ChainIndex | undefined } | undefined, chains: ChainIndex, s: string, ts: number, te: number, h?: number): Chain | undefined {
  if (memo !== undefined && memo.chainIndex === chains) return memo.chain;
  const found = chains.find(h ?? hashText(s, ts, te), s, ts, te);
  if (found !== undefined && memo !== undefined) {
    memo.chain = found;
    memo.chainIndex = chains;
  }
  return found;
}

/** The `matches` of rules without matches (shared; never mutated). */
const NO_MATCHES: XtMatch[] = [];
/** The `options` of jumps to chains and `values` of flags made by the fast path (shared). */
const NO_OPTIONS: XtOption[] = [];
const NO_VALUES: string[] = [];

/**
 * A `matches` array for the `n` matches in `list`; when they are all kept shared ones (`kept`
 * holds their entries), the array itself is shared if it is short.
 */
function sharedMatches(list: readonly XtMatch[], kept: readonly (Kept<Ext> | undefined)[], n: number, repeated: boolean): XtMatch[] {
  if (n === 0) return NO_MATCHES;
  const m0 = list[0];
  if (n === 1) {
    if (!repeated) return [m0];
    const k = kept[0] as Kept<Ext>;
    return k.one ?? (k.one = [m0]);
  }
  if (n === 2) {
    const m1 = list[1];
    if (!repeated) return [m0, m1];
    const k = kept[0] as Kept<Ext>;
    let a = k.two;
    if (a === undefined || a[1] !== m1) k.two = a = [m0, m1];
    return a;
  }
  return list.slice(0, n);
}

/** A RuleSpec with only the parts present, always in one key order (few hidden classes, no spill). */
function makeSpec(
  matches: XtMatch[],
  src: AddrMatch | undefined,
  dst: AddrMatch | undefined,
  iif: IfaceMatch | undefined,
  oif: IfaceMatch | undefined,
  proto: RuleSpec['proto'],
  fragment: RuleSpec['fragment'],
  target: XtTarget | undefined,
): RuleSpec {
  const shape = (src ? 1 : 0) | (dst ? 2 : 0) | (iif ? 4 : 0) | (oif ? 8 : 0) | (proto ? 16 : 0) | (fragment ? 32 : 0) | (target ? 64 : 0);
  // The shapes of real dumps as literals; anything else is built up below.
  switch (shape) {
    case 64:
      return { matches, target };
    case 64 | 16:
      return { matches, proto, target };
    case 64 | 1:
      return { matches, src, target };
    case 64 | 2:
      return { matches, dst, target };
    case 64 | 2 | 16:
      return { matches, dst, proto, target };
    case 64 | 1 | 2 | 16:
      return { matches, src, dst, proto, target };
    case 64 | 1 | 16:
      return { matches, src, proto, target };
    case 64 | 1 | 2:
      return { matches, src, dst, target };
    case 64 | 4:
      return { matches, iif, target };
    case 64 | 8:
      return { matches, oif, target };
    case 64 | 4 | 8:
      return { matches, iif, oif, target };
    case 64 | 4 | 16:
      return { matches, iif, proto, target };
    case 64 | 2 | 4 | 16:
      return { matches, dst, iif, proto, target };
    case 0:
      return { matches };
  }
  const s: RuleSpec = { matches };
  if (src) s.src = src;
  if (dst) s.dst = dst;
  if (iif) s.iif = iif;
  if (oif) s.oif = oif;
  if (proto) s.proto = proto;
  if (fragment) s.fragment = fragment;
  if (target) s.target = target;
  return s;
}

// Per-rule scratch state, reused (no per-rule closures or arrays of closures).
const EMPTY: string[] = [];
const EMPTY_EXT: Ext = { name: '', options: [], known: false, raw: '' };
const scratchExts: Ext[] = [];
const scratchDefs: (ExtDef | undefined)[] = [];
const scratchRawStart: number[] = [];
const scratchRawEnd: number[] = [];
/** Per ext: something other than its own options was read while it took options (not shareable). */
const scratchMixed: boolean[] = [];
const scratchMatches: XtMatch[] = [];
const scratchKept: (Kept<Ext> | undefined)[] = [];
/** Per ext: its kept shared entry, when it was found in the cache. */
const keptOf: (Kept<Ext> | undefined)[] = [];
/** Bits set by `topOption`: 1 = an IPv6 address was read, 2 = the family became IPv6. */
let topFlags = 0;

function err(env: RuleEnv, tok: RuleTokens, k: number, msg: string): null {
  const s = k < tok.n ? tok.starts[k] : tok.n > 0 ? tok.ends[tok.n - 1] : 0;
  const e = k < tok.n ? tok.ends[k] : s + 1;
  env.sink.error('bad-option', env.line, msg, s + 1, Math.max(e, s + 1) + 1);
  return null;
}

function isValueToken(tok: RuleTokens, k: number): boolean {
  if (k >= tok.n) return false;
  if (tok.quoted[k]) return true;
  const t = tok.texts[k];
  return t.charCodeAt(0) !== 45 && t !== '!';
}

/** Whether token k is a bare `!`. */
function isBang(tok: RuleTokens, k: number): boolean {
  return !tok.quoted[k] && tok.texts[k] === '!';
}

/**
 * Builds a RuleSpec from tokens `first..n` (everything after `-A CHAIN`). Reports problems to
 * `env.sink`; returns null when the rule cannot be read (an `error` problem was added).
 * Matches and targets meshtrace does not know are kept with `known: false` and a warning.
 * With `env.cache`, parts read cleanly are shared with equal parts of earlier rules.
 */
export function buildRuleSpec(line: string, tok: RuleTokens, first: number, env: RuleEnv): BuiltRule | null {
  const spec: RuleSpec = { matches: NO_MATCHES }; // scratch for the top options; the result is made at the end
  const startV6 = env.family === 'ipv6'; // the top options' cache is per family (see SpecCache)
  const exts = scratchExts;
  const defs = scratchDefs;
  const rawStart = scratchRawStart;
  const rawEnd = scratchRawEnd;
  const mixed = scratchMixed;
  let ne = 0; // number of entries used in the scratch arrays
  let cur = -1; // index in exts receiving options
  let targetIdx = -1;
  let implicitIdx = -1; // an implicit protocol match (`-p tcp --dport 80`): never shared
  let targetStart = 0;
  let targetEnd = 0;
  let chainTarget = false;
  let counters: Counters | undefined;
  let invert = false;
  let invertAt = -1;
  const n = tok.n;
  const texts = tok.texts;
  // The top options before the first -m/-j/-g: shareable when only they are there, without problems.
  const problems0 = env.sink.problems.length;
  let topClean = true;
  let topEnd = -1;
  let topSnap: TopParts | undefined;
  topFlags = 0;
  let k = first;
  while (k < n) {
    const t = texts[k];
    if (!tok.quoted[k] && t === '!') {
      if (invert) return err(env, tok, k, 'two `!` in a row');
      invert = true;
      invertAt = k;
      k++;
      continue;
    }
    if (tok.quoted[k] || t.charCodeAt(0) !== 45 || t.length < 2) {
      return err(env, tok, k, `unexpected \`${clip(t)}\`: expected an option such as -p, -m or -j`);
    }
    if (t.charCodeAt(1) === 45) {
      const top = TOP_LONG.get(t);
      if (top !== undefined) {
        if (cur >= 0) mixed[cur] = true;
        k = topOption(top, tok, k, env, spec, invert);
        if (k < 0) return null;
      } else {
        // An extension option: route it to the match or target that offers it.
        let owner = -1;
        let od: OptDef | undefined;
        if (cur >= 0 && defs[cur]) {
          od = lookupOpt(defs[cur] as ExtDef, t);
          if (od) owner = cur;
        }
        if (owner < 0) {
          for (let m = ne - 1; m >= 0; m--) {
            const d = defs[m];
            if (m === cur || !d) continue;
            const o = d.dashIndex.get(t);
            if (o !== undefined) {
              owner = m;
              od = d.opts[o];
              break;
            }
          }
        }
        if (owner < 0 && spec.proto && !spec.proto.invert) {
          const pm = PROTO_MATCH[spec.proto.name];
          const d = pm ? MATCH_BY_NAME.get(pm) : undefined;
          const o = d ? d.dashIndex.get(t) : undefined;
          if (d && o !== undefined) {
            // libxtables loads the protocol's match for its options (-p tcp --dport 80).
            const m: XtMatch = { name: d.name, options: [], known: true, raw: '' };
            if (ne === 0) topClean = false;
            exts[ne] = m;
            defs[ne] = d;
            rawStart[ne] = tok.starts[k];
            rawEnd[ne] = tok.ends[k];
            mixed[ne] = true;
            implicitIdx = ne;
            owner = ne++;
            od = d.opts[o];
          }
        }
        if (owner < 0) {
          if (cur < 0) return err(env, tok, k, `option \`${clip(t)}\` belongs to no match: no \`-m\` or \`-p\` before it offers it`);
          owner = cur;
          if (defs[cur]) {
            const x = exts[cur];
            env.sink.warn('unknown-option', env.line, `\`${clip(t)}\` is not an option meshtrace knows for \`${x.name}\`; the ${targetIdx === cur ? 'target' : 'match'} is kept unread`, tok.starts[k] + 1, tok.ends[k] + 1);
            x.known = false;
            defs[cur] = undefined;
          }
        }
        if (owner !== cur) {
          mixed[owner] = true;
          if (cur >= 0) mixed[cur] = true;
        }
        const o: XtOption = { name: od ? od.name : t.slice(2), values: EMPTY, invert };
        k++;
        // The pre-1.4.3 form puts `!` after the option (`--dst-type ! LOCAL`).
        if (k + 1 < n && !tok.quoted[k] && texts[k] === '!' && (od ? od.args > 0 : isValueToken(tok, k + 1))) {
          o.invert = true;
          k++;
        }
        if (od) {
          if (k + od.args > n) return err(env, tok, k - 1, `\`${clip(t)}\` needs ${od.args === 1 ? 'an argument' : `${od.args} arguments`}`);
          if (od.args === 1) o.values = [texts[k++]];
          else if (od.args > 0) {
            o.values = [];
            for (let a = 0; a < od.args; a++) o.values.push(texts[k++]);
          } else o.values = [];
        } else {
          o.values = [];
          while (isValueToken(tok, k)) o.values.push(texts[k++]);
        }
        exts[owner].options.push(o);
        if (owner === cur) rawEnd[cur] = tok.ends[k - 1];
      }
      invert = false;
      continue;
    }
    // Short options.
    if (t.length !== 2) return err(env, tok, k, `unknown option \`${clip(t)}\``);
    const c = t.charCodeAt(1);
    if (c === 109 /* m */ || c === 106 /* j */ || c === 103 /* g */) {
      if (ne === 0 && topEnd < 0) {
        topEnd = k;
        if (topClean && k > first && env.cache && env.sink.problems.length === problems0) topSnap = topParts(spec);
      }
    }
    if (c === 109 /* m */) {
      if (invert) return err(env, tok, invertAt, '`!` cannot negate `-m`; put it before the match option');
      if (k + 1 >= n) return err(env, tok, k, '`-m` needs a match name');
      const given = texts[k + 1];
      const d = MATCH_BY_NAME.get(given);
      const name = d ? d.name : given;
      const m: XtMatch = { name, options: [], known: d !== undefined, raw: '' };
      if (!d) env.sink.warn('unknown-match', env.line, `match \`${clip(name)}\` is not one meshtrace understands; it is kept verbatim and the rule is treated as not matching it`, tok.starts[k + 1] + 1, tok.ends[k + 1] + 1);
      exts[ne] = m;
      defs[ne] = d;
      rawStart[ne] = tok.starts[k];
      rawEnd[ne] = tok.ends[k + 1];
      mixed[ne] = false;
      cur = ne++;
      k += 2;
      continue;
    }
    if (c === 106 /* j */ || c === 103 /* g */) {
      if (invert) return err(env, tok, invertAt, '`!` cannot negate a target');
      if (targetIdx >= 0) return err(env, tok, k, 'a rule has only one target (`-j`/`-g`)');
      if (k + 1 >= n) return err(env, tok, k, `\`${t}\` needs a target name`);
      const given = texts[k + 1];
      const isGoto = c === 103;
      const d = isGoto ? undefined : TARGET_BY_NAME.get(given);
      const name = d ? d.name : given;
      const chain = isGoto || (!d && !OTHER_TARGETS.has(name));
      const x: XtTarget = { name, options: [], goto: isGoto, known: d !== undefined || chain, raw: '' };
      if (!d && !chain) {
        env.sink.warn('unknown-target', env.line, `target \`${clip(name)}\` is not one meshtrace understands; it is kept verbatim`, tok.starts[k + 1] + 1, tok.ends[k + 1] + 1);
      }
      spec.target = x;
      exts[ne] = x;
      defs[ne] = d;
      rawStart[ne] = tok.starts[k];
      rawEnd[ne] = tok.ends[k + 1];
      mixed[ne] = false;
      targetIdx = cur = ne++;
      targetStart = tok.starts[k + 1];
      targetEnd = tok.ends[k + 1];
      chainTarget = chain;
      k += 2;
      continue;
    }
    if (cur >= 0) mixed[cur] = true;
    if (c === 99 /* c */) {
      if (ne === 0) topClean = false;
      if (k + 2 >= n || !isDigits(texts[k + 1]) || !isDigits(texts[k + 2])) return err(env, tok, k, '`-c` needs two counters: `-c PACKETS BYTES`');
      counters = { packets: Number(texts[k + 1]), bytes: Number(texts[k + 2]) };
      k += 3;
      invert = false;
      continue;
    }
    const top = TOP_SHORT[c];
    if (top === undefined) return err(env, tok, k, `unknown option \`${clip(t)}\``);
    k = topOption(top, tok, k, env, spec, invert);
    if (k < 0) return null;
    invert = false;
  }
  if (invert) return err(env, tok, invertAt, '`!` at the end of the rule negates nothing');
  if (topEnd < 0 && topClean && n > first && env.cache && env.sink.problems.length === problems0) {
    topEnd = n;
    topSnap = topParts(spec);
  }
  // Chains take no options: `-j FOO --bar` is an unknown target extension.
  if (targetIdx >= 0 && chainTarget && exts[targetIdx].options.length > 0) {
    const x = exts[targetIdx] as XtTarget;
    if (x.goto) return err(env, tok, k - 1, `\`-g ${clip(x.name)}\` takes no options`);
    chainTarget = false;
    x.known = false;
    env.sink.warn('unknown-target', env.line, `target \`${clip(x.name)}\` has options, so it is an extension meshtrace does not understand; it is kept verbatim`, targetStart + 1, targetEnd + 1);
  }
  const cache = env.cache;
  const shared = env.family === 'ipv6' ? cache?.ext6 : cache?.ext4;
  let repeated = shared !== undefined;
  for (let m = 0; m < ne; m++) {
    let x = exts[m];
    x.raw = line.slice(rawStart[m], rawEnd[m]);
    const d = defs[m];
    if (d && x.known) {
      const msg = canonicalizeExt(x, d, env.family);
      if (msg) {
        x.known = false;
        env.sink.warn('bad-value', env.line, `${msg}; \`${x.name}\` is kept unread`, rawStart[m] + 1, rawEnd[m] + 1);
      }
    }
    // Arrays grown by push keep spare capacity (17 slots after the first push); the model is
    // kept for long and can be huge, so store exact-size copies.
    x.options = x.options.length === 0 ? (m === targetIdx && chainTarget ? NO_OPTIONS : []) : x.options.slice();
    // Shared when it was read on its own, from its own text alone: a known extension whose
    // options all came in its own span, nothing else in between, not ending in a `!` (whose
    // meaning depends on what follows). Its text then always reads the same way.
    if (shared !== undefined && x.known && !mixed[m] && m !== implicitIdx && !isBang(tok, lastTokenBefore(tok, rawEnd[m]))) {
      // Keys are kept as ranges of the input when it is known (compared in place, later).
      const ks = env.text ?? line;
      const ka = env.text !== undefined ? (env.lineStart ?? 0) + rawStart[m] : rawStart[m];
      const kb = ka + (rawEnd[m] - rawStart[m]);
      const kh = kb - ka > MAX_PART ? 0 : hashText(ks, ka, kb);
      const hit = shared.find(kh, ks, ka, kb);
      if (hit === undefined) {
        shared.add(kh, ks, ka, kb, x);
        if (m !== targetIdx) repeated = false;
      } else {
        exts[m] = x = hit.value;
        keptOf[m] = hit;
      }
    } else if (m !== targetIdx) repeated = false;
  }
  let nm = 0;
  const ms = scratchMatches;
  const mk = scratchKept;
  for (let m = 0; m < ne; m++) {
    if (m === targetIdx) continue;
    mk[nm] = keptOf[m];
    ms[nm++] = exts[m] as XtMatch;
  }
  const matches = cache ? sharedMatches(ms, mk, nm, repeated) : nm === 0 ? [] : ms.slice(0, nm);
  let src = spec.src;
  let dst = spec.dst;
  let iif = spec.iif;
  let oif = spec.oif;
  let proto = spec.proto;
  let fragment = spec.fragment;
  if (topSnap !== undefined && cache) {
    const ks = env.text ?? line;
    const ka = (env.text !== undefined ? (env.lineStart ?? 0) : 0) + tok.starts[first];
    const kb = ka + (tok.ends[topEnd - 1] - tok.starts[first]);
    const kh = kb - ka > MAX_PART ? 0 : hashText(ks, ka, kb);
    const tops = startV6 ? cache.top6 : cache.top4;
    const had = tops.find(kh, ks, ka, kb)?.value;
    if (had === undefined) tops.add(kh, ks, ka, kb, topSnap);
    else if (src === topSnap.src && dst === topSnap.dst && iif === topSnap.iif && oif === topSnap.oif && proto === topSnap.proto && fragment === topSnap.fragment) {
      // No later top option replaced them: take the shared ones.
      src = had.src;
      dst = had.dst;
      iif = had.iif;
      oif = had.oif;
      proto = had.proto;
      fragment = had.fragment;
    }
  }
  const out = makeSpec(matches, src, dst, iif, oif, proto, fragment, targetIdx >= 0 ? (exts[targetIdx] as XtTarget) : undefined);
  for (let m = 0; m < ne; m++) {
    exts[m] = EMPTY_EXT;
    defs[m] = undefined;
    keptOf[m] = undefined;
  }
  for (let m = 0; m < nm; m++) {
    ms[m] = EMPTY_EXT as XtMatch;
    mk[m] = undefined;
  }
  return { spec: out, counters, targetStart, targetEnd, chainTarget };
}

/** Index of the token that ends at `end` (the last token of an extension's span). */
function lastTokenBefore(tok: RuleTokens, end: number): number {
  let k = tok.n - 1;
  while (k > 0 && tok.ends[k] > end) k--;
  return k;
}

/** A snapshot of the top options read so far, with the family they imply. */
function topParts(spec: RuleSpec): TopParts {
  return {
    src: spec.src,
    dst: spec.dst,
    iif: spec.iif,
    oif: spec.oif,
    proto: spec.proto,
    fragment: spec.fragment,
    family6: (topFlags & 2) !== 0,
    saw6: (topFlags & 1) !== 0,
  };
}

const enum Top {
  Src,
  Dst,
  In,
  Out,
  Proto,
  Frag,
}

const TOP_SHORT: Readonly<Record<number, Top>> = {
  115: Top.Src, 100: Top.Dst, 105: Top.In, 111: Top.Out, 112: Top.Proto, 102: Top.Frag,
};
const TOP_LONG: ReadonlyMap<string, Top> = new Map([
  ['--source', Top.Src], ['--src', Top.Src], ['--destination', Top.Dst], ['--dst', Top.Dst],
  ['--in-interface', Top.In], ['--out-interface', Top.Out], ['--protocol', Top.Proto], ['--fragment', Top.Frag],
]);

/** Reads one of -s -d -i -o -p -f at token k; returns the next index or -1 after an error. */
function topOption(top: Top, tok: RuleTokens, k: number, env: RuleEnv, spec: RuleSpec, invertIn: boolean): number {
  const n = tok.n;
  const name = tok.texts[k];
  let invert = invertIn;
  if (top === Top.Frag) {
    spec.fragment = { invert };
    return k + 1;
  }
  let v = k + 1;
  if (v + 1 < n && !tok.quoted[v] && tok.texts[v] === '!') {
    invert = true; // the old `-s ! ADDR` form
    v++;
  }
  if (v >= n) {
    err(env, tok, k, `\`${name}\` needs an argument`);
    return -1;
  }
  const text = tok.texts[v];
  switch (top) {
    case Top.Src:
    case Top.Dst: {
      if (text.indexOf(',') >= 0) {
        err(env, tok, v, `\`${clip(text)}\`: a list of addresses makes several rules, which a dump never shows`);
        return -1;
      }
      const p = parseAddress(text, invert);
      if (p.error) {
        env.sink.error('bad-address', env.line, p.error, tok.starts[v] + 1, tok.ends[v] + 1);
        return -1;
      }
      // ip6tables-restore reads `-s`/`-d` as IPv6 only (xtables_ip6parse_any: a dotted quad is
      // neither an IPv6 address nor, for getaddrinfo with AF_INET6, a host name): it refuses the rule.
      if (env.family === 'ipv6' && p.family !== 'ipv6' && p.name === undefined) {
        env.sink.error('bad-address', env.line, `\`${clip(text)}\` is an IPv4 address in an IPv6 ruleset; ip6tables-restore refuses it`, tok.starts[v] + 1, tok.ends[v] + 1);
        return -1;
      }
      if (p.family === 'ipv6') {
        env.sawIPv6 = true;
        env.family = 'ipv6';
        topFlags |= 3;
      }
      if (p.name) env.sink.warn('host-name', env.line, `\`${clip(text)}\` is a name, not an address; meshtrace cannot resolve it`, tok.starts[v] + 1, tok.ends[v] + 1);
      if (top === Top.Src) spec.src = p.addr;
      else spec.dst = p.addr;
      break;
    }
    case Top.In:
    case Top.Out: {
      const f = parseIface(text, invert);
      if (top === Top.In) spec.iif = f;
      else spec.oif = f;
      break;
    }
    case Top.Proto: {
      const p = canonProto(text);
      if (p !== undefined || invert) spec.proto = { name: p ?? 'all', invert };
      else spec.proto = undefined;
      // `-p ipv6-icmp` (protocol 58) is legal in an IPv4 ruleset too: the family comes from the
      // dump (ip6tables-save, an IPv6 address), never from the protocol alone.
      if (p === 'ipv6-icmp' && env.family === 'ipv6') topFlags |= 2;
      break;
    }
  }
  return v + 1;
}

// ---------------------------------------------------------------------------------------------
// Fast path: a rule line whose parts are shared or plain
// ---------------------------------------------------------------------------------------------

// Token spans of the line being read (positions in the whole text), with their kind.
const K_PLAIN = 0; // unquoted
const K_QUOTED = 1; // `"…"` without escapes: the text is what is between the quotes
const K_OTHER = 2; // other quoting (escapes, text before the quote): left to the full reader
const K_BOUNDARY = 3; // `-m`, `-j` or `-g`: starts a match or the target
const K_BANG = 4; // `!`
const spanStart: number[] = [];
const spanEnd: number[] = [];
const spanKind: number[] = [];
/** {@link hashText} of the line from the scan's start up to each span's start and end. */
const spanHashStart: number[] = [];
const spanHashEnd: number[] = [];
const fastMatches: XtMatch[] = [];
const fastKept: (Kept<Ext> | undefined)[] = [];
const fastOptions: XtOption[] = [];

/** The most tokens a rule read by the fast path may have. */
const MAX_FAST_TOKENS = 1024;

/**
 * What {@link readRuleFast} found out about the rule's target: whether it is a user chain, the
 * chain when it is declared already, and where its name is in the text.
 */
export const fastTarget: {
  chain: boolean;
  found: Chain | undefined;
  start: number;
  end: number;
  /** For a shaped rule: whether whole rules are looked up (then it is remembered), its text's hash and end. */
  whole: boolean;
  lineHash: number;
  lineEnd: number;
} = { chain: false, found: undefined, start: 0, end: 0, whole: false, lineHash: 0, lineEnd: 0 };

/** How {@link readRuleFast} reads a rule. */
export const enum FastMode {
  /** Reading a pending spec: no whole rules, no shapes (the rule is read for good). */
  Force,
  /** At load, every spec read now. */
  Eager,
  /** At load, a rule of a known shape is checked and its spec left for later ({@link SHAPED}). */
  Lazy,
}

/**
 * What {@link readRuleFast} answers for a rule of a known shape (FastMode.Lazy): nothing to
 * report, spec to be read on first use. {@link fastTarget} says where its target is.
 */
export const SHAPED: RuleSpec = Object.freeze({ matches: [] as XtMatch[] }) as RuleSpec;

/**
 * Splits `s[from, to)` into token spans exactly as {@link tokenizeRule} splits it, without
 * making strings, and takes prefix hashes on the way; returns the count, or -1 for an
 * unterminated quote.
 */
function scanSpans(s: string, from: number, to: number): number {
  let n = 0;
  let i = from;
  let h = 0;
  while (i < to) {
    if (n === MAX_FAST_TOKENS) return -1; // absurd rules go to the full reader (scratch stays small)
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      h = (Math.imul(h, 31) + c) | 0;
      i++;
      continue;
    }
    const start = i;
    const h0 = h;
    let j = i;
    while (j < to) {
      c = s.charCodeAt(j);
      if (c === 32 || c === 9 || c === 34) break;
      h = (Math.imul(h, 31) + c) | 0;
      j++;
    }
    let kind = K_PLAIN;
    if (j < to && c === 34) {
      kind = j === start ? K_QUOTED : K_OTHER;
      let open = true;
      h = (Math.imul(h, 31) + c) | 0;
      j++;
      while (j < to) {
        c = s.charCodeAt(j);
        h = (Math.imul(h, 31) + c) | 0;
        if (c === 92 && j + 1 < to) {
          kind = K_OTHER;
          h = (Math.imul(h, 31) + s.charCodeAt(j + 1)) | 0;
          j += 2;
        } else if (c === 34) {
          open = false;
          j++;
          break;
        } else j++;
      }
      if (open) return -1;
    } else if (j - start === 2 && s.charCodeAt(start) === 45) {
      const c1 = s.charCodeAt(start + 1);
      if (c1 === 109 || c1 === 106 || c1 === 103) kind = K_BOUNDARY;
    } else if (j - start === 1 && s.charCodeAt(start) === 33) kind = K_BANG;
    spanStart[n] = start;
    spanEnd[n] = j;
    spanKind[n] = kind;
    spanHashStart[n] = h0;
    spanHashEnd[n++] = h;
    i = j;
  }
  return n;
}

/** {@link hashText} of spans [b, e) (from the start of b to the end of e - 1), or 0 when too long. */
function spansHash(b: number, e: number): number {
  const len = spanEnd[e - 1] - spanStart[b];
  return len > MAX_PART ? 0 : (spanHashEnd[e - 1] - Math.imul(spanHashStart[b], pow31(len))) | 0;
}

/** The unquoted text of span k, or undefined when the full reader must decide. */
function spanValue(s: string, k: number): string | undefined {
  const kind = spanKind[k];
  if (kind === K_PLAIN) return s.slice(spanStart[k], spanEnd[k]);
  if (kind === K_QUOTED) return s.slice(spanStart[k] + 1, spanEnd[k] - 1);
  return undefined;
}

/**
 * Options `--name value…` of spans [k, e) for an extension whose save form is its input (no
 * `canon`): exact option names in save order, no `!`. Undefined when the full reader must decide.
 */
function plainOptions(s: string, k: number, e: number, d: ExtDef): XtOption[] | undefined {
  let no = 0;
  let last = -1;
  while (k < e) {
    if (spanKind[k] !== K_PLAIN) return undefined;
    const st = spanStart[k];
    if (s.charCodeAt(st) !== 45 || s.charCodeAt(st + 1) !== 45) return undefined;
    const oi = d.dashIndex.get(s.slice(st, spanEnd[k]));
    if (oi === undefined || oi < last) return undefined;
    last = oi;
    const od = d.opts[oi];
    k++;
    if (k + od.args > e) return undefined;
    let values: string[];
    if (od.args === 0) values = NO_VALUES;
    else if (od.args === 1) {
      const v = spanValue(s, k++);
      if (v === undefined) return undefined;
      values = [v];
    } else {
      values = [];
      for (let a = 0; a < od.args; a++) {
        const v = spanValue(s, k++);
        if (v === undefined) return undefined;
        values.push(v);
      }
      values = values.slice();
    }
    fastOptions[no++] = { name: od.name, values, invert: false };
  }
  const out = no === 0 ? NO_OPTIONS : fastOptions.slice(0, no);
  for (let i = 0; i < no; i++) fastOptions[i] = EMPTY_OPTION;
  return out;
}
const EMPTY_OPTION: XtOption = { name: '', values: NO_VALUES, invert: false };

/** `-m NAME --opt v …` of spans [b, e) read directly, or undefined. */
function plainMatch(s: string, b: number, e: number, raw: string): XtMatch | undefined {
  if (spanKind[b + 1] !== K_PLAIN) return undefined;
  const d = MATCH_BY_NAME.get(s.slice(spanStart[b + 1], spanEnd[b + 1]));
  if (d === undefined || d.canon !== undefined) return undefined;
  const options = plainOptions(s, b + 2, e, d);
  return options === undefined ? undefined : { name: d.name, options, known: true, raw };
}

/** `-j NAME …` / `-g CHAIN` of spans [b, e) read directly, or undefined. */
function plainTarget(s: string, b: number, e: number, raw: string, isGoto: boolean): XtTarget | undefined {
  if (spanKind[b + 1] !== K_PLAIN) return undefined;
  const given = s.slice(spanStart[b + 1], spanEnd[b + 1]);
  const d = isGoto ? undefined : TARGET_BY_NAME.get(given);
  if (d === undefined) {
    // A user chain: takes no options (anything else gets a problem from the full reader).
    if (e !== b + 2 || (!isGoto && OTHER_TARGETS.has(given))) return undefined;
    return { name: given, options: NO_OPTIONS, goto: isGoto, known: true, raw };
  }
  if (d.canon !== undefined) return undefined;
  const options = plainOptions(s, b + 2, e, d);
  return options === undefined ? undefined : { name: d.name, options, goto: false, known: true, raw };
}

/**
 * Reads the rule text `s[from, to)` after `-A CHAIN` when every part of it is either shared in
 * `cache` (read before without any problem) or plain enough to be read here without one; the
 * result is then exactly what {@link buildRuleSpec} would give. Returns undefined otherwise
 * (nothing is reported: the caller reads the line with {@link buildRuleSpec}). Sets
 * {@link fastTarget}, and finds a jumped-to chain in `chains`. No token string is made: one
 * scan of the line, one hash lookup per part, new strings only for parts met the first time.
 */
export function readRuleFast(
  s: string,
  from: number,
  to: number,
  cache: SpecCache,
  chains: ChainIndex,
  env: RuleEnv,
  mode: FastMode = FastMode.Eager,
): RuleSpec | LazyRule | undefined {
  if (mode === FastMode.Lazy) {
    // A rule of a shape read before: checked here, read when first asked for (ruleShape.ts).
    let lineEnd = to;
    while (lineEnd > from && (s.charCodeAt(lineEnd - 1) === 32 || s.charCodeAt(lineEnd - 1) === 9)) lineEnd--;
    const sh = cache.shapes.match(s, from, lineEnd, env.family === 'ipv6');
    if (sh !== undefined) {
      fastTarget.chain = sh.chainTarget;
      if (sh.chainTarget) {
        const ts = shapeHit.targetStart;
        const te = shapeHit.targetEnd;
        fastTarget.start = ts;
        fastTarget.end = te;
        // A chain slot names a different chain each time; a literal one, the same in one table.
        fastTarget.found = sh.chainSlot >= 0 ? chains.find(shapeHit.chainHash, s, ts, te) : jumpedTo(sh, chains, s, ts, te);
      }
      // Spelled like a rule met before (the nodes of a swarm): take its spec, or share its pending one.
      const whole = wholeActive(cache);
      fastTarget.whole = whole;
      if (whole) {
        const lineHash = hashText(s, from, lineEnd);
        fastTarget.lineHash = lineHash;
        fastTarget.lineEnd = lineEnd;
        const w = (env.family === 'ipv6' ? cache.rule6 : cache.rule4).find(lineHash, s, from, lineEnd);
        if (w !== undefined) {
          cache.wholeHits++;
          if (w.value.pending !== undefined) return w.value.pending.first;
          if (w.value.spec !== undefined) return w.value.spec;
        }
      }
      return SHAPED;
    }
  }
  // The whole rule, met before: one hash, one lookup. The text is `s[from, lineEnd)`, without
  // trailing blanks (where the token scan below ends too).
  const useWhole = mode !== FastMode.Force && wholeActive(cache);
  let lineHash = 0;
  let lineEnd = from;
  if (useWhole) {
    for (let i = from, h = 0; i < to; i++) {
      const c = s.charCodeAt(i);
      h = (Math.imul(h, 31) + c) | 0;
      if (c !== 32 && c !== 9) {
        lineHash = h;
        lineEnd = i + 1;
      }
    }
  }
  const whole = useWhole ? (env.family === 'ipv6' ? cache.rule6 : cache.rule4).find(lineHash, s, from, lineEnd) : undefined;
  if (whole !== undefined) {
    cache.wholeHits++;
    const w = whole.value;
    if (w.family6) env.family = 'ipv6';
    if (w.saw6) env.sawIPv6 = true;
    fastTarget.chain = w.chainTarget;
    if (w.chainTarget) {
      const ts = from + w.targetStart;
      const te = from + w.targetEnd;
      fastTarget.start = ts;
      fastTarget.end = te;
      const found = jumpedTo(whole, chains, s, ts, te);
      if (found !== undefined && w.spec !== undefined) (w.spec.target as XtTarget).name = found.name; // the same text
      fastTarget.found = found;
    }
    return w.pending ?? w.spec;
  }
  // Not shaped yet: the full reader reads it and learns its shape.
  if (mode === FastMode.Lazy) return undefined;
  const n = scanSpans(s, from, to);
  if (n < 0) return undefined;
  const family6Before = env.family === 'ipv6';
  const saw6Before = env.sawIPv6;
  let b = 0;
  while (b < n && spanKind[b] !== K_BOUNDARY) b++;
  let src: AddrMatch | undefined;
  let dst: AddrMatch | undefined;
  let iif: IfaceMatch | undefined;
  let oif: IfaceMatch | undefined;
  let proto: RuleSpec['proto'];
  let fragment: RuleSpec['fragment'];
  if (b > 0) {
    const kept = (env.family === 'ipv6' ? cache.top6 : cache.top4).find(spansHash(0, b), s, spanStart[0], spanEnd[b - 1]);
    if (kept === undefined) return undefined;
    const tp = kept.value;
    if (tp.family6) env.family = 'ipv6';
    if (tp.saw6) env.sawIPv6 = true;
    src = tp.src;
    dst = tp.dst;
    iif = tp.iif;
    oif = tp.oif;
    proto = tp.proto;
    fragment = tp.fragment;
  }
  const shared = env.family === 'ipv6' ? cache.ext6 : cache.ext4;
  let nm = 0;
  let repeated = true;
  let target: XtTarget | undefined;
  let ok = true;
  while (b < n) {
    let e = b + 1;
    while (e < n && spanKind[e] !== K_BOUNDARY) e++;
    if (e < b + 2 || target !== undefined) {
      ok = false; // `-m` without a name, or something after the target
      break;
    }
    const h = spansHash(b, e);
    const a0 = spanStart[b];
    const a1 = spanEnd[e - 1];
    const kept = shared.find(h, s, a0, a1);
    let x = kept?.value;
    const c = s.charCodeAt(a0 + 1);
    if (c === 109 /* m */) {
      if (x === undefined) {
        const raw = s.slice(a0, a1);
        x = plainMatch(s, b, e, raw);
        if (x === undefined) {
          ok = false;
          break;
        }
        shared.add(h, s, a0, a1, x);
        repeated = false;
      }
      fastKept[nm] = kept;
      fastMatches[nm++] = x as XtMatch;
    } else {
      if (x === undefined) {
        const raw = s.slice(a0, a1);
        x = plainTarget(s, b, e, raw, c === 103);
        if (x === undefined) {
          ok = false;
          break;
        }
        shared.add(h, s, a0, a1, x);
      }
      target = x as XtTarget;
      fastTarget.start = spanStart[b + 1];
      fastTarget.end = spanEnd[b + 1];
      fastTarget.chain = target.goto || !isTargetExtension(target.name);
      if (fastTarget.chain) {
        // Find the chain now (once per table for a shared target); its name string is shared.
        const found = jumpedTo(kept, chains, s, spanStart[b + 1], spanEnd[b + 1], spansHash(b + 1, b + 2));
        if (found !== undefined) target.name = found.name; // the same text: harmless on a shared target
        fastTarget.found = found;
      }
    }
    b = e;
  }
  let spec: RuleSpec | undefined;
  if (ok) {
    if (target === undefined) fastTarget.chain = false;
    spec = makeSpec(sharedMatches(fastMatches, fastKept, nm, repeated), src, dst, iif, oif, proto, fragment, target);
    // Remembered under the family it was read in (the rule may have switched it to IPv6).
    if (useWhole) rememberRule(cache, { family6: family6Before, saw6: saw6Before }, env, s, from, lineEnd, spec, fastTarget.chain, fastTarget.start, fastTarget.end, lineHash);
  }
  for (let i = 0; i < nm; i++) {
    fastMatches[i] = EMPTY_EXT as XtMatch;
    fastKept[i] = undefined;
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Formatting (for messages and diffs)
// ---------------------------------------------------------------------------------------------

function fmtAddr(a: { addr: string; prefixLen: number; mask?: string }): string {
  return `${a.addr}/${a.mask ?? a.prefixLen}`;
}

/** Options whose save callback quotes the value with `xtables_save_string`. */
const STRING_OPTS: ReadonlySet<string> = new Set(['comment', 'log-prefix', 'nflog-prefix', 'helper']);

function displayValue(name: string, v: string): string {
  if (STRING_OPTS.has(name)) return saveString(v);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 32 || c === 9 || c === 34 || c === 39 || c === 92) return saveString(v);
  }
  return v.length === 0 ? '""' : v;
}

function fmtOpts(options: readonly XtOption[]): string {
  let s = '';
  for (const o of options) {
    s += (o.invert ? ' ! --' : ' --') + o.name;
    for (const v of o.values) s += ' ' + displayValue(o.name, v);
  }
  return s;
}

/** Prints a RuleSpec the way iptables-save would (without `-A CHAIN`), for messages and diffs. */
export function formatRuleSpec(spec: RuleSpec): string {
  let s = '';
  if (spec.src) s += `${spec.src.invert ? ' !' : ''} -s ${fmtAddr(spec.src)}`;
  if (spec.dst) s += `${spec.dst.invert ? ' !' : ''} -d ${fmtAddr(spec.dst)}`;
  if (spec.iif) s += `${spec.iif.invert ? ' !' : ''} -i ${spec.iif.name}`;
  if (spec.oif) s += `${spec.oif.invert ? ' !' : ''} -o ${spec.oif.name}`;
  if (spec.proto) s += `${spec.proto.invert ? ' !' : ''} -p ${spec.proto.name}`;
  if (spec.fragment) s += `${spec.fragment.invert ? ' !' : ''} -f`;
  for (const m of spec.matches) s += ` -m ${m.name}${fmtOpts(m.options)}`;
  if (spec.target) s += ` -${spec.target.goto ? 'g' : 'j'} ${spec.target.name}${fmtOpts(spec.target.options)}`;
  return s.trimStart();
}

// ---------------------------------------------------------------------------------------------
// Tables: names, hints and inference
// ---------------------------------------------------------------------------------------------

/** Whether `s` names one of the five tables. */
export function isTableName(s: string): s is TableName {
  return (TABLE_NAMES as readonly string[]).indexOf(s) >= 0;
}

/** A table named by a hint: the hint itself, or a table name as a word in it (`iptables-S-nat.txt`). */
export function tableFromHint(hint: string | undefined): TableName | undefined {
  if (!hint) return undefined;
  const h = hint.toLowerCase();
  if (isTableName(h)) return h;
  let found: TableName | undefined;
  for (const t of TABLE_NAMES) {
    let at = h.indexOf(t);
    while (at >= 0) {
      const before = at === 0 ? '' : h[at - 1];
      const after = h[at + t.length] ?? '';
      const isWordChar = (ch: string): boolean => (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
      if (!isWordChar(before) && !isWordChar(after)) {
        if (found && found !== t) return undefined;
        found = t;
        break;
      }
      at = h.indexOf(t, at + 1);
    }
  }
  return found;
}

const NAT_TARGETS = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP']);
const MANGLE_TARGETS = new Set(['MARK', 'CONNMARK', 'TPROXY', 'TOS', 'TTL', 'HL', 'DSCP', 'ECN', 'CLASSIFY', 'TCPOPTSTRIP', 'CHECKSUM']);
const RAW_TARGETS = new Set(['NOTRACK', 'CT']);

/**
 * Guesses the table of an `iptables -S` / `-L` listing, which does not print it: from the
 * built-in chains it lists (their set is unique per table but filter/security), then from
 * targets only some tables allow (DNAT… → nat, MARK… → mangle, NOTRACK/CT → raw), else filter.
 */
export function inferTable(builtins: ReadonlySet<string>, targets: ReadonlySet<string>): { table: TableName; reason: string } {
  const has = (c: string): boolean => builtins.has(c);
  if (builtins.size > 0) {
    if (has('PREROUTING') && has('POSTROUTING') && has('FORWARD')) return { table: 'mangle', reason: 'its built-in chains include PREROUTING, FORWARD and POSTROUTING' };
    if (has('PREROUTING') && has('POSTROUTING')) return { table: 'nat', reason: 'its built-in chains include PREROUTING and POSTROUTING but not FORWARD' };
    if (has('PREROUTING') && !has('INPUT') && !has('FORWARD') && !has('POSTROUTING')) return { table: 'raw', reason: 'its only built-in chains are PREROUTING and OUTPUT' };
  }
  for (const t of targets) if (NAT_TARGETS.has(t)) return { table: 'nat', reason: `it uses the ${t} target` };
  for (const t of targets) if (MANGLE_TARGETS.has(t)) return { table: 'mangle', reason: `it uses the ${t} target` };
  for (const t of targets) if (RAW_TARGETS.has(t)) return { table: 'raw', reason: `it uses the ${t} target` };
  if (builtins.size > 0 && (has('INPUT') || has('FORWARD')) && !has('PREROUTING')) return { table: 'filter', reason: 'its built-in chains are those of filter (security has the same; filter is assumed)' };
  return { table: 'filter', reason: 'nothing in it points to another table' };
}

/** Whether `chain` is a built-in chain of `table`. */
export function isBuiltinChain(table: TableName, chain: string): boolean {
  return BUILTIN_CHAINS[table].indexOf(chain) >= 0;
}

// ---------------------------------------------------------------------------------------------
// Specs read on first use (lazyRule.ts)
// ---------------------------------------------------------------------------------------------

const NO_CHAINS = new ChainIndex();
const pendingTok = new RuleTokens();

/**
 * Reads a pending rule text the way the load would have: the fast path for parts met before,
 * else the full reader; with the parse's shared parts while they are there.
 */
function readPending(text: string, from: number, v6: boolean, shared: unknown, sink: ProblemSink): RuleSpec {
  const cache = (shared as SpecCache | undefined) ?? new SpecCache();
  const env: RuleEnv = { sink, line: 0, family: v6 ? 'ipv6' : 'ipv4', sawIPv6: false, cache, text, lineStart: 0 };
  let spec = readRuleFast(text, from, text.length, cache, NO_CHAINS, env, FastMode.Force) as RuleSpec | undefined; // no whole rules: never a LazyRule
  fastTarget.found = undefined;
  if (spec === undefined) {
    tokenizeRule(text, 0, pendingTok);
    spec = buildRuleSpec(text, pendingTok, 2, env)?.spec ?? { matches: [] };
    pendingTok.n = 0;
  }
  return spec;
}

setSpecReader(readPending);
setTargetCheck(isTargetExtension, Math.max(...[...TARGET_BY_NAME.keys(), ...OTHER_TARGETS].map((n) => n.length)));
