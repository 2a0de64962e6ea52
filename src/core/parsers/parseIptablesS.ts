/**
 * `iptables -S [CHAIN] [-t TABLE]` (`--list-rules`) output into a one-table Ruleset. Grammar:
 * iptables/iptables.c `list_rules` (`-P CHAIN POLICY [-c PKTS BYTES]` for built-ins, `-N CHAIN`
 * for user chains, then `print_rule4` lines with `-c PKTS BYTES` before the target under `-v`),
 * and the same through iptables-nft (nft-shared.c `save_matches_and_target`). The table is not
 * printed: it comes from `opts.hint` or is inferred from the content.
 */
import { ProblemSink, splitLines, type ParseOptions, type ParseResult } from '../problem';
import type { Chain, Counters, Rule, Ruleset, Table, TableName } from '../model/netfilter';
import {
  RuleTokens,
  buildRuleSpec,
  clip,
  inferTable,
  isBuiltinChain,
  isDigits,
  isTableName,
  tableFromHint,
  tokenizeRule,
  type RuleEnv,
} from './iptablesRule';
import { readBracketCounters, sharedCache } from './parseIptablesSave';

/**
 * Resolves the table of a listing from the hint or the content, reporting how (info), and
 * warns when a chain given a policy is not a built-in chain of the chosen table.
 */
export function resolveListingTable(
  hint: string | undefined,
  builtins: ReadonlyMap<string, number>,
  targets: ReadonlySet<string>,
  sink: ProblemSink,
  firstLine: number,
  what: string,
): TableName {
  const fromHint = tableFromHint(hint);
  let table: TableName;
  if (fromHint) {
    table = fromHint;
    if (!isTableName(hint ?? '')) sink.info('table-from-hint', firstLine, `table ${table} taken from \`${clip(hint ?? '')}\``);
  } else {
    const inf = inferTable(new Set(builtins.keys()), targets);
    table = inf.table;
    const why = hint ? `\`${clip(hint)}\` names no table, and ` : '';
    sink.info('table-inferred', firstLine, `${what} does not print its table; ${why}it is taken to be ${table} because ${inf.reason}`);
  }
  for (const [name, line] of builtins) {
    if (!isBuiltinChain(table, name)) sink.warn('not-builtin', line, `chain ${clip(name)} has a policy, but it is not a built-in chain of table ${table} (is the table right?)`);
  }
  return table;
}

/**
 * Parses `iptables -S` output. Never throws. Example input (`iptables -S -t nat`):
 * ```
 * -P PREROUTING ACCEPT
 * -P POSTROUTING ACCEPT
 * -N DOCKER
 * -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
 * -A DOCKER ! -i docker0 -p tcp -m tcp --dport 9090 -j DNAT --to-destination 172.17.0.2:80
 * ```
 */
export function parseIptablesS(text: string, opts: ParseOptions = {}): ParseResult<Ruleset> {
  const file = opts.file ?? '<input>';
  const sink = new ProblemSink(file);
  const off = opts.lineOffset ?? 0;
  const hintV6 = opts.hint !== undefined && /ip6/i.test(opts.hint);
  const rs: Ruleset = { family: hintV6 ? 'ipv6' : 'ipv4', flavour: 'unknown', tables: [] };
  const nul = text.indexOf('\0');
  if (nul >= 0 && nul < 65536) {
    sink.error('binary', 1 + off, 'this is binary data, not `iptables -S` output (it contains NUL bytes); nothing was read');
    return { value: rs, problems: sink.problems };
  }
  const lines = splitLines(text);
  const tok = new RuleTokens();
  const env: RuleEnv = { sink, line: 0, family: rs.family, sawIPv6: false, cache: sharedCache(opts) };
  const chains = new Map<string, Chain>();
  const order: Chain[] = [];
  const policyChains = new Map<string, number>();
  const targets = new Set<string>();
  const jumps: { name: string; line: number; start: number; end: number }[] = [];
  const undeclared: { chain: Chain; line: number; start: number; end: number }[] = [];
  let firstLine = 0;
  let lineErrors = 0;

  const getChain = (name: string, line: number): Chain => {
    let c = chains.get(name);
    if (!c) {
      c = { name, table: 'filter', builtin: false, rules: [], source: { file, line } };
      chains.set(name, c);
      order.push(c);
    }
    return c;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const lineNo = i + 1 + off;
    let p = 0;
    while (p < raw.length && (raw.charCodeAt(p) === 32 || raw.charCodeAt(p) === 9)) p++;
    if (p >= raw.length) continue;
    if (firstLine === 0) firstLine = lineNo;
    const c0 = raw.charCodeAt(p);
    if (c0 === 35 /* # */) {
      sink.lineProblem('warning', 'annotation', lineNo, raw, `comment line: \`iptables -S\` does not print comments, so it was added by hand (${clip(raw.slice(p))}); ignored`);
      continue;
    }
    let at = p;
    let counters: Counters | undefined;
    if (c0 === 91 /* [ */) {
      const bc = readBracketCounters(raw, p);
      if (!bc) {
        sink.error('bad-counters', lineNo, 'counters `[` are not closed: expected `[PACKETS:BYTES] -A ...`; line skipped', p + 1, raw.length + 1);
        continue;
      }
      if (!bc.counters) sink.warn('bad-counters', lineNo, `malformed counters \`${clip(raw.slice(p, bc.next))}\`: expected \`[PACKETS:BYTES]\`; kept without counters`, p + 1, bc.next + 1);
      counters = bc.counters;
      at = bc.next;
    }
    tokenizeRule(raw, at, tok);
    if (tok.openQuote >= 0) {
      sink.error('unterminated-quote', lineNo, 'a `"` is never closed; line skipped', tok.openQuote + 1, raw.length + 1);
      continue;
    }
    const cmd = tok.n > 0 ? tok.texts[0] : '';
    if (cmd === '-P' || cmd === '--policy') {
      if (tok.n < 3) {
        sink.lineProblem('error', 'bad-policy', lineNo, raw, `expected \`-P CHAIN POLICY\`, got \`${clip(raw.slice(p))}\`; skipped`);
        continue;
      }
      const name = tok.texts[1];
      const pol = tok.texts[2];
      if (policyChains.has(name)) {
        sink.error('duplicate-chain', lineNo, `chain ${clip(name)} is listed twice (first at line ${policyChains.get(name)}); ignored`, tok.starts[1] + 1, tok.ends[1] + 1);
        continue;
      }
      const c = getChain(name, lineNo);
      c.source = { file, line: lineNo };
      c.builtin = true;
      policyChains.set(name, lineNo);
      if (pol === 'ACCEPT' || pol === 'DROP') c.policy = pol;
      else sink.warn('bad-policy', lineNo, `policy \`${clip(pol)}\` is not ACCEPT or DROP; the chain is kept without a policy`, tok.starts[2] + 1, tok.ends[2] + 1);
      if (tok.n >= 6 && tok.texts[3] === '-c' && isDigits(tok.texts[4]) && isDigits(tok.texts[5])) {
        c.counters = { packets: Number(tok.texts[4]), bytes: Number(tok.texts[5]) };
      } else if (tok.n > 3) {
        sink.warn('trailing-text', lineNo, `unexpected \`${clip(raw.slice(tok.starts[3]))}\` after the policy: expected \`-P CHAIN POLICY [-c PACKETS BYTES]\``, tok.starts[3] + 1, raw.length + 1);
      }
      continue;
    }
    if (cmd === '-N' || cmd === '--new-chain') {
      if (tok.n !== 2) {
        sink.lineProblem('error', 'bad-chain', lineNo, raw, `expected \`-N CHAIN\`, got \`${clip(raw.slice(p))}\`; skipped`);
        continue;
      }
      const name = tok.texts[1];
      if (chains.has(name)) {
        sink.error('duplicate-chain', lineNo, `chain ${clip(name)} is listed twice (first at line ${chains.get(name)!.source.line}); ignored`, tok.starts[1] + 1, tok.ends[1] + 1);
        continue;
      }
      getChain(name, lineNo);
      continue;
    }
    if (cmd === '-A' || cmd === '--append') {
      if (tok.n < 2) {
        sink.error('bad-option', lineNo, '`-A` needs a chain name', tok.starts[0] + 1, tok.ends[0] + 1);
        continue;
      }
      const name = tok.texts[1];
      let chain = chains.get(name);
      if (!chain) {
        chain = getChain(name, lineNo);
        undeclared.push({ chain, line: lineNo, start: tok.starts[1], end: tok.ends[1] });
      }
      env.line = lineNo;
      const built = buildRuleSpec(raw, tok, 2, env);
      if (!built) continue;
      const rule: Rule = {
        id: '',
        table: 'filter',
        chain: name,
        index: chain.rules.length,
        spec: built.spec,
        text: raw.slice(tok.starts[0]),
        source: { file, line: lineNo },
      };
      const cnt = counters ?? built.counters;
      if (cnt) rule.counters = cnt;
      chain.rules.push(rule);
      if (built.spec.target) targets.add(built.spec.target.name);
      if (built.chainTarget) jumps.push({ name: built.spec.target!.name, line: lineNo, start: built.targetStart, end: built.targetEnd });
      continue;
    }
    if (lineErrors++ < 20) {
      sink.lineProblem('error', 'unparseable-line', lineNo, raw, `cannot read this line: expected \`-P CHAIN POLICY\`, \`-N CHAIN\` or \`-A CHAIN ...\`, got \`${clip(raw.slice(p))}\``);
    } else if (lineErrors === 21) {
      sink.lineProblem('error', 'unparseable-line', lineNo, raw, 'more unreadable lines follow (not shown one by one)');
    }
  }

  if (env.sawIPv6) rs.family = 'ipv6';
  if (order.length === 0) return { value: rs, problems: sink.problems };

  const tableName = resolveListingTable(opts.hint, policyChains, targets, sink, firstLine, '`iptables -S`');
  for (const u of undeclared) {
    if (isBuiltinChain(tableName, u.chain.name)) {
      u.chain.builtin = true;
      sink.info('implicit-chain', u.line, `built-in chain ${u.chain.name} has no \`-P\` line; its policy is not known`, u.start + 1, u.end + 1);
    } else {
      sink.warn('undeclared-chain', u.line, `chain ${clip(u.chain.name)} has no \`-N ${clip(u.chain.name)}\` line; it is kept as a user chain`, u.start + 1, u.end + 1);
    }
  }
  const missing = new Set<string>();
  for (const j of jumps) {
    if (chains.has(j.name) || missing.has(j.name)) continue;
    missing.add(j.name);
    // `iptables -S CHAIN` lists one chain: the chains it jumps to are legitimately absent.
    sink.info('unlisted-chain', j.line, `chain ${clip(j.name)} is jumped to but not listed here (a listing of some chains only?)`, j.start + 1, j.end + 1);
  }
  const table: Table = { name: tableName, chains: order, source: { file, line: firstLine } };
  for (const c of order) {
    c.table = tableName;
    for (const r of c.rules) r.table = tableName;
  }
  rs.tables.push(table);
  return { value: rs, problems: sink.problems };
}
