/** The seed sample's full-topology simulation, and that of a broken copy (computed once each). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../../src/node/loadCapture';
import { simulateTopology, type TopologyResult } from '../../../src/core/topology/simulate';
import type { Model } from '../../../src/core/model/model';
import { SEED } from './fixtures';

let seed: { model: Model; result: TopologyResult } | undefined;
let broken: { model: Model; result: TopologyResult } | undefined;

/** The seed sample simulated. */
export function seedSimulation(): { model: Model; result: TopologyResult } {
  if (!seed) {
    const model = loadModel([SEED]);
    seed = { model, result: simulateTopology(model) };
  }
  return seed;
}

/**
 * A copy of the seed sample without web.1's IPVS real server on swarm-worker1 and without the
 * 8080 DNAT rule on swarm-worker2, simulated.
 */
export function brokenSimulation(): { model: Model; result: TopologyResult } {
  if (!broken) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtrace-broken-'));
    try {
      fs.cpSync(SEED, tmp, { recursive: true });
      const drop = (file: string, re: RegExp): void => {
        const p = path.join(tmp, file);
        const lines = fs.readFileSync(p, 'utf8').split('\n');
        const kept = lines.filter((l) => !re.test(l));
        if (kept.length !== lines.length - 1) throw new Error(`expected one line matching ${re} in ${file}`);
        fs.writeFileSync(p, kept.join('\n'));
      };
      drop('swarm-worker1/ingress_sbox/ipvsadm.txt', /-> 10\.0\.0\.7:0/);
      drop('swarm-worker2/host/iptables-save.txt', /DNAT --to-destination 172\.18\.0\.2:8080/);
      const model = loadModel([tmp]);
      broken = { model, result: simulateTopology(model) };
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return broken;
}
