/** unit: the shared iptables pieces — restore-style tokenizing, addresses, values in save form, tables from hints. */
import * as assert from 'node:assert/strict';
import {
  RuleTokens,
  canonMarkMask,
  canonProbability,
  canonProto,
  canonRate,
  formatIPv6,
  inferTable,
  parseAddress,
  parseIPv6,
  saveString,
  tableFromHint,
  tokenizeRule,
} from '../../../src/core/parsers/iptablesRule';

function tokens(line: string): [string, number, number, boolean][] {
  const t = new RuleTokens();
  tokenizeRule(line, 0, t);
  const out: [string, number, number, boolean][] = [];
  for (let i = 0; i < t.n; i++) out.push([t.texts[i], t.starts[i], t.ends[i], t.quoted[i]]);
  return out;
}

describe('unit: iptablesRule', () => {
  describe('tokenizeRule (xshared.c add_param_to_argv)', () => {
    const cases: [string, [string, number, number, boolean][]][] = [
      ['-A  X\t-j ACCEPT ', [['-A', 0, 2, false], ['X', 4, 5, false], ['-j', 6, 8, false], ['ACCEPT', 9, 15, false]]],
      ['--comment "a b"', [['--comment', 0, 9, false], ['a b', 10, 15, true]]],
      ['"a \\"b\\" \\\\c"', [['a "b" \\c', 0, 13, true]]],
      ['x"y z"w', [['xy z', 0, 6, true], ['w', 6, 7, false]]],
      ['""', [['', 0, 2, true]]],
    ];
    for (const [line, expected] of cases) {
      it(JSON.stringify(line), () => {
        assert.deepEqual(tokens(line), expected);
      });
    }

    it('reports an unterminated quote', () => {
      const t = new RuleTokens();
      tokenizeRule('-m comment --comment "open', 0, t);
      assert.equal(t.openQuote, 21);
      assert.equal(t.texts[3], 'open');
    });
  });

  describe('parseAddress (save_ipv4_addr / save_ipv6_addr)', () => {
    const cases: [string, boolean, unknown][] = [
      ['10.1.2.3', false, { addr: '10.1.2.3', prefixLen: 32, invert: false }],
      ['10.1.2.3/8', false, { addr: '10.0.0.0', prefixLen: 8, invert: false }],
      ['10.1.2.3/255.255.0.0', false, { addr: '10.1.0.0', prefixLen: 16, invert: false }],
      ['10.1.2.3/255.0.255.0', true, { addr: '10.0.2.0', prefixLen: -1, mask: '255.0.255.0', invert: true }],
      ['0.0.0.0/0', false, undefined],
      ['1.2.3.4/0', false, undefined],
      ['0.0.0.0/0', true, { addr: '0.0.0.0', prefixLen: 0, invert: true }],
      ['fe80::1/10', false, { addr: 'fe80::', prefixLen: 10, invert: false }],
      ['FD49:EFD7:54AA:0:0:0:0:1', false, { addr: 'fd49:efd7:54aa::1', prefixLen: 128, invert: false }],
      ['::/0', false, undefined],
      ['::ffff:10.0.0.1', false, { addr: '::ffff:10.0.0.1', prefixLen: 128, invert: false }],
    ];
    for (const [text, inv, expected] of cases) {
      it(`${inv ? '! ' : ''}${text}`, () => {
        const p = parseAddress(text, inv);
        assert.equal(p.error, undefined);
        assert.deepEqual(p.addr, expected);
      });
    }

    it('rejects what is not an address', () => {
      for (const bad of ['1.2.3.4/33', '300.1.1.1', '1::2::3', 'a b', '10.0.0.0/255.0.x.0']) assert.ok(parseAddress(bad, false).error, bad);
      assert.equal(parseAddress('host.example', false).name, true);
    });

    it('formats IPv6 like inet_ntop', () => {
      const cases: [string, string][] = [['1:0:0:2:0:0:0:3', '1:0:0:2::3'], ['0:0:0:0:0:0:0:0', '::'], ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'], ['0:0:0:0:0:0:0:1', '::1'], ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'], ['1:2:0:0:5:0:0:0', '1:2:0:0:5::']];
      for (const [a, b] of cases) assert.equal(formatIPv6(parseIPv6(a)!), b, a);
    });
  });

  describe('values in save form', () => {
    it('protocols', () => {
      assert.deepEqual(['tcp', 'TCP', '6', '17', '1', '58', 'icmpv6', '132', '47', '200', 'all', '0'].map(canonProto), ['tcp', 'tcp', 'tcp', 'udp', 'icmp', 'ipv6-icmp', 'ipv6-icmp', 'sctp', 'gre', '200', undefined, undefined]);
    });

    it('marks (mask omitted when all ones)', () => {
      assert.deepEqual(['256', '0x4000/0x4000', '0x100/0xffffffff', '010', 'zz'].map(canonMarkMask), ['0x100', '0x4000/0x4000', '0x100', '0x8', undefined]);
    });

    it('limit rates through the kernel period (libxt_limit.c print_rate)', () => {
      assert.deepEqual(['5/min', '5/minute', '3/hour', '10/s', '1/day', '25', '7/m', '0/s', '5/week'].map(canonRate), ['5/min', '5/min', '3/hour', '10/sec', '1/day', '25/sec', '7/min', undefined, undefined]);
    });

    it('probabilities as %.11f of the u32 fraction', () => {
      assert.deepEqual(['0.5', '0.33333333349', '1', '0.1', '2'].map(canonProbability), ['0.50000000000', '0.33333333349', '1.00000000000', '0.10000000009', undefined]);
    });

    it('xtables_save_string quoting', () => {
      assert.deepEqual(['abc-_9', 'a b', '', 'x"y', "it's", 'a/b'].map(saveString), ['abc-_9', '"a b"', '""', '"x\\"y"', '"it\\\'s"', '"a/b"']);
    });
  });

  describe('tables', () => {
    it('from a hint', () => {
      assert.deepEqual(['nat', 'NAT', 'iptables-S-mangle.txt', 'captures/x/iptables-L-raw.txt', 'natty', 'nat-and-filter', undefined].map(tableFromHint), ['nat', 'nat', 'mangle', 'raw', undefined, undefined, undefined]);
    });

    it('inferred from chains and targets', () => {
      assert.equal(inferTable(new Set(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']), new Set()).table, 'nat');
      assert.equal(inferTable(new Set(), new Set(['MASQUERADE'])).table, 'nat');
      assert.equal(inferTable(new Set(), new Set(['NOTRACK'])).table, 'raw');
      assert.equal(inferTable(new Set(['INPUT', 'FORWARD', 'OUTPUT']), new Set(['DNAT'])).table, 'nat');
      assert.equal(inferTable(new Set(), new Set(['ACCEPT'])).table, 'filter');
    });
  });
});
