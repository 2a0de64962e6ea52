/**
 * unit: the collector's `--redact` (run as `--redact-only` on bundles made from the corpus lab
 * captures). The same address gets the same replacement in every dump and every node, addresses in
 * Docker's ranges stay, subnets stay subnets, every awk gives the same bytes, and the redacted
 * bundles load without a warning and trace the labs' probes to the kernel's verdicts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildModel } from '../../../src/core/model/buildModel';
import { parseBundle } from '../../../src/core/parsers/parseBundle';
import { traceQuery } from '../../../src/core/sim/simulate';
import { formatProblem } from '../../../src/core/problem';
import type { Model } from '../../../src/core/model/model';
import type { TraceQuery, Verdict } from '../../../src/core/sim/trace';
import { CORPUS } from '../helpers';
import { requirePrograms, runProgram, which } from './fakeNode';

const SCRIPT = path.resolve(__dirname, '../../../collector/meshtrace-collect.sh');
const KEY = '5eed0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';
const OTHER_KEY = 'f00d0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';

/** The header command of each file name the lab captures use (their capture-ns.sh). */
const CMD_OF: Record<string, string> = {
  'iptables-save.txt': 'iptables-save -c',
  'ip-addr.txt': 'ip -d addr',
  'ip-addr.json': 'ip -j -d addr',
  'ip-route.txt': 'ip route show table all',
  'ip-route.json': 'ip -j route show table all',
  'ip-rule.txt': 'ip rule',
  'ip-rule.json': 'ip -j rule',
  'bridge-fdb.txt': 'bridge fdb show',
  'bridge-fdb.json': 'bridge -j fdb show',
  'ip-neigh.txt': 'ip neigh',
  'ip-neigh.json': 'ip -j neigh',
  'sysctl.txt': "sysctl -a 2>/dev/null | grep -E 'ip_forward|rp_filter|route_localnet|bridge-nf-call|conf.all|vs.'",
  'nft.txt': 'nft list ruleset',
  'ipvsadm.txt': 'ipvsadm -Ln',
  'network-inspect.json': 'docker network inspect -v $(docker network ls -q)',
  'service-inspect.json': 'docker service inspect $(docker service ls -q)',
  'node-ls.json': "docker node ls --format '{{json .}}'",
  'containers-inspect.json': 'docker inspect $(docker ps -q)',
};
for (const t of ['filter', 'nat', 'mangle', 'raw', 'security']) {
  CMD_OF[`iptables-S-${t}.txt`] = `iptables -S -t ${t}`;
  CMD_OF[`iptables-L-${t}.txt`] = `iptables -L -n -v -x --line-numbers -t ${t}`;
}

/** A bundle of one node of a corpus lab capture folder (`<node>/<ns>/<file>`). */
function folderBundle(nodeDir: string, node: string, edit: (file: string, text: string) => string = (_f, t) => t): string {
  const out: string[] = [];
  const add = (ns: string, file: string): void => {
    const cmd = CMD_OF[path.basename(file)];
    if (!cmd) return;
    let text = edit(path.basename(file), fs.readFileSync(file, 'utf8'));
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    out.push(`### meshtrace node=${node} ns=${ns} cmd=${cmd}\n${text}`);
  };
  for (const e of fs.readdirSync(nodeDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) for (const f of fs.readdirSync(path.join(nodeDir, e.name)).sort()) add(e.name, path.join(nodeDir, e.name, f));
    else add('host', path.join(nodeDir, e.name));
  }
  return out.join('');
}

/** One replacement of the map file: kind, original, replacement. */
type MapRow = [string, string, string];

/** Runs `--redact-only` on a bundle; `awk` picks the awk program (a folder with only it goes first on PATH). */
function redact(bundle: string, key: string | undefined, awk?: string): { text: string; map: MapRow[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-redact-'));
  try {
    let env = process.env;
    if (awk) {
      const real = which(awk);
      assert.ok(real, awk);
      fs.mkdirSync(path.join(dir, 'bin'));
      fs.symlinkSync(real, path.join(dir, 'bin', 'awk'));
      env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}` };
    }
    const map = path.join(dir, 'map.txt');
    const args = [SCRIPT, '--redact-only', '--redact-map', map, '-q', ...(key ? ['--redact-key', key] : [])];
    const r = runProgram('dash', args, { input: bundle, env });
    assert.equal(r.status, 0, r.stderr);
    const rows = fs
      .readFileSync(map, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ') as MapRow);
    return { text: r.stdout, map: rows };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An IPv4 address token, with its `/len` when it has one (a network and an address are different units). */
const V4 = /(?<![0-9A-Za-z.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:\/\d{1,2})?)(?![0-9A-Za-z]|\.\d)/g;

function ip4(s: string): number {
  return s.split('/')[0].split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/** Docker's ranges and the special ones, which redaction keeps. */
function keptV4(s: string): boolean {
  const n = ip4(s);
  const inNet = (net: string, len: number): boolean => Math.floor(n / 2 ** (32 - len)) === Math.floor(ip4(net) / 2 ** (32 - len));
  return inNet('0.0.0.0', 8) || inNet('10.0.0.0', 8) || inNet('127.0.0.0', 8) || inNet('169.254.0.0', 16) || inNet('172.16.0.0', 12) || inNet('192.168.0.0', 16) || inNet('224.0.0.0', 3);
}

/** Common leading bits of two IPv4 addresses. */
function commonBits(a: string, b: string): number {
  const x = ip4(a);
  const y = ip4(b);
  for (let i = 31; i >= 0; i--) if (Math.floor(x / 2 ** i) !== Math.floor(y / 2 ** i)) return 31 - i;
  return 32;
}

/** Pairs the IPv4 tokens of two bundles line by line (the line structure is kept outside Env blocks). */
function pairedV4(a: string, b: string): [string, string][] {
  const la = a.split('\n');
  const lb = b.split('\n');
  assert.equal(la.length, lb.length, 'redaction keeps the lines');
  const out: [string, string][] = [];
  for (let i = 0; i < la.length; i++) {
    const x = [...la[i].matchAll(V4)].map((m) => m[1]);
    const y = [...lb[i].matchAll(V4)].map((m) => m[1]);
    assert.equal(x.length, y.length, `line ${i + 1}: ${la[i]} | ${lb[i]}`);
    x.forEach((v, j) => out.push([v, y[j]]));
  }
  return out;
}

/** The replacements of some addresses (one run with only them). */
function redactAddrs(addrs: string[], key: string): MapRow[] {
  return redact(`### meshtrace node=probes ns=host cmd=meshtrace-collect note\n# meshtrace: ${addrs.join(' ')}\n`, key).map;
}

function bad(m: Model): string[] {
  return m.problems.filter((p) => p.severity !== 'info').map(formatProblem);
}

const NETNS_LAB = folderBundle(path.join(CORPUS, 'captures/netns-lab/vm'), 'vm');
const SWARM_LAB = folderBundle(path.join(CORPUS, 'captures/docker20-swarm-lab/swarmlab'), 'vm', (f, t) =>
  f === 'containers-inspect.json'
    ? t.replace('            "Env": null,', '            "Env": [\n                "PATH=/usr/local/sbin:/usr/local/bin",\n                "DB_PASSWORD=hunter2"\n            ],')
    : t,
);

describe('unit: collector --redact', function () {
  let lab: { text: string; map: MapRow[] };
  let swarm: { text: string; map: MapRow[] };
  const mapOf = (rows: MapRow[], kind: string): Map<string, string> => new Map(rows.filter((r) => r[0] === kind).map((r) => [r[1], r[2]]));

  before(function () {
    requirePrograms(this, ['dash']);
    lab = redact(NETNS_LAB, KEY);
    swarm = redact(SWARM_LAB, KEY);
  });

  it('gives the same bytes with every awk (mawk, gawk, busybox, one-true-awk)', function () {
    const awks = ['mawk', 'gawk', 'original-awk', 'busybox'].filter((a) => which(a));
    if (awks.length < 2) requirePrograms(this, ['mawk', 'busybox']);
    const want = redact(NETNS_LAB + SWARM_LAB, KEY).text;
    for (const a of awks) {
      assert.equal(redact(NETNS_LAB + SWARM_LAB, KEY, a).text, want, a);
    }
  });

  it('replaces every address outside the kept ranges, and keeps the others', () => {
    for (const [orig, red] of [...pairedV4(NETNS_LAB, lab.text), ...pairedV4(SWARM_LAB.replace(/"Env": \[\n[^\]]*\]/, '"Env": []'), swarm.text)]) {
      if (keptV4(orig)) assert.equal(red, orig, `${orig} is in a kept range`);
      else {
        assert.notEqual(red, orig, `${orig} must be replaced`);
        assert.ok(!keptV4(red), `${orig} → ${red} lands in a kept range`);
      }
    }
    const originals = new Set([...NETNS_LAB.matchAll(V4), ...SWARM_LAB.matchAll(V4)].map((m) => m[1]).filter((a) => !keptV4(a)));
    assert.ok(originals.size > 10, `only ${originals.size} addresses to replace`);
    const left = new Set([...lab.text.matchAll(V4), ...swarm.text.matchAll(V4)].map((m) => m[1]));
    for (const a of originals) assert.ok(!left.has(a) || mapOf([...lab.map, ...swarm.map], 'ipv4').get(a) === a, `${a} is still in the redacted bundle`);
  });

  it('gives an address the same replacement in every dump, one replacement per address', () => {
    const seen = new Map<string, string>();
    const back = new Map<string, string>();
    for (const [orig, red] of [...pairedV4(NETNS_LAB, lab.text), ...pairedV4(SWARM_LAB.replace(/"Env": \[\n[^\]]*\]/, '"Env": []'), swarm.text)]) {
      assert.equal(seen.get(orig) ?? red, red, `${orig} became both ${seen.get(orig)} and ${red}`);
      assert.equal(back.get(red) ?? orig, orig, `${red} stands for both ${back.get(red)} and ${orig}`);
      seen.set(orig, red);
      back.set(red, orig);
    }
    // The map file says the same.
    for (const [a, b] of mapOf([...lab.map, ...swarm.map], 'ipv4')) assert.equal(seen.get(a), b, a);
  });

  it('keeps subnets: two addresses share as many leading bits after as before, and networks keep zero host bits', () => {
    const m = mapOf(lab.map, 'ipv4');
    const plain = [...m].filter(([a]) => !a.includes('/'));
    for (const [a, ra] of plain) for (const [b, rb] of plain) assert.equal(commonBits(ra, rb), commonBits(a, b), `${a} ${b} → ${ra} ${rb}`);
    const nets = [...m].filter(([a]) => a.includes('/'));
    assert.ok(nets.length > 3);
    for (const [a, r] of nets) {
      const [addr, len] = a.split('/');
      const [raddr, rlen] = r.split('/');
      assert.equal(rlen, len);
      const hostBits = (s: string): number => ip4(s) % 2 ** (32 - Number(len));
      if (hostBits(addr) === 0) assert.equal(hostBits(raddr), 0, `${a} → ${r}`);
      else assert.equal(raddr, m.get(addr), `${a}: the address part is the address's replacement`);
    }
  });

  it('replaces host names in headers and in docker node ls, and MAC addresses (but not multicast or zero ones)', () => {
    const hosts = mapOf(swarm.map, 'host');
    const vm = hosts.get('vm');
    assert.match(vm ?? '', /^node-[0-9a-f]{10}$/);
    assert.ok(!/ node=vm /.test(swarm.text));
    assert.ok(swarm.text.includes(`"Hostname":"${vm}"`));
    // "vm" is too short to replace as a word in free text: only headers and quoted values.
    assert.ok(swarm.text.includes('"Driver": "overlay"'));
    const macs = mapOf([...lab.map, ...swarm.map], 'mac');
    assert.ok(macs.size > 5);
    for (const [a, b] of macs) {
      assert.equal(a.slice(0, 2), b.slice(0, 2), 'the first octet stays');
      assert.ok(!lab.text.includes(a) && !swarm.text.includes(a), `${a} is still there`);
    }
    assert.ok(lab.text.includes('00:00:00:00:00:00 dev vxlan0'));
    assert.ok(lab.text.includes('brd ff:ff:ff:ff:ff:ff'));
    assert.match(lab.text, /^33:33:00:00:00:01 dev /m);
    // Docker's MACs spell their IPv4 address: 02:42:ac:11:00:02 is 172.17.0.2, which stays.
    assert.ok(swarm.text.includes('02:42:ac:11:00:02'));
  });

  it('drops the Env of containers, keeping the JSON valid', () => {
    assert.ok(!swarm.text.includes('hunter2'));
    const sec = parseBundle(swarm.text, 'b.txt').value.find((f) => f.cmd?.startsWith('docker inspect'));
    assert.ok(sec);
    const parsed = JSON.parse(sec.text) as { Config: { Env: unknown } }[];
    assert.deepEqual(parsed[0].Config.Env, []);
    assert.equal(parsed[1].Config.Env, null);
  });

  it('loads without warnings (the iptables views still agree) and the model keeps its shape', () => {
    for (const [orig, red] of [
      [NETNS_LAB, lab.text],
      [SWARM_LAB, swarm.text],
    ]) {
      const a = buildModel(parseBundle(orig, 'a.txt').value);
      const b = buildModel(parseBundle(red, 'b.txt').value);
      assert.deepEqual(bad(b), []);
      assert.equal(b.namespaces.length, a.namespaces.length);
      assert.equal(b.interfaces.length, a.interfaces.length);
      assert.equal(b.links.length, a.links.length);
      assert.equal(b.namespaces.flatMap((n) => n.routes).length, a.namespaces.flatMap((n) => n.routes).length);
    }
  });

  it('traces the labs’ probes to the same verdicts (captures/*/README.md ground truth)', () => {
    const check = (orig: string, red: { text: string; map: MapRow[] }, node: string, cases: [TraceQuery, Verdict, string][]): void => {
      // Probe addresses need not be in the capture (203.0.113.200 is only inside a prohibit
      // route): a run on them alone with the same key gives their replacements.
      const m4 = mapOf(redactAddrs(cases.flatMap(([q]) => [q.src, q.dst]), KEY), 'ipv4');
      const mh = mapOf(red.map, 'host');
      const a = buildModel(parseBundle(orig, 'a.txt').value);
      const b = buildModel(parseBundle(red.text, 'b.txt').value);
      const r = (s: string): string => m4.get(s) ?? s;
      for (const [q, verdict, ns] of cases) {
        const ta = traceQuery(a, { ...q, node });
        const tb = traceQuery(b, { ...q, node: mh.get(node) ?? node, src: r(q.src), dst: r(q.dst) });
        assert.equal(ta.outcomes.length, 1, `${q.dst}:${q.dport}`);
        assert.equal(tb.outcomes.length, 1, `${q.dst}:${q.dport} redacted`);
        const [oa, ob] = [ta.outcomes[0], tb.outcomes[0]];
        assert.equal(oa.verdict, verdict, `${q.dst}:${q.dport}: ${oa.reason}`);
        assert.equal(ob.verdict, verdict, `${q.dst}:${q.dport} redacted: ${ob.reason}`);
        assert.equal(oa.final.namespace, ns);
        assert.equal(ob.final.namespace, ns);
        assert.equal(ob.final.src, r(oa.final.src));
        assert.equal(ob.final.dst, r(oa.final.dst));
        assert.equal(ob.final.dport, oa.final.dport);
        // The same dump lines decide (their addresses redacted; Env lines removed shift numbers).
        assert.deepEqual(ob.steps.map((s) => s.rule?.text.replace(/[0-9a-f.:]+/g, '#')), oa.steps.map((s) => s.rule?.text.replace(/[0-9a-f.:]+/g, '#')));
        assert.deepEqual(ob.steps.map((s) => `${s.kind} ${s.namespace}`), oa.steps.map((s) => `${s.kind} ${s.namespace}`));
      }
    };
    const client = (dst: string, proto: 'tcp' | 'icmp', dport?: number): TraceQuery => ({ node: 'vm', namespace: 'client', proto, src: '192.0.2.10', sport: 40004, dst, dport });
    check(NETNS_LAB, lab, 'vm', [
      [client('192.0.2.20', 'tcp', 80), 'delivered', 'server'],
      [client('192.0.2.20', 'tcp', 22), 'rejected', 'router'],
      [client('203.0.113.100', 'tcp', 80), 'delivered', 'server'],
      [client('203.0.113.2', 'tcp', 25), 'rejected', 'router'],
      [{ node: 'vm', namespace: 'server', proto: 'tcp', src: '203.0.113.2', sport: 43726, dst: '203.0.113.1', dport: 8080 }, 'delivered', 'client'],
      [{ node: 'vm', namespace: 'server', proto: 'tcp', src: '203.0.113.2', dst: '203.0.113.1', dport: 9999 }, 'rejected', 'router'],
      [{ node: 'vm', namespace: 'router', proto: 'icmp', src: '198.51.100.1', dst: '198.51.100.2' }, 'delivered', 'server'],
      [client('203.0.113.2', 'icmp'), 'delivered', 'server'],
      [client('203.0.113.200', 'icmp'), 'rejected', 'router'],
    ]);
    const outside = (dport: number): TraceQuery => ({ node: 'vm', namespace: 'host', iif: 'eth1', proto: 'tcp', src: '198.51.100.1', sport: 51060, dst: '198.51.100.10', dport });
    check(SWARM_LAB, swarm, 'vm', [
      [outside(9090), 'delivered', '77636091f5f6'],
      [outside(8080), 'delivered', 'host'],
      [outside(8081), 'delivered', 'e337dcbfa24a'],
    ]);
  });

  it('gives the same replacements on every node with the same key, and others with another key', () => {
    // Two "nodes" (each lab namespace as if it were one machine), redacted in separate runs.
    const secs = NETNS_LAB.split(/(?=^### meshtrace )/m);
    const router = redact(secs.filter((s) => / ns=router /.test(s)).join('').replace(/node=vm /g, 'node=r1 '), KEY);
    const server = redact(secs.filter((s) => / ns=server /.test(s)).join('').replace(/node=vm /g, 'node=s1 '), KEY);
    const a = mapOf(router.map, 'ipv4');
    const b = mapOf(server.map, 'ipv4');
    const shared = [...a.keys()].filter((k) => b.has(k));
    assert.ok(shared.length >= 3, shared.join(' '));
    for (const k of shared) assert.equal(a.get(k), b.get(k), k);
    const other = mapOf(redact(NETNS_LAB, OTHER_KEY).map, 'ipv4');
    const all = mapOf(lab.map, 'ipv4');
    assert.ok([...all].filter(([k, v]) => other.get(k) !== v).length > all.size / 2);
  });

  it('without a key, makes a new one each run', () => {
    const x = redact(NETNS_LAB, undefined).map;
    const y = redact(NETNS_LAB, undefined).map;
    assert.notDeepEqual(x, y);
  });

  it('handles the address forms of the tools', () => {
    const input = [
      '### meshtrace node=swarm-worker-1 ns=host cmd=ip -d addr',
      '    inet6 2001:db8:0:1::5/64 scope global',
      '    inet6 fe80::1c2b:3aff:fe4d:5e6f/64 scope link',
      '    inet6 fd00:dead::2/64 scope global',
      '    inet6 ::1/128 scope host',
      '2001:db8:0:1::/64 dev eth0 proto kernel metric 256 pref medium',
      'multicast ff00::/8 dev eth0 table local proto kernel metric 256 pref medium',
      '  TCP  [2001:db8:0:1::5]:80 rr',
      '  ::ffff:198.51.100.7 and 198.51.100.7',
      '[12:3456] -A INPUT -s 203.0.113.0/24 -d 203.0.113.9/32 -j DNAT --to-destination 198.51.100.7:8080',
      '-A POSTROUTING -j SNAT --to-source 203.0.113.1-203.0.113.1',
      '"Created": "2026-11-26T19:49:45.123456789Z", v1.8.9.1 and 1.2.3.4.5',
      'link/ether 02:42:c6:33:64:07 brd ff:ff:ff:ff:ff:ff; 02:42:0a:00:00:03; 01:00:5e:00:00:01; AA:BB:CC:DD:EE:FF',
      'swarm-worker-1.example.com is not swarm-worker-1, but swarm-worker-1 is; xswarm-worker-1 is not',
      '',
    ].join('\n');
    const { text, map } = redact(input, KEY);
    const lines = text.split('\n');
    const v6 = mapOf(map, 'ipv6');
    const v4 = mapOf(map, 'ipv4');
    const host = mapOf(map, 'host').get('swarm-worker-1') ?? '';
    assert.equal(lines[0], `### meshtrace node=${host} ns=host cmd=ip -d addr`);
    const g = v6.get('2001:db8:0:1::5/64') ?? '';
    assert.match(lines[1], /^ {4}inet6 [0-9a-f:]+\/64 scope global$/);
    assert.notEqual(g, '2001:db8:0:1::5/64');
    assert.ok(lines[1].includes(g));
    assert.match(lines[2], /^ {4}inet6 fe80::[0-9a-f:]+\/64 scope link$/);
    assert.notEqual(lines[2], '    inet6 fe80::1c2b:3aff:fe4d:5e6f/64 scope link');
    assert.equal(lines[3], '    inet6 fd00:dead::2/64 scope global');
    assert.equal(lines[4], '    inet6 ::1/128 scope host');
    // The /64 network is the /64 of the address's replacement, with zero host bits.
    const net = /^([0-9a-f:]+)\/64 dev eth0/.exec(lines[5])?.[1] ?? '';
    const addr = g.split('/')[0];
    assert.ok(net.endsWith('::'), lines[5]);
    const groups = (s: string): string[] => {
      const [l, r] = s.split('::');
      const L = l ? l.split(':') : [];
      const R = r ? r.split(':') : [];
      return [...L, ...Array(8 - L.length - R.length).fill('0'), ...R].map((x) => x.padStart(4, '0'));
    };
    assert.deepEqual(groups(addr).slice(0, 4), groups(net).slice(0, 4));
    assert.equal(lines[6], 'multicast ff00::/8 dev eth0 table local proto kernel metric 256 pref medium');
    assert.equal(lines[7], `  TCP  [${addr}]:80 rr`);
    const r7 = v4.get('198.51.100.7') ?? '';
    assert.equal(lines[8], `  ::ffff:${r7} and ${r7}`);
    assert.equal(lines[9], `[12:3456] -A INPUT -s ${v4.get('203.0.113.0/24')} -d ${v4.get('203.0.113.9/32')} -j DNAT --to-destination ${r7}:8080`);
    assert.equal(lines[10], `-A POSTROUTING -j SNAT --to-source ${v4.get('203.0.113.1')}-${v4.get('203.0.113.1')}`);
    assert.equal(lines[11], '"Created": "2026-11-26T19:49:45.123456789Z", v1.8.9.1 and 1.2.3.4.5');
    const r = r7.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':');
    assert.equal(lines[12].split(';')[0], `link/ether 02:42:${r} brd ff:ff:ff:ff:ff:ff`, 'a Docker MAC follows its IPv4 address');
    assert.ok(lines[12].includes(' 02:42:0a:00:00:03;') && lines[12].includes(' 01:00:5e:00:00:01;'));
    assert.ok(!lines[12].includes('AA:BB:CC:DD:EE:FF') && /; aa:[0-9a-f:]{14}$/.test(lines[12]), lines[12]);
    assert.equal(lines[13], `swarm-worker-1.example.com is not ${host}, but ${host} is; xswarm-worker-1 is not`);
  });
});
