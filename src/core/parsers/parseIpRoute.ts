/**
 * Reads `ip route`, `ip -6 route`, `ip route show table all` text and `ip -j route` JSON into
 * Route values.
 *
 * Grammar source: iproute2 ip/iproute.c `print_route` and its helpers (`print_rt_flags`,
 * `print_rta_multipath`, `print_rta_metrics`, `print_rta_cacheinfo`, `print_cache_flags`,
 * `print_rt_pref`). One route per line:
 *
 * ```
 * [TYPE] DST [from SRC] [nhid N] [tos T] [via [FAMILY] GW] [dev D] [table T] [proto P] [scope S]
 *   [src A] [metric M] [FLAGS…] [mark M] [realm(s) R] [uid U] [expires Ns] [error E] [METRICS…]
 *   [iif I] [pref low|medium|high]
 *         nexthop via GW dev D weight W [FLAGS…]        (tab-indented, multipath)
 *     cache [<flags>] …                                 (IPv4 cloned routes only)
 * ```
 * TYPE is printed for every type but unicast (rtnl_rtntype_n2a). DST is `default`, `ADDR/LEN`, a
 * bare host address (a /32 or /128), or `0/LEN` when the kernel sent a length but no address.
 * `table` is printed for every table but main; `proto boot` and `scope global` are not printed.
 */
import type { Route, RouteType } from '../model/link';
import { splitLines, type ParseOptions, type ParseResult } from '../problem';
import { J, type JsonObject, type JsonValue } from './json';
import {
  MAX_LINE,
  Reporter,
  anyAddr,
  clip,
  hasKey,
  hintWord,
  isAnnotation,
  jsonArray,
  jsonKind,
  jsonText,
  onelineParts,
  parseAddr,
  parsePrefix,
  parseUint,
  tokenize,
  type Family,
  type Prefix,
  type Tok,
} from './iproute2Util';

const ROUTE_TYPES = new Set<RouteType>([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'anycast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
]);

/** print_rt_flags, in print order. */
const ROUTE_FLAGS = new Set([
  'dead',
  'onlink',
  'pervasive',
  'offload',
  'trap',
  'notify',
  'linkdown',
  'unresolved',
  'rt_offload',
  'rt_trap',
  'rt_offload_failed',
]);

/**
 * Attributes that take one value and that the model does not keep: they do not change which
 * route a packet takes (cache info, marks, realms, uid, ipv6 router preference …).
 */
const IGNORED_KV = new Set([
  'mark',
  'realm',
  'realms',
  'uid',
  'expires',
  'error',
  'users',
  'used',
  'age',
  'ipid',
  'ts',
  'tsage',
  'iif',
  'pref',
  'ttl-propogate',
]);

/** print_rta_metrics names (mx_names); each is followed by an optional `lock` and one value. */
const METRICS = new Set([
  'mtu',
  'window',
  'rtt',
  'rttvar',
  'ssthresh',
  'cwnd',
  'advmss',
  'reordering',
  'hoplimit',
  'initcwnd',
  'rto_min',
  'initrwnd',
  'quickack',
  'congctl',
  'fastopen_no_cookie',
]);

/** Route attributes with one value that the model keeps (or reports as not modelled). */
const ROUTE_KV = new Set(['from', 'nhid', 'as', 'tos', 'via', 'dev', 'table', 'proto', 'scope', 'src', 'metric']);

/** Words that start an attribute, where an `encap` description ends. */
const KEYWORDS = new Set([
  'from',
  'nhid',
  'as',
  'tos',
  'via',
  'dev',
  'table',
  'proto',
  'scope',
  'src',
  'metric',
  'weight',
  ...ROUTE_FLAGS,
  ...IGNORED_KV,
  ...METRICS,
  'features',
]);

/** A route being read: the dst family may only be known after its next hops are read. */
interface Draft {
  route: Route;
  line: number;
  dst: Prefix | 'default';
  dstTok?: Tok;
  v6: boolean;
  cache: boolean;
  /** The line said `table T` (otherwise main, or the table the hint's command names). */
  tablePrinted?: boolean;
}

/**
 * Parses `ip route [show table all]` text. Never throws.
 * Example (`ip route show table all` in captures/netns-lab/vm/router):
 * ```
 * default via 198.51.100.2 dev vxlan0 table 100
 * unreachable 192.0.2.128/25 table 100
 * 192.0.2.0/24 dev br0 proto kernel scope link src 192.0.2.1
 * local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1
 * fe80::/64 dev br0 proto kernel metric 256 pref medium
 * ```
 */
export function parseIpRoute(text: string, opts: ParseOptions = {}): ParseResult<Route[]> {
  const r = new Reporter(opts);
  const out: Route[] = [];
  const hintFamily = familyHint(opts.hint);
  const hintTable = tableHint(opts.hint);
  const lines = splitLines(text);
  let draft: Draft | undefined;
  let nhInfoNoted = false;

  const flush = (): void => {
    if (draft) finishDraft(draft, r, out, hintFamily);
    draft = undefined;
  };

  for (let idx = 0; idx < lines.length; idx++) {
    const L = idx + 1;
    if (lines[idx].length > MAX_LINE) {
      r.add('error', 'line-too-long', L, `line of ${lines[idx].length} characters is not ip route output; skipped`);
      continue;
    }
    if (isAnnotation(lines[idx])) {
      r.annotation(L, lines[idx]);
      continue;
    }
    for (const raw of onelineParts(lines[idx])) {
      if (raw.trim() === '') continue;
      const toks = tokenize(raw);
      const c0 = raw.charCodeAt(0);
      if (c0 === 32 || c0 === 9) {
        // Continuation lines of the route above (print_rta_multipath, print_cache_flags).
        const t0 = toks[0].text;
        if (!draft) {
          r.line('error', 'orphan-line', L, raw, `\`${clip(raw.trim())}\` is indented but follows no route; skipped`);
          continue;
        }
        if (t0 === 'nexthop') readNexthop(toks, 1, L, r, draft);
        else if (t0 === 'cache') draft.cache = true;
        else if (t0 === 'nh_info') {
          if (!nhInfoNoted) r.line('info', 'not-modelled', L, raw, '`nh_info` (nexthop object details) is not read');
          nhInfoNoted = true;
        } else r.line('warning', 'unknown-line', L, raw, `unknown continuation line \`${clip(raw.trim())}\`; skipped`);
        continue;
      }
      flush();
      draft = readRouteLine(toks, L, raw, r);
      if (draft && hintTable && !draft.tablePrinted) draft.route.table = hintTable;
    }
  }
  flush();
  return { value: out, problems: r.finish() };
}

/**
 * `ip route show table T` prints no `table` word (print_route: `!filter.tb`), so the table named
 * by the command in the hint is the default; `table all` lists every table with its name.
 */
function tableHint(hint: string | undefined): string | undefined {
  const t = hintWord(hint, 'table');
  return t === 'all' ? undefined : t;
}

/** `hint` naming IPv6 (`ip -6 route`, `ipv6`, `inet6`) makes `default` an IPv6 route. */
function familyHint(hint: string | undefined): Family | undefined {
  if (!hint) return undefined;
  return /(^|[^a-z0-9])(-6|inet6|ipv6)([^a-z0-9]|$)/i.test(hint) ? 'inet6' : undefined;
}

function readRouteLine(toks: Tok[], L: number, raw: string, r: Reporter): Draft | undefined {
  let i = 0;
  if (toks[0].text === 'Deleted') {
    r.line('info', 'deleted-route', L, raw, '`Deleted` route (ip monitor output) skipped');
    return undefined;
  }
  let type: RouteType = 'unicast';
  const t0 = toks[0].text;
  if (ROUTE_TYPES.has(t0 as RouteType)) {
    type = t0 as RouteType;
    i = 1;
  } else if (t0 === 'unspec' || t0 === 'xresolve' || /^\d+$/.test(t0)) {
    r.add('error', 'unsupported-route-type', L, `route type \`${t0}\` cannot be routed through; route skipped`, toks[0]);
    return undefined;
  }
  const dt = toks[i];
  if (!dt) {
    r.line('error', 'bad-route', L, raw, `expected a destination after \`${t0}\`; route skipped`);
    return undefined;
  }
  let dst: Prefix | 'default';
  if (dt.text === 'default') dst = 'default';
  else {
    const p = parsePrefix(dt.text);
    if (typeof p === 'string') {
      r.add('error', 'bad-route', L, `expected \`default\`, ADDRESS/LEN or a host address as destination, got \`${clip(dt.text, 40)}\` (bad ${p}); route skipped`, dt);
      return undefined;
    }
    dst = p;
  }
  const route: Route = { type, dst: '', prefixLen: 0, family: 'inet', table: 'main', flags: [], source: r.src(L) };
  const d: Draft = { route, line: L, dst, dstTok: dt, v6: false, cache: false };
  readAttrs(toks, i + 1, L, r, d);
  return d;
}

/** Reads route attributes from `toks[i]` on (print_route order, but any order is accepted). */
function readAttrs(toks: Tok[], i: number, L: number, r: Reporter, d: Draft): void {
  const rt = d.route;
  for (; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    if (ROUTE_FLAGS.has(k)) {
      rt.flags.push(k);
      continue;
    }
    if (k === 'cache' || k === 'Oifs:') {
      d.cache = true;
      continue;
    }
    if (k === 'encap') {
      // lwt_print_encap: a type and type-specific words; skipped up to the next route keyword.
      let j = i + 1;
      while (j < toks.length && !KEYWORDS.has(toks[j].text)) j++;
      r.add('info', 'not-modelled', L, `lightweight tunnel \`${clip(toks.slice(i, j).map((x) => x.text).join(' '), 50)}\` is not modelled`, t);
      i = j - 1;
      continue;
    }
    if (k === 'features') {
      // print_rtax_features: `ecn`, `tcp_usec_ts`, or a hex mask.
      while (i + 1 < toks.length && /^(ecn|tcp_usec_ts|0x[0-9a-fA-F]+)$/.test(toks[i + 1].text)) i++;
      continue;
    }
    const isMetric = METRICS.has(k);
    if (isMetric && toks[i + 1]?.text === 'lock') i++;
    const v = toks[i + 1];
    const known = isMetric || IGNORED_KV.has(k) || ROUTE_KV.has(k);
    if (!known) {
      r.add('warning', 'unknown-token', L, `unknown route word \`${clip(k, 30)}\`; kept in flags`, t);
      rt.flags.push(k);
      continue;
    }
    if (!v) {
      r.add('error', 'missing-value', L, `\`${k}\` without a value at the end of the route`, t);
      break;
    }
    i++;
    if (isMetric) continue;
    switch (k) {
      case 'via': {
        let g = v;
        // print_rta_via: `via inet6 fe80::1` (a gateway of another family, RFC 5549).
        if ((v.text === 'inet' || v.text === 'inet6') && toks[i + 1]) {
          g = toks[i + 1];
          i++;
        }
        const a = parseAddr(g.text);
        if (!a) r.add('error', 'bad-address', L, `gateway \`${clip(g.text, 40)}\` is not an IP address`, g);
        else rt.via = a.addr;
        break;
      }
      case 'src': {
        const a = parseAddr(v.text);
        if (!a) r.add('error', 'bad-address', L, `preferred source \`${clip(v.text, 40)}\` is not an IP address`, v);
        else rt.src = a.addr;
        break;
      }
      case 'dev':
        rt.dev = v.text;
        break;
      case 'table':
        rt.table = v.text;
        d.tablePrinted = true;
        break;
      case 'proto':
        rt.proto = v.text;
        break;
      case 'scope':
        rt.scope = v.text;
        break;
      case 'tos':
        rt.tos = v.text;
        break;
      case 'metric': {
        const m = parseUint(v.text);
        if (m === undefined) r.add('error', 'bad-number', L, `metric \`${clip(v.text, 20)}\` is not a number`, v);
        else rt.metric = m;
        break;
      }
      case 'pref':
        d.v6 = true; // print_rt_pref: RTA_PREF exists for IPv6 routes only.
        break;
      case 'as':
        if (v.text === 'to' && toks[i + 1]) i++;
        break;
      case 'from':
        r.add('info', 'not-modelled', L, `source-specific route \`from ${clip(v.text, 40)}\` is read as if it had no source selector`, t);
        break;
      case 'nhid':
        r.add('info', 'not-modelled', L, `nexthop object \`nhid ${clip(v.text, 20)}\` is not resolved; its gateway is unknown`, t);
        break;
      default:
      // IGNORED_KV: read and dropped.
    }
  }
}

/** `nexthop [via [FAMILY] GW] [dev D] [weight W] [FLAGS…]` (print_rta_multipath). */
function readNexthop(toks: Tok[], from: number, L: number, r: Reporter, d: Draft): void {
  const nh: { via?: string; dev?: string; weight?: number } = {};
  const flags: string[] = [];
  for (let i = from; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    if (ROUTE_FLAGS.has(k)) {
      flags.push(k);
      continue;
    }
    if (k === 'encap') {
      let j = i + 1;
      while (j < toks.length && !KEYWORDS.has(toks[j].text)) j++;
      r.add('info', 'not-modelled', L, 'lightweight tunnel on a next hop is not modelled', t);
      i = j - 1;
      continue;
    }
    const v = toks[i + 1];
    if (!['via', 'dev', 'weight', 'as', 'realms', 'realm'].includes(k)) {
      r.add('warning', 'unknown-token', L, `unknown next-hop word \`${clip(k, 30)}\`; skipped`, t);
      continue;
    }
    if (!v) {
      r.add('error', 'missing-value', L, `\`${k}\` without a value`, t);
      break;
    }
    i++;
    if (k === 'via') {
      let g = v;
      if ((v.text === 'inet' || v.text === 'inet6') && toks[i + 1]) {
        g = toks[i + 1];
        i++;
      }
      const a = parseAddr(g.text);
      if (!a) r.add('error', 'bad-address', L, `next-hop gateway \`${clip(g.text, 40)}\` is not an IP address`, g);
      else nh.via = a.addr;
    } else if (k === 'dev') nh.dev = v.text;
    else if (k === 'weight') {
      const w = parseUint(v.text, 256);
      if (w === undefined) r.add('error', 'bad-number', L, `weight \`${clip(v.text, 20)}\` is not a number`, v);
      else nh.weight = w;
    } else if (k === 'as' && v.text === 'to' && toks[i + 1]) i++;
  }
  if (flags.length > 0) {
    r.add('info', 'not-modelled', L, `next-hop flags \`${flags.join(' ')}\` are not kept (the model has no per-next-hop flags)`, toks[0]);
  }
  (d.route.nexthops ??= []).push(nh);
}

/** Settles the family and destination and keeps the route (unless it is a cache entry). */
function finishDraft(d: Draft, r: Reporter, out: Route[], hint: Family | undefined): void {
  const rt = d.route;
  if (d.cache) {
    r.add('info', 'route-cache', d.line, 'routing cache entry skipped: cached routes are not part of any table', d.dstTok);
    return;
  }
  const gw = [rt.via, rt.src, ...(rt.nexthops ?? []).map((n) => n.via)];
  let family: Family | undefined = d.dst === 'default' ? undefined : d.dst.family;
  if (!family) {
    for (const g of gw) {
      const a = g ? parseAddr(g) : undefined;
      if (a) {
        family = a.family;
        break;
      }
    }
  }
  family ??= d.v6 ? 'inet6' : hint ?? 'inet';
  rt.family = family;
  if (d.dst === 'default' || d.dst.family === undefined) {
    rt.dst = anyAddr(family);
    rt.prefixLen = d.dst === 'default' ? 0 : d.dst.prefixLen;
    if (rt.prefixLen > (family === 'inet' ? 32 : 128)) {
      r.add('error', 'bad-route', d.line, `prefix length ${rt.prefixLen} is too long for ${family}; route skipped`, d.dstTok);
      return;
    }
  } else {
    rt.dst = d.dst.network;
    rt.prefixLen = d.dst.prefixLen;
    if (d.dst.network !== d.dst.addr) {
      r.add('warning', 'host-bits', d.line, `destination ${d.dst.addr}/${d.dst.prefixLen} has host bits set (the kernel never stores that); read as ${d.dst.network}/${d.dst.prefixLen}`, d.dstTok);
    }
  }
  out.push(rt);
}

/**
 * Parses `ip -j route [show table all]` JSON into the same Route values as the text.
 * Example (`ip -j route show table all`, abridged):
 * ```
 * [{"dst":"default","gateway":"198.51.100.2","dev":"vxlan0","table":"100","flags":[]},
 *  {"type":"blackhole","dst":"198.18.0.0/15","flags":[]}]
 * ```
 */
export function parseIpRouteJson(text: string, opts: ParseOptions = {}): ParseResult<Route[]> {
  const r = new Reporter(opts);
  const out: Route[] = [];
  const hint = familyHint(opts.hint);
  const hintTable = tableHint(opts.hint);
  const items = jsonArray(text, r, 'routes (`ip -j route`)');
  if (!items) return { value: out, problems: r.finish() };
  for (const item of items.list) {
    const L = items.line(item);
    const o = J.obj(item);
    if (!o) {
      r.add('error', 'json-shape', L, `expected a route object, got ${jsonKind(item)}; skipped`);
      continue;
    }
    const d = readJsonRoute(o, L, r);
    if (d && hintTable && !hasKey(o, 'table')) d.route.table = hintTable;
    if (d) finishDraft(d, r, out, hint);
  }
  return { value: out, problems: r.finish() };
}

function readJsonRoute(o: JsonObject, L: number, r: Reporter): Draft | undefined {
  if (o.deleted === true) {
    r.add('info', 'deleted-route', L, '`deleted` route (ip monitor output) skipped');
    return undefined;
  }
  const typeText = J.str(o.type) ?? 'unicast';
  if (!ROUTE_TYPES.has(typeText as RouteType)) {
    r.add('error', 'unsupported-route-type', L, `route type "${clip(typeText, 20)}" cannot be routed through; route skipped`);
    return undefined;
  }
  const dstText = (J.str(o.dst) ?? '').trim();
  let dst: Prefix | 'default';
  if (dstText === 'default') dst = 'default';
  else {
    const p = parsePrefix(dstText);
    if (typeof p === 'string') {
      r.add('error', 'bad-route', L, `"dst" ${JSON.stringify(clip(dstText, 40))} is not \`default\`, ADDRESS/LEN or an address; route skipped`);
      return undefined;
    }
    dst = p;
  }
  const route: Route = { type: typeText as RouteType, dst: '', prefixLen: 0, family: 'inet', table: J.str(o.table) ?? 'main', flags: [], source: r.src(L) };
  const d: Draft = { route, line: L, dst, v6: hasKey(o, 'pref'), cache: hasKey(o, 'cache') };
  const addr = (k: string): string | undefined => {
    const s = J.str(o[k]);
    if (s === undefined) return undefined;
    const a = parseAddr(s);
    if (!a) r.add('error', 'bad-address', L, `"${k}" ${JSON.stringify(clip(s, 40))} is not an IP address`);
    return a?.addr;
  };
  const via = addr('gateway') ?? viaHost(o.via, L, r);
  if (via) route.via = via;
  const src = addr('prefsrc');
  if (src) route.src = src;
  const str = (k: string, f: 'dev' | 'proto' | 'scope' | 'tos'): void => {
    const v = J.str(o[k]);
    if (v !== undefined) route[f] = v;
  };
  str('dev', 'dev');
  str('protocol', 'proto');
  str('scope', 'scope');
  str('tos', 'tos');
  const metric = J.num(o.metric);
  if (metric !== undefined) route.metric = metric;
  for (const f of J.arr(o.flags) ?? []) route.flags.push(jsonText(f));
  if (hasKey(o, 'from') || hasKey(o, 'src')) r.add('info', 'not-modelled', L, `source-specific route (from ${clip(jsonText(o.from ?? o.src), 40)}) is read as if it had no source selector`);
  if (hasKey(o, 'nhid')) r.add('info', 'not-modelled', L, `nexthop object nhid ${jsonText(o.nhid)} is not resolved; its gateway is unknown`);
  for (const nv of J.arr(o.nexthops) ?? []) {
    const n = J.obj(nv);
    if (!n) {
      r.add('error', 'json-shape', L, `a next hop should be an object, got ${jsonKind(nv)}; skipped`);
      continue;
    }
    const nh: { via?: string; dev?: string; weight?: number } = {};
    const g = J.str(n.gateway);
    const ga = g !== undefined ? parseAddr(g) : undefined;
    if (g !== undefined && !ga) r.add('error', 'bad-address', L, `next-hop gateway ${JSON.stringify(clip(g, 40))} is not an IP address`);
    const nvia = ga?.addr ?? viaHost(n.via, L, r);
    if (nvia) nh.via = nvia;
    const dev = J.str(n.dev);
    if (dev !== undefined) nh.dev = dev;
    const w = J.num(n.weight);
    if (w !== undefined) nh.weight = w;
    const nf = (J.arr(n.flags) ?? []).map((x) => jsonText(x));
    if (nf.length > 0) r.add('info', 'not-modelled', L, `next-hop flags \`${nf.join(' ')}\` are not kept (the model has no per-next-hop flags)`);
    (route.nexthops ??= []).push(nh);
  }
  return d;
}

/** print_rta_via in JSON: `"via": {"family": "inet6", "host": "fe80::1"}`. */
function viaHost(v: JsonValue | undefined, L: number, r: Reporter): string | undefined {
  const o = J.obj(v);
  if (!o) return undefined;
  const h = J.str(o.host);
  const a = parseAddr(h);
  if (!a) r.add('error', 'bad-address', L, `"via" host ${JSON.stringify(clip(h ?? '', 40))} is not an IP address`);
  return a?.addr;
}
