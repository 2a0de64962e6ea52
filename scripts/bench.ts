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
import * as readline from 'node:readline';
import { spawn } from 'node:child_process';
import { parseIptablesSave } from '../src/core/parsers/parseIptablesSave';
import { isLazyRule } from '../src/core/parsers/lazyRule';
import { Lab, labUnavailableReason } from '../test/kernel/lab';
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

/**
 * Parses one file on request, the file read once. `parse()` times one load; memory is measured
 * around the first with the model alive. `finish()` then times reading every spec afterwards and
 * an eager load, and gives the whole measurement.
 */
class ParseSession {
  private readonly text: string;
  private readonly times: number[] = [];
  private first: Omit<ParseMeasurement, 'times' | 'readAll' | 'eager' | 'peakRss' | 'gc' | 'isolated'> | undefined;

  constructor(
    private readonly file: string,
    private readonly isolated: boolean,
  ) {
    this.text = fs.readFileSync(file, 'utf8');
  }

  parse(): number {
    gc?.();
    const before = process.memoryUsage();
    const t0 = process.hrtime.bigint();
    const r = parseIptablesSave(this.text, { file: path.basename(this.file) });
    const took = Number(process.hrtime.bigint() - t0) / 1e6;
    const after = process.memoryUsage();
    this.times.push(took);
    if (!this.first) {
      let rules = 0;
      let lazy = 0;
      for (const t of r.value.tables) for (const c of t.chains) for (const x of c.rules) {
        rules++;
        if (isLazyRule(x)) lazy++;
      }
      const bad = r.problems.filter((p) => p.severity !== 'info').length;
      this.first = { rules, lazy, bad, before, after };
    }
    return took;
  }

  finish(runs: number): ParseMeasurement {
    // Peak memory of the loads alone; reading every spec afterwards and the eager load come after.
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const base = { file: path.basename(this.file) };
    const readAll: number[] = [];
    const eager: number[] = [];
    for (let i = 0; i < runs; i++) {
      gc?.();
      const r = parseIptablesSave(this.text, base);
      // What a reader of the whole model does (the doctor, `load --json`): every rule's spec.
      const t0 = process.hrtime.bigint();
      let read = 0;
      for (const t of r.value.tables) for (const c of t.chains) for (const x of c.rules) if (x.spec !== undefined) read++;
      readAll.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (read !== this.first?.rules) throw new Error(`read ${read} specs of ${this.first?.rules} rules`);
    }
    for (let i = 0; i < runs; i++) {
      gc?.();
      const t0 = process.hrtime.bigint();
      parseIptablesSave(this.text, { ...base, lazy: false });
      eager.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { ...this.first!, times: this.times, readAll, eager, peakRss, gc: gc !== undefined, isolated: this.isolated };
  }
}

/** A {@link ParseSession} here, or in a child process (see {@link openParseSession}). */
interface ParseRunner {
  parse(): Promise<number>;
  finish(runs: number): Promise<ParseMeasurement>;
}

/**
 * A parse session in a child `node --expose-gc dist/bench.js --child-parse FILE` when this is
 * the bundled script (so the generator's memory does not count, and the child's peak RSS is the
 * parser's), which answers one line per command on stdin; here otherwise (tsx).
 */
function openParseSession(file: string): ParseRunner {
  if (!__filename.endsWith('.js')) {
    const here = new ParseSession(file, false);
    return { parse: async () => here.parse(), finish: async (runs) => here.finish(runs) };
  }
  const child = spawn(process.execPath, ['--expose-gc', __filename, '--child-parse', file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const ask = (cmd: string): Promise<string> =>
    new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the parse child exited (${String(code)}) before answering ${cmd}`)));
      waiting.push(resolve);
      child.stdin.write(cmd + '\n');
    });
  return {
    parse: async () => (JSON.parse(await ask('parse')) as { ms: number }).ms,
    finish: async (runs) => {
      const m = JSON.parse(await ask(`finish ${runs}`)) as ParseMeasurement;
      child.stdin.end();
      return m;
    },
  };
}

/** The child side of {@link openParseSession}: `parse` and `finish N` on stdin, one JSON line each on stdout. */
async function serveParseSession(file: string): Promise<void> {
  const session = new ParseSession(file, true);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.split(' ');
    if (cmd === 'parse') process.stdout.write(JSON.stringify({ ms: session.parse() }) + '\n');
    else if (cmd === 'finish') {
      process.stdout.write(JSON.stringify(session.finish(Number(arg))) + '\n');
      return;
    }
  }
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

    // meshtrace (in a child process of its own) and the real iptables-restore --test (in a
    // namespace of our own) take turns, run for run: this machine's speed drifts by ±25 % over
    // minutes, and both sides must see the same minutes for their ratio to mean anything.
    const reason = labUnavailableReason(['iptables-restore']);
    const lab = reason === undefined ? new Lab() : undefined;
    const ours: number[] = [];
    const theirs: number[] = [];
    let m: ParseMeasurement;
    try {
      const ns = lab ? await lab.addNamespace('bench') : undefined;
      const session = openParseSession(file);
      for (let i = 0; i < runs; i++) {
        ours.push(await session.parse());
        if (lab && ns) theirs.push((await timed(() => lab.exec(ns, 'iptables-restore', ['--test'], { input: text, timeoutMs: 600_000 }))).ms);
      }
      m = await session.finish(runs);
    } finally {
      await lab?.dispose();
    }
    console.log(`  meshtrace parseIptablesSave: ${m.rules.toLocaleString('en-US')} rules read, ${m.bad} warnings/errors; ${m.lazy.toLocaleString('en-US')} of them of a shape read before (checked, spec read on first use)`);
    if (m.rules !== rules) console.log(`  !! expected ${rules.toLocaleString('en-US')} rules, read ${m.rules.toLocaleString('en-US')}`);
    console.log(
      `  memory (${m.isolated ? 'child process' : 'this process'}, model alive): rss ${mb(m.before.rss)} -> ${mb(m.after.rss)}, ` +
        `heapUsed ${mb(m.before.heapUsed)} -> ${mb(m.after.heapUsed)} (+${mb(m.after.heapUsed - m.before.heapUsed)}), ` +
        `peak rss ${mb(m.peakRss)}${m.gc ? '' : ' (no --expose-gc: heap numbers include garbage)'}`,
    );
    const mine = median(ours);
    console.log(`  meshtrace parseIptablesSave: median ${ms(mine)} of ${runs} (${ours.map(ms).join(', ')}; the first is the process's first, cold)`);
    console.log(`    then reading every spec:  median ${ms(median(m.readAll))} more (${m.readAll.map(ms).join(', ')})`);
    console.log(`    every spec read at load (lazy: false): median ${ms(median(m.eager))} (${m.eager.map(ms).join(', ')})`);
    if (!lab) {
      console.log(`  iptables-restore --test: not run (${reason}); meshtrace numbers only`);
      return;
    }
    const t = median(theirs);
    console.log(`  iptables-restore --test:     median ${ms(t)} of ${runs} (${theirs.map(ms).join(', ')}), each run right after meshtrace's run of the same number`);
    const ratio = t / mine;
    console.log(`  ratio iptables-restore --test / meshtrace = ${ratio.toFixed(1)}x (target >= 10x: ${ratio >= 10 ? 'met' : 'NOT met'})`);
    console.log(`    run by run: ${theirs.map((x, i) => (x / ours[i]).toFixed(1) + 'x').join(', ')}`);
    console.log(`    the first (cold) load alone: ${(t / ours[0]).toFixed(1)}x; with every spec read too: ${(t / (mine + median(m.readAll))).toFixed(1)}x; every spec read at load: ${(t / median(m.eager)).toFixed(1)}x`);
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
    await serveParseSession(argv[1]);
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
