// One esbuild script for every entry point: the CLI, the extension (vscode external), its worker
// thread, the language server, the benchmark, and the webview scripts of the path diagram and the
// simulation matrix (for the browser, with their stylesheets). Types are checked separately by
// `tsc --noEmit`.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const entries = [
  { in: 'src/cli/main.ts', out: 'cli', banner: '#!/usr/bin/env node' },
  { in: 'src/extension.ts', out: 'extension' },
  { in: 'src/node/captureWorker.ts', out: 'worker' },
  { in: 'src/server/main.ts', out: 'server' },
  { in: 'scripts/bench.ts', out: 'bench' },
].filter((e) => existsSync(e.in));
// The webview's script runs in the page, not in Node: an IIFE for browsers, and its CSS beside it.
const webviewEntries = [
  { in: 'src/webview/main.ts', out: 'webview' },
  { in: 'src/webview/diagram.css', out: 'webview' },
  { in: 'src/webview/matrixMain.ts', out: 'matrix' },
  { in: 'src/webview/matrix.css', out: 'matrix' },
].filter((e) => existsSync(e.in));

await Promise.all([
  ...webviewEntries.map((e) =>
    esbuild.build({
      entryPoints: { [e.out]: e.in },
      bundle: true,
      platform: 'browser',
      target: 'chrome120',
      format: 'iife',
      outdir: 'dist',
      sourcemap: !production,
      minify: production,
      logLevel: 'warning',
    }),
  ),
  ...entries.map((e) =>
    esbuild.build({
      entryPoints: { [e.out]: e.in },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // jsonc-parser's UMD main uses dynamic requires esbuild cannot follow; its ESM build bundles cleanly.
      mainFields: ['module', 'main'],
      outdir: 'dist',
      external: ['vscode'],
      sourcemap: !production,
      minify: production,
      banner: e.banner ? { js: e.banner } : undefined,
      logLevel: 'warning',
    }),
  ),
]);
