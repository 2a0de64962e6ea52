/**
 * Kernel tier: the collector against a real lab (root only). Three namespaces made by this test
 * (`mt-<id>-cl`, `mt-<id>-rt`, and `mt-<id>-sv`, which is also bound into a fake Docker netns
 * folder under a sandbox id) joined by veth pairs, a bridge and a VXLAN, with policy routes,
 * blackhole/prohibit/unreachable routes and iptables rules whose counters real probes have moved.
 * The collector runs over them; the bundle must hold every namespace, interface, address, route,
 * rule and counter the kernel has, trace every probe to what the kernel did, leave the namespaces
 * exactly as they were, and redact consistently. Only TEST-NET addresses, only in these namespaces.
 * MT_DEBUG=1 prints the kernel's answers and what kept the lab from settling.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../src/node/loadCapture';
import { buildModel } from '../../src/core/model/buildModel';
import { parseBundle } from '../../src/core/parsers/parseBundle';
import { traceQuery } from '../../src/core/sim/simulate';
import { formatProblem } from '../../src/core/problem';
import type { Model } from '../../src/core/model/model';
import type { TraceQuery, Verdict } from '../../src/core/sim/trace';
import { hasCommand, Lab, requireLab, run, waitFor } from './lab';

const SCRIPT = path.resolve(__dirname, '../../collector/meshtrace-collect.sh');
const KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/** Accepts TCP on the given ports (all addresses) and prints one JSON line per connection. */
const LISTENER = `
const net = require('net');
const ports = process.argv.slice(1).map(Number);
let up = 0;
for (const p of ports) {
  const s = net.createServer((c) => {
    console.log(JSON.stringify({ local: c.localAddress, lport: c.localPort, peer: c.remoteAddress, pport: c.remotePort }));
    c.end();
  });
  s.listen(p, '0.0.0.0', () => { if (++up === ports.length) console.log('ready'); });
}`;

/** Connects once from src:sport and prints what happened. */
const PROBE = `
const net = require('net');
const [host, port, localAddress, localPort, ms] = process.argv.slice(1);
const t = setTimeout(() => { console.log(JSON.stringify({ r: 'timeout' })); process.exit(0); }, Number(ms));
const s = net.connect({ host, port: Number(port), localAddress, localPort: Number(localPort) });
s.on('connect', () => { clearTimeout(t); console.log(JSON.stringify({ r: 'connected' })); s.destroy(); });
s.on('error', (e) => { clearTimeout(t); console.log(JSON.stringify({ r: 'error', code: e.code })); });`;

/** What a connecting socket saw, as a verdict (kernel-lab.md: refused vs silence). */
function kernelVerdict(r: { r: string; code?: string }): Verdict {
  if (r.r === 'connected') return 'delivered';
  if (r.r === 'timeout') return 'dropped';
  if (r.code === 'ECONNREFUSED' || r.code === 'EHOSTUNREACH' || r.code === 'ENETUNREACH' || r.code === 'EACCES' || r.code === 'EPERM') return 'rejected';
  return 'no-route';
}

interface Probe {
  name: string;
  from: 'cl' | 'sv';
  src: string;
  dst: string;
  dport: number;
}

interface Seen {
  verdict: Verdict;
  /** Lab suffix of the namespace whose listener got it. */
  ns?: 'cl' | 'sv';
  /** `src → dst:dport` as the receiving socket saw it. */
  seen?: string;
}

const PROBES: Probe[] = [
  { name: 'bridged across br0', from: 'cl', src: '192.0.2.10', dst: '192.0.2.20', dport: 80 },
  { name: 'bridged, server REJECT tcp-reset', from: 'cl', src: '192.0.2.10', dst: '192.0.2.20', dport: 22 },
  { name: 'MARK 0x1 → table 100 → vxlan0, SNAT', from: 'cl', src: '192.0.2.10', dst: '203.0.113.100', dport: 80 },
  { name: 'marked into table 100’s unreachable route', from: 'cl', src: '192.0.2.10', dst: '203.0.113.97', dport: 80 },
  { name: 'policy rule from/to → table 100 → vxlan0', from: 'cl', src: '192.0.2.10', dst: '198.51.100.2', dport: 80 },
  { name: 'over vxlan0, server REDIRECT 8000 → 80', from: 'cl', src: '192.0.2.10', dst: '198.51.100.2', dport: 8000 },
  { name: 'FORWARD REJECT icmp-port-unreachable', from: 'cl', src: '192.0.2.10', dst: '203.0.113.2', dport: 25 },
  { name: 'FORWARD DROP', from: 'cl', src: '192.0.2.10', dst: '203.0.113.2', dport: 23 },
  { name: 'main table → wan0, MASQUERADE', from: 'cl', src: '192.0.2.10', dst: '203.0.113.2', dport: 81 },
  { name: 'blackhole route', from: 'cl', src: '192.0.2.10', dst: '203.0.113.150', dport: 81 },
  { name: 'prohibit route', from: 'cl', src: '192.0.2.10', dst: '203.0.113.200', dport: 81 },
  { name: 'DNAT 8080 → 192.0.2.10:80', from: 'sv', src: '203.0.113.2', dst: '203.0.113.1', dport: 8080 },
  { name: 'router INPUT REJECT icmp-host-prohibited', from: 'sv', src: '203.0.113.2', dst: '203.0.113.1', dport: 9999 },
];

const RT_RULES = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i wan0 -p udp -m udp --dport 4789 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff
-A PREROUTING -i br0 ! -d 192.0.2.0/24 -p tcp -m multiport --dports 80,443 -m mark --mark 0x0/0xff -j MARK --set-xmark 0x1/0xff
-A PREROUTING -m mark --mark 0x1/0xff -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff
-A FORWARD -o vxlan0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i wan0 -p tcp -m tcp --dport 8080 -m comment --comment "port forward 8080 to client web" -j DNAT --to-destination 192.0.2.10:80
-A POSTROUTING -s 192.0.2.0/24 -o wan0 -j MASQUERADE
-A POSTROUTING -s 192.0.2.0/24 -o vxlan0 -j SNAT --to-source 198.51.100.1
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LAN-CHECK - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -s 203.0.113.2/32 -i wan0 -p udp -m udp --dport 4789 -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i br0 -j LAN-CHECK
-A FORWARD -i br0 -o br0 -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 25 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -p tcp -m tcp --dport 23 -j DROP
-A FORWARD -i br0 -o wan0 -j ACCEPT
-A FORWARD -i br0 -o vxlan0 -j ACCEPT
-A FORWARD -d 192.0.2.10/32 -i wan0 -o br0 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT
-A LAN-CHECK -m conntrack --ctstate INVALID -j DROP
-A LAN-CHECK -s 192.0.2.0/24 -j RETURN
-A LAN-CHECK -j REJECT --reject-with icmp-admin-prohibited
COMMIT
`;

const SV_RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i vxlan0 -p tcp -m tcp --dport 8000 -j REDIRECT --to-ports 80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset
COMMIT
`;

/** A dump without its clocks: `ip -d` prints a bridge's running timers (`gc_timer  292.40`). */
function untimed(s: string): string {
  return s.replace(/(_timer"?:?)\s*[\d.]+/g, '$1 <t>');
}

function bad(m: Model): string[] {
  return m.problems.filter((p) => p.severity !== 'info').map(formatProblem);
}

/** Parses `ip -j` output. */
function json<T>(s: string): T {
  return JSON.parse(s) as T;
}

describe('kernel: collector', function () {
  const lab = new Lab();
  const NODE = `lab-${lab.id}`;
  /** dockerd names a sandbox's netns by a 12-hex id; sv is bound under one in a fake Docker folder. */
  const SBX = `${lab.id}5b0c`;
  let ns: Record<'cl' | 'rt' | 'sv', string>;
  let tmp: string;
  let dockerDir: string;
  const listeners: ChildProcess[] = [];
  const records: { ns: 'cl' | 'sv'; local: string; lport: number; peer: string; pport: number }[] = [];
  const kernel = new Map<string, Seen>();
  let before0: Record<string, string>;
  let after0: Record<string, string>;
  let plain: string;
  let redacted: string;
  let redactMap: string[][];
  let otherNode: string[][];
  let busyboxBundle: string | undefined;
  let noDocker: string;
  const nsNameOf = (k: 'cl' | 'rt' | 'sv'): string => (k === 'sv' ? SBX : ns[k]);

  /** Runs the collector as `sh SCRIPT args` (or another shell); returns stdout. */
  const collect = async (args: string[], shell: string[] = ['/bin/sh']): Promise<string> => {
    const r = await run(shell[0], [...shell.slice(1), SCRIPT, '-q', '--node', NODE, '--docker-netns-dir', dockerDir, ...args], { timeoutMs: 120_000 });
    return r.stdout;
  };

  /** What must not change: the rules with counters, routes, addresses, policy rules, FDB, nft. */
  const snapshot = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    const cmds: [string, string[]][] = [
      ['iptables-save', ['-c']],
      ['ip', ['addr']],
      ['ip', ['-d', 'addr']],
      ['ip', ['route', 'show', 'table', 'all']],
      ['ip', ['-6', 'route', 'show', 'table', 'all']],
      ['ip', ['rule']],
      ['bridge', ['fdb', 'show']],
    ];
    if (hasCommand('ip6tables-save')) cmds.push(['ip6tables-save', ['-c']]);
    if (hasCommand('nft')) cmds.push(['nft', ['list', 'ruleset']]);
    for (const k of ['cl', 'rt', 'sv'] as const) {
      for (const [cmd, args] of cmds) {
        const text = (await lab.exec(ns[k], cmd, args)).stdout;
        out[`${k}: ${cmd} ${args.join(' ')}`] = untimed(text.replace(/^# (Generated by|Completed on) .*\n/gm, ''));
      }
    }
    return out;
  };

  before(async function () {
    this.timeout(300_000);
    requireLab(this, ['iptables', 'iptables-save', 'iptables-restore', 'nsenter', 'bridge', 'sysctl']);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-collector-'));
    dockerDir = path.join(tmp, 'docker-netns');
    fs.mkdirSync(dockerDir);
    ns = { cl: await lab.addNamespace('cl'), rt: await lab.addNamespace('rt'), sv: await lab.addNamespace('sv') };
    const { cl, rt, sv } = ns;
    // No IPv6: its router solicitations go on for an hour (sent through the VXLAN, they would move
    // rt's IPv4 counters while the collector runs); this lab is about IPv4.
    if (fs.existsSync('/proc/sys/net/ipv6')) {
      for (const n of [cl, rt, sv]) await lab.exec(n, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    const ip = (n: string, ...a: string[]): Promise<string> => lab.ip(n, ...a);

    // Links: br0 with two veth legs (to cl and sv), a veth wan0 (rt) – eth0 (sv), VXLAN over it.
    await ip(rt, 'link', 'add', 'br0', 'type', 'bridge');
    await run('ip', ['link', 'add', 'leg1', 'netns', rt, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cl]);
    await run('ip', ['link', 'add', 'leg2', 'netns', rt, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', sv]);
    await run('ip', ['link', 'add', 'wan0', 'netns', rt, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', sv]);
    await ip(rt, 'link', 'set', 'leg1', 'master', 'br0');
    await ip(rt, 'link', 'set', 'leg2', 'master', 'br0');
    for (const l of ['br0', 'leg1', 'leg2', 'wan0']) await ip(rt, 'link', 'set', l, 'up');
    await ip(cl, 'link', 'set', 'eth0', 'up');
    await ip(sv, 'link', 'set', 'eth0', 'up');
    await ip(sv, 'link', 'set', 'eth1', 'up');
    await ip(rt, 'addr', 'add', '192.0.2.1/24', 'dev', 'br0');
    await ip(rt, 'addr', 'add', '203.0.113.1/24', 'dev', 'wan0');
    await ip(cl, 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0');
    await ip(cl, 'route', 'add', 'default', 'via', '192.0.2.1');
    await ip(sv, 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0');
    await ip(sv, 'addr', 'add', '192.0.2.20/24', 'dev', 'eth1');
    await ip(sv, 'addr', 'add', '203.0.113.100/32', 'dev', 'lo');
    await ip(rt, 'link', 'add', 'vxlan0', 'address', '02:00:00:00:42:01', 'type', 'vxlan', 'id', '42', 'local', '203.0.113.1', 'dstport', '4789', 'dev', 'wan0', 'nolearning');
    await ip(sv, 'link', 'add', 'vxlan0', 'address', '02:00:00:00:42:02', 'type', 'vxlan', 'id', '42', 'local', '203.0.113.2', 'dstport', '4789', 'dev', 'eth0', 'nolearning');
    await lab.exec(rt, 'bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan0', 'dst', '203.0.113.2']);
    await lab.exec(sv, 'bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan0', 'dst', '203.0.113.1']);
    await ip(rt, 'addr', 'add', '198.51.100.1/24', 'dev', 'vxlan0');
    await ip(sv, 'addr', 'add', '198.51.100.2/24', 'dev', 'vxlan0');
    await ip(rt, 'link', 'set', 'vxlan0', 'up');
    await ip(sv, 'link', 'set', 'vxlan0', 'up');
    await ip(rt, 'neigh', 'add', '198.51.100.2', 'lladdr', '02:00:00:00:42:02', 'dev', 'vxlan0', 'nud', 'permanent');
    await ip(sv, 'neigh', 'add', '198.51.100.1', 'lladdr', '02:00:00:00:42:01', 'dev', 'vxlan0', 'nud', 'permanent');

    // Forwarding, policy routing and route types.
    const sysctls = ['net.ipv4.ip_forward=1'];
    if (fs.existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) sysctls.push('net.bridge.bridge-nf-call-iptables=1');
    await lab.exec(rt, 'sysctl', ['-q', '-w', ...sysctls]);
    await ip(rt, 'rule', 'add', 'fwmark', '0x1/0xff', 'table', '100', 'pref', '1000');
    await ip(rt, 'rule', 'add', 'from', '192.0.2.10', 'to', '198.51.100.0/24', 'table', '100', 'pref', '1010');
    await ip(rt, 'route', 'add', 'default', 'via', '198.51.100.2', 'dev', 'vxlan0', 'table', '100');
    await ip(rt, 'route', 'add', '192.0.2.0/24', 'dev', 'br0', 'table', '100', 'src', '192.0.2.1');
    await ip(rt, 'route', 'add', '203.0.113.2/32', 'dev', 'wan0', 'table', '100');
    await ip(rt, 'route', 'add', 'unreachable', '203.0.113.96/30', 'table', '100');
    await ip(rt, 'route', 'add', 'blackhole', '203.0.113.128/26');
    await ip(rt, 'route', 'add', 'prohibit', '203.0.113.192/26');
    await lab.iptablesRestore(rt, RT_RULES);
    await lab.iptablesRestore(sv, SV_RULES);

    // sv is also a "Docker sandbox": bound under a sandbox id where dockerd keeps them.
    const bound = ['/run/netns', '/var/run/netns'].map((d) => path.join(d, sv)).find((p) => fs.existsSync(p));
    assert.ok(bound, `no netns file for ${sv}`);
    fs.symlinkSync(bound, path.join(dockerDir, SBX));

    // Listeners, then the probes: their results are the kernel's answer, their packets the counters.
    const listen = (k: 'cl' | 'sv', ports: number[]): Promise<void> =>
      new Promise((resolve, reject) => {
        const child = spawn('ip', ['netns', 'exec', ns[k], process.execPath, '-e', LISTENER, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
        listeners.push(child);
        let buf = '';
        child.stdout?.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line === 'ready') resolve();
            else if (line.startsWith('{')) records.push({ ns: k, ...json<{ local: string; lport: number; peer: string; pport: number }>(line) });
          }
        });
        child.on('exit', (c) => reject(new Error(`listener in ${ns[k]} exited (${c})`)));
      });
    await listen('sv', [80, 81]);
    await listen('cl', [80]);
    let sport = 41000;
    for (const p of PROBES) {
      const n = records.length;
      const out = (await lab.exec(ns[p.from], process.execPath, ['-e', PROBE, p.dst, String(p.dport), p.src, String(++sport), '1500'], { timeoutMs: 10_000 })).stdout;
      const r = json<{ r: string; code?: string }>(out.trim().split('\n').pop() ?? '{}');
      const seen: Seen = { verdict: kernelVerdict(r) };
      if (seen.verdict === 'delivered') {
        await waitFor(`the listener record of ${p.name}`, async () => records.length > n, 5000);
        const rec = records[n];
        seen.ns = rec.ns;
        seen.seen = `${rec.peer} → ${rec.local}:${rec.lport}`;
      }
      kernel.set(p.name, seen);
    }

    // The node settles (no more counters moving), then: snapshot, every collector run, snapshot.
    let last = await snapshot();
    await waitFor('the lab to settle', async () => {
      const now = await snapshot();
      const same = JSON.stringify(now) === JSON.stringify(last);
      if (!same && process.env.MT_DEBUG) for (const k of Object.keys(now)) if (now[k] !== last[k]) console.log('CHANGED', k, '\n', last[k], '\n---\n', now[k]);
      last = now;
      return same;
    }, 60_000, 1000);
    before0 = last;
    const filter = ['--ns', `mt-${lab.id}-*,${SBX}`];
    plain = await collect(filter);
    const mapFile = path.join(tmp, 'map.txt');
    redacted = await collect([...filter, '--redact-key', KEY, '--redact-map', mapFile]);
    redactMap = fs.readFileSync(mapFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
    const otherMap = path.join(tmp, 'other.txt');
    await run('/bin/sh', [SCRIPT, '-q', '--node', `other-${lab.id}`, '--docker-netns-dir', dockerDir, '--ns', ns.rt, '--redact-key', KEY, '--redact-map', otherMap, '--no-docker']);
    otherNode = fs.readFileSync(otherMap, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
    if (hasCommand('busybox')) busyboxBundle = await collect(filter, ['busybox', 'sh']);
    else if (process.env.CI === 'true') throw new Error('kernel tier cannot run in CI: needs busybox (apt-get install -y busybox)');
    noDocker = await collect(['--ns', ns.cl, '--docker-cli', '/nonexistent/docker']);
    after0 = await snapshot();
  });

  after(async function () {
    this.timeout(60_000);
    for (const l of listeners) l.kill('SIGTERM');
    await lab.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('leaves every lab namespace as it was (iptables-save -c, ip route, ip addr, ip rule, fdb)', () => {
    assert.deepEqual(Object.keys(after0), Object.keys(before0));
    for (const k of Object.keys(before0)) assert.equal(after0[k], before0[k], k);
    assert.match(before0['rt: iptables-save -c'], /^\[[1-9]\d*:\d+\] -A FORWARD /m, 'the probes moved counters');
  });

  it('the kernel did what the lab is built for', () => {
    const got = PROBES.map((p) => `${p.name}: ${kernel.get(p.name)?.verdict}`);
    if (process.env.MT_DEBUG) console.log(PROBES.map((p) => `${p.name}: ${JSON.stringify(kernel.get(p.name))}`).join('\n'));
    assert.ok(got.filter((g) => g.endsWith('delivered')).length >= 5, got.join('\n'));
    assert.ok(got.some((g) => g.endsWith('dropped')) && got.some((g) => g.endsWith('rejected')), got.join('\n'));
  });

  it('captures each lab namespace once, sv under its Docker sandbox id', () => {
    const names = [...new Set(parseBundle(plain, 'b.txt').value.map((f) => f.namespace))];
    assert.deepEqual(names.sort(), [ns.cl, ns.rt, SBX, 'host'].sort());
    // `host` holds only notes here (the preamble, a tool or IPVS not loaded, Docker).
    assert.ok(parseBundle(plain, 'b.txt').value.filter((f) => f.namespace === 'host').every((f) => f.cmd === 'meshtrace-collect note'));
    const cmds = parseBundle(plain, 'b.txt')
      .value.filter((f) => f.namespace === ns.rt && f.cmd !== 'meshtrace-collect note')
      .map((f) => (f.cmd ?? '').replace(/ \| grep -E .*/, ''));
    const optional = (tool: string, c: string[]): string[] => (hasCommand(tool) ? c : []);
    assert.deepEqual(cmds, [
      'iptables-save -c',
      ...optional('ip6tables-save', ['ip6tables-save -c']),
      'ip -d addr',
      'ip -j -d addr',
      'ip route show table all',
      'ip rule',
      'ip neigh',
      'bridge fdb show',
      ...(fs.existsSync('/proc/net/ip_vs') ? optional('ipvsadm', ['ipvsadm -Ln', 'ipvsadm -S -n']) : []),
      'sysctl -a 2>/dev/null',
      ...cmds.filter((c) => c === 'nft list ruleset'),
    ]);
  });

  it('holds every interface, address, route, policy rule and counter the kernel has', async () => {
    const m = buildModel(parseBundle(plain, 'b.txt').value);
    assert.deepEqual(bad(m), []);
    for (const k of ['cl', 'rt', 'sv'] as const) {
      const id = `${NODE}/${nsNameOf(k)}`;
      const n = m.namespaces.find((x) => x.id === id);
      assert.ok(n, id);
      // Interfaces and addresses, from the kernel's own JSON.
      const links = json<{ ifname: string; addr_info: { local: string; prefixlen: number }[] }[]>((await lab.exec(ns[k], 'ip', ['-j', 'addr'])).stdout);
      const want = links.map((l) => `${l.ifname} ${l.addr_info.map((a) => `${a.local}/${a.prefixlen}`).sort().join(' ')}`).sort();
      const got = m.interfaces.filter((i) => i.namespaceId === id).map((i) => `${i.name} ${i.addrs.map((a) => `${a.local}/${a.prefixLen}`).sort().join(' ')}`).sort();
      assert.deepEqual(got, want, `${k}: interfaces`);
      // Routes of every table.
      const routes = json<{ type?: string; dst: string; table?: string }[]>((await lab.exec(ns[k], 'ip', ['-j', 'route', 'show', 'table', 'all'])).stdout);
      const rkey = (type: string, dst: string, table: string): string => `${type} ${dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : `${dst}/${dst.includes(':') ? 128 : 32}`} ${table}`;
      assert.deepEqual(
        n.routes.map((r) => rkey(r.type, `${r.dst}/${r.prefixLen}`, r.table)).sort(),
        routes.map((r) => rkey(r.type ?? 'unicast', r.dst, r.table ?? 'main')).sort(),
        `${k}: routes`,
      );
      // Policy rules.
      const rules = json<{ priority: number; table?: string }[]>((await lab.exec(ns[k], 'ip', ['-j', 'rule'])).stdout);
      assert.deepEqual(n.rules.map((r) => `${r.priority} ${r.table}`), rules.map((r) => `${r.priority} ${r.table}`), `${k}: rules`);
      // Every rule with its counters, and every chain policy's counters, as iptables-save -c printed them.
      const save = before0[`${k}: iptables-save -c`];
      const kernelRules = save.split('\n').filter((l) => /^\[\d+:\d+\] -A /.test(l));
      const modelRules = (n.iptables?.tables ?? []).flatMap((t) => t.chains.flatMap((c) => c.rules.map((r) => ({ r, t: t.name }))));
      assert.equal(modelRules.length, kernelRules.length, `${k}: rule count`);
      for (const line of kernelRules) {
        const mm = /^\[(\d+):(\d+)\] (.*)$/.exec(line);
        assert.ok(mm);
        const hit = modelRules.find(({ r }) => r.text === line || r.text === mm[3]);
        assert.ok(hit, `${k}: ${line} is not in the model`);
        assert.deepEqual([hit.r.counters?.packets, hit.r.counters?.bytes], [Number(mm[1]), Number(mm[2])], line);
      }
      for (const pol of save.split('\n').filter((l) => /^:\S+ (ACCEPT|DROP) \[\d+:\d+\]$/.test(l))) {
        const [, chain, , p, b] = /^:(\S+) (ACCEPT|DROP) \[(\d+):(\d+)\]$/.exec(pol) ?? [];
        const c = (n.iptables?.tables ?? []).flatMap((t) => t.chains).filter((x) => x.name === chain && x.counters?.packets === Number(p) && x.counters?.bytes === Number(b));
        assert.ok(c.length > 0, `${k}: policy counters ${pol}`);
      }
    }
    const rt = m.namespaces.find((x) => x.id === `${NODE}/${ns.rt}`);
    assert.equal(rt?.sysctls['net.ipv4.ip_forward']?.value, '1');
    // Joins: veth pairs across namespaces, bridge ports, the VXLAN's remote.
    const pair = (a: string, b: string): boolean => m.links.some((l) => l.kind === 'veth' && ((l.a === a && l.b === b) || (l.a === b && l.b === a)));
    assert.ok(pair(`${NODE}/${ns.cl}/eth0`, `${NODE}/${ns.rt}/leg1`));
    assert.ok(pair(`${NODE}/${SBX}/eth1`, `${NODE}/${ns.rt}/leg2`));
    assert.ok(pair(`${NODE}/${SBX}/eth0`, `${NODE}/${ns.rt}/wan0`));
    assert.ok(m.links.some((l) => l.kind === 'bridge-port' && l.bridge === `${NODE}/${ns.rt}/br0` && l.port === `${NODE}/${ns.rt}/leg2`));
    assert.ok(m.links.some((l) => l.kind === 'vxlan' && l.iface === `${NODE}/${ns.rt}/vxlan0` && l.vni === 42 && l.remote.some((r) => r.nodeIp === '203.0.113.2')));
  });

  /** Traces every probe over a model and compares with the kernel; `map` rewrites addresses. */
  const traceAll = (m: Model, node: string, map: (a: string) => string = (a) => a): void => {
    let sport = 41000;
    const wrong: string[] = [];
    for (const p of PROBES) {
      const q: TraceQuery = { node, namespace: nsNameOf(p.from), proto: 'tcp', src: map(p.src), sport: ++sport, dst: map(p.dst), dport: p.dport };
      const t = traceQuery(m, q);
      const k = kernel.get(p.name);
      assert.ok(k);
      const o = t.outcomes[0];
      const got: Seen = o ? { verdict: o.verdict } : { verdict: 'no-route' };
      if (o && o.verdict === 'delivered') {
        got.ns = o.final.namespace === ns.cl ? 'cl' : o.final.namespace === SBX ? 'sv' : undefined;
        got.seen = `${o.final.src} → ${o.final.dst}:${o.final.dport}`;
      }
      const want: Seen = { ...k, seen: k.seen?.replace(/[\d.]+(?= →)|(?<=→ )[\d.]+/g, (a) => map(a)) };
      if (t.outcomes.length !== 1 || JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${p.name}: kernel ${JSON.stringify(want)}, meshtrace ${JSON.stringify(got)} (${t.outcomes.map((x) => x.reason).join(' | ')}${t.warnings.join(' ')})`);
    }
    assert.deepEqual(wrong, []);
  };

  it('traces every probe over the collected bundle to what the kernel did', () => {
    const file = path.join(tmp, 'plain.txt');
    fs.writeFileSync(file, plain);
    traceAll(loadModel([file]), NODE);
  });

  it('--redact: no lab address is left, each address has one replacement in every dump and node', async () => {
    const all = new Set<string>();
    for (const k of ['cl', 'rt', 'sv'] as const) {
      for (const l of json<{ addr_info: { family: string; local: string }[] }[]>((await lab.exec(ns[k], 'ip', ['-j', 'addr'])).stdout)) {
        for (const a of l.addr_info) if (a.family === 'inet' && !a.local.startsWith('127.')) all.add(a.local);
      }
    }
    assert.ok(all.size >= 8);
    const tokens = new Set(redacted.match(/\d+\.\d+\.\d+\.\d+/g) ?? []);
    for (const a of all) assert.ok(!tokens.has(a), `${a} is still in the redacted bundle`);
    assert.ok(!redacted.includes(NODE), 'the node name is replaced');
    // The same run over the plain bundle (same lines) pairs every address with its replacement.
    const r = await run('/bin/sh', [SCRIPT, '--redact-only', '--redact-key', KEY, '-q'], { input: plain });
    const a = plain.split('\n');
    const b = r.stdout.split('\n');
    assert.equal(a.length, b.length);
    const V4 = /(?<![\d.])\d+\.\d+\.\d+\.\d+(?:\/\d+)?(?![\d])/g;
    const fwd = new Map<string, string>();
    const back = new Map<string, string>();
    for (let i = 0; i < a.length; i++) {
      const x = a[i].match(V4) ?? [];
      const y = b[i].match(V4) ?? [];
      assert.equal(x.length, y.length, a[i]);
      x.forEach((v, j) => {
        assert.equal(fwd.get(v) ?? y[j], y[j], `${v} has two replacements`);
        assert.equal(back.get(y[j]) ?? v, v, `${y[j]} stands for two addresses`);
        fwd.set(v, y[j]);
        back.set(y[j], v);
      });
    }
    // The capture's own --redact gave the same replacements, and so did another "node" with the key.
    for (const [kind, from, to] of [...redactMap, ...otherNode]) if (kind === 'ipv4' && fwd.has(from)) assert.equal(to, fwd.get(from), from);
    assert.ok(otherNode.filter(([k, f]) => k === 'ipv4' && fwd.has(f)).length >= 3);
  });

  it('--redact: the redacted bundle traces every probe to the same verdicts', async () => {
    const probes = [...new Set(PROBES.flatMap((p) => [p.src, p.dst]).concat(...[...kernel.values()].map((s) => s.seen?.match(/[\d.]+(?= →)|(?<=→ )[\d.]+/g) ?? [])))];
    const r = await run('/bin/sh', [SCRIPT, '--redact-only', '--redact-key', KEY, '--redact-map', path.join(tmp, 'probes.txt'), '-q'], { input: `### meshtrace node=${NODE} ns=host cmd=meshtrace-collect note\n# meshtrace: ${probes.join(' ')}\n` });
    assert.equal(r.stderr, '');
    const map = new Map(fs.readFileSync(path.join(tmp, 'probes.txt'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')).map(([, f, t]) => [f, t]));
    const node = map.get(NODE);
    assert.match(node ?? '', /^node-[0-9a-f]{10}$/);
    const m = buildModel(parseBundle(redacted, 'redacted.txt').value);
    assert.deepEqual(bad(m), []);
    traceAll(m, node as string, (a) => map.get(a) ?? a);
  });

  it('gives the same bundle under busybox sh', function () {
    if (busyboxBundle === undefined) {
      console.log('      skipped: needs busybox (apt-get install -y busybox)');
      this.skip();
    }
    const stable = (b: string): string[] =>
      parseBundle(b, 'b.txt')
        .value.filter((f) => f.cmd !== 'ip neigh' && f.cmd !== 'meshtrace-collect note')
        .map((f) => `${f.namespace} ${f.cmd}\n${untimed(f.text).replace(/^# (Generated by|Completed on) .*\n/gm, '')}`);
    assert.deepEqual(stable(busyboxBundle ?? ''), stable(plain));
  });

  it('leaves a note where there is no docker CLI, and one where Docker does not answer', () => {
    assert.ok(noDocker.includes('# meshtrace: no docker CLI (/nonexistent/docker) on this node'));
    const docker = parseBundle(plain, 'b.txt').value.filter((f) => f.cmd?.startsWith('docker '));
    if (docker.length === 0) assert.match(plain, /^# meshtrace: (no docker CLI|the docker CLI did not answer)/m);
  });

  it('captures the host namespace when asked', async function () {
    this.timeout(120_000);
    const host = await collect(['--ns', 'host', '--no-docker']);
    const cmds = parseBundle(host, 'b.txt').value.filter((f) => f.namespace === 'host').map((f) => f.cmd);
    assert.ok(cmds.includes('ip -d addr') && cmds.includes('ip route show table all'));
    const m = buildModel(parseBundle(host, 'b.txt').value);
    assert.deepEqual(bad(m).filter((p) => !/annotation/.test(p)), []);
  });
});
