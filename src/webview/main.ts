/// <reference lib="dom" />
/**
 * The path diagram's script, running inside the webview (bundled to dist/webview.js). It draws
 * the data the host sends (`ToWebview`) and reports clicks back (`FromWebview`); it computes
 * nothing about the packet. Every string goes into the page through `textContent` or
 * `setAttribute`, never as markup, so dump text (a rule comment holding `<img onerror=…>`) is
 * shown as the characters it is.
 */
import type { DiagramData, DiagramField, DiagramOutcome, DiagramStep } from './diagramModel';
import type { FromWebview, ToWebview } from './protocol';
import { layoutOutcome, type Layout, type Shape } from './diagramLayout';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const SVG_NS = 'http://www.w3.org/2000/svg';
const PLAY_MS = 900;

let data: DiagramData | undefined;
let outcome = 0;
let step = 0;
let layout: Layout | undefined;
let byStep = new Map<number, Element[]>();
let timer: ReturnType<typeof setInterval> | undefined;

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
}

function h(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function shapeElement(s: Shape): SVGElement {
  let e: SVGElement;
  switch (s.t) {
    case 'line':
      e = svg('line', { x1: s.x1, y1: s.y1, x2: s.x2, y2: s.y2, class: s.cls });
      if (s.arrow) e.setAttribute('marker-end', 'url(#arrow)');
      break;
    case 'rect':
      e = svg('rect', { x: s.x, y: s.y, width: s.w, height: s.h, class: s.cls });
      break;
    case 'circle':
      e = svg('circle', { cx: s.cx, cy: s.cy, r: s.r, class: s.cls });
      break;
    case 'text':
      e = svg('text', { x: s.x, y: s.y, class: s.cls });
      if (s.anchor) e.setAttribute('text-anchor', s.anchor);
      e.appendChild(document.createTextNode(s.text));
      break;
  }
  if ('title' in s && s.title) {
    const t = document.createElementNS(SVG_NS, 'title');
    t.textContent = s.title;
    e.appendChild(t);
  }
  if (s.step !== undefined) e.setAttribute('data-step', String(s.step));
  return e;
}

function current(): DiagramOutcome | undefined {
  return data?.outcomes[outcome];
}

function post(m: FromWebview): void {
  vscode.postMessage(m);
}

function renderTabs(): void {
  const tabs = $('tabs');
  tabs.replaceChildren();
  data?.outcomes.forEach((o, i) => {
    const b = h('button', `tab outcome-${i % 6} verdict-${o.verdict}${i === outcome ? ' selected' : ''}`);
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-selected', String(i === outcome));
    b.appendChild(h('span', 'tab-n', `${i + 1}`));
    b.appendChild(h('span', 'tab-label', o.label));
    b.appendChild(h('span', 'tab-final', o.final));
    b.title = `${o.label} at ${o.final}\n${o.reason}`;
    b.addEventListener('click', () => selectOutcome(i));
    tabs.appendChild(b);
  });
}

function renderCanvas(): void {
  const o = current();
  const canvas = $('canvas');
  canvas.replaceChildren();
  byStep = new Map();
  if (!o) return;
  layout = layoutOutcome(o);
  const root = svg('svg', { width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`, class: `diagram outcome-${outcome % 6}` });
  root.setAttribute('role', 'img');
  root.setAttribute('aria-label', `path diagram of outcome ${outcome + 1}: ${o.label}`);
  const defs = svg('defs', {});
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
  defs.appendChild(marker);
  root.appendChild(defs);
  for (const s of layout.shapes) {
    const e = shapeElement(s);
    if (s.step !== undefined) {
      const list = byStep.get(s.step) ?? [];
      list.push(e);
      byStep.set(s.step, list);
    }
    root.appendChild(e);
  }
  root.addEventListener('click', (ev) => {
    const t = (ev.target as Element | null)?.closest('[data-step]');
    if (!t) return;
    const i = Number(t.getAttribute('data-step'));
    stopPlay();
    selectStep(i, true);
    post({ type: 'reveal', outcome, step: i });
  });
  canvas.appendChild(root);
}

function fieldCell(f: DiagramField): HTMLElement {
  const cell = h('div', `field${f.changed ? ' changed' : ''}`);
  cell.setAttribute('data-field', f.name);
  cell.appendChild(h('span', 'field-name', f.name));
  cell.appendChild(h('span', 'field-value', f.value || '—'));
  if (f.changed) {
    cell.appendChild(h('span', 'field-was', `was ${f.was || '—'}`));
    cell.title = `${f.name} changed at this step: ${f.was || '—'} → ${f.value || '—'}`;
  }
  return cell;
}

function renderPacket(): void {
  const box = $('packet');
  box.replaceChildren();
  const o = current();
  const s: DiagramStep | undefined = o?.steps[step];
  if (!o || !s) return;
  const lane = o.lanes[s.lane];
  const head = h('div', 'packet-head');
  head.appendChild(h('span', 'packet-step', `step ${s.index + 1} of ${o.steps.length}${s.phase === 'reply' ? ' (reply)' : ''}`));
  head.appendChild(h('span', 'packet-where', `${lane.id}${s.where ? ` · ${s.where}` : ''}`));
  box.appendChild(head);
  box.appendChild(h('div', `packet-action kind-${s.kind}`, s.action));
  const fields = h('div', 'fields');
  for (const f of s.packet) fields.appendChild(fieldCell(f));
  box.appendChild(fields);
  if (s.rule) {
    const rule = h('button', 'rule-link');
    rule.title = 'Open the dump line that decided this step';
    rule.appendChild(h('span', 'rule-at', `${s.rule.file}:${s.rule.line}`));
    rule.appendChild(h('code', 'rule-text', s.rule.text));
    rule.addEventListener('click', () => post({ type: 'reveal', outcome, step: s.index }));
    box.appendChild(rule);
  }
  if (s.note) box.appendChild(h('div', 'packet-note', s.note));
}

function renderControls(): void {
  const o = current();
  const n = o?.steps.length ?? 0;
  ($('prev') as HTMLButtonElement).disabled = step <= 0;
  ($('first') as HTMLButtonElement).disabled = step <= 0;
  ($('next') as HTMLButtonElement).disabled = step >= n - 1;
  $('play').textContent = timer ? '■ Pause' : '▶ Play';
  $('pos').textContent = n ? `${step + 1} / ${n}` : '';
}

function highlight(scroll: boolean): void {
  document.querySelectorAll('.current').forEach((el) => el.classList.remove('current'));
  for (const el of byStep.get(step) ?? []) el.classList.add('current');
  const y = layout?.rowY[step];
  if (scroll && y !== undefined) {
    const c = $('canvas');
    if (y < c.scrollTop + 40 || y > c.scrollTop + c.clientHeight - 40) c.scrollTo({ top: Math.max(0, y - c.clientHeight / 2) });
  }
}

function selectStep(i: number, scroll: boolean): void {
  const o = current();
  if (!o) return;
  step = Math.max(0, Math.min(i, o.steps.length - 1));
  highlight(scroll);
  renderPacket();
  renderControls();
  vscode.setState({ outcome, step });
  post({ type: 'selected', outcome, step });
}

function selectOutcome(i: number, s = 0): void {
  if (!data || i < 0 || i >= data.outcomes.length) return;
  stopPlay();
  outcome = i;
  renderTabs();
  renderCanvas();
  selectStep(s, true);
}

function stopPlay(): void {
  if (timer) clearInterval(timer);
  timer = undefined;
  renderControls();
}

function togglePlay(): void {
  if (timer) return stopPlay();
  const o = current();
  if (!o) return;
  if (step >= o.steps.length - 1) selectStep(0, true);
  timer = setInterval(() => {
    const n = current()?.steps.length ?? 0;
    if (step >= n - 1) return stopPlay();
    selectStep(step + 1, true);
  }, PLAY_MS);
  renderControls();
}

function show(d: DiagramData, o?: number, s?: number): void {
  data = d;
  $('query').textContent = d.query;
  const warn = $('warnings');
  warn.replaceChildren(...d.warnings.map((w) => h('div', 'warning', `warning: ${w}`)));
  $('empty').textContent = d.outcomes.length ? '' : 'The packet could not be traced: no outcome.';
  const saved = vscode.getState() as { outcome?: number; step?: number } | undefined;
  const oi = o ?? saved?.outcome ?? 0;
  selectOutcome(oi < d.outcomes.length ? oi : 0, s ?? (o === undefined ? (saved?.step ?? 0) : 0));
}

window.addEventListener('message', (ev: MessageEvent) => {
  const m = ev.data as ToWebview;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'show') show(m.diagram, m.outcome, m.step);
  else if (m.type === 'select') {
    if (m.outcome !== outcome) selectOutcome(m.outcome, m.step);
    else selectStep(m.step, true);
  } else if (m.type === 'empty') {
    data = undefined;
    stopPlay();
    $('tabs').replaceChildren();
    $('canvas').replaceChildren();
    $('packet').replaceChildren();
    $('query').textContent = '';
    $('empty').textContent = m.message;
    renderControls();
  }
});

$('first').addEventListener('click', () => {
  stopPlay();
  selectStep(0, true);
});
$('prev').addEventListener('click', () => {
  stopPlay();
  selectStep(step - 1, true);
});
$('next').addEventListener('click', () => {
  stopPlay();
  selectStep(step + 1, true);
});
$('play').addEventListener('click', togglePlay);
document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLButtonElement && (ev.key === ' ' || ev.key === 'Enter')) return;
  if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') selectStep(step + 1, true);
  else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') selectStep(step - 1, true);
  else if (ev.key === 'Home') selectStep(0, true);
  else if (ev.key === 'End') selectStep(Number.MAX_SAFE_INTEGER, true);
  else if (ev.key === ' ') togglePlay();
  else return;
  ev.preventDefault();
});

renderControls();
post({ type: 'ready' });
