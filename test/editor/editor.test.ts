/**
 * Editor tier: the packaged meshtrace .vsix in a real VS Code (code-server 4.100.3, the workbench
 * of VS Code 1.100.3) driven through Chromium as a person would: commands typed into the palette,
 * wizard answers typed into quick inputs, clicks on tree rows and in the path diagram. What the
 * views show is checked against the core's own Trace for the same query. Screenshots go to
 * test-artifacts/screenshots/.
 *
 * Under CI=true this tier must run (a skip fails the run); elsewhere it skips, with the reason
 * printed, when Chromium or code-server cannot be had.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Editor, ROOT, SCREENSHOTS, VSIX, prepareTools, since, until } from './harness';
import * as w from './workbench';
import { loadModel } from '../../src/node/loadCapture';
import { traceQuery } from '../../src/core/sim/simulate';
import type { Trace, TraceQuery } from '../../src/core/sim/trace';
import { traceToDiagram } from '../../src/webview/diagramModel';
import { buildSuite } from '../electron/buildSuite';

const SEED_QUERY: TraceQuery = { node: 'swarm-manager', iif: 'eth1', namespace: 'host', proto: 'tcp', src: '192.168.200.1', sport: 36828, dst: '192.168.200.10', dport: 8080 };
const XSS_QUERY: TraceQuery = { node: 'evil', iif: 'eth0', namespace: 'host', proto: 'tcp', src: '10.9.0.1', sport: 40000, dst: '10.9.0.2', dport: 8080 };
const PAYLOAD = `<img src=x onerror=document.body.setAttribute('data-pwned','img')>`;

describe('editor tier: meshtrace in a real VS Code (code-server 4.100.3 + Chromium)', function () {
  let ed: Editor | undefined;
  let failed = false;
  const t0 = Date.now();
  const log = (s: string): void => console.log(`      [editor] ${s}`);
  const seedTrace: Trace = traceQuery(loadModel([path.join(ROOT, 'samples', 'seed-swarm')]), SEED_QUERY);

  before(async function () {
    const reason = prepareTools(log);
    if (reason) {
      if (process.env.CI === 'true') throw new Error(`the editor tier must run in CI, but: ${reason}`);
      log(`SKIPPED: ${reason}`);
      this.skip();
    }
    // Screenshots of an earlier run would pass for this run's in the artifacts: start afresh.
    fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
    ed = new Editor();
    ed.setUp({ 'seed-swarm': 'samples/seed-swarm', 'xss-capture': 'test/fixtures/xss-capture' });
    log(`workspace ${ed.workspace}`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    if (!ed) return;
    if (failed) {
      await ed.screenshot('zz-failure').catch(() => undefined);
      log(`failure: kept ${ed.tmp} (code-server output and logs); last screenshot test-artifacts/screenshots/zz-failure.png`);
      log(`code-server output:\n${ed.serverOutput.slice(-3000)}`);
    }
    await ed.close(failed);
    log(`tier done in ${since(t0)}; screenshots in ${path.relative(ROOT, SCREENSHOTS)}/`);
  });

  it('installs the packaged .vsix into a clean code-server', function () {
    const out = ed!.installExtension(VSIX);
    assert.match(out, /successfully installed/);
    assert.deepEqual(ed!.listExtensions(), ['meshtrace.meshtrace@0.1.0']);
  });

  it('opens the workspace; meshtrace stays inactive until its view is opened, which shows the welcome', async function () {
    await ed!.start();
    const page = await ed!.open();
    log(`workbench up at ${since(t0)}`);
    assert.doesNotMatch(ed!.extensionHostLog(), /_doActivateExtension meshtrace\.meshtrace/, 'meshtrace must activate lazily, not at startup');
    await page.locator('.part.activitybar .action-item a[aria-label^="meshtrace"], .part.activitybar .action-item[aria-label^="meshtrace"]').first().click();
    const welcome = w.pane(page, 'Topology').locator('.welcome-view-content');
    await welcome.waitFor({ state: 'visible', timeout: 20000 });
    const text = await welcome.innerText();
    for (const b of ['Load Capture Folder…', 'Paste Dump from Clipboard', 'Open Sample Swarm']) assert.ok(text.includes(b), `welcome offers ${b}: ${text}`);
    await ed!.screenshot('01-welcome');
  });

  it('Open Sample Swarm (typed into the palette) fills Topology: nodes, namespaces, rules with counters, IPVS', async function () {
    const page = ed!.page;
    await w.runCommand(page, 'meshtrace: Open Sample Swarm');
    const capture = await w.row(page, 'Topology', 'seed-swarm (sample)');
    assert.match(await capture.innerText(), /3 nodes, 15 namespaces/);
    for (const n of ['swarm-manager', 'swarm-worker1', 'swarm-worker2']) await w.row(page, 'Topology', n);
    // Collapse the other nodes so the path to a rule stays in view, then walk down to it.
    await page.locator('.pane-header', { hasText: /^\s*Trace/i }).first().click();
    for (const n of ['swarm-worker1', 'swarm-worker2']) {
      const r = await w.row(page, 'Topology', n);
      if ((await r.getAttribute('aria-expanded')) === 'true') await w.clickTwistie(r);
    }
    await w.expand(page, 'Topology', 'ingress_sbox');
    await w.expand(page, 'Topology', 'iptables');
    await w.expand(page, 'Topology', 'mangle');
    await w.expand(page, 'Topology', 'PREROUTING');
    const rule = await w.row(page, 'Topology', '--set-xmark 0x100/0xffffffff');
    assert.match(await rule.innerText(), /-A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x100\/0xffffffff\s*\[\d+:\d+\]/);
    await w.expand(page, 'Topology', 'IPVS');
    await w.expand(page, 'Topology', 'FWM 256 (0x100)');
    await w.row(page, 'Topology', '→ 10.0.0.6:0');
    assert.match(await (await w.row(page, 'Topology', '→ 10.0.0.7:0')).innerText(), /Masq weight 1/);
    // Selecting the rule reveals its line in the dump.
    await rule.click();
    await w.waitRevealed(page, 'iptables-save.txt', 8);
    await ed!.screenshot('02-topology');
    // Problems of the capture reach the Problems panel (the sample's notes: files that are not dumps).
    await w.runCommand(page, 'View: Focus Problems');
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'not a dump kind meshtrace reads' }).first().waitFor({ timeout: 20000 });
    await w.runCommand(page, 'View: Hide Panel');
    await page.locator('.pane-header', { hasText: /^\s*Trace/i }).first().click();
  });

  it('Trace Packet… (typed into the wizard) shows both outcomes of the ingress path in the Trace view', async function () {
    const page = ed!.page;
    const q = SEED_QUERY;
    await w.runCommand(page, 'meshtrace: Trace Packet');
    await w.answer(page, 'Node the packet starts on', q.node);
    await w.answer(page, 'Where the packet enters', `${q.namespace}/${q.iif}`);
    await w.answer(page, 'Protocol', q.proto);
    await w.answer(page, 'Source address', q.src);
    await w.answer(page, 'Destination address', q.dst);
    // Validated as typed: a bad port is refused with a message, then fixed.
    await w.waitQuickInput(page, 'Destination port');
    await page.keyboard.type('99999');
    await until('the port to be flagged', async () => ((await w.quickInput(page).innerText()).includes('out of range') ? true : undefined), 10000);
    await ed!.screenshot('03-wizard-validation');
    await page.keyboard.press('Enter');
    assert.ok(await w.quickInput(page).isVisible(), 'an invalid port must not be accepted');
    assert.match(await w.quickInput(page).innerText(), /Trace Packet \(6\/7\)[\s\S]*99999 is out of range/);
    await page.keyboard.press('Control+A');
    await page.keyboard.type(String(q.dport));
    await until('the message to clear', async () => (!(await w.quickInput(page).innerText()).includes('out of range') ? true : undefined), 10000);
    await page.keyboard.press('Enter');
    await w.answer(page, 'Source port', String(q.sport));

    const expected = seedTrace.outcomes;
    assert.equal(expected.length, 2);
    await w.row(page, 'Trace', 'tcp 192.168.200.1:36828 → 192.168.200.10:8080 from swarm-manager/host (arriving on eth1)');
    for (const [i, o] of expected.entries()) {
      const r = await w.row(page, 'Trace', `${i + 1}. ${o.verdict} 50%`);
      assert.ok((await r.innerText()).includes(`${o.final.node}/${o.final.namespace}`), await r.innerText());
    }
    assert.equal(expected[0].final.namespace, 'web.2.mms2c65e5ygt');
    assert.equal(expected[1].final.node, 'swarm-worker1');
    // The IPVS step of outcome 1: packet before → after, and its line in ipvsadm.txt.
    const k = expected[0].steps.findIndex((s) => s.kind === 'ipvs');
    const ipvs = expected[0].steps[k];
    assert.match(ipvs.action, /IPVS FWM 256 rr: Masq to 10\.0\.0\.6/);
    await w.expand(page, 'Trace', `${k + 1}. INPUT: IPVS FWM 256`);
    await w.row(page, 'Trace', 'before: tcp 192.168.200.1:36828 → 172.18.0.2:8080 mark 0x100');
    await w.row(page, 'Trace', 'after: tcp 192.168.200.1:36828 → 10.0.0.6:8080 mark 0x100');
    await (await w.row(page, 'Trace', `${k + 1}. INPUT: IPVS FWM 256`)).click();
    assert.equal(path.basename(ipvs.rule!.file), 'ipvsadm.txt');
    await w.waitRevealed(page, 'ipvsadm.txt', ipvs.rule!.line);
    await ed!.screenshot('04-trace-view');
  });

  it('the path diagram draws lanes, labelled hops and packet headers for both outcomes; steps reveal their lines', async function () {
    const page = ed!.page;
    await w.runCommand(page, 'meshtrace: Show Path Diagram');
    const f = await w.diagramFrame(page);
    const d = traceToDiagram(seedTrace);
    await until('two outcome tabs', async () => ((await w.texts(f, '#tabs .tab')).length === 2 ? true : undefined));
    const tabs = await w.texts(f, '#tabs .tab');
    assert.match(tabs[0], /^1delivered 50%swarm-manager\/web\.2\.mms2c65e5ygt 10\.0\.0\.2:36828 → 10\.0\.0\.6:80$/);
    assert.match(tabs[1], /^2delivered 50%swarm-worker1\/web\.1\.udlzvsraha1x 10\.0\.0\.2:36828 → 10\.0\.0\.7:80$/);

    // Outcome 1: four lanes on swarm-manager, in visiting order, and the veth hops between them.
    await f.locator('#tabs .tab').nth(0).click();
    const lanes1 = await w.texts(f, 'svg .lane-ns');
    assert.deepEqual(lanes1, ['host', 'ingress_sbox', '1-pf1nzx5l2r', 'web.2.mms2c65e5ygt']);
    assert.deepEqual(lanes1, d.outcomes[0].lanes.map((l) => l.namespace));
    const hops1 = await w.texts(f, 'svg .hop-label');
    assert.deepEqual(hops1.slice(0, 3), ['veth vethc4c0ace', 'veth eth0', 'veth veth1']);
    assert.equal(await f.locator('svg .step-text').count(), d.outcomes[0].steps.length);
    // Step forward to the DNAT: the header box marks the rewritten destination.
    await f.locator('#next').click();
    assert.equal((await f.locator('#pos').innerText()).trim(), `2 / ${d.outcomes[0].steps.length}`);
    const dst = f.locator('#packet .field.changed[data-field="dst"]');
    assert.equal(await dst.locator('.field-value').innerText(), '172.18.0.2');
    assert.equal(await dst.locator('.field-was').innerText(), 'was 192.168.200.10');
    // The webview's group has focus now: maximize it for a full view of the lanes.
    await w.runCommand(page, 'View: Toggle Maximize Editor Group');
    await w.runCommand(page, 'View: Toggle Primary Side Bar Visibility');
    await ed!.screenshot('05-diagram-outcome-1');

    // Outcome 2: across the overlay to swarm-worker1, with the VXLAN hop labelled.
    await f.locator('#tabs .tab').nth(1).click();
    await until('outcome 2 lanes', async () => ((await w.texts(f, 'svg .lane-node')).includes('swarm-worker1') ? true : undefined));
    const lanes2 = await f.evaluate(() => Array.from(document.querySelectorAll('svg .lane-head')).map((e) => e.querySelector('title')?.textContent ?? ''));
    assert.deepEqual(lanes2, d.outcomes[1].lanes.map((l) => l.id));
    assert.ok(lanes2.includes('swarm-worker1/web.1.udlzvsraha1x') && lanes2.includes('swarm-worker1/1-pf1nzx5l2r'), lanes2.join(', '));
    const hops2 = await w.texts(f, 'svg .hop-label');
    assert.ok(hops2.includes('VXLAN 4096 → 192.168.200.11'), hops2.join(' | '));
    assert.ok(hops2.includes('eth1 → swarm-worker1'), hops2.join(' | '));
    await ed!.screenshot('06-diagram-outcome-2');
    // Theme colours come from the editor's CSS variables: the same view in light and high contrast.
    for (const [theme, shot] of [['Light Modern', '06-diagram-light'], ['Dark High Contrast', '06-diagram-high-contrast'], ['Dark Modern', '']]) {
      await w.runCommand(page, 'Preferences: Color Theme');
      await w.answer(page, 'Select Color Theme', theme);
      await until(`the ${theme} theme`, async () => {
        const cls = (await page.locator('.monaco-workbench').getAttribute('class')) ?? '';
        const want = theme.startsWith('Light') ? 'vs' : theme.includes('High Contrast') ? 'hc-black' : 'vs-dark';
        return cls.split(/\s+/).includes(want) ? true : undefined;
      }, 15000);
      if (shot) await ed!.screenshot(shot);
    }
    await w.runCommand(page, 'View: Toggle Primary Side Bar Visibility');
    await w.runCommand(page, 'View: Toggle Maximize Editor Group');
    // Play moves through the steps by itself; pause stops it.
    await f.locator('#play').click();
    await until('play to advance', async () => (/^(\d+) \//.exec((await f.locator('#pos').innerText()).trim())?.[1] ?? '1') !== '1', 10000);
    await f.locator('#play').click();
    // Clicking a step reveals its deciding line: outcome 2's IPVS choice in ipvsadm.txt.
    const o2 = seedTrace.outcomes[1];
    const k2 = o2.steps.findIndex((s) => s.kind === 'ipvs');
    await f.locator('svg .step-text', { hasText: 'IPVS FWM 256 rr: Masq to 10.0.0.7' }).click();
    assert.equal((await f.locator('#pos').innerText()).trim(), `${k2 + 1} / ${d.outcomes[1].steps.length}`);
    assert.equal(await f.locator('#packet .field[data-field="mark"] .field-value').innerText(), '0x100');
    const line = o2.steps[k2].rule!.line;
    await w.waitRevealed(page, 'ipvsadm.txt', line);
    await ed!.screenshot('07-diagram-reveal');
    // The page runs under a strict CSP with a nonce.
    const csp = await f.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9_-]{16,}'/);
  });

  it('Simulate Whole Topology shows the matrix (3 nodes × 8080, web.1/web.2 at 50%), findings, and a clicked cell opens its trace', async function () {
    const page = ed!.page;
    await w.runCommand(page, 'meshtrace: Simulate Whole Topology');
    const frame = await until('the simulation matrix webview', async () => {
      for (const fr of page.frames()) {
        const has = await fr.evaluate(() => !!document.getElementById('matrix') && !!document.querySelector('#matrix tbody tr')).catch(() => false);
        if (has) return fr;
      }
      return undefined;
    }, 60000, 300);
    // Each row as node, entry and its cells by column header (the page's text, as shown).
    const shown = await frame.evaluate(() => {
      const heads = Array.from(document.querySelectorAll('#matrix thead th')).map((e) => e.textContent ?? '');
      return Array.from(document.querySelectorAll('#matrix tbody tr')).map((tr) => {
        const tds = Array.from(tr.querySelectorAll('td'));
        const cells: Record<string, string> = {};
        tds.slice(3).forEach((td, i) => {
          if (td.textContent) cells[heads[i + 3]] = `${td.textContent} ${td.className}`;
        });
        return { node: tds[0].textContent ?? '', entry: tr.querySelector('td.entry .label')?.textContent ?? '', status: tds[2].textContent ?? '', cells };
      });
    });
    const ports = shown.filter((r) => r.entry === '8080/tcp');
    assert.deepEqual(ports.map((r) => r.node), ['swarm-manager', 'swarm-worker1', 'swarm-worker2'], JSON.stringify(shown));
    for (const r of ports) {
      assert.equal(r.status, 'ok');
      assert.deepEqual(r.cells, { 'web.1': '50% cell tone-ok', 'web.2': '50% cell tone-ok' }, `${r.node}: ${JSON.stringify(r.cells)}`);
    }
    assert.match(await frame.locator('#summary').innerText(), /^3 nodes, 5 entries: 5 ok, 0 not ok; 1 finding$/);
    await ed!.screenshot('08-simulation-matrix');
    // The node filter keeps one node's rows.
    await frame.locator('#node').selectOption('swarm-worker2');
    await until('the node filter', async () => ((await frame.locator('#matrix tbody tr').count()) === 1 ? true : undefined), 10000);
    await frame.locator('#node').selectOption('');
    await until('the filter cleared', async () => ((await frame.locator('#matrix tbody tr').count()) === shown.length ? true : undefined), 10000);
    // The doctor's note is in the Findings view. The view is made on first use and the side bar
    // was hidden and shown by the case before: make sure its pane is open before reading it.
    const findingsPane = page.locator('.pane-header', { hasText: /^\s*Findings/i }).first();
    await findingsPane.waitFor({ timeout: 20000 });
    await until('Findings to expand', async () => {
      if ((await findingsPane.getAttribute('aria-expanded')) === 'true') return true;
      await findingsPane.click();
      return undefined;
    }, 10000, 500);
    await w.row(page, 'Findings', 'Notes', 40000);
    // Clicking swarm-worker1's web.1 cell traces its entry and opens the diagram at that outcome.
    await frame.locator('#matrix tbody tr[data-node="swarm-worker1"]', { hasText: '8080/tcp' }).locator('td.cell', { hasText: '50%' }).first().click();
    const f = await w.diagramFrame(page);
    await until('the diagram at web.1', async () => ((await w.texts(f, '#tabs .tab.selected')).some((t) => t.includes('swarm-worker1/web.1.udlzvsraha1x')) ? true : undefined), 30000);
    await ed!.screenshot('08-simulation-matrix-trace');
    // Give the side bar back to Topology and Trace for the next cases: collapse Findings.
    const findingsHeader = page.locator('.pane-header', { hasText: /^\s*Findings/i }).first();
    if ((await findingsHeader.getAttribute('aria-expanded')) === 'true') await findingsHeader.click();
    await until('Findings to collapse', async () => ((await findingsHeader.getAttribute('aria-expanded')) === 'false' ? true : undefined), 10000);
  });

  it('a capture whose rule comment holds <img onerror> and <script> shows them as text, and nothing runs', async function () {
    const page = ed!.page;
    // Load it as a person would: the Explorer's context menu on the folder.
    await page.locator('.part.activitybar .action-item a[aria-label^="Explorer"], .part.activitybar .action-item[aria-label^="Explorer"]').first().click();
    const folder = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'xss-capture' }).first();
    await folder.waitFor({ timeout: 20000 });
    await w.contextMenu(page, folder, 'Load Capture Folder…');
    await w.row(page, 'Topology', 'xss-capture');
    await w.expand(page, 'Topology', 'evil');
    await w.expand(page, 'Topology', 'host');
    await w.expand(page, 'Topology', 'iptables');
    await w.expand(page, 'Topology', 'filter');
    await w.expand(page, 'Topology', 'INPUT');
    const rule = await w.row(page, 'Topology', 'onerror=');
    assert.ok((await rule.innerText()).includes(PAYLOAD), await rule.innerText());
    assert.equal(await w.pane(page, 'Topology').locator('img[src="x"]').count(), 0);

    const q = XSS_QUERY;
    await w.runCommand(page, 'meshtrace: Trace Packet');
    await w.answer(page, 'Node the packet starts on', q.node);
    await w.answer(page, 'Where the packet enters', `${q.namespace}/${q.iif}`);
    await w.answer(page, 'Protocol', q.proto);
    await w.answer(page, 'Source address', q.src);
    await w.answer(page, 'Destination address', q.dst);
    await w.answer(page, 'Destination port', String(q.dport));
    await w.answer(page, 'Source port', String(q.sport));
    await w.row(page, 'Trace', '1. delivered 100%');

    const f = await w.diagramFrame(page);
    await until('the evil trace in the diagram', async () => ((await w.texts(f, 'svg .lane-node')).includes('evil') ? true : undefined));
    await f.locator('svg .step-text', { hasText: 'filter INPUT: ACCEPT' }).click();
    const shown = await f.locator('#packet .rule-text').innerText();
    assert.ok(shown.includes(PAYLOAD) && shown.includes('<script>'), `the comment is shown as text: ${shown}`);
    const dom = await f.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      // VS Code injects one inline script of its own (acquireVsCodeApi); every other script is ours.
      scripts: Array.from(document.querySelectorAll('script')).map((s) => s.getAttribute('src') ?? `inline: ${(s.textContent ?? '').includes('acquireVsCodeApi') ? 'vscode' : (s.textContent ?? '').slice(0, 80)}`),
      pwned: document.body.getAttribute('data-pwned'),
      tooltip: Array.from(document.querySelectorAll('svg title')).some((t) => (t.textContent ?? '').includes('<img src=x onerror=')),
    }));
    assert.equal(dom.imgs, 0, 'no <img> element was created');
    const foreign = dom.scripts.filter((s) => !s.endsWith('/dist/webview.js') && s !== 'inline: vscode');
    assert.deepEqual(foreign, [], `only the extension's script and VS Code's own: ${dom.scripts.join(', ')}`);
    assert.equal(dom.pwned, null, 'neither payload ran');
    assert.ok(dom.tooltip, 'the tooltips hold the comment as text');
    assert.deepEqual(ed!.dialogs, [], 'no dialog was opened');
    const refused = ed!.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e));
    assert.deepEqual(refused, [], 'nothing was even attempted (no CSP refusals)');
    await ed!.screenshot('08-hostile-comment');
  });

  it('Paste Dump from Clipboard adds a dump (kind detected) kept in an editor that can fix it; Trace from Here starts at an interface', async function () {
    const page = ed!.page;
    const dump = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000',
      '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '    inet 127.0.0.1/8 scope host lo',
      '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000',
      '    link/ether 02:42:0a:14:00:05 brd ff:ff:ff:ff:ff:ff',
      '    inet 10.20.0.5/24 brd 10.20.0.255 scope global eth0',
      '',
    ].join('\n');
    await ed!.setClipboard(dump);
    await w.runCommand(page, 'meshtrace: Paste Dump from Clipboard');
    await w.answer(page, 'Node the dump was taken on', 'lab');
    await w.answer(page, 'Network namespace', 'host');
    await w.waitQuickInput(page, 'Kind of dump');
    const first = await w.quickInput(page).locator('.monaco-list-row').first().innerText();
    assert.match(first, /ip-addr\s*detected/);
    await page.keyboard.press('Enter');
    await w.row(page, 'Topology', 'lab');
    const evil = w.pane(page, 'Topology').locator('.monaco-list-row[aria-level="2"]', { hasText: 'evil' }).first();
    // Collapsing `evil` only makes room in a small pane: best effort.
    // (A retry starts with the tree scrolled or collapsed otherwise: the row may not be in view.)
    if ((await evil.getAttribute('aria-expanded', { timeout: 5000 }).catch(() => null)) === 'true') await w.clickTwistie(evil).catch(() => log('could not collapse evil; going on'));
    await w.expand(page, 'Topology', 'lab');
    const host = w.pane(page, 'Topology').locator('.monaco-list-row[aria-level="3"]', { hasText: 'host' }).last();
    if ((await host.getAttribute('aria-expanded')) === 'false') await w.clickTwistie(host);
    const ifaces = w.pane(page, 'Topology').locator('.monaco-list-row', { hasText: /^\s*Interfaces\s*2/ }).last();
    await ifaces.waitFor({ timeout: 10000 });
    if ((await ifaces.getAttribute('aria-expanded')) === 'false') await w.clickTwistie(ifaces);
    await w.row(page, 'Topology', '10.20.0.5/24');
    // The paste is kept in an editor: add an address there and the model follows.
    assert.match(await w.activeTab(page), /Untitled/);
    await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('    inet 10.20.0.9/24 scope global secondary eth0');
    const eth0 = await w.row(page, 'Topology', '10.20.0.5/24 10.20.0.9/24');
    await ed!.screenshot('09-paste');
    // Trace from Here on that interface: the wizard skips node and entry.
    await w.contextMenu(page, eth0, 'Trace from Here…');
    await w.answer(page, 'Protocol', 'tcp');
    await w.answer(page, 'Source address', '10.20.0.1');
    await w.waitQuickInput(page, 'Destination address');
    assert.equal(await w.quickInput(page).locator('input').first().inputValue(), '10.20.0.5', 'the destination starts at the node address');
    await page.keyboard.press('Enter');
    await w.answer(page, 'Destination port', '22');
    await w.answer(page, 'Source port', '');
    await w.row(page, 'Trace', 'from lab/host (arriving on eth0)');
  });

  it('hovering a MARK rule of the sample shows the IPVS service it feeds (the language server)', async function () {
    const page = ed!.page;
    const rel = 'swarm-manager/ingress_sbox/iptables-save.txt';
    const lines = fs.readFileSync(path.join(ROOT, 'samples', 'seed-swarm', rel), 'utf8').split('\n');
    const lineNo = lines.findIndex((l) => /--dport 8080 -j MARK --set-xmark 0x100/.test(l)) + 1;
    assert.ok(lineNo > 0, 'the sample has the ingress MARK rule');
    const col = lines[lineNo - 1].indexOf('0x100') + 2;
    // Start from a quiet workbench: no menu, quick input or hover left open by an earlier case.
    for (let i = 0; i < 3; i++) await page.keyboard.press('Escape');
    // Quick Open from the palette (a keyboard shortcut may land in a webview or the browser).
    await w.runCommand(page, 'Go to File...');
    const input = w.quickInput(page).locator('input').first();
    await until('quick open', async () => ((await input.isVisible()) && (await input.inputValue()) === '' ? true : undefined), 15000);
    await page.keyboard.type(rel, { delay: 10 });
    await until('quick open to offer the file', async () => {
      const first = (await w.quickInput(page).locator('.monaco-list-row').first().innerText().catch(() => '')).replace(/\s+/g, ' ');
      return first.includes('iptables-save.txt') && first.includes('ingress_sbox') ? true : undefined;
    }, 20000);
    await page.keyboard.press('Enter');
    // It opens in whichever editor group has focus (the diagram's, when the diagram was last used).
    await until('the file to open', async () => ((await page.locator('.tabs-container .tab.active[aria-label*="iptables-save.txt"]').count()) > 0 && !(await w.quickInput(page).isVisible()) ? true : undefined), 30000);
    await w.runCommand(page, 'Go to Line/Column');
    await page.keyboard.type(`${lineNo}:${col}`, { delay: 10 });
    await page.keyboard.press('Enter');
    // The server loads the whole capture first; ask for the hover until it answers.
    const text = await until('a hover naming FWM 256', async () => {
      await w.runCommand(page, 'Show or Focus Hover');
      const h = await page.locator('.monaco-hover').first().innerText({ timeout: 3000 }).catch(() => '');
      return /FWM 256/.test(h) ? h : undefined;
    }, 60000);
    assert.match(text, /256/);
    await ed!.screenshot('10-hover-mark-rule');
    await page.keyboard.press('Escape');
  });

  it('the extension host log shows meshtrace activated on demand and no activation error', function () {
    const logText = ed!.extensionHostLog();
    const act = /_doActivateExtension meshtrace\.meshtrace, startup: (\w+), activationEvent: '([^']+)'/.exec(logText);
    assert.ok(act, 'meshtrace was activated');
    assert.equal(act[1], 'false');
    assert.match(act[2], /^(onView:meshtrace\.|onCommand:meshtrace\.)/);
    const bad = logText.split('\n').filter((l) => /meshtrace/i.test(l) && /\[error\]|failed|Activating extension .* failed/i.test(l));
    assert.deepEqual(bad, []);
    log(`activated by ${act[2]}`);
  });
});

describe('editor tier: the in-host API suite (test/electron/suite) inside code-server', function () {
  let ed: Editor | undefined;
  let failed = false;
  const log = (s: string): void => console.log(`      [editor] ${s}`);

  before(function () {
    // The first block prepared the tools; when they are missing it already failed (CI) or skipped.
    const reason = prepareTools(() => undefined, { packageVsix: false });
    if (reason) {
      if (process.env.CI === 'true') throw new Error(`the editor tier must run in CI, but: ${reason}`);
      log(`SKIPPED: ${reason}`);
      this.skip();
    }
    // The suite loads the extension from the working tree: build dist/ from the sources now.
    const b = spawnSync('node', ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, `build failed: ${b.stderr}`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    await ed?.close(failed);
    if (failed && ed) log(`failure: kept ${ed.tmp}`);
  });

  it('passes with the extension loaded from the working tree (extensionDevelopmentPath)', async function () {
    const t0 = Date.now();
    const suite = await buildSuite();
    ed = new Editor();
    ed.setUp({ 'seed-swarm': 'samples/seed-swarm', 'xss-capture': 'test/fixtures/xss-capture' });
    await ed.start();
    const r = await ed.runInHostSuite(ROOT, suite);
    for (const l of r.log) if (/^\w+: \s+(✔|\d+\) |\d+ passing|\d+ failing)/.test(l)) log(l.replace(/^\w+: /, '').trimEnd());
    assert.equal(r.code, 0, r.log.join('\n'));
    assert.ok(r.log.some((l) => /6 passing/.test(l)), 'all six in-host tests ran');
    log(`in-host suite done in ${since(t0)}`);
  });
});
