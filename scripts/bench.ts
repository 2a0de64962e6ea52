/**
 * The benchmark entry (`npm run bench` = build, then `node --expose-gc dist/bench.js`). Each
 * case in {@link benchCases} prepares its data under bench-data/ (gitignored), times meshtrace
 * and, where there is one, the real tool on the same input, and prints medians of a few runs.
 *
 * Arguments: `--case NAME` (repeatable; default all), `--runs N` (default 3),
 * `--services N`, `--endpoints N` (size of the kube-proxy case; default 10000 × 10).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseIptablesSave } from '../src/core/parsers/parseIptablesSave';
import { isLazyRule } from '../src/core/parsers/lazyRule';
import { Lab, labUnavailableReason, run } from '../test/kernel/lab';
import { genKubeProxySave, kubeProxyRuleCount } from './genKubeProxy';
import { benchTrace } from './benchTrace';
import { benchSimulate } from './benchSimulate';

/** Settings shared by every case, from the command line. */
export interface BenchOptions {
  runs: number;
  services: number;
  endpoints: number;
  /** Where generated inputs go (bench-data/ in the project). */
  dataDir: string;
}

/** One benchmark: a name and a function that prints its own report lines. */
export interface BenchCase {
  name: string;
  description: string;
  run(opts: BenchOptions): Promise<void>;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const gc = (globalThis as { gc?: () => void }).gc;

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function ms(x: number): string {
  return `${x.toFixed(0)} ms`;
}

/** Wall-clock milliseconds of an async function. */
async function timed<T>(f: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await f();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** What one parse measurement found. */
interface ParseMeasurement {
  times: number[];
  /** Reading every spec afterwards (what a load that needs them all costs on top). */
  readAll: number[];
  /** The same dump read with every spec read at load (`lazy: false`). */
  eager: number[];
  rules: number;
  /** Rules whose spec waited (LazyRule). */
  lazy: number;
  bad: number;
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
  peakRss: number;
  gc: boolean;
  isolated: boolean;
}

/** Parses `file` `runs` times here; memory is measured around the first run with the model alive. */
async function parseHere(file: string, runs: number, isolated: boolean): Promise<ParseMeasurement> {
  const text = fs.readFileSync(file, 'utf8');
  const times: number[] = [];
  const readAll: number[] = [];
  const eager: number[] = [];
  let first: Omit<ParseMeasurement, 'times' | 'readAll' | 'eager' | 'peakRss' | 'gc' | 'isolated'> | undefined;
  for (let i = 0; i < runs; i++) {
    gc?.();
    const before = process.memoryUsage();
    const r = await timed(() => parseIptablesSave(text, { file: path.basename(file) }));
    const after = process.memoryUsage();
    times.push(r.ms);
    if (!first) {
      let rules = 0;
      let lazy = 0;
      for (const t of r.value.value.tables) for (const c of t.chains) for (const x of c.rules) {
        rules++;
        if (isLazyRule(x)) lazy++;
      }
      const bad = r.value.problems.filter((p) => p.severity !== 'info').length;
      first = { rules, lazy, bad, before, after };
    }
  }
  // Peak memory of the load alone; reading every spec afterwards and the eager load come after.
  const peakRss = process.resourceUsage().maxRSS * 1024;
  for (let i = 0; i < runs; i++) {
    gc?.();
    const r = parseIptablesSave(text, { file: path.basename(file) });
    // What a reader of the whole model does (the doctor, `load --json`): every rule's spec.
    readAll.push(
      (
        await timed(() => {
          let n = 0;
          for (const t of r.value.tables) for (const c of t.chains) for (const x of c.rules) n += x.spec.matches.length;
          return n;
        })
      ).ms,
    );
  }
  for (let i = 0; i < runs; i++) {
    gc?.();
    eager.push((await timed(() => parseIptablesSave(text, { file: path.basename(file), lazy: false }))).ms);
  }
  return { ...first!, times, readAll, eager, peakRss, gc: gc !== undefined, isolated };
}

/**
 * Runs {@link parseHere} in a child `node --expose-gc dist/bench.js --child-parse FILE` when this
 * is the bundled script, so the generator's memory does not count; in-process otherwise (tsx).
 */
async function measureParse(file: string, runs: number): Promise<ParseMeasurement> {
  if (!__filename.endsWith('.js')) return parseHere(file, runs, false);
  const { stdout } = await run(process.execPath, ['--expose-gc', __filename, '--child-parse', file, '--runs', String(runs)], { timeoutMs: 1_800_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ParseMeasurement;
}

/** kube-proxy-shaped iptables-save: meshtrace load time and memory vs `iptables-restore --test`. */
const kubeProxyLoad: BenchCase = {
  name: 'kube-proxy-load',
  description: 'parseIptablesSave on a kube-proxy-shaped iptables-save vs the real iptables-restore --test',
  async run(opts) {
    const { services, endpoints, runs } = opts;
    const file = path.join(opts.dataDir, `kube-proxy-${services}x${endpoints}.iptables-save`);
    const gen = await timed(() => {
      fs.mkdirSync(opts.dataDir, { recursive: true });
      fs.writeFileSync(file, genKubeProxySave(services, endpoints));
    });
    const text = fs.readFileSync(file, 'utf8');
    const rules = kubeProxyRuleCount(services, endpoints);
    console.log(`  input: ${file}`);
    console.log(`         ${services} services × ${endpoints} endpoints = ${rules.toLocaleString('en-US')} rules, ${mb(Buffer.byteLength(text))} (generated in ${ms(gen.ms)})`);

    // (a) meshtrace, in a fresh child process so its peak RSS is the parser's alone.
    const m = await measureParse(file, runs);
    console.log(`  meshtrace parseIptablesSave: ${m.rules.toLocaleString('en-US')} rules read, ${m.bad} warnings/errors; ${m.lazy.toLocaleString('en-US')} of them of a shape read before (checked, spec read on first use)`);
    if (m.rules !== rules) console.log(`  !! expected ${rules.toLocaleString('en-US')} rules, read ${m.rules.toLocaleString('en-US')}`);
    console.log(
      `  memory (${m.isolated ? 'child process' : 'this process'}, model alive): rss ${mb(m.before.rss)} -> ${mb(m.after.rss)}, ` +
        `heapUsed ${mb(m.before.heapUsed)} -> ${mb(m.after.heapUsed)} (+${mb(m.after.heapUsed - m.before.heapUsed)}), ` +
        `peak rss ${mb(m.peakRss)}${m.gc ? '' : ' (no --expose-gc: heap numbers include garbage)'}`,
    );
    const ours = median(m.times);
    console.log(`  meshtrace parseIptablesSave: median ${ms(ours)} of ${runs} (${m.times.map(ms).join(', ')})`);
    console.log(`    then reading every spec:  median ${ms(median(m.readAll))} more (${m.readAll.map(ms).join(', ')})`);
    console.log(`    every spec read at load (lazy: false): median ${ms(median(m.eager))} (${m.eager.map(ms).join(', ')})`);

    // (b) the real iptables-restore --test on the same file, in a namespace of our own.
    const reason = labUnavailableReason(['iptables-restore']);
    if (reason !== undefined) {
      console.log(`  iptables-restore --test: not run (${reason}); meshtrace numbers only`);
      return;
    }
    const lab = new Lab();
    try {
      const ns = await lab.addNamespace('bench');
      const theirs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await timed(() => lab.exec(ns, 'iptables-restore', ['--test'], { input: text, timeoutMs: 600_000 }));
        theirs.push(r.ms);
      }
      const t = median(theirs);
      console.log(`  iptables-restore --test:     median ${ms(t)} of ${runs} (${theirs.map(ms).join(', ')})`);
      const ratio = t / ours;
      console.log(`  ratio iptables-restore --test / meshtrace = ${ratio.toFixed(1)}x (target >= 10x: ${ratio >= 10 ? 'met' : 'NOT met'})`);
      console.log(`    the first (cold) load alone: ${(t / m.times[0]).toFixed(1)}x; with every spec read too: ${(t / (ours + median(m.readAll))).toFixed(1)}x; every spec read at load: ${(t / median(m.eager)).toFixed(1)}x`);
    } finally {
      await lab.dispose();
    }
  },
};

/** Every benchmark, in the order they run; add new sections here. */
export const benchCases: BenchCase[] = [kubeProxyLoad, benchTrace, benchSimulate];

function parseArgs(argv: readonly string[]): { opts: BenchOptions; only: string[] } {
  const opts: BenchOptions = { runs: 3, services: 10000, endpoints: 10, dataDir: path.resolve(process.cwd(), 'bench-data') };
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--runs') opts.runs = num();
    else if (a === '--services') opts.services = num();
    else if (a === '--endpoints') opts.endpoints = num();
    else if (a === '--case') only.push(argv[++i] ?? '');
    else throw new Error(`unknown argument ${a} (known: --case NAME, --runs N, --services N, --endpoints N)`);
  }
  return { opts, only };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child-parse') {
    const { opts } = parseArgs(argv.slice(2));
    process.stdout.write(JSON.stringify(await parseHere(argv[1], opts.runs, true)) + '\n');
    return;
  }
  const { opts, only } = parseArgs(argv);
  const cases = only.length ? benchCases.filter((c) => only.includes(c.name)) : benchCases;
  if (cases.length === 0) throw new Error(`no such case; known: ${benchCases.map((c) => c.name).join(', ')}`);
  console.log(`meshtrace bench (node ${process.version}, ${opts.runs} runs per measurement, medians)`);
  for (const c of cases) {
    console.log(`\n[${c.name}] ${c.description}`);
    await c.run(opts);
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
