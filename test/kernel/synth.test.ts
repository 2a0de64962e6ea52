/**
 * Kernel tier: every iptables-save file `meshtrace synth` writes (host, ingress_sbox, lb_ and task
 * namespaces; the ≤ 28.0.0 and the 28.2+/29 layouts) is real `iptables-restore --test` input,
 * checked in a namespace of this run's own (`mt-<random>-synth`). TEST-NET addresses only.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { synthesize } from '../../src/core/topology/synth';
import { Lab, requireLab } from './lab';

const FIXTURE = path.resolve(__dirname, '../unit/topology/fixtures/seed-swarm.yml');

/** A small swarm on TEST-NET-2 in the given Docker version's layout. */
function description(docker: string): string {
  return `services:
  web: { image: nginx, ports: ["8080:80", "5353:53/udp"], networks: [back], deploy: { replicas: 2 } }
  api: { image: nginx, ports: ["9000-9003:9000-9003"], networks: [back], deploy: { replicas: 1 } }
networks:
  back: { driver: overlay }
x-meshtrace:
  docker: "${docker}"
  nodes:
    - { name: n1, addr: 198.51.100.10/24, role: manager }
    - { name: n2, addr: 198.51.100.11/24 }
`;
}

describe('kernel: synthesised iptables-save files are iptables-restore input', function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  let ns = '';

  before(async function () {
    requireLab(this, ['iptables-restore']);
    lab = new Lab();
    ns = await lab.addNamespace('synth');
  });

  after(async () => {
    await lab?.dispose();
  });

  const cases: [string, string][] = [
    ['the seed swarm (Docker 20.10)', fs.readFileSync(FIXTURE, 'utf8')],
    ['Docker 28.0.1 layout', description('28.0.1')],
    ['Docker 29 layout', description('29.0.1')],
  ];
  for (const [name, text] of cases) {
    it(name, async () => {
      const r = synthesize(text);
      assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), []);
      const dumps = r.files.filter((f) => f.path.endsWith('/iptables-save.txt') && f.text.trim() !== '');
      assert.ok(dumps.length >= 6, `${dumps.length} iptables-save files`);
      for (const f of dumps) {
        // The kernel may lack xt_ipvs (`-m ipvs`): that line alone is checked only where it loads.
        try {
          await lab?.iptablesRestore(ns, f.text, { test: true });
        } catch (e) {
          const msg = (e as Error).message;
          if (/ipvs/i.test(msg) && /-m ipvs/.test(f.text)) {
            await lab?.iptablesRestore(ns, f.text.split('\n').filter((l) => !/-m ipvs/.test(l)).join('\n'), { test: true });
            console.log(`      note: ${f.path}: the kernel has no xt_ipvs; checked without the -m ipvs line`);
            continue;
          }
          assert.fail(`${f.path} is not iptables-restore input: ${msg}`);
        }
      }
    });
  }
});
