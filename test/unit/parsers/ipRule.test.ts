/** Unit tests (pure core): `ip rule` text and `ip -j rule` JSON. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { corpusFile, corpusFiles } from '../helpers';
import { parseIpRule, parseIpRuleJson } from '../../../src/core/parsers/parseIpRule';
import type { IpRule } from '../../../src/core/model/link';
import type { Problem } from '../../../src/core/problem';

function captureDirs(): string[] {
  return corpusFiles('captures')
    .filter((f) => path.basename(f) === 'ip-rule.json')
    .map((f) => path.dirname(f));
}

const brief = (ps: Problem[]): string[] => ps.map((p) => `${p.line}:${p.severity}:${p.code}`);
const noSource = (rs: IpRule[]): Omit<IpRule, 'source'>[] => rs.map(({ source: _s, ...r }) => r);
const ALL = { addr: '0.0.0.0', prefixLen: 0 };

/** A rule with the defaults (`not` false, lookup action). */
function rule(r: Partial<IpRule> & Pick<IpRule, 'priority'>): Omit<IpRule, 'source'> {
  return { not: false, action: 'lookup', ...r };
}

/** Parses text and compares every rule (without sources) and all problems. */
function check(text: string, expected: Omit<IpRule, 'source'>[], problems: string[] = [], hint?: string): void {
  const r = parseIpRule(text, { hint });
  assert.deepEqual(brief(r.problems), problems);
  assert.deepEqual(noSource(r.value), expected);
}

describe('unit: parseIpRule (text)', () => {
  it('the lab captures are all there', () => assert.equal(captureDirs().length, 13));
  for (const d of captureDirs()) {
    it(`${d}: clean, and the same rules as the JSON taken with it`, () => {
      const t = parseIpRule(corpusFile(`${d}/ip-rule.txt`));
      const j = parseIpRuleJson(corpusFile(`${d}/ip-rule.json`));
      assert.deepEqual(brief(t.problems), []);
      assert.deepEqual(brief(j.problems), []);
      assert.deepEqual(noSource(t.value), noSource(j.value));
      assert.deepEqual(t.value.slice(0, 1).map((x) => [x.priority, x.table]), [[0, 'local']]);
    });
  }

  it('netns-lab router: `fwmark 0x1/0xff lookup 100` and `from 192.0.2.10 to 198.51.100.0/24`', () => {
    const r = parseIpRule(corpusFile('captures/netns-lab/vm/router/ip-rule.txt'), { file: 'ip-rule.txt' });
    assert.deepEqual(noSource(r.value), [
      rule({ priority: 0, from: ALL, table: 'local' }),
      rule({ priority: 1000, from: ALL, fwmark: 0x1, fwmask: 0xff, table: '100' }),
      rule({ priority: 1010, from: { addr: '192.0.2.10', prefixLen: 32 }, to: { addr: '198.51.100.0', prefixLen: 24 }, table: '100' }),
      rule({ priority: 32766, from: ALL, table: 'main' }),
      rule({ priority: 32767, from: ALL, table: 'default' }),
    ]);
    assert.deepEqual(r.value[1].source, { file: 'ip-rule.txt', line: 2 });
  });

  it('not, iif/oif, tos, detached, actions, goto, nop, suppress_prefixlength, proto', () => {
    const text = [
      '100:\tnot from all fwmark 0x1 lookup 100',
      '200:\tfrom all iif eth0 [detached] lookup 200',
      '300:\tfrom 10.0.0.0/8 to 192.168.0.0/16 tos 0x10 oif eth1 blackhole',
      '400:\tfrom all goto 500',
      '500:\tfrom all nop',
      '600:\tfrom all lookup main suppress_prefixlength 0',
      '700:\tfrom all unreachable',
      '800:\tfrom all prohibit',
      '900:\tfrom all lookup 100 proto static',
      '1000:\tfrom all goto none [unresolved]',
    ].join('\n');
    check(
      text,
      [
        rule({ priority: 100, not: true, from: ALL, fwmark: 1, fwmask: 0xffffffff, table: '100' }),
        rule({ priority: 200, from: ALL, iif: 'eth0', table: '200' }),
        rule({ priority: 300, from: { addr: '10.0.0.0', prefixLen: 8 }, to: { addr: '192.168.0.0', prefixLen: 16 }, tos: '0x10', oif: 'eth1', action: 'blackhole' }),
        rule({ priority: 400, from: ALL, action: 'goto', gotoPriority: 500 }),
        rule({ priority: 500, from: ALL, action: 'nop' }),
        rule({ priority: 600, from: ALL, table: 'main', suppressPrefixLength: 0 }),
        rule({ priority: 700, from: ALL, action: 'unreachable' }),
        rule({ priority: 800, from: ALL, action: 'prohibit' }),
        rule({ priority: 900, from: ALL, table: '100' }),
        rule({ priority: 1000, from: ALL, action: 'goto' }),
      ],
      ['2:info:detached', '10:info:unresolved'],
    );
  });

  it('IPv6: `from all` is ::/0 when the hint or another address says IPv6', () => {
    check('0:\tfrom all lookup local\n', [rule({ priority: 0, from: { addr: '::', prefixLen: 0 }, table: 'local' })], [], 'ip -6 rule');
    check('5:\tfrom all to 2001:db8::/32 lookup 10\n', [rule({ priority: 5, from: { addr: '::', prefixLen: 0 }, to: { addr: '2001:db8::', prefixLen: 32 }, table: '10' })]);
  });

  it('selectors the model lacks are kept but flagged', () => {
    check(
      '1000:\tfrom all ipproto tcp dport 80 lookup 100\n',
      [rule({ priority: 1000, from: ALL, table: '100' })],
      ['1:warning:not-modelled', '1:warning:not-modelled'],
    );
  });

  it('bad input: garbage, truncated, bad fwmark, annotations; never throws', () => {
    const text = ['# policy routing', 'garbage', '10:\tfrom all fwmark 0xZZ lookup 1', '20:\tfrom 10.0.0.300 lookup 2', '30:\tfrom all lookup', '40:\tfrom all frob lookup 4', '50:\tfrom all map-to 1.2.3.4'].join('\n');
    const r = parseIpRule(text);
    assert.deepEqual(brief(r.problems), [
      '1:warning:annotation',
      '2:error:bad-rule',
      '3:error:bad-number',
      '4:error:bad-address',
      '5:error:missing-value',
      '5:warning:no-action',
      '6:warning:unknown-token',
      '7:error:unsupported-rule',
    ]);
    assert.deepEqual(r.value.map((x) => x.priority), [10, 20, 30, 40]);
    const bn = r.problems.find((p) => p.code === 'bad-number')!;
    assert.deepEqual([bn.col, bn.endCol], [21, 25]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        parseIpRule(s);
        parseIpRuleJson(s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('unit: parseIpRuleJson', () => {
  it('reads not, fwmark without mask, actions and flags problems like the text', () => {
    const json = `[
{"priority":100,"not":null,"src":"all","fwmark":"0x1","table":"100"},
{"priority":300,"src":"10.0.0.0","srclen":8,"dst":"192.168.0.0","dstlen":16,"tos":"0x10","oif":"eth1","action":"blackhole"},
{"priority":400,"src":"all","goto":500},
{"priority":500,"src":"all","nop":null},
{"priority":600,"src":"all","table":"main","suppress_prefixlen":0},
{"priority":1000,"src":"all","ipproto":"tcp","table":"100"},
{"priority":"x"}
]`;
    const r = parseIpRuleJson(json);
    assert.deepEqual(brief(r.problems), ['7:warning:not-modelled', '8:error:json-shape']);
    assert.deepEqual(noSource(r.value), [
      rule({ priority: 100, not: true, from: ALL, fwmark: 1, fwmask: 0xffffffff, table: '100' }),
      rule({ priority: 300, from: { addr: '10.0.0.0', prefixLen: 8 }, to: { addr: '192.168.0.0', prefixLen: 16 }, tos: '0x10', oif: 'eth1', action: 'blackhole' }),
      rule({ priority: 400, from: ALL, action: 'goto', gotoPriority: 500 }),
      rule({ priority: 500, from: ALL, action: 'nop' }),
      rule({ priority: 600, from: ALL, table: 'main', suppressPrefixLength: 0 }),
      rule({ priority: 1000, from: ALL, table: '100' }),
    ]);
  });
});
