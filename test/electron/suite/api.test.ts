/**
 * In-host tests of meshtrace through the `vscode` API: lazy activation, the command table, the
 * sample's problems in the Problems panel, a trace by command, Export Trace in three formats and
 * reload when a capture's file changes. (The editor tier tests the same through the UI.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Trace, TraceQuery } from '../../../src/core/sim/trace';

const ID = 'meshtrace.meshtrace';
const SEED_QUERY: TraceQuery = { node: 'swarm-manager', namespace: 'host', iif: 'eth1', proto: 'tcp', src: '192.168.200.1', sport: 36828, dst: '192.168.200.10', dport: 8080 };
const XSS_QUERY: TraceQuery = { node: 'evil', namespace: 'host', iif: 'eth0', proto: 'tcp', src: '10.9.0.1', sport: 40000, dst: '10.9.0.2', dport: 8080 };

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Declares the suite (called by index.ts once mocha's globals are in place). */
export function apiSuite(): void {
  describe('in-host: meshtrace through the vscode API', () => {
    const ext = vscode.extensions.getExtension(ID);

    it('is installed and not active before its views or commands are used', () => {
      assert.ok(ext, `${ID} is installed`);
      assert.equal(ext.isActive, false);
    });

    it('registers every command package.json declares, all under meshtrace.', async () => {
      await vscode.commands.executeCommand('meshtrace.openSample');
      assert.ok(ext!.isActive);
      const declared = (ext!.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
      const all = new Set(await vscode.commands.getCommands(true));
      for (const c of declared) assert.ok(all.has(c), `${c} registered`);
      assert.ok(declared.every((c) => c.startsWith('meshtrace.')));
    });

    it('puts the sample capture problems into the Problems panel at their files', async () => {
      const diags = await until('meshtrace diagnostics', () => {
        const d = vscode.languages.getDiagnostics().filter(([, list]) => list.some((x) => x.source === 'meshtrace'));
        return d.length ? d : undefined;
      });
      const readme = diags.find(([uri]) => uri.fsPath.endsWith(path.join('seed-swarm', 'README.md')));
      assert.ok(readme, 'README.md has a diagnostic');
      assert.equal(readme[1][0].message, 'not a dump kind meshtrace reads; ignored');
      assert.equal(readme[1][0].severity, vscode.DiagnosticSeverity.Information);
    });

    it('traces the demo query by command: two outcomes, 50% each', async () => {
      const t = (await vscode.commands.executeCommand('meshtrace.trace', SEED_QUERY)) as Trace;
      assert.deepEqual(t.outcomes.map((o) => [o.verdict, o.probability, `${o.final.node}/${o.final.namespace}`]), [
        ['delivered', 0.5, 'swarm-manager/web.2.mms2c65e5ygt'],
        ['delivered', 0.5, 'swarm-worker1/web.1.udlzvsraha1x'],
      ]);
    });

    it('exports the trace as Markdown, JSON and SVG', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtrace-export-'));
      for (const [format, ext] of [['markdown', 'md'], ['json', 'json'], ['svg', 'svg']]) {
        const uri = vscode.Uri.file(path.join(dir, `trace.${ext}`));
        await vscode.commands.executeCommand('meshtrace.exportTrace', format, uri);
        const text = fs.readFileSync(uri.fsPath, 'utf8');
        if (format === 'json') assert.equal((JSON.parse(text) as Trace).outcomes.length, 2);
        if (format === 'markdown') assert.match(text, /^## Outcome 2: delivered \(50%\)$/m);
        if (format === 'svg') assert.match(text, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reloads a capture when its files change, and traces the last query again', async () => {
      const src = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'xss-capture');
      const dir = fs.mkdtempSync(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, '.reload-'));
      fs.cpSync(src, dir, { recursive: true });
      try {
        await vscode.commands.executeCommand('meshtrace.loadCapture', vscode.Uri.file(dir));
        const t1 = (await vscode.commands.executeCommand('meshtrace.trace', XSS_QUERY)) as Trace;
        assert.equal(t1.outcomes[0].verdict, 'delivered');
        const file = path.join(dir, 'evil', 'host', 'iptables-save.txt');
        fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/--comment "[^"]*" -j ACCEPT/, '-j DROP'));
        const out = path.join(os.tmpdir(), `meshtrace-after-${process.pid}.json`);
        await until('the trace of the changed capture', async () => {
          await vscode.commands.executeCommand('meshtrace.exportTrace', 'json', vscode.Uri.file(out));
          const t = JSON.parse(fs.readFileSync(out, 'utf8')) as Trace;
          return t.outcomes[0]?.verdict === 'dropped' ? t : undefined;
        }, 30000);
        fs.rmSync(out, { force: true });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
