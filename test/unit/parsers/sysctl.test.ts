/** Unit tests of parseSysctl: the lab captures, every accepted form, and bad input. */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizeSysctlKey, parseSysctl } from '../../../src/core/parsers/parseSysctl';
import { splitLines } from '../../../src/core/problem';
import { corpusFile, corpusFiles } from '../helpers';

/** Parses `input`; compares [key, value, line] triples and [severity, code, line] of problems. */
function check(
  input: string,
  entries: [string, string, number][],
  problems: [string, string, number][] = [],
): void {
  const r = parseSysctl(input, { file: 's.txt' });
  assert.deepEqual(
    r.value.map((e) => [e.key, e.value, e.source.line]),
    entries,
  );
  assert.deepEqual(
    r.problems.map((p) => [p.severity, p.code, p.line]),
    problems,
  );
  for (const e of r.value) assert.equal(e.source.file, 's.txt');
}

const value = (text: string, key: string): string | undefined =>
  parseSysctl(text).value.find((e) => e.key === key)?.value;

describe('unit: parseSysctl', () => {
  describe('corpus', () => {
    const files = corpusFiles('captures').filter((f) => f.endsWith('/sysctl.txt'));

    it('finds the corpus files', () => {
      assert.equal(files.length, 13);
    });

    for (const f of files) {
      it(`reads ${f}: one entry per line, no problems`, () => {
        const text = corpusFile(f);
        const r = parseSysctl(text, { file: f });
        assert.deepEqual(r.problems, []);
        assert.equal(r.value.length, splitLines(text).length);
        assert.ok(r.value.every((e) => /^net\./.test(e.key)));
      });
    }

    it('router: ip_forward = 1 at line 58, br_netfilter and rp_filter values', () => {
      const f = 'captures/netns-lab/vm/router/sysctl.txt';
      const r = parseSysctl(corpusFile(f), { file: f, lineOffset: 2 });
      const e = r.value.find((x) => x.key === 'net.ipv4.ip_forward');
      assert.deepEqual(e, { key: 'net.ipv4.ip_forward', value: '1', source: { file: f, line: 60 } });
      const text = corpusFile(f);
      assert.equal(value(text, 'net.bridge.bridge-nf-call-iptables'), '1');
      assert.equal(value(text, 'net.ipv4.conf.all.rp_filter'), '2');
      assert.equal(value(text, 'net.ipv4.conf.wan0.rp_filter'), '0');
    });

    it('ingress_sbox: ip_forward = 0', () => {
      assert.equal(value(corpusFile('captures/docker20-swarm-lab/swarmlab/ingress_sbox/sysctl.txt'), 'net.ipv4.ip_forward'), '0');
    });
  });

  describe('forms', () => {
    it('`sysctl -a` lines, tabs inside values, empty values, repeated keys', () => {
      check(
        [
          'net.ipv4.ip_forward = 1',
          'net.ipv4.tcp_rmem = 4096\t131072\t6291456',
          'kernel.domainname = ',
          'dev.cdrom.info = CD-ROM information, Id: cdrom.c 3.20 2003/12/17',
          'dev.cdrom.info = ',
          '',
          'net.ipv4.conf.eth0/100.rp_filter = 2',
        ].join('\n'),
        [
          ['net.ipv4.ip_forward', '1', 1],
          ['net.ipv4.tcp_rmem', '4096\t131072\t6291456', 2],
          ['kernel.domainname', '', 3],
          ['dev.cdrom.info', 'CD-ROM information, Id: cdrom.c 3.20 2003/12/17', 4],
          ['dev.cdrom.info', '', 5],
          ['net.ipv4.conf.eth0/100.rp_filter', '2', 7],
        ],
      );
    });

    it('sysctl.conf `key=value`, slash keys, comments, a leading `-`', () => {
      check(
        [
          '# /etc/sysctl.d/99-lab.conf',
          '; another comment',
          'net.ipv4.ip_forward=1',
          '  net.ipv4.conf.all.rp_filter =2  ',
          'net/ipv4/conf/eth0.100/rp_filter = 1',
          '-net.bridge.bridge-nf-call-iptables = 1',
        ].join('\r\n'),
        [
          ['net.ipv4.ip_forward', '1', 3],
          ['net.ipv4.conf.all.rp_filter', '2', 4],
          ['net.ipv4.conf.eth0/100.rp_filter', '1', 5],
          ['net.bridge.bridge-nf-call-iptables', '1', 6],
        ],
      );
    });

    it('`grep . /proc/sys/...` output; the hand-made `path: value` is a warning', () => {
      check(
        ['/proc/sys/net/ipv4/ip_forward:1', '/proc/sys/net/ipv4/conf/all/rp_filter:2', '/proc/sys/net/ipv4/ip_forward: 1'].join('\n'),
        [
          ['net.ipv4.ip_forward', '1', 1],
          ['net.ipv4.conf.all.rp_filter', '2', 2],
          ['net.ipv4.ip_forward', '1', 3],
        ],
        [['warning', 'sysctl-format', 3]],
      );
    });

    it('sysctl error lines (stderr captured with 2>&1) are info', () => {
      check(
        [
          'sysctl: cannot stat /proc/sys/net/ipv4/vs/conntrack: No such file or directory',
          "sysctl: permission denied on key 'fs.protected_fifos'",
          "error: permission denied on key 'net.ipv4.route.flush'",
          'sysctl: reading key "net.ipv6.conf.all.stable_secret"',
          'net.ipv4.vs.conntrack = 0',
        ].join('\n'),
        [['net.ipv4.vs.conntrack', '0', 5]],
        [
          ['info', 'sysctl-stderr', 1],
          ['info', 'sysctl-stderr', 2],
          ['info', 'sysctl-stderr', 3],
          ['info', 'sysctl-stderr', 4],
        ],
      );
    });

    it('normalizeSysctlKey follows procps slashdot', () => {
      assert.equal(normalizeSysctlKey('net/ipv4/ip_forward'), 'net.ipv4.ip_forward');
      assert.equal(normalizeSysctlKey('/proc/sys/net/ipv4/conf/eth0.100/forwarding'), 'net.ipv4.conf.eth0/100.forwarding');
      assert.equal(normalizeSysctlKey('net.ipv4.conf.eth0/100.forwarding'), 'net.ipv4.conf.eth0/100.forwarding');
      assert.equal(normalizeSysctlKey('kernel'), 'kernel');
    });
  });

  describe('bad input', () => {
    it('garbage, bare names and bad keys are located warnings; nothing is thrown', () => {
      const r = parseSysctl(['garbage here', 'net.ipv4.ip_forward', 'a b = 1', '= 3', 'net.core.somaxconn = 4096'].join('\n'), {
        file: 'x',
        lineOffset: 10,
      });
      assert.deepEqual(
        r.problems.map((p) => [p.severity, p.code, p.line, p.col, p.endCol]),
        [
          ['warning', 'sysctl-unknown', 11, 1, 13],
          ['warning', 'sysctl-unknown', 12, 1, 20],
          ['warning', 'sysctl-unknown', 13, 1, 8],
          ['warning', 'sysctl-unknown', 14, 1, 4],
        ],
      );
      assert.deepEqual(
        r.value.map((e) => [e.key, e.value, e.source.line]),
        [['net.core.somaxconn', '4096', 15]],
      );
    });

    it('never throws on random text; problems stay capped on huge garbage', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), (s) => {
          const r = parseSysctl(s);
          for (const p of r.problems) assert.ok(p.line >= 1 && p.endCol > p.col);
        }),
        { numRuns: 300 },
      );
      const t0 = Date.now();
      const r = parseSysctl('x y z\n'.repeat(100000) + '='.repeat(100000) + '/'.repeat(100000));
      assert.ok(Date.now() - t0 < 3000);
      assert.equal(r.problems.length, 101);
    });
  });
});
