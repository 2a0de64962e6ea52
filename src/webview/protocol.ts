/**
 * The messages between the extension host and the path-diagram webview, declared once. The host
 * sends data (`ToWebview`); the webview only reports what the user did (`FromWebview`). Nothing
 * here imports `vscode` or the DOM, so both sides and the unit tests share it.
 */
import type { DiagramData } from './diagramModel';

/** Host → webview. */
export type ToWebview =
  /** Draw this trace; select the given outcome and step (defaults: the first of each). */
  | { type: 'show'; diagram: DiagramData; outcome?: number; step?: number }
  /** Select a step (the Trace view's selection follows into the diagram). */
  | { type: 'select'; outcome: number; step: number }
  /** Nothing to draw; say why. */
  | { type: 'empty'; message: string };

/** Webview → host. */
export type FromWebview =
  /** The script has loaded and listens: the host may send `show`. */
  | { type: 'ready' }
  /** The user clicked a step: open the dump line that decided it. */
  | { type: 'reveal'; outcome: number; step: number }
  /** The user moved to a step (arrows, play): remembered so a reload keeps the place. */
  | { type: 'selected'; outcome: number; step: number };

/** Checks a message from the webview before the host acts on it (the webview is a separate page). */
export function isFromWebview(m: unknown): m is FromWebview {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return true;
  if (o.type === 'reveal' || o.type === 'selected') return Number.isInteger(o.outcome) && Number.isInteger(o.step);
  return false;
}
