/**
 * The simulation matrix's HTML shell: no data (it comes by message), only the skeleton, the
 * stylesheet and the script, under the same Content-Security-Policy as the path diagram.
 */
import { webviewPage, type DiagramHtmlParts } from './diagramHtml';

/** The page. */
export function matrixHtml(p: DiagramHtmlParts): string {
  return webviewPage(
    p,
    'meshtrace simulation matrix',
    `<header>
  <div id="summary" class="summary"></div>
  <div id="filters">
    <label>Node <select id="node"><option value="">all</option></select></label>
    <label>Service <select id="service"><option value="">all</option></select></label>
    <label>Find <input id="text" type="search" placeholder="port, VIP, task…"></label>
    <label><input id="failed" type="checkbox"> not ok only</label>
    <span id="count"></span>
  </div>
</header>
<div id="warnings"></div>
<div id="empty">Waiting for the simulation…</div>
<main id="grid"><table id="matrix"><thead></thead><tbody></tbody></table></main>
<footer class="legend">
  <span class="cell tone-ok">reached a task</span>
  <span class="cell tone-reply-failed">reply lost</span>
  <span class="cell tone-not-a-task">not a task</span>
  <span class="cell tone-failed">failed</span>
  <span>Click a cell to open its trace in the path diagram; click a column header to sort.</span>
</footer>`,
  );
}
