/** `meshtrace synth`: builds a capture folder from a compose/stack description and a node list. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatProblem } from '../core/problem';
import { synthesize } from '../core/topology/synth';

/** Options of `meshtrace synth`. */
export interface SynthCliOptions {
  out?: string;
  force: boolean;
}

/** Runs `meshtrace synth`; returns the exit status. */
export function runSynth(file: string, o: SynthCliOptions, out: (s: string) => void, err: (s: string) => void): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    err(`meshtrace synth: cannot read ${file}: ${(e as Error).message}`);
    return 2;
  }
  const r = synthesize(text, path.basename(file));
  for (const p of r.problems) err(formatProblem(p));
  if (r.problems.some((p) => p.severity === 'error') || r.files.length === 0) {
    err(`meshtrace synth: ${file}: no capture made`);
    return 2;
  }
  const dir = o.out ?? path.join(path.dirname(file), `${path.basename(file).replace(/\.(ya?ml|json)$/i, '')}-capture`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0 && !o.force) {
    err(`meshtrace synth: ${dir} exists and is not empty (use --force to write into it)`);
    return 2;
  }
  for (const f of r.files) {
    const p = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, f.text);
  }
  out(`wrote ${r.files.length} files for ${r.facts.nodes.length} nodes, ${r.facts.services.length} services, ${r.facts.tasks.length} tasks to ${dir}`);
  return 0;
}
