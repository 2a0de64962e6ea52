/** unit: the webview's shell (CSP, nonce, no data) and its message checks. */
import * as assert from 'node:assert/strict';
import { diagramCsp, diagramHtml, makeNonce } from '../../../src/webview/diagramHtml';
import { isFromWebview } from '../../../src/webview/protocol';

describe('unit: ext webview shell and protocol', () => {
  it('serves a page with a strict CSP, a nonce on its one script and no inline code', () => {
    const nonce = makeNonce();
    assert.match(nonce, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(nonce, makeNonce());
    const html = diagramHtml({ cspSource: 'https://cdn.example', nonce, scriptUri: 'https://cdn.example/dist/webview.js', styleUri: 'https://cdn.example/dist/webview.css' });
    const csp = diagramCsp('https://cdn.example', nonce);
    assert.equal(csp, `default-src 'none'; img-src https://cdn.example; style-src https://cdn.example; font-src https://cdn.example; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`);
    assert.ok(html.includes(`content="${csp.replace(/'/g, '&#39;')}"`));
    assert.deepEqual(html.match(/<script[^>]*>/g), [`<script nonce="${nonce}" src="https://cdn.example/dist/webview.js">`]);
    assert.ok(!/ style=|onclick=|javascript:/.test(html));
  });

  it('accepts only well-formed messages from the webview', () => {
    const check = (m: unknown, ok: boolean): void => assert.equal(isFromWebview(m), ok, JSON.stringify(m));
    check({ type: 'ready' }, true);
    check({ type: 'reveal', outcome: 1, step: 4 }, true);
    check({ type: 'selected', outcome: 0, step: 0 }, true);
    check({ type: 'reveal', outcome: '1', step: 4 }, false);
    check({ type: 'reveal', outcome: 1.5, step: 4 }, false);
    check({ type: 'run', command: 'x' }, false);
    check(null, false);
    check('ready', false);
  });
});
