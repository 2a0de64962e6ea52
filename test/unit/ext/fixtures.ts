/** Shared inputs of the extension's unit tests: the seed sample's demo trace and the hostile capture's. */
import * as path from 'node:path';
import { loadModel } from '../../../src/node/loadCapture';
import { traceQuery } from '../../../src/core/sim/simulate';
import type { Model } from '../../../src/core/model/model';
import type { Trace, TraceQuery } from '../../../src/core/sim/trace';

export const ROOT = path.resolve(__dirname, '../../..');
export const SEED = path.join(ROOT, 'samples', 'seed-swarm');
export const XSS = path.join(ROOT, 'test', 'fixtures', 'xss-capture');
/** The README's demo query (package.json's `demo` script). */
export const SEED_QUERY: TraceQuery = { node: 'swarm-manager', namespace: 'host', iif: 'eth1', proto: 'tcp', src: '192.168.200.1', sport: 36828, dst: '192.168.200.10', dport: 8080 };
export const XSS_QUERY: TraceQuery = { node: 'evil', namespace: 'host', iif: 'eth0', proto: 'tcp', src: '10.9.0.1', sport: 40000, dst: '10.9.0.2', dport: 8080 };
/** The comment the hostile capture's rule carries. */
export const PAYLOAD = `<img src=x onerror=document.body.setAttribute('data-pwned','img')><script>document.body.setAttribute('data-pwned','script')</script>`;

let seed: { model: Model; trace: Trace } | undefined;
let xss: { model: Model; trace: Trace } | undefined;

/** The seed sample's model and demo trace (computed once). */
export function seedCase(): { model: Model; trace: Trace } {
  if (!seed) {
    const model = loadModel([SEED]);
    seed = { model, trace: traceQuery(model, SEED_QUERY) };
  }
  return seed;
}

/** The hostile capture's model and trace (computed once). */
export function xssCase(): { model: Model; trace: Trace } {
  if (!xss) {
    const model = loadModel([XSS]);
    xss = { model, trace: traceQuery(model, XSS_QUERY) };
  }
  return xss;
}
