/** Bundles the in-host suite (test/electron/suite) to out/electron-suite/index.js; vscode and mocha stay external. */
import * as esbuild from 'esbuild';
import * as path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** Where the bundled suite's `run()` lives. */
export const SUITE = path.join(ROOT, 'out', 'electron-suite', 'index.js');

/** Builds the suite bundle; returns its path. */
export async function buildSuite(): Promise<string> {
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'test', 'electron', 'suite', 'index.ts')],
    outfile: SUITE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return SUITE;
}
