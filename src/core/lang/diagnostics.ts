/**
 * Diagnostics of a rule file: the parsers' problems, plus what only a whole-table or whole-capture
 * view shows: rules shadowed by an earlier unconditional rule, user chains nothing jumps to,
 * targets used where the kernel refuses them, NAT to addresses or ports that make no sense, and
 * the Swarm routing-mesh chain (host DNAT → ingress_sbox MARK → IPVS service → live tasks) broken
 * somewhere, when the capture holds the other namespaces.
 */
import type { Problem } from '../problem';
import type { Namespace } from '../model/model';
import type { Rule, Table } from '../model/netfilter';
import { CaptureIndex } from './captureIndex';
import { badNatAddress, ctxNs, markSet, numHex, ruleDport, type LangContext } from './describe';
import { chainNamed, hooksReaching, jumpersOf, sectionContext } from './tables';
import { isTargetExtension } from '../parsers/iptablesRule';
import { deadServiceReason, ipvsDiagnostics, ipvsServiceName } from './ipvsLang';
import { TARGETS } from './knowledge';
import { isIptablesKind, lexLine, type DocSection, type RuleDoc } from './ruleDoc';
import { spanOn, type FileSpan, type LangDiagnostic, type Span } from './types';

/** At most this many diagnostics of one kind per document (a 300 000-rule dump stays usable). */
const MAX_PER_KIND = 500;

/** A problem from a parser or the model as a diagnostic. */
export function problemToDiagnostic(p: Problem): LangDiagnostic {
  const line = Math.max(0, p.line - 1);
  return { span: spanOn(line, Math.max(0, p.col - 1), Math.max(p.col, p.endCol - 1)), severity: p.severity, code: p.code, message: p.message };
}

/** Everything wrong or noteworthy in a rule file. `modelProblems` are the capture's problems of this file. */
export function ruleDocDiagnostics(doc: RuleDoc, index?: CaptureIndex, modelProblems: Problem[] = []): LangDiagnostic[] {
  const out: LangDiagnostic[] = [];
  const seen = new Set<string>();
  const addProblem = (p: Problem): void => {
    const key = `${p.code}|${p.line}|${p.col}|${p.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(problemToDiagnostic(p));
  };
  for (const p of doc.problems) addProblem(p);
  for (const s of doc.sections) for (const p of s.problems) addProblem(p);
  for (const p of modelProblems) addProblem(p);
  const counts = new Map<string, number>();
  const push = (d: LangDiagnostic): void => {
    const n = (counts.get(d.code) ?? 0) + 1;
    counts.set(d.code, n);
    if (n <= MAX_PER_KIND) out.push(d);
  };
  for (const sec of doc.sections) {
    const ctx = sectionContext(sec, index);
    if (sec.kind === 'ipvsadm') {
      for (const d of ipvsDiagnostics(doc, sec, ctx)) push(d);
      continue;
    }
    if (!isIptablesKind(sec.kind) || !sec.ruleset) continue;
    for (const t of sec.ruleset.tables) {
      shadowed(doc, t, push);
      unusedChains(doc, sec, t, push);
      if (sec.kind !== 'iptables-save') unlistedTargets(doc, t, push);
      misplacedTargets(doc, t, push);
      natTargets(doc, t, ctx, push);
      swarmChecks(doc, t, ctx, push);
    }
  }
  for (const [code, n] of counts) {
    if (n > MAX_PER_KIND) out.push({ span: spanOn(0, 0, 1), severity: 'info', code, message: `${n - MAX_PER_KIND} more \`${code}\` diagnostics are not shown` });
  }
  return out;
}

/** The span of a token kind on a rule's line (the target name, the chain, …), else the rule text. */
export function ruleSpan(doc: RuleDoc, r: Rule, kind?: 'target' | 'chain' | 'command'): Span {
  const line = r.source.line - 1;
  if (kind) {
    const t = lexLine(doc, line).find((x) => x.kind === kind);
    if (t) return spanOn(line, t.start, t.end);
  }
  const text = doc.lines[line] ?? '';
  const start = text.length - text.trimStart().length;
  return spanOn(line, start, Math.max(start + 1, text.trimEnd().length));
}

/** Whether a rule matches every packet (no condition but comments). */
function unconditional(r: Rule): boolean {
  const s = r.spec;
  return !s.src && !s.dst && !s.iif && !s.oif && !s.proto && !s.fragment && s.matches.every((m) => m.name === 'comment');
}

/** Whether a rule's target ends the chain for every packet it matches. */
function endsChain(r: Rule): boolean {
  const t = r.spec.target;
  if (!t) return false;
  if (t.goto) return true;
  return TARGETS[t.name]?.ends === true;
}

function shadowed(doc: RuleDoc, t: Table, push: (d: LangDiagnostic) => void): void {
  for (const c of t.chains) {
    const stop = c.rules.findIndex((r) => unconditional(r) && endsChain(r));
    if (stop < 0) continue;
    const by = c.rules[stop];
    for (const r of c.rules.slice(stop + 1)) {
      push({
        span: ruleSpan(doc, r),
        severity: 'warning',
        code: 'shadowed-rule',
        message: `this rule can never match: rule ${by.index + 1} of ${c.name} (line ${by.source.line}) matches every packet and ends the chain with ${by.spec.target?.goto ? `-g ${by.spec.target.name}` : by.spec.target?.name}`,
        related: [{ at: { span: ruleSpan(doc, by) }, message: `every packet stops here (${by.spec.target?.name})` }],
        tags: ['unnecessary'],
      });
    }
  }
}

function declSpan(doc: RuleDoc, line: number): Span {
  const t = lexLine(doc, line).find((x) => x.kind === 'chain-decl');
  return t ? spanOn(line, t.end - t.text.length, t.end) : spanOn(line, 0, (doc.lines[line] ?? '').length);
}

function unusedChains(doc: RuleDoc, sec: DocSection, t: Table, push: (d: LangDiagnostic) => void): void {
  // `iptables -S CHAIN` and `-L CHAIN` may list a single chain: what jumps to it is not shown.
  const partial = sec.kind !== 'iptables-save' && !t.chains.some((c) => c.builtin);
  if (partial) return;
  for (const c of t.chains) {
    if (c.builtin) continue;
    if (c.references !== undefined ? c.references > 0 : jumpersOf(t, c.name).length > 0) continue;
    push({ span: declSpan(doc, c.source.line - 1), severity: 'info', code: 'unused-chain', message: `no rule jumps or goes to user chain ${c.name}, so no packet ever goes through its ${c.rules.length} rule${c.rules.length === 1 ? '' : 's'}`, tags: ['unnecessary'] });
  }
}

/**
 * `iptables -S` and `-L` of a whole table (its built-in chains are listed) show every chain, so a
 * jump to a chain that is not listed goes nowhere (the parsers only note it, as a listing of one
 * chain legitimately omits the others).
 */
function unlistedTargets(doc: RuleDoc, t: Table, push: (d: LangDiagnostic) => void): void {
  if (!t.chains.some((c) => c.builtin && c.policy)) return;
  for (const c of t.chains) {
    for (const r of c.rules) {
      const tg = r.spec.target;
      if (!tg || (!tg.goto && (tg.name in TARGETS || isTargetExtension(tg.name))) || chainNamed(t, tg.name)) continue;
      push({ span: ruleSpan(doc, r, 'target'), severity: 'warning', code: 'undeclared-target', message: `\`${tg.goto ? '-g' : '-j'} ${tg.name}\`: this listing of table ${t.name} has no chain ${tg.name}, and it is not a target meshtrace knows` });
    }
  }
}

function misplacedTargets(doc: RuleDoc, t: Table, push: (d: LangDiagnostic) => void): void {
  for (const c of t.chains) {
    for (const r of c.rules) {
      const tg = r.spec.target;
      const info = tg && !tg.goto ? TARGETS[tg.name] : undefined;
      if (!tg || !info) continue;
      if (info.table && info.table !== t.name) {
        push({ span: ruleSpan(doc, r, 'target'), severity: 'error', code: 'target-table', message: `${tg.name} is only allowed in table ${info.table} (the kernel refuses this rule in table ${t.name})` });
        continue;
      }
      if (!info.hooks) continue;
      const hooks = hooksReaching(t, c.name);
      const bad = hooks.filter((h) => !info.hooks?.includes(h));
      if (bad.length) push({ span: ruleSpan(doc, r, 'target'), severity: 'error', code: 'target-hook', message: `${tg.name} is only allowed in ${info.hooks.join(' and ')}, but this rule is reached from ${bad.join(', ')} (the kernel refuses it: "${tg.name} target: used from hooks …")` });
    }
  }
}

/** Reads `ADDR[-ADDR][:PORT[-PORT]]` (DNAT/SNAT `--to-*`). */
function readNatRange(v: string): { addr?: string; addr2?: string; port?: number; port2?: number } | undefined {
  const m = /^([0-9.]*)(?:-([0-9.]+))?(?::(\d+)(?:-(\d+))?)?$/.exec(v);
  if (!m) return undefined;
  return { addr: m[1] || undefined, addr2: m[2], port: m[3] !== undefined ? Number(m[3]) : undefined, port2: m[4] !== undefined ? Number(m[4]) : undefined };
}

function natTargets(doc: RuleDoc, t: Table, ctx: LangContext, push: (d: LangDiagnostic) => void): void {
  for (const c of t.chains) {
    for (const r of c.rules) {
      const tg = r.spec.target;
      if (!tg || tg.goto) continue;
      const arg = (n: string): string | undefined => tg.options.find((o) => o.name === n)?.values[0];
      const at = (): Span => ruleSpan(doc, r, 'target');
      if (tg.name === 'DNAT' || tg.name === 'SNAT') {
        const v = arg(tg.name === 'DNAT' ? 'to-destination' : 'to-source');
        if (!v) {
          push({ span: at(), severity: 'error', code: 'nat-target', message: `${tg.name} without ${tg.name === 'DNAT' ? '--to-destination' : '--to-source'}: there is nothing to translate to` });
          continue;
        }
        const nr = readNatRange(v);
        if (!nr) continue;
        if (nr.port === 0 || nr.port2 === 0) push({ span: at(), severity: 'error', code: 'nat-target', message: `${tg.name} to port 0: no service listens on port 0, so the translated connections cannot succeed` });
        else if (nr.port !== undefined && nr.port2 !== undefined && nr.port2 < nr.port) push({ span: at(), severity: 'error', code: 'nat-target', message: `${tg.name} port range ${nr.port}-${nr.port2} is empty (the end is below the start)` });
        for (const a of [nr.addr, nr.addr2]) {
          const bad = a ? badNatAddress(a, ctx) : undefined;
          if (bad) push({ span: at(), severity: 'warning', code: 'nat-target', message: `${tg.name} to ${a}: ${bad}, which no host answers as a ${tg.name === 'DNAT' ? 'destination' : 'source'}` });
        }
      } else if (tg.name === 'REDIRECT') {
        const v = arg('to-ports');
        if (v && /^0(-|$)|-0$/.test(v)) push({ span: at(), severity: 'error', code: 'nat-target', message: 'REDIRECT to port 0: no service listens on port 0' });
        const m = v ? /^(\d+)-(\d+)$/.exec(v) : null;
        if (m && Number(m[2]) < Number(m[1])) push({ span: at(), severity: 'error', code: 'nat-target', message: `REDIRECT port range ${v} is empty (the end is below the start)` });
      }
    }
  }
}

/** The first model rule of a namespace's table that satisfies `test`. */
function findRule(ns: Namespace | undefined, table: string, test: (r: Rule) => boolean): Rule | undefined {
  for (const t of ns?.iptables?.tables ?? []) {
    if (t.name !== table) continue;
    for (const c of t.chains) for (const r of c.rules) if (test(r)) return r;
  }
  return undefined;
}

function modelSpan(file: string, line: number): FileSpan {
  // The other file's text is not at hand: the span is its whole line.
  return { file, span: { start: { line: line - 1, character: 0 }, end: { line, character: 0 } } };
}

function swarmChecks(doc: RuleDoc, t: Table, ctx: LangContext, push: (d: LangDiagnostic) => void): void {
  const idx = ctx.index;
  const ns = ctxNs(ctx);
  if (!idx || !ns) return;
  for (const c of t.chains) {
    for (const r of c.rules) {
      const tg = r.spec.target;
      if (!tg) continue;
      // The host's ingress DNAT needs ingress_sbox to mark the port, or IPVS never sees it.
      if (t.name === 'nat' && c.name === 'DOCKER-INGRESS' && tg.name === 'DNAT') {
        const dp = ruleDport(r.spec);
        const sbox = idx.namespace(ns.node, 'ingress_sbox') ?? idx.model.namespaces.find((x) => x.node === ns.node && x.role === 'ingress-sbox');
        if (!dp || !sbox || !sbox.iptables) continue;
        const mark = findRule(sbox, 'mangle', (m) => m.spec.target?.name === 'MARK' && ruleDport(m.spec)?.port === dp.port && (ruleDport(m.spec)?.proto ?? 'tcp') === (dp.proto ?? 'tcp'));
        if (!mark) {
          const pre = sbox.iptables.tables.find((x) => x.name === 'mangle')?.chains.find((x) => x.name === 'PREROUTING');
          push({
            span: ruleSpan(doc, r, 'target'),
            severity: 'warning',
            code: 'swarm-no-mark',
            message: `published port ${dp.port}/${dp.proto ?? 'tcp'}: the host DNATs it to ingress_sbox, but ${sbox.id} has no MARK rule for port ${dp.port} in its mangle table, so IPVS never takes these connections (they reach no task)`,
            related: pre ? [{ at: modelSpan(pre.source.file, pre.source.line), message: `${sbox.id} mangle PREROUTING: no MARK for --dport ${dp.port}` }] : [],
          });
        }
        const to = tg.options.find((o) => o.name === 'to-destination')?.values[0]?.split(':')[0];
        const sboxAddrs = sbox.interfaceIds.flatMap((id) => idx.iface(id)?.addrs.map((a) => a.local) ?? []);
        if (to && sboxAddrs.length && !sboxAddrs.includes(to)) {
          push({ span: ruleSpan(doc, r, 'target'), severity: 'warning', code: 'swarm-dnat-address', message: `published port ${dp.port}: DNAT to ${to}, but that is not an address of ${sbox.id} (it has ${sboxAddrs.filter((a) => !a.startsWith('127.')).join(', ')})` });
        }
        continue;
      }
      // A mark meant for IPVS needs its fwmark service, and that service a live task.
      const mark = markSet(tg);
      if (tg.name !== 'MARK' || mark === undefined) continue;
      const hasIpvsDump = ns.dumps.some((d) => d.kind === 'ipvsadm');
      const lbNs = ns.role === 'ingress-sbox' || ns.role === 'lb' || (ns.ipvs?.services.some((s) => s.proto === 'fwm') ?? false);
      if (!hasIpvsDump || !lbNs || ns.ipvs?.unavailable) continue;
      const svc = ns.ipvs?.services.find((s) => s.proto === 'fwm' && s.fwmark === mark);
      const ipvsFile = ns.dumps.find((d) => d.kind === 'ipvsadm')?.file;
      if (!svc) {
        push({
          span: ruleSpan(doc, r, 'target'),
          severity: 'warning',
          code: 'swarm-mark-no-ipvs',
          message: `mark ${numHex(mark)} has no IPVS service in ${ns.id}: its ipvsadm dump has no \`FWM ${mark}\`, so marked packets are not load-balanced (they go to the local stack, where nothing answers)`,
          related: ipvsFile ? [{ at: modelSpan(ipvsFile, 1), message: `${ns.id} IPVS: ${ns.ipvs?.services.length ? ns.ipvs.services.map(ipvsServiceName).join(', ') : 'no services'}` }] : [],
        });
        continue;
      }
      const dead = deadServiceReason(svc, ctx);
      if (dead) {
        push({ span: ruleSpan(doc, r, 'target'), severity: 'warning', code: 'swarm-ipvs-no-live-server', message: `mark ${numHex(mark)} feeds IPVS service FWM ${mark}, but ${dead.replace(/^IPVS service FWM \d+ has /, 'it has ').replace(/^every real server of IPVS service FWM \d+/, 'every real server')}`, related: [{ at: modelSpan(svc.source.file, svc.source.line), message: `IPVS service FWM ${mark}` }] });
      }
    }
  }
}
