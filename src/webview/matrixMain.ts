/// <reference lib="dom" />
/**
 * The simulation matrix's script, running inside the webview (bundled to dist/matrix.js). It
 * draws the matrix the host sends, filters and sorts it (matrixModel.ts), and reports clicked
 * cells back by index. Every string goes in through `textContent`, `title` or `value`, never as
 * markup: task names, services and reasons come from dumps and are untrusted.
 */
import { filterRows, sortRows, type MatrixData, type MatrixFilter, type MatrixRow, type SortKey } from './matrixModel';
import type { FromMatrix, ToMatrix } from './matrixProtocol';

interface VsCodeApi {
  postMessage(message: FromMatrix): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface UiState {
  filter: MatrixFilter;
  sort: SortKey;
  descending: boolean;
}

const vscode = acquireVsCodeApi();
let data: MatrixData | undefined;
const saved = vscode.getState() as Partial<UiState> | undefined;
const ui: UiState = { filter: saved?.filter ?? {}, sort: saved?.sort ?? 'node', descending: saved?.descending ?? false };

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

function h(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fillSelect(sel: HTMLSelectElement, values: string[], current: string | undefined): void {
  while (sel.options.length > 1) sel.remove(1);
  for (const v of values) {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = v;
    sel.appendChild(o);
  }
  sel.value = current && values.includes(current) ? current : '';
}

function headerCell(text: string, key: SortKey, title: string, cls = ''): HTMLElement {
  const th = h('th', cls, text);
  th.title = title;
  th.dataset.sort = key;
  if (ui.sort === key) th.classList.add(ui.descending ? 'sorted-desc' : 'sorted-asc');
  th.addEventListener('click', () => {
    if (ui.sort === key) ui.descending = !ui.descending;
    else {
      ui.sort = key;
      // Columns of probabilities read best highest first.
      ui.descending = key.startsWith('col:');
    }
    render();
  });
  return th;
}

function open(row: MatrixRow, column?: string): void {
  vscode.postMessage({ type: 'open', entry: row.entry, column });
}

function render(): void {
  vscode.setState(ui);
  if (!data) return;
  const thead = $('matrix').querySelector('thead');
  const tbody = $('matrix').querySelector('tbody');
  if (!thead || !tbody) return;
  const hr = h('tr');
  hr.append(headerCell('Node', 'node', 'Sort by node'), headerCell('Entry', 'entry', 'Sort by entry'), headerCell('Status', 'status', 'Sort by status (not ok first)'));
  for (const c of data.columns) hr.append(headerCell(c.label, `col:${c.key}`, `${c.title} (click to sort)`, `col-${c.kind}`));
  thead.replaceChildren(hr);

  const rows = sortRows(filterRows(data.rows, ui.filter), ui.sort, ui.descending);
  const trs: HTMLElement[] = [];
  let prevNode: string | undefined;
  for (const r of rows) {
    const tr = h('tr');
    tr.dataset.node = r.node;
    tr.dataset.entry = String(r.entry);
    if (ui.sort === 'node' && r.node !== prevNode) tr.classList.add('row-node-first');
    prevNode = r.node;
    tr.append(h('td', 'node', r.node));
    const entry = h('td', 'entry');
    entry.append(h('span', 'label', r.label), h('span', 'detail', r.detail));
    entry.title = `${r.node}: ${r.label} ${r.detail} (click to open its trace)`;
    entry.tabIndex = 0;
    entry.addEventListener('click', () => open(r));
    tr.append(entry, h('td', r.ok ? 'status-ok' : 'status-fail', r.ok ? 'ok' : 'NOT OK'));
    for (const c of data.columns) {
      const cell = r.cells[c.key];
      const td = h('td', `cell tone-${cell?.tone ?? 'empty'}`, cell?.label ?? '');
      td.dataset.column = c.key;
      if (cell) {
        td.title = cell.title;
        td.tabIndex = 0;
        td.addEventListener('click', () => open(r, c.key));
        td.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') open(r, c.key);
        });
      }
      tr.append(td);
    }
    trs.push(tr);
  }
  tbody.replaceChildren(...trs);
  $('count').textContent = `${rows.length} of ${data.rows.length} entries`;
}

function show(m: MatrixData): void {
  data = m;
  $('summary').textContent = m.summary;
  $('warnings').replaceChildren(...m.warnings.map((w) => h('div', 'warning', `⚠ ${w}`)));
  fillSelect($<HTMLSelectElement>('node'), m.nodes, ui.filter.node);
  fillSelect($<HTMLSelectElement>('service'), m.services, ui.filter.service);
  ui.filter.node = $<HTMLSelectElement>('node').value || undefined;
  ui.filter.service = $<HTMLSelectElement>('service').value || undefined;
  $('empty').classList.add('hidden');
  $('grid').classList.remove('hidden');
  render();
}

function empty(message: string): void {
  data = undefined;
  $('empty').textContent = message;
  $('empty').classList.remove('hidden');
  $('grid').classList.add('hidden');
}

$<HTMLSelectElement>('node').addEventListener('change', (e) => {
  ui.filter.node = (e.target as HTMLSelectElement).value || undefined;
  render();
});
$<HTMLSelectElement>('service').addEventListener('change', (e) => {
  ui.filter.service = (e.target as HTMLSelectElement).value || undefined;
  render();
});
$<HTMLInputElement>('text').value = ui.filter.text ?? '';
$<HTMLInputElement>('text').addEventListener('input', (e) => {
  ui.filter.text = (e.target as HTMLInputElement).value || undefined;
  render();
});
$<HTMLInputElement>('failed').checked = !!ui.filter.failedOnly;
$<HTMLInputElement>('failed').addEventListener('change', (e) => {
  ui.filter.failedOnly = (e.target as HTMLInputElement).checked || undefined;
  render();
});

window.addEventListener('message', (ev: MessageEvent<ToMatrix>) => {
  const m = ev.data;
  if (m.type === 'show') show(m.matrix);
  else if (m.type === 'empty') empty(m.message);
});
$('grid').classList.add('hidden');
vscode.postMessage({ type: 'ready' });
