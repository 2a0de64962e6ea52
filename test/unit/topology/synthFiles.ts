/**
 * Synthesised files as the loader reads them from disk (src/node/loadCapture.ts): a file holding
 * a bundle is split as a bundle; any other is the dump of `<node>/<namespace>/<file>` (or
 * `<node>/<file>`, namespace ''). For tests that build models from `synthesize` in memory.
 */
import type { DumpFile } from '../../../src/core/model/model';
import { isBundle, parseBundle } from '../../../src/core/parsers/parseBundle';
import type { SynthFile } from '../../../src/core/topology/synth';

export function synthDumpFiles(files: SynthFile[]): DumpFile[] {
  return files.flatMap((f) => {
    if (isBundle(f.text)) return parseBundle(f.text, f.path).value;
    const parts = f.path.split('/');
    return [{ path: f.path, node: parts[0], namespace: parts.length > 2 ? parts[1] : '', text: f.text, lineOffset: 0 }];
  });
}
