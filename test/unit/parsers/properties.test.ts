/**
 * unit: property tests over every parser (fast-check). Arbitrary text and corpus dumps mutated at
 * random (lines dropped, duplicated, cut, characters flipped) go through `parseDump` for every kind,
 * and through kind detection, the model builder and the simulator: nothing throws, every problem has a place, and
 * the run ends (mocha's timeout catches a hang).
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDump } from '../../../src/core/parsers/index';
import { detectKind } from '../../../src/core/parsers/detectKind';
import { buildModel } from '../../../src/core/model/buildModel';
import { traceQuery } from '../../../src/core/sim/simulate';
import type { DumpKind } from '../../../src/core/model/model';
import { isLazyRule } from '../../../src/core/parsers/lazyRule';
import { ProblemSink } from '../../../src/core/problem';
import { corpusFile, corpusFiles } from '../helpers';

const KINDS: DumpKind[] = ['iptables-save', 'iptables-S', 'iptables-L', 'ipvsadm', 'ip-addr', 'ip-addr-json', 'ip-route', 'ip-route-json', 'ip-rule', 'ip-rule-json', 'bridge-fdb', 'bridge-fdb-json', 'ip-neigh', 'ip-neigh-json', 'sysctl', 'nft', 'docker-json'];

/** One corpus sample per kind, the seeds the mutations start from. */
const SEEDS: string[] = [
  'captures/netns-lab/vm/router/iptables-save.txt',
  // kube-proxy rules: most are of a shape read before, so their specs wait (checked in checkAll).
  'iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt',
  'captures/netns-lab/vm/router/iptables-S-filter.txt',
  'captures/netns-lab/vm/router/iptables-L-nat.txt',
  'ipvsadm/ollypom-docker17.03ee-task-netns-ipvsadm-L-fwm256-258.txt',
  'ip-addr/moby-pr52934-swarm-host-ip-d-a.txt',
  'captures/netns-lab/vm/router/ip-addr.json',
  'captures/netns-lab/vm/router/ip-route.txt',
  'captures/netns-lab/vm/router/ip-route.json',
  'captures/netns-lab/vm/router/ip-rule.txt',
  'captures/netns-lab/vm/router/bridge-fdb.txt',
  'captures/netns-lab/vm/router/ip-neigh.txt',
  'captures/netns-lab/vm/router/nft.txt',
  'captures/netns-lab/vm/router/sysctl.txt',
  'docker-network-inspect/moby-pr52934-ingress-and-overlay-inspect-v.json',
].filter((f) => corpusFiles('.').includes(f));

function checkAll(text: string): void {
  for (const kind of KINDS) {
    const out = parseDump(kind, text, { file: 'f', lineOffset: 3 });
    assert.notEqual(out.kind, 'failed', `${kind} parser threw: ${out.result.problems[0]?.message}`);
    for (const p of out.result.problems) assert.ok(p.line >= 4 && p.col >= 1 && p.endCol >= p.col, `${kind}: bad place ${JSON.stringify(p)}`);
    if (out.kind === 'iptables-save') {
      // Specs left for first use (lazyRule.ts) are read here: it never throws, and has nothing to report.
      for (const t of out.result.value.tables) {
        for (const c of t.chains) {
          for (const r of c.rules) {
            if (!isLazyRule(r)) continue;
            const sink = new ProblemSink('f');
            r.read(sink);
            assert.deepEqual(sink.problems, [], `reading the spec of ${JSON.stringify(r.text)} reported a problem`);
          }
        }
      }
    }
  }
  detectKind(text, 'x.txt');
}

/** Mutations of a dump: drop, duplicate or cut lines, flip characters. */
const mutation = (text: string): fc.Arbitrary<string> =>
  fc
    .array(
      fc.record({ op: fc.constantFrom('drop', 'dup', 'cut', 'flip', 'insert'), at: fc.nat(), ch: fc.string({ maxLength: 8 }) }),
      { minLength: 1, maxLength: 6 },
    )
    .map((ops) => {
      const lines = text.split('\n');
      for (const o of ops) {
        const i = lines.length ? o.at % lines.length : 0;
        if (o.op === 'drop') lines.splice(i, 1);
        else if (o.op === 'dup') lines.splice(i, 0, lines[i] ?? '');
        else if (o.op === 'cut') lines[i] = (lines[i] ?? '').slice(0, o.at % 40);
        else if (o.op === 'flip') {
          const l = lines[i] ?? '';
          const j = l.length ? o.at % l.length : 0;
          lines[i] = l.slice(0, j) + o.ch + l.slice(j + 1);
        } else lines.splice(i, 0, o.ch);
      }
      return lines.join('\n');
    });

describe('unit: parser properties', function () {
  this.timeout(120000);

  it('arbitrary text never makes a parser throw', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400, unit: 'binary' }), (s) => checkAll(s)), { numRuns: 150 });
  });

  it('arbitrary line-shaped text never makes a parser throw', () => {
    const token = fc.constantFrom('-A', 'INPUT', '-j', '!', '-m', 'tcp', '--dport', '80', '*filter', 'COMMIT', ':X', '-', '[0:0]', '1:', 'eth0@if9:', '<UP>', 'inet', '10.0.0.1/24', 'dev', 'via', 'table', 'FWM', '->', 'Masq', '{', '}', '"', '[', ']', ':', ',', 'lookup', 'fwmark', '0x1/0xff', 'table ip nat {');
    const line = fc.array(token, { maxLength: 12 }).map((t) => t.join(' '));
    fc.assert(fc.property(fc.array(line, { maxLength: 30 }), (ls) => checkAll(ls.join('\n'))), { numRuns: 150 });
  });

  for (const seed of SEEDS) {
    it(`mutations of ${seed} never make a parser or the model builder throw`, () => {
      const text = corpusFile(seed);
      fc.assert(
        fc.property(mutation(text), (m) => {
          checkAll(m);
          const model = buildModel([{ path: 'n/h/x', node: 'n', namespace: 'h', text: m, lineOffset: 0 }]);
          assert.ok(Array.isArray(model.problems));
          // The simulator must survive whatever the model holds.
          const t = traceQuery(model, { node: 'n', namespace: 'h', iif: 'eth0', proto: 'tcp', src: '192.0.2.10', dst: '192.0.2.1', dport: 80 });
          const local = traceQuery(model, { node: 'n', namespace: 'h', proto: 'udp', src: '192.0.2.1', dst: '203.0.113.9', dport: 53 });
          for (const o of [...t.outcomes, ...local.outcomes]) assert.ok(o.probability > 0 && o.probability <= 1);
        }),
        { numRuns: 40 },
      );
    });
  }
});
