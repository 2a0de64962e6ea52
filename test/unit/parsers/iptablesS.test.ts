/** unit: parseIptablesS — `iptables -S` listings: table from the hint or the content, `-v` counters, problems. */
import * as assert from 'node:assert/strict';
import { parseIptablesS } from '../../../src/core/parsers/parseIptablesS';
import { formatRuleSpec } from '../../../src/core/parsers/iptablesRule';
import type { Problem } from '../../../src/core/problem';
import { corpusFile, corpusFiles } from '../helpers';

function loud(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity !== 'info');
}

function codes(problems: Problem[]): [string, string, number][] {
  return problems.map((p) => [p.severity, p.code, p.line]);
}

/** Parses a listing without a hint and checks the inferred table and the reason given. */
function checkInferred(text: string, table: string, why: RegExp): void {
  const r = parseIptablesS(text);
  assert.equal(r.value.tables[0].name, table);
  const info = r.problems.find((p) => p.code === 'table-inferred');
  assert.ok(info, 'an info problem says how the table was chosen');
  assert.equal(info.severity, 'info');
  assert.match(info.message, why);
}

describe('unit: parseIptablesS', () => {
  describe('lab listings', () => {
    const files = corpusFiles('captures').filter((f) => /\/iptables-S-[a-z]+\.txt$/.test(f));

    it('finds 65 listings', () => {
      assert.equal(files.length, 65);
    });

    for (const f of files) {
      it(`${f}: no warning or error; every rule prints back as written`, () => {
        const table = /iptables-S-([a-z]+)\.txt$/.exec(f)![1];
        const r = parseIptablesS(corpusFile(f), { file: f, hint: table });
        assert.deepEqual(loud(r.problems), []);
        assert.equal(r.value.tables[0].name, table);
        for (const c of r.value.tables[0].chains) {
          assert.equal(c.table, table);
          for (const rule of c.rules) {
            assert.equal(rule.table, table);
            assert.equal(formatRuleSpec(rule.spec), rule.text.replace(/^-A \S+ /, ''));
          }
        }
      });
    }

    it('router filter: policies, the user chain and its rules', () => {
      const r = parseIptablesS(corpusFile('captures/netns-lab/vm/router/iptables-S-filter.txt'), { hint: 'filter' });
      const t = r.value.tables[0];
      assert.deepEqual(t.chains.map((c) => [c.name, c.builtin, c.policy, c.rules.length, c.source.line]), [
        ['INPUT', true, 'ACCEPT', 6, 1], ['FORWARD', true, 'DROP', 8, 2], ['OUTPUT', true, 'ACCEPT', 0, 3], ['LAN-CHECK', false, undefined, 3, 4],
      ]);
      const comment = t.chains[0].rules[2];
      assert.deepEqual(comment.spec.src, { addr: '203.0.113.2', prefixLen: 32, invert: false });
      assert.deepEqual(comment.spec.matches.map((m) => [m.name, ...m.options.flatMap((o) => [o.name, ...o.values])]), [['udp', 'dport', '4789'], ['comment', 'comment', 'vxlan from server underlay']]);
      assert.deepEqual(t.chains[1].rules[1].spec.target, { name: 'LAN-CHECK', options: [], goto: false, known: true, raw: '-j LAN-CHECK' });
    });
  });

  describe('table inference', () => {
    it('from the built-in chains', () => {
      checkInferred('-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n', 'nat', /PREROUTING and POSTROUTING but not FORWARD/);
      checkInferred('-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n', 'mangle', /FORWARD/);
      checkInferred('-P PREROUTING ACCEPT\n-P OUTPUT ACCEPT\n', 'raw', /PREROUTING and OUTPUT/);
      checkInferred('-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n', 'filter', /security has the same/);
    });

    it('from the targets of a one-chain listing', () => {
      checkInferred('-N DOCKER\n-A DOCKER ! -i docker0 -p tcp -m tcp --dport 9090 -j DNAT --to-destination 172.17.0.2:80\n', 'nat', /DNAT target/);
      checkInferred('-N KUBE-MARK-MASQ\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n', 'mangle', /MARK target/);
      checkInferred('-A PREROUTING -j CT --notrack\n', 'raw', /CT target/);
      checkInferred('-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n', 'filter', /nothing in it/);
    });

    it('from a file name given as hint', () => {
      const r = parseIptablesS('-N X\n', { hint: 'captures/lab/iptables-S-nat.txt' });
      assert.equal(r.value.tables[0].name, 'nat');
      assert.deepEqual(codes(r.problems), [['info', 'table-from-hint', 1]]);
    });

    it('warns when a policy chain does not belong to the hinted table', () => {
      const r = parseIptablesS('-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n', { hint: 'filter' });
      assert.deepEqual(codes(r.problems), [['warning', 'not-builtin', 1]]);
    });
  });

  describe('-S -v counters', () => {
    it('reads `-c PKTS BYTES` on policies and rules, and a `[p:b]` prefix', () => {
      const text = ['-P INPUT ACCEPT -c 10 20', '-P FORWARD DROP -c 0 0', '-N X', '-A INPUT -i lo -c 5 300 -j ACCEPT', '[7:420] -A INPUT -j X', '-A X -p tcp -m tcp --dport 22 -c 1 60 -j DROP'].join('\n');
      const r = parseIptablesS(text, { hint: 'filter' });
      assert.deepEqual(loud(r.problems), []);
      const [input, fwd, x] = r.value.tables[0].chains;
      assert.deepEqual([input.counters, fwd.counters, fwd.policy], [{ packets: 10, bytes: 20 }, { packets: 0, bytes: 0 }, 'DROP']);
      assert.deepEqual(input.rules.map((rule) => [formatRuleSpec(rule.spec), rule.counters]), [['-i lo -j ACCEPT', { packets: 5, bytes: 300 }], ['-j X', { packets: 7, bytes: 420 }]]);
      assert.deepEqual(x.rules[0].counters, { packets: 1, bytes: 60 });
      assert.equal(formatRuleSpec(x.rules[0].spec), '-p tcp -m tcp --dport 22 -j DROP');
    });
  });

  describe('problems', () => {
    it('annotations, bad lines, undeclared chains and unlisted jump targets; nothing thrown', () => {
      const text = ['# iptables -S -t filter', '-P INPUT ACCEPT', '-P INPUT DROP', '-N', 'hello', '-A OUTPUT -j ACCEPT', '-A MINE -j ACCEPT', '-A INPUT -j ELSEWHERE', '-A INPUT -m comment --comment "x', '-P FORWARD MAYBE'].join('\n');
      const r = parseIptablesS(text, { hint: 'filter', lineOffset: 2 });
      assert.deepEqual(codes(r.problems), [
        ['warning', 'annotation', 3], ['error', 'duplicate-chain', 5], ['error', 'bad-chain', 6], ['error', 'unparseable-line', 7],
        ['error', 'unterminated-quote', 11], ['warning', 'bad-policy', 12], ['info', 'implicit-chain', 8], ['warning', 'undeclared-chain', 9],
        ['info', 'unlisted-chain', 10],
      ]);
      assert.deepEqual(r.value.tables[0].chains.map((c) => [c.name, c.builtin, c.rules.length]), [['INPUT', true, 1], ['OUTPUT', true, 1], ['MINE', false, 1], ['FORWARD', true, 0]]);
    });

    it('binary garbage and an empty listing', () => {
      assert.deepEqual(codes(parseIptablesS('\u0000\u0001\u0002garbage').problems), [['error', 'binary', 1]]);
      assert.deepEqual(parseIptablesS('\n\n'), { value: { family: 'ipv4', flavour: 'unknown', tables: [] }, problems: [] });
    });
  });
});
