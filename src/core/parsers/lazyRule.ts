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
 * getter, and get {@link plainRule} copies instead: structured clone (a model posted from the
 * worker thread; see {@link materializeModel}) and object spread.
 */
import { ProblemSink, type Source } from '../problem';
import type { Model } from '../model/model';
import type { Counters, Rule, RuleSpec, Ruleset, TableName } from '../model/netfilter';


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

/**
 * A rule of an iptables-save dump whose spec is read on first use. See the file's header.
 * Rules spelled the same in one capture share one spec (the simulator's caches key on spec
 * identity): a later one names the first as `same` and takes its spec.
 */
export class LazyRule implements Rule {
  id = '';
  /** The spec once read (or set). */
  private s: RuleSpec | undefined = undefined;
  /** `text` and `source`, once asked for (made from the fields below). */
  private t: string | undefined = undefined;
  private src: Source | undefined = undefined;
  /** The parse's shared rule parts (iptablesRule.ts SpecCache) until the spec is read. */
  private cache: unknown;

  /**
   * @param input the dump's text; the rule's line (from `-A` on, `[counters]` excluded) is
   *   `input[start, end)`, and the part after `-A CHAIN` starts at `from`
   * @param v6 whether the ruleset was IPv6 when the line was read (a few forms depend on it)
   * @param same an earlier rule spelled the same, whose spec this one shares
   */
  constructor(
    public table: TableName,
    public chain: string,
    public index: number,
    public counters: Counters | undefined,
    private readonly input: string,
    private readonly start: number,
    private readonly end: number,
    private readonly from: number,
    private readonly v6: boolean,
    private readonly file: string,
    private readonly line: number,
    cache: unknown,
    readonly same: LazyRule | undefined,
  ) {
    this.cache = same === undefined ? cache : undefined;
  }

  get spec(): RuleSpec {
    return this.s ?? this.read(new ProblemSink(this.file));
  }

  set spec(spec: RuleSpec) {
    this.s = spec;
    this.cache = undefined;
  }

  get text(): string {
    return this.t ?? (this.t = this.input.slice(this.start, this.end));
  }

  set text(text: string) {
    this.t = text;
  }

  get source(): Source {
    return this.src ?? (this.src = { file: this.file, line: this.line });
  }

  set source(source: Source) {
    this.src = source;
  }

  /** Whether the spec has been read. */
  get isRead(): boolean {
    return this.s !== undefined;
  }

  /** The same rule as read from a copy of the dump in `file` (the same spec, read once). */
  copyAs(file: string): LazyRule {
    return new LazyRule(this.table, this.chain, this.index, this.counters, this.input, this.start, this.end, this.from, this.v6, file, this.line, undefined, this.same ?? this);
  }

  /**
   * Reads the spec, reporting to `sink`. The shape check at load guarantees there is nothing to
   * report; tests call this with a sink of their own to hold it to that.
   */
  read(sink: ProblemSink): RuleSpec {
    if (this.same !== undefined) return (this.s = this.same.s ?? this.same.read(sink));
    if (!reader) throw new Error('meshtrace: no iptables rule reader installed (import parsers/iptablesRule)');
    const spec = reader(this.text, this.from - this.start, this.v6, this.cache, sink);
    this.s = spec;
    this.cache = undefined;
    return spec;
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
