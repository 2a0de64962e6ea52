/**
 * Editor tier harness: a real VS Code (code-server 4.100.3, installed by install-code-server.sh
 * into .vscode-test/code-server) with the freshly packaged .vsix installed into a clean
 * extensions folder, driven by Debian's Chromium through playwright-core. Everything it writes
 * goes to a temporary folder (XDG dirs, HOME, user data, extensions, workspace, browser profile),
 * except the screenshots, which go to test-artifacts/screenshots/ (CI keeps them as artifacts).
 * See ../shared/docs/real-vscode.md for why each switch is there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** Where screenshots go; the README names this folder. */
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
export const CODE_SERVER_VERSION = '4.100.3';
const CODE_SERVER_DIR = path.join(ROOT, '.vscode-test', 'code-server');
const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.MESHTRACE_CHROMIUM ?? '/usr/bin/chromium';
/** The packaged extension (package.json's `package` script writes it). */
export const VSIX = path.join(ROOT, 'meshtrace.vsix');

/** Milliseconds since `t0`, for the timing lines the tier prints. */
export function since(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Makes sure the tools are there: Chromium, code-server (installing it when missing) and the
 * .vsix (packaging it afresh). Returns undefined when ready, or why the tier cannot run.
 */
export function prepareTools(log: (s: string) => void, opts: { packageVsix?: boolean } = {}): string | undefined {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium fonts-liberation, or set MESHTRACE_CHROMIUM)`;
  if (!fs.existsSync(CODE_SERVER_ENTRY)) {
    const t0 = Date.now();
    log(`installing code-server ${CODE_SERVER_VERSION} into .vscode-test/code-server (test/editor/install-code-server.sh)…`);
    const r = spawnSync('bash', [path.join(ROOT, 'test', 'editor', 'install-code-server.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 15 * 60 * 1000 });
    if (r.status !== 0 || !fs.existsSync(CODE_SERVER_ENTRY)) return `code-server could not be installed (${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ') || `exit ${r.status}`})`;
    log(`code-server installed in ${since(t0)}`);
  }
  if (opts.packageVsix === false) return undefined;
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', 'package'], { cwd: ROOT, encoding: 'utf8', timeout: 5 * 60 * 1000 });
  if (r.status !== 0 || !fs.existsSync(VSIX)) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
  log(`packaged ${path.relative(ROOT, VSIX)} (${(fs.statSync(VSIX).size / 1024).toFixed(0)} KB) in ${since(t0)}`);
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A code-server with its own user data, extensions and workspace, and a browser on it. */
export class Editor {
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtrace-editor-'));
  readonly userData = path.join(this.tmp, 'user-data');
  readonly extensions = path.join(this.tmp, 'extensions');
  readonly workspace = path.join(this.tmp, 'workspace');
  private server: ChildProcess | undefined;
  private serverLog = '';
  private context: BrowserContext | undefined;
  page!: Page;
  port = 0;
  /** Console errors of the workbench page and its frames. */
  readonly consoleErrors: string[] = [];
  /** Dialogs (alert/confirm/prompt) any frame opened: a script from a dump would show here. */
  readonly dialogs: string[] = [];

  private env(): NodeJS.ProcessEnv {
    const home = path.join(this.tmp, 'home');
    for (const d of ['home', 'xdg-config', 'xdg-data', 'xdg-cache']) fs.mkdirSync(path.join(this.tmp, d), { recursive: true });
    return {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(this.tmp, 'xdg-config'),
      XDG_DATA_HOME: path.join(this.tmp, 'xdg-data'),
      XDG_CACHE_HOME: path.join(this.tmp, 'xdg-cache'),
      // Marketplace look-ups stay on loopback (nothing listens on port 9).
      EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item', resourceUrlTemplate: 'http://127.0.0.1:9/{publisher}/{name}/{version}/{path}' }),
    };
  }

  private cs(args: string[]): string[] {
    return [CODE_SERVER_ENTRY, '--user-data-dir', this.userData, '--extensions-dir', this.extensions, ...args];
  }

  /** Writes user settings and the workspace (folders copied from the repository). */
  setUp(workspaceFolders: Record<string, string>): void {
    fs.mkdirSync(path.join(this.userData, 'User'), { recursive: true });
    fs.mkdirSync(this.extensions, { recursive: true });
    fs.writeFileSync(
      path.join(this.userData, 'User', 'settings.json'),
      JSON.stringify(
        {
          'telemetry.telemetryLevel': 'off',
          'update.mode': 'none',
          'extensions.autoUpdate': false,
          'extensions.autoCheckUpdates': false,
          'extensions.ignoreRecommendations': true,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'workbench.enableExperiments': false,
          'security.workspace.trust.enabled': false,
          'workbench.colorTheme': 'Default Dark Modern',
          'window.restoreWindows': 'none',
          'chat.commandCenter.enabled': false,
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
        },
        null,
        2,
      ),
    );
    for (const [name, from] of Object.entries(workspaceFolders)) fs.cpSync(path.join(ROOT, from), path.join(this.workspace, name), { recursive: true });
  }

  /** `code-server --install-extension <vsix>` into the clean extensions folder; returns its output. */
  installExtension(vsix: string): string {
    const r = spawnSync(process.execPath, this.cs(['--install-extension', vsix]), { env: this.env(), encoding: 'utf8', timeout: 120000 });
    const out = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) throw new Error(`--install-extension failed (${r.status}):\n${out}`);
    return out;
  }

  /** `code-server --list-extensions --show-versions`. */
  listExtensions(): string[] {
    const r = spawnSync(process.execPath, this.cs(['--list-extensions', '--show-versions']), { env: this.env(), encoding: 'utf8', timeout: 60000 });
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[\w-]+\.[\w-]+@/.test(l));
  }

  /** Starts code-server on a free loopback port and waits for /healthz. */
  async start(): Promise<void> {
    this.port = await freePort();
    const args = this.cs([
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${this.port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      this.workspace,
    ]);
    this.server = spawn(process.execPath, args, { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.server.stdout?.on('data', (d: Buffer) => (this.serverLog += d.toString()));
    this.server.stderr?.on('data', (d: Buffer) => (this.serverLog += d.toString()));
    await until('code-server /healthz', async () => {
      if (this.server?.exitCode !== null) throw new Error(`code-server exited (${this.server?.exitCode}):\n${this.serverLog}`);
      const r = await fetch(`http://127.0.0.1:${this.port}/healthz`).catch(() => undefined);
      return r?.ok ? true : undefined;
    }, 60000, 250);
  }

  /** Opens Chromium on the workbench and waits until the workbench has started. */
  async open(viewport = { width: 1600, height: 1000 }): Promise<Page> {
    const profile = path.join(this.tmp, 'chromium-profile');
    fs.mkdirSync(profile, { recursive: true });
    this.context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport,
      env: this.env() as Record<string, string>,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
    });
    this.page = this.context.pages()[0] ?? (await this.context.newPage());
    this.page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(m.text());
    });
    this.page.on('dialog', (d) => {
      this.dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    await this.page.goto(`http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.workspace)}`);
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 60000 });
    // The status bar comes first; the workbench is usable once the extensions' contributions
    // (meshtrace's activity-bar entry) and the Explorer's files are there.
    await this.page.locator('.part.activitybar .action-item a[aria-label^="meshtrace"], .part.activitybar .action-item[aria-label^="meshtrace"]').first().waitFor({ state: 'attached', timeout: 60000 });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: 60000 });
    return this.page;
  }

  /**
   * Runs an in-host test suite (a module exporting `run()`, as for @vscode/test-electron) with
   * the extension loaded from `devPath`: code-server's CLI refuses the two switches, but its web
   * workbench reads them from the page URL's `payload`. Resolves to the exit code and the
   * extension host's console output.
   */
  async runInHostSuite(devPath: string, suite: string, timeoutMs = 180000): Promise<{ code: number; log: string[] }> {
    const profile = path.join(this.tmp, 'chromium-profile-suite');
    fs.mkdirSync(profile, { recursive: true });
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      env: this.env() as Record<string, string>,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
    });
    const log: string[] = [];
    try {
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      let exit: (code: number) => void = () => undefined;
      const exited = new Promise<number>((r) => (exit = r));
      await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
      await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
        // The extension host's console calls, printf-style (mocha's spec reporter uses %s and %d).
        const list = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
        let text = list.shift() ?? '';
        text = text.replace(/%[sdi]/g, () => (list.length ? String(list.shift()) : ''));
        log.push(`${type}: ${[text, ...list].join(' ')}`);
      });
      const payload = JSON.stringify([
        ['extensionDevelopmentPath', `vscode-remote://remote${devPath}`],
        ['extensionTestsPath', `vscode-remote://remote${suite}`],
      ]);
      await page.goto(`http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.workspace)}&payload=${encodeURIComponent(payload)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<number>((_, reject) => (timer = setTimeout(() => reject(new Error(`the in-host suite did not finish in ${timeoutMs} ms:\n${log.join('\n')}`)), timeoutMs)));
      const code = await Promise.race([exited, late]).finally(() => clearTimeout(timer));
      return { code, log };
    } finally {
      await ctx.close().catch(() => undefined);
    }
  }

  /** Puts text on the clipboard the workbench reads (Chromium asks for permission; granted here). */
  async setClipboard(text: string): Promise<void> {
    await this.context!.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${this.port}` });
    await this.page.evaluate((t) => navigator.clipboard.writeText(t), text);
  }

  /** Saves a screenshot under test-artifacts/screenshots/ (once meshtrace's progress toasts are gone). */
  async screenshot(name: string): Promise<string> {
    await until('meshtrace progress notifications to close', async () => ((await this.page.locator('.notification-toast', { hasText: /meshtrace: (Loading|Reloading|Tracing|Reading)/ }).count()) === 0 ? true : undefined), 15000).catch(() => undefined);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Every extension host log line of this run (code-server writes them under the user data folder). */
  extensionHostLog(): string {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/exthost/i.test(p) && e.name.endsWith('.log')) out.push(`== ${path.relative(this.userData, p)}\n${fs.readFileSync(p, 'utf8')}`);
      }
    };
    const logs = path.join(this.userData, 'logs');
    if (fs.existsSync(logs)) walk(logs);
    return out.join('\n');
  }

  /** The server's own output (stdout and stderr). */
  get serverOutput(): string {
    return this.serverLog;
  }

  /** Closes the browser, stops code-server (its whole process group) and removes the temp folder. */
  async close(keep = false): Promise<void> {
    await this.context?.close().catch(() => undefined);
    const s = this.server;
    if (s?.pid && s.exitCode === null) {
      const exited = new Promise((r) => s.once('exit', r));
      try {
        process.kill(-s.pid, 'SIGTERM');
      } catch {
        s.kill('SIGTERM');
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (s.exitCode === null) {
        try {
          process.kill(-s.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    if (!keep) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
