/** unit: the doctor's findings as Findings-view items and Problems-panel diagnostics. */
import * as assert from 'node:assert/strict';
import { findingDiagnostics, findingItems, findingText } from '../../../src/views/findingsModel';
import type { ViewItem } from '../../../src/views/viewItem';
import { brokenSimulation, seedSimulation } from './simulateFixtures';

describe('unit: ext findings model', () => {
  it('seed sample: one note (client IP lost to the ingress SNAT) at its SNAT rule', () => {
    const { findings } = seedSimulation().result;
    const items = findingItems(findings);
    assert.deepEqual(items.map((i) => [i.label, i.description]), [['Notes', '1']]);
    const [f] = items[0].children!();
    assert.equal(f.description, 'swarm-manager/ingress_sbox · client-ip-lost');
    assert.deepEqual(f.source, { file: 'swarm-manager/ingress_sbox/iptables-save.txt', line: 22 });
    assert.equal(f.contextValue, 'finding+source');
    const kids = f.children!();
    assert.deepEqual(kids.map((k) => k.label), [findings[0].explanation, 'swarm-manager/ingress_sbox/iptables-save.txt:22', 'fix:', 'confirm:']);
    assert.match(kids[2].description!, /^docker service update --publish-rm 8080 --publish-add mode=host/);
    assert.deepEqual(findingDiagnostics(findings).map((d) => [d.file, d.line, d.severity, d.code]), [['swarm-manager/ingress_sbox/iptables-save.txt', 21, 'info', 'client-ip-lost']]);
  });

  it('a broken copy: errors first, naming the node and the missing piece; findings without a line go to a dump of their namespace', () => {
    const { model, result } = brokenSimulation();
    const items = findingItems(result.findings);
    assert.deepEqual(items.map((i) => [i.label, i.description]), [['Errors', '3'], ['Notes', '1']]);
    const errors = items[0].children!().map((i: ViewItem) => `${i.description}: ${i.label}`);
    assert.deepEqual(errors, [
      'swarm-worker1/ingress_sbox · ipvs-missing-backend: swarm-worker1/ingress_sbox: task web.1.udlzvsraha1xwcsa212ofldjg (10.0.0.7) is missing from IPVS FWM 256 of web',
      'swarm-worker2/host · missing-dnat: swarm-worker2: published port 8080/tcp (web) has no DNAT in nat DOCKER-INGRESS',
      `swarm-worker2/host · path-broken: ${result.findings.find((f) => f.kind === 'path-broken')!.message}`,
    ]);
    const fallback = (node: string, ns: string): string | undefined => model.files.find((f) => f.node === node && f.namespace === ns && f.kind)?.path;
    const diags = findingDiagnostics(result.findings, fallback);
    assert.deepEqual(diags.map((d) => [d.code, d.file, d.line, d.severity]).sort(), [
      ['client-ip-lost', 'swarm-manager/ingress_sbox/iptables-save.txt', 21, 'info'],
      ['ipvs-missing-backend', 'swarm-worker1/ingress_sbox/ipvsadm.txt', 3, 'error'],
      ['missing-dnat', 'swarm-worker2/host/iptables-save.txt', 7, 'error'],
      ['path-broken', fallback('swarm-worker2', 'host')!, 0, 'error'],
    ]);
    // Without a fallback, a finding without a line stays out of the Problems panel (the tree has it).
    assert.equal(findingDiagnostics(result.findings).length, 3);
    const dnat = result.findings.find((f) => f.kind === 'missing-dnat')!;
    assert.ok(findingText(dnat).startsWith(`[missing-dnat] ${dnat.message}\n${dnat.explanation}`));
  });
});
