/**
 * Lays out one outcome of the path diagram as a sequence diagram: a column per lane
 * (node/namespace, in visiting order) with its lifeline, a row per step, an arrow for every hop
 * between lanes labelled with what decided it, and the step's text in a column on the left.
 * The result is a list of plain shapes with CSS classes (no colours): the webview turns them into
 * SVG elements through the DOM and the export serialises them to an SVG file (traceSvg.ts), so
 * both draw the same picture from one layout.
 */
import type { DiagramOutcome } from './diagramModel';

/** A shape of the diagram. `step` ties it to a step (click, highlight); `title` is a tooltip. */
export type Shape =
  | { t: 'line'; x1: number; y1: number; x2: number; y2: number; cls: string; arrow?: boolean; step?: number }
  | { t: 'rect'; x: number; y: number; w: number; h: number; cls: string; step?: number; title?: string }
  | { t: 'circle'; cx: number; cy: number; r: number; cls: string; step?: number; title?: string }
  | { t: 'text'; x: number; y: number; text: string; cls: string; anchor?: 'start' | 'middle' | 'end'; step?: number; title?: string };

/** A laid-out outcome. */
export interface Layout {
  width: number;
  height: number;
  shapes: Shape[];
  /** Vertical centre of each step's row, by step index (for scrolling a step into view). */
  rowY: number[];
}

const PAD = 10;
const TEXT_W = 370;
const LANE_W = 150;
const HEAD_H = 44;
const ROW_H = 24;
const REPLY_GAP = 26;
const TEXT_CHARS = 52;
const LANE_CHARS = 24;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The one-line text of a step in the left column. */
export function stepText(s: DiagramOutcome['steps'][number]): string {
  return `${s.index + 1}  ${s.where ? `${s.where}: ` : ''}${s.action}`;
}

/** Lays out an outcome. Deterministic: the same outcome gives the same shapes. */
export function layoutOutcome(o: DiagramOutcome): Layout {
  const shapes: Shape[] = [];
  const laneX = (i: number): number => PAD + TEXT_W + i * LANE_W + LANE_W / 2;
  const width = PAD * 2 + TEXT_W + Math.max(1, o.lanes.length) * LANE_W;
  const top = PAD + HEAD_H + 10;
  const rowY: number[] = [];
  let y = top + ROW_H / 2;
  for (const s of o.steps) {
    if (o.replyStart !== undefined && s.index === o.replyStart) y += REPLY_GAP;
    rowY.push(y);
    y += ROW_H;
  }
  const bottom = y;
  const height = bottom + PAD;

  // Node colours: lanes of one node share a colour class.
  const nodes: string[] = [];
  for (const l of o.lanes) if (!nodes.includes(l.node)) nodes.push(l.node);

  o.lanes.forEach((l, i) => {
    const x = laneX(i);
    const nodeClass = `node-${nodes.indexOf(l.node) % 6}`;
    shapes.push({ t: 'line', x1: x, y1: PAD + HEAD_H, x2: x, y2: bottom, cls: 'lifeline' });
    shapes.push({ t: 'rect', x: x - LANE_W / 2 + 6, y: PAD, w: LANE_W - 12, h: HEAD_H, cls: `lane-head ${nodeClass}`, title: l.id });
    shapes.push({ t: 'text', x, y: PAD + 17, text: cut(l.node, LANE_CHARS), cls: 'lane-node', anchor: 'middle', title: l.id });
    shapes.push({ t: 'text', x, y: PAD + 34, text: cut(l.namespace, LANE_CHARS), cls: 'lane-ns', anchor: 'middle', title: l.id });
  });
  shapes.push({ t: 'text', x: PAD + 4, y: PAD + 17, text: 'step', cls: 'col-head' });

  if (o.replyStart !== undefined) {
    const ry = rowY[o.replyStart] - ROW_H / 2 - REPLY_GAP / 2;
    shapes.push({ t: 'line', x1: PAD, y1: ry, x2: width - PAD, y2: ry, cls: 'reply-sep' });
    shapes.push({ t: 'text', x: PAD + 4, y: ry - 4, text: `reply${o.replyVerdict ? `: ${o.replyVerdict}` : ''}`, cls: 'reply-label' });
  }

  for (const s of o.steps) {
    const cy = rowY[s.index];
    const x = laneX(s.lane);
    const cls = `kind-${s.kind}${s.rewrote ? ' rewrote' : ''}${s.phase === 'reply' ? ' reply' : ''}`;
    const tip = `${s.where ? `${s.where}: ` : ''}${s.action}${s.rule ? `\n${s.rule.file}:${s.rule.line}  ${s.rule.text}` : ''}${s.note ? `\n${s.note}` : ''}`;
    shapes.push({ t: 'rect', x: PAD / 2, y: cy - ROW_H / 2, w: width - PAD, h: ROW_H, cls: `row ${cls}`, step: s.index, title: tip });
    const prev = s.index > 0 && s.index !== o.replyStart ? o.steps[s.index - 1] : undefined;
    if (prev) {
      const px = laneX(prev.lane);
      const py = rowY[prev.index];
      if (prev.lane === s.lane) {
        shapes.push({ t: 'line', x1: x, y1: py + 5, x2: x, y2: cy - 5, cls: 'flow', step: s.index });
      } else {
        // Down the old lane to this row, then across to the new lane.
        shapes.push({ t: 'line', x1: px, y1: py + 5, x2: px, y2: cy, cls: 'flow', step: s.index });
        const dir = x > px ? 1 : -1;
        shapes.push({ t: 'line', x1: px, y1: cy, x2: x - dir * 7, y2: cy, cls: 'hop', arrow: true, step: s.index });
      }
    }
    if (s.hop) {
      const px = laneX(s.hop.from);
      shapes.push({ t: 'text', x: (px + x) / 2, y: cy - 4, text: s.hop.label, cls: 'hop-label', anchor: 'middle', step: s.index, title: s.hop.detail });
    }
    shapes.push({ t: 'circle', cx: x, cy, r: 5, cls: `dot ${cls}`, step: s.index, title: tip });
    shapes.push({ t: 'text', x: PAD + 4, y: cy + 4, text: cut(stepText(s), TEXT_CHARS), cls: `step-text ${cls}`, step: s.index, title: tip });
  }
  return { width, height, shapes, rowY };
}
