/**
 * Reads `bridge fdb show` text and `bridge -j fdb show` JSON into FdbEntry values.
 *
 * Grammar source: iproute2 bridge/fdb.c `print_fdb`, `fdb_print_flags`, `state_n2a`. One entry
 * per line:
 *
 * ```
 * MAC [dev IF] [dst ADDR] [vlan N] [port N] [vni N] [src_vni N] [via IF | via ifindex N] [nhid N]
 *   [link-netnsid N] [used A/B] [self] [router] [extern_learn] [offload] [master] [sticky] [locked]
 *   [master BRIDGE] (permanent|static|stale|state=0xN|)
 * ```
 * `dev` is left out when the listing was filtered by device (`bridge fdb show dev X`); the
 * learned (NUD_REACHABLE) state prints as nothing. The `master` flag (NTF_MASTER) and `master
 * BRIDGE` (NDA_MASTER) use the same word; the flag can only be followed by another flag, a state
 * or the end of the line.
 */
import type { FdbEntry } from '../model/link';
import { splitLines, type ParseOptions, type ParseResult } from '../problem';
import { J, type JsonObject } from './json';
import {
  MAX_LINE,
  Reporter,
  clip,
  hasKey,
  hintWord,
  isAnnotation,
  isLladdr,
  jsonArray,
  jsonKind,
  jsonText,
  parseAddr,
  parseUint,
  tokenize,
  type Tok,
} from './iproute2Util';

/** fdb_print_flags words, in print order (`self` is kept as FdbEntry.self). */
const FDB_FLAGS = new Set(['self', 'router', 'extern_learn', 'offload', 'master', 'sticky', 'locked']);
/** state_n2a words (`state=0x..` for others). */
const FDB_STATES = new Set(['permanent', 'static', 'stale']);
/** Attributes with one value the model does not keep (stats, nexthop groups, remote netns). */
const IGNORED_KV = new Set(['src_vni', 'nhid', 'link-netnsid', 'used']);

/**
 * Parses `bridge fdb show` text. Never throws.
 * Example (`bridge fdb show` in captures/netns-lab/vm/router):
 * ```
 * 33:33:00:00:00:01 dev br0 self permanent
 * 9e:6f:da:ff:43:e2 dev leg1 master br0
 * 00:00:00:00:00:00 dev vxlan0 dst 203.0.113.2 self permanent
 * ```
 */
export function parseBridgeFdb(text: string, opts: ParseOptions = {}): ParseResult<FdbEntry[]> {
  const r = new Reporter(opts);
  const out: FdbEntry[] = [];
  const lines = splitLines(text);
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const L = idx + 1;
    if (raw.length > MAX_LINE) {
      r.add('error', 'line-too-long', L, `line of ${raw.length} characters is not bridge fdb output; skipped`);
      continue;
    }
    if (raw.trim() === '') continue;
    if (isAnnotation(raw)) {
      r.annotation(L, raw);
      continue;
    }
    const e = readFdbLine(tokenize(raw), raw, L, r, opts.hint);
    if (e) out.push(e);
  }
  return { value: out, problems: r.finish() };
}

function readFdbLine(toks: Tok[], raw: string, L: number, r: Reporter, hint: string | undefined): FdbEntry | undefined {
  let i = 0;
  if (toks[0].text === 'Deleted') {
    r.line('info', 'deleted-entry', L, raw, '`Deleted` entry (bridge monitor output) skipped');
    return undefined;
  }
  const macTok = toks[i];
  if (!isLladdr(macTok.text)) {
    r.line('error', 'bad-fdb', L, raw, `expected \`MAC dev IF …\` (e.g. \`02:42:0a:00:00:03 dev vxlan0 master br0\`), got \`${clip(raw.trim())}\`; skipped`);
    return undefined;
  }
  const e: FdbEntry = { mac: macTok.text.toLowerCase(), dev: '', self: false, flags: [], source: r.src(L) };
  let sawDev = false;
  for (i = 1; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    const next = toks[i + 1]?.text;
    if (k === 'master' && next !== undefined && !FDB_FLAGS.has(next) && !FDB_STATES.has(next) && !next.startsWith('state=')) {
      e.master = next;
      i++;
      continue;
    }
    if (FDB_FLAGS.has(k)) {
      if (k === 'self') e.self = true;
      else e.flags.push(k);
      continue;
    }
    if (FDB_STATES.has(k)) {
      e.state = k;
      continue;
    }
    if (k.startsWith('state=')) {
      // state_n2a: a NUD state it has no word for, `state=%#x` (JSON prints the bare hex).
      e.state = k.slice('state='.length);
      continue;
    }
    if (!['dev', 'dst', 'vlan', 'port', 'vni', 'via', ...IGNORED_KV].includes(k)) {
      r.add('warning', 'unknown-token', L, `unknown fdb word \`${clip(k, 30)}\`; kept in flags`, t);
      e.flags.push(k);
      continue;
    }
    const v = toks[i + 1];
    if (!v) {
      r.add('error', 'missing-value', L, `\`${k}\` without a value at the end of the entry`, t);
      break;
    }
    i++;
    switch (k) {
      case 'dev':
        e.dev = v.text;
        sawDev = true;
        break;
      case 'dst': {
        const a = parseAddr(v.text);
        if (!a) r.add('error', 'bad-address', L, `dst \`${clip(v.text, 40)}\` is not an IP address`, v);
        else e.dst = a.addr;
        break;
      }
      case 'vlan':
      case 'port':
      case 'vni': {
        // VLAN ids are 12 bits (VLAN_VID_MASK), VNIs 24 bits, ports 16 bits.
        const n = parseUint(v.text, k === 'vni' ? 0xffffff : k === 'vlan' ? 4095 : 65535);
        if (n === undefined) r.add('error', 'bad-number', L, `${k} \`${clip(v.text, 20)}\` is not a number`, v);
        else e[k] = n;
        break;
      }
      case 'via':
        // `via IF` (NDA_IFINDEX) or `via ifindex N` (in another netns): the remote's egress device.
        if (v.text === 'ifindex' && toks[i + 1]) i++;
        r.add('info', 'not-modelled', L, 'the egress device of a remote (`via`) is not kept', t);
        break;
      default:
      // IGNORED_KV: stats and attributes that do not change forwarding here.
    }
  }
  if (!sawDev) {
    // `bridge fdb show dev X` prints no `dev`: the command in the hint names it.
    const dev = hintWord(hint, 'dev');
    if (dev) e.dev = dev;
    r.add('warning', 'no-dev', L, `entry without \`dev\` (a listing filtered by device?)${e.dev ? `; device taken from the hint: ${e.dev}` : ''}`, macTok);
  }
  return e;
}

/**
 * Parses `bridge -j fdb show` JSON into the same FdbEntry values as the text.
 * Example (`bridge -j fdb show` in captures/netns-lab/vm/router, abridged):
 * ```
 * [{"mac":"9e:6f:da:ff:43:e2","ifname":"leg1","flags":[],"master":"br0","state":""},
 *  {"mac":"00:00:00:00:00:00","ifname":"vxlan0","dst":"203.0.113.2","flags":["self"],"state":"permanent"}]
 * ```
 */
export function parseBridgeFdbJson(text: string, opts: ParseOptions = {}): ParseResult<FdbEntry[]> {
  const r = new Reporter(opts);
  const out: FdbEntry[] = [];
  const items = jsonArray(text, r, 'fdb entries (`bridge -j fdb show`)');
  if (!items) return { value: out, problems: r.finish() };
  for (const item of items.list) {
    const L = items.line(item);
    const o = J.obj(item);
    if (!o) {
      r.add('error', 'json-shape', L, `expected an fdb entry object, got ${jsonKind(item)}; skipped`);
      continue;
    }
    const e = readJsonFdb(o, L, r);
    if (e) out.push(e);
  }
  return { value: out, problems: r.finish() };
}

function readJsonFdb(o: JsonObject, L: number, r: Reporter): FdbEntry | undefined {
  if (o.deleted === true) {
    r.add('info', 'deleted-entry', L, '`deleted` entry (bridge monitor output) skipped');
    return undefined;
  }
  const mac = J.str(o.mac);
  if (mac === undefined || !isLladdr(mac)) {
    r.add('error', 'bad-fdb', L, `fdb entry without a valid "mac" (${clip(jsonText(o.mac), 30)}); skipped`);
    return undefined;
  }
  const e: FdbEntry = { mac: mac.toLowerCase(), dev: J.str(o.ifname) ?? '', self: false, flags: [], source: r.src(L) };
  if (!hasKey(o, 'ifname')) r.add('warning', 'no-dev', L, 'fdb entry without "ifname" (a listing filtered by device?)');
  const dst = J.str(o.dst);
  if (dst !== undefined) {
    const a = parseAddr(dst);
    if (!a) r.add('error', 'bad-address', L, `"dst" ${JSON.stringify(clip(dst, 40))} is not an IP address`);
    else e.dst = a.addr;
  }
  for (const k of ['vlan', 'port', 'vni'] as const) {
    const n = J.num(o[k]);
    if (n !== undefined) e[k] = n;
  }
  const master = J.str(o.master);
  if (master !== undefined) e.master = master;
  for (const f of J.arr(o.flags) ?? []) {
    const s = jsonText(f);
    if (s === 'self') e.self = true;
    else e.flags.push(s);
  }
  const state = J.str(o.state);
  if (state) e.state = state;
  if (hasKey(o, 'viaIf') || hasKey(o, 'viaIfIndex')) r.add('info', 'not-modelled', L, 'the egress device of a remote (`via`) is not kept');
  return e;
}
