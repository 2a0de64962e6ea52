/**
 * Runs loads and traces in a worker thread (captureWorker.ts), with cancellation: aborting a job
 * terminates the worker, and the next job starts a fresh one, loading the last capture again
 * first when it needs the model. No `vscode` here: the extension wraps it in a progress
 * notification, the tests use it directly.
 */
import type { Worker } from 'node:worker_threads';
import type { DumpFile, Model } from '../core/model/model';
import type { Trace, TraceQuery } from '../core/sim/trace';
import type { SimulateOptions, TopologyResult } from '../core/topology/simulate';
import type { LoadOptions } from './loadCapture';
import { materializeModel } from '../core/parsers/lazyRule';
import type { WorkReply, WorkRequest } from './captureWorker';

/** Thrown (as a rejection) when a job was cancelled. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

type LoadJob = { paths: string[]; extra: DumpFile[]; opts?: LoadOptions };
type Job = ({ op: 'load' } & LoadJob) | { op: 'trace'; query: TraceQuery } | { op: 'simulate'; model?: Model; opts?: SimulateOptions };

/** A long-lived worker with a queue of one job at a time. */
export class CaptureWorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private lastLoad: LoadJob | undefined;
  /** True when the running worker holds the model of `lastLoad`. */
  private loaded = false;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = new Map<number, { resolve: (r: WorkReply) => void; reject: (e: Error) => void }>();

  /** `spawn` starts a worker running captureWorker's message loop. */
  constructor(private readonly spawn: () => Worker) {}

  /** Loads a capture (paths from disk plus extra dumps) and returns its model. */
  async load(paths: string[], extra: DumpFile[] = [], opts?: LoadOptions, signal?: AbortSignal): Promise<Model> {
    const job: LoadJob = { paths, extra, opts };
    const r = await this.enqueue({ op: 'load', ...job }, signal);
    this.lastLoad = job;
    this.loaded = true;
    if (!r.model) throw new Error('the worker returned no model');
    return r.model;
  }

  /** Traces a packet through the last loaded capture. */
  async trace(query: TraceQuery, signal?: AbortSignal): Promise<Trace> {
    const r = await this.enqueue({ op: 'trace', query }, signal);
    if (!r.trace) throw new Error('the worker returned no trace');
    return r.trace;
  }

  /**
   * Simulates the whole topology (simulateTopology) in the worker. With `model`, the worker takes
   * that model (a client whose worker never loaded it); without, it uses the last loaded capture.
   */
  async simulate(model?: Model, opts?: SimulateOptions, signal?: AbortSignal): Promise<TopologyResult> {
    const r = await this.enqueue({ op: 'simulate', model, opts }, signal);
    if (!r.result) throw new Error('the worker returned no simulation');
    return r.result;
  }

  /** Ends the worker. */
  dispose(): void {
    this.stop(new CancelledError());
  }

  private enqueue(job: Job, signal?: AbortSignal): Promise<WorkReply & { ok: true }> {
    const run = async (): Promise<WorkReply & { ok: true }> => {
      if (signal?.aborted) throw new CancelledError();
      if ((job.op === 'trace' || (job.op === 'simulate' && !job.model)) && !this.loaded) {
        if (!this.lastLoad) throw new Error('no capture is loaded');
        await this.send({ op: 'load', ...this.lastLoad }, signal);
        this.loaded = true;
      }
      return this.send(job, signal);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = this.spawn();
    w.on('message', (r: WorkReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.resolve(r);
    });
    w.on('error', (e) => this.stop(e instanceof Error ? e : new Error(String(e))));
    w.on('exit', (code) => {
      if (this.worker === w) this.stop(new Error(`the meshtrace worker stopped (exit code ${code})`));
    });
    this.worker = w;
    this.loaded = false;
    return w;
  }

  private stop(reason: Error): void {
    const w = this.worker;
    this.worker = undefined;
    this.loaded = false;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    if (w) void w.terminate();
  }

  private send(job: Job, signal?: AbortSignal): Promise<WorkReply & { ok: true }> {
    return new Promise((resolve, reject) => {
      const w = this.ensure();
      const id = this.nextId++;
      const onAbort = (): void => this.stop(new CancelledError());
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          if (r.ok) resolve(r);
          else reject(new Error(r.error));
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      // A structured clone copies data, not getters: rules whose spec waits are made plain first.
      if (job.op === 'simulate' && job.model) materializeModel(job.model);
      w.postMessage({ id, ...job } satisfies WorkRequest);
    });
  }
}
