/** Unit tests of parseIpvsadm: the real corpus dumps, every listing form, and bad input. */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIpvsadm } from '../../../src/core/parsers/parseIpvsadm';
import type { IpvsService, IpvsTable } from '../../../src/core/model/ipvs';
import type { Problem } from '../../../src/core/problem';
import { corpusFile, corpusFiles } from '../helpers';

/** Drops `source` so expectations stay short; sources are checked on their own. */
function strip<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (k, x) => (k === 'source' ? undefined : x))) as T;
}

function loud(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity !== 'info');
}

/** Parses `input` and compares the services (without sources) and the problems' codes/lines. */
function check(
  input: string,
  expected: { services?: unknown[]; conns?: unknown[]; version?: string; unavailable?: string },
  problems: { severity: string; code: string; line: number }[] = [],
): IpvsTable {
  const r = parseIpvsadm(input, { file: 't.txt' });
  const got = strip(r.value);
  if (expected.services) assert.deepEqual(got.services, expected.services);
  if (expected.conns) assert.deepEqual(got.conns, expected.conns);
  if ('version' in expected) assert.equal(got.version, expected.version);
  if ('unavailable' in expected) assert.equal(got.unavailable, expected.unavailable);
  assert.deepEqual(
    r.problems.map((p) => ({ severity: p.severity, code: p.code, line: p.line })),
    problems,
  );
  return r.value;
}

function svc(
  head: Omit<IpvsService, 'dests' | 'source' | 'scheduler'> & { scheduler?: string },
  dests: unknown[],
): unknown {
  return { scheduler: '', ...head, dests };
}

const TITLE = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
];

describe('unit: parseIpvsadm', () => {
  describe('corpus', () => {
    const files = [
      ...corpusFiles('ipvsadm'),
      ...corpusFiles('captures').filter((f) => f.endsWith('/ipvsadm.txt')),
    ];

    it('finds the corpus files', () => {
      assert.ok(files.length >= 17, `only ${files.length} files`);
    });

    for (const f of files) {
      it(`reads ${f} with no warnings or errors`, () => {
        const r = parseIpvsadm(corpusFile(f), { file: f });
        assert.deepEqual(loud(r.problems), []);
        for (const p of r.problems) assert.equal(p.file, f);
      });
    }

    it('ollypom task netns (plain `ipvsadm`, hand-edited spacing, docker0.local name)', () => {
      const f = 'ipvsadm/ollypom-docker17.03ee-task-netns-ipvsadm-L-fwm256-258.txt';
      const r = parseIpvsadm(corpusFile(f), { file: f });
      assert.deepEqual(r.problems, []);
      assert.equal(r.value.version, '1.2.1');
      const m = (addr: string, line: number): unknown => ({
        addr,
        port: 0,
        forward: 'Masq',
        weight: 1,
        activeConn: 0,
        inactConn: 0,
        source: { file: f, line },
      });
      assert.deepEqual(r.value.services, [
        {
          proto: 'fwm',
          fwmark: 256,
          scheduler: 'rr',
          dests: [m('192.168.200.9', 5), m('192.168.200.10', 6)],
          source: { file: f, line: 4 },
        },
        {
          proto: 'fwm',
          fwmark: 258,
          scheduler: 'rr',
          dests: [m('docker0.local', 8), m('192.168.200.4', 9)],
          source: { file: f, line: 7 },
        },
      ]);
    });

    it('ollypom dnsrr netns', () => {
      const r = parseIpvsadm(corpusFile('ipvsadm/ollypom-docker17.03ee-dnsrr-netns-ipvsadm-L.txt'));
      assert.deepEqual(
        r.value.services.map((s) => [s.fwmark, s.scheduler, s.dests.map((d) => `${d.addr}:${d.port}/${d.weight}`)]),
        [
          [256, 'rr', ['192.168.200.3:0/1', '192.168.200.4:0/1']],
          [258, 'rr', ['192.168.200.6:0/1', '192.168.200.7:0/1']],
        ],
      );
    });

    it('moby ingress_sbox `ipvsadm -S`: fwmark 256 rr, 10.0.0.4:0 Masq weight 1', () => {
      const f = 'ipvsadm/moby-pr52934-ingress_sbox-ipvsadm-S.txt';
      const r = parseIpvsadm(corpusFile(f), { file: f });
      assert.deepEqual(r.problems, []);
      assert.equal(r.value.version, undefined);
      assert.deepEqual(r.value.services, [
        {
          proto: 'fwm',
          fwmark: 256,
          scheduler: 'rr',
          dests: [{ addr: '10.0.0.4', port: 0, forward: 'Masq', weight: 1, source: { file: f, line: 2 } }],
          source: { file: f, line: 1 },
        },
      ]);
    });

    it('moby lb netns `ipvsadm -S`: fwmark 257 to 10.0.1.3', () => {
      const r = parseIpvsadm(corpusFile('ipvsadm/moby-pr52934-lb-netns-ipvsadm-S.txt'));
      assert.equal(r.value.services[0].fwmark, 257);
      assert.equal(r.value.services[0].dests[0].addr, '10.0.1.3');
    });

    it('lab captures: a kernel without IPVS is `unavailable` with one info, not a warning', () => {
      const f = 'captures/netns-lab/vm/router/ipvsadm.txt';
      const r = parseIpvsadm(corpusFile(f), { file: f, lineOffset: 10 });
      assert.equal(r.value.unavailable, 'Protocol not available');
      assert.deepEqual(r.value.services, []);
      assert.deepEqual(
        r.problems.map((p) => [p.severity, p.code, p.line]),
        [['info', 'ipvs-unavailable', 11]],
      );
    });
  });

  describe('ipvsadm -Ln', () => {
    it('TCP/UDP/SCTP services with persistence flags, every Forward kind, trailing blanks', () => {
      check(
        [
          ...TITLE,
          'TCP  10.96.0.1:443 rr persistent 360 mask 255.255.255.0 pe sip ops',
          '  -> 10.0.0.6:6443                 Masq    1      3          12        ',
          '  -> 10.0.0.7:6443                 Route   0      0          0         ',
          'UDP  10.96.0.10:53 wlc   ',
          '  -> 10.0.0.8:53                   Tunnel  2      0          5',
          '  -> 10.0.0.9:53                   Local   1      0          0',
          'SCTP 10.0.0.50:3868 sh (sh-fallback,sh-port)',
          '  -> 10.0.0.51:3868                Masq    1      0          0',
        ].join('\n'),
        {
          version: '1.2.1',
          services: [
            svc({ proto: 'tcp', addr: '10.96.0.1', port: 443, scheduler: 'rr', persistent: 360, netmask: '255.255.255.0', pe: 'sip', ops: true }, [
              { addr: '10.0.0.6', port: 6443, forward: 'Masq', weight: 1, activeConn: 3, inactConn: 12 },
              { addr: '10.0.0.7', port: 6443, forward: 'Route', weight: 0, activeConn: 0, inactConn: 0 },
            ]),
            svc({ proto: 'udp', addr: '10.96.0.10', port: 53, scheduler: 'wlc' }, [
              { addr: '10.0.0.8', port: 53, forward: 'Tunnel', weight: 2, activeConn: 0, inactConn: 5 },
              { addr: '10.0.0.9', port: 53, forward: 'Local', weight: 1, activeConn: 0, inactConn: 0 },
            ]),
            svc({ proto: 'sctp', addr: '10.0.0.50', port: 3868, scheduler: 'sh' }, [
              { addr: '10.0.0.51', port: 3868, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
            ]),
          ],
        },
      );
    });

    it('FWM services, IPv4 and IPv6, and an IPv6 TCP service', () => {
      check(
        [
          ...TITLE.slice(1),
          'FWM  256 rr',
          '  -> 10.0.0.4:0                    Masq    1      0          0',
          'FWM  256 IPv6 rr',
          '  -> [fd00::4]:0                   Masq    1      0          0',
          'TCP  [2001:db8::1]:80 wrr persistent 60 mask 64',
          '  -> [2001:db8::2]:8080            Masq    3      0          0',
        ].join('\r\n'),
        {
          services: [
            svc({ proto: 'fwm', fwmark: 256, scheduler: 'rr' }, [
              { addr: '10.0.0.4', port: 0, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
            ]),
            svc({ proto: 'fwm', fwmark: 256, ipv6: true, scheduler: 'rr' }, [
              { addr: 'fd00::4', port: 0, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
            ]),
            svc({ proto: 'tcp', addr: '2001:db8::1', port: 80, ipv6: true, scheduler: 'wrr', persistent: 60, netmask: '64' }, [
              { addr: '2001:db8::2', port: 8080, forward: 'Masq', weight: 3, activeConn: 0, inactConn: 0 },
            ]),
          ],
        },
      );
    });

    it('plain `ipvsadm`: names kept, http/https/domain mapped, cut names and unknown ports give 0 + info', () => {
      const t = check(
        [
          ...TITLE,
          'TCP  web.swarm.local:http rr',
          '  -> redis.1.m911y2nt3wy0qo5x8i9p Masq    1      0          0',
          '  -> docker0.local:https           Masq    1      0          0',
          'UDP  10.0.0.2:domain rr',
          '  -> tasks.dns:domain              Masq    1      0          0',
          'TCP  10.0.0.3:xyzsvc rr',
          '  -> 10.0.0.9:8080                 Masq    1      0          0',
        ].join('\n'),
        {
          services: [
            svc({ proto: 'tcp', addr: 'web.swarm.local', port: 80, scheduler: 'rr' }, [
              { addr: 'redis.1.m911y2nt3wy0qo5x8i9p', port: 0, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
              { addr: 'docker0.local', port: 443, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
            ]),
            svc({ proto: 'udp', addr: '10.0.0.2', port: 53, scheduler: 'rr' }, [
              { addr: 'tasks.dns', port: 53, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
            ]),
            svc({ proto: 'tcp', addr: '10.0.0.3', port: 0, scheduler: 'rr' }, [
              { addr: '10.0.0.9', port: 8080, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
            ]),
          ],
        },
        [
          { severity: 'info', code: 'ipvs-port', line: 5 },
          { severity: 'info', code: 'ipvs-port', line: 9 },
        ],
      );
      for (const s of t.services) for (const d of s.dests) assert.ok(Number.isFinite(d.port));
      const r = parseIpvsadm(['TCP  a:http rr', '  -> redis.1.m911y2nt3wy0qo5x8i9p Masq 1 0 0'].join('\n'));
      assert.match(r.problems[0].message, /cut the name .* at 28 characters/);
      assert.equal(r.problems[0].col, 6);
    });
  });

  describe('--stats, --rate, --thresholds, --persistent-conn', () => {
    it('--stats with largenum suffixes', () => {
      check(
        [
          'IP Virtual Server version 1.2.1 (size=4096)',
          'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
          '  -> RemoteAddress:Port',
          'TCP  10.0.0.5:80                       12    1234K        0  123456M       3G',
          '  -> 10.0.0.6:80                        7       99        0     5940        2T',
          'FWM  256                                 0        0        0        0        0',
          '  -> 10.0.0.4:0                         0        0        0        0        0',
        ].join('\n'),
        {
          services: [
            {
              proto: 'tcp',
              addr: '10.0.0.5',
              port: 80,
              scheduler: '',
              stats: { conns: 12, inPkts: 1234000, outPkts: 0, inBytes: 123456000000, outBytes: 3000000000 },
              dests: [
                {
                  addr: '10.0.0.6',
                  port: 80,
                  forward: 'Masq',
                  weight: 1,
                  stats: { conns: 7, inPkts: 99, outPkts: 0, inBytes: 5940, outBytes: 2000000000000 },
                },
              ],
            },
            {
              proto: 'fwm',
              fwmark: 256,
              scheduler: '',
              stats: { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 },
              dests: [
                { addr: '10.0.0.4', port: 0, forward: 'Masq', weight: 1, stats: { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 } },
              ],
            },
          ],
        },
        [{ severity: 'info', code: 'ipvs-layout', line: 5 }],
      );
    });

    it('--rate', () => {
      const t = check(
        [
          'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS',
          '  -> RemoteAddress:Port',
          'UDP  10.0.0.2:53                        1        2        3     150K      400',
          '  -> 10.0.0.3:53                        1        2        3      150      400',
        ].join('\n'),
        {},
        [{ severity: 'info', code: 'ipvs-layout', line: 4 }],
      );
      assert.deepEqual(t.services[0].stats, { cps: 1, inPps: 2, outPps: 3, inBps: 150000, outBps: 400 });
      assert.deepEqual(t.services[0].dests[0].stats, { cps: 1, inPps: 2, outPps: 3, inBps: 150, outBps: 400 });
    });

    it('--thresholds', () => {
      const t = check(
        [
          'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn',
          '  -> RemoteAddress:Port',
          'TCP  10.0.0.5:80 rr',
          '  -> 10.0.0.6:80                   100        10         4          9         ',
        ].join('\n'),
        {},
        [{ severity: 'info', code: 'ipvs-layout', line: 4 }],
      );
      assert.equal(t.services[0].scheduler, 'rr');
      assert.deepEqual(strip(t.services[0].dests), [
        { addr: '10.0.0.6', port: 80, forward: 'Masq', weight: 1, stats: { uThreshold: 100, lThreshold: 10 }, activeConn: 4, inactConn: 9 },
      ]);
    });

    it('--persistent-conn', () => {
      const t = check(
        [
          'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn',
          '  -> RemoteAddress:Port',
          'TCP  10.0.0.5:80 rr persistent 300',
          '  -> 10.0.0.6:80                   5         2           1          0',
        ].join('\n'),
        {},
        [{ severity: 'info', code: 'ipvs-layout', line: 4 }],
      );
      assert.equal(t.services[0].persistent, 300);
      assert.deepEqual(strip(t.services[0].dests), [
        { addr: '10.0.0.6', port: 80, forward: 'Masq', weight: 5, stats: { persistConn: 2 }, activeConn: 1, inactConn: 0 },
      ]);
    });
  });

  describe('ipvsadm -Lnc', () => {
    it('reads connection entries, with and without pe columns', () => {
      check(
        [
          'IPVS connection entries',
          'pro expire state       source             virtual            destination',
          'TCP 14:59  ESTABLISHED 10.255.0.2:54321   172.18.0.2:8080    10.255.0.5:8080',
          'UDP 04:58  UDP         10.0.0.9:40000     10.0.0.2:53        10.0.0.7:53',
          'TCP 00:01  SYN_RECV    10.0.0.9:40001     10.0.0.2:80        10.0.0.7:80       sip              abc',
        ].join('\n'),
        {
          services: [],
          conns: [
            { proto: 'TCP', expire: '14:59', state: 'ESTABLISHED', client: '10.255.0.2:54321', virtual: '172.18.0.2:8080', dest: '10.255.0.5:8080' },
            { proto: 'UDP', expire: '04:58', state: 'UDP', client: '10.0.0.9:40000', virtual: '10.0.0.2:53', dest: '10.0.0.7:53' },
            { proto: 'TCP', expire: '00:01', state: 'SYN_RECV', client: '10.0.0.9:40001', virtual: '10.0.0.2:80', dest: '10.0.0.7:80' },
          ],
        },
      );
    });
  });

  describe('ipvsadm -S', () => {
    it('reads services and destinations of every kind', () => {
      check(
        [
          '-A -t 10.0.0.5:80 -s rr -p 360 -M 255.255.255.0 pe sip ops',
          '-a -t 10.0.0.5:80 -r 10.0.0.6:8080 -m -w 1',
          '-a -t 10.0.0.5:80 -r 10.0.0.7:80 -g -w 0',
          '-A -u 10.0.0.2:53 -s wlc --pe sip -o -b flag-1',
          '-a -u 10.0.0.2:53 -r 10.0.0.8:53 -i -w 2',
          '-A --sctp-service 10.0.0.50:3868 -s sh -p',
          '-a --sctp-service 10.0.0.50:3868 -r 10.0.0.51:3868 -m -w 1',
          '-A -f 256 -6 -s rr',
          '-a -f 256 -6 -r [fd00::4]:0 -m -w 1',
          '-A -t [::1]:80 -s rr',
          '-a -t [::1]:80 -r [::2]:80 -m -w 3',
          '',
        ].join('\n'),
        {
          services: [
            svc({ proto: 'tcp', addr: '10.0.0.5', port: 80, scheduler: 'rr', persistent: 360, netmask: '255.255.255.0', pe: 'sip', ops: true }, [
              { addr: '10.0.0.6', port: 8080, forward: 'Masq', weight: 1 },
              { addr: '10.0.0.7', port: 80, forward: 'Route', weight: 0 },
            ]),
            svc({ proto: 'udp', addr: '10.0.0.2', port: 53, scheduler: 'wlc', pe: 'sip', ops: true }, [
              { addr: '10.0.0.8', port: 53, forward: 'Tunnel', weight: 2 },
            ]),
            svc({ proto: 'sctp', addr: '10.0.0.50', port: 3868, scheduler: 'sh', persistent: 300 }, [
              { addr: '10.0.0.51', port: 3868, forward: 'Masq', weight: 1 },
            ]),
            svc({ proto: 'fwm', fwmark: 256, ipv6: true, scheduler: 'rr' }, [{ addr: 'fd00::4', port: 0, forward: 'Masq', weight: 1 }]),
            svc({ proto: 'tcp', addr: '::1', port: 80, ipv6: true, scheduler: 'rr' }, [{ addr: '::2', port: 80, forward: 'Masq', weight: 3 }]),
          ],
        },
      );
    });
  });

  describe('bad input', () => {
    it('destinations before any service are errors, located', () => {
      const r = parseIpvsadm(
        ['  -> 10.0.0.4:0  Masq 1 0 0', '-a -f 256 -r 10.0.0.4:0 -m -w 1', 'FWM  256 rr'].join('\n'),
        { file: 'x/ipvsadm.txt', lineOffset: 3 },
      );
      assert.deepEqual(
        r.problems.map((p) => [p.severity, p.code, p.line, p.file]),
        [
          ['error', 'ipvs-dest', 4, 'x/ipvsadm.txt'],
          ['error', 'ipvs-dest', 5, 'x/ipvsadm.txt'],
        ],
      );
      assert.equal(r.value.services.length, 1);
      assert.equal(r.value.services[0].dests.length, 0);
      assert.match(r.problems[0].message, /before any service/);
    });

    it('truncated lines: service without scheduler, destination without columns, bad Forward', () => {
      check(
        ['FWM  256', '  -> 10.0.0.4:0  Masq 1', '  -> 10.0.0.5:0  Bogus 1 0 0', '  -> 10.0.0.6:0  Masq 1 0 0', 'TCP  10.0.0.1'].join('\n'),
        {
          services: [
            svc({ proto: 'fwm', fwmark: 256 }, [{ addr: '10.0.0.6', port: 0, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 }]),
            svc({ proto: 'tcp', addr: '10.0.0.1', port: 0 }, []),
          ],
        },
        [
          { severity: 'warning', code: 'ipvs-service', line: 1 },
          { severity: 'error', code: 'ipvs-dest', line: 2 },
          { severity: 'error', code: 'ipvs-dest', line: 3 },
          { severity: 'info', code: 'ipvs-port', line: 5 },
          { severity: 'warning', code: 'ipvs-service', line: 5 },
        ],
      );
    });

    it('destinations of an unreadable service are not given to the previous one', () => {
      const r = parseIpvsadm(['FWM  256 rr', 'FWM  x rr', '  -> 10.0.0.9:0 Masq 1 0 0'].join('\n'));
      assert.equal(r.value.services.length, 1);
      assert.equal(r.value.services[0].dests.length, 0);
      assert.deepEqual(
        r.problems.map((p) => [p.severity, p.line, p.col]),
        [
          ['error', 2, 6],
          ['error', 3, 1],
        ],
      );
    });

    it('unknown lines and options are warnings with columns; other ipvsadm output is info', () => {
      const r = parseIpvsadm(
        [
          'hello world',
          '-A -f 256 -s rr --frobnicate',
          'Timeout (tcp tcpfin udp): 900 120 300',
          "Can't initialize ipvs: Permission denied (you must be root)",
          'Are you sure that IP Virtual Server is built in the kernel or as module?',
        ].join('\n'),
      );
      assert.deepEqual(
        r.problems.map((p) => [p.severity, p.code, p.line, p.col]),
        [
          ['warning', 'ipvs-unknown', 1, 1],
          ['warning', 'ipvs-save', 2, 17],
          ['info', 'ipvs-other', 3, 1],
          ['info', 'ipvs-unavailable', 4, 1],
        ],
      );
      assert.equal(r.value.unavailable, 'Permission denied (you must be root)');
      assert.equal(r.value.services[0].scheduler, 'rr');
    });

    it('never throws on random text or on corpus files cut at random places', () => {
      const samples = corpusFiles('ipvsadm').map((f) => corpusFile(f));
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), fc.nat(), fc.nat(), (s, a, b) => {
          const base = samples[a % samples.length];
          const cut = base.slice(0, b % (base.length + 1)) + s;
          for (const input of [s, cut]) {
            const r = parseIpvsadm(input);
            for (const p of r.problems) assert.ok(p.line >= 1 && p.col >= 1 && p.endCol > p.col);
            for (const sv of r.value.services) for (const d of sv.dests) assert.ok(Number.isFinite(d.port));
          }
        }),
        { numRuns: 300 },
      );
    });

    it('binary garbage and huge input stay fast and capped', () => {
      const garbage = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919) % 256)).toString('latin1');
      const big = (garbage + '\n').repeat(50) + ':'.repeat(200000) + '\n' + ' '.repeat(200000) + '->';
      const t0 = Date.now();
      const r = parseIpvsadm(big);
      assert.ok(Date.now() - t0 < 3000, 'too slow');
      assert.ok(r.problems.length <= 102, `${r.problems.length} problems`);
      assert.ok(r.problems.some((p) => /more lines that are not ipvsadm output/.test(p.message)));
    });
  });
});
