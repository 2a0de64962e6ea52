/**
 * The in-host test suite: runs inside a real VS Code's extension host with the real `vscode` API,
 * loaded by @vscode/test-electron (desktop VS Code) or through code-server's
 * `extensionTestsPath` page parameter (the editor tier does that here). Exports `run()` as both
 * expect; bundled to out/electron-suite/index.js by test/electron/buildSuite.ts.
 */
import * as path from 'node:path';
import Mocha from 'mocha';
import { apiSuite } from './api.test';

/** Runs the suite; rejects when a test fails. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, path.join(__dirname, 'api.test.js'), mocha);
  apiSuite();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} in-host test(s) failed`)) : resolve()));
  });
}
