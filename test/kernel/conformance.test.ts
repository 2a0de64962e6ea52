/**
 * Kernel tier: meshtrace's simulator against the real kernel. Each seed is a random lab
 * (test/kernel/conformanceLab.ts: 3–5 namespaces, routers with bridges, policy routes and
 * Docker/kube-proxy-shaped rulesets), built for real, captured with the real tools into a capture
 * folder, loaded with loadModel; then every probe is sent for real (a local process in the probe's
 * namespace; listeners on every port in every namespace) and traced with traceQuery, and the two
 * answers must agree: verdict, final namespace, and for delivered probes the addresses and ports
 * the listener's socket saw (or the SYN-RECV entry of a handshake whose SYN-ACK was lost), plus
 * whether the reply reached the client. For `-m statistic` the kernel's branch must be one of the
 * outcomes, and the probabilities must add up to 1. On a subset of labs, `xtables-monitor
 * --trace` checks the rule-level steps as well (table, chain, rule position and verdict).
 *
 * What the kernel adds that is not the simulator's business is kept out of the comparison:
 * ip_error's per-source rate limit on routers' ICMP errors (probes are sent in waves, and one that
 * times out where meshtrace expects such an error is sent again), and soft TCP errors that connect()
 * reports after the handshake completed (the client's socket state tells, see tcpSockets).
 *
 * Seeds: a fixed list always runs; `MESHTRACE_SEEDS=N` (or `--seeds N` on the mocha command line)
 * sweeps N more, from `MESHTRACE_SEED_BASE` or a random base that is printed. A disagreement prints
 * the seed, the probe, the trace and the kernel's answer, and leaves the capture and the case under
 * test-artifacts/conformance/seed-N/ (`MESHTRACE_SAVE_FIXTURES=1` also copies it to
 * test/fixtures/conformance/, where it becomes a regression test). `MESHTRACE_TRACE_ALL=1` checks
 * rule-level steps on every lab; `MESHTRACE_CONFORMANCE_VERBOSE=1` prints every probe's answers.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../src/node/loadCapture';
import { traceQuery } from '../../src/core/sim/simulate';
import { World } from '../../src/core/sim/world';
import type { Model } from '../../src/core/model/model';
import type { Trace, TraceQuery } from '../../src/core/sim/trace';
import { formatProblem } from '../../src/core/problem';
import { formatTrace } from '../../src/cli/trace';
import { hasCommand, requireLab } from './lab';
import {
  AFTER_HANDSHAKE,
  ConformanceLab,
  compareSteps,
  describeKernel,
  expectedRefusal,
  genLab,
  judge,
  parseMonitor,
  ROUTE_ERRORS_PER_WAVE,
  routeErrorKeys,
  scheduleProbes,
  type ClientResult,
  type KernelAnswer,
  type KernelEvent,
  type LabSpec,
  type Monitors,
  type ProbeSpec,
} from './conformanceLab';

/** Seeds that always run; together they draw every shape the generator knows (checked below). */
export const FIXED_SEEDS: readonly number[] = [6, 7, 16, 19, 21, 108, 165];
/** Fixed seeds whose rule-level steps are checked against `xtables-monitor --trace`. */
export const TRACE_SEEDS: readonly number[] = [6, 19];

const TOOLS = ['ip', 'iptables', 'iptables-save', 'iptables-restore', 'sysctl', 'bridge'];
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/conformance');
const FIXTURES = path.resolve(__dirname, '../fixtures/conformance');
const NODE = 'lab';
/** A retried probe's id and source port are the original's plus these (ports stay in the traced range). */
const RETRY_ID = 1000;
const RETRY_PORT = 5000;

/** How many extra seeds to sweep, from the environment or the command line. */
function sweepCount(): number {
  let n = Number(process.env.MESHTRACE_SEEDS ?? 0);
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seeds') n = Number(argv[i + 1]);
    else if (argv[i].startsWith('--seeds=')) n = Number(argv[i].slice('--seeds='.length));
  }
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function seedList(): number[] {
  const n = sweepCount();
  if (n === 0) return [...FIXED_SEEDS];
  const base = Number(process.env.MESHTRACE_SEED_BASE ?? 1000 + Math.floor(Math.random() * 1_000_000));
  console.log(`  conformance: sweeping ${n} extra seeds from ${base} (repeat with MESHTRACE_SEED_BASE=${base} MESHTRACE_SEEDS=${n})`);
  return [...FIXED_SEEDS, ...Array.from({ length: n }, (_, i) => base + i)];
}

/** Whether br_netfilter is there (it makes `net.bridge.bridge-nf-call-iptables` per namespace). */
function bridgeSupport(): { ok: boolean; why?: string } {
  const key = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  if (fs.existsSync(key)) return { ok: true };
  if (typeof process.getuid === 'function' && process.getuid() === 0 && hasCommand('modprobe')) {
    try {
      execFileSync('modprobe', ['br_netfilter'], { stdio: 'ignore' });
    } catch {
      // not available on this kernel
    }
    if (fs.existsSync(key)) return { ok: true };
  }
  return { ok: false, why: 'br_netfilter is not loaded (no /proc/sys/net/bridge, `modprobe br_netfilter` failed): labs are generated without bridges' };
}

/** Why rule-level checks cannot run here, or undefined. */
function monitorUnavailable(): string | undefined {
  if (!hasCommand('xtables-monitor')) return 'no xtables-monitor (iptables-nft)';
  if (!hasCommand('stdbuf')) return 'no stdbuf (coreutils) to line-buffer xtables-monitor';
  if (!hasCommand('nft')) return 'no nft (nftables) to map rule handles to positions';
  try {
    const v = execFileSync('iptables', ['--version'], { encoding: 'utf8' });
    if (!v.includes('nf_tables')) return `iptables is not the nf_tables variant (${v.trim()}): xtables-monitor --trace sees nothing`;
  } catch {
    return 'iptables --version failed';
  }
  return undefined;
}

/** The trace query of a probe (a local process in the probe's namespace). */
function queryOf(p: ProbeSpec, ns: string): TraceQuery {
  return { node: NODE, namespace: ns, proto: p.proto, src: p.src, sport: p.sport, dst: p.dst, dport: p.dport };
}

/** One recorded disagreement: enough to replay the trace and judge it without a kernel. */
export interface ConformanceCase {
  seed: number;
  description: string;
  probe: ProbeSpec;
  /** The probe's source namespace, as named in the capture. */
  namespace: string;
  query: TraceQuery;
  kernel: KernelAnswer;
  /** xtables-monitor events of the probe, when the lab was traced. */
  events?: KernelEvent[];
  /** What the judge said when the case was recorded. */
  problems: string[];
}

function probeTitle(p: ProbeSpec): string {
  return `#${p.id} ${p.proto} ${p.src}:${p.sport} → ${p.dst}:${p.dport} from ${p.from} (${p.aim})`;
}

/** The judge for one probe, with the rule-level check when events are given. */
function check(model: Model, t: Trace, c: Pick<ConformanceCase, 'probe' | 'namespace' | 'kernel' | 'events'>): string[] {
  const j = judge(t, c.probe, c.namespace, c.kernel);
  if (!j.ok) return j.problems;
  if (!c.events) return [];
  // Several outcomes may fit (statistic branches that look alike): the one whose steps fit best.
  let best: string[] | undefined;
  for (const o of j.matched) {
    const d = compareSteps(model, o.steps, c.events);
    if (!best || d.length < best.length) best = d;
  }
  return best && best.length ? ['rule-level steps differ from xtables-monitor --trace:', ...best] : [];
}

function report(spec: Pick<LabSpec, 'seed' | 'description'>, c: ConformanceCase, t: Trace, problems: string[], capture: string): string {
  return [
    `seed ${spec.seed}, probe ${probeTitle(c.probe)}`,
    `  lab: ${spec.description}`,
    `  capture: ${capture}`,
    `  kernel: ${describeKernel(c.kernel)}`,
    ...problems.map((p) => `  ${p}`),
    '  meshtrace trace:',
    ...formatTrace(t).map((l) => `    ${l}`),
  ].join('\n');
}

/** Writes a disagreement next to its capture, and as a fixture when asked to. */
function saveCase(captureDir: string, c: ConformanceCase): void {
  const dir = path.dirname(captureDir);
  fs.writeFileSync(path.join(dir, `probe-${c.probe.id}.json`), `${JSON.stringify(c, null, 2)}\n`);
  if (process.env.MESHTRACE_SAVE_FIXTURES !== '1') return;
  const fx = path.join(FIXTURES, `seed-${c.seed}-probe-${c.probe.id}`);
  fs.rmSync(fx, { recursive: true, force: true });
  fs.mkdirSync(fx, { recursive: true });
  fs.cpSync(captureDir, path.join(fx, 'capture'), { recursive: true });
  fs.writeFileSync(path.join(fx, 'case.json'), `${JSON.stringify(c, null, 2)}\n`);
}

const brnf = bridgeSupport();
/** `MESHTRACE_CONFORMANCE_VERBOSE=1`: print every probe's kernel answer and meshtrace's outcomes. */
const verbose = process.env.MESHTRACE_CONFORMANCE_VERBOSE === '1';

describe('kernel: conformance generator', () => {
  it('is deterministic per seed and differs between seeds', () => {
    assert.deepEqual(genLab(7), genLab(7));
    assert.notDeepEqual(genLab(7).namespaces, genLab(8).namespaces);
  });

  it('keeps to 3–5 namespaces, TEST-NET addresses and one source port per probe', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const l = genLab(seed);
      assert.ok(l.namespaces.length >= 3 && l.namespaces.length <= 5, `seed ${seed}: ${l.namespaces.length} namespaces`);
      const text = JSON.stringify(l);
      for (const m of text.matchAll(/\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g)) {
        const a = m[0];
        assert.ok(/^(192\.0\.2|198\.51\.100|203\.0\.113)\./.test(a) || a.startsWith('127.') || a === '0.0.0.0', `seed ${seed}: ${a} is not a TEST-NET address`);
      }
      assert.equal(new Set(l.probes.map((p) => p.sport)).size, l.probes.length);
    }
  });

  it('draws every shape in the fixed seeds', () => {
    const all = new Set(FIXED_SEEDS.flatMap((s) => genLab(s).shapes.map((x) => x.replace(/ \(.*\)$/, ''))));
    const text = FIXED_SEEDS.map((s) => JSON.stringify(genLab(s))).join('\n');
    const wantShapes = [
      'client behind a bridge',
      'two routers',
      'servers on a bridge',
      'servers on veth links',
      'a server behind each router',
      'blackhole/unreachable/prohibit routes',
      'route types on the client',
      'docker bridge',
      'DOCKER-USER filters',
      'kube-proxy on r1',
      'kube-proxy on c',
      'kube NodePort',
      'r1 FORWARD user chains',
      'INPUT host firewall',
      'REDIRECT on r1',
      'DNAT to 127.0.0.1',
      'MARK + fwmark routing',
      'source policy rule',
      'raw NOTRACK',
      'SNAT/MASQUERADE towards the servers',
      'REDIRECT in OUTPUT',
      'client OUTPUT filter',
      'OUTPUT MARK re-route',
      'rp_filter=1 on r1',
      'rp_filter=2 on r1',
      'MASQUERADE on r1 uplink',
      'port forward DNAT',
    ];
    const missing = wantShapes.filter((w) => !all.has(w));
    assert.deepEqual(missing, [], `shapes missing from the fixed seeds: ${missing.join(' | ')}`);
    const wantText = ['-m statistic --mode random', '-j RETURN', ' -g ', '-m multiport', '-m conntrack --ctstate', '-j MASQUERADE', '-j SNAT', '-j REDIRECT', '--reject-with tcp-reset', '--reject-with icmp-', 'CONNMARK', 'fwmark'];
    const missingText = wantText.filter((w) => !text.includes(w));
    assert.deepEqual(missingText, [], `rule shapes missing from the fixed seeds: ${missingText.join(' | ')}`);
  });
});

describe('kernel: conformance judge', () => {
  // Lines as xtables-monitor --trace (iptables 1.8.9) printed them in a lab of this suite.
  const monitor = [
    'PACKET: 2 008bc09c IN=eth0 MACSRC=1a:61:a:5b:94:ef MACDST=e:cd:7e:7c:40:62 MACPROTO=0800 SRC=192.0.2.3 DST=203.0.113.66 LEN=60 TOS=0x0 TTL=64 ID=38685 DF SPORT=41001 DPORT=3128 SYN ',
    ' TRACE: 2 008bc09c raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p tcp -m tcp --sport 41000:50999 --tcp-flags FIN,SYN,RST,ACK SYN -m comment --comment mt-conformance-trace -j TRACE',
    ' TRACE: 2 008bc09c raw:PREROUTING:policy:ACCEPT ',
    'PACKET: 2 008bc09c IN=eth0 SRC=192.0.2.3 DST=203.0.113.66 LEN=60 TOS=0x0 TTL=64 ID=38685 DF SPORT=41001 DPORT=3128 SYN ',
    ' TRACE: 2 008bc09c nat:PREROUTING:rule:0xf:JUMP:KUBE-SERVICES  -4 -t nat -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ' TRACE: 2 008bc09c nat:KUBE-POSTROUTING:rule:0x13:0xfffffffb  -4 -t nat -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    ' TRACE: 2 008bc09c nat:PREROUTING:rule:0x29:ACCEPT  -4 -t nat -A PREROUTING -i eth0 -p tcp -m tcp --dport 3128 -j REDIRECT --to-ports 8081',
    // A retransmitted SYN (another IP ID) and another probe are not this probe's first packet.
    'PACKET: 2 7a7a7a7a IN=eth0 SRC=192.0.2.3 DST=203.0.113.66 LEN=60 TOS=0x0 TTL=64 ID=38686 DF SPORT=41001 DPORT=3128 SYN ',
    ' TRACE: 2 7a7a7a7a filter:INPUT:policy:DROP ',
    'PACKET: 2 5d56dcef IN=eth0 SRC=192.0.2.2 DST=203.0.113.66 LEN=60 TOS=0x0 TTL=64 ID=10864 DF SPORT=41002 DPORT=80 SYN ',
    ' TRACE: 2 5d56dcef filter:INPUT:rule:0x8:DROP  -4 -t filter -A INPUT -j DROP',
  ];

  it('reads xtables-monitor --trace lines of one probe\'s first packet, with rule positions from nft handles', () => {
    const handles = new Map([['nat:PREROUTING', [15, 41]], ['nat:KUBE-POSTROUTING', [19]]]);
    const ev = parseMonitor('ns', monitor, 41001, handles);
    assert.deepEqual(
      ev.map((e) => [e.table, e.chain, e.kind, e.position, e.verdict, e.target]),
      [
        ['raw', 'PREROUTING', 'policy', undefined, 'ACCEPT', undefined],
        ['nat', 'PREROUTING', 'rule', 0, 'JUMP', 'KUBE-SERVICES'],
        ['nat', 'KUBE-POSTROUTING', 'rule', 0, 'RETURN', undefined],
        ['nat', 'PREROUTING', 'rule', 1, 'ACCEPT', undefined],
      ],
    );
  });

  it('maps refusals to what the client sees (icmp_err_convert, udp_err)', () => {
    assert.deepEqual(expectedRefusal('tcp-reset', 'tcp', false), ['ECONNREFUSED']);
    assert.deepEqual(expectedRefusal('icmp-admin-prohibited', 'tcp', false), ['EHOSTUNREACH']);
    assert.deepEqual(expectedRefusal('icmp-host-unreachable', 'udp', false), ['timeout']);
    assert.deepEqual(expectedRefusal('route-prohibit', 'tcp', true), ['EACCES']);
    assert.deepEqual(expectedRefusal('route-unreachable', 'udp', false), ['timeout']);
    assert.deepEqual(expectedRefusal('icmp-port-unreachable', 'udp', true), ['EPERM', 'ECONNREFUSED']);
  });

  it('accepts the statistic branch the kernel took, and nothing else', () => {
    const probe: ProbeSpec = { id: 1, from: 'c', proto: 'tcp', src: '192.0.2.2', sport: 41001, dst: '198.51.100.100', dport: 80, aim: 'test' };
    const out = (ns: string, dst: string): Trace['outcomes'][number] => ({
      verdict: 'delivered',
      probability: 0.5,
      final: { node: 'lab', namespace: ns, src: '192.0.2.2', sport: 41001, dst, dport: 80 },
      reason: '',
      steps: [],
      reply: { verdict: 'delivered', final: { node: 'lab', namespace: 'c', src: '198.51.100.100', sport: 80, dst: '192.0.2.2', dport: 41001 }, reason: '', steps: [] },
    });
    const t: Trace = { query: { node: 'lab', namespace: 'c', proto: 'tcp', src: '192.0.2.2', sport: 41001, dst: '198.51.100.100', dport: 80 }, outcomes: [out('s1', '203.0.113.10'), out('s2', '203.0.113.11')], warnings: [] };
    const k = (ns: string, local: string): KernelAnswer => ({ client: { id: 1, result: 'connected', ms: 5 }, records: [{ ns, proto: 'tcp', id: '1', local, peer: '192.0.2.2:41001' }] });
    assert.equal(judge(t, probe, 'c', k('s2', '203.0.113.11:80')).ok, true);
    assert.equal(judge(t, probe, 'c', k('s2', '203.0.113.12:80')).ok, false);
    assert.equal(judge({ ...t, outcomes: [out('s1', '203.0.113.10')] }, probe, 'c', k('s1', '203.0.113.10:80')).ok, false, 'p=0.5 alone does not add up to 1');
  });
});

describe('kernel: conformance (meshtrace vs the kernel)', function () {
  this.timeout(300_000);
  const traceWhy = monitorUnavailable();
  if (!brnf.ok) console.log(`      note: ${brnf.why}`);

  for (const seed of seedList()) {
    const spec = genLab(seed, { bridges: brnf.ok });
    const traced = TRACE_SEEDS.includes(seed) || process.env.MESHTRACE_TRACE_ALL === '1';
    describe(`seed ${seed}: ${spec.namespaces.length} namespaces, ${spec.probes.length} probes${traced ? ', rule-level' : ''}`, function () {
      const captureDir = path.join(ARTIFACTS, `seed-${seed}`, 'capture');
      let lab: ConformanceLab | undefined;
      let model: Model;
      let world: World;
      let monitors: Monitors | undefined;
      const answers = new Map<number, KernelAnswer>();
      const traces = new Map<number, Trace>();
      /** The probe each test judges: the generated one, or its retry (see below). */
      const sent = new Map<number, ProbeSpec>(spec.probes.map((p) => [p.id, p]));

      before(async function () {
        requireLab(this, TOOLS);
        const t0 = Date.now();
        console.log(`      ${spec.description}`);
        const l = new ConformanceLab(spec, { bridges: brnf.ok });
        lab = l;
        fs.rmSync(path.dirname(captureDir), { recursive: true, force: true });
        await l.build();
        await l.capture(captureDir);
        model = loadModel([captureDir]);
        world = new World(model);
        const traceOf = (p: ProbeSpec): Trace => traceQuery(model, queryOf(p, l.name(p.from)), world);
        for (const p of spec.probes) traces.set(p.id, traceOf(p));
        if (traced && traceWhy) console.log(`      rule-level check skipped: ${traceWhy}`);
        monitors = traced && !traceWhy ? await l.startMonitors() : undefined;
        const listeners = await l.startListeners();
        const keysOf = (p: ProbeSpec): string[] => routeErrorKeys(traces.get(p.id) as Trace, l.name(p.from));
        // Waves keep each router's route errors within ip_error's rate limit (routeErrorKeys);
        // traced labs start one probe every 60 ms, so that a burst of trace events does not
        // overflow xtables-monitor's netlink socket (ENOBUFS).
        const round = async (probes: ProbeSpec[], perWave: number): Promise<Map<number, ClientResult>> => {
          const results = new Map<number, ClientResult>();
          const waves = scheduleProbes(probes, keysOf, perWave);
          for (let i = 0; i < waves.length; i++) {
            // ip_error gives back one token a second; the previous wave's timeouts returned most.
            if (i > 0) await new Promise((r) => setTimeout(r, 1500));
            for (const [id, r] of await l.runProbes(waves[i], { staggerMs: monitors ? 60 : 0 })) results.set(id, r);
          }
          return results;
        };
        try {
          const results = await round(spec.probes, ROUTE_ERRORS_PER_WAVE);
          // A timeout where meshtrace expects a router's ICMP error may be ip_error's rate limit
          // (a TCP SYN can cost two tokens when the first error meets a busy socket): such probes
          // are sent once more, from a fresh source port, two per router and source at a time.
          const retry = spec.probes.filter((p) => results.get(p.id)?.result === 'timeout' && keysOf(p).length > 0);
          if (retry.length) {
            await new Promise((r) => setTimeout(r, 2000));
            const again = retry.map((p) => ({ ...p, id: p.id + RETRY_ID, sport: p.sport + RETRY_PORT, aim: `${p.aim}; sent again after a timeout (ip_error rate limit)` }));
            for (const p of again) traces.set(p.id, traceOf(p));
            for (const [id, r] of await round(again, 2)) results.set(id, r);
            for (const p of again) sent.set(p.id - RETRY_ID, p);
          }
          await listeners.settle();
          const halfOpen = await l.halfOpen();
          const sockets = await l.tcpSockets();
          for (const p of sent.values()) {
            let client = results.get(p.id);
            if (!client) throw new Error(`probe #${p.id} has no result from the probe client`);
            const state = sockets.get(`${l.name(p.from)}|${p.src}:${p.sport}`);
            if (p.proto === 'tcp' && client.result === 'error' && state && AFTER_HANDSHAKE.has(state)) client = { ...client, result: 'connected', afterConnect: client.errno, errno: undefined };
            const records = [...listeners.records.filter((r) => r.id === String(p.id)), ...(p.proto === 'tcp' ? halfOpen.filter((r) => r.peer.endsWith(`:${p.sport}`)) : [])];
            answers.set(p.id, { client, records });
          }
          if (verbose) console.log(`      kernel round: ${retry.length} probe(s) sent again, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        } finally {
          await listeners.stop();
          await monitors?.stop();
          for (const [ns, text] of monitors?.raw() ?? []) fs.writeFileSync(path.join(path.dirname(captureDir), `xtables-monitor-${ns}.txt`), `${text.join('\n')}\n`);
        }
      });

      after(async () => {
        await lab?.dispose();
      });

      if (traced) {
        it('xtables-monitor --trace kept up with every probe', function () {
          if (!monitors) this.skip();
          assert.deepEqual(monitors?.failures() ?? [], []);
        });
      }

      it('the capture loads without warnings', () => {
        const bad = model.problems.filter((p) => p.severity !== 'info').map(formatProblem);
        assert.deepEqual(bad, []);
        assert.equal(model.namespaces.length, spec.namespaces.length);
      });

      for (const generated of spec.probes) {
        it(probeTitle(generated), () => {
          const l = lab as ConformanceLab;
          const p = sent.get(generated.id) ?? generated;
          const ns = l.name(p.from);
          const k = answers.get(p.id) as KernelAnswer;
          const query = queryOf(p, ns);
          const t = traces.get(p.id) ?? traceQuery(model, query, world);
          // A monitor that stopped early has not seen every rule: rule-level checks would mislead.
          const events = monitors && monitors.failures().length === 0 ? monitors.eventsOf(p.sport) : undefined;
          const c: ConformanceCase = { seed, description: spec.description, probe: p, namespace: ns, query, kernel: k, events, problems: [] };
          const problems = check(model, t, c);
          if (verbose) console.log(`        kernel: ${describeKernel(k)}\n        meshtrace: ${t.outcomes.map((o) => `${o.verdict} p=${o.probability} at ${o.final.namespace} ${o.final.src}:${o.final.sport} → ${o.final.dst}:${o.final.dport}${o.reply ? ` (reply ${o.reply.verdict})` : ''}`).join(' | ')}`);
          if (problems.length === 0) return;
          c.problems = problems;
          saveCase(captureDir, c);
          const msg = report(spec, c, t, problems, captureDir);
          console.log(msg);
          assert.fail(msg);
        });
      }
    });
  }
});

describe('kernel: conformance fixtures (recorded kernel answers)', () => {
  const dirs = fs.existsSync(FIXTURES) ? fs.readdirSync(FIXTURES).filter((d) => fs.existsSync(path.join(FIXTURES, d, 'case.json'))) : [];
  if (dirs.length === 0) it('has no recorded disagreement');
  for (const d of dirs.sort()) {
    const c = JSON.parse(fs.readFileSync(path.join(FIXTURES, d, 'case.json'), 'utf8')) as ConformanceCase;
    it(`${d}: ${probeTitle(c.probe)}`, () => {
      const capture = path.join(FIXTURES, d, 'capture');
      const model = loadModel([capture]);
      const t = traceQuery(model, c.query);
      const problems = check(model, t, c);
      if (problems.length) assert.fail(report(c, c, t, problems, capture));
    });
  }
});
