/**
 * unit: `traceQuery(…, { views: false })` (used by the full-topology simulation, issue 6) walks
 * exactly as with views: the same outcomes, verdicts, finals, reasons, replies and steps, except
 * that every step's packet (and before) view is the NO_VIEW placeholder. Checked on the seed swarm
 * for queries that DNAT, go through IPVS and VXLAN, get replies, and fail.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { readCapture } from '../../../src/node/loadCapture';
import { buildModel } from '../../../src/core/model/buildModel';
import { NO_VIEW, traceQuery } from '../../../src/core/sim/simulate';
import { World } from '../../../src/core/sim/world';
import type { Outcome, ReplyTrace, Step, TraceQuery } from '../../../src/core/sim/trace';

const SAMPLE = path.resolve(__dirname, '../../../samples/seed-swarm');

function stripSteps(steps: Step[]): unknown[] {
  return steps.map((s) => {
    const { packet: _p, before: _b, ...rest } = s;
    return rest;
  });
}

function strip(o: Outcome | ReplyTrace): unknown {
  const { steps, ...rest } = o as Outcome;
  const out: Record<string, unknown> = { ...rest, steps: stripSteps(steps) };
  if ((o as Outcome).reply) out.reply = strip((o as Outcome).reply as ReplyTrace);
  return out;
}

describe('traceQuery with views: false', () => {
  const model = buildModel(readCapture([SAMPLE]).files);
  const world = new World(model);
  const queries: TraceQuery[] = [
    { node: 'swarm-manager', namespace: 'host', iif: 'eth1', proto: 'tcp', src: '192.168.200.1', sport: 40000, dst: '192.168.200.10', dport: 8080 },
    { node: 'swarm-manager', namespace: 'host', iif: 'eth1', proto: 'tcp', src: '192.168.200.1', sport: 40000, dst: '192.168.200.10', dport: 9999 },
    { node: 'swarm-manager', namespace: 'host', iif: 'eth1', proto: 'udp', src: '192.168.200.1', sport: 40000, dst: '192.168.200.10', dport: 8080 },
    { node: 'swarm-manager', namespace: 'host', proto: 'tcp', src: '192.168.200.10', dst: '10.0.0.6', dport: 80 },
  ];

  it('gives the same walk as with views, with placeholder views only', () => {
    let steps = 0;
    let rewritten = 0;
    for (const q of queries) {
      const full = traceQuery(model, q, world);
      const lean = traceQuery(model, q, world, { views: false });
      assert.deepEqual(lean.outcomes.map(strip), full.outcomes.map(strip), JSON.stringify(q));
      assert.deepEqual(lean.warnings, full.warnings);
      for (const o of lean.outcomes) {
        for (const s of [...o.steps, ...(o.reply?.steps ?? [])]) {
          steps++;
          assert.equal(s.packet, NO_VIEW);
          if (s.before !== undefined) assert.equal(s.before, NO_VIEW);
        }
      }
      for (const o of full.outcomes) for (const s of o.steps) if (s.before) rewritten++;
    }
    assert.ok(steps > 20, 'the queries take steps');
    assert.ok(rewritten > 0, 'some step rewrites the packet (NAT or IPVS)');
  });

  it('leaves the default (views on) as it was: real views', () => {
    const t = traceQuery(model, queries[0], world);
    const s = t.outcomes[0].steps[0];
    assert.notEqual(s.packet, NO_VIEW);
    assert.equal(s.packet.src, '192.168.200.1');
  });
});
