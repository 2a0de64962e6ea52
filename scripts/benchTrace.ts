/**
 * Bench case: tracing after load on the 320,006-rule kube-proxy dump. Each query is a new
 * connection to a ClusterIP spread over KUBE-SERVICES; it fans out to every endpoint
 * (`-m statistic`) and each outcome's reply is traced back. Reported per trace and per packet path
 * (outcome), beside a linear-scan baseline (the destination index off) in the same process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BenchCase } from './bench';
import { genKubeProxySave } from './genKubeProxy';
import { buildModel } from '../src/core/model/buildModel';
import { traceQuery } from '../src/core/sim/simulate';
import { setRuleIndex } from '../src/core/sim/netfilter';
import { World } from '../src/core/sim/world';
import type { TraceQuery } from '../src/core/sim/trace';

const ADDR = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 02:00:00:00:00:05 brd ff:ff:ff:ff:ff:ff
    inet 203.0.113.5/24 brd 203.0.113.255 scope global eth0
`;

/** Medians of per-query times. */
function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export const benchTrace: BenchCase = {
  name: 'trace',
  description: 'traceQuery per packet on the kube-proxy dump, indexed vs a linear-scan baseline',
  async run(opts) {
    const file = path.join(opts.dataDir, `kube-proxy-${opts.services}x${opts.endpoints}.iptables-save`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(opts.dataDir, { recursive: true });
      fs.writeFileSync(file, genKubeProxySave(opts.services, opts.endpoints));
    }
    const text = fs.readFileSync(file, 'utf8');
    const model = buildModel([
      { path: 'node/host/iptables-save.txt', node: 'node', namespace: 'host', text, lineOffset: 0 },
      { path: 'node/host/ip-addr.txt', node: 'node', namespace: 'host', text: ADDR, lineOffset: 0 },
    ]);
    const world = new World(model);
    const svc = text.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('--dport'));
    const queries: TraceQuery[] = [];
    for (let i = 0; i < svc.length; i += Math.max(1, Math.floor(svc.length / 200))) {
      const d = /-d (\S+)\/32/.exec(svc[i]);
      const p = /--dport (\d+)/.exec(svc[i]);
      if (d && p) queries.push({ node: 'node', namespace: 'host', iif: 'eth0', proto: 'tcp', src: '203.0.113.77', dst: d[1], dport: Number(p[1]) });
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    const measure = (indexed: boolean): { perTrace: number; perPath: number; outcomes: number } => {
      setRuleIndex(indexed);
      for (const q of queries.slice(0, 10)) traceQuery(model, q, world);
      gc?.();
      const times: number[] = [];
      let outcomes = 0;
      for (let r = 0; r < opts.runs; r++) {
        for (const q of queries) {
          const t0 = process.hrtime.bigint();
          const t = traceQuery(model, q, world);
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
          outcomes += t.outcomes.length;
        }
      }
      const perTrace = medianOf(times);
      const avgOutcomes = outcomes / times.length;
      return { perTrace, perPath: perTrace / avgOutcomes, outcomes: avgOutcomes };
    };
    const linear = measure(false);
    const indexed = measure(true);
    setRuleIndex(true);
    console.log(`  ${queries.length} ClusterIP queries spread over ${svc.length.toLocaleString('en-US')} KUBE-SERVICES rules, ${indexed.outcomes.toFixed(0)} outcomes each (one per endpoint), replies traced`);
    console.log(`  linear-scan baseline: median ${linear.perTrace.toFixed(2)} ms per trace, ${linear.perPath.toFixed(3)} ms per packet path`);
    console.log(`  meshtrace (indexed):  median ${indexed.perTrace.toFixed(2)} ms per trace, ${indexed.perPath.toFixed(3)} ms per packet path`);
    console.log(`  ratio linear / indexed = ${(linear.perTrace / indexed.perTrace).toFixed(1)}x (target <= 1 ms per packet: ${indexed.perPath <= 1 ? 'met' : 'NOT met'})`);
  },
};
