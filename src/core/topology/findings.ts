/**
 * The doctor: what Docker should have programmed (expected.ts) against what the capture holds,
 * plus the routing-mesh failure modes Swarm users keep reporting (moby issues on the ingress
 * network: a published port that does not answer on some node, IPVS real servers of dead tasks,
 * weight-0 backends, marks that no IPVS service takes, missing or stale VXLAN FDB entries,
 * forwarding or br_netfilter off, DOCKER-USER rules, a firewall on 4789/udp or 7946, and the
 * client address lost to the ingress SNAT). Each finding names the node, the namespace, the dump
 * line, explains in plain words, and gives a command that fixes or confirms it.
 */
import type { Severity } from '../problem';
import type { Model, Namespace } from '../model/model';
import type { Rule, RuleSpec, Table, XtOption } from '../model/netfilter';
import { formatRuleSpec } from '../parsers/iptablesRule';
import { traceQuery } from '../sim/simulate';
import type { World } from '../sim/world';
import type { SwarmFacts } from './facts';
import type { ExpectedNamespace, ExpectedNode } from './expected';
import type { Entry } from './simulate';

/** Every kind of finding (one unit test each). */
export type FindingKind =
  | 'missing-dnat'
  | 'missing-ingress-accept'
  | 'missing-ingress-jump'
  | 'missing-gw-masquerade'
  | 'stale-ingress-rule'
  | 'missing-mark'
  | 'mark-mismatch'
  | 'missing-vip-mark'
  | 'missing-ipvs-snat'
  | 'missing-ipvs-service'
  | 'ipvs-missing-backend'
  | 'ipvs-stale-backend'
  | 'ipvs-weight-zero'
  | 'missing-vip-alias'
  | 'missing-redirect'
  | 'missing-task-accept'
  | 'fdb-missing'
  | 'fdb-stale'
  | 'ip-forward-off'
  | 'bridge-nf-off'
  | 'route-localnet-off'
  | 'vs-conntrack-off'
  | 'docker-user-drop'
  | 'underlay-blocked'
  | 'client-ip-lost'
  | 'path-broken'
  | 'unchecked';

/** One finding: plain data for the CLI, the Problems panel and the findings tree. */
export interface Finding {
  kind: FindingKind;
  severity: Severity;
  node: string;
  namespace: string;
  /** The rule or dump line: the offending line, or where the missing piece belongs. */
  at?: { file: string; line: number; text?: string };
  /** One line. */
  message: string;
  /** Why it matters, in plain words. */
  explanation: string;
  /** A command that would fix it. */
  fix?: string;
  /** A command that would confirm it on the node. */
  confirm?: string;
  service?: string;
  port?: { proto: string; published: number };
  /** The expected rule, IPVS entry or value, where one is missing. */
  expected?: string;
  /** How many matrix entries it breaks, where known. */
  entries?: number;
}

/** How to run a command in a namespace of a node. */
export function inNs(ns: string, cmd: string, sandbox?: string): string {
  if (ns === 'host') return cmd;
  return `nsenter --net=/var/run/docker/netns/${sandbox ?? ns} ${cmd}`;
}

/**
 * A rule's meaning as a comparable key: its iptables-save form with the matches sorted (their
 * order does not change these rules' meaning), and `-m state --state` written as the
 * `-m conntrack --ctstate` it is equivalent to (Docker ≤ 27 wrote the first, later the second).
 */
export function textKey(ruleText: string): string {
  // Memoised: a swarm's nodes share most rule texts, and equal keys then are one string (hashed once).
  const hit = textKeyMemo.get(ruleText);
  if (hit !== undefined) return hit;
  if (textKeyMemo.size >= 200_000) textKeyMemo.clear();
  const k = computeTextKey(ruleText);
  textKeyMemo.set(ruleText, k);
  return k;
}

const textKeyMemo = new Map<string, string>();
const specKeyMemo = new WeakMap<RuleSpec, string>();

function computeTextKey(ruleText: string): string {
  const t = ruleText.replace(/^(\[\d+:\d+\] )?-A \S+ /, '').replace(/-m state --state /g, '-m conntrack --ctstate ');
  const j = t.search(/ -[jg] /);
  const body = j >= 0 ? t.slice(0, j) : t;
  const target = j >= 0 ? t.slice(j) : '';
  const parts = body.split(' -m ');
  const head = parts.shift() ?? '';
  return `${head} -m ${parts.sort().join(' -m ')}${target}`;
}

/** The key of a parsed rule (see textKey). */
export function specKey(spec: RuleSpec): string {
  let k = specKeyMemo.get(spec);
  if (k === undefined) specKeyMemo.set(spec, (k = textKey(formatRuleSpec(spec))));
  return k;
}

/** A node of {@link SpecKeys}: the parts seen so far lead here. */
interface KeyNode {
  next?: Map<object, KeyNode>;
  key?: string;
}

/**
 * specKey for many rules at once, keyed on the identity of a spec's parts. The parser shares
 * immutable parts between rules (addresses, interfaces, protocol, matches, targets: SpecCache),
 * so the 100 near-identical nodes of a swarm have few distinct part sequences, while each rule has
 * its own RuleSpec object (a WeakMap on the spec would never hit across rules).
 *
 * Why the key is complete: formatRuleSpec, and so specKey, reads exactly spec.src, dst, iif, oif,
 * proto, fragment, the elements of spec.matches in order and spec.target, and nothing else of the
 * spec. The path starts at a number saying which of the six top parts and the target are present
 * and how many matches there are, then walks the present top parts, the matches and the target,
 * in that order, by identity: two specs on one path have the same objects in the same places.
 * Parts are never changed after parsing, so one path always formats to one text. One instance per
 * diagnose call: it keeps the parts alive only that long.
 */
export class SpecKeys {
  private readonly roots = new Map<number, KeyNode>();

  /**
   * specKey(spec), computed once per distinct part sequence. A spec object seen before (whole
   * rules spelled the same share one spec across nodes) answers from specKeyMemo at once: the
   * key reads only the spec, which is never changed after parsing.
   */
  of(spec: RuleSpec): string {
    const hit = specKeyMemo.get(spec);
    if (hit !== undefined) return hit;
    const k = this.walk(spec);
    specKeyMemo.set(spec, k);
    return k;
  }

  private walk(spec: RuleSpec): string {
    const shape = (spec.src ? 1 : 0) | (spec.dst ? 2 : 0) | (spec.iif ? 4 : 0) | (spec.oif ? 8 : 0) | (spec.proto ? 16 : 0) | (spec.fragment ? 32 : 0) | (spec.target ? 64 : 0);
    const rk = shape + 128 * spec.matches.length;
    let n = this.roots.get(rk);
    if (!n) this.roots.set(rk, (n = {}));
    if (spec.src) n = step(n, spec.src);
    if (spec.dst) n = step(n, spec.dst);
    if (spec.iif) n = step(n, spec.iif);
    if (spec.oif) n = step(n, spec.oif);
    if (spec.proto) n = step(n, spec.proto);
    if (spec.fragment) n = step(n, spec.fragment);
    for (const m of spec.matches) n = step(n, m);
    if (spec.target) n = step(n, spec.target);
    return n.key ?? (n.key = textKey(formatRuleSpec(spec)));
  }
}

function step(n: KeyNode, part: object): KeyNode {
  const next = n.next ?? (n.next = new Map());
  let c = next.get(part);
  if (!c) next.set(part, (c = {}));
  return c;
}

/**
 * Whether two specs have the same specKey for sure: the same parts in the same places, the
 * matches and the target compared by what formatRuleSpec (and so specKey) reads of them (name,
 * `goto`, and each option's name, inversion and values, in order), the other parts by identity
 * (parts never change after parsing). The same spec object answers at once; specs read
 * separately from equal texts mostly share their parts, but not always their matches.
 */
export function sameParts(a: RuleSpec, b: RuleSpec): boolean {
  if (a === b) return true;
  if (a.src !== b.src || a.dst !== b.dst || a.iif !== b.iif || a.oif !== b.oif || a.proto !== b.proto || a.fragment !== b.fragment) return false;
  const t = a.target;
  const u = b.target;
  if (t !== u && (!t || !u || t.name !== u.name || t.goto !== u.goto || !sameOptions(t.options, u.options))) return false;
  const x = a.matches;
  const y = b.matches;
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && (x[i].name !== y[i].name || !sameOptions(x[i].options, y[i].options))) return false;
  return true;
}

function sameOptions(a: readonly XtOption[], b: readonly XtOption[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const o = a[i];
    const p = b[i];
    if (o === p) continue;
    if (o.name !== p.name || o.invert !== p.invert || o.values.length !== p.values.length) return false;
    for (let j = 0; j < o.values.length; j++) if (o.values[j] !== p.values[j]) return false;
  }
  return true;
}

/** One remembered answer of {@link ChainVerdicts}: the inputs it was computed from, and it. */
interface ChainVerdict<T> {
  specs: RuleSpec[];
  texts: string[];
  answer: T;
}

/**
 * Answers about one captured chain against a list of expected rule texts, remembered across the
 * namespaces of one diagnose call: the 100 nodes of a swarm capture the same DOCKER-INGRESS and
 * MARK rules (one spec object per rule spelled the same) and expect the same texts, so one
 * node's answer serves the others after a pointer comparison of the two lists.
 *
 * Why the key is complete: an answer is computed (by the caller's `compute`) only from the keys
 * of the chain's rules (specKey), in order, and the expected texts, in order, and nothing else. A
 * hit needs specs with the same parts in the same places ({@link sameParts}: parts never change
 * after parsing, and specKey reads only them, so the keys are the same) and equal texts in the
 * same places (strings are values). The
 * `what` label names the question, and the table and chain are part of the label, so answers to
 * different questions never meet. At most {@link ChainVerdicts.KEEP} answers are kept per label
 * (the latest), so chains that never repeat (one task's rules) cost a bounded number of misses.
 */
export class ChainVerdicts {
  static readonly KEEP = 4;
  private readonly byLabel = new Map<string, ChainVerdict<unknown>[]>();
  hits = 0;

  get<T>(what: string, table: string, chain: string, rules: readonly Rule[], texts: readonly string[], compute: () => T): T {
    const label = `${what}|${table}|${chain}`;
    let list = this.byLabel.get(label);
    if (!list) this.byLabel.set(label, (list = []));
    for (const v of list) {
      if (v.specs.length !== rules.length || v.texts.length !== texts.length) continue;
      let same = true;
      for (let i = 0; same && i < rules.length; i++) same = sameParts(v.specs[i], rules[i].spec);
      for (let i = 0; same && i < texts.length; i++) same = v.texts[i] === texts[i];
      if (same) {
        this.hits++;
        return v.answer as T;
      }
    }
    const answer = compute();
    if (list.length >= ChainVerdicts.KEEP) list.shift();
    list.push({ specs: rules.map((r) => r.spec), texts: [...texts], answer });
    return answer;
  }
}

interface Ctx {
  model: Model;
  facts: SwarmFacts;
  out: Finding[];
  nsOf: (node: string, e: ExpectedNamespace) => Namespace | undefined;
  keys: SpecKeys;
  /** Per-chain answers shared by the namespaces of the call. */
  verdicts: ChainVerdicts;
  /** markOfSpec by target object (see markOfTarget). */
  marks: Map<object, number | undefined>;
  /** The model's interfaces by namespace id, in model order. */
  ifsOf: (nsId: string) => Model['interfaces'];
}

function tableOf(ns: Namespace | undefined, t: string): Table | undefined {
  return ns?.iptables?.tables.find((x) => x.name === t);
}

function dumpFile(ns: Namespace, kinds: string[]): string | undefined {
  return ns.dumps.find((d) => kinds.includes(d.kind) && d.used)?.file ?? ns.dumps.find((d) => kinds.includes(d.kind))?.file;
}

const MISSING_KIND: Record<string, FindingKind> = {
  'ingress-jump': 'missing-ingress-jump',
  'ingress-dnat': 'missing-dnat',
  'ingress-accept': 'missing-ingress-accept',
  'gw-masquerade': 'missing-gw-masquerade',
  'sbox-mark': 'missing-mark',
  'ipvs-snat': 'missing-ipvs-snat',
  'vip-mark': 'missing-vip-mark',
  'task-redirect': 'missing-redirect',
  'task-accept': 'missing-task-accept',
  'task-drop': 'missing-task-accept',
};

function severityOf(kind: FindingKind): Severity {
  switch (kind) {
    case 'missing-gw-masquerade':
    case 'stale-ingress-rule':
    case 'ipvs-weight-zero':
    case 'bridge-nf-off':
    case 'route-localnet-off':
    case 'missing-vip-alias':
      return 'warning';
    case 'client-ip-lost':
    case 'unchecked':
      return 'info';
    default:
      return 'error';
  }
}

/** markOfSpec by target, for one diagnose call: the mark reads only spec.target (its name and options), which never changes after parsing. */
function markOfTarget(c: Ctx, spec: RuleSpec): number | undefined {
  const t = spec.target;
  if (!t) return undefined;
  if (c.marks.has(t)) return c.marks.get(t);
  const m = markOfSpec(spec);
  c.marks.set(t, m);
  return m;
}

function markOfSpec(spec: RuleSpec): number | undefined {
  const v = spec.target?.name === 'MARK' ? spec.target.options.find((o) => o.name === 'set-xmark' || o.name === 'set-mark')?.values[0] : undefined;
  if (!v) return undefined;
  const n = Number(v.split('/')[0]);
  return Number.isFinite(n) ? n : undefined;
}

function dportOf(spec: RuleSpec): string | undefined {
  for (const m of spec.matches) for (const o of m.options) if (o.name === 'dport' && !o.invert) return o.values[0];
  return undefined;
}

/** Rules: every expected rule present (semantically), and no stale port rule in DOCKER-INGRESS. */
function diffRules(c: Ctx, e: ExpectedNamespace, ns: Namespace, haveServices: boolean): void {
  const rs = ns.iptables;
  const file = dumpFile(ns, ['iptables-save', 'iptables-S', 'iptables-L']);
  if (!rs || !file) {
    if (e.rules.some((r) => r.compare)) c.out.push(mk(c, 'unchecked', e.node, e.name, { file: file ?? ns.dumps[0]?.file ?? `${e.node}/${e.name}`, line: 1 }, `no iptables dump of ${e.name}: Docker's rules there cannot be checked`, 'The capture has no iptables-save (or -S/-L) output of this namespace, so meshtrace cannot tell whether the rules Docker writes there are present.', undefined, inNs(e.name, 'iptables-save')));
    return;
  }
  // The keys of the captured rules of a chain, by table and chain (built on first use): as a set,
  // and per rule (`list[i]` is the key of the chain's rule i).
  const keys = new Map<string, Map<string, { set: Set<string>; list: string[] }>>();
  const chainKeys = (t: string, ch: string): { set: Set<string>; list: string[] } => {
    let byChain = keys.get(t);
    if (!byChain) keys.set(t, (byChain = new Map()));
    let k = byChain.get(ch);
    if (!k) {
      const list = (rs.tables.find((x) => x.name === t)?.chains.find((x) => x.name === ch)?.rules ?? []).map((r) => c.keys.of(r.spec));
      k = { set: new Set(list), list };
      byChain.set(ch, k);
    }
    return k;
  };
  const keyOf = (t: string, ch: string): Set<string> => chainKeys(t, ch).set;
  const rulesOf = (t: string, ch: string): Rule[] => rs.tables.find((x) => x.name === t)?.chains.find((x) => x.name === ch)?.rules ?? [];
  // The compared expected rules by table and chain: their texts, in order, and their places in e.rules.
  const groups = new Map<string, { table: string; chain: string; texts: string[]; at: number[] }>();
  let lastGroup: { table: string; chain: string; texts: string[]; at: number[] } | undefined;
  for (let i = 0; i < e.rules.length; i++) {
    const exp = e.rules[i];
    if (!exp.compare) continue;
    if (!lastGroup || lastGroup.table !== exp.table || lastGroup.chain !== exp.chain) {
      const gk = `${exp.table}|${exp.chain}`;
      lastGroup = groups.get(gk);
      if (!lastGroup) groups.set(gk, (lastGroup = { table: exp.table, chain: exp.chain, texts: [], at: [] }));
    }
    lastGroup.texts.push(exp.text);
    lastGroup.at.push(i);
  }
  // Whether the chain holds each expected rule (a rule of the same key): per chain, shared with
  // the namespaces that have the same captured specs and expected texts (ChainVerdicts).
  const present: boolean[] = new Array<boolean>(e.rules.length).fill(false);
  for (const g of groups.values()) {
    const answer = c.verdicts.get('present', g.table, g.chain, rulesOf(g.table, g.chain), g.texts, () => {
      const set = keyOf(g.table, g.chain);
      return g.texts.map((t) => set.has(textKey(t)));
    });
    for (let j = 0; j < g.at.length; j++) present[g.at[j]] = answer[j];
  }
  // The first MARK rule of a chain per (dport, proto) and per destination address (see `same` below), built on the first miss.
  let markIndex: Map<string, { byPort: Map<string | undefined, Map<string | undefined, Rule>>; byDst: Map<string | undefined, Rule> }> | undefined;
  const marksOf = (t: string, ch: string, chain: Rule[]): { byPort: Map<string | undefined, Map<string | undefined, Rule>>; byDst: Map<string | undefined, Rule> } => {
    markIndex ??= new Map();
    const k = `${t}|${ch}`;
    let x = markIndex.get(k);
    if (!x) {
      x = { byPort: new Map(), byDst: new Map() };
      for (const r of chain) {
        if (r.spec.target?.name !== 'MARK') continue;
        const dp = dportOf(r.spec);
        let byProto = x.byPort.get(dp);
        if (!byProto) x.byPort.set(dp, (byProto = new Map()));
        if (!byProto.has(r.spec.proto?.name)) byProto.set(r.spec.proto?.name, r);
        if (!x.byDst.has(r.spec.dst?.addr)) x.byDst.set(r.spec.dst?.addr, r);
      }
      markIndex.set(k, x);
    }
    return x;
  };
  for (let i = 0; i < e.rules.length; i++) {
    const exp = e.rules[i];
    if (!exp.compare || present[i]) continue;
    // Older engines marked the VIP in mangle OUTPUT (docker-network-semantics.md §3).
    if (exp.kind === 'vip-mark' && keyOf('mangle', 'OUTPUT').has(textKey(exp.text))) continue;
    const table = tableOf(ns, exp.table);
    const chain = table?.chains.find((x) => x.name === exp.chain);
    const at = { file: chain?.source.file ?? table?.source.file ?? file, line: chain?.source.line ?? table?.source.line ?? 1 };
    let kind = MISSING_KIND[exp.kind] ?? 'unchecked';
    let message = `${e.node}/${e.name}: ${exp.table} ${exp.chain} lacks \`${exp.text}\``;
    let explanation = exp.why;
    if (exp.kind === 'sbox-mark' || exp.kind === 'vip-mark') {
      // A MARK for the same traffic with another mark: the mark and the IPVS service disagree.
      const wantMark = Number(/--set-xmark (0x[0-9a-f]+)/.exec(exp.text)?.[1]);
      const wantPort = /--dport (\d+)/.exec(exp.text)?.[1];
      const wantDst = /-d (\S+)\/32/.exec(exp.text)?.[1];
      // The chain's first MARK rule for the same port and protocol (sbox-mark) or the same VIP (vip-mark).
      const marks = marksOf(exp.table, exp.chain, chain?.rules ?? []);
      const same = exp.kind === 'sbox-mark' ? marks.byPort.get(wantPort)?.get(exp.port?.proto) : marks.byDst.get(wantDst);
      if (same) {
        kind = 'mark-mismatch';
        const got = markOfSpec(same.spec);
        message = `${e.node}/${e.name}: ${exp.kind === 'sbox-mark' ? `port ${wantPort}` : `VIP ${wantDst}`} is marked ${got} (0x${(got ?? 0).toString(16)}), but ${exp.service}'s load balancer uses fwmark ${wantMark}`;
        explanation = `IPVS picks the service by the packet's fwmark. ${exp.why}; a packet with mark ${got} goes to whatever IPVS service FWM ${got} is, or to none.`;
        c.out.push({ ...mk(c, kind, e.node, e.name, { file: same.source.file, line: same.source.line, text: same.text }, message, explanation, `docker service update --force ${exp.service}`, inNs(e.name, `iptables -t mangle -S ${exp.chain}`) + ` ; ${inNs(e.name, 'ipvsadm -Ln')}`), service: exp.service, port: exp.port ? { proto: exp.port.proto, published: exp.port.published } : undefined, expected: exp.text });
        continue;
      }
    }
    if (exp.kind === 'ingress-dnat') message = `${e.node}: published port ${exp.port?.published}/${exp.port?.proto} (${exp.service}) has no DNAT in nat DOCKER-INGRESS`;
    if (exp.kind === 'sbox-mark') message = `${e.node}/ingress_sbox: no MARK for published port ${exp.port?.published}/${exp.port?.proto} (${exp.service}) in mangle PREROUTING`;
    const fix = exp.service ? `docker service update --force ${exp.service}` : 'systemctl restart docker';
    const add = `${inNs(e.name, `iptables -t ${exp.table} ${exp.text.replace(/^-A /, '-I ')}`)}`;
    c.out.push({
      ...mk(c, kind, e.node, e.name, at, message, explanation, `${fix}   # or by hand: ${add}`, inNs(e.name, `iptables -t ${exp.table} -S ${exp.chain}`)),
      service: exp.service,
      port: exp.port ? { proto: exp.port.proto, published: exp.port.published } : undefined,
      expected: exp.text,
    });
  }
  if (!haveServices || e.role !== 'host') return;
  // Port rules in DOCKER-INGRESS that no service publishes: left behind by a removed service.
  for (const t of ['nat', 'filter']) {
    const rules = rulesOf(t, 'DOCKER-INGRESS');
    // The rules whose key no compared expected DOCKER-INGRESS rule of the table has, by index.
    const texts = groups.get(`${t}|DOCKER-INGRESS`)?.texts ?? [];
    const unexpected = c.verdicts.get('unexpected', t, 'DOCKER-INGRESS', rules, texts, () => {
      const want = new Set(texts.map(textKey));
      const ruleKeys = chainKeys(t, 'DOCKER-INGRESS').list;
      const out: number[] = [];
      for (let i = 0; i < ruleKeys.length; i++) if (!want.has(ruleKeys[i])) out.push(i);
      return out;
    });
    for (const i of unexpected) {
      const r = rules[i];
      const dp = dportOf(r.spec) ?? r.spec.matches.flatMap((m) => m.options).find((o) => o.name === 'sport')?.values[0];
      if (!dp) continue;
      c.out.push(mk(c, 'stale-ingress-rule', e.node, 'host', { file: r.source.file, line: r.source.line, text: r.text }, `${e.node}: ${t} DOCKER-INGRESS has a rule for port ${dp} that no service publishes`, 'No service in the capture publishes this port: the rule is left over from a removed or updated service (or the rule was added by hand). It can capture traffic meant for something else on the node.', `iptables -t ${t} -D DOCKER-INGRESS ${r.text.replace(/^(\[\d+:\d+\] )?-A DOCKER-INGRESS /, '')}`, `iptables -t ${t} -S DOCKER-INGRESS ; docker service ls`));
    }
  }
}

/** Every MARK in a load-balancer sandbox needs an IPVS service with that fwmark. */
function markVsIpvs(c: Ctx, ns: Namespace): void {
  if (!ns.ipvs || ns.ipvs.unavailable) return;
  const fwms = new Set(ns.ipvs.services.filter((s) => s.proto === 'fwm').map((s) => s.fwmark));
  const mangle = tableOf(ns, 'mangle');
  for (const ch of mangle?.chains ?? []) {
    for (const r of ch.rules) {
      const m = markOfTarget(c, r.spec);
      if (m === undefined || fwms.has(m)) continue;
      if (c.out.some((f) => f.kind === 'mark-mismatch' && f.at?.file === r.source.file && f.at.line === r.source.line)) continue;
      c.out.push(mk(c, 'mark-mismatch', ns.node, ns.name, { file: r.source.file, line: r.source.line, text: r.text }, `${ns.node}/${ns.name}: mangle ${ch.name} marks ${m} (0x${m.toString(16)}), but IPVS has no FWM ${m} service`, `The packet gets mark ${m}, and IPVS looks for a service with that fwmark; there is none (ipvsadm lists ${[...fwms].map((x) => `FWM ${x}`).join(', ') || 'no fwmark service'}). The connection reaches the sandbox, where nothing listens, and is refused.`, 'docker service update --force <service>', `${inNs(ns.name, 'iptables -t mangle -S')} ; ${inNs(ns.name, 'ipvsadm -Ln')}`));
    }
  }
}

/** IPVS: each expected fwmark service with exactly the running tasks, weight 1. */
function diffIpvs(c: Ctx, e: ExpectedNamespace, ns: Namespace): void {
  if (e.ipvs.length === 0) return;
  const file = dumpFile(ns, ['ipvsadm']);
  if (!ns.ipvs || !file) {
    c.out.push(mk(c, 'unchecked', e.node, e.name, { file: ns.dumps[0]?.file ?? `${e.node}/${e.name}`, line: 1 }, `no ipvsadm dump of ${e.name}: the load balancer cannot be checked`, 'Without `ipvsadm -Ln` of this sandbox, meshtrace cannot tell which tasks its IPVS services send to.', undefined, inNs(e.name, 'ipvsadm -Ln')));
    return;
  }
  const taskIps = new Map<string, string>();
  for (const t of c.facts.tasks) for (const ip of Object.values(t.ips)) taskIps.set(ip, t.name);
  for (const x of e.ipvs) {
    const svc = ns.ipvs.services.find((s) => s.proto === 'fwm' && s.fwmark === x.fwmark);
    if (!svc) {
      const why = ns.ipvs.unavailable ? `IPVS is not available in this sandbox (${ns.ipvs.unavailable}): the kernel has no ip_vs, so no load balancer exists` : `ipvsadm lists no FWM ${x.fwmark} service`;
      c.out.push({ ...mk(c, 'missing-ipvs-service', e.node, e.name, { file, line: 1 }, `${e.node}/${e.name}: no IPVS service FWM ${x.fwmark} for ${x.service}`, `${why}. Packets marked ${x.fwmark} find no load balancer and are refused (connection refused or ICMP port unreachable). ${x.why}.`, `modprobe ip_vs && docker service update --force ${x.service}`, inNs(e.name, 'ipvsadm -Ln')), service: x.service, expected: `FWM ${x.fwmark} rr` });
      continue;
    }
    const have = new Map(svc.dests.map((d) => [d.addr, d]));
    const live = svc.dests.filter((d) => d.weight > 0 && x.dests.some((w) => w.addr === d.addr));
    for (const want of x.dests) {
      if (have.has(want.addr)) continue;
      c.out.push({ ...mk(c, 'ipvs-missing-backend', e.node, e.name, { file: svc.source.file, line: svc.source.line, text: `FWM ${x.fwmark} ${svc.scheduler}` }, `${e.node}/${e.name}: task ${want.task} (${want.addr}) is missing from IPVS FWM ${x.fwmark} of ${x.service}`, `The task runs and has ${want.addr}, but this node's load balancer does not send to it, so connections through this node never reach it${live.length === 0 ? ' — and no other backend is live here, so they all fail' : ' (the others take its share)'}. This is the classic "published port works on some nodes only" symptom after a gossip (NetworkDB) hiccup.`, `docker service update --force ${x.service}   # or: ${inNs(e.name, `ipvsadm -a -f ${x.fwmark} -r ${want.addr}:0 -m -w 1`)}`, inNs(e.name, 'ipvsadm -Ln')), service: x.service, expected: `-> ${want.addr}:0 ${want.forward} 1` });
    }
    for (const d of svc.dests) {
      const wanted = x.dests.some((w) => w.addr === d.addr);
      if (!wanted) {
        const who = taskIps.get(d.addr);
        c.out.push({ ...mk(c, 'ipvs-stale-backend', e.node, e.name, { file: d.source.file, line: d.source.line, text: `-> ${d.addr}:${d.port} ${d.forward} ${d.weight}` }, `${e.node}/${e.name}: IPVS FWM ${x.fwmark} (${x.service}) sends to ${d.addr}, which is no running task of ${x.service}${who ? ` (it is ${who})` : ''}`, `A real server that is no running task: ${d.weight > 0 ? `1 in ${svc.dests.filter((q) => q.weight > 0).length} new connections through this node goes to it and hangs or is refused` : 'its weight is 0, so no new connection goes there, but it shows the node missed the removal'}. Docker left it behind (a task that died while gossip was partitioned).`, `${inNs(e.name, `ipvsadm -d -f ${x.fwmark} -r ${d.addr}:0`)}   # or: docker service update --force ${x.service}`, inNs(e.name, 'ipvsadm -Ln')), service: x.service, severity: d.weight > 0 ? 'error' : 'warning' });
      } else if (d.weight === 0) {
        c.out.push({ ...mk(c, 'ipvs-weight-zero', e.node, e.name, { file: d.source.file, line: d.source.line, text: `-> ${d.addr}:${d.port} ${d.forward} ${d.weight}` }, `${e.node}/${e.name}: real server ${d.addr} (${taskIps.get(d.addr) ?? 'a task'}) of FWM ${x.fwmark} has weight 0`, `Docker de-weights a task's real server to 0 while it removes the task (rmLBBackend). A running task at weight 0 gets no new connections through this node${live.length === 0 ? '; no backend with weight > 0 is left, so every new connection is refused' : ''}.`, `${inNs(e.name, `ipvsadm -e -f ${x.fwmark} -r ${d.addr}:0 -m -w 1`)}   # or: docker service update --force ${x.service}`, inNs(e.name, 'ipvsadm -Ln')), service: x.service });
      }
    }
  }
}

/** VIP aliases on the load-balancer endpoint. */
function diffAddrs(c: Ctx, e: ExpectedNamespace, ns: Namespace): void {
  if (!ns.dumps.some((d) => d.kind === 'ip-addr' || d.kind === 'ip-addr-json')) return;
  const ifs = c.ifsOf(ns.id);
  for (const a of e.addrs) {
    if (a.kind !== 'vip') continue;
    if (ifs.some((i) => i.addrs.some((x) => x.local === a.addr))) continue;
    const i = ifs.find((x) => x.name === a.iface) ?? ifs[0];
    c.out.push({ ...mk(c, 'missing-vip-alias', e.node, e.name, { file: i?.source.file ?? dumpFile(ns, ['ip-addr']) ?? '', line: i?.source.line ?? 1 }, `${e.node}/${e.name}: the VIP ${a.addr}/32 of ${a.service} is not on ${a.iface}`, `${a.why}. ${e.role === 'lb' ? 'Without it nobody answers ARP for the VIP on the overlay, so tasks cannot reach the service by its VIP.' : 'On ingress_sbox the VIP is only bookkeeping (published ports are reached by mark), but its absence shows the load balancer was not set up completely.'}`, `docker service update --force ${a.service}`, inNs(e.name, 'ip -d addr show')), severity: e.role === 'lb' ? 'error' : 'warning', service: a.service });
  }
}

/** VXLAN: a permanent neighbour and FDB entry per remote endpoint, and none for gone ones. */
function diffFdb(c: Ctx, e: ExpectedNamespace, ns: Namespace): void {
  const fdbFile = dumpFile(ns, ['bridge-fdb', 'bridge-fdb-json']);
  const neighFile = dumpFile(ns, ['ip-neigh', 'ip-neigh-json']);
  if (!fdbFile && !neighFile) {
    if (e.fdb.length) c.out.push(mk(c, 'unchecked', e.node, e.name, { file: ns.dumps[0]?.file ?? `${e.node}/${e.name}`, line: 1 }, `no bridge fdb / ip neigh dump of ${e.name}: VXLAN peers cannot be checked`, 'Docker programs one static neighbour and FDB entry per remote endpoint; without these dumps meshtrace falls back to finding the endpoint on the other nodes.', undefined, `${inNs(e.name, 'bridge fdb show')} ; ${inNs(e.name, 'ip neigh')}`));
    return;
  }
  const vx = c.ifsOf(ns.id).find((i) => i.details.vxlan);
  const dev = vx?.name ?? 'vxlan0';
  const nodeOfAddr = new Map(c.facts.nodes.filter((n) => n.addr).map((n) => [n.addr as string, n.name]));
  const wanted = new Set(e.fdb.map((x) => x.ip));
  // The first neighbour with a link-layer address per destination, and the first FDB entry of
  // `dev` with a VTEP per lower-case MAC: what a find over the tables gave, without the scans.
  const neighOf = new Map<string, (typeof ns.neighbours)[number]>();
  for (const n of ns.neighbours) if (n.lladdr && !neighOf.has(n.dst)) neighOf.set(n.dst, n);
  const fdbOf = new Map<string, (typeof ns.fdb)[number]>();
  for (const f of ns.fdb) {
    if (f.dev !== dev || !f.dst) continue;
    const m = f.mac.toLowerCase();
    if (!fdbOf.has(m)) fdbOf.set(m, f);
  }
  for (const x of e.fdb) {
    const neigh = neighOf.get(x.ip);
    const mac = neigh?.lladdr?.toLowerCase();
    const fdb = fdbOf.get(mac ?? x.mac);
    if (neighFile && !neigh) {
      c.out.push({ ...mk(c, 'fdb-missing', e.node, e.name, { file: neighFile, line: 1 }, `${e.node}/${e.name}: no neighbour entry for ${x.ip} (${x.owner} on ${x.dstNode})`, `Docker programs a permanent neighbour entry (IP → MAC) on ${dev} for every remote endpoint (overlay peerdb). Without it the kernel cannot resolve ${x.ip} across VXLAN (l3miss), so traffic from this node to ${x.owner} is lost.`, `${inNs(e.name, `ip neigh replace ${x.ip} lladdr ${x.mac} dev ${dev} nud permanent`)}   # Docker re-adds it on: docker service update --force <service>`, inNs(e.name, `ip neigh show ${x.ip}`)), expected: `${x.ip} dev ${dev} lladdr ${x.mac} PERMANENT` });
      continue;
    }
    if (fdbFile && !fdb) {
      c.out.push({ ...mk(c, 'fdb-missing', e.node, e.name, { file: fdbFile, line: 1 }, `${e.node}/${e.name}: no FDB entry sends ${mac ?? x.mac} (${x.ip}, ${x.owner}) to ${x.dst}`, `Docker programs a static FDB entry (MAC → remote VTEP ${x.dst} = ${x.dstNode}) on ${dev} for every remote endpoint. Without it the frame for ${x.ip} has no VXLAN destination (l2miss) and is dropped.`, `${inNs(e.name, `bridge fdb replace ${mac ?? x.mac} dev ${dev} dst ${x.dst} self permanent`)}`, inNs(e.name, `bridge fdb show dev ${dev}`)), expected: `${mac ?? x.mac} dev ${dev} dst ${x.dst} self permanent` });
      continue;
    }
    if (fdb && fdb.dst !== x.dst) {
      c.out.push(mk(c, 'fdb-stale', e.node, e.name, { file: fdb.source.file, line: fdb.source.line, text: `${fdb.mac} dev ${fdb.dev} dst ${fdb.dst}` }, `${e.node}/${e.name}: ${x.ip} (${x.owner}) is on ${x.dstNode} (${x.dst}), but the FDB sends it to ${fdb.dst}${nodeOfAddr.get(fdb.dst ?? '') ? ` (${nodeOfAddr.get(fdb.dst ?? '')})` : ''}`, 'A stale FDB entry: the endpoint moved (a task rescheduled with the same IP) and this node missed the update, so its VXLAN frames go to the wrong node and are lost.', inNs(e.name, `bridge fdb replace ${fdb.mac} dev ${dev} dst ${x.dst} self permanent`), inNs(e.name, `bridge fdb show dev ${dev}`)));
    }
  }
  // Entries for addresses no endpoint has any more.
  const known = new Set<string>();
  for (const t of c.facts.tasks) for (const ip of Object.values(t.ips)) known.add(ip);
  for (const n of c.facts.networks) for (const ip of Object.values(n.lbIps)) known.add(ip);
  for (const n of ns.neighbours) {
    if (n.dev !== dev || !n.state.includes('PERMANENT') || wanted.has(n.dst) || known.has(n.dst)) continue;
    const l = n.lladdr?.toLowerCase();
    const fdb = l === undefined ? undefined : fdbOf.get(l);
    c.out.push(mk(c, 'fdb-stale', e.node, e.name, { file: n.source.file, line: n.source.line, text: `${n.dst} dev ${n.dev} lladdr ${n.lladdr}` }, `${e.node}/${e.name}: a permanent neighbour for ${n.dst}${fdb ? ` (FDB → ${fdb.dst})` : ''}, which is no endpoint of the network`, 'Docker removes these entries when an endpoint goes; this one was left behind. If the address is reused by a new task elsewhere, traffic to it goes to the old node.', `${inNs(e.name, `ip neigh del ${n.dst} dev ${dev}`)}${fdb ? ` ; ${inNs(e.name, `bridge fdb del ${fdb.mac} dev ${dev}`)}` : ''}`, inNs(e.name, 'ip neigh ; bridge fdb show')));
  }
}

/** Sysctls: only where captured (absent keys are unknown, not wrong). */
function diffSysctls(c: Ctx, e: ExpectedNamespace, ns: Namespace): void {
  for (const s of e.sysctls) {
    if (s.kind === 'vs-tweak') continue;
    const got = ns.sysctls[s.key] ?? (s.key === 'net.ipv4.ip_forward' ? ns.sysctls['net.ipv4.conf.all.forwarding'] : undefined);
    if (!got || got.value === s.value) continue;
    const kind: FindingKind = s.kind === 'ip-forward' ? 'ip-forward-off' : s.kind === 'bridge-nf' ? 'bridge-nf-off' : s.kind === 'route-localnet' ? 'route-localnet-off' : 'vs-conntrack-off';
    const effect: Record<string, string> = {
      'ip-forward-off': 'With forwarding off the node drops every published-port packet after the DNAT: nothing reaches ingress_sbox, on any published port of this node.',
      'bridge-nf-off': 'Bridged traffic then skips iptables: docker_gwbridge\'s icc=false isolation does not hold, and DNAT between containers on one bridge breaks. `docker info` prints a warning for it.',
      'route-localnet-off': 'Connections from the node itself to localhost:<published port> are DNATed to ingress_sbox but the kernel drops 127.0.0.0/8 sources on docker_gwbridge as martians; remote clients are not affected.',
      'vs-conntrack-off': 'IPVS traffic then bypasses conntrack, so the `-m ipvs --ipvs -j SNAT` rule never applies: the task sees the real client and answers it directly, and the reply misses the load balancer (connections hang).',
    };
    c.out.push(mk(c, kind, e.node, e.name, { file: got.source.file, line: got.source.line, text: `${got.key} = ${got.value}` }, `${e.node}/${e.name}: ${s.key} = ${got.value} (Docker needs ${s.value})`, `${s.why}. ${effect[kind]}`, inNs(e.name, `sysctl -w ${s.key}=${s.value}`) + (kind === 'bridge-nf-off' ? '   # and: modprobe br_netfilter' : ''), inNs(e.name, `sysctl ${s.key}`)));
  }
}

function mk(c: Ctx, kind: FindingKind, node: string, namespace: string, at: Finding['at'], message: string, explanation: string, fix?: string, confirm?: string): Finding {
  void c;
  return { kind, severity: severityOf(kind), node, namespace, at, message, explanation, fix, confirm };
}

/** Findings from the simulated matrix: DOCKER-USER drops, and failures no other finding explains. */
function fromEntries(c: Ctx, entries: Entry[]): void {
  const groups = new Map<string, { e: Entry; n: number; ports: Set<string> }>();
  for (const e of entries) {
    if (e.ok) continue;
    for (const o of e.outcomes) {
      const f = o.failedAt;
      if (!f) continue;
      const k = `${f.node}|${f.namespace}|${f.rule ? `${f.rule.file}:${f.rule.line}` : f.action}|${f.direction}|${e.kind}`;
      const g = groups.get(k);
      const label = e.kind === 'vip' ? `${e.vip}:${e.dport} from ${e.from?.task}` : `${e.port}/${e.proto} on ${e.node}`;
      if (g) {
        g.n++;
        g.ports.add(label);
      } else groups.set(k, { e, n: 1, ports: new Set([label]) });
    }
  }
  for (const { e, ports } of groups.values()) {
    const o = e.outcomes.find((x) => x.failedAt) as NonNullable<Entry['outcomes'][number]>;
    const f = o.failedAt as NonNullable<typeof o.failedAt>;
    const list = [...ports];
    const shown = list.slice(0, 5).join(', ') + (list.length > 5 ? `, … (${list.length} in all)` : '');
    const at = f.rule ? { file: f.rule.file, line: f.rule.line, text: f.rule.text } : undefined;
    if (f.chain === 'DOCKER-USER') {
      c.out.push({ ...mk(c, 'docker-user-drop', f.node, f.namespace, at, `${f.node}: DOCKER-USER ${f.action === 'DROP' || f.action === 'REJECT' ? f.action.toLowerCase() + 's' : 'stops'} published traffic (${shown})`, `DOCKER-USER runs before Docker's own FORWARD rules, on the packet after the ingress DNAT: its destination is then ingress_sbox (${o.final.dst}:${o.final.dport ?? ''}), not the node's address. A rule meant to filter clients there also blocks the routing mesh. Match the original destination with \`-m conntrack --ctorigdst\` / \`--ctorigdstport\`, or allow the traffic to docker_gwbridge first.`, `iptables -D DOCKER-USER ${f.rule?.text.replace(/^(\[\d+:\d+\] )?-A DOCKER-USER /, '') ?? ''}`, 'iptables -S DOCKER-USER'), entries: list.length });
      continue;
    }
    c.out.push({ ...mk(c, 'path-broken', f.node, f.namespace, at, `${list.length} ${e.kind === 'vip' ? 'VIP connection' : 'published port'}${list.length > 1 ? 's' : ''} fail${list.length > 1 ? '' : 's'} ${f.direction === 'reply' ? 'on the reply path ' : ''}at ${f.node}/${f.namespace}: ${f.action} (${shown})`, `${o.reason}${f.note ? ` — ${f.note}` : ''}. Other findings on ${f.node}/${f.namespace} name the missing or wrong piece where meshtrace can tell.`, undefined, `meshtrace trace <capture> --node ${e.query.node} --ns ${e.query.namespace}${e.query.iif ? ` --iif ${e.query.iif}` : ''} --proto ${e.query.proto} --src ${e.query.src} --dst ${e.query.dst} --dport ${e.query.dport}`), entries: list.length });
  }
}

/** Node-to-node underlay: VXLAN 4789/udp and gossip 7946 tcp/udp, from a neighbour node to each node. */
function underlay(c: Ctx, world: World, sub?: (nodes: string[]) => { model: Model; world: World }): void {
  const nodes = c.facts.nodes.filter((n) => n.addr && world.ns.has(`${n.name}/host`));
  if (nodes.length < 2) return;
  const probes: { proto: 'tcp' | 'udp'; port: number; sport: number; what: string }[] = [
    { proto: 'udp', port: 4789, sport: 40000, what: 'VXLAN data path (overlay traffic between tasks, and the routing mesh to tasks on other nodes)' },
    { proto: 'tcp', port: 7946, sport: 7946, what: 'gossip (NetworkDB: which tasks and endpoints exist on which node)' },
    { proto: 'udp', port: 7946, sport: 7946, what: 'gossip (NetworkDB)' },
  ];
  nodes.forEach((b, i) => {
    const a = nodes[(i + nodes.length - 1) % nodes.length];
    // One sub-world per pair of nodes (a function of the two names) for its three probes.
    const w = sub ? sub([a.name, b.name]) : { model: c.model, world };
    for (const p of probes) {
      const q = { node: a.name, namespace: 'host', proto: p.proto, src: a.addr as string, sport: p.sport, dst: b.addr as string, dport: p.port };
      const t = traceQuery(w.model, q, w.world);
      const bad = t.outcomes.find((o) => o.verdict !== 'delivered' || o.final.node !== b.name);
      if (!bad) continue;
      const last = [...bad.steps].reverse().find((s) => s.rule) ?? bad.steps[bad.steps.length - 1];
      c.out.push(mk(c, 'underlay-blocked', last?.node ?? b.name, last?.namespace ?? 'host', last?.rule ? { file: last.rule.file, line: last.rule.line, text: last.rule.text } : undefined, `${p.port}/${p.proto} from ${a.name} (${a.addr}) to ${b.name} (${b.addr}) is ${bad.verdict}: ${bad.reason}`, `Swarm nodes must reach each other on ${p.port}/${p.proto}: ${p.what}. Blocked, ${p.port === 4789 ? 'every connection that crosses nodes (published ports served by a task elsewhere, VIPs with remote backends) is lost' : 'nodes stop learning about each other\'s tasks, and IPVS and FDB entries go stale'}.`, `iptables -I INPUT -p ${p.proto} --dport ${p.port} -s ${a.addr} -j ACCEPT   # on ${b.name}; open ${p.port}/${p.proto} between all nodes in the cloud firewall too`, `nc -${p.proto === 'udp' ? 'u' : ''}zv ${b.addr} ${p.port}   # from ${a.name}`));
    }
  });
}

/** The ingress SNAT hides the client: explained once per service with ingress ports. */
function clientIp(c: Ctx, entries: Entry[]): void {
  const done = new Set<string>();
  for (const e of entries) {
    if (e.kind !== 'published-port' || e.mode !== 'ingress' || !e.service || done.has(e.service)) continue;
    const o = e.outcomes.find((x) => x.verdict === 'delivered' && x.target?.task);
    if (!o || o.final.src === e.query.src) continue;
    done.add(e.service);
    const sbox = c.model.namespaces.find((n) => n.node === e.node && n.role === 'ingress-sbox');
    const snat = tableOf(sbox, 'nat')?.chains.find((x) => x.name === 'POSTROUTING')?.rules.find((r) => r.spec.target?.name === 'SNAT' && r.spec.matches.some((m) => m.name === 'ipvs'));
    const port = c.facts.services.find((s) => s.name === e.service)?.ports.find((p) => p.published === e.port);
    c.out.push({
      ...mk(c, 'client-ip-lost', e.node, 'ingress_sbox', snat ? { file: snat.source.file, line: snat.source.line, text: snat.text } : undefined, `${e.service}: the tasks see connections to ${e.port}/${e.proto} from ${o.final.src} (ingress_sbox), not from the client ${e.query.src}`, 'The routing mesh SNATs every connection to the ingress_sbox address of the node that received it (`-m ipvs --ipvs -j SNAT`), so replies come back through the same load balancer. The price is the client address: logs, rate limits and allow-lists in the task see only 10.0.0.x. Publishing in host mode keeps the client address (no IPVS, no SNAT), but then only nodes running a task answer on the port; put a load balancer in front, or run the service in global mode.', `docker service update --publish-rm ${e.port} --publish-add mode=host,target=${port?.target ?? e.targetPort},published=${e.port},protocol=${e.proto} ${e.service}`, `docker service inspect --format '{{json .Endpoint.Ports}}' ${e.service}`),
      service: e.service,
      port: { proto: e.proto, published: e.port ?? 0 },
    });
  }
}

/** Finds the captured namespace for an expected one. */
function capturedNs(model: Model, facts: SwarmFacts, node: string, e: ExpectedNamespace): Namespace | undefined {
  const exact = model.namespaces.find((n) => n.node === node && n.name === e.name);
  if (exact) return exact;
  if (e.role === 'overlay' || e.role === 'lb') return model.namespaces.find((n) => n.node === node && n.role === e.role && (n.docker?.networkId === e.networkId || (e.networkId !== undefined && e.networkId.startsWith(n.name.replace(/^(\d+-|lb_)/, '')))));
  if (e.task) {
    const t = facts.tasks.find((x) => x.name === e.task);
    return t?.namespaceId ? model.namespaces.find((n) => n.id === t.namespaceId) : undefined;
  }
  return undefined;
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Runs every check; findings are sorted by severity, node and namespace. */
export function diagnose(model: Model, facts: SwarmFacts, expected: ExpectedNode[], entries: Entry[], world: World, sub?: (nodes: string[]) => { model: Model; world: World }): Finding[] {
  const out: Finding[] = [];
  let ifsByNs: Map<string, Model['interfaces']> | undefined;
  const ifsOf = (nsId: string): Model['interfaces'] => {
    if (!ifsByNs) {
      ifsByNs = new Map();
      for (const i of model.interfaces) {
        const l = ifsByNs.get(i.namespaceId);
        if (l) l.push(i);
        else ifsByNs.set(i.namespaceId, [i]);
      }
    }
    return ifsByNs.get(nsId) ?? [];
  };
  const c: Ctx = { model, facts, out, nsOf: (node, e) => capturedNs(model, facts, node, e), keys: new SpecKeys(), verdicts: new ChainVerdicts(), marks: new Map(), ifsOf };
  const haveServices = facts.services.some((s) => s.ports.length > 0);
  for (const n of expected) {
    for (const e of n.namespaces) {
      const ns = c.nsOf(n.node, e);
      if (!ns) continue;
      diffRules(c, e, ns, haveServices);
      diffIpvs(c, e, ns);
      diffAddrs(c, e, ns);
      if (e.role === 'overlay') diffFdb(c, e, ns);
      diffSysctls(c, e, ns);
    }
  }
  for (const ns of model.namespaces) if (ns.role === 'ingress-sbox' || ns.role === 'lb') markVsIpvs(c, ns);
  fromEntries(c, entries);
  underlay(c, world, sub);
  clientIp(c, entries);
  return out.sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0) || (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
}
