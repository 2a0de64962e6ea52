/** unit: the full-topology simulation in the worker thread, with a model handed over, and cancelling it. */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, CaptureWorkerClient } from '../../../src/node/captureWorkerClient';
import { ROOT, SEED } from './fixtures';
import { seedSimulation } from './simulateFixtures';

/** Starts the worker from its TypeScript source through tsx (the extension runs dist/worker.js). */
function spawn(): Worker {
  const entry = path.join(ROOT, 'src', 'node', 'captureWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true });
}

describe('unit: ext simulation in the worker', function () {
  this.timeout(60000);
  let client: CaptureWorkerClient;
  beforeEach(() => (client = new CaptureWorkerClient(spawn)));
  afterEach(() => client.dispose());

  /** The result without its timings (they differ run to run). */
  const strip = (r: ReturnType<typeof seedSimulation>['result']): unknown => ({ ...r, summary: { ...r.summary, ms: {} } });

  it('simulates a model handed over (a worker that never loaded it) as the core does in-process', async () => {
    const { model, result } = seedSimulation();
    const r = await client.simulate(model);
    assert.deepEqual(strip(r), strip(result));
    assert.equal(r.entries.filter((e) => e.kind === 'published-port' && e.port === 8080).length, 3);
  });

  it('simulates the loaded capture, and cancels by ending the worker, then works again', async () => {
    await client.load([SEED]);
    const ac = new AbortController();
    const p = client.simulate(undefined, {}, ac.signal);
    ac.abort();
    await assert.rejects(p, CancelledError);
    const again = await client.simulate();
    assert.equal(again.summary.entries, 5);
    assert.equal(again.summary.ok, 5);
  });
});
