/**
 * The worker thread that does meshtrace's long work off the extension host's thread: reading and
 * building a capture's model, tracing packets through it, and simulating the whole topology. It
 * keeps the last model (and the simulator's World built from it) so a trace does not send the
 * model back and forth. Started by
 * CaptureWorkerClient (captureWorkerClient.ts); bundled to dist/worker.js.
 */
import { parentPort } from 'node:worker_threads';
import { readCapture, type LoadOptions } from './loadCapture';
import { buildModel } from '../core/model/buildModel';
import { materializeModel } from '../core/parsers/lazyRule';
import { traceQuery } from '../core/sim/simulate';
import { World } from '../core/sim/world';
import type { DumpFile, Model } from '../core/model/model';
import type { Trace, TraceQuery } from '../core/sim/trace';
import { simulateTopology, type SimulateOptions, type TopologyResult } from '../core/topology/simulate';

/** A job for the worker. `extra` are dumps that do not come from disk (pastes). */
export type WorkRequest =
  | { id: number; op: 'load'; paths: string[]; extra: DumpFile[]; opts?: LoadOptions }
  | { id: number; op: 'trace'; query: TraceQuery }
  /** Simulates the whole topology of `model` (which then becomes the worker's model), else of the loaded one. */
  | { id: number; op: 'simulate'; model?: Model; opts?: SimulateOptions };

/** The worker's answer to one job. */
export type WorkReply = { id: number; ok: true; model?: Model; trace?: Trace; result?: TopologyResult } | { id: number; ok: false; error: string };

let model: Model | undefined;
let world: World | undefined;

/** Loads paths plus extra dumps into a model, as loadModel does for paths alone. */
export function loadWithExtra(paths: string[], extra: DumpFile[], opts: LoadOptions = {}): Model {
  const { files, problems } = readCapture(paths, opts);
  const m = buildModel([...files, ...extra]);
  m.problems.unshift(...problems);
  return m;
}

/** Runs one job against the worker's state. */
export function handle(req: WorkRequest): WorkReply {
  try {
    if (req.op === 'load') {
      // The model goes back by structured clone, which copies data, not getters: every rule
      // whose spec waits (parsers/lazyRule.ts) is made plain first.
      model = materializeModel(loadWithExtra(req.paths, req.extra, req.opts));
      world = undefined;
      return { id: req.id, ok: true, model };
    }
    if (req.op === 'simulate' && req.model) {
      model = req.model;
      world = undefined;
    }
    if (!model) return { id: req.id, ok: false, error: 'no capture is loaded in the worker' };
    if (req.op === 'simulate') return { id: req.id, ok: true, result: simulateTopology(model, req.opts) };
    world ??= new World(model);
    return { id: req.id, ok: true, trace: traceQuery(model, req.query, world) };
  } catch (e) {
    return { id: req.id, ok: false, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) };
  }
}

const port = parentPort;
if (port) port.on('message', (req: WorkRequest) => port.postMessage(handle(req)));
