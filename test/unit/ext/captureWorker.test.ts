/** unit: loading and tracing in a worker thread, and cancelling. */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, CaptureWorkerClient } from '../../../src/node/captureWorkerClient';
import { SEED, SEED_QUERY, ROOT, seedCase } from './fixtures';

/** Starts the worker from its TypeScript source through tsx (the extension runs dist/worker.js). */
function spawn(): Worker {
  const entry = path.join(ROOT, 'src', 'node', 'captureWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true });
}

describe('unit: ext capture worker', function () {
  this.timeout(60000);
  let client: CaptureWorkerClient;
  beforeEach(() => (client = new CaptureWorkerClient(spawn)));
  afterEach(() => client.dispose());

  it('loads the seed sample and traces the demo query off the main thread, as the core does in-process', async () => {
    const model = await client.load([SEED]);
    assert.equal(model.nodes.length, 3);
    const trace = await client.trace(SEED_QUERY);
    assert.deepEqual(trace, seedCase().trace);
  });

  it('adds pasted dumps to the capture', async () => {
    const text = '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n';
    const model = await client.load([], [{ path: 'paste-1.txt', node: 'n1', namespace: 'host', text, lineOffset: 0, kind: 'ip-addr' }]);
    assert.deepEqual(model.nodes.map((n) => n.name), ['n1']);
    assert.deepEqual(model.files.map((f) => [f.path, f.kind]), [['paste-1.txt', 'ip-addr']]);
  });

  it('cancels a job by ending the worker, then works again (reloading the capture first)', async () => {
    await client.load([SEED]);
    const ac = new AbortController();
    const p = client.trace(SEED_QUERY, ac.signal);
    ac.abort();
    await assert.rejects(p, CancelledError);
    const again = await client.trace(SEED_QUERY);
    assert.equal(again.outcomes.length, 2);
  });

  it('refuses a trace before any load', async () => {
    await assert.rejects(client.trace(SEED_QUERY), /no capture is loaded/);
  });
});
