/** `meshtrace load`: prints what the model holds, and every problem as file:line:col. */
import { loadModel } from '../node/loadCapture';
import { formatProblem } from '../core/problem';
import { summarizeModel } from '../core/model/summary';
import { writeJson } from './jsonOut';

/** Options of `meshtrace load`. */
export interface LoadCliOptions {
  json: boolean;
  node?: string;
  namespace?: string;
  quiet: boolean;
}

/**
 * Runs `meshtrace load`; returns the exit status. `write` (text as it is, no line break added)
 * takes `--json` in pieces: a big capture's model is more JSON than one string can hold.
 */
export function runLoad(paths: string[], o: LoadCliOptions, out: (s: string) => void, err: (s: string) => void, write?: (s: string) => void): number {
  const model = loadModel(paths, { node: o.node, namespace: o.namespace });
  const dumps = model.files.filter((f) => f.kind).length;
  if (o.json) {
    if (write) {
      writeJson(model, 1, write);
      write('\n');
    } else out(JSON.stringify(model, null, 1));
  } else {
    out(summarizeModel(model).join('\n'));
    const shown = o.quiet ? model.problems.filter((p) => p.severity !== 'info') : model.problems;
    if (shown.length) {
      out('');
      out(`problems (${shown.length}):`);
      for (const p of shown) out('  ' + formatProblem(p));
    }
  }
  if (dumps === 0) {
    const first = model.problems.find((p) => p.severity === 'error') ?? model.problems[0];
    err(`meshtrace load: no dump could be read from ${paths.join(', ')}${first ? ` (${formatProblem(first)})` : ''}`);
    return 2;
  }
  return 0;
}
