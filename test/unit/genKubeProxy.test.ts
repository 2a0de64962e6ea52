/** Unit tier: the benchmark's kube-proxy generator writes the rule count it promises, parseably. */
import * as assert from 'node:assert/strict';
import { genKubeProxySave, kubeProxyRuleCount } from '../../scripts/genKubeProxy';
import { parseIptablesSave } from '../../src/core/parsers/parseIptablesSave';

/** Counts `-A` lines per table of an iptables-save text. */
function countRules(text: string): { total: number; perTable: Record<string, number> } {
  const perTable: Record<string, number> = {};
  let table = '';
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith('-A ')) {
      perTable[table] = (perTable[table] ?? 0) + 1;
      total++;
    }
  }
  return { total, perTable };
}

describe('unit: genKubeProxySave', () => {
  it('writes exactly 320,006 rules for 10,000 services x 10 endpoints', function () {
    this.timeout(120_000);
    const text = genKubeProxySave(10000, 10);
    const { total, perTable } = countRules(text);
    assert.equal(total, 320_006);
    assert.equal(kubeProxyRuleCount(10000, 10), 320_006);
    assert.deepEqual(perTable, { nat: 320_004, filter: 2 });
    // One KUBE-SVC chain per service, one KUBE-SEP chain per endpoint.
    assert.equal(text.match(/^:KUBE-SVC-/gm)?.length, 10_000);
    assert.equal(text.match(/^:KUBE-SEP-/gm)?.length, 100_000);
  });

  it('is deterministic and its rule count follows services x (2 + 3 x endpoints) + 6', () => {
    for (const [s, e] of [
      [1, 1],
      [3, 2],
      [7, 5],
    ]) {
      const text = genKubeProxySave(s, e);
      assert.equal(countRules(text).total, s * (2 + 3 * e) + 6);
      assert.equal(text, genKubeProxySave(s, e));
    }
  });

  it('parses with parseIptablesSave into the same rules, with no warnings', () => {
    const text = genKubeProxySave(20, 4);
    const r = parseIptablesSave(text, { file: 'kube.iptables-save' });
    assert.deepEqual(
      r.problems.filter((p) => p.severity !== 'info'),
      [],
    );
    const nat = r.value.tables.find((t) => t.name === 'nat');
    assert.ok(nat, 'nat table');
    const rules = r.value.tables.reduce((n, t) => n + t.chains.reduce((k, c) => k + c.rules.length, 0), 0);
    assert.equal(rules, 20 * (2 + 3 * 4) + 6);
    const svc = nat.chains.find((c) => c.name.startsWith('KUBE-SVC-'));
    assert.ok(svc);
    // masquerade rule + 4 endpoint rules; the first endpoint rule picks 1/4 as the kernel prints it.
    assert.equal(svc.rules.length, 5);
    const stat = svc.rules[1].spec.matches.find((m) => m.name === 'statistic');
    assert.deepEqual(
      stat?.options.map((o) => [o.name, o.values.join(' ')]),
      [
        ['mode', 'random'],
        ['probability', '0.25000000000'],
      ],
    );
    assert.match(svc.rules[4].spec.target?.name ?? '', /^KUBE-SEP-/);
  });
});
