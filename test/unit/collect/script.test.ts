/**
 * unit: the collector script itself (collector/meshtrace-collect.sh), without root. shellcheck,
 * dash and busybox sh; then the script run against a fake node (fakeNode.ts) that replays the
 * corpus swarm lab: every section's command is recognised, the bundle loads into the same model as
 * the corpus folder and traces the lab's probes to the kernel's verdicts, and every missing or
 * failing tool leaves a `# meshtrace:` note.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildModel } from '../../../src/core/model/buildModel';
import { parseBundle } from '../../../src/core/parsers/parseBundle';
import { detectKind } from '../../../src/core/parsers/detectKind';
import { loadModel } from '../../../src/node/loadCapture';
import { traceQuery } from '../../../src/core/sim/simulate';
import type { DumpKind, Model } from '../../../src/core/model/model';
import type { TraceQuery } from '../../../src/core/sim/trace';
import { formatProblem } from '../../../src/core/problem';
import { CORPUS } from '../helpers';
import { fakeNetnsDir, makeFakeNode, requirePrograms, runProgram, SWARM_NAMESPACES, which, type FakeNode } from './fakeNode';

const SCRIPT = path.resolve(__dirname, '../../../collector/meshtrace-collect.sh');

/** Sections of a bundle: [ns, cmd, text]. */
function sections(bundle: string): [string, string, string][] {
  return parseBundle(bundle, 'b.txt').value.map((f) => [f.namespace, f.cmd ?? '', f.text]);
}

/** The `# meshtrace:` note lines of a bundle. */
function notes(bundle: string): string[] {
  return bundle.split('\n').filter((l) => l.startsWith('# meshtrace: '));
}

/** The bundle without its time stamp (the first note), for comparing two runs. */
function untimed(bundle: string): string {
  return bundle.replace(/ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;/, ' at <time>;');
}

function bad(m: Model): string[] {
  return m.problems.filter((p) => p.severity !== 'info').map(formatProblem);
}

describe('unit: collector script', () => {
  it('is shellcheck clean (POSIX sh)', function () {
    requirePrograms(this, ['shellcheck']);
    const r = runProgram('shellcheck', ['--shell=sh', '--severity=style', SCRIPT]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  for (const [shell, args] of [
    ['dash', []],
    ['busybox', ['sh']],
  ] as const) {
    it(`parses and prints its usage under ${shell}`, function () {
      requirePrograms(this, [shell]);
      assert.equal(runProgram(shell, [...args, '-n', SCRIPT]).status, 0);
      const r = runProgram(shell, [...args, SCRIPT, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^usage: meshtrace-collect\.sh/);
      assert.match(r.stdout, /--redact-key HEX/);
    });

    it(`refuses bad options under ${shell} (exit 2, one line why)`, function () {
      requirePrograms(this, [shell]);
      const check = (a: string[], why: RegExp): void => {
        const r = runProgram(shell, [...args, SCRIPT, ...a]);
        assert.equal(r.status, 2, `${a.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, why);
        assert.equal(r.stdout, '');
      };
      check(['--bogus'], /unknown option: --bogus/);
      check(['--redact-key', 'abc'], /at least 32 hex digits/);
      check(['--redact-key', 'z'.repeat(40)], /hex digits only/);
      check(['--timeout', '1m'], /whole seconds/);
      check(['--node', 'a b'], /--node: letters/);
      check(['--redact-map', '/tmp/x'], /--redact-map needs --redact/);
      check(['-o'], /-o needs a file name/);
    });
  }

  it('names in its headers the commands that detectKind recognises', () => {
    const text = fs.readFileSync(SCRIPT, 'utf8');
    const cmds: [string, DumpKind][] = [
      ['iptables-save -c', 'iptables-save'],
      ['ip6tables-save -c', 'iptables-save'],
      ['ip -d addr', 'ip-addr'],
      ['ip -j -d addr', 'ip-addr-json'],
      ['ip route show table all', 'ip-route'],
      ['ip rule', 'ip-rule'],
      ['ip neigh', 'ip-neigh'],
      ['bridge fdb show', 'bridge-fdb'],
      ['ipvsadm -Ln', 'ipvsadm'],
      ['ipvsadm -S -n', 'ipvsadm'],
      ['nft list ruleset', 'nft'],
      ['docker network inspect -v $(docker network ls -q)', 'docker-json'],
      ['docker service inspect $(docker service ls -q)', 'docker-json'],
      ["docker node ls --format '{{json .}}'", 'docker-json'],
      ['docker inspect $(docker ps -q)', 'docker-json'],
    ];
    for (const [cmd, kind] of cmds) {
      // iptables-save and ip6tables-save come from one loop: `"$c_tool -c"`.
      const literal = /^ip6?tables-save -c$/.test(cmd) ? `"$c_tool -c"` : `'${cmd}'`;
      assert.ok(text.includes(literal) || text.includes(`"${cmd}"`), `the script names ${cmd}`);
      // Even for output that alone says nothing (empty, or an error text) the command decides.
      assert.equal(detectKind('x\n', 'bundle.txt', cmd).kind, kind, cmd);
    }
    const sysctl = /section "\$1" "(sysctl -a [^"]*)"/.exec(text);
    assert.ok(sysctl, 'the sysctl header');
    assert.equal(detectKind('x\n', 'bundle.txt', sysctl[1].replace("'$SYSCTL_RE'", "'^net'")).kind, 'sysctl');
  });
});

describe('unit: collector script on a fake node (the corpus swarm lab replayed)', function () {
  let node: FakeNode;
  let bundle: string;
  let stderr: string;
  const base = (n: FakeNode): string[] => [SCRIPT, '--docker-netns-dir', n.dockerNetnsDir, '--netns-dir', fakeNetnsDir(n)];

  before(function () {
    requirePrograms(this, ['dash']);
    node = makeFakeNode();
    const r = runProgram('dash', base(node), { env: node.env() });
    assert.equal(r.status, 0, r.stderr);
    bundle = r.stdout;
    stderr = r.stderr;
  });
  after(() => node?.dispose());

  it('captures the host, every Docker namespace and every `ip netns` one, each once', () => {
    const names = [...new Set(sections(bundle).map(([ns]) => ns))];
    // `default` (Docker's bind of the host namespace) and `dup` (a second name of ingress_sbox) are
    // the same namespaces as `host` and `ingress_sbox`; `weird name!` gets a header-safe name.
    assert.deepEqual(names, ['host', ...SWARM_NAMESPACES, 'blue', 'gone', 'weird_name_']);
    const cmds = sections(bundle)
      .filter(([ns, cmd]) => ns === '257c28285747' && cmd !== 'meshtrace-collect note')
      .map(([, cmd]) => cmd.replace(/ \| grep -E .*/, ' | grep -E …'));
    const ipvs = fs.existsSync('/proc/net/ip_vs') ? ['ipvsadm -Ln', 'ipvsadm -S -n'] : [];
    assert.deepEqual(cmds, ['iptables-save -c', 'ip -d addr', 'ip -j -d addr', 'ip route show table all', 'ip rule', 'ip neigh', 'bridge fdb show', ...ipvs, 'sysctl -a 2>/dev/null | grep -E …', 'nft list ruleset']);
  });

  it('reports progress on stderr, one line per namespace', () => {
    const lines = stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines[0], `meshtrace-collect: node vm: ${SWARM_NAMESPACES.length + 4} namespaces`);
    assert.equal(lines[1], `meshtrace-collect: [1/${SWARM_NAMESPACES.length + 4}] host`);
    assert.equal(lines.at(-2), 'meshtrace-collect: [docker]');
    assert.equal(lines.at(-1), 'meshtrace-collect: done');
  });

  it('copies every command output verbatim, each section ending in a newline', () => {
    const host = sections(bundle).filter(([ns]) => ns === 'host');
    const byCmd = new Map(host.map(([, cmd, text]) => [cmd, text]));
    for (const [cmd, file] of [
      ['iptables-save -c', 'host/iptables-save.txt'],
      ['ip -d addr', 'host/ip-addr.txt'],
      ['ip -j -d addr', 'host/ip-addr.json'],
      ['ip route show table all', 'host/ip-route.txt'],
      ['ip rule', 'host/ip-rule.txt'],
      ['nft list ruleset', 'host/nft.txt'],
      ['docker network inspect -v $(docker network ls -q)', 'network-inspect.json'],
      ['docker inspect $(docker ps -q)', 'containers-inspect.json'],
      ["docker node ls --format '{{json .}}'", 'node-ls.json'],
    ]) {
      const want = fs.readFileSync(path.join(CORPUS, 'captures/docker20-swarm-lab/swarmlab', file), 'utf8');
      assert.equal(byCmd.get(cmd), want.endsWith('\n') ? want : want + '\n', cmd);
    }
    const sysctl = host.find(([, cmd]) => cmd.startsWith('sysctl -a'));
    assert.ok(sysctl);
    assert.match(sysctl[2], /^net\.ipv4\.ip_forward = 1$/m);
    assert.doesNotMatch(sysctl[2], /kernel\.hostname/);
  });

  it('leaves a note for each tool that is missing or fails, and goes on', () => {
    const n = notes(bundle);
    const has = (re: RegExp): void => assert.ok(n.some((l) => re.test(l)), `no note matching ${re}\n${n.join('\n')}`);
    has(/^# meshtrace: ip6tables-save is not installed/);
    has(/^# meshtrace: `iptables-save -c` failed \(exit 4\)$/);
    has(/^# meshtrace: {3}iptables-save v1\.8\.9 \(nf_tables\): Could not fetch rule set generation id: Permission denied/);
    has(/^# meshtrace: cannot enter the namespace at .*\/gone \(gone\?\); nothing captured for it$/);
    if (!fs.existsSync('/proc/net/ip_vs')) has(/^# meshtrace: IPVS is not loaded in this kernel .* it would load the ip_vs module$/);
    // Once per node, not once per namespace.
    assert.equal(n.filter((l) => /ip6tables-save is not installed/.test(l)).length, 1);
    // iptables-nft's routine warning is not a note.
    assert.ok(!n.some((l) => /managed by iptables-nft/.test(l)));
    // blue's iptables-save failed and printed nothing: no empty section that would read as "no rules".
    assert.ok(!sections(bundle).some(([ns, cmd]) => ns === 'blue' && cmd === 'iptables-save -c'));
  });

  it('loads into the same model as the corpus folder, with no warnings', () => {
    const b = buildModel(parseBundle(bundle, 'vm.txt').value);
    const f = loadModel([path.join(CORPUS, 'captures/docker20-swarm-lab')]);
    assert.deepEqual(bad(b), []);
    for (const ns of ['host', ...SWARM_NAMESPACES]) {
      const x = b.namespaces.find((n) => n.name === ns);
      const y = f.namespaces.find((n) => n.name === ns);
      assert.ok(x && y, ns);
      assert.equal(x.role, y.role, ns);
      assert.deepEqual(x.docker, y.docker, ns);
      const ifs = (m: Model, id: string): string[] => m.interfaces.filter((i) => i.namespaceId === id).map((i) => `${i.name} ${i.addrs.map((a) => `${a.local}/${a.prefixLen}`).join(' ')} ${i.peerId?.split('/').slice(1).join('/') ?? ''} ${i.masterId?.split('/').slice(1).join('/') ?? ''}`);
      assert.deepEqual(ifs(b, x.id), ifs(f, y.id), ns);
      assert.deepEqual(x.routes.map((r) => `${r.type} ${r.dst}/${r.prefixLen} ${r.table} ${r.dev ?? ''}`), y.routes.map((r) => `${r.type} ${r.dst}/${r.prefixLen} ${r.table} ${r.dev ?? ''}`), ns);
      assert.deepEqual(x.rules.map((r) => `${r.priority} ${r.action} ${r.table}`), y.rules.map((r) => `${r.priority} ${r.action} ${r.table}`), ns);
      const rules = (n: typeof x): string[] => (n.iptables?.tables ?? []).flatMap((t) => t.chains.flatMap((c) => c.rules.map((r) => `${r.counters?.packets}:${r.counters?.bytes} ${r.text}`)));
      assert.deepEqual(rules(x), rules(y), ns);
      for (const [k, v] of Object.entries(x.sysctls)) assert.equal(v.value, y.sysctls[k]?.value, `${ns} ${k}`);
      assert.ok('net.ipv4.ip_forward' in x.sysctls, ns);
    }
    assert.equal(b.docker.networks.length, f.docker.networks.length);
    assert.equal(b.docker.containers.length, f.docker.containers.length);
    assert.equal(b.docker.services.length, f.docker.services.length);
    assert.deepEqual(b.links.length, f.links.length);
  });

  it('traces the lab probes to what the kernel did (captures/docker20-swarm-lab/README.md)', () => {
    const m = buildModel(parseBundle(bundle, 'vm.txt').value);
    const q = (dport: number): TraceQuery => ({ node: 'vm', namespace: 'host', iif: 'eth1', proto: 'tcp', src: '198.51.100.1', sport: 51060, dst: '198.51.100.10', dport });
    const seen = (dport: number): string => {
      const t = traceQuery(m, q(dport));
      assert.equal(t.outcomes.length, 1);
      const o = t.outcomes[0];
      return `${o.verdict} ${o.final.namespace} ${o.final.src} → ${o.final.dst}:${o.final.dport}`;
    };
    assert.equal(seen(9090), 'delivered 77636091f5f6 198.51.100.1 → 172.17.0.2:80');
    assert.equal(seen(8080), 'delivered host 198.51.100.1 → 198.51.100.10:8080');
    assert.equal(seen(8081), 'delivered e337dcbfa24a 198.51.100.1 → 172.19.0.2:80');
  });

  it('gives the same bundle under busybox sh with busybox tools', function () {
    requirePrograms(this, ['busybox']);
    const r = runProgram('busybox', ['sh', ...base(node)], { env: node.env({}, true) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(untimed(r.stdout), untimed(bundle));
  });

  it('gives the same bundle fed on stdin (`ssh NODE sudo sh -s`), where a tool reading stdin would eat the script', () => {
    const script = `set -- ${base(node).slice(1).map((a) => `'${a}'`).join(' ')}\n${fs.readFileSync(SCRIPT, 'utf8')}`;
    const r = runProgram('dash', ['-s'], { env: node.env(), input: script });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(untimed(r.stdout), untimed(bundle));
  });

  it('--ns selects namespaces by name or pattern, and says when a pattern matched nothing', () => {
    const r = runProgram('dash', [...base(node), '--ns', 'lb_*,blue', '--ns', 'nothing-*', '--no-docker'], { env: node.env() });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...new Set(sections(r.stdout).map(([ns]) => ns))], ['host', 'lb_3zz1huq8t', 'blue']);
    // `host` only holds notes here: the preamble, a missing tool, the unmatched pattern, --no-docker.
    assert.ok(sections(r.stdout).filter(([ns]) => ns === 'host').every(([, cmd]) => cmd === 'meshtrace-collect note'));
    const n = notes(r.stdout);
    assert.ok(n.includes('# meshtrace: --ns nothing-* matched no namespace on this node'), n.join('\n'));
    assert.ok(n.includes('# meshtrace: Docker was not asked (--no-docker): no Docker JSON in this capture'));
  });

  it('without a docker CLI, or when it does not answer, or on a worker, leaves notes instead of Docker JSON', () => {
    const docker = (r: { stdout: string }): string[] => sections(r.stdout).filter(([, cmd]) => cmd.startsWith('docker')).map(([, cmd]) => cmd);
    const none = runProgram('dash', [...base(node), '--ns', 'host', '--docker-cli', '/nonexistent/docker'], { env: node.env() });
    assert.equal(none.status, 0);
    assert.deepEqual(docker(none), []);
    assert.ok(notes(none.stdout).some((l) => /^# meshtrace: no docker CLI \(\/nonexistent\/docker\) on this node/.test(l)));

    const down = runProgram('dash', [...base(node), '--ns', 'host'], { env: node.env({ FAKE_DOCKER_DOWN: '1' }) });
    assert.deepEqual(docker(down), []);
    assert.ok(notes(down.stdout).includes('# meshtrace: the docker CLI did not answer (`docker version` exit 1): no Docker JSON in this capture'));
    assert.ok(notes(down.stdout).some((l) => l.includes('Cannot connect to the Docker daemon')));

    const worker = runProgram('dash', [...base(node), '--ns', 'host'], { env: node.env({ FAKE_WORKER: '1' }) });
    assert.deepEqual(docker(worker), ['docker network inspect -v $(docker network ls -q)', 'docker inspect $(docker ps -q)']);
    assert.ok(notes(worker.stdout).includes('# meshtrace: `docker service ls -q` failed (exit 1)'));
    assert.ok(notes(worker.stdout).includes("# meshtrace: `docker node ls --format '{{json .}}'` failed (exit 1)"));
    assert.deepEqual(bad(buildModel(parseBundle(worker.stdout, 'w.txt').value)), []);
  });

  it('-o writes the file atomically, readable by its owner only', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-collect-o-'));
    try {
      const out = path.join(dir, 'vm.txt');
      const r = runProgram('dash', [...base(node), '--ns', 'host', '-o', out], { env: node.env() });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`done: wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
      assert.deepEqual(fs.readdirSync(dir), ['vm.txt']);
      assert.equal(fs.statSync(out).mode & 0o777, 0o600);
      assert.match(fs.readFileSync(out, 'utf8'), /^### meshtrace node=vm ns=host cmd=meshtrace-collect note\n# meshtrace: bundle written by meshtrace-collect 1 at /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no temporary files behind', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-collect-tmp-'));
    try {
      const r = runProgram('dash', [...base(node), '--ns', 'blue', '--redact'], { env: node.env({ TMPDIR: tmp }) });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('notes when it does not run as root', function () {
    if (!which('id')) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-collect-id-'));
    try {
      fs.writeFileSync(path.join(dir, 'id'), '#!/bin/sh\necho 1000\n', { mode: 0o755 });
      const env = node.env();
      const r = runProgram('dash', [...base(node), '--ns', 'host', '--no-docker'], { env: { ...env, PATH: `${dir}:${env.PATH}` } });
      assert.ok(notes(r.stdout).includes('# meshtrace: not running as root: most commands below fail (run it with sudo)'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
