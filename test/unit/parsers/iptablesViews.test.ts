/**
 * unit: the three dump forms agree. Every namespace folder of the lab captures holds the same
 * ruleset as iptables-save.txt (`-c`), iptables-S-<table>.txt and iptables-L-<table>.txt
 * (`-L -n -v -x --line-numbers`): for every folder and table they must normalize to the same model
 * (with counters too, between save -c and -L -x). Also checks diffRulesets' messages.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseIptablesSave } from '../../../src/core/parsers/parseIptablesSave';
import { parseIptablesS } from '../../../src/core/parsers/parseIptablesS';
import { parseIptablesList } from '../../../src/core/parsers/parseIptablesList';
import { diffRulesets, normalizeRuleset } from '../../../src/core/model/netfilterCompare';
import type { Ruleset } from '../../../src/core/model/netfilter';
import { TABLE_NAMES } from '../../../src/core/model/netfilter';
import { corpusFile, corpusFiles } from '../helpers';

function only(rs: Ruleset, table: string): Ruleset {
  return { ...rs, tables: rs.tables.filter((t) => t.name === table) };
}

describe('unit: iptables views agree (save, -S, -L)', () => {
  const folders = corpusFiles('captures')
    .filter((f) => f.endsWith('/iptables-save.txt'))
    .map((f) => path.dirname(f));

  it('finds the 13 namespace folders', () => {
    assert.equal(folders.length, 13);
  });

  for (const dir of folders) {
    describe(dir, () => {
      const save = parseIptablesSave(corpusFile(`${dir}/iptables-save.txt`), { file: 'iptables-save.txt' }).value;
      for (const table of TABLE_NAMES) {
        it(`${table}: iptables-save ≡ iptables -S ≡ iptables -L`, () => {
          const s = parseIptablesS(corpusFile(`${dir}/iptables-S-${table}.txt`), { hint: table }).value;
          const l = parseIptablesList(corpusFile(`${dir}/iptables-L-${table}.txt`), { hint: table }).value;
          const base = only(save, table);
          // A table iptables-save does not print is the kernel's empty table in the listings.
          assert.deepEqual(diffRulesets(base, s, { missingTableIsEmpty: true }), []);
          assert.deepEqual(diffRulesets(base, l, { missingTableIsEmpty: true }), []);
          assert.deepEqual(diffRulesets(s, l), []);
          if (base.tables.length > 0) {
            // Same moment, exact counters: rule counters agree too.
            assert.deepEqual(diffRulesets(base, l, { counters: true }), []);
            assert.deepEqual(normalizeRuleset(base), normalizeRuleset({ ...l, family: base.family }));
          }
        });
      }
    });
  }

  it('the router namespace has rules in every table the listings agree on', () => {
    const save = parseIptablesSave(corpusFile('captures/netns-lab/vm/router/iptables-save.txt')).value;
    const n = normalizeRuleset(save);
    assert.deepEqual(n.tables.map((t) => [t.name, t.chains.reduce((k, c) => k + c.rules.length, 0)]), [['raw', 1], ['mangle', 4], ['nat', 4], ['filter', 17]]);
  });

  describe('diffRulesets', () => {
    const a = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:X - [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -j X\nCOMMIT\n').value;

    it('is empty for the same ruleset read twice, whatever the counters', () => {
      const b = parseIptablesS('-P INPUT ACCEPT -c 5 5\n-P FORWARD DROP\n-N X\n-A INPUT -p tcp -m tcp --dport 22 -c 9 9 -j ACCEPT\n-A INPUT -j X\n', { hint: 'filter' }).value;
      assert.deepEqual(diffRulesets(a, b), []);
      assert.deepEqual(diffRulesets(a, b, { counters: true }), [
        'filter/INPUT: policy counters 0:0 vs 5:5',
        'filter/INPUT rule 1: `-p tcp -m tcp --dport 22 -j ACCEPT` vs `-p tcp -m tcp --dport 22 -j ACCEPT` [9:9]',
        'filter/FORWARD: policy counters 0:0 vs (none)',
      ]);
    });

    it('says what differs, rule by rule', () => {
      const b = parseIptablesS('-P INPUT DROP\n-P FORWARD DROP\n-N Y\n-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT\n-A INPUT -j X\n-A INPUT -j Y\n', { hint: 'filter' }).value;
      assert.deepEqual(diffRulesets(a, b), [
        'filter: chain X is only in the first ruleset (0 rules)',
        'filter: chain Y is only in the second ruleset (0 rules)',
        'filter/INPUT: policy ACCEPT vs DROP',
        'filter/INPUT: 2 rules vs 3',
        'filter/INPUT rule 1: `-p tcp -m tcp --dport 22 -j ACCEPT` vs `-p tcp -m tcp --dport 23 -j ACCEPT`',
        'filter/INPUT rule 3: (none) vs `-j Y`',
      ]);
    });

    it('reports a missing table unless asked to treat it as empty', () => {
      const empty: Ruleset = { family: 'ipv4', flavour: 'unknown', tables: [] };
      const builtins = parseIptablesS('-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n', { hint: 'filter' }).value;
      assert.deepEqual(diffRulesets(empty, builtins), ['table filter is only in the second ruleset']);
      assert.deepEqual(diffRulesets(empty, builtins, { missingTableIsEmpty: true }), []);
      assert.deepEqual(diffRulesets(a, empty, { missingTableIsEmpty: true }), [
        'filter: chain X is only in the first ruleset (0 rules)',
        'filter: chain OUTPUT is only in the second ruleset (0 rules)',
        'filter/INPUT: 2 rules vs 0',
        'filter/INPUT rule 1: `-p tcp -m tcp --dport 22 -j ACCEPT` vs (none)',
        'filter/INPUT rule 2: `-j X` vs (none)',
        'filter/FORWARD: policy DROP vs ACCEPT',
      ]);
    });

    it('normalizeRuleset drops sources, text, raw and ids', () => {
      const n = normalizeRuleset(a);
      const json = JSON.stringify(n);
      for (const k of ['"source"', '"text"', '"raw"', '"id"', '"counters"', '"index"']) assert.ok(!json.includes(k), k);
      assert.deepEqual(n.tables[0].chains.map((c) => c.name), ['INPUT', 'FORWARD', 'X']);
    });
  });
});
