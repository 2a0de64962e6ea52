/**
 * The path diagram's HTML shell. It holds no data at all (the data comes by message), only the
 * skeleton, the stylesheet and the script, under a strict Content-Security-Policy: nothing but the
 * extension's own files, scripts only with this page's nonce, no inline styles, no remote content.
 */
import { randomBytes } from 'node:crypto';
import { escapeXml } from './escape';

/** What the shell needs from the host: the webview's CSP source and the URIs of its two files. */
export interface DiagramHtmlParts {
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
}

/** A fresh nonce for one page load (base64url, 128 bits). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The Content-Security-Policy of the page. */
export function diagramCsp(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `img-src ${cspSource}`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `base-uri 'none'`,
    `form-action 'none'`,
  ].join('; ');
}

/**
 * The page shell every meshtrace webview uses: the CSP with its nonce, the stylesheet, the body
 * (static markup, no data: data comes by message) and the one nonce'd script.
 */
export function webviewPage(p: DiagramHtmlParts, title: string, body: string): string {
  const a = escapeXml;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a(diagramCsp(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${a(p.styleUri)}">
<title>${a(title)}</title>
</head>
<body>
${body}
<script nonce="${a(p.nonce)}" src="${a(p.scriptUri)}"></script>
</body>
</html>
`;
}

/** The page. */
export function diagramHtml(p: DiagramHtmlParts): string {
  return webviewPage(
    p,
    'meshtrace path diagram',
    `<header>
  <div id="query" class="query"></div>
  <div id="tabs" role="tablist" aria-label="outcomes"></div>
  <div id="controls">
    <button id="first" title="First step (Home)">◀◀</button>
    <button id="prev" title="Step back (←)">◀ Back</button>
    <button id="play" title="Play the steps (Space)">▶ Play</button>
    <button id="next" title="Step forward (→)">Forward ▶</button>
    <span id="pos"></span>
  </div>
</header>
<div id="warnings"></div>
<div id="empty">Waiting for a trace…</div>
<section id="packet" aria-live="polite"></section>
<main id="canvas"></main>`,
  );
}
