/**
 * Reads `ip neigh` (`ip -4/-6 neigh`, `ip neigh show proxy`, `ip -s neigh`) text and `ip -j neigh`
 * JSON into Neighbour values.
 *
 * Grammar source: iproute2 ip/ipneigh.c `print_neigh`, `print_neigh_state`, `print_cacheinfo`.
 * One entry per line:
 *
 * ```
 * [Deleted |miss ]DST [dev IF] [lladdr LL] [router] [proxy] [managed] [extern_learn] [offload]
 *   [extern_valid] [ref N used A/B/C probes N] [STATE…] [proto P]
 * ```
 * STATE words are upper case (INCOMPLETE REACHABLE STALE DELAY PROBE FAILED NOARP PERMANENT), and
 * an entry may have none (proxy entries). The model's `state` list also keeps the lower-case
 * entry flags other than `router` (`proxy`, `extern_learn`, `offload`, `managed`, `extern_valid`),
 * so nothing the dump says is lost: Neighbour has no separate flags field.
 */
import type { Neighbour } from '../model/link';
import { splitLines, type ParseOptions, type ParseResult } from '../problem';
import { J, type JsonObject } from './json';
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
  parseAddr,
  tokenize,
  type Tok,
} from './iproute2Util';

/** print_neigh_state words, in print order. */
const NUD_STATES = new Set(['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE']);
/** Entry flags besides `router`, kept in `state` (see the file comment). */
const ENTRY_FLAGS = ['proxy', 'managed', 'extern_learn', 'offload', 'extern_valid'];

/**
 * Parses `ip neigh` text. Never throws.
 * Example (`ip neigh` in captures/netns-lab/vm/router):
 * ```
 * 192.0.2.10 dev br0 lladdr 9e:6f:da:ff:43:e2 REACHABLE
 * 198.51.100.2 dev vxlan0 lladdr 02:00:00:00:42:02 PERMANENT
 * ```
 */
export function parseIpNeigh(text: string, opts: ParseOptions = {}): ParseResult<Neighbour[]> {
  const r = new Reporter(opts);
  const out: Neighbour[] = [];
  const lines = splitLines(text);
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const L = idx + 1;
    if (raw.length > MAX_LINE) {
      r.add('error', 'line-too-long', L, `line of ${raw.length} characters is not ip neigh output; skipped`);
      continue;
    }
    if (raw.trim() === '') continue;
    if (isAnnotation(raw)) {
      r.annotation(L, raw);
      continue;
    }
    const n = readNeighLine(tokenize(raw), raw, L, r);
    if (n) out.push(n);
  }
  return { value: out, problems: r.finish() };
}

function readNeighLine(toks: Tok[], raw: string, L: number, r: Reporter): Neighbour | undefined {
  const t0 = toks[0].text;
  if (t0 === 'Deleted' || t0 === 'miss') {
    r.line('info', 'deleted-entry', L, raw, `\`${t0}\` entry (ip monitor output) skipped`);
    return undefined;
  }
  const a = parseAddr(t0);
  if (!a) {
    r.line('error', 'bad-neigh', L, raw, `expected \`ADDRESS dev IF lladdr MAC STATE\` (e.g. \`10.0.0.3 dev vxlan0 lladdr 02:42:0a:00:00:03 PERMANENT\`), got \`${clip(raw.trim())}\`; skipped`);
    return undefined;
  }
  const n: Neighbour = { dst: a.addr, router: false, state: [], source: r.src(L) };
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    if (NUD_STATES.has(k)) {
      n.state.push(k);
      continue;
    }
    if (k === 'router') {
      n.router = true;
      continue;
    }
    if (ENTRY_FLAGS.includes(k)) {
      n.state.push(k);
      continue;
    }
    if (!['dev', 'lladdr', 'ref', 'used', 'probes', 'proto'].includes(k)) {
      r.add('warning', 'unknown-token', L, `unknown neighbour word \`${clip(k, 30)}\`; kept in state`, t);
      n.state.push(k);
      continue;
    }
    const v = toks[i + 1];
    if (!v) {
      r.add('error', 'missing-value', L, `\`${k}\` without a value at the end of the entry`, t);
      break;
    }
    i++;
    if (k === 'dev') n.dev = v.text;
    else if (k === 'lladdr') {
      // ll_addr_n2a prints hex pairs; tunnel neighbours (ipip, gre) have an IP address instead.
      if (!isLladdr(v.text) && !parseAddr(v.text)) r.add('warning', 'bad-lladdr', L, `lladdr \`${clip(v.text, 40)}\` is neither a MAC nor an IP address; kept as is`, v);
      n.lladdr = isLladdr(v.text) ? v.text.toLowerCase() : v.text;
    }
    // `ref`, `used`, `probes` (ip -s) and `proto` do not change forwarding; not kept.
  }
  return n;
}

/**
 * Parses `ip -j neigh` JSON into the same Neighbour values as the text.
 * Example (`ip -j neigh` in captures/netns-lab/vm/router, abridged):
 * ```
 * [{"dst":"192.0.2.99","dev":"br0","lladdr":"02:00:00:00:00:99","state":["PERMANENT"]}]
 * ```
 */
export function parseIpNeighJson(text: string, opts: ParseOptions = {}): ParseResult<Neighbour[]> {
  const r = new Reporter(opts);
  const out: Neighbour[] = [];
  const items = jsonArray(text, r, 'neighbours (`ip -j neigh`)');
  if (!items) return { value: out, problems: r.finish() };
  for (const item of items.list) {
    const L = items.line(item);
    const o = J.obj(item);
    if (!o) {
      r.add('error', 'json-shape', L, `expected a neighbour object, got ${jsonKind(item)}; skipped`);
      continue;
    }
    const n = readJsonNeigh(o, L, r);
    if (n) out.push(n);
  }
  return { value: out, problems: r.finish() };
}

function readJsonNeigh(o: JsonObject, L: number, r: Reporter): Neighbour | undefined {
  if (o.deleted === true || hasKey(o, 'miss')) {
    r.add('info', 'deleted-entry', L, 'deleted/miss entry (ip monitor output) skipped');
    return undefined;
  }
  const a = parseAddr(J.str(o.dst));
  if (!a) {
    r.add('error', 'bad-neigh', L, `neighbour without a valid "dst" (${clip(jsonText(o.dst), 40)}); skipped`);
    return undefined;
  }
  const n: Neighbour = { dst: a.addr, router: hasKey(o, 'router'), state: [], source: r.src(L) };
  const dev = J.str(o.dev);
  if (dev !== undefined) n.dev = dev;
  const ll = J.str(o.lladdr);
  if (ll !== undefined) n.lladdr = isLladdr(ll) ? ll.toLowerCase() : ll;
  // Text order: entry flags come before the NUD states.
  for (const f of ENTRY_FLAGS) if (hasKey(o, f)) n.state.push(f);
  for (const s of J.arr(o.state) ?? []) n.state.push(jsonText(s));
  return n;
}
