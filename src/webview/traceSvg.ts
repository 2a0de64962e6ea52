/**
 * Export Trace as SVG: every outcome's path diagram, one under the other, in one standalone SVG
 * file. It serialises the same layout the webview draws (diagramLayout.ts), with fixed colours in
 * place of the editor theme's, and escapes every string (dump text is untrusted).
 */
import type { Trace } from '../core/sim/trace';
import { traceToDiagram } from './diagramModel';
import { layoutOutcome, type Shape } from './diagramLayout';
import { escapeXml } from './escape';

const STYLE = `
  svg { font-family: 'Liberation Sans', Arial, sans-serif; font-size: 12px; }
  .bg { fill: #ffffff; }
  .title { font-size: 14px; font-weight: bold; fill: #1f2328; }
  .subtitle { fill: #57606a; }
  .lifeline { stroke: #afb8c1; stroke-dasharray: 4 4; }
  .lane-head { fill: #f6f8fa; stroke: #8c959f; rx: 4; }
  .lane-head.node-0 { stroke: #0969da; } .lane-head.node-1 { stroke: #1a7f37; } .lane-head.node-2 { stroke: #9a6700; }
  .lane-head.node-3 { stroke: #8250df; } .lane-head.node-4 { stroke: #cf222e; } .lane-head.node-5 { stroke: #57606a; }
  .lane-node { font-weight: bold; fill: #1f2328; } .lane-ns { fill: #57606a; }
  .col-head { fill: #57606a; font-weight: bold; }
  .row { fill: transparent; }
  .flow { stroke: #8c959f; stroke-width: 1.5; }
  .hop { stroke: #0969da; stroke-width: 2; }
  .hop-label { fill: #0969da; font-size: 10.5px; }
  .dot { fill: #0969da; } .dot.rewrote { fill: #bf8700; } .dot.kind-drop { fill: #cf222e; } .dot.kind-deliver { fill: #1a7f37; }
  .step-text { fill: #1f2328; font-family: 'Liberation Mono', monospace; font-size: 11px; } .step-text.rewrote { fill: #9a6700; }
  .reply-sep { stroke: #8c959f; stroke-dasharray: 2 3; } .reply-label { fill: #57606a; font-style: italic; }
  .arrowhead { fill: #0969da; }
`;

function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

function title(t: string | undefined): string {
  return t ? `<title>${escapeXml(t)}</title>` : '';
}

/** One shape as SVG markup. */
export function shapeToSvg(s: Shape): string {
  switch (s.t) {
    case 'line':
      return `<line${attrs({ x1: s.x1, y1: s.y1, x2: s.x2, y2: s.y2, class: s.cls, 'marker-end': s.arrow ? 'url(#arrow)' : undefined })}/>`;
    case 'rect':
      return `<rect${attrs({ x: s.x, y: s.y, width: s.w, height: s.h, class: s.cls })}>${title(s.title)}</rect>`;
    case 'circle':
      return `<circle${attrs({ cx: s.cx, cy: s.cy, r: s.r, class: s.cls })}>${title(s.title)}</circle>`;
    case 'text':
      return `<text${attrs({ x: s.x, y: s.y, class: s.cls, 'text-anchor': s.anchor })}>${title(s.title)}${escapeXml(s.text)}</text>`;
  }
}

/** The whole trace as one standalone SVG document. */
export function traceToSvg(trace: Trace): string {
  const d = traceToDiagram(trace);
  const parts: string[] = [];
  let y = 10;
  let width = 600;
  parts.push(`<text${attrs({ x: 10, y: y + 14, class: 'title' })}>${escapeXml(`meshtrace: ${d.query}`)}</text>`);
  y += 24;
  for (const w of d.warnings) {
    parts.push(`<text${attrs({ x: 10, y: y + 12, class: 'subtitle' })}>${escapeXml(`warning: ${w}`)}</text>`);
    y += 18;
  }
  for (const o of d.outcomes) {
    y += 10;
    parts.push(`<text${attrs({ x: 10, y: y + 14, class: 'title' })}>${escapeXml(`outcome ${o.index + 1}: ${o.label} at ${o.final}`)}</text>`);
    parts.push(`<text${attrs({ x: 10, y: y + 30, class: 'subtitle' })}>${escapeXml(o.reason)}</text>`);
    y += 36;
    const l = layoutOutcome(o);
    parts.push(`<g transform="translate(0 ${y})">${l.shapes.map(shapeToSvg).join('')}</g>`);
    y += l.height;
    width = Math.max(width, l.width);
  }
  const height = y + 10;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<style>${STYLE}</style>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path class="arrowhead" d="M0,0 L10,5 L0,10 z"/></marker></defs>`,
    `<rect class="bg" x="0" y="0" width="${width}" height="${height}"/>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}
