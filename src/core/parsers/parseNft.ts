/**
 * Reads `nft list ruleset` output into tables, chains, rules, sets, flowtables and objects.
 *
 * Grammar source: nftables src/rule.c (`table_print`, `chain_print_declaration`,
 * `chain_rules_print`, `rule_print`, `set_print_declaration`, `obj_print_data`,
 * `flowtable_print_declaration`, `prio2str`; read at v1.0.2, the lab dumps are v1.0.6):
 * ```
 * table FAMILY NAME {[ # [handle N] [progname P]]
 * 	[flags dormant]  [comment "…"]
 * 	(counter|quota|limit|ct helper|…) NAME { … }     named objects first,
 * 	(set|map) NAME { type …; flags …; elements = { … } }   then sets (elements may wrap),
 * 	flowtable NAME { hook ingress priority P; devices = { … } }
 * 	chain NAME {[ # handle N]
 * 		[comment "…"]
 * 		type T hook H [device "D" | devices = { … }] priority P;[ policy accept|drop;][ flags offload;]
 * 		RULE[ comment "…"][ # handle N]        one rule per line; anonymous sets stay inline
 * 	}
 * }
 * ```
 * Blocks are followed by brace counting outside double quotes (nft strings have no escapes), so
 * `comment "a { b"` or `xt match "physdev"` do not confuse it. Nothing here is simulated.
 */
import type { Counters } from '../model/netfilter';
import type {
  NftChain,
  NftFlowtable,
  NftObject,
  NftRule,
  NftRuleset,
  NftSet,
  NftTable,
  NftVerdict,
} from '../model/nft';
import { ProblemSink, splitLines, type ParseOptions, type ParseResult, type Source } from '../problem';

/** Unknown lines reported one by one; past this, one summary problem. */
const MAX_UNKNOWN_REPORTED = 100;

const FAMILIES: ReadonlySet<string> = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

/** Named stateful objects `obj_print_data` prints (first word, or `ct` + second word). */
const OBJECT_KINDS: ReadonlySet<string> = new Set([
  'counter',
  'quota',
  'limit',
  'secmark',
  'synproxy',
  'tunnel',
  'ct helper',
  'ct timeout',
  'ct expectation',
]);

/** rule.c `std_prios` (ip, ip6, inet, arp, netdev) and `bridge_std_prios`. */
const STD_PRIOS: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};
const BRIDGE_PRIOS: Readonly<Record<string, number>> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

const VERDICTS: ReadonlySet<string> = new Set([
  'accept',
  'drop',
  'reject',
  'return',
  'continue',
  'queue',
  'jump',
  'goto',
  'dnat',
  'snat',
  'masquerade',
  'redirect',
  'tproxy',
  'notrack',
  'vmap',
]);

/**
 * Words after which a verdict keyword is a value, not a statement: `ct status dnat`,
 * `icmp type redirect`, `ct status != dnat`.
 */
const VALUE_CONTEXT: ReadonlySet<string> = new Set(['status', 'type', 'code', '!=', '==', 'set']);

function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

/** Braces and the first `#` outside double quotes, found in one pass. */
interface LineScan {
  opens: number;
  closes: number;
  /** Index of the first `#` outside quotes, or -1. */
  hash: number;
}

function scanLine(s: string): LineScan {
  let opens = 0;
  let closes = 0;
  let hash = -1;
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') inQuote = !inQuote;
    else if (inQuote) continue;
    else if (c === '{') opens++;
    else if (c === '}') closes++;
    else if (c === '#' && hash < 0) {
      hash = i;
      break;
    }
  }
  return { opens, closes, hash };
}

/**
 * Splits a statement into words; a quoted string and a `{ … }` group are one word each, so
 * the elements of an anonymous set or verdict map are never mistaken for statements.
 */
function words(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= n) break;
    const start = i;
    let depth = 0;
    let inQuote = false;
    while (i < n) {
      const c = s[i];
      if (c === '"') inQuote = !inQuote;
      else if (!inQuote) {
        if (c === '{') depth++;
        else if (c === '}') depth = Math.max(0, depth - 1);
        else if ((c === ' ' || c === '\t') && depth === 0) break;
      }
      i++;
    }
    out.push(s.slice(start, i));
  }
  return out;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** `filter`, `mangle - 5`, `dstnat + 10`, `-100` → a number where the name is standard. */
function priorityValue(prio: string, family: string): number | undefined {
  const m = /^(-?\d{1,10})$|^([a-z]+)(?: ([+-]) (\d{1,10}))?$/.exec(prio);
  if (!m) return undefined;
  if (m[1] !== undefined) return Number(m[1]);
  const table = family === 'bridge' ? BRIDGE_PRIOS : STD_PRIOS;
  if (!Object.prototype.hasOwnProperty.call(table, m[2])) return undefined;
  const base = table[m[2]];
  if (m[3] === undefined) return base;
  return m[3] === '+' ? base + Number(m[4]) : base - Number(m[4]);
}

/** Reads the counters, comment, verdict and jump target out of a rule's text. */
function analyseRule(rule: NftRule): void {
  const w = words(rule.text);
  for (let i = 0; i < w.length; i++) {
    const t = w[i];
    if (t === 'counter' && w[i + 1] === 'packets' && w[i + 3] === 'bytes') {
      const p = /^\d{1,20}$/.test(w[i + 2] ?? '') ? Number(w[i + 2]) : undefined;
      const b = /^\d{1,20}$/.test(w[i + 4] ?? '') ? Number(w[i + 4]) : undefined;
      if (p !== undefined && b !== undefined && !rule.counters) {
        const c: Counters = { packets: p, bytes: b };
        rule.counters = c;
      }
      i += 4;
    } else if (t === 'comment' && w[i + 1]?.startsWith('"')) {
      rule.comment = unquote(w[i + 1]);
      i++;
    } else if (t === 'xt' && w[i + 1] === 'target' && w[i + 2] !== undefined) {
      // iptables-nft compat: `xt target "MASQUERADE"` (v1.0.6 prints it unquoted).
      rule.verdict = 'xt';
      rule.xt = unquote(w[i + 2]);
      rule.jump = undefined;
      i += 2;
    } else if (t === 'xt' && w[i + 1] === 'match') {
      i += 2; // `xt match "physdev"`: a match, not a verdict
    } else if (VERDICTS.has(t) && !VALUE_CONTEXT.has(w[i - 1] ?? '')) {
      rule.verdict = t as NftVerdict;
      rule.jump = undefined;
      if ((t === 'jump' || t === 'goto') && w[i + 1] !== undefined) {
        rule.jump = unquote(w[i + 1]);
        i++;
      }
    }
  }
}

/** Where the reader is: inside a table, a chain, or a block kept verbatim. */
type Frame =
  | { kind: 'table'; table: NftTable; line: number; head: string; raw: string }
  | { kind: 'chain'; chain: NftChain; table: NftTable; line: number; head: string; raw: string }
  | {
      kind: 'block';
      lines: string[];
      depth: number;
      line: number;
      head: string;
      raw: string;
      /** Called once when the block closes (or the dump ends inside it). */
      done: () => void;
    };

/**
 * Parses `nft list ruleset` (also `nft -a`) output. Never throws; unbalanced braces are errors
 * at the line of the block left open. Example (captures/netns-lab/vm/server/nft.txt):
 * ```
 * table ip filter {
 * 	chain INPUT {
 * 		type filter hook input priority filter; policy accept;
 * 		tcp dport 22 counter packets 0 bytes 0 reject with tcp reset
 * 	}
 * }
 * ```
 */
export function parseNft(text: string, opts: ParseOptions = {}): ParseResult<NftRuleset> {
  const file = opts.file ?? '<input>';
  const offset = opts.lineOffset ?? 0;
  const sink = new ProblemSink(file);
  const ruleset: NftRuleset = { tables: [], notes: [] };
  const stack: Frame[] = [];
  const lines = splitLines(text);
  let unknown = 0;
  let lastUnknown = 0;
  const src = (line: number): Source => ({ file, line });
  const report = (severity: 'warning' | 'error', line: number, raw: string, message: string): void => {
    if (severity === 'error') sink.lineProblem('error', 'nft-syntax', line, raw, message);
    else if (++unknown <= MAX_UNKNOWN_REPORTED) sink.lineProblem('warning', 'nft-unknown', line, raw, message);
    else lastUnknown = line;
  };
  const handleOf = (trail: string): number | undefined => {
    const m = /(?:^|\s)handle (\d{1,20})(?:\s|$)/.exec(trail);
    return m ? Number(m[1]) : undefined;
  };

  /** Opens a block kept verbatim; `done` reads what it needs from the lines at the end. */
  const pushBlock = (line: number, head: string, into: string[], done: () => void): void => {
    stack.push({ kind: 'block', lines: into, depth: 1, line, head, raw: lines[line - 1 - offset] ?? head, done });
  };

  /** A `{` line inside a table: chain, set, map, flowtable or named object. */
  const openInTable = (table: NftTable, w: string[], line: number, raw: string, head: string, trail: string): void => {
    const handle = handleOf(trail);
    const kw = w[0];
    if (kw === 'chain' && w.length === 2) {
      const chain: NftChain = { name: unquote(w[1]), rules: [], source: src(line) };
      if (handle !== undefined) chain.handle = handle;
      table.chains.push(chain);
      stack.push({ kind: 'chain', chain, table, line, head, raw });
      return;
    }
    if ((kw === 'set' || kw === 'map') && w.length === 2) {
      const set: NftSet = { kind: kw, name: unquote(w[1]), flags: [], lines: [], source: src(line) };
      if (handle !== undefined) set.handle = handle;
      table.sets.push(set);
      pushBlock(line, head, set.lines, () => {
        // set_print_declaration: "type X" / "typeof EXPR", "flags a,b", "comment "…"" lines.
        for (const l of set.lines) {
          const m = /^(type|typeof) (.+)$/.exec(l);
          if (m && set.type === undefined) set.type = m[2];
          else if (l.startsWith('flags ')) set.flags.push(...l.slice(6).split(',').map((f) => f.trim()).filter(Boolean));
          else if (l.startsWith('comment "')) set.comment = unquote(l.slice(8).trim());
        }
      });
      return;
    }
    if (kw === 'flowtable' && w.length === 2) {
      const ft: NftFlowtable = { name: unquote(w[1]), devices: [], lines: [], source: src(line) };
      if (handle !== undefined) ft.handle = handle;
      table.flowtables.push(ft);
      pushBlock(line, head, ft.lines, () => {
        for (const l of ft.lines) {
          const m = /^hook (\S+) priority ([^;]+);?$/.exec(l);
          if (m) {
            ft.hook = m[1];
            ft.priority = m[2].trim();
          }
          const d = /^devices = \{([^}]*)\}/.exec(l);
          if (d) ft.devices.push(...d[1].split(',').map((x) => unquote(x.trim())).filter(Boolean));
        }
      });
      return;
    }
    const kind = w.length === 3 && kw === 'ct' ? `ct ${w[1]}` : (kw ?? '');
    const name = w.length >= 2 ? unquote(w[w.length - 1]) : '';
    const obj: NftObject = { kind, name, lines: [], source: src(line) };
    if (handle !== undefined) obj.handle = handle;
    if (!OBJECT_KINDS.has(kind) || w.length !== (kind.startsWith('ct ') ? 3 : 2)) {
      report('warning', line, raw, `unknown block \`${clip(head)}\` in table ${table.family} ${table.name}; kept verbatim`);
    }
    table.objects.push(obj);
    pushBlock(line, head, obj.lines, () => undefined);
  };

  /** `type filter hook input priority filter; policy accept;` */
  const chainDeclaration = (chain: NftChain, family: string, body: string, line: number, raw: string): void => {
    const parts = body.split(';').map((p) => p.trim()).filter(Boolean);
    for (const part of parts) {
      const w = words(part);
      if (w[0] === 'type') {
        for (let i = 0; i < w.length; i++) {
          if (w[i] === 'type' && w[i + 1]) chain.type = w[++i];
          else if (w[i] === 'hook' && w[i + 1]) chain.hook = w[++i];
          else if (w[i] === 'device' && w[i + 1]) chain.devices = [unquote(w[++i])];
          else if (w[i] === 'devices' && w[i + 1] === '=' && w[i + 2]) {
            chain.devices = w[i + 2].replace(/^\{|\}$/g, '').split(',').map((x) => unquote(x.trim())).filter(Boolean);
            i += 2;
          } else if (w[i] === 'priority') {
            chain.priority = w.slice(i + 1).join(' ');
            const v = priorityValue(chain.priority, family);
            if (v !== undefined) chain.priorityValue = v;
            break;
          } else {
            report('warning', line, raw, `unknown word \`${clip(w[i])}\` in chain declaration`);
          }
        }
      } else if (w[0] === 'policy' && w.length === 2) chain.policy = w[1];
      else if (w[0] === 'flags' && w.length >= 2) chain.flags = w.slice(1).join(' ').split(',').map((f) => f.trim());
      else report('warning', line, raw, `unknown part \`${clip(part)}\` of chain declaration`);
    }
  };

  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const line = idx + 1 + offset;
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    const scan = scanLine(trimmed);
    const top = stack[stack.length - 1];

    if (top?.kind === 'block') {
      // Inside a set/map/flowtable/object: keep lines verbatim, follow braces to the end.
      const depth = top.depth + scan.opens - scan.closes;
      if (depth <= 0) {
        if (trimmed !== '}') top.lines.push(trimmed.endsWith('}') && depth === 0 ? trimmed.slice(0, -1).trimEnd() : trimmed);
        stack.pop();
        top.done();
        if (depth < 0) report('error', line, raw, `\`}\` with no open block (${-depth} too many)`);
      } else {
        top.lines.push(trimmed);
        top.depth = depth;
      }
      continue;
    }

    if (trimmed.startsWith('#')) {
      // Comments: stderr warnings captured with 2>&1 (`# Warning: table ip filter is managed by
      // iptables-nft, do not touch!`) or a ruleset file's own comments.
      ruleset.notes.push({ text: trimmed, source: src(line) });
      sink.lineProblem('info', 'nft-comment', line, raw, `comment: ${clip(trimmed)}`);
      continue;
    }

    const body = scan.hash >= 0 ? trimmed.slice(0, scan.hash).trimEnd() : trimmed;
    const trail = scan.hash >= 0 ? trimmed.slice(scan.hash + 1).trim() : '';

    // One or more closing braces.
    if (/^\}(\s*\})*$/.test(body)) {
      for (let k = 0; k < scan.closes; k++) {
        if (stack.length === 0) {
          report('error', line, raw, '`}` with no open block');
          break;
        }
        stack.pop();
      }
      continue;
    }

    const bodyScan = scan.hash >= 0 ? scanLine(body) : scan;
    if (body.endsWith('{') && bodyScan.opens === bodyScan.closes + 1) {
      const head = body;
      const w = words(body.slice(0, -1).trimEnd());
      if (!top) {
        if (w[0] === 'table' && (w.length === 3 || w.length === 2)) {
          const family = w.length === 3 ? w[1] : 'ip';
          if (w.length === 2) report('warning', line, raw, '`table NAME {` without a family (nft list always prints one); taken as ip');
          else if (!FAMILIES.has(family)) report('warning', line, raw, `unknown table family \`${clip(family)}\``);
          const table: NftTable = {
            family,
            name: unquote(w[w.length - 1]),
            flags: [],
            chains: [],
            sets: [],
            flowtables: [],
            objects: [],
            source: src(line),
          };
          const h = handleOf(trail);
          if (h !== undefined) table.handle = h;
          const owner = /(?:^|\s)progname (\S+)/.exec(trail);
          if (owner) table.owner = owner[1];
          ruleset.tables.push(table);
          stack.push({ kind: 'table', table, line, head, raw });
        } else {
          report('warning', line, raw, `expected \`table FAMILY NAME {\`, got \`${clip(body)}\`; block skipped`);
          pushBlock(line, head, [], () => undefined);
        }
      } else if (top.kind === 'table') {
        openInTable(top.table, w, line, raw, head, trail);
      } else {
        report('warning', line, raw, `unexpected block \`${clip(body)}\` inside chain ${top.chain.name}; skipped`);
        pushBlock(line, head, [], () => undefined);
      }
      continue;
    }

    if (bodyScan.opens !== bodyScan.closes) {
      report('error', line, raw, `unbalanced braces in \`${clip(body)}\` (${bodyScan.opens} \`{\`, ${bodyScan.closes} \`}\`); line skipped`);
      continue;
    }

    if (!top) {
      report('warning', line, raw, `not part of a table: \`${clip(body)}\` (expected \`table FAMILY NAME {\`)`);
      continue;
    }

    if (top.kind === 'table') {
      if (body.startsWith('flags ')) top.table.flags.push(...body.slice(6).split(',').map((f) => f.trim()).filter(Boolean));
      else if (body.startsWith('comment "')) top.table.comment = unquote(body.slice(8).trim());
      else report('warning', line, raw, `unknown line in table ${top.table.family} ${top.table.name}: \`${clip(body)}\``);
      continue;
    }

    // Inside a chain.
    const chain = top.chain;
    if (body.startsWith('type ') && / hook /.test(body) && chain.rules.length === 0) {
      chainDeclaration(chain, top.table.family, body, line, raw);
      continue;
    }
    if (chain.rules.length === 0 && /^comment "[^"]*"$/.test(body)) {
      chain.comment = unquote(body.slice(8));
      continue;
    }
    const rule: NftRule = { text: body, source: src(line) };
    if (trail) {
      const h = handleOf(trail);
      if (h !== undefined) rule.handle = h;
      else sink.lineProblem('info', 'nft-comment', line, raw, `trailing comment \`# ${clip(trail)}\` after the rule`);
    }
    analyseRule(rule);
    chain.rules.push(rule);
  }

  // Blocks left open: the dump was cut short or hand-edited. Report each at its opening line.
  for (let k = stack.length - 1; k >= 0; k--) {
    const f = stack[k];
    if (f.kind === 'block') f.done();
    const col = f.raw.length - f.raw.trimStart().length + 1;
    sink.error('nft-unclosed', f.line, `\`${clip(f.head)}\` is never closed (missing \`}\`; dump cut short?)`, col, col + f.head.length);
  }
  if (unknown > MAX_UNKNOWN_REPORTED) {
    sink.warn('nft-unknown', lastUnknown, `${unknown - MAX_UNKNOWN_REPORTED} more lines that are not nft list output (not listed one by one)`);
  }
  return { value: ruleset, problems: sink.problems };
}
