/**
 * Benchmark case `simulate-100x1000`: `meshtrace synth` makes a swarm of 100 nodes with 1,000
 * published ports (20 services × 50-port ranges, 2 replicas each, 5 of them also on a backend
 * overlay), then `meshtrace simulate --json` runs on it in a fresh `node` process, so the time
 * and peak memory are the command's own (load + simulation + doctor + JSON output).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import type { BenchCase } from './bench';
import { synthesize } from '../src/core/topology/synth';

/** The description of the benchmark swarm. */
export function benchDescription(nodes: number, services: number, portsPer: number): string {
  let y = 'services:\n';
  for (let s = 0; s < services; s++) {
    const from = 10000 + s * portsPer;
    y += `  s${s}:\n    image: nginx:latest\n    ports: ["${from}-${from + portsPer - 1}:8000-${8000 + portsPer - 1}"]\n    deploy: { replicas: 2 }\n`;
    if (s < 5) y += '    networks: [backend]\n';
  }
  y += 'networks:\n  backend: { driver: overlay, ipam: { config: [{ subnet: 10.0.8.0/22 }] } }\n';
  y += 'x-meshtrace:\n  docker: "20.10.5"\n  defaultNetwork: false\n  ingress: { subnet: 10.0.0.0/22 }\n  nodes:\n';
  for (let n = 0; n < nodes; n++) y += `    - { name: node${String(n).padStart(3, '0')}, addr: 198.18.${n >> 8}.${(n & 255) + 1}/16, role: ${n < 3 ? 'manager' : 'worker'} }\n`;
  return y;
}

interface ChildResult {
  ms: number;
  cpuMs: number;
  peakRss: number;
  bytes: number;
  summary: { entries: number; ok: number; traces: number; classes: number; ms: Record<string, number>; findings: Record<string, number> };
  exit: number;
}

/** Runs `meshtrace simulate DIR --json` in a fresh node process; the bundled CLI sits beside dist/bench.js. */
function runChild(cli: string, dir: string): Promise<ChildResult> {
  const script = `
    const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage();
    let bytes = 0; const pieces = [];
    // As the CLI prints it: in pieces through \`write\` (kept here, joined after the clock stops).
    const keep = (s) => { bytes += s.length; pieces.push(s); };
    const exit = require(${JSON.stringify(cli)}).main(['simulate', ${JSON.stringify(dir)}, '--json'], keep, (s) => process.stderr.write(s + '\\n'), keep);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6; const cpu = process.cpuUsage(c0);
    const summary = JSON.parse(pieces.join('')).summary;
    process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, peakRss: process.resourceUsage().maxRSS * 1024, bytes, summary, exit }) + '\\n');`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '-e', script], { maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`simulate child failed: ${err.message} ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ChildResult);
    });
  });
}

/** The benchmark case; the lead registers it in scripts/bench.ts. */
export const benchSimulate: BenchCase = {
  name: 'simulate-100x1000',
  description: 'meshtrace simulate on a synthesised swarm of 100 nodes × 1,000 published ports (target < 10 s)',
  async run(opts) {
    const dir = path.join(opts.dataDir, 'simulate-100x1000');
    const t0 = Date.now();
    const r = synthesize(benchDescription(100, 20, 50), 'bench.yml');
    fs.rmSync(dir, { recursive: true, force: true });
    let bytes = 0;
    for (const f of r.files) {
      const p = path.join(dir, f.path);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.text);
      bytes += f.text.length;
    }
    console.log(`  input: ${dir}: ${r.facts.nodes.length} nodes, ${r.facts.services.length} services, ${r.facts.tasks.length} tasks, ${r.files.length} files, ${(bytes / 1048576).toFixed(1)} MB (synthesised in ${Date.now() - t0} ms)`);
    const cli = path.join(__dirname, 'cli.js');
    if (!__filename.endsWith('.js') || !fs.existsSync(cli)) {
      console.log('  simulate: not run (needs the bundled dist/cli.js beside dist/bench.js: npm run bench)');
      return;
    }
    const results: ChildResult[] = [];
    for (let i = 0; i < opts.runs; i++) results.push(await runChild(cli, dir));
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const s = results[0].summary;
    console.log(`  simulate: ${s.entries.toLocaleString('en-US')} entries (${s.ok.toLocaleString('en-US')} ok), ${s.traces} traces for ${s.classes} port classes; findings ${JSON.stringify(s.findings)}`);
    console.log(`  phases (first run, ms): ${JSON.stringify(s.ms)}`);
    const wall = med(results.map((x) => x.ms));
    console.log(`  meshtrace simulate --json (load + simulate + doctor + JSON): median ${wall.toFixed(0)} ms wall, ${med(results.map((x) => x.cpuMs)).toFixed(0)} ms CPU of ${opts.runs} (${results.map((x) => x.ms.toFixed(0)).join(', ')}); output ${(results[0].bytes / 1048576).toFixed(1)} MB`);
    console.log(`  peak rss (child process): ${(Math.max(...results.map((x) => x.peakRss)) / 1048576).toFixed(0)} MB; target < 10 s: ${wall < 10000 ? 'met' : 'NOT met'}`);
  },
};
