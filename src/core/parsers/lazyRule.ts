/**
 * Rules whose spec is read when it is first asked for.
 *
 * A kube-proxy node's `iptables-save` has 300 000 rules; most tools built on meshtrace read a
 * few chains of it (a trace), or only counts (`meshtrace load`). So the iptables-save reader
 * checks every rule at load, and reports every problem then, but for a rule that has the shape
 * of one read before (see ruleShape.ts), whose new values are of a kind that is always read
 * without a problem, it keeps the text and reads the spec on first use. That read is the same
 * reader the eager path uses, so the spec is the one an eager load gives (tests compare them on
 * the corpus and on generated rules).
 *
 * A {@link LazyRule} is a {@link Rule}: `rule.spec` reads it. Two things do not see through a
 * getter: structured clone (a model posted from the worker thread is made plain first, see
 * {@link materializeModel}) and object spread (no reader of the model spreads a rule; use
 * {@link plainRule}). A lazy rule keeps the dump's text alive, as the eager rules' texts did.
 */
import { ProblemSink, type Source } from '../problem';
import type { Model } from '../model/model';
import type { Chain, Counters, Rule, RuleSpec, Ruleset, TableName } from '../model/netfilter';

/**
 * Reads a rule text into its spec (installed by iptablesRule.ts, which has the reader):
 * `text[from…)` is the part after `-A CHAIN`, `v6` the ruleset's family then, `cache` the
 * parse's shared parts (or undefined), `sink` where problems would go.
 */
export type SpecReader = (text: string, from: number, v6: boolean, cache: unknown, sink: ProblemSink) => RuleSpec;
let reader: SpecReader | undefined;

/** Installs the reader lazy rules use (iptablesRule.ts does, once). */
export function setSpecReader(r: SpecReader): void {
  reader = r;
}

/** What the lazy rules of one dump share: its text, file and the parse's shared parts. */
export interface LazyDump {
  readonly input: string;
  readonly file: string;
  /** iptablesRule.ts SpecCache (opaque here); shared parts make later reads cheaper. */
  readonly cache: unknown;
}

/** The longest line and `-A CHAIN` prefix a {@link LazyRule} holds (its packed field's bits). */
export const LAZY_MAX_LENGTH = 0xffff;
export const LAZY_MAX_FROM = 0x1fff;

/** What is set on a lazy rule from outside, with its dump (see LazyRule's `m`). */
interface RuleMemo {
  dump: LazyDump;
  counters?: Counters;
  spec?: RuleSpec;
  text?: string;
  source?: Source;
}

/**
 * A rule of an iptables-save dump whose spec is read on first use. See the file's header.
 * Rules spelled the same in one capture share one spec (the simulator's caches key on spec
 * identity): a later one names the first as `same` and takes its spec.
 */
export class LazyRule implements Rule {
  id = '';
  /** The spec once read (or set), or the earlier rule spelled the same whose spec this one takes. */
  private s: RuleSpec | LazyRule | undefined;
  /**
   * The dump; or, once something is set on the rule (or it has counters), a memo holding the
   * dump, the counters and whatever `spec`, `text` or `source` was set from outside (they are
   * read or made from the fields otherwise). A spec set here is this rule's own: rules that share this one's spec
   * (`same`) keep the one read from the text (the reader sets a rule's own spec when its jump
   * target is not declared in its dump, which says nothing of the others' dumps).
   */
  private m: LazyDump | RuleMemo;
  /** The line's length, bits 0–15; where the part after `-A CHAIN` starts in it, bits 16–28; IPv6, bit 29. */
  private readonly pk: number;

  /**
   * A rule of 8 fields (a kube-proxy dump has 300 000; each field is 8 bytes the collector moves).
   * @param of the chain it is in
   * @param dump the dump's text, file and shared parts
   * @param start the rule's line is `dump.input[start, end)` (from `-A` on, `[counters]` excluded),
   *   at most {@link LAZY_MAX_LENGTH} long
   * @param from where the part after `-A CHAIN` starts (at most {@link LAZY_MAX_FROM} after `start`)
   * @param v6 whether the ruleset was IPv6 when the line was read (a few forms depend on it)
   * @param same an earlier rule spelled the same, whose spec this one shares
   */
  constructor(
    private readonly of: Chain,
    public index: number,
    counters: Counters | undefined,
    dump: LazyDump,
    private readonly start: number,
    end: number,
    from: number,
    v6: boolean,
    private readonly line: number,
    same: LazyRule | undefined,
  ) {
    this.s = same;
    this.m = counters === undefined ? dump : { dump, counters };
    this.pk = (end - start) | ((from - start) << 16) | (v6 ? 1 << 29 : 0);
  }

  /** The dump this rule is in. */
  get dump(): LazyDump {
    const m = this.m;
    return (m as LazyDump).input !== undefined ? (m as LazyDump) : (m as RuleMemo).dump;
  }

  /** What is set on this rule: `m` becomes a memo (it starts as the dump itself). */
  private memo(): RuleMemo {
    const m = this.m;
    return (m as LazyDump).input !== undefined ? (this.m = { dump: m as LazyDump }) : (m as RuleMemo);
  }

  get counters(): Counters | undefined {
    return (this.m as RuleMemo).counters;
  }

  set counters(counters: Counters | undefined) {
    this.memo().counters = counters;
  }

  get table(): TableName {
    return this.of.table;
  }

  get chain(): string {
    return this.of.name;
  }

  get spec(): RuleSpec {
    const s = this.s;
    if (s !== undefined && !(s instanceof LazyRule)) return (this.m as RuleMemo).spec ?? s;
    return (this.m as RuleMemo).spec ?? this.read(new ProblemSink(this.dump.file));
  }

  set spec(spec: RuleSpec) {
    this.memo().spec = spec;
  }

  get text(): string {
    return (this.m as RuleMemo).text ?? this.dump.input.slice(this.start, this.start + (this.pk & 0xffff));
  }

  set text(text: string) {
    this.memo().text = text;
  }

  get source(): Source {
    return (this.m as RuleMemo).source ?? { file: this.dump.file, line: this.line };
  }

  set source(source: Source) {
    this.memo().source = source;
  }

  /** Whether the spec has been read (or set). */
  get isRead(): boolean {
    return (this.m as RuleMemo).spec !== undefined || (this.s !== undefined && !(this.s instanceof LazyRule));
  }

  /** The earlier rule spelled the same whose spec this one takes (until read), or this rule. */
  get first(): LazyRule {
    return this.s instanceof LazyRule ? this.s : this;
  }

  /** The same rule as read from a copy of the dump in `dump`, in chain `of` (sharing this one's spec). */
  copyIn(of: Chain, dump: LazyDump): LazyRule {
    const s = this.s;
    const pk = this.pk;
    const r = new LazyRule(of, this.index, this.counters, dump, this.start, this.start + (pk & 0xffff), this.start + ((pk >> 16) & 0x1fff), (pk & (1 << 29)) !== 0, this.line, s instanceof LazyRule ? s : this);
    if (s !== undefined && !(s instanceof LazyRule)) r.s = s;
    // The same text read again has the same problems: a spec set for one (undeclared target) too.
    const own = (this.m as RuleMemo).spec;
    if (own !== undefined) r.memo().spec = own;
    return r;
  }

  /**
   * Reads the spec from the text (a spec set on this rule aside), reporting to `sink`. The
   * shape check at load guarantees there is nothing to report; tests call this with a sink of
   * their own to hold it to that.
   */
  read(sink: ProblemSink): RuleSpec {
    const s = this.s;
    if (s instanceof LazyRule) return (this.s = s.read(sink));
    if (s !== undefined) return s;
    if (!reader) throw new Error('meshtrace: no iptables rule reader installed (import parsers/iptablesRule)');
    const pk = this.pk;
    return (this.s = reader(this.text, (pk >> 16) & 0x1fff, (pk & (1 << 29)) !== 0, this.dump.cache, sink));
  }

  /** The same JSON as the plain rule an eager read makes (keys in the same order). */
  toJSON(): Rule {
    return plainRule(this);
  }
}

/** Whether `r` is a {@link LazyRule}. */
export function isLazyRule(r: Rule): r is LazyRule {
  return r instanceof LazyRule;
}

/** `r` as a plain object, the way an eager read makes it (its spec read); `r` itself when plain. */
export function plainRule(r: Rule): Rule {
  if (!(r instanceof LazyRule)) return r;
  return r.counters === undefined
    ? { id: r.id, table: r.table, chain: r.chain, index: r.index, spec: r.spec, text: r.text, source: r.source }
    : { id: r.id, table: r.table, chain: r.chain, index: r.index, spec: r.spec, text: r.text, source: r.source, counters: r.counters };
}

/** Replaces every lazy rule of `rs` by its plain copy, in place; returns `rs`. */
export function materializeRuleset(rs: Ruleset): Ruleset {
  for (const t of rs.tables) {
    for (const c of t.chains) {
      const rules = c.rules;
      for (let i = 0; i < rules.length; i++) if (rules[i] instanceof LazyRule) rules[i] = plainRule(rules[i]);
    }
  }
  return rs;
}

/**
 * Makes every rule of the model a plain object, in place: before the model crosses a
 * structured clone (worker_threads postMessage copies own data properties, not getters).
 */
export function materializeModel(model: Model): Model {
  for (const ns of model.namespaces) {
    if (ns.iptables) materializeRuleset(ns.iptables);
    if (ns.ip6tables) materializeRuleset(ns.ip6tables);
  }
  return model;
}
