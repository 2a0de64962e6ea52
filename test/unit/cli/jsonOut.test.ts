/**
 * `writeJson`: JSON written in pieces (for models too large for one string) is byte for byte
 * what JSON.stringify gives, and `meshtrace load --json` writes a big capture's model that way.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { writeJson } from '../../../src/cli/jsonOut';
import { main } from '../../../src/cli/main';
import { loadModel } from '../../../src/node/loadCapture';

const SEED = path.resolve(__dirname, '../../../samples/seed-swarm');

function pieces(v: unknown, indent: number, chunk: number, depth?: number): string[] {
  const out: string[] = [];
  writeJson(v, indent, (s) => out.push(s), chunk, depth);
  return out;
}

describe('unit: writeJson (JSON in pieces)', () => {
  const cases: [string, unknown][] = [
    ['scalars', [1, 'a\nb', true, null, -0, 1e21]],
    ['empty containers', { a: [], b: {}, c: [[], {}] }],
    ['undefined and functions: dropped in objects, null in arrays', { a: undefined, b: () => 1, c: [undefined, () => 1, Symbol('s')], d: 1 }],
    ['deep nesting below the walked levels', { a: { b: { c: { d: { e: { f: [1, { g: 'x\ny' }] } } } } } }],
    ['toJSON', { at: new Date(0), n: { toJSON: () => ({ z: [1, 2] }) } }],
    ['a string alone', 'just a string'],
  ];
  for (const [name, v] of cases) {
    it(name, () => {
      for (const indent of [0, 1, 2]) for (const chunk of [1, 7, 1 << 20]) assert.equal(pieces(v, indent, chunk).join(''), JSON.stringify(v, null, indent), `indent ${indent}, chunk ${chunk}`);
    });
  }

  it('random values (fast-check) at every depth and indent', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 64 }), (v, indent, depth, chunk) => {
        assert.equal(pieces(v, indent, chunk, depth).join(''), JSON.stringify(v, null, indent));
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('pieces stay near the chunk size', () => {
    const big = Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x'.repeat(50) }));
    const out = pieces(big, 1, 4096);
    assert.ok(out.length > 20);
    assert.ok(out.slice(0, -1).every((s) => s.length >= 4096 && s.length < 4096 + 200));
  });

  it('meshtrace load --json writes through `write`: the model of the seed swarm, as JSON.stringify has it', () => {
    const written: string[] = [];
    const lines: string[] = [];
    const code = main(['load', SEED, '--json'], (s) => lines.push(s), () => undefined, (s) => written.push(s));
    assert.equal(code, 0);
    assert.deepEqual(lines, []);
    assert.equal(written.join(''), JSON.stringify(loadModel([SEED]), null, 1) + '\n');
  });
});

describe('unit: the CLI when its reader goes away (`meshtrace … | head`)', () => {
  it('stops quietly: exit 0, nothing on stderr', async function () {
    this.timeout(60_000);
    const { spawn } = await import('node:child_process');
    const cli = path.resolve(__dirname, '../../../src/cli/main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'load', SEED, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Read one piece, then close the pipe as `head -c` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(err, '');
    assert.equal(code, 0);
  });
});
