/**
 * Reads `ip rule` / `ip -6 rule` text and `ip -j rule` JSON into IpRule values.
 *
 * Grammar source: iproute2 ip/iprule.c `print_rule`. One rule per line:
 *
 * ```
 * PRIO:\t[not ]from (all|ADDR[/LEN]|0/LEN)[ to ADDR[/LEN]][ tos T][ fwmark 0xM[/0xK]]
 *   [ iif I[ [detached]]][ oif O[ [detached]]][ lookup [l3mdev-table]][ uidrange A-B]
 *   [ ipproto P][ sport …][ dport …][ tun_id N][ lookup T[ suppress_prefixlength N]
 *   [ suppress_ifgroup G]][ realms …][ map-to X| masquerade| goto N|none[ [unresolved]]| nop|
 *   blackhole| unreachable| prohibit][ proto P][ dscp …][ flowlabel …]
 * ```
 * `fwmark` is `%#llx` (so `0` or `0x1`); its mask is printed only when it is not 0xffffffff. A
 * host address has no `/LEN`. `proto kernel` is not printed (only other protocols).
 */
import type { IpRule } from '../model/link';
import { splitLines, type ParseOptions, type ParseResult } from '../problem';
import { J, type JsonObject } from './json';
import {
  MAX_LINE,
  Reporter,
  anyAddr,
  clip,
  hasKey,
  isAnnotation,
  jsonArray,
  jsonKind,
  jsonText,
  parseHexOrUint,
  parsePrefix,
  parseUint,
  tokenize,
  type Family,
  type Tok,
} from './iproute2Util';

/** Selectors iproute2 prints that the model has no field for; a rule with one is kept but flagged. */
const UNMODELLED_SELECTORS = new Set(['uidrange', 'ipproto', 'sport', 'dport', 'tun_id', 'dscp', 'flowlabel', 'suppress_ifgroup']);
const UNMODELLED_JSON = ['uid_start', 'ipproto', 'sport', 'sport_start', 'dport', 'dport_start', 'tun_id', 'dscp', 'flowlabel', 'suppress_ifgroup'];

/** Where `from`/`to` are still unresolved (`all` or `0/LEN`) until the family is known. */
interface Draft {
  rule: IpRule;
  from?: { addr: string; prefixLen: number; family?: Family };
  to?: { addr: string; prefixLen: number; family?: Family };
}

/**
 * Parses `ip rule` text. Never throws.
 * Example (`ip rule` in captures/netns-lab/vm/router):
 * ```
 * 0:	from all lookup local
 * 1000:	from all fwmark 0x1/0xff lookup 100
 * 1010:	from 192.0.2.10 to 198.51.100.0/24 lookup 100
 * 32766:	from all lookup main
 * ```
 */
export function parseIpRule(text: string, opts: ParseOptions = {}): ParseResult<IpRule[]> {
  const r = new Reporter(opts);
  const out: IpRule[] = [];
  const hint = familyHint(opts.hint);
  const lines = splitLines(text);
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const L = idx + 1;
    if (raw.length > MAX_LINE) {
      r.add('error', 'line-too-long', L, `line of ${raw.length} characters is not ip rule output; skipped`);
      continue;
    }
    if (raw.trim() === '') continue;
    if (isAnnotation(raw)) {
      r.annotation(L, raw);
      continue;
    }
    const d = readRuleLine(raw, L, r);
    if (d) out.push(finish(d, hint));
  }
  return { value: out, problems: r.finish() };
}

function familyHint(hint: string | undefined): Family {
  return hint && /(^|[^a-z0-9])(-6|inet6|ipv6)([^a-z0-9]|$)/i.test(hint) ? 'inet6' : 'inet';
}

function readRuleLine(raw: string, L: number, r: Reporter): Draft | undefined {
  const colon = raw.indexOf(':');
  const prio = colon > 0 ? parseUint(raw.slice(0, colon).trim()) : undefined;
  if (prio === undefined) {
    r.line('error', 'bad-rule', L, raw, `expected \`PRIORITY:\\tSELECTOR ACTION\` (e.g. \`0:\tfrom all lookup local\`), got \`${clip(raw.trim())}\`; skipped`);
    return undefined;
  }
  const rule: IpRule = { priority: prio, not: false, action: 'lookup', source: r.src(L) };
  const d: Draft = { rule };
  const toks = tokenize(raw, colon + 1);
  let sawAction = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    const k = t.text;
    switch (k) {
      case 'not':
        rule.not = true;
        continue;
      case '[detached]':
        r.add('info', 'detached', L, 'the rule names a device that does not exist now (`[detached]`): it matches nothing until the device appears', t);
        continue;
      case '[unresolved]':
        r.add('info', 'unresolved', L, '`goto` target rule does not exist (`[unresolved]`)', t);
        continue;
      case 'nop':
        rule.action = 'nop';
        sawAction = true;
        continue;
      case 'blackhole':
      case 'unreachable':
      case 'prohibit':
        rule.action = k;
        sawAction = true;
        continue;
      case 'masquerade':
        r.line('error', 'unsupported-rule', L, raw, 'NAT rule action `masquerade` (removed from Linux in 2.6) is not modelled; rule skipped');
        return undefined;
    }
    const v = toks[i + 1];
    const known = ['from', 'to', 'tos', 'fwmark', 'iif', 'oif', 'lookup', 'goto', 'suppress_prefixlength', 'realms', 'proto', 'map-to'];
    if (!known.includes(k) && !UNMODELLED_SELECTORS.has(k)) {
      r.add('warning', 'unknown-token', L, `unknown rule word \`${clip(k, 30)}\`; ignored`, t);
      continue;
    }
    if (!v) {
      r.add('error', 'missing-value', L, `\`${k}\` without a value at the end of the rule`, t);
      break;
    }
    i++;
    switch (k) {
      case 'from':
      case 'to': {
        const sel = readSelector(v, L, r);
        if (sel) d[k] = sel;
        break;
      }
      case 'tos':
        rule.tos = v.text;
        break;
      case 'fwmark': {
        const slash = v.text.indexOf('/');
        const mark = parseHexOrUint(slash < 0 ? v.text : v.text.slice(0, slash));
        const mask = slash < 0 ? 0xffffffff : parseHexOrUint(v.text.slice(slash + 1));
        if (mark === undefined || mask === undefined) r.add('error', 'bad-number', L, `fwmark \`${clip(v.text, 30)}\` is not MARK[/MASK]`, v);
        else {
          rule.fwmark = mark;
          rule.fwmask = mask;
        }
        break;
      }
      case 'iif':
        rule.iif = v.text;
        break;
      case 'oif':
        rule.oif = v.text;
        break;
      case 'lookup':
        if (v.text === '[l3mdev-table]') {
          r.add('warning', 'not-modelled', L, '`lookup [l3mdev-table]` (VRF) is not modelled; read as a lookup of table `l3mdev`', v);
          rule.table = 'l3mdev';
        } else rule.table = v.text;
        if (!sawAction) rule.action = 'lookup';
        break;
      case 'goto': {
        rule.action = 'goto';
        sawAction = true;
        const g = parseUint(v.text);
        if (g !== undefined) rule.gotoPriority = g;
        else if (v.text !== 'none') r.add('error', 'bad-number', L, `goto \`${clip(v.text, 20)}\` is not a rule priority`, v);
        break;
      }
      case 'suppress_prefixlength': {
        const n = parseUint(v.text, 128);
        if (n === undefined) r.add('error', 'bad-number', L, `suppress_prefixlength \`${clip(v.text, 20)}\` is not a prefix length`, v);
        else rule.suppressPrefixLength = n;
        break;
      }
      case 'map-to':
        r.line('error', 'unsupported-rule', L, raw, `NAT rule action \`map-to ${v.text}\` (removed from Linux in 2.6) is not modelled; rule skipped`);
        return undefined;
      case 'realms':
      case 'proto':
        // Routing realms and the protocol that installed the rule do not change what matches.
        break;
      default:
        r.add('warning', 'not-modelled', L, `selector \`${k} ${clip(v.text, 30)}\` is not modelled: the rule is kept but will match more packets than it does`, t);
    }
  }
  if (!sawAction && rule.table === undefined) {
    r.line('warning', 'no-action', L, raw, 'rule without `lookup TABLE` or an action; read as a lookup of no table');
  }
  return d;
}

/** `all`, `ADDR`, `ADDR/LEN` or `0/LEN` after `from`/`to`. */
function readSelector(v: Tok, L: number, r: Reporter): Draft['from'] {
  if (v.text === 'all') return { addr: '', prefixLen: 0 };
  const p = parsePrefix(v.text);
  if (typeof p === 'string') {
    r.add('error', 'bad-address', L, `\`${clip(v.text, 40)}\` is not \`all\`, an address or ADDRESS/LEN (bad ${p}); selector ignored`, v);
    return undefined;
  }
  return { addr: p.addr, prefixLen: p.prefixLen, family: p.family };
}

/** `from all` is 0.0.0.0/0 (`::/0` when the rule's other address or the hint is IPv6). */
function finish(d: Draft, hint: Family): IpRule {
  const family = d.from?.family ?? d.to?.family ?? hint;
  for (const k of ['from', 'to'] as const) {
    const s = d[k];
    if (!s) continue;
    d.rule[k] = { addr: s.family ? s.addr : anyAddr(family), prefixLen: s.prefixLen };
  }
  return d.rule;
}

/**
 * Parses `ip -j rule` JSON into the same IpRule values as the text.
 * Example (`ip -j rule` in captures/netns-lab/vm/router):
 * ```
 * [{"priority":1000,"src":"all","fwmark":"0x1","fwmask":"0xff","table":"100"},
 *  {"priority":1010,"src":"192.0.2.10","dst":"198.51.100.0","dstlen":24,"table":"100"}]
 * ```
 */
export function parseIpRuleJson(text: string, opts: ParseOptions = {}): ParseResult<IpRule[]> {
  const r = new Reporter(opts);
  const out: IpRule[] = [];
  const hint = familyHint(opts.hint);
  const items = jsonArray(text, r, 'rules (`ip -j rule`)');
  if (!items) return { value: out, problems: r.finish() };
  for (const item of items.list) {
    const L = items.line(item);
    const o = J.obj(item);
    if (!o) {
      r.add('error', 'json-shape', L, `expected a rule object, got ${jsonKind(item)}; skipped`);
      continue;
    }
    const d = readJsonRule(o, L, r);
    if (d) out.push(finish(d, hint));
  }
  return { value: out, problems: r.finish() };
}

function readJsonRule(o: JsonObject, L: number, r: Reporter): Draft | undefined {
  const prio = J.num(o.priority);
  if (prio === undefined || !Number.isInteger(prio) || prio < 0) {
    r.add('error', 'json-shape', L, 'rule without a numeric "priority"; skipped');
    return undefined;
  }
  if (hasKey(o, 'nat_gateway') || hasKey(o, 'masquerade')) {
    r.add('error', 'unsupported-rule', L, `NAT rule (priority ${prio}) is not modelled; rule skipped`);
    return undefined;
  }
  const rule: IpRule = { priority: prio, not: hasKey(o, 'not'), action: 'lookup', source: r.src(L) };
  const d: Draft = { rule };
  const sel = (ak: string, lk: string): Draft['from'] => {
    const s = J.str(o[ak]);
    if (s === undefined) return undefined;
    const len = J.num(o[lk]);
    if (s === 'all') return { addr: '', prefixLen: 0 };
    const text = len === undefined ? s : `${s}/${len}`;
    const p = parsePrefix(text);
    if (typeof p === 'string') {
      r.add('error', 'bad-address', L, `"${ak}" ${JSON.stringify(clip(text, 40))} is not an address or prefix; selector ignored`);
      return undefined;
    }
    return { addr: p.addr, prefixLen: p.prefixLen, family: p.family };
  };
  d.from = sel('src', 'srclen');
  d.to = sel('dst', 'dstlen');
  const tos = J.str(o.tos);
  if (tos !== undefined) rule.tos = tos;
  if (hasKey(o, 'fwmark')) {
    const mark = parseHexOrUint(jsonText(o.fwmark));
    const mask = hasKey(o, 'fwmask') ? parseHexOrUint(jsonText(o.fwmask)) : 0xffffffff;
    if (mark === undefined || mask === undefined) r.add('error', 'bad-number', L, `"fwmark"/"fwmask" ${clip(jsonText(o.fwmark), 20)}/${clip(jsonText(o.fwmask), 20)} are not numbers`);
    else {
      rule.fwmark = mark;
      rule.fwmask = mask;
    }
  }
  const iif = J.str(o.iif);
  if (iif !== undefined) rule.iif = iif;
  const oif = J.str(o.oif);
  if (oif !== undefined) rule.oif = oif;
  if (hasKey(o, 'iif_detached') || hasKey(o, 'oif_detached')) {
    r.add('info', 'detached', L, 'the rule names a device that does not exist now (`[detached]`): it matches nothing until the device appears');
  }
  const table = J.str(o.table);
  if (table !== undefined) rule.table = table;
  if (hasKey(o, 'l3mdev')) {
    r.add('warning', 'not-modelled', L, '`lookup [l3mdev-table]` (VRF) is not modelled; read as a lookup of table `l3mdev`');
    rule.table = 'l3mdev';
  }
  const spl = J.num(o.suppress_prefixlen);
  if (spl !== undefined) rule.suppressPrefixLength = spl;
  for (const k of UNMODELLED_JSON) {
    if (hasKey(o, k)) r.add('warning', 'not-modelled', L, `selector "${k}": ${clip(jsonText(o[k]), 30)} is not modelled: the rule is kept but will match more packets than it does`);
  }
  const action = J.str(o.action);
  if (hasKey(o, 'goto')) {
    rule.action = 'goto';
    const g = J.num(o.goto);
    if (g !== undefined) rule.gotoPriority = g;
  } else if (hasKey(o, 'nop')) rule.action = 'nop';
  else if (action === 'blackhole' || action === 'unreachable' || action === 'prohibit') rule.action = action;
  else if (action !== undefined) {
    r.add('error', 'unsupported-rule', L, `rule action "${clip(action, 20)}" is not modelled; rule skipped`);
    return undefined;
  } else if (table === undefined && !hasKey(o, 'l3mdev')) {
    r.add('warning', 'no-action', L, 'rule without "table" or an action; read as a lookup of no table');
  }
  return d;
}
