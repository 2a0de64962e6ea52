/**
 * Hover on every token of a rule file: what the token is in plain words, the values decoded,
 * and what it is in the loaded capture (the IPVS service a mark feeds, the interface that owns
 * an address, the Docker service a published port belongs to).
 */
import type { Chain, Rule, Table, XtMatch } from '../model/netfilter';
import { BUILTIN_CHAINS } from '../model/netfilter';
import { CaptureIndex } from './captureIndex';
import {
  addrFacts,
  badNatAddress,
  code,
  ctStatesInWords,
  esc,
  explainMarkTest,
  explainSetXmark,
  ifaceFacts,
  markFacts,
  matchInWords,
  portFacts,
  readMarkMask,
  ruleInWords,
  ruleOrigin,
  targetInWords,
  type LangContext,
} from './describe';
import { ADDR_TYPES, HOOKS, LIST_COLUMNS, MATCHES, TABLES, TARGETS, chainOrigin } from './knowledge';
import { hoverIpvs } from './ipvsLang';
import { isIptablesKind, lexLine, sectionAt, tokenAt, type DocSection, type RuleDoc, type Tok } from './ruleDoc';
import { chainNamed, hooksReaching, jumpersOf, jumpsTo, sectionContext, tableOfLine } from './tables';
import { spanOn, type LangHover, type Pos } from './types';

/** Hover at a position of a rule file. */
export function hoverRuleDoc(doc: RuleDoc, pos: Pos, index?: CaptureIndex): LangHover | undefined {
  const sec = sectionAt(doc, pos.line);
  if (!sec) return undefined;
  const ctx = sectionContext(sec, index);
  if (sec.header && sec.header.line === pos.line) {
    const p = sec.place;
    const md = `**meshtrace bundle section** · node ${code(p?.node ?? '?')}, namespace ${code(p?.namespace ?? '?')}\n\nThe lines below, up to the next \`### meshtrace\` line, are the output of ${sec.header.cmd ? code(sec.header.cmd) : 'a command'}${sec.kind ? `, read as ${code(sec.kind)}` : ', which meshtrace does not read'}.`;
    return { markdown: md, span: spanOn(pos.line, 0, doc.lines[pos.line].length) };
  }
  if (sec.kind === 'ipvsadm') return hoverIpvs(doc, sec, pos, ctx);
  if (!isIptablesKind(sec.kind)) return undefined;
  const toks = lexLine(doc, pos.line);
  const tok = tokenAt(toks, pos.character);
  if (!tok) return undefined;
  const md = tokenHover(doc, sec, pos.line, tok, toks, ctx);
  return md ? { markdown: md, span: spanOn(pos.line, tok.start, tok.end) } : undefined;
}

function section(title: string, lines: string[]): string {
  if (lines.length === 0) return '';
  return `\n\n**${title}:**\n${lines.map((l) => `- ${l}`).join('\n')}`;
}

function tokenHover(doc: RuleDoc, sec: DocSection, line: number, tok: Tok, toks: Tok[], ctx: LangContext): string | undefined {
  const rule = doc.rules.get(line)?.item;
  const table = tableOfLine(sec, line);
  switch (tok.kind) {
    case 'header':
      return headerHover(tok.text, sec);
    case 'comment':
      return "**comment line** · `iptables-save` never prints a comment here, so someone added it to the dump; `iptables-restore` ignores it.";
    case 'bundle':
      return undefined;
    case 'table': {
      const t = doc.tables.get(line)?.item ?? table;
      return t ? tableHover(t) : `**table ${code(tok.text)}** · not a table iptables has (raw, mangle, nat, filter, security)`;
    }
    case 'commit':
      return `**COMMIT** · ends the block of table ${table ? table.name : '?'}: \`iptables-restore\` replaces the whole table with the lines above at this point, atomically.`;
    case 'chain-decl': {
      const c = doc.chains.get(line)?.item ?? (table ? chainNamed(table, tok.text) : undefined);
      return c && table ? chainHover(c, table) : `**chain ${code(tok.text)}**`;
    }
    case 'policy': {
      const c = doc.chains.get(line)?.item;
      if (tok.text === '-') return '**`-`** · no policy: this is a user chain. A packet that reaches its end goes back to the rule after the jump that brought it here.';
      return `**policy ${tok.text}** · what happens to a packet that reaches the end of built-in chain ${c ? code(c.name) : ''} without a verdict: ${tok.text === 'DROP' ? 'it is dropped' : 'it is accepted (it goes on to the next table)'}.${c?.counters ? `\n\n${c.counters.approximate ? 'About ' : ''}${c.counters.packets} packets (${c.counters.bytes} bytes) took the policy.` : ''}`;
    }
    case 'refs':
      return `**${esc(tok.text)}** · how many rules jump or go to this chain, as \`iptables -L\` counts them (the kernel refuses to delete a chain while it is referenced).`;
    case 'counters':
      return countersHover(tok, rule, doc.chains.get(line)?.item, table);
    case 'num':
      return `**rule ${tok.text}** of chain ${rule ? code(rule.chain) : ''}: its position as \`iptables -I\`, \`-R\` and \`-D\` count it.`;
    case 'colhead':
      return `**${tok.text}** · column of \`iptables -L -v\`: ${LIST_COLUMNS[tok.text] ?? ''}.`;
    case 'command':
      if (tok.text === '-A' || tok.text === '--append') return rule && table ? ruleHover(rule, table, ctx) : '**-A** · appends a rule to a chain';
      if (tok.text === '-N' || tok.text === '--new-chain') return '**-N** · creates a user chain (this is how `iptables -S` lists user chains).';
      return '**-P** · sets the policy of a built-in chain (this is how `iptables -S` lists built-in chains).';
    case 'chain': {
      const c = table ? chainNamed(table, tok.text) : undefined;
      if (!c || !table) return `**chain ${code(tok.text)}** · not declared in this table`;
      const where = rule ? `\n\nThis line is rule ${rule.index + 1} of ${c.rules.length} of ${code(c.name)}.` : '';
      return chainHover(c, table) + where;
    }
    case 'bang':
      return '**!** · inverts the condition that follows: the rule matches when it is *not* true.';
    case 'option':
      return optionHover(tok, rule, table);
    case 'match': {
      const m = rule ? nthMatch(rule, tok, toks) : undefined;
      return matchHover(tok.text, m);
    }
    case 'target':
      return rule && table ? targetHover(rule, table, ctx) : `**${code(tok.text)}** · target`;
    case 'value':
      return valueHover(tok, rule, table, ctx);
    case 'ext':
      return extHover(tok, toks, rule, table, ctx);
  }
  return undefined;
}

function headerHover(text: string, sec: DocSection): string {
  if (text.startsWith('# Completed on ')) return '**end of a table block** · written by `iptables-save` after COMMIT, with the time of the dump.';
  const rs = sec.ruleset;
  const flavour = rs?.flavour === 'nf_tables'
    ? '**nf_tables** flavour (iptables-nft): the rules live in the kernel as nftables rules that iptables translates; `nft list ruleset` shows them too'
    : rs?.flavour === 'legacy'
      ? '**legacy** flavour: the rules live in the kernel\'s x_tables (ip_tables); `nft list ruleset` does not show them'
      : 'flavour unknown';
  return `**iptables-save header** · ${rs?.family === 'ipv6' ? 'ip6tables-save' : 'iptables-save'}${rs?.version ? ` v${rs.version}` : ''}, ${flavour}.`;
}

function tableHover(t: Table): string {
  const info = TABLES[t.name];
  const builtins = t.chains.filter((c) => c.builtin);
  const users = t.chains.length - builtins.length;
  const rules = t.chains.reduce((n, c) => n + c.rules.length, 0);
  const hooks = (BUILTIN_CHAINS[t.name] ?? []).map((c) => `${c} at priority ${info.priority(c)}`).join(', ');
  return `**table ${t.name}** · ${builtins.length} built-in chain${builtins.length === 1 ? '' : 's'}, ${users} user chain${users === 1 ? '' : 's'}, ${rules} rule${rules === 1 ? '' : 's'}\n\nThe ${t.name} table ${info.what}.\n\nIts built-in chains run on their hooks: ${hooks}. On each hook, lower priorities run first.${t.committed === false ? '\n\n**This block has no COMMIT**: `iptables-restore` would not load it.' : ''}`;
}

/** Hover text of a chain: built-in (hook, priority, policy) or user (who jumps here). */
export function chainHover(c: Chain, t: Table): string {
  const n = c.rules.length;
  const head = `**${esc(c.name)}** · ${c.builtin ? 'built-in' : 'user'} chain of table ${t.name}${c.policy ? ` · policy ${c.policy}` : ''} · ${n} rule${n === 1 ? '' : 's'}`;
  const parts: string[] = [head];
  if (c.builtin && HOOKS[c.name]) {
    const h = HOOKS[c.name];
    parts.push(`Runs on hook ${h.kernel} with priority ${TABLES[t.name].priority(c.name)}: ${h.what}.${t.name === 'nat' ? ' In the nat table only the first packet of each connection comes here.' : ''}`);
    if (c.counters) parts.push(`${c.counters.approximate ? 'About ' : ''}${c.counters.packets} packets (${c.counters.bytes} bytes) reached the end of the chain and took the policy ${c.policy ?? ''}.`);
  } else {
    const jumpers = jumpersOf(t, c.name);
    if (jumpers.length === 0) parts.push(c.references !== undefined ? `\`iptables -L\` counts ${c.references} reference${c.references === 1 ? '' : 's'} to it.` : 'No rule of this table jumps to it, so no packet ever goes through it.');
    else {
      const list = jumpers.slice(0, 8).map((r) => `${r.chain} rule ${r.index + 1} (line ${r.source.line}${r.spec.target?.goto ? ', goto' : ''})`);
      parts.push(`Jumped to by ${jumpers.length} rule${jumpers.length === 1 ? '' : 's'}: ${list.join(', ')}${jumpers.length > 8 ? ', …' : ''}.`);
      const hooks = hooksReaching(t, c.name);
      if (hooks.length) parts.push(`Packets reach it from the built-in chain${hooks.length === 1 ? '' : 's'} ${hooks.join(', ')}.`);
    }
    parts.push('A packet that reaches its end (or a RETURN) goes back to the rule after the jump.');
  }
  const origin = chainOrigin(c.name, t.name);
  let md = parts.join('\n\n');
  if (origin) md += `\n\n**Where it comes from:** ${origin}.`;
  return md;
}

function countersHover(tok: Tok, rule: Rule | undefined, chain: Chain | undefined, table: Table | undefined): string {
  const cnt = rule?.counters ?? chain?.counters;
  if (!cnt) return `**counters** ${code(tok.text)}`;
  const approx = cnt.approximate ? ' (rounded by `iptables -L`; list with `-x` for exact numbers)' : '';
  if (rule) {
    const nat = table?.name === 'nat' ? ` In the nat table only the first packet of each connection is counted, so this is ${cnt.approximate ? 'about ' : ''}${cnt.packets} connection${cnt.packets === 1 ? '' : 's'}.` : '';
    const about = cnt.approximate ? 'about ' : '';
    return `**counters** · ${about}${cnt.packets} packet${cnt.packets === 1 ? '' : 's'}, ${about}${cnt.bytes} bytes matched this rule${approx}, since it was added or the counters were last zeroed.${nat}${cnt.packets === 0 ? ' No packet has matched it.' : ''}`;
  }
  return `**policy counters** · ${cnt.approximate ? 'about ' : ''}${cnt.packets} packets, ${cnt.bytes} bytes reached the end of chain ${code(chain?.name ?? '')} and took its policy${approx}.`;
}

function ruleHover(r: Rule, t: Table, ctx: LangContext): string {
  let md = `**rule ${r.index + 1}** of ${code(r.chain)} (table ${t.name})${r.counters ? ` · ${r.counters.approximate ? '~' : ''}${r.counters.packets} packets, ${r.counters.bytes} bytes` : ''}\n\n${ruleInWords(r)}.`;
  const origin = ruleOrigin(r, ctx);
  if (origin) md += `\n\n**Where it comes from:** ${origin}.`;
  return md;
}

/** The match object a `-m NAME` token stands for (the n-th of that name on the line). */
function nthMatch(r: Rule, tok: Tok, toks: Tok[]): XtMatch | undefined {
  let k = 0;
  for (const t of toks) {
    if (t === tok) break;
    if (t.kind === 'match' && t.text === tok.text) k++;
  }
  return r.spec.matches.filter((m) => m.name === tok.text)[k];
}

function matchHover(name: string, m: XtMatch | undefined): string {
  const info = MATCHES[name];
  if (!info) return `**-m ${esc(name)}** · a match meshtrace does not understand; the rule is kept as written${m ? `: ${code(m.raw)}` : ''}.`;
  let md = `**-m ${name}** · match: ${info.title}\n\nIt ${info.what}.`;
  if (m) {
    const w = matchInWords(m);
    if (w) md += `\n\nHere: ${w}.`;
  }
  return md;
}

const TOP_WORDS: Readonly<Record<string, string>> = {
  '-s': 'source address: the packet must come from this address or network',
  '-d': 'destination address: the packet must go to this address or network',
  '-i': 'input interface: the packet must arrive on this interface (PREROUTING, INPUT, FORWARD only); a name ending in `+` matches every interface starting with it',
  '-o': 'output interface: the packet must leave by this interface (FORWARD, OUTPUT, POSTROUTING only); a name ending in `+` matches every interface starting with it',
  '-p': 'protocol: the packet must be of this IP protocol (it also loads the protocol\'s match for `--dport` and the like)',
  '-f': 'fragment: the rule applies only to second and later fragments of a fragmented packet',
  '-m': 'loads a match extension, whose options follow',
  '-j': 'jump: what to do with a matching packet (a target, or a user chain to go through)',
  '-g': 'goto: continue in a user chain, and when it returns, return from this chain too',
};

function optionHover(tok: Tok, rule: Rule | undefined, table: Table | undefined): string {
  const o = tok.opt ?? tok.text;
  if (o === '-m' || o === '--match') return `**${tok.text}** · ${TOP_WORDS['-m']}.`;
  if (o === '-j' || o === '-g') {
    let md = `**${tok.text}** · ${TOP_WORDS[o]}.`;
    if (rule && table) md += `\n\nHere: ${targetInWords(rule.spec.target)}.`;
    return md;
  }
  if (tok.ownerKind === 'top' && TOP_WORDS[o]) return `**${tok.invert ? '! ' : ''}${tok.text}** · ${TOP_WORDS[o]}.`;
  const owner = tok.owner ?? '';
  const known = tok.ownerKind === 'target' ? TARGETS[owner] : MATCHES[owner];
  if (!known) return `**${esc(tok.text)}** · option of ${code(owner)}, which meshtrace does not understand.`;
  return `**${tok.text}** · option of ${tok.ownerKind === 'target' ? 'target' : 'match'} ${code(owner)}${OPTION_WORDS[`${owner}.${o}`] ? `: ${OPTION_WORDS[`${owner}.${o}`]}` : ''}.`;
}

/** Short meanings of extension options. */
const OPTION_WORDS: Readonly<Record<string, string>> = {
  'tcp.--dport': 'the destination port (or range `a:b`)',
  'tcp.--sport': 'the source port (or range `a:b`)',
  'udp.--dport': 'the destination port (or range `a:b`)',
  'udp.--sport': 'the source port (or range `a:b`)',
  'tcp.--tcp-flags': 'of the flags in the first list, exactly those in the second must be set',
  'multiport.--dports': 'a list of destination ports',
  'multiport.--sports': 'a list of source ports',
  'conntrack.--ctstate': "the connection's state",
  'state.--state': "the connection's state",
  'addrtype.--dst-type': "the destination address's type",
  'addrtype.--src-type': "the source address's type",
  'mark.--mark': "the packet mark to compare (VALUE[/MASK])",
  'connmark.--mark': "the connection mark to compare (VALUE[/MASK])",
  'comment.--comment': 'a note; it does not affect matching',
  'statistic.--mode': '`random` or `nth`',
  'statistic.--probability': 'the chance that a packet matches',
  'MARK.--set-xmark': 'mark = (mark AND NOT MASK) XOR VALUE',
  'CONNMARK.--set-xmark': 'connection mark = (mark AND NOT MASK) XOR VALUE',
  'DNAT.--to-destination': 'the new destination address[:port]',
  'SNAT.--to-source': 'the new source address[:port]',
  'MASQUERADE.--to-ports': 'the source ports to use',
  'REDIRECT.--to-ports': 'the local port (or range) to redirect to',
  'REJECT.--reject-with': 'the error sent back',
  'LOG.--log-prefix': 'text put before each log line',
  'ipvs.--ipvs': 'the packet belongs to an IPVS connection',
};

function targetHover(r: Rule, t: Table, ctx: LangContext): string {
  const tg = r.spec.target;
  if (!tg) return '';
  const chain = jumpsTo(t, r);
  if (chain || tg.goto) {
    const verb = tg.goto ? 'goto' : 'jump';
    let md = `**${tg.goto ? '-g' : '-j'} ${esc(tg.name)}** · ${verb} to a user chain\n\n`;
    md += tg.goto
      ? `The packet continues in ${code(tg.name)}; when that chain returns, the packet returns from ${code(r.chain)} too (to whatever called it), not to the next rule here.`
      : `The packet goes through ${code(tg.name)}; if that chain ends without a verdict (or with RETURN), it comes back to the next rule of ${code(r.chain)}.`;
    if (chain) md += `\n\n---\n\n${chainHover(chain, t)}`;
    else md += `\n\n**No chain ${code(tg.name)} is declared in table ${t.name}.**`;
    return md;
  }
  const info = TARGETS[tg.name];
  if (!info) return `**${esc(tg.name)}** · a target meshtrace does not understand; kept as written: ${code(tg.raw)}.`;
  const xmark = tg.options.find((o) => o.name === 'set-xmark')?.values[0];
  const here = (tg.name === 'MARK' || tg.name === 'CONNMARK') && xmark ? `${code(`--set-xmark ${xmark}`)}: ${explainSetXmark(xmark, tg.name === 'CONNMARK')}` : targetInWords(tg);
  let md = `**${tg.name}** · target: ${info.title}${info.allowed ? ` · allowed in ${info.allowed}` : ''}\n\n${capital(info.what)}.\n\nHere: ${here}.`;
  md += targetFacts(r, ctx);
  const origin = ruleOrigin(r, ctx);
  if (origin) md += `\n\n**Where it comes from:** ${origin}.`;
  return md;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Capture facts about a target's arguments (the mark's IPVS service, the DNAT address's owner). */
function targetFacts(r: Rule, ctx: LangContext): string {
  const tg = r.spec.target;
  if (!tg) return '';
  const facts: string[] = [];
  const arg = (n: string): string | undefined => tg.options.find((o) => o.name === n)?.values[0];
  if (tg.name === 'MARK' || tg.name === 'CONNMARK') {
    const v = arg('set-xmark');
    const mm = v ? readMarkMask(v) : undefined;
    if (mm && mm.mask === 0xffffffff && tg.name === 'MARK') facts.push(...markFacts(mm.value, ctx));
  } else if (tg.name === 'DNAT' || tg.name === 'SNAT') {
    const v = arg(tg.name === 'DNAT' ? 'to-destination' : 'to-source');
    if (v) facts.push(...natTargetFacts(v, tg.name, ctx));
  }
  return section('In this capture', facts);
}

function natTargetFacts(v: string, name: string, ctx: LangContext): string[] {
  const facts: string[] = [];
  const m = /^([0-9.]*)(?:-([0-9.]+))?(?::(\d+)(?:-(\d+))?)?$/.exec(v);
  if (!m) return facts;
  if (m[1]) {
    facts.push(...addrFacts(m[1], ctx).filter((f) => !f.startsWith('`')));
    const bad = badNatAddress(m[1], ctx);
    if (bad) facts.push(`**${bad}**`);
  } else facts.push(`the ${name === 'DNAT' ? 'destination' : 'source'} address is kept; only the port changes`);
  if (m[3]) facts.push(...portFacts(Number(m[3]), undefined, ctx));
  return facts;
}

const PROTO_NUMBERS: Readonly<Record<string, string>> = { tcp: '6', udp: '17', icmp: '1', sctp: '132', 'ipv6-icmp': '58', gre: '47', esp: '50', ah: '51' };

function valueHover(tok: Tok, rule: Rule | undefined, table: Table | undefined, ctx: LangContext): string {
  const o = tok.opt ?? '';
  const owner = tok.owner ?? '';
  const v = tok.text;
  const inv = tok.invert ? 'not ' : '';
  switch (o) {
    case '-s':
    case '-d': {
      const facts = addrFacts(v, ctx);
      const head = `**${code(v)}** · ${o === '-s' ? 'source' : 'destination'} address ${tok.invert ? '(inverted: any address except this)' : ''}`.trimEnd();
      return head + section('What it is', facts);
    }
    case '-i':
    case '-o': {
      if (v === '*') return `**\`*\`** · any ${o === '-i' ? 'input' : 'output'} interface`;
      const dir = o === '-i' ? 'arrives on' : 'leaves by';
      return `**${code(v)}** · the packet ${inv}${dir} ${v.endsWith('+') ? `an interface whose name starts with ${code(v.slice(0, -1))}` : 'this interface'}` + section('In this capture', ifaceFacts(v, ctx));
    }
    case '-p': {
      const p = v.toLowerCase();
      if (p === 'all' || p === '0') return '**all** · any protocol';
      const num = PROTO_NUMBERS[p] ?? (/^\d+$/.test(p) ? p : undefined);
      const name = Object.keys(PROTO_NUMBERS).find((k) => PROTO_NUMBERS[k] === p);
      return `**${code(v)}** · IP protocol ${name ? `${name} (number ${p})` : `${v}${num ? ` (number ${num})` : ''}`}${tok.invert ? ', inverted: any other protocol' : ''}`;
    }
    case '-f':
      return v === '--' ? '**`--`** · no fragment condition' : v === '-f' ? '**-f** · only second and later fragments' : '**!f** · only first fragments and unfragmented packets';
  }
  if (o === '-j' || o === '-g') return rule && table ? targetHover(rule, table, ctx) : '';
  const key = `${owner}.${o}`;
  switch (key) {
    case 'tcp.--dport':
    case 'udp.--dport':
    case 'sctp.--dport':
    case 'tcp.--sport':
    case 'udp.--sport':
    case 'sctp.--sport':
      return portHover(v, o === '--dport' ? 'destination' : 'source', owner, tok.invert, ctx);
    case 'multiport.--dports':
    case 'multiport.--sports':
    case 'multiport.--ports':
      return `**${code(v)}** · ${o === '--dports' ? 'destination' : o === '--sports' ? 'source' : 'source or destination'} port is ${inv}one of ${v.split(',').join(', ')}` + section('In this capture', v.split(',').filter((x) => /^\d+$/.test(x)).flatMap((x) => portFacts(Number(x), undefined, ctx)));
    case 'MARK.--set-xmark':
    case 'CONNMARK.--set-xmark': {
      const mm = readMarkMask(v);
      const facts = mm && mm.mask === 0xffffffff && owner === 'MARK' ? markFacts(mm.value, ctx) : [];
      let md = `**${code(v)}** · ${explainSetXmark(v, owner === 'CONNMARK')}` + section('In this capture', facts);
      const origin = rule ? ruleOrigin(rule, ctx) : undefined;
      if (origin) md += `\n\n**Where it comes from:** ${origin}.`;
      return md;
    }
    case 'mark.--mark':
    case 'connmark.--mark': {
      const mm = readMarkMask(v);
      const facts = mm && mm.mask === 0xffffffff ? markFacts(mm.value, ctx) : [];
      return `**${code(v)}** · ${tok.invert ? 'not: ' : ''}${explainMarkTest(v, owner === 'connmark')}` + section('In this capture', facts);
    }
    case 'DNAT.--to-destination':
    case 'SNAT.--to-source': {
      let md = `**${code(v)}** · the new ${owner === 'DNAT' ? 'destination' : 'source'}${v.includes(':') ? ' address and port' : ' address'}` + section('In this capture', natTargetFacts(v, owner, ctx));
      const origin = rule ? ruleOrigin(rule, ctx) : undefined;
      if (origin) md += `\n\n**Where it comes from:** ${origin}.`;
      return md;
    }
    case 'REDIRECT.--to-ports':
    case 'MASQUERADE.--to-ports':
      return `**${code(v)}** · ${owner === 'REDIRECT' ? 'the local port the packet is redirected to' : 'the source port range used'}`;
    case 'conntrack.--ctstate':
    case 'state.--state':
      return `**${code(v)}** · the connection is ${inv}in state ${ctStatesInWords(v)}`;
    case 'addrtype.--dst-type':
    case 'addrtype.--src-type':
      return `**${code(v)}** · the ${o === '--dst-type' ? 'destination' : 'source'} address is ${inv}${v.split(',').map((x) => `${x}: ${ADDR_TYPES[x] ?? 'unknown type'}`).join('; or ')}`;
    case 'comment.--comment': {
      const origin = rule ? ruleOrigin(rule, ctx) : undefined;
      return `**comment** ${code(v)} · a note kept with the rule; it does not change what the rule matches.${origin ? `\n\n**Where it comes from:** ${origin}.` : ''}`;
    }
    case 'statistic.--probability': {
      const p = Number(v);
      return `**${code(v)}** · each packet matches with probability ${v}${p > 0 ? ` (about 1 in ${(1 / p).toFixed(p > 0.1 ? 2 : 0)})` : ''}; the kernel stores it as a 31-bit fraction, so the digits are not exactly 1/n`;
    }
    case 'REJECT.--reject-with':
      return `**${code(v)}** · the error sent back: ${v === 'tcp-reset' ? 'a TCP RST (the connection is refused at once)' : `an ICMP ${v.replace(/^icmp6?-/, '')} error`}`;
  }
  const known = tok.ownerKind === 'target' ? TARGETS[owner] : MATCHES[owner];
  return `**${code(v)}** · argument of ${code(o)}${owner ? ` of ${tok.ownerKind === 'target' ? 'target' : 'match'} ${code(owner)}` : ''}${known ? '' : ' (not understood by meshtrace)'}`;
}

function portHover(v: string, dir: string, proto: string, invert: boolean | undefined, ctx: LangContext): string {
  const range = v.includes(':');
  const facts = !range && /^\d+$/.test(v) ? portFacts(Number(v), proto, ctx) : [];
  return `**${code(v)}** · ${dir} ${range ? 'port range' : 'port'} ${invert ? '(inverted: any other port)' : ''}`.trimEnd() + section('In this capture', facts);
}

/** Hover on the match/target text of an `iptables -L` row (what the extensions' print callbacks wrote). */
function extHover(tok: Tok, toks: Tok[], rule: Rule | undefined, table: Table | undefined, ctx: LangContext): string | undefined {
  if (!rule || !table) return undefined;
  const w = tok.text;
  const i = toks.indexOf(tok);
  const prev = toks[i - 1]?.kind === 'ext' ? toks[i - 1].text : '';
  const proto = rule.spec.proto?.name;
  if (tok.opt === 'comment') {
    const c = rule.spec.matches.find((m) => m.name === 'comment')?.options[0]?.values[0] ?? w;
    return valueHover({ ...tok, text: c, opt: '--comment', owner: 'comment', ownerKind: 'match' }, rule, table, ctx);
  }
  const port = /^(dpts?|spts?):(!?)(.*)$/.exec(w);
  if (port) return portHover(port[3], port[1].startsWith('d') ? 'destination' : 'source', proto ?? 'tcp', port[2] === '!', ctx);
  if (w.startsWith('to:')) {
    const tn = rule.spec.target?.name;
    if (tn === 'DNAT' || tn === 'SNAT') return valueHover({ ...tok, text: w.slice(3), opt: tn === 'DNAT' ? '--to-destination' : '--to-source', owner: tn, ownerKind: 'target' }, rule, table, ctx);
  }
  const tname = rule.spec.target?.name;
  if ((prev === 'set' || prev === 'xset') && (tname === 'MARK' || tname === 'CONNMARK')) {
    const val = rule.spec.target?.options.find((o) => o.name === 'set-xmark')?.values[0] ?? w;
    return valueHover({ ...tok, text: val, opt: '--set-xmark', owner: tname, ownerKind: 'target' }, rule, table, ctx);
  }
  if (w === tname || ((w === 'set' || w === 'xset') && (tname === 'MARK' || tname === 'CONNMARK')) || w.startsWith('reject-with') || (prev === 'reject-with')) return targetHover(rule, table, ctx);
  const lower = w.toLowerCase();
  const m = rule.spec.matches.find((x) => x.name === lower || (lower === 'addrtype' && x.name === 'addrtype'));
  if (m) return matchHover(m.name, m);
  if (['match', 'dst-type', 'src-type'].includes(w) || ADDR_TYPES[w]) {
    const a = rule.spec.matches.find((x) => x.name === 'addrtype');
    if (a) return matchHover('addrtype', a);
  }
  if (w === 'ctstate' || w === 'state' || prev === 'ctstate' || prev === 'state') {
    const c = rule.spec.matches.find((x) => x.name === 'conntrack' || x.name === 'state');
    if (c) return matchHover(c.name, c);
  }
  return ruleHover(rule, table, ctx);
}
