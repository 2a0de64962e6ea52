/**
 * Rule shapes: the text of a rule read cleanly, with the values that are free to vary cut out.
 *
 * kube-proxy writes 300 000 rules in a handful of shapes:
 * ```
 * -A KUBE-SEP-… -s 10.1.2.3/32 -m comment --comment "ns/svc:http" -j KUBE-MARK-MASQ
 * -A KUBE-SEP-… -p tcp -m comment --comment "ns/svc:http" -m tcp -j DNAT --to-destination 10.1.2.3:80
 * ```
 * Once the full reader has read one such rule without a problem, its shape is kept: the rule text
 * after `-A CHAIN` as literal pieces and slots. A later rule that spells every literal piece the
 * same and whose slot values pass their slot's check is read the same way, token for token, so
 * the only part of reading it that depends on the new values is each value's own reading. The
 * checks accept only values that reading takes without a problem (each names the code it
 * follows), so such a rule has no problem to report, and its spec can wait (lazyRule.ts).
 *
 * Why the token structure cannot change: a slot value is one token of the same quoting as the
 * one it replaces (unquoted values contain no blank, quote or backslash; a quoted value has no
 * quote or backslash inside), it is never `!` and never starts with `-`, so the reader's
 * decisions that look at token texts (`!`, options, `isValueToken`) see what they saw in the
 * first rule. What a slot's check accepts is a subset of what the reader takes cleanly:
 * - `ADDR4`, the value of `-s`/`-d` in an IPv4 ruleset: a dotted quad (parseIPv4: 1–3 digits,
 *   ≤ 255 each) with an optional `/N`, N ≤ 32 (parseAddress; no host name, no dotted mask).
 * - `PORT`, `--sport`/`--dport` of `-m tcp|udp|sctp`: 1–5 digits, ≤ 65535 (canonPortRange).
 * - `QUOTED`, `--comment "…"`: a quoted value without `"` or `\` inside (comment has no checks;
 *   xt_comment's 256-byte limit is the kernel's, iptables-save never prints more).
 * - `WORD`, `-i`/`-o` names (parseIface takes any) and `--to-destination`/`--to-source` of
 *   DNAT/SNAT (kept as given; the simulator reads them): any unquoted token.
 * - `PROBABILITY`, `--probability` of `-m statistic`: the `%.11f` form iptables-save prints
 *   (libxt_statistic.c `print_match`), `0.` and 11 digits or `1.00000000000`, which
 *   canonProbability keeps as it is.
 * - `CHAIN`, the target of `-j`/`-g` when it is a user chain: an unquoted token that is not a
 *   target extension (`isTargetExtension`) for `-j`. Whether the chain is declared is checked
 *   as for every jump, when the table ends.
 *
 * A shape is checked by one sticky regexp (the literal pieces escaped character by character, so
 * no dump text is ever pattern syntax; the slots as SLOT_PATTERN), then its chain slot, which
 * ends the rule, by `readChainSlot`. Measured on a 320 000-rule kube-proxy dump, the regexp (native
 * code for one-byte text) made the whole load about 13 % faster than comparing in JS.
 */
import type { Chain } from '../model/netfilter';
import type { ChainIndex, RuleTokens } from './iptablesRule';

/** Slot kinds. */
export const enum Slot {
  Addr4 = 1,
  Port = 2,
  Quoted = 3,
  Word = 4,
  Chain = 5,
  Probability = 6,
}

/**
 * A rule shape: `lits[0] slot[0] lits[1] … slot[k-1] lits[k]`, checked by one sticky regexp
 * ({@link shapePattern}) up to the end of the rule, or up to a chain slot, which ends the rule
 * and is read by {@link readChainSlot}.
 */
export interface Shape {
  re: RegExp;
  kinds: Uint8Array;
  /** Read in an IPv6 ruleset. */
  v6: boolean;
  /** Whether the target is a user chain (jump or goto). */
  chainTarget: boolean;
  /** The chain slot's index, or -1 (then the chain name, if any, is literal: see litTargetLength). */
  chainSlot: number;
  /** A literal chain target (length 0: none), in the last piece: its length and how far its end is from the rule's end. */
  litTargetLength: number;
  litTargetTail: number;
  /** The chain a literal target was last found to name, in the table of `chainIndex`. */
  chain: Chain | undefined;
  chainIndex: ChainIndex | undefined;
}

/** How many shapes are tried, most recently used first. */
const MRU = 16;
/** The most slots a shape has, and the longest literal piece (longer rules are not shaped). */
const MAX_SLOTS = 24;
const MAX_PIECE = 1024;

/** Where the last {@link ShapeSet.match} found the target (positions in the text). */
export const shapeHit = {
  /** {@link hashText} of the chain slot (when there is one). */
  chainHash: 0,
  targetStart: 0,
  targetEnd: 0,
};

/** The shapes learnt in one parse state, most recently matched first. */
export class ShapeSet {
  readonly list: Shape[] = [];

  /**
   * The shape `s[from, end)` has (`end`: the line's end without trailing blanks), in a ruleset
   * that is IPv6 or not, or undefined. Fills {@link shapeHit}.
   */
  match(s: string, from: number, end: number, v6: boolean): Shape | undefined {
    const list = this.list;
    for (let k = 0; k < list.length; k++) {
      const sh = list[k];
      if (sh.v6 !== v6 || !matchShape(sh, s, from, end)) continue;
      if (k > 0) {
        for (let j = k; j > 0; j--) list[j] = list[j - 1];
        list[0] = sh;
      }
      return sh;
    }
    return undefined;
  }

  /** Adds a shape (most recent first), dropping the least recently used beyond {@link MRU}. */
  add(sh: Shape): void {
    const list = this.list;
    if (list.length < MRU) list.push(sh);
    for (let j = list.length - 1; j > 0; j--) list[j] = list[j - 1];
    list[0] = sh;
  }
}

/** Whether `s[from, end)` has shape `sh`; fills {@link shapeHit}. */
function matchShape(sh: Shape, s: string, from: number, end: number): boolean {
  // The shape's pattern checks every piece and every slot but a chain slot (regexp: native code,
  // specialised to one-byte text, several times faster here than comparing in JS).
  const re = sh.re;
  re.lastIndex = from;
  if (!re.test(s)) return false;
  const p = re.lastIndex;
  const hit = shapeHit;
  if (sh.chainSlot >= 0) {
    // The chain slot ends the rule (a jump to a user chain takes no options).
    const q = readChainSlot(sh.kinds[sh.chainSlot], s, p, end);
    if (q !== end) return false;
    hit.targetStart = p;
    hit.targetEnd = q;
    return true;
  }
  if (p !== end) return false;
  if (sh.litTargetLength > 0) {
    // A literal chain target is in the last piece (nothing follows a jump to a user chain).
    hit.targetEnd = end - sh.litTargetTail;
    hit.targetStart = hit.targetEnd - sh.litTargetLength;
  }
  return true;
}

/** Whether `c` ends an unquoted token (blank or quote) or may not be in one (backslash). */
function stops(c: number): boolean {
  return c === 32 || c === 9 || c === 34 || c === 92;
}

/**
 * Reads the user chain a rule jumps to at `s[p…)`, its last token (`kind` Chain: `-j`, and not
 * a target extension; Word: `-g`), with its {@link hashText} into {@link shapeHit}; returns
 * where it ends, or -1 when it is not one.
 */
function readChainSlot(kind: number, s: string, p: number, end: number): number {
  const c0 = s.charCodeAt(p);
  if (p >= end || c0 === 45 /* - */ || c0 === 33 /* ! */) return -1;
  let q = p;
  let h = 0;
  while (q < end) {
    const c = s.charCodeAt(q);
    if (stops(c)) {
      if (c !== 32 && c !== 9) return -1;
      break;
    }
    h = (Math.imul(h, 31) + c) | 0;
    q++;
  }
  if (q === p) return -1;
  // No target extension's name is longer than targetMax: longer names need no lookup.
  if (kind === Slot.Chain && q - p <= targetMax && targetCheck !== undefined && targetCheck(s.slice(p, q))) return -1;
  shapeHit.chainHash = h;
  return q;
}

/** Whether a name is a target extension (set by iptablesRule.ts: isTargetExtension, for `-j`). */
let targetCheck: ((name: string) => boolean) | undefined;
/** The longest name `targetCheck` says yes to. */
let targetMax = Infinity;
export function setTargetCheck(f: (name: string) => boolean, longest: number): void {
  targetCheck = f;
  targetMax = longest;
}

const ADDR_OPTS = new Set(['-s', '--source', '--src', '-d', '--destination', '--dst']);
const IFACE_OPTS = new Set(['-i', '--in-interface', '-o', '--out-interface']);
const PORT_OPTS = new Set(['--sport', '--dport', '--source-port', '--destination-port']);
const PORT_MATCHES = new Set(['tcp', 'udp', 'sctp']);

/**
 * Learns the shape of a rule the full reader read without any problem: `line` tokenized into
 * `tok`, `first` the first token after `-A CHAIN`, `target`: the target token's index when it
 * is a user chain (else -1). Returns undefined for rules not worth a shape. Only the option
 * values named in the file's header become slots, and only when their own text passes their
 * check (a shape always matches the rule it was learnt from).
 */
export function learnShape(line: string, tok: RuleTokens, first: number, lineEnd: number, v6: boolean, chainTarget: number, gotoTarget: boolean): Shape | undefined {
  const n = tok.n;
  if (n <= first || n - first > 4 * MAX_SLOTS) return undefined;
  const texts = tok.texts;
  const slotTok: number[] = [];
  const slotKind: number[] = [];
  let cur = ''; // the match or target whose options follow
  for (let k = first; k < n; k++) {
    if (tok.quoted[k]) continue;
    const t = texts[k];
    if (t === '-c') return undefined; // counters inside the rule (`iptables -S -v`): not shaped
    let kind = 0;
    const v = k + 1;
    if (v >= n) break;
    if (t === '-m' || t === '-j' || t === '-g') {
      cur = texts[v];
      if (v === chainTarget) kind = Slot.Chain;
    } else if (ADDR_OPTS.has(t)) {
      if (!v6) kind = Slot.Addr4;
    } else if (IFACE_OPTS.has(t)) kind = Slot.Word;
    else if (t === '--comment' && cur === 'comment') kind = Slot.Quoted;
    else if (PORT_OPTS.has(t) && PORT_MATCHES.has(cur)) kind = Slot.Port;
    else if (t === '--probability' && cur === 'statistic') kind = Slot.Probability;
    else if ((t === '--to-destination' && cur === 'DNAT') || (t === '--to-source' && cur === 'SNAT')) kind = Slot.Word;
    if (kind === 0) continue;
    // The value must be quoted as the kind says, and pass the kind's own check.
    if ((kind === Slot.Quoted) !== tok.quoted[v]) continue;
    if (kind === Slot.Quoted && tok.ends[v] - tok.starts[v] !== texts[v].length + 2) continue; // escapes inside
    if (!isSlotValue(kind, line, tok.starts[v], tok.ends[v])) continue;
    if (slotTok.length === MAX_SLOTS) return undefined;
    slotTok.push(v);
    slotKind.push(kind);
    k = v;
  }
  const lits: string[] = [];
  let p = tok.ends[first - 1];
  for (const v of slotTok) {
    lits.push(line.slice(p, tok.starts[v]));
    p = tok.ends[v];
  }
  lits.push(line.slice(p, lineEnd));
  for (const l of lits) if (l.length > MAX_PIECE) return undefined;
  const k = slotTok.length;
  const chainSlot = chainTarget >= 0 ? slotTok.indexOf(chainTarget) : -1;
  // A jump to a user chain ends the rule: a chain slot is the last slot, with nothing after it.
  if (chainSlot >= 0 && (chainSlot !== k - 1 || lits[k].length > 0)) return undefined;
  const kinds = Uint8Array.from(slotKind);
  // A goto's chain is never a target extension; a jump's slot is checked when matched.
  if (gotoTarget && chainSlot >= 0) kinds[chainSlot] = Slot.Word;
  const sh: Shape = {
    re: shapePattern(lits, kinds, chainSlot >= 0),
    kinds,
    v6,
    chainTarget: chainTarget >= 0,
    chainSlot,
    litTargetLength: 0,
    litTargetTail: 0,
    chain: undefined,
    chainIndex: undefined,
  };
  if (chainTarget >= 0 && chainSlot < 0) {
    // The chain's name is spelled in the last piece (nothing but blanks follows it).
    if (k > 0 && tok.starts[chainTarget] < tok.ends[slotTok[k - 1]]) return undefined;
    sh.litTargetLength = tok.ends[chainTarget] - tok.starts[chainTarget];
    sh.litTargetTail = lineEnd - tok.ends[chainTarget];
  }
  return sh;
}

/** What follows a value: a blank, or the end of the line. */
const END = '(?![^ \\t\\r\\n])';

/**
 * The pattern of a slot's values (what the file's header says each kind takes), each able to end
 * in one place only, so a match is the one reading of the rule. Every class stops at a line
 * break: a rule is one line.
 */
const SLOT_PATTERN: Record<number, string> = {
  // parseIPv4: four runs of 1–3 digits, each ≤ 255; parseAddress: an optional `/N`, N ≤ 32.
  [Slot.Addr4]: '(?:25[0-5]|2[0-4][0-9]|[01][0-9][0-9]|[0-9][0-9]?)(?![0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|[01][0-9][0-9]|[0-9][0-9]?)(?![0-9])){3}(?:/(?:3[0-2]|[0-2][0-9]|[0-9])(?![0-9]))?' + END,
  // canonPortRange via portNumber: 1–5 digits, ≤ 65535.
  [Slot.Port]: '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9][0-9]|6[0-4][0-9]{3}|[0-5][0-9]{4}|[0-9]{1,4})' + END,
  // tokenizeRule: `"` opens, the next `"` closes; a `\\` (an escape) is not taken here.
  [Slot.Quoted]: '"[^"\\\\\\r\\n]*"',
  // One unquoted token, not `!` and not an option.
  [Slot.Word]: '[^ \\t"\\\\\\r\\n!-][^ \\t"\\\\\\r\\n]*' + END,
  // `0.` and 11 digits, or `1.00000000000` (libxt_statistic's `%.11f`).
  [Slot.Probability]: '(?:0\\.[0-9]{11}|1\\.0{11})' + END,
};

/** Each slot's pattern on its own (sticky), for {@link isSlotValue}. */
const SLOT_RE: Record<number, RegExp> = {};
for (const kind of [Slot.Addr4, Slot.Port, Slot.Quoted, Slot.Word, Slot.Probability]) SLOT_RE[kind] = new RegExp(SLOT_PATTERN[kind], 'y');

/** Whether `s[p, end)` is one value of slot `kind`, as the shape's pattern takes it (checked when a shape is learnt). */
function isSlotValue(kind: number, s: string, p: number, end: number): boolean {
  if (kind === Slot.Chain) return readChainSlot(kind, s, p, end) === end;
  const re = SLOT_RE[kind];
  re.lastIndex = p;
  return re.test(s) && re.lastIndex === end;
}

/**
 * The sticky regexp of a shape: its literal pieces escaped character by character (dump text
 * never becomes pattern syntax), its slots as {@link SLOT_PATTERN}; up to a final chain slot
 * (`toChain`), or to the end of the rule, where only blanks may follow before the line ends.
 */
function shapePattern(lits: readonly string[], kinds: Uint8Array, toChain: boolean): RegExp {
  let src = '';
  for (let i = 0; i < lits.length; i++) {
    src += escapeLiteral(lits[i]);
    if (i < kinds.length && !(toChain && i === kinds.length - 1)) src += SLOT_PATTERN[kinds[i]];
  }
  if (!toChain) src += '(?=[ \\t]*(?:\\r?\\n|$))';
  return new RegExp(src, 'y');
}

/** `lit` as a regexp matching exactly it: letters, digits and blanks as they are, every other character as `\\uXXXX`. */
function escapeLiteral(lit: string): string {
  let out = '';
  for (let i = 0; i < lit.length; i++) {
    const c = lit.charCodeAt(i);
    out += (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 32 ? lit[i] : '\\u' + c.toString(16).padStart(4, '0');
  }
  return out;
}
