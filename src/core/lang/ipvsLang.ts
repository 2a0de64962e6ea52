/**
 * Language features of `ipvsadm` dumps (and ipvsadm sections of bundles): hover on services and
 * real servers, the outline, folding, and the diagnostics about services that cannot serve.
 */
import type { IpvsDest, IpvsService } from '../model/ipvs';
import type { Namespace } from '../model/model';
import { addrFacts, code, ctxNs, markFacts, markSet, numHex, ruleInWords, type LangContext } from './describe';
import { FORWARDS, SCHEDULERS } from './knowledge';
import type { DocSection, RuleDoc } from './ruleDoc';
import { spanOn, type FileSpan, type LangDiagnostic, type LangFold, type LangHover, type LangSymbol, type Pos } from './types';

/** `FWM 256`, `TCP 10.0.0.5:80`: how ipvsadm names a service. */
export function ipvsServiceName(s: IpvsService): string {
  return s.proto === 'fwm' ? `FWM ${s.fwmark}` : `${s.proto.toUpperCase()} ${s.addr}:${s.port}`;
}

function lineSpan(doc: RuleDoc, line: number): ReturnType<typeof spanOn> {
  const text = doc.lines[line] ?? '';
  const start = text.length - text.trimStart().length;
  return spanOn(line, start, text.trimEnd().length);
}

function wordAt(text: string, ch: number): { text: string; start: number; end: number } | undefined {
  if (ch > text.length) return undefined;
  let s = ch;
  while (s > 0 && !/\s/.test(text[s - 1])) s--;
  let e = ch;
  while (e < text.length && !/\s/.test(text[e])) e++;
  if (s === e) return undefined;
  return { text: text.slice(s, e), start: s, end: e };
}

/** The MARK rules of a namespace that set `mark` (the ones feeding an fwmark service). */
export function markRulesOf(ns: Namespace | undefined, mark: number): { text: string; file: string; line: number; words: string }[] {
  const out: { text: string; file: string; line: number; words: string }[] = [];
  for (const t of ns?.iptables?.tables ?? []) {
    for (const c of t.chains) {
      for (const r of c.rules) {
        if (r.spec.target?.name === 'MARK' && markSet(r.spec.target) === mark) out.push({ text: r.text, file: r.source.file, line: r.source.line, words: `${t.name} ${c.name}: ${ruleInWords(r)}` });
      }
    }
  }
  return out;
}

/** Hover in an ipvsadm section. */
export function hoverIpvs(doc: RuleDoc, sec: DocSection, pos: Pos, ctx: LangContext): LangHover | undefined {
  const text = doc.lines[pos.line] ?? '';
  const w = wordAt(text, pos.character);
  if (!w) return undefined;
  const span = spanOn(pos.line, w.start, w.end);
  const trimmed = text.trim();
  if (trimmed.startsWith('IP Virtual Server version')) return { span, markdown: '**IPVS version line** · the kernel IP Virtual Server module\'s version; `size` is the number of buckets of its connection hash table.' };
  if (trimmed.startsWith('Prot LocalAddress:Port') || trimmed.startsWith('-> RemoteAddress:Port')) {
    return { span, markdown: '**column titles** · a virtual service per line (protocol, address:port or `FWM` mark, scheduler, flags), each followed by its real servers (`->` address:port, forwarding method, weight, active and inactive connections).' };
  }
  const svc = sec.ipvs?.services.find((s) => s.source.line - 1 === pos.line);
  if (svc) return { span, markdown: serviceHover(svc, w.text, ctx) };
  for (const s of sec.ipvs?.services ?? []) {
    const d = s.dests.find((x) => x.source.line - 1 === pos.line);
    if (d) return { span, markdown: destHover(d, s, w.text, ctx) };
  }
  return undefined;
}

function serviceHover(s: IpvsService, word: string, ctx: LangContext): string {
  const name = ipvsServiceName(s);
  const sched = SCHEDULERS[s.scheduler];
  let md = `**IPVS service ${code(name)}** · scheduler ${code(s.scheduler)}${sched ? ` (${sched})` : ''} · ${s.dests.length} real server${s.dests.length === 1 ? '' : 's'}`;
  if (word === s.scheduler && sched) md += `\n\nThe scheduler picks the real server of each new connection: ${sched}.`;
  if (s.proto === 'fwm' && s.fwmark !== undefined) {
    md += `\n\nA firewall-mark service: it takes the packets whose mark (set by an iptables MARK rule in this namespace) is ${numHex(s.fwmark)}, whatever their address and port; the real servers' port 0 means the packet keeps its own destination port.`;
  } else {
    md += `\n\nIt takes ${s.proto.toUpperCase()} packets to ${s.addr}:${s.port}${s.persistent !== undefined ? `; a client sticks to the same real server for ${s.persistent} s (persistent)` : ''}.`;
  }
  const facts: string[] = [];
  if (s.proto === 'fwm' && s.fwmark !== undefined) {
    const ns = ctxNs(ctx);
    for (const r of markRulesOf(ns, s.fwmark)) facts.push(`marked by ${r.file}:${r.line} (${r.words})`);
    if (ns?.iptables && markRulesOf(ns, s.fwmark).length === 0) facts.push(`**no MARK rule in ${ns.id} sets mark ${s.fwmark}**, so no packet reaches this service`);
    for (const f of markFacts(s.fwmark, ctx)) if (f.startsWith('Docker')) facts.push(f);
  } else if (s.addr) facts.push(...addrFacts(s.addr, ctx).filter((f) => !f.startsWith('`')));
  if (facts.length) md += `\n\n**In this capture:**\n${facts.map((f) => `- ${f}`).join('\n')}`;
  return md;
}

function destHover(d: IpvsDest, s: IpvsService, word: string, ctx: LangContext): string {
  const fwd = FORWARDS[d.forward];
  let md = `**real server ${code(`${d.addr}:${d.port}`)}** of ${code(ipvsServiceName(s))} · ${d.forward} · weight ${d.weight}`;
  if (d.activeConn !== undefined) md += ` · ${d.activeConn} active, ${d.inactConn ?? 0} inactive connections`;
  md += `\n\n${d.port === 0 && s.proto === 'fwm' ? 'Port 0: the packet keeps its own destination port. ' : ''}Forwarding ${d.forward}: ${fwd ?? 'unknown method'}.`;
  if (d.weight === 0) md += '\n\n**Weight 0**: this server gets no new connections (Docker sets a removed task\'s weight to 0 before it deletes it).';
  if (word === String(d.weight) && d.weight > 0) md += `\n\nWeight ${d.weight}: its share of new connections relative to the other servers' weights.`;
  const facts = addrFacts(d.addr, ctx).filter((f) => !f.startsWith('`'));
  if (facts.length) md += `\n\n**In this capture:**\n${facts.map((f) => `- ${f}`).join('\n')}`;
  return md;
}

/** Whether a real server is a live task or address of the capture (undefined: the capture cannot tell). */
export function destLive(d: IpvsDest, ctx: LangContext): boolean | undefined {
  const idx = ctx.index;
  if (!idx || !idx.hasDocker) return undefined;
  return idx.tasksAt(d.addr).length > 0 || idx.addrOwners(d.addr).length > 0;
}

/** Why no real server of a service can take a connection, or undefined when one can (or the capture cannot tell). */
export function deadServiceReason(s: IpvsService, ctx: LangContext): string | undefined {
  const name = ipvsServiceName(s);
  if (s.dests.length === 0) return `IPVS service ${name} has no real servers: new connections to it find no server`;
  if (s.dests.every((d) => d.weight === 0)) return `every real server of IPVS service ${name} has weight 0: new connections find no server (draining or stale tasks)`;
  const live = s.dests.map((d) => destLive(d, ctx));
  if (live.every((x) => x === false)) return `no real server of IPVS service ${name} is a running task or an address in this capture (${s.dests.map((d) => d.addr).join(', ')}): connections go nowhere`;
  if (s.dests.every((d, i) => d.weight === 0 || live[i] === false)) return `IPVS service ${name} has no live real server: the ones with weight above 0 (${s.dests.filter((d) => d.weight > 0).map((d) => d.addr).join(', ')}) are no running task or address in this capture`;
  return undefined;
}

/** Diagnostics of an ipvsadm section: services that cannot serve, real servers that are gone. */
export function ipvsDiagnostics(doc: RuleDoc, sec: DocSection, ctx: LangContext): LangDiagnostic[] {
  const out: LangDiagnostic[] = [];
  const ns = ctxNs(ctx);
  for (const s of sec.ipvs?.services ?? []) {
    const line = s.source.line - 1;
    const reason = deadServiceReason(s, ctx);
    if (reason) {
      out.push({ span: lineSpan(doc, line), severity: 'warning', code: 'ipvs-no-live-server', message: reason, related: s.dests.map((d) => ({ at: { span: lineSpan(doc, d.source.line - 1) } as FileSpan, message: `${d.addr}:${d.port} weight ${d.weight}` })) });
    } else {
      for (const d of s.dests) {
        if (destLive(d, ctx) === false) out.push({ span: lineSpan(doc, d.source.line - 1), severity: 'info', code: 'ipvs-stale-server', message: `${d.addr} is no running task or address in this capture; IPVS may send connections to a server that is gone` });
      }
    }
    if (s.proto === 'fwm' && s.fwmark !== undefined && ns?.iptables && markRulesOf(ns, s.fwmark).length === 0) {
      out.push({ span: lineSpan(doc, line), severity: 'info', code: 'ipvs-unmarked', message: `no MARK rule in ${ns.id} sets mark ${s.fwmark} (${numHex(s.fwmark)}), so no packet reaches IPVS service ${ipvsServiceName(s)}` });
    }
  }
  return out;
}

/** Outline of an ipvsadm section: services with their real servers. */
export function ipvsSymbols(doc: RuleDoc, sec: DocSection): LangSymbol[] {
  return (sec.ipvs?.services ?? []).map((s) => {
    const line = s.source.line - 1;
    const last = s.dests.reduce((m, d) => Math.max(m, d.source.line - 1), line);
    const sel = lineSpan(doc, line);
    return {
      name: ipvsServiceName(s),
      detail: `${s.scheduler} · ${s.dests.length} real server${s.dests.length === 1 ? '' : 's'}`,
      kind: 'service' as const,
      span: { start: sel.start, end: { line: last, character: (doc.lines[last] ?? '').length } },
      selection: sel,
      children: s.dests.map((d) => ({ name: `${d.addr}:${d.port}`, detail: `${d.forward} · weight ${d.weight}`, kind: 'dest' as const, span: lineSpan(doc, d.source.line - 1), selection: lineSpan(doc, d.source.line - 1), children: [] })),
    };
  });
}

/** Folding of an ipvsadm section: each service with its real servers. */
export function ipvsFolds(sec: DocSection): LangFold[] {
  const out: LangFold[] = [];
  for (const s of sec.ipvs?.services ?? []) {
    const last = s.dests.reduce((m, d) => Math.max(m, d.source.line - 1), s.source.line - 1);
    if (last > s.source.line - 1) out.push({ startLine: s.source.line - 1, endLine: last });
  }
  return out;
}

