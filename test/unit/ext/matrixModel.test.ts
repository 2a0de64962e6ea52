/** unit: the simulation matrix's model (rows, columns, cells, sorting, filtering) and its webview shell. */
import * as assert from 'node:assert/strict';
import { traceQuery } from '../../../src/core/sim/simulate';
import { buildMatrix, filterRows, outcomeForCell, percent, shortTaskName, sortRows, type MatrixData, type MatrixRow } from '../../../src/webview/matrixModel';
import { isFromMatrix } from '../../../src/webview/matrixProtocol';
import { matrixHtml } from '../../../src/webview/matrixHtml';
import { diagramCsp, makeNonce } from '../../../src/webview/diagramHtml';
import { brokenSimulation, seedSimulation } from './simulateFixtures';

const WEB1 = 'task:web.1.udlzvsraha1xwcsa212ofldjg';
const WEB2 = 'task:web.2.mms2c65e5ygt6n4pswpdpmcqg';

/** Each row as `node label: column=label tone, …` (columns in matrix order). */
function show(m: MatrixData, rows: readonly MatrixRow[] = m.rows): string[] {
  return rows.map((r) => `${r.node} ${r.label}${r.ok ? '' : ' NOT OK'}: ${m.columns.filter((c) => r.cells[c.key]).map((c) => `${c.label}=${r.cells[c.key].label} ${r.cells[c.key].tone}`).join(', ')}`);
}

describe('unit: ext simulation matrix model', () => {
  it('seed sample: 3 nodes × 8080/tcp and the VIP from each task, every cell web.1/web.2 at 50%', () => {
    const m = buildMatrix(seedSimulation().result);
    assert.deepEqual(m.columns.map((c) => [c.key, c.label, c.kind]), [
      [WEB1, 'web.1', 'task'],
      [WEB2, 'web.2', 'task'],
    ]);
    assert.deepEqual(show(m), [
      'swarm-manager 8080/tcp: web.1=50% ok, web.2=50% ok',
      'swarm-manager VIP 10.0.1.12:80/tcp: web.1=50% ok, web.2=50% ok',
      'swarm-worker1 8080/tcp: web.1=50% ok, web.2=50% ok',
      'swarm-worker1 VIP 10.0.1.12:80/tcp: web.1=50% ok, web.2=50% ok',
      'swarm-worker2 8080/tcp: web.1=50% ok, web.2=50% ok',
    ]);
    assert.equal(m.rows[0].detail, '→ web:80');
    assert.equal(m.rows[1].detail, 'web on mynet, from web.2');
    assert.deepEqual(m.nodes, ['swarm-manager', 'swarm-worker1', 'swarm-worker2']);
    assert.deepEqual(m.services, ['web']);
    assert.equal(m.summary, '3 nodes, 5 entries: 5 ok, 0 not ok; 1 finding');
    assert.match(m.rows[0].cells[WEB1].title, /^50% delivered to web\.1\.udlzvsraha1xwcsa212ofldjg \(10\.0\.0\.7:80\), seen from 10\.0\.0\.2$/);
  });

  it('a copy without an IPVS real server and a DNAT rule: the cells change and fail where they should', () => {
    const m = buildMatrix(brokenSimulation().result);
    assert.deepEqual(m.columns.map((c) => c.label), ['web.1', 'web.2', 'swarm-worker2/host']);
    assert.deepEqual(show(m), [
      'swarm-manager 8080/tcp: web.1=50% ok, web.2=50% ok',
      'swarm-manager VIP 10.0.1.12:80/tcp: web.1=50% ok, web.2=50% ok',
      'swarm-worker1 8080/tcp: web.2=100% ok',
      'swarm-worker1 VIP 10.0.1.12:80/tcp: web.1=50% ok, web.2=50% ok',
      'swarm-worker2 8080/tcp NOT OK: swarm-worker2/host=100% not-a-task',
    ]);
    assert.equal(m.summary, '3 nodes, 5 entries: 4 ok, 1 not ok; 4 findings');
  });

  it('filters by node, service, text and failures; sorts by node, entry, status and a column', () => {
    const m = buildMatrix(brokenSimulation().result);
    const labels = (rows: MatrixRow[]): string[] => rows.map((r) => `${r.node} ${r.label}`);
    assert.deepEqual(labels(filterRows(m.rows, { node: 'swarm-worker1' })), ['swarm-worker1 8080/tcp', 'swarm-worker1 VIP 10.0.1.12:80/tcp']);
    assert.equal(filterRows(m.rows, { service: 'web' }).length, 5);
    assert.equal(filterRows(m.rows, { service: 'db' }).length, 0);
    assert.deepEqual(labels(filterRows(m.rows, { text: ' vip 10.0.1.12 ' })), ['swarm-manager VIP 10.0.1.12:80/tcp', 'swarm-worker1 VIP 10.0.1.12:80/tcp']);
    assert.deepEqual(labels(filterRows(m.rows, { failedOnly: true })), ['swarm-worker2 8080/tcp']);
    assert.deepEqual(labels(filterRows(m.rows, {})), labels(m.rows));

    assert.deepEqual(labels(sortRows(m.rows, 'status')), ['swarm-worker2 8080/tcp', 'swarm-manager 8080/tcp', 'swarm-manager VIP 10.0.1.12:80/tcp', 'swarm-worker1 8080/tcp', 'swarm-worker1 VIP 10.0.1.12:80/tcp']);
    assert.deepEqual(labels(sortRows(m.rows, 'node', true)), ['swarm-worker2 8080/tcp', 'swarm-worker1 8080/tcp', 'swarm-worker1 VIP 10.0.1.12:80/tcp', 'swarm-manager 8080/tcp', 'swarm-manager VIP 10.0.1.12:80/tcp']);
    assert.deepEqual(labels(sortRows(m.rows, 'entry')), ['swarm-manager 8080/tcp', 'swarm-worker1 8080/tcp', 'swarm-worker2 8080/tcp', 'swarm-manager VIP 10.0.1.12:80/tcp', 'swarm-worker1 VIP 10.0.1.12:80/tcp']);
    // By web.2's share, highest first: worker1's 8080 (100%) leads, worker2's (none) closes.
    const byWeb2 = labels(sortRows(m.rows, `col:${WEB2}`, true));
    assert.equal(byWeb2[0], 'swarm-worker1 8080/tcp');
    assert.equal(byWeb2[4], 'swarm-worker2 8080/tcp');
    // Sorting copies: the matrix keeps its order.
    assert.equal(m.rows[0].node, 'swarm-manager');
  });

  it('a clicked cell opens the outcome of its entry\'s trace that it stands for', () => {
    const { model, result } = seedSimulation();
    const m = buildMatrix(result);
    const row = m.rows[0];
    const entry = result.entries[row.entry];
    const trace = traceQuery(model, entry.query);
    assert.equal(trace.outcomes.length, 2);
    const at1 = outcomeForCell(entry, row.cells[WEB1], trace);
    const at2 = outcomeForCell(entry, row.cells[WEB2], trace);
    assert.notEqual(at1, at2);
    assert.equal(trace.outcomes[at1].final.node, 'swarm-worker1');
    assert.equal(trace.outcomes[at2].final.node, 'swarm-manager');
    assert.equal(outcomeForCell(entry, undefined, trace), 0);
  });

  it('labels: task names lose their id, shares are percentages', () => {
    assert.equal(shortTaskName('web.1.udlzvsraha1xwcsa212ofldjg'), 'web.1');
    assert.equal(shortTaskName('web.1'), 'web.1');
    assert.equal(shortTaskName('<img src=x>'), '<img src=x>');
    assert.equal(percent(0.5), '50%');
    assert.equal(percent(1 / 3), '33.3%');
    assert.equal(percent(1), '100%');
  });

  it('serves a data-free page under the diagram\'s CSP and accepts only well-formed clicks', () => {
    const nonce = makeNonce();
    const html = matrixHtml({ cspSource: 'https://cdn.example', nonce, scriptUri: 'https://cdn.example/dist/matrix.js', styleUri: 'https://cdn.example/dist/matrix.css' });
    assert.ok(html.includes(`content="${diagramCsp('https://cdn.example', nonce).replace(/'/g, '&#39;')}"`));
    assert.deepEqual(html.match(/<script[^>]*>/g), [`<script nonce="${nonce}" src="https://cdn.example/dist/matrix.js">`]);
    assert.ok(!/ style=|onclick=|javascript:/.test(html));
    const check = (msg: unknown, ok: boolean): void => assert.equal(isFromMatrix(msg), ok, JSON.stringify(msg));
    check({ type: 'ready' }, true);
    check({ type: 'open', entry: 2 }, true);
    check({ type: 'open', entry: 2, column: WEB1 }, true);
    check({ type: 'open', entry: -1 }, false);
    check({ type: 'open', entry: 1.5 }, false);
    check({ type: 'open', entry: 1, column: 7 }, false);
    check({ type: 'run', command: 'x' }, false);
    check(null, false);
  });
});
