/**
 * The messages between the extension host and the simulation-matrix webview, declared once. The
 * host sends the matrix (`ToMatrix`); the webview reports only which cell the user clicked
 * (`FromMatrix`), by index, so nothing it sends is taken as text. No `vscode`, no DOM.
 */
import type { MatrixData } from './matrixModel';

/** Host → webview. */
export type ToMatrix =
  /** Draw this matrix. */
  | { type: 'show'; matrix: MatrixData }
  /** Nothing to draw; say why. */
  | { type: 'empty'; message: string };

/** Webview → host. */
export type FromMatrix =
  /** The script has loaded and listens. */
  | { type: 'ready' }
  /** The user clicked a cell: open the entry's trace in the path diagram (`column`: a column key, or absent for the row header). */
  | { type: 'open'; entry: number; column?: string };

/** Checks a message from the webview before the host acts on it. */
export function isFromMatrix(m: unknown): m is FromMatrix {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return true;
  if (o.type === 'open') return Number.isInteger(o.entry) && (o.entry as number) >= 0 && (o.column === undefined || (typeof o.column === 'string' && o.column.length < 4096));
  return false;
}
