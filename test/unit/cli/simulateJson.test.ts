/**
 * unit: `simulate --json` written in pieces: the bytes are JSON.stringify(simulateJson(r)) for
 * random entries of any key order, with members JSON leaves out, toJSON values and odd strings,
 * at every piece size; the pieces are about `chunk` characters.
 */
import * as assert from 'node:assert/strict';
import { simulateJson, writeSimulateJson } from '../../../src/cli/simulate';
import type { Entry, TopologyResult } from '../../../src/core/topology/simulate';

let seed = 7;
const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
const STRINGS = ['node000', 'a "quoted" text', 'back\\slash', 'line\nbreak', 'tab\t', 'ü ✓', '\u0001', '\ud800 lone', '', '10.0.0.2'];

function value(depth: number): unknown {
  const x = rnd();
  if (depth > 2 || x < 0.4) return pick<unknown>([pick(STRINGS), Math.floor(rnd() * 70000), 0.5, -0, NaN, Infinity, true, false, null, undefined]);
  if (x < 0.55) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
  if (x < 0.6) return { toJSON: () => 'as json' };
  if (x < 0.62) return new Date(0);
  const o: Record<string, unknown> = {};
  for (const k of ['verdict', 'final', 'reason', 'target', 'reply', '1', 'x y'].filter(() => rnd() < 0.5)) o[k] = value(depth + 1);
  return o;
}

function entry(i: number): Entry {
  const kind = rnd() < 0.7 ? 'published-port' : 'vip';
  const lead: Record<string, unknown> = { node: `node${i % 3}`, kind, proto: pick(['tcp', 'udp']) };
  if (kind === 'published-port') lead.port = 10000 + i;
  else lead.vip = `10.0.1.${i % 250}`;
  const rest: Record<string, unknown> = { targetPort: rnd() < 0.8 ? 8000 + i : undefined, mode: 'ingress', service: pick(STRINGS), query: value(1), outcomes: Array.from({ length: Math.floor(rnd() * 3) }, () => value(1)), ok: rnd() < 0.5 };
  const r = rnd();
  // Keys as the simulator orders them, or shuffled, or some lead keys missing or undefined.
  if (r < 0.5) return { ...lead, ...rest } as unknown as Entry;
  if (r < 0.7) return { ...rest, ...lead } as unknown as Entry;
  if (r < 0.85) return { ...lead, port: undefined, ...rest } as unknown as Entry;
  const keys = Object.keys({ ...lead, ...rest }).sort(() => rnd() - 0.5);
  const all: Record<string, unknown> = { ...lead, ...rest };
  return Object.fromEntries(keys.map((k) => [k, all[k]])) as unknown as Entry;
}

function result(n: number): TopologyResult {
  const entries = Array.from({ length: n }, (_x, i) => entry(i));
  return { entries, findings: [], summary: { nodes: 3, entries: n, ok: 0, failed: n, traces: 0, classes: 0, findings: {}, ms: {} }, warnings: ['w "1"'] };
}

describe('unit: simulate --json in pieces, random entries', () => {
  it('random entries: the pieces make JSON.stringify(simulateJson(r)) at every piece size', () => {
    for (let round = 0; round < 20; round++) {
      const r = result(1 + Math.floor(rnd() * 300));
      const whole = JSON.stringify(simulateJson(r));
      for (const chunk of [1, 50, 1000, 1 << 20]) {
        const out: string[] = [];
        writeSimulateJson(r, (s) => out.push(s), chunk);
        assert.equal(out.join(''), whole, `round ${round} chunk ${chunk}`);
      }
    }
  });

  it('pieces are about `chunk` characters', () => {
    const r = result(2000);
    const out: string[] = [];
    writeSimulateJson(r, (s) => out.push(s), 20_000);
    const longest = Math.max(...r.entries.map((e) => JSON.stringify(simulateJson({ ...r, entries: [e] })).length));
    assert.ok(out.length > 5, `${out.length} pieces`);
    assert.ok(out.every((p) => p.length < 20_000 + longest + 100), 'no piece far beyond the chunk');
    assert.ok(out.slice(0, -1).every((p) => p.length >= 20_000), 'every piece but the last reaches it');
    // An empty matrix.
    const e = result(0);
    const parts: string[] = [];
    writeSimulateJson(e, (s) => parts.push(s));
    assert.equal(parts.join(''), JSON.stringify(simulateJson(e)));
  });
});
