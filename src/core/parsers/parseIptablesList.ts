/**
 * `iptables -L -n -v [-x] [--line-numbers] [-t TABLE]` output into a one-table Ruleset whose rules
 * carry the SAME RuleSpec iptables-save gives. The table layout is iptables/xshared.c
 * `print_header` / `print_rule_details` / `print_fragment` / `print_ifaces` /
 * `print_ipv4_addresses` (and nft-ipv4.c `nft_ipv4_print_rule`); the trailing text is what each
 * extension's `print` callback writes, translated back to the options its `save` callback prints
 * (extensions/libxt_*.c, libipt_*.c, libip6t_*.c). The table is not printed: it comes from
 * `opts.hint` or is inferred.
 */
import { ProblemSink, splitLines, type ParseOptions, type ParseResult } from '../problem';
import type { AddrMatch, Chain, Counters, Rule, RuleSpec, Ruleset, Table, XtMatch, XtOption, XtTarget } from '../model/netfilter';
import {
  MATCH_BY_NAME,
  TARGET_BY_NAME,
  canonProto,
  canonicalizeExt,
  clip,
  hex32,
  icmpTypeSave,
  isDigits,
  isTargetExtension,
  parseAddress,
  parseIface,
  parseUint,
  tcpFlagBits,
  tcpFlagNames,
} from './iptablesRule';
import { resolveListingTable } from './parseIptablesS';

// ---------------------------------------------------------------------------------------------
// A word cursor over the extension text of one row (module state: no allocation per row)
// ---------------------------------------------------------------------------------------------

let S = '';
let P = 0;

function skipWs(): void {
  while (P < S.length && S.charCodeAt(P) === 32) P++;
}

/** The word at the cursor (after blanks), not consumed. */
function peek(): string {
  skipWs();
  let e = P;
  while (e < S.length && S.charCodeAt(e) !== 32) e++;
  return S.slice(P, e);
}

/** The word after the one at the cursor, not consumed. */
function peek2(): string {
  const save = P;
  take();
  const w = peek();
  P = save;
  return w;
}

function take(): string {
  const w = peek();
  P += w.length;
  return w;
}

/** Reads `"text"` as printed with a plain `\"%s\"` (no escapes): up to a `"` before a blank or the end. */
function takePlainQuoted(): string | undefined {
  skipWs();
  if (S.charCodeAt(P) !== 34) return undefined;
  let e = P + 1;
  for (;;) {
    e = S.indexOf('"', e);
    if (e < 0) return undefined;
    if (e + 1 >= S.length || S.charCodeAt(e + 1) === 32) break;
    e++;
  }
  const v = S.slice(P + 1, e);
  P = e + 1;
  return v;
}

/** Reads a value written by `xtables_save_string`: bare, or quoted with `\` escapes. */
function takeSaveString(): string {
  skipWs();
  if (S.charCodeAt(P) !== 34) return take();
  let out = '';
  let i = P + 1;
  while (i < S.length) {
    const c = S.charCodeAt(i);
    if (c === 92 && i + 1 < S.length) {
      out += S[i + 1];
      i += 2;
      continue;
    }
    if (c === 34) {
      i++;
      break;
    }
    out += S[i];
    i++;
  }
  P = i;
  return out;
}

function opt(name: string, values: string[], invert = false): XtOption {
  return { name, values, invert };
}

/** Splits a leading `!` off a printed value (`dpt:!80`, `!LOCAL`). */
function bang(v: string): [string, boolean] {
  return v.charCodeAt(0) === 33 ? [v.slice(1), true] : [v, false];
}

// ---------------------------------------------------------------------------------------------
// Matches: one reader per `print` callback
// ---------------------------------------------------------------------------------------------

const CT_KEYS = new Set(['ctstate', 'state', 'ctproto', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst', 'ctorigsrcport', 'ctorigdstport', 'ctreplsrcport', 'ctrepldstport', 'ctstatus', 'ctexpire', 'ctdir']);
const IPVS_KEYS = new Set(['ipvs', 'vproto', 'vaddr', 'vport', 'vdir', 'vmethod', 'vportctl']);
const SET_FLAG_KEYS = new Set(['return-nomatch', 'update-counters', 'update-subcounters']);
const SET_NUM_KEYS = new Set(['packets-eq', 'packets-lt', 'packets-gt', 'bytes-eq', 'bytes-lt', 'bytes-gt']);
const RECENT_WORDS: Readonly<Record<string, string>> = { SET: 'set', CHECK: 'rcheck', UPDATE: 'update', REMOVE: 'remove', reap: 'reap', 'TTL-Match': 'rttl' };

/** libxt_tcp.c / libxt_udp.c / libxt_sctp.c print: ` tcp spt:53 dpts:1000:2000 option=!2 flags:0x17/0x02`. */
/** SCTP chunk type names by number (libxt_sctp.c sctp_chunk_names). */
const SCTP_CHUNKS: Record<number, string> = {
  0: 'DATA', 1: 'INIT', 2: 'INIT_ACK', 3: 'SACK', 4: 'HEARTBEAT', 5: 'HEARTBEAT_ACK', 6: 'ABORT', 7: 'SHUTDOWN', 8: 'SHUTDOWN_ACK', 9: 'ERROR',
  10: 'COOKIE_ECHO', 11: 'COOKIE_ACK', 12: 'ECN_ECNE', 13: 'ECN_CWR', 14: 'SHUTDOWN_COMPLETE', 64: 'I_DATA', 128: 'ASCONF_ACK', 130: 'RE_CONFIG', 132: 'PAD',
  192: 'FORWARD_TSN', 193: 'ASCONF', 194: 'I_FORWARD_TSN',
};

function readPorts(name: string, options: XtOption[], tcp: boolean): void {
  for (;;) {
    const w = peek();
    let key = '';
    let rest = '';
    if (w.startsWith('spt:') || w.startsWith('dpt:')) {
      key = w[0] === 's' ? 'sport' : 'dport';
      rest = w.slice(4);
    } else if (w.startsWith('spts:') || w.startsWith('dpts:')) {
      key = w[0] === 's' ? 'sport' : 'dport';
      rest = w.slice(5);
    } else if (tcp && w.startsWith('option=')) {
      key = 'tcp-option';
      rest = w.slice(7);
    } else if (tcp && w.startsWith('flags:')) {
      take();
      const [v, inv] = bang(w.slice(6));
      const slash = v.indexOf('/');
      const mask = tcpFlagBits(slash >= 0 ? v.slice(0, slash) : v);
      const cmp = tcpFlagBits(slash >= 0 ? v.slice(slash + 1) : '');
      options.push(opt('tcp-flags', Number.isNaN(mask) || Number.isNaN(cmp) ? [v] : [tcpFlagNames(mask), tcpFlagNames(cmp)], inv));
      continue;
    } else if (name === 'sctp' && (w === 'any' || w === 'all' || w === 'only' || (w === '!' && /^(any|all|only)$/.test(peek2())))) {
      // libxt_sctp.c print_chunks: ` any 0x0001,0x0002` with -n (names without); the save form
      // has `--chunk-types any INIT,INIT_ACK`, the chunk names in the same ascending order.
      let inv = false;
      if (take() === '!') inv = true;
      const type = inv ? take() : w;
      const list = take()
        .split(',')
        .map((c) => {
          const [id, flags] = [c.replace(/:.*$/, ''), c.includes(':') ? c.slice(c.indexOf(':')) : ''];
          const n = /^0x[0-9a-f]+$/i.test(id) ? SCTP_CHUNKS[parseInt(id, 16)] : undefined;
          return (n ?? id) + flags;
        })
        .join(',');
      options.push(opt('chunk-types', [type, list], inv));
      continue;
    } else if (w === 'Unknown' && peek2() === 'invflags:') {
      take();
      take();
      take();
      continue;
    } else return;
    take();
    const [v, inv] = bang(rest);
    options.push(opt(key, [v], inv));
    void name;
  }
}

function readIcmp(v6: boolean): XtOption | undefined {
  // libipt_icmp.c print_icmptype: ` icmp` then `type 8 code 0` (numeric, no blank before
  // `type`: "icmptype 8"), ` !type 8`, or a name (` echo-request`, ` !echo-request`).
  const first = take();
  const base = v6 ? 'ipv6-icmp' : 'icmp';
  let inv = false;
  let typeWord: string;
  if (first === base + 'type') typeWord = take();
  else {
    const w = take();
    if (w === '!type') {
      inv = true;
      typeWord = take();
    } else {
      const [name, i] = bang(w);
      inv = i;
      const e = icmpByName(name, v6);
      if (!e) return undefined;
      return opt(v6 ? 'icmpv6-type' : 'icmp-type', [icmpTypeSave(e[0], e[1], e[2], v6)], inv);
    }
  }
  if (!isDigits(typeWord)) return undefined;
  let cmin = 0;
  let cmax = 0xff;
  if (peek() === 'code') {
    take();
    cmin = cmax = Number(take());
  } else if (peek() === 'codes') {
    take();
    const r = take();
    const dash = r.indexOf('-');
    cmin = Number(r.slice(0, dash));
    cmax = Number(r.slice(dash + 1));
  }
  return opt(v6 ? 'icmpv6-type' : 'icmp-type', [icmpTypeSave(Number(typeWord), cmin, cmax, v6)], inv);
}

const ICMP_PRINT_NAMES: Readonly<Record<string, readonly [number, number, number]>> = {
  any: [0xff, 0, 0xff], 'echo-reply': [0, 0, 0xff], 'destination-unreachable': [3, 0, 0xff], 'network-unreachable': [3, 0, 0],
  'host-unreachable': [3, 1, 1], 'protocol-unreachable': [3, 2, 2], 'port-unreachable': [3, 3, 3], 'fragmentation-needed': [3, 4, 4],
  'source-route-failed': [3, 5, 5], 'network-unknown': [3, 6, 6], 'host-unknown': [3, 7, 7], 'network-prohibited': [3, 9, 9],
  'host-prohibited': [3, 10, 10], 'TOS-network-unreachable': [3, 11, 11], 'TOS-host-unreachable': [3, 12, 12],
  'communication-prohibited': [3, 13, 13], 'host-precedence-violation': [3, 14, 14], 'precedence-cutoff': [3, 15, 15],
  'source-quench': [4, 0, 0xff], redirect: [5, 0, 0xff], 'network-redirect': [5, 0, 0], 'host-redirect': [5, 1, 1],
  'TOS-network-redirect': [5, 2, 2], 'TOS-host-redirect': [5, 3, 3], 'echo-request': [8, 0, 0xff],
  'router-advertisement': [9, 0, 0xff], 'router-solicitation': [10, 0, 0xff], 'time-exceeded': [11, 0, 0xff],
  'ttl-zero-during-transit': [11, 0, 0], 'ttl-zero-during-reassembly': [11, 1, 1], 'parameter-problem': [12, 0, 0xff],
  'ip-header-bad': [12, 0, 0], 'required-option-missing': [12, 1, 1], 'timestamp-request': [13, 0, 0xff],
  'timestamp-reply': [14, 0, 0xff], 'address-mask-request': [17, 0, 0xff], 'address-mask-reply': [18, 0, 0xff],
};
const ICMP6_PRINT_NAMES: Readonly<Record<string, readonly [number, number, number]>> = {
  'destination-unreachable': [1, 0, 0xff], 'no-route': [1, 0, 0], 'communication-prohibited': [1, 1, 1], 'beyond-scope': [1, 2, 2],
  'address-unreachable': [1, 3, 3], 'port-unreachable': [1, 4, 4], 'failed-policy': [1, 5, 5], 'reject-route': [1, 6, 6],
  'packet-too-big': [2, 0, 0xff], 'time-exceeded': [3, 0, 0xff], 'ttl-zero-during-transit': [3, 0, 0],
  'ttl-zero-during-reassembly': [3, 1, 1], 'parameter-problem': [4, 0, 0xff], 'bad-header': [4, 0, 0],
  'unknown-header-type': [4, 1, 1], 'unknown-option': [4, 2, 2], 'echo-request': [128, 0, 0xff], 'echo-reply': [129, 0, 0xff],
  'mld-listener-query': [130, 0, 0xff], 'mld-listener-report': [131, 0, 0xff], 'mld-listener-done': [132, 0, 0xff],
  'router-solicitation': [133, 0, 0xff], 'router-advertisement': [134, 0, 0xff], 'neighbour-solicitation': [135, 0, 0xff],
  'neighbour-advertisement': [136, 0, 0xff], redirect: [137, 0, 0xff],
};

function icmpByName(name: string, v6: boolean): readonly [number, number, number] | undefined {
  return (v6 ? ICMP6_PRINT_NAMES : ICMP_PRINT_NAMES)[name];
}

/** Reads one match's printed text at the cursor; returns undefined when no reader knows it. */
function readMatch(v6: boolean): XtMatch | undefined {
  const start = P;
  let w = peek();
  let neg = false;
  if (w === '!') {
    neg = true;
    w = peek2();
  }
  const options: XtOption[] = [];
  let name: string;
  switch (w) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      if (neg) return undefined;
      take();
      name = w;
      readPorts(w, options, w === 'tcp');
      break;
    case 'icmp':
    case 'icmptype':
    case 'ipv6-icmp':
    case 'ipv6-icmptype': {
      if (neg) return undefined;
      const six = w.startsWith('ipv6');
      const o = readIcmp(six);
      if (!o) return undefined;
      name = six ? 'icmp6' : 'icmp';
      options.push(o);
      break;
    }
    case 'multiport': {
      // libxt_multiport.c: ` multiport dports 80,443` (v1 inverts with ` !` before the list).
      if (neg) return undefined;
      take();
      const kind = take();
      if (kind !== 'sports' && kind !== 'dports' && kind !== 'ports') return undefined;
      let list = take();
      let inv = false;
      if (list === '!') {
        inv = true;
        list = take();
      } else [list, inv] = bang(list);
      name = 'multiport';
      options.push(opt(kind, [list], inv));
      break;
    }
    case 'ADDRTYPE': {
      // libxt_addrtype.c: ` ADDRTYPE match src-type !LOCAL dst-type UNICAST limit-in`.
      if (neg || peek2() !== 'match') return undefined;
      take();
      take();
      name = 'addrtype';
      for (;;) {
        const k = peek();
        if (k === 'src-type' || k === 'dst-type') {
          take();
          const [v, inv] = bang(take());
          options.push(opt(k, [v], inv));
        } else if (k.startsWith('dst-type') && k.length > 8) {
          take(); // revision 0 prints no blank: `dst-type!LOCAL`
          const [v, inv] = bang(k.slice(8));
          options.push(opt('dst-type', [v], inv));
        } else if (k === 'limit-in' || k === 'limit-out') {
          take();
          options.push(opt(k === 'limit-in' ? 'limit-iface-in' : 'limit-iface-out', []));
        } else break;
      }
      break;
    }
    case '/*': {
      if (neg) return undefined;
      // libxt_comment.c: ` /* %s */`; the comment itself may hold anything.
      // It ends at the first ` */` after which the text goes on with something printable
      // (another match, the target's part, or the end), so ` */ ` inside a comment is kept.
      skipWs();
      let e = P + 2;
      for (;;) {
        e = S.indexOf(' */', e);
        if (e < 0) return undefined;
        if (e + 3 >= S.length) break;
        if (S.charCodeAt(e + 3) === 32) {
          const save = P;
          P = e + 3;
          const after = peek();
          P = save;
          if (after.length === 0 || startsPrint(after)) break;
        }
        e++;
      }
      const text = e >= P + 3 ? S.slice(P + 3, e) : '';
      P = e + 3;
      name = 'comment';
      options.push(opt('comment', [text]));
      break;
    }
    case 'mark':
    case 'MARK':
    case 'connmark':
    case 'CONNMARK': {
      // libxt_mark.c ` mark match ! 0x1/0xff`; libxt_connmark.c ` connmark match !` + ` 0x1`.
      if (neg || peek2() !== 'match') return undefined;
      take();
      take();
      let v = take();
      let inv = false;
      if (v === '!') {
        inv = true;
        v = take();
      } else [v, inv] = bang(v);
      name = w.toLowerCase();
      options.push(opt('mark', [v], inv));
      break;
    }
    case 'statistic': {
      // libxt_statistic.c: ` statistic mode random ! probability 0.50000000000` / `mode nth every 2 packet 0`.
      if (neg) return undefined;
      take();
      if (take() !== 'mode') return undefined;
      const mode = take();
      name = 'statistic';
      options.push(opt('mode', [mode]));
      let inv = false;
      if (peek() === '!') {
        take();
        inv = true;
      }
      for (;;) {
        const k = peek();
        if (k !== 'probability' && k !== 'every' && k !== 'packet') break;
        take();
        options.push(opt(k, [take()], inv && k !== 'packet'));
      }
      break;
    }
    case 'PHYSDEV': {
      // libxt_physdev.c: ` PHYSDEV match ! --physdev-in x --physdev-is-bridged` (save-like).
      if (neg || peek2() !== 'match') return undefined;
      take();
      take();
      name = 'physdev';
      for (;;) {
        let k = peek();
        let inv = false;
        if (k === '!') {
          inv = true;
          k = peek2();
        }
        if (!k.startsWith('--physdev-')) break;
        if (inv) take();
        take();
        const key = k.slice(2);
        options.push(opt(key, key === 'physdev-in' || key === 'physdev-out' ? [take()] : [], inv));
      }
      break;
    }
    case 'limit:': {
      // libxt_limit.c: ` limit: avg 5/min burst 5`.
      if (neg) return undefined;
      take();
      if (take() !== 'avg') return undefined;
      const rate = take();
      name = 'limit';
      options.push(opt('limit', [rate]));
      if (peek() === 'burst') {
        take();
        options.push(opt('limit-burst', [take()]));
      }
      break;
    }
    case 'owner':
    case 'incl.': {
      // libxt_owner.c: ` owner socket exists`, ` ! owner UID match 0-10`, ` incl. suppl. groups`.
      name = 'owner';
      for (;;) {
        let k = peek();
        let inv = false;
        if (k === '!') {
          inv = true;
          k = peek2();
        }
        if (k !== 'owner' && k !== 'incl.') break;
        if (inv) take();
        take();
        if (k === 'incl.') {
          take();
          take();
          options.push(opt('suppl-groups', [], inv));
          continue;
        }
        const what = take();
        if (what === 'socket') {
          take();
          options.push(opt('socket-exists', [], inv));
          continue;
        }
        take(); // "match"
        const key = { UID: 'uid-owner', GID: 'gid-owner', PID: 'pid-owner', SID: 'sid-owner', CMD: 'cmd-owner' }[what];
        if (!key) return undefined;
        options.push(opt(key, [take()], inv));
      }
      break;
    }
    case 'PKTTYPE': {
      // libxt_pkttype.c: ` PKTTYPE = unicast` / ` PKTTYPE != broadcast`.
      if (neg) return undefined;
      take();
      const eq = take();
      if (eq !== '=' && eq !== '!=') return undefined;
      name = 'pkttype';
      options.push(opt('pkt-type', [take()], eq === '!='));
      break;
    }
    case 'source':
    case 'destination': {
      // libxt_iprange.c: ` source IP range ! 10.0.0.1-10.0.0.9`.
      if (neg) return undefined;
      name = 'iprange';
      for (;;) {
        const k = peek();
        if (k !== 'source' && k !== 'destination') break;
        const save = P;
        take();
        if (take() !== 'IP' || take() !== 'range') {
          P = save;
          break;
        }
        let v = take();
        let inv = false;
        if (v === '!') {
          inv = true;
          v = take();
        }
        options.push(opt(k === 'source' ? 'src-range' : 'dst-range', [v], inv));
      }
      if (options.length === 0) return undefined;
      break;
    }
    case 'recent:': {
      // libxt_recent.c: ` ! recent: CHECK seconds: 60 hit_count: 3 name: DEFAULT side: source mask: 255.255.255.255`.
      if (neg) take();
      take();
      name = 'recent';
      for (;;) {
        const k = peek();
        if (RECENT_WORDS[k]) {
          take();
          options.push(opt(RECENT_WORDS[k], []));
        } else if (k === 'seconds:' || k === 'hit_count:' || k === 'name:' || k === 'mask:') {
          take();
          options.push(opt(k === 'hit_count:' ? 'hitcount' : k.slice(0, -1), [take()]));
        } else if (k === 'side:') {
          take();
          options.push(opt(take() === 'dest' ? 'rdest' : 'rsource', []));
        } else break;
      }
      if (neg && options.length) options[0].invert = true;
      break;
    }
    case 'match-set': {
      // libxt_set.c: ` ! match-set NAME src,dst return-nomatch ! update-counters packets-gt 5`.
      if (neg) take();
      take();
      name = 'set';
      options.push(opt('match-set', [take(), take()], neg));
      for (;;) {
        let k = peek();
        let inv = false;
        if (k === '!') {
          inv = true;
          k = peek2();
        }
        if (!SET_FLAG_KEYS.has(k) && !SET_NUM_KEYS.has(k)) break;
        if (inv) take();
        take();
        options.push(opt(k, SET_NUM_KEYS.has(k) ? [take()] : [], inv));
      }
      break;
    }
    case 'helper': {
      // libxt_helper.c: ` helper match ! "ftp"`.
      if (neg || peek2() !== 'match') return undefined;
      take();
      take();
      let inv = false;
      if (peek() === '!') {
        take();
        inv = true;
      }
      const v = takePlainQuoted();
      if (v === undefined) return undefined;
      name = 'helper';
      options.push(opt('helper', [v], inv));
      break;
    }
    case 'MAC': {
      // libxt_mac.c: ` MAC ! 02:42:ac:11:00:02`.
      if (neg) return undefined;
      take();
      let v = take();
      let inv = false;
      if (v === '!') {
        inv = true;
        v = take();
      }
      name = 'mac';
      options.push(opt('mac-source', [v], inv));
      break;
    }
    case 'length': {
      if (neg) return undefined;
      take();
      const [v, inv] = bang(take());
      name = 'length';
      options.push(opt('length', [v], inv));
      break;
    }
    case 'UNKNOWN': {
      // iptables.c print_match: "UNKNOWN match `NAME' ".
      if (neg || peek2() !== 'match') return undefined;
      take();
      take();
      const q = take();
      const nm = q.replace(/^`/, '').replace(/'$/, '');
      return { name: nm, options: [], known: false, raw: S.slice(start, P).trim() };
    }
    default: {
      if (CT_KEYS.has(w)) {
        // libxt_conntrack.c conntrack_dump with an empty prefix: save's words without `--`.
        name = w === 'state' ? 'state' : 'conntrack';
        const seen = new Set<string>();
        for (;;) {
          let k = peek();
          let inv = false;
          if (k === '!') {
            inv = true;
            k = peek2();
          }
          if (!CT_KEYS.has(k) || seen.has(k) || (k === 'state') !== (name === 'state')) break;
          seen.add(k);
          if (inv) take();
          take();
          options.push(opt(k, [take()], inv));
        }
        break;
      }
      if (IPVS_KEYS.has(w)) {
        // libxt_ipvs.c ipvs_mt_dump with an empty prefix.
        name = 'ipvs';
        const seen = new Set<string>();
        for (;;) {
          let k = peek();
          let inv = false;
          if (k === '!') {
            inv = true;
            k = peek2();
          }
          if (!IPVS_KEYS.has(k) || seen.has(k)) break;
          seen.add(k);
          if (inv) take();
          take();
          options.push(opt(k, k === 'ipvs' ? [] : [take()], inv));
        }
        break;
      }
      return undefined;
    }
  }
  void v6;
  return { name, options, known: true, raw: S.slice(start, P).trim() };
}

/** Whether a word can begin a match's or a target's printed text. */
function startsPrint(w: string): boolean {
  if (PRINT_LEADS.has(w) || CT_KEYS.has(w) || IPVS_KEYS.has(w) || w.startsWith('to:')) return true;
  for (const k in TARGET_LEADS) if (TARGET_LEADS[k].indexOf(w) >= 0) return true;
  return false;
}

/** First words of the match prints `readMatch` knows. */
const PRINT_LEADS = new Set([
  '!', 'tcp', 'udp', 'sctp', 'icmp', 'icmptype', 'ipv6-icmp', 'ipv6-icmptype', 'multiport', 'ADDRTYPE', '/*', 'mark', 'MARK',
  'connmark', 'CONNMARK', 'statistic', 'PHYSDEV', 'limit:', 'owner', 'incl.', 'PKTTYPE', 'source', 'destination', 'recent:',
  'match-set', 'helper', 'MAC', 'length', 'UNKNOWN',
]);

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/** First words each target's `print` callback can start with (to find it after unread text). */
const TARGET_LEADS: Readonly<Record<string, readonly string[]>> = {
  DNAT: ['to:', 'random', 'random-fully', 'persistent'],
  SNAT: ['to:', 'random', 'random-fully', 'persistent'],
  MASQUERADE: ['masq', 'random', 'random-fully'],
  REDIRECT: ['redir', 'random'],
  REJECT: ['reject-with'],
  MARK: ['MARK'],
  CONNMARK: ['CONNMARK'],
  LOG: ['LOG'],
  NFLOG: ['nflog-prefix', 'nflog-group', 'nflog-size', 'nflog-range', 'nflog-threshold'],
  TCPMSS: ['TCPMSS'],
  CT: ['CT'],
  NOTRACK: ['NOTRACK'],
};

const LOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
const LOG_FLAG_WORDS: Readonly<Record<string, string>> = {
  'tcp-sequence': 'log-tcp-sequence', 'tcp-options': 'log-tcp-options', 'ip-options': 'log-ip-options', uid: 'log-uid', macdecode: 'log-macdecode',
};

/**
 * Reads the target's printed text from the cursor to the end into options. Returns false when
 * the text is not what the target prints (the caller then keeps it verbatim).
 */
function readTarget(name: string, options: XtOption[]): boolean {
  switch (name) {
    case 'DNAT':
    case 'SNAT':
    case 'MASQUERADE':
    case 'REDIRECT': {
      // libxt_NAT.c __NAT_print: ` to:RANGE`, ` masq ports: RANGE`, ` redir ports RANGE`, flags.
      for (;;) {
        const w = peek();
        if (w.length === 0) return true;
        take();
        if (w.startsWith('to:') && (name === 'DNAT' || name === 'SNAT')) options.push(opt(name === 'DNAT' ? 'to-destination' : 'to-source', [w.slice(3)]));
        else if (w === 'masq' && name === 'MASQUERADE' && take() === 'ports:' && peek().length > 0) options.push(opt('to-ports', [take()]));
        else if (w === 'redir' && name === 'REDIRECT' && take() === 'ports' && peek().length > 0) options.push(opt('to-ports', [take()]));
        else if (w === 'random' || w === 'random-fully' || w === 'persistent') options.push(opt(w, []));
        else return false;
      }
    }
    case 'REJECT': {
      if (take() !== 'reject-with') return false;
      const v = take();
      if (v.length === 0) return false;
      options.push(opt('reject-with', [v]));
      return peek().length === 0;
    }
    case 'MARK': {
      // libxt_MARK.c mark_tg_print: and/or/xor/set/xset, all saved as --set-xmark MARK/MASK.
      if (take() !== 'MARK') return false;
      const mode = take();
      const v = take();
      const slash = v.indexOf('/');
      const a = parseUint(slash >= 0 ? v.slice(0, slash) : v);
      const b = slash >= 0 ? parseUint(v.slice(slash + 1)) : NaN;
      if (Number.isNaN(a)) return false;
      let xm: string;
      if (mode === 'and') xm = `0x0/${hex32(~a >>> 0)}`;
      else if (mode === 'or') xm = `${hex32(a)}/${hex32(a)}`;
      else if (mode === 'xor') xm = `${hex32(a)}/0x0`;
      else if (mode === 'set') xm = `${hex32(a)}/0xffffffff`;
      else if (mode === 'xset' && !Number.isNaN(b)) xm = `${hex32(a)}/${hex32(b)}`;
      else return false;
      options.push(opt('set-xmark', [xm]));
      return peek().length === 0;
    }
    case 'CONNMARK': {
      // libxt_CONNMARK.c connmark_tg_print(_v2).
      if (take() !== 'CONNMARK') return false;
      const mode = take();
      if (mode === 'save' || mode === 'restore') {
        options.push(opt(mode === 'save' ? 'save-mark' : 'restore-mark', []));
        let nf = '0xffffffff';
        let ct = '0xffffffff';
        for (;;) {
          const k = peek();
          if (k === 'mask') {
            take();
            nf = ct = take();
          } else if (k === 'nfmask' || k === 'ctmask') {
            take();
            const v = take().replace(/^~/, '');
            if (k === 'nfmask') nf = v;
            else ct = v;
          } else break;
        }
        options.push(opt('nfmask', [nf]), opt('ctmask', [ct]));
      } else {
        const v = take();
        const slash = v.indexOf('/');
        const a = parseUint(slash >= 0 ? v.slice(0, slash) : v);
        const b = slash >= 0 ? parseUint(v.slice(slash + 1)) : NaN;
        if (Number.isNaN(a)) return false;
        let xm: string;
        if (mode === 'and') xm = `0x0/${hex32(~a >>> 0)}`;
        else if (mode === 'or') xm = `${hex32(a)}/${hex32(a)}`;
        else if (mode === 'xor') xm = `${hex32(a)}/0x0`;
        else if (mode === 'set') xm = `${hex32(a)}/${Number.isNaN(b) ? '0xffffffff' : hex32(b)}`;
        else if (mode === 'xset' && !Number.isNaN(b)) xm = `${hex32(a)}/${hex32(b)}`;
        else return false;
        options.push(opt('set-xmark', [xm]));
      }
      const shift = peek();
      if (shift === 'left-shift-mark' || shift === 'right-shift-mark') {
        take();
        options.push(opt(shift, [take()]));
      }
      return peek().length === 0;
    }
    case 'LOG': {
      // libxt_LOG.c LOG_print: numeric ` LOG flags 0 level 4 prefix "x"`, else names.
      if (take() !== 'LOG') return false;
      let level = 4;
      let flags = 0;
      if (peek() === 'flags') {
        take();
        flags = Number(take());
        if (take() !== 'level') return false;
        level = Number(take());
      } else {
        if (peek() === 'UNKNOWN') take();
        if (take() !== 'level') return false;
        const lv = take();
        level = isDigits(lv) ? Number(lv) : LOG_LEVELS.indexOf(lv === 'warn' ? 'warning' : lv === 'err' ? 'error' : lv);
        while (LOG_FLAG_WORDS[peek()]) options.push(opt(LOG_FLAG_WORDS[take()], []));
      }
      if (peek() === 'prefix') {
        take();
        const v = takePlainQuoted();
        if (v === undefined) return false;
        options.unshift(opt('log-prefix', [v]));
      }
      if (Number.isNaN(level) || level < 0 || Number.isNaN(flags)) return false;
      options.push(opt('log-level', [String(level)]));
      const bits: [number, string][] = [[1, 'log-tcp-sequence'], [2, 'log-tcp-options'], [4, 'log-ip-options'], [8, 'log-uid'], [0x20, 'log-macdecode']];
      for (const [bit, key] of bits) if (flags & bit) options.push(opt(key, []));
      return peek().length === 0;
    }
    case 'NFLOG': {
      // libxt_NFLOG.c nflog_print with an empty prefix.
      for (;;) {
        const k = peek();
        if (k.length === 0) return true;
        if (!k.startsWith('nflog-')) return false;
        take();
        options.push(opt(k, [k === 'nflog-prefix' ? takeSaveString() : take()]));
      }
    }
    case 'TCPMSS': {
      if (take() !== 'TCPMSS') return false;
      const w = take();
      if (w === 'clamp') {
        if (take() !== 'to' || take() !== 'PMTU') return false;
        options.push(opt('clamp-mss-to-pmtu', []));
      } else if (w === 'set' && isDigits(peek())) options.push(opt('set-mss', [take()]));
      else return false;
      return peek().length === 0;
    }
    case 'CT': {
      // libxt_CT.c ct_print(_v1).
      // iptables-nft lists a `-j NOTRACK` rule as target CT with the text `NOTRACK`.
      if (peek() === 'NOTRACK' && peek2().length === 0) {
        take();
        return true;
      }
      if (take() !== 'CT') return false;
      for (;;) {
        const k = peek();
        if (k.length === 0) return true;
        take();
        if (k === 'notrack') options.push(opt('notrack', []));
        else if ((k === 'helper' || k === 'timeout' || k === 'ctevents' || k === 'expevents' || k === 'zone' || k === 'zone-orig' || k === 'zone-reply') && peek().length > 0) options.push(opt(k, [take()]));
        else return false;
      }
    }
    case 'NOTRACK': {
      const w = peek();
      if (w === 'NOTRACK') take();
      return peek().length === 0;
    }
    default:
      // Verdicts, TRACE and chains print nothing.
      return peek().length === 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The listing
// ---------------------------------------------------------------------------------------------

interface Columns {
  num: boolean;
  counts: boolean;
  target: boolean;
  opt: boolean;
  via: boolean;
}

const DEFAULT_COLUMNS: Columns = { num: false, counts: true, target: true, opt: true, via: true };

/** `123`, `1282K`, `12M` (print_num with K/M/G/T, rounded) → counters value. */
function readCount(w: string): { n: number; approx: boolean } | undefined {
  if (isDigits(w)) return { n: Number(w), approx: false };
  const last = w[w.length - 1];
  const mult = last === 'K' ? 1e3 : last === 'M' ? 1e6 : last === 'G' ? 1e9 : last === 'T' ? 1e12 : 0;
  const body = w.slice(0, -1);
  if (mult === 0 || !isDigits(body)) return undefined;
  return { n: Number(body) * mult, approx: true };
}

/** Reads `-L` address text: `0.0.0.0/0` is absent, a bare address is /32, `!` inverts. */
function listAddr(w: string): { addr?: AddrMatch; v6: boolean; error?: string; name?: boolean } {
  const [v, inv] = bang(w);
  if (v === 'anywhere') return { addr: inv ? { addr: '0.0.0.0', prefixLen: 0, invert: true } : undefined, v6: false };
  const p = parseAddress(v, inv);
  return { addr: p.addr, v6: p.family === 'ipv6', error: p.error, name: p.name };
}

/**
 * Parses `iptables -L -n -v` output (any of `-x`, `--line-numbers`, `-v`). Never throws.
 * Example input (`iptables -t nat -L -n -v -x --line-numbers`):
 * ```
 * Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 * num      pkts      bytes target     prot opt in     out     source               destination
 * 1           4      240 DOCKER     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL
 *
 * Chain DOCKER (2 references)
 * num      pkts      bytes target     prot opt in     out     source               destination
 * 1           1       60 DNAT       6    --  !br-7caff33689a7 *  0.0.0.0/0            0.0.0.0/0            tcp dpt:8081 to:172.19.0.2:80
 * ```
 */
export function parseIptablesList(text: string, opts: ParseOptions = {}): ParseResult<Ruleset> {
  const file = opts.file ?? '<input>';
  const sink = new ProblemSink(file);
  const off = opts.lineOffset ?? 0;
  const hintV6 = opts.hint !== undefined && /ip6/i.test(opts.hint);
  const rs: Ruleset = { family: hintV6 ? 'ipv6' : 'ipv4', flavour: 'unknown', tables: [] };
  const nul = text.indexOf('\0');
  if (nul >= 0 && nul < 65536) {
    sink.error('binary', 1 + off, 'this is binary data, not `iptables -L` output (it contains NUL bytes); nothing was read');
    return { value: rs, problems: sink.problems };
  }
  const lines = splitLines(text);
  const chains = new Map<string, Chain>();
  const order: Chain[] = [];
  const policyChains = new Map<string, number>();
  const targets = new Set<string>();
  const jumps: { rule: Rule; line: number; start: number; end: number }[] = [];
  let cols: Columns | undefined;
  let lastCols: Columns | undefined;
  let chain: Chain | undefined;
  let firstLine = 0;
  let sawV6 = false;
  let lineErrors = 0;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const lineNo = i + 1 + off;
    let p = 0;
    while (p < raw.length && (raw.charCodeAt(p) === 32 || raw.charCodeAt(p) === 9)) p++;
    if (p >= raw.length) continue;
    if (firstLine === 0) firstLine = lineNo;
    if (raw.charCodeAt(p) === 35 /* # */) {
      sink.lineProblem('warning', 'annotation', lineNo, raw, `comment line: \`iptables -L\` does not print comments, so it was added by hand (${clip(raw.slice(p))}); ignored`);
      continue;
    }
    if (raw.startsWith('Chain ', p)) {
      chain = readChainHeader(raw, p, lineNo, file, sink, chains, order, policyChains);
      cols = undefined;
      continue;
    }
    const first = firstWord(raw, p);
    if (first === 'num' || first === 'pkts' || first === 'target') {
      cols = readHeaderColumns(raw);
      lastCols = cols;
      continue;
    }
    if (!chain) {
      if (lineErrors++ < 20) sink.lineProblem('error', 'no-chain', lineNo, raw, `expected \`Chain NAME (policy … | N references)\` before rules, got \`${clip(raw.slice(p))}\`; skipped`);
      continue;
    }
    if (!cols) {
      cols = lastCols ?? DEFAULT_COLUMNS;
      sink.lineProblem('warning', 'missing-header', lineNo, raw, 'no column header (`pkts bytes target prot opt …`) after the chain line; the columns of `-L -n -v` are assumed');
    }
    const rule = readRow(raw, lineNo, cols, chain, file, sink);
    if (!rule) {
      lineErrors++;
      continue;
    }
    if (rule.sawV6) sawV6 = true;
    chain.rules.push(rule.rule);
    if (rule.rule.spec.target) targets.add(rule.rule.spec.target.name);
    if (rule.chainTarget) jumps.push({ rule: rule.rule, line: lineNo, start: rule.targetStart, end: rule.targetEnd });
  }

  if (sawV6) rs.family = 'ipv6';
  if (order.length === 0) return { value: rs, problems: sink.problems };
  const tableName = resolveListingTable(opts.hint, policyChains, targets, sink, firstLine, '`iptables -L`');
  const missing = new Set<string>();
  for (const j of jumps) {
    const name = j.rule.spec.target!.name;
    if (chains.has(name) || missing.has(name)) continue;
    missing.add(name);
    sink.info('unlisted-chain', j.line, `chain ${clip(name)} is jumped to but not listed here (a listing of some chains only?)`, j.start + 1, j.end + 1);
  }
  const table: Table = { name: tableName, chains: order, source: { file, line: firstLine } };
  for (const c of order) {
    c.table = tableName;
    for (const r of c.rules) r.table = tableName;
  }
  rs.tables.push(table);
  return { value: rs, problems: sink.problems };
}

function firstWord(raw: string, p: number): string {
  let e = p;
  while (e < raw.length && raw.charCodeAt(e) !== 32 && raw.charCodeAt(e) !== 9) e++;
  return raw.slice(p, e);
}

function readHeaderColumns(raw: string): Columns {
  const words = raw.trim().split(/\s+/);
  return {
    num: words[0] === 'num',
    counts: words.indexOf('pkts') >= 0,
    target: words.indexOf('target') >= 0,
    opt: words.indexOf('opt') >= 0,
    via: words.indexOf('in') >= 0,
  };
}

/** Reads `Chain NAME (policy ACCEPT 0 packets, 0 bytes)` / `(policy DROP)` / `(2 references)`. */
function readChainHeader(
  raw: string,
  p: number,
  lineNo: number,
  file: string,
  sink: ProblemSink,
  chains: Map<string, Chain>,
  order: Chain[],
  policyChains: Map<string, number>,
): Chain | undefined {
  const nameStart = p + 6;
  let e = nameStart;
  while (e < raw.length && raw.charCodeAt(e) !== 32) e++;
  const name = raw.slice(nameStart, e);
  const open = raw.indexOf('(', e);
  const close = raw.lastIndexOf(')');
  const expected = `expected \`Chain NAME (policy ACCEPT 0 packets, 0 bytes)\` or \`Chain NAME (N references)\`, got \`${clip(raw.slice(p))}\``;
  if (name.length === 0) {
    sink.lineProblem('error', 'bad-chain', lineNo, raw, `${expected}; skipped`);
    return undefined;
  }
  if (chains.has(name)) {
    sink.error('duplicate-chain', lineNo, `chain ${clip(name)} is listed twice (first at line ${chains.get(name)!.source.line}); its rules are added to the first listing`, nameStart + 1, e + 1);
    return chains.get(name);
  }
  const chain: Chain = { name, table: 'filter', builtin: false, rules: [], source: { file, line: lineNo } };
  chains.set(name, chain);
  order.push(chain);
  if (open < 0 || close < open) {
    sink.lineProblem('warning', 'bad-chain', lineNo, raw, `${expected}; the chain is kept without details`);
    return chain;
  }
  const inner = raw.slice(open + 1, close).trim().split(/\s+/);
  if (inner[0] === 'policy') {
    chain.builtin = true;
    policyChains.set(name, lineNo);
    const pol = inner[1];
    if (pol === 'ACCEPT' || pol === 'DROP') chain.policy = pol;
    else sink.warn('bad-policy', lineNo, `policy \`${clip(pol ?? '')}\` is not ACCEPT or DROP; the chain is kept without a policy`, open + 2, close + 1);
    if (inner.length >= 6 && inner[3] === 'packets,' && inner[5] === 'bytes') {
      const pk = readCount(inner[2]);
      const by = readCount(inner[4]);
      if (pk && by) {
        const c: Counters = { packets: pk.n, bytes: by.n };
        if (pk.approx || by.approx) c.approximate = true;
        chain.counters = c;
      } else sink.warn('bad-counters', lineNo, `policy counters \`${clip(inner.slice(2).join(' '))}\` are not numbers`, open + 2, close + 1);
    }
  } else if (inner.length === 2 && inner[1] === 'references' && isDigits(inner[0])) {
    chain.references = Number(inner[0]);
  } else {
    sink.warn('bad-chain', lineNo, `${expected}; the chain is kept without details`, open + 1, close + 2);
  }
  return chain;
}

interface RowOut {
  rule: Rule;
  chainTarget: boolean;
  targetStart: number;
  targetEnd: number;
  sawV6: boolean;
}

// Row cursor (module state, so no closure is made per row).
let R = '';
let pos = 0;
let ws = 0;
let we = 0;

/** The next blank-separated column of the row. */
function next(): string {
  let q = pos;
  while (q < R.length && (R.charCodeAt(q) === 32 || R.charCodeAt(q) === 9)) q++;
  ws = q;
  while (q < R.length && R.charCodeAt(q) !== 32 && R.charCodeAt(q) !== 9) q++;
  we = q;
  pos = q;
  return R.slice(ws, we);
}

function badRow(sink: ProblemSink, lineNo: number, msg: string): undefined {
  sink.error('bad-row', lineNo, `${msg}; row skipped`, ws + 1, Math.max(we, ws + 1) + 1);
  return undefined;
}

/** Reads one rule row; returns undefined after reporting an error. */
function readRow(raw: string, lineNo: number, cols: Columns, chain: Chain, file: string, sink: ProblemSink): RowOut | undefined {
  R = raw;
  pos = 0;
  let counters: Counters | undefined;
  if (cols.num) {
    const n = next();
    if (!isDigits(n)) return badRow(sink, lineNo, `expected a rule number, got \`${clip(n)}\``);
    if (Number(n) !== chain.rules.length + 1) sink.warn('rule-number', lineNo, `rule number ${n} where ${chain.rules.length + 1} was expected (rows missing?)`, ws + 1, we + 1);
  }
  if (cols.counts) {
    const a = readCount(next());
    if (!a) return badRow(sink, lineNo, 'expected a packet count');
    const b = readCount(next());
    if (!b) return badRow(sink, lineNo, 'expected a byte count');
    counters = { packets: a.n, bytes: b.n };
    if (a.approx || b.approx) counters.approximate = true;
  }
  let targetName = '';
  let targetStart = 0;
  let targetEnd = 0;
  if (cols.target) {
    // `%-9s ` then the protocol's `!`/blank: one blank after the previous column means a target.
    let q = pos;
    let blanks = 0;
    while (q < raw.length && raw.charCodeAt(q) === 32) {
      q++;
      blanks++;
    }
    const present = pos === 0 ? blanks === 0 : blanks === 1;
    if (present) {
      targetName = next();
      targetStart = ws;
      targetEnd = we;
    }
  }
  const protWord = next();
  if (protWord.length === 0) return badRow(sink, lineNo, 'the row ends early: expected the prot column');
  const [protText, protInv] = bang(protWord);
  const spec: RuleSpec = { matches: [] };
  const proto = canonProto(protText);
  if (proto !== undefined || protInv) spec.proto = { name: proto ?? 'all', invert: protInv };
  if (cols.opt) {
    const o = next();
    if (o === '-f') spec.fragment = { invert: false };
    else if (o === '!f') spec.fragment = { invert: true };
    else if (o !== '--') return badRow(sink, lineNo, `expected the opt column (\`--\`, \`-f\` or \`!f\`), got \`${clip(o)}\``);
  }
  if (cols.via) {
    const iw = next();
    const ow = next();
    if (ow.length === 0) return badRow(sink, lineNo, 'the row ends early: expected the in and out columns');
    const [iname, iinv] = bang(iw);
    const [oname, oinv] = bang(ow);
    const iif = iname === '*' || iname === 'any' ? undefined : parseIface(iname, iinv);
    const oif = oname === '*' || oname === 'any' ? undefined : parseIface(oname, oinv);
    if (iif) spec.iif = iif;
    if (oif) spec.oif = oif;
  }
  const sw = next();
  const s = listAddr(sw);
  if (s.error) return badRow(sink, lineNo, `source column: ${s.error}`);
  if (s.name) sink.warn('host-name', lineNo, `\`${clip(sw)}\` is a name, not an address (listing taken without -n?); meshtrace cannot resolve it`, ws + 1, we + 1);
  const dw = next();
  if (dw.length === 0) return badRow(sink, lineNo, 'the row ends early: expected the destination column');
  const d = listAddr(dw);
  if (d.error) return badRow(sink, lineNo, `destination column: ${d.error}`);
  if (d.name) sink.warn('host-name', lineNo, `\`${clip(dw)}\` is a name, not an address (listing taken without -n?); meshtrace cannot resolve it`, ws + 1, we + 1);
  if (s.addr) spec.src = s.addr;
  if (d.addr) spec.dst = d.addr;
  const family: 'ipv4' | 'ipv6' = s.v6 || d.v6 ? 'ipv6' : 'ipv4';
  const restStart = pos;

  // The extension text: [goto], each match's print, then the target's print.
  S = raw.slice(restStart);
  P = 0;
  let isGoto = false;
  if (peek() === '[goto]') {
    take();
    isGoto = true;
  }
  const v6 = family === 'ipv6';
  for (;;) {
    skipWs();
    if (P >= S.length) break;
    const save = P;
    const m = readMatch(v6);
    if (!m) {
      P = save;
      break;
    }
    const dm = m.known ? MATCH_BY_NAME.get(m.name) : undefined;
    if (dm) {
      const msg = canonicalizeExt(m, dm, family);
      if (msg) {
        m.known = false;
        sink.warn('bad-value', lineNo, `${msg}; \`${m.name}\` is kept unread`, restStart + save + 1, restStart + P + 1);
      }
    } else if (!m.known) {
      sink.warn('unknown-match', lineNo, `match \`${clip(m.name)}\` is unknown to iptables itself here; kept verbatim`, restStart + save + 1, restStart + P + 1);
    }
    spec.matches.push(m);
  }
  skipWs();
  const tailStart = P;
  let chainTarget = false;
  if (targetName.length > 0 || isGoto) {
    let td = isGoto ? undefined : TARGET_BY_NAME.get(targetName);
    chainTarget = isGoto || (!td && !isTargetExtension(targetName));
    const t: XtTarget = { name: targetName, options: [], goto: isGoto, known: td !== undefined || chainTarget, raw: '' };
    spec.target = t;
    const rest = S.slice(tailStart).trim();
    const unknownTarget = !td && !chainTarget;
    if (unknownTarget) {
      // Its print cannot be told from unknown match text before it: all of it stays verbatim.
      t.known = false;
      t.raw = rest;
      sink.warn('unknown-target', lineNo, `target \`${clip(targetName)}\` is not one meshtrace understands; it is kept verbatim${rest ? ` with \`${clip(rest)}\`` : ''}`, targetStart + 1, targetEnd + 1);
    } else if (readTarget(chainTarget ? '' : targetName, t.options)) {
      t.raw = rest;
      if (targetName === 'CT' && rest === 'NOTRACK') {
        // iptables-nft lists `-j NOTRACK` as target CT with the text NOTRACK: it is the NOTRACK target.
        t.name = 'NOTRACK';
        t.raw = '';
        td = TARGET_BY_NAME.get('NOTRACK');
        t.known = td !== undefined;
      }
    } else {
      // Some text before the target's own print was not read: find where the target's part starts.
      t.options = [];
      const leads = chainTarget ? [] : (TARGET_LEADS[targetName] ?? []);
      let found = -1;
      for (let at = S.length; at > tailStart && found < 0; ) {
        at = S.lastIndexOf(' ', at - 1);
        if (at < tailStart) break;
        const sp = S.indexOf(' ', at + 1);
        const w = S.slice(at + 1, sp < 0 ? S.length : sp);
        if (leads.indexOf(w) < 0 && !(w.startsWith('to:') && leads.indexOf('to:') >= 0)) continue;
        P = at + 1;
        const trial: XtOption[] = [];
        if (readTarget(targetName, trial)) {
          found = at + 1;
          t.options = trial;
        }
      }
      let unreadEnd = S.length;
      if (found >= 0) {
        unreadEnd = found;
        t.raw = S.slice(found).trim();
      } else if (leads.length > 0) {
        // The target prints something, but not this: keep the whole text with the target.
        t.known = false;
        t.raw = rest;
        unreadEnd = tailStart;
      }
      const unread = S.slice(tailStart, unreadEnd).trim();
      if (unread.length > 0) {
        const sp = unread.indexOf(' ');
        spec.matches.push({ name: sp > 0 ? unread.slice(0, sp) : unread, options: [], known: false, raw: unread });
      }
      sink.warn('unread-text', lineNo, `cannot read \`${clip(unread || rest)}\` (not the print of a match or target meshtrace knows); kept verbatim`, restStart + tailStart + 1, restStart + S.length + 1);
    }
    if (t.known && td) {
      const msg = canonicalizeExt(t, td, family);
      if (msg) {
        t.known = false;
        sink.warn('bad-value', lineNo, `${msg}; \`${t.name}\` is kept unread`, targetStart + 1, targetEnd + 1);
      }
    }
  } else if (tailStart < S.length) {
    const unread = S.slice(tailStart).trim();
    const sp = unread.indexOf(' ');
    spec.matches.push({ name: sp > 0 ? unread.slice(0, sp) : unread, options: [], known: false, raw: unread });
    sink.warn('unread-text', lineNo, `cannot read \`${clip(unread)}\` (not the print of a match meshtrace knows); kept verbatim`, restStart + tailStart + 1, raw.length + 1);
  }
  const rule: Rule = {
    id: '',
    table: 'filter',
    chain: chain.name,
    index: chain.rules.length,
    spec,
    text: raw,
    source: { file, line: lineNo },
  };
  if (counters) rule.counters = counters;
  return { rule, chainTarget, targetStart, targetEnd, sawV6: family === 'ipv6' };
}
