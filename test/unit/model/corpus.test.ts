/**
 * unit: every file of the shared corpus loads, and the only warnings or errors are the author
 * annotation lines that corpus/SOURCES.md names (asserted by line number). The docker inspect
 * "excerpt" is valid JSON (one object holding NetworkSettings), so it loads clean.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadModel } from '../../../src/node/loadCapture';
import { CORPUS, corpusFiles } from '../helpers';

/** Line ranges helper: [5, [7, 9]] → 5, 7, 8, 9. */
function lines(...spec: (number | [number, number])[]): number[] {
  const out: number[] = [];
  for (const s of spec) {
    if (typeof s === 'number') out.push(s);
    else for (let i = s[0]; i <= s[1]; i++) out.push(i);
  }
  return out;
}

/** Annotation lines per public corpus file (SOURCES.md: '##'/'###', '[...snip...]', '# <name>'). */
const ANNOTATIONS: Record<string, number[]> = {
  'iptables-save/moby-pr52934-ingress_sbox-nft-annotated.txt': lines([10, 12], [31, 39]),
  'iptables-save/moby-pr52934-lb-netns-nft-annotated.txt': lines(8),
  'iptables-save/moby-pr52934-swarm-host-nft-annotated.txt': lines([5, 7], [45, 64], 78, 80, 84),
  'iptables-save/moby-pr52934-swarm-task-container-nft-annotated.txt': lines(6, 12, [28, 31], 34),
  'ip-addr/moby-pr52934-ingress_sbox-ip-d-a.txt': lines(7, 8, 16),
  'ip-addr/moby-pr52934-lb-netns-ip-d-a.txt': lines(7, 8),
  'ip-addr/moby-pr52934-overlay-netns-ingress-ip-d-a.txt': lines(7, 17, 22),
  'ip-addr/moby-pr52934-overlay-netns-someovl-ip-d-a.txt': lines(7, 17, 22),
  'ip-addr/moby-pr52934-swarm-host-ip-d-a.txt': lines(7, 25, 32),
  'ip-addr/moby-pr52934-swarm-task-container-ip-d-a.txt': lines(7, 8, 14, 20),
};


describe('unit: corpus', () => {
  const singles = corpusFiles('.').filter((f) => !f.startsWith('captures' + path.sep) && f !== 'SOURCES.md');

  it('has the public dumps SOURCES.md lists', () => {
    // The 27 rows of SOURCES.md's first table.
    assert.equal(singles.length, 27);
  });

  for (const rel of singles) {
    it(`loads ${rel} with only its annotation lines as problems`, () => {
      const m = loadModel([path.join(CORPUS, rel)]);
      assert.equal(m.files.length, 1);
      assert.ok(m.files[0].kind, `kind of ${rel} not detected`);
      const bad = m.problems.filter((p) => p.severity !== 'info');
      const expected = ANNOTATIONS[rel.split(path.sep).join('/')] ?? [];
      assert.deepEqual(
        bad.map((p) => `${p.line}:${p.code}`),
        expected.map((l) => `${l}:annotation`),
        bad.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'),
      );
    });
  }

  for (const capture of ['captures/docker20-swarm-lab', 'captures/netns-lab']) {
    it(`loads the whole capture ${capture} with no warning or error`, () => {
      const m = loadModel([path.join(CORPUS, capture)]);
      const bad = m.problems.filter((p) => p.severity !== 'info');
      assert.deepEqual(bad.map((p) => `${p.file}:${p.line}: ${p.message}`), []);
      assert.ok(m.namespaces.length > 0);
    });
  }
});
