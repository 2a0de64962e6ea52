/** unit: Export Trace as SVG and Markdown; dump text stays text in both. */
import * as assert from 'node:assert/strict';
import { traceToSvg, shapeToSvg } from '../../../src/webview/traceSvg';
import { traceToMarkdown } from '../../../src/webview/traceMarkdown';
import { layoutOutcome } from '../../../src/webview/diagramLayout';
import { traceToDiagram } from '../../../src/webview/diagramModel';
import { escapeMarkdown, escapeXml } from '../../../src/webview/escape';
import { PAYLOAD, seedCase, xssCase } from './fixtures';

describe('unit: ext exports (SVG, Markdown) and escaping', () => {
  it('escapes for XML and Markdown', () => {
    const check = (f: (s: string) => string, input: string, expected: string): void => assert.equal(f(input), expected);
    check(escapeXml, `<a href="x">'&'</a>`, '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    check(escapeMarkdown, '| *a* <b> `c`', '\\| \\*a\\* &lt;b&gt; \\`c\\`');
    check(escapeMarkdown, 'two\nlines', 'two lines');
  });

  it('draws the seed trace as one SVG with every outcome, lane and step', () => {
    const { trace } = seedCase();
    const svg = traceToSvg(trace);
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.match(svg, /outcome 1: delivered 50% at swarm-manager\/web\.2\.mms2c65e5ygt/);
    assert.match(svg, /outcome 2: delivered 50% at swarm-worker1\/web\.1\.udlzvsraha1x/);
    assert.ok(svg.includes('>VXLAN 4096 → 192.168.200.11</text>'));
    const d = traceToDiagram(trace);
    const steps = d.outcomes.reduce((n, o) => n + o.steps.length, 0);
    assert.equal((svg.match(/class="step-text/g) ?? []).length, steps);
    assert.equal((svg.match(/<text/g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length);
  });

  it('keeps a hostile rule comment as text in the SVG', () => {
    const svg = traceToSvg(xssCase().trace);
    assert.ok(!svg.includes('<img'), 'no img element');
    assert.ok(!svg.includes('<script'), 'no script element');
    assert.ok(svg.includes(escapeXml(PAYLOAD)), 'the comment, escaped');
  });

  it('serialises each shape kind', () => {
    assert.equal(shapeToSvg({ t: 'line', x1: 1, y1: 2, x2: 3, y2: 4, cls: 'hop', arrow: true }), '<line x1="1" y1="2" x2="3" y2="4" class="hop" marker-end="url(#arrow)"/>');
    assert.equal(shapeToSvg({ t: 'text', x: 1, y: 2, text: '<b>', cls: 'c', anchor: 'middle', title: '"t"' }), '<text x="1" y="2" class="c" text-anchor="middle"><title>&quot;t&quot;</title>&lt;b&gt;</text>');
  });

  it('lays out rows top to bottom, one lane column per lane', () => {
    const o = traceToDiagram(seedCase().trace).outcomes[1];
    const l = layoutOutcome(o);
    assert.equal(l.rowY.length, o.steps.length);
    for (let i = 1; i < l.rowY.length; i++) assert.ok(l.rowY[i] > l.rowY[i - 1]);
    assert.equal(l.shapes.filter((s) => s.cls === 'lifeline').length, o.lanes.length);
    assert.equal(l.shapes.filter((s) => s.t === 'line' && s.arrow).length, o.steps.filter((s) => s.hop).length);
  });

  it('writes the seed trace as Markdown tables, one per outcome and reply', () => {
    const md = traceToMarkdown(seedCase().trace);
    assert.match(md, /^# meshtrace trace\n\n\*\*Query:\*\* tcp 192\\\.168\\\.200\\\.1:36828 → 192\\\.168\\\.200\\\.10:8080/);
    assert.equal((md.match(/^## Outcome \d: delivered \(50%\)$/gm) ?? []).length, 2);
    assert.equal((md.match(/^### Reply: delivered$/gm) ?? []).length, 2);
    assert.match(md, /\| INPUT \| IPVS FWM 256 rr: Masq to 10\\\.0\\\.0\\\.6 .*\| tcp|\| INPUT \| IPVS FWM 256 rr: Masq to 10\\\.0\\\.0\\\.6/);
    assert.match(md, /swarm\\-manager\/ingress\\_sbox\/ipvsadm\\\.txt:\d+/);
  });

  it('keeps a hostile rule comment as text in the Markdown', () => {
    const md = traceToMarkdown(xssCase().trace);
    assert.ok(!/<img|<script/.test(md));
    assert.ok(md.includes('&lt;img src=x onerror=document\\.body\\.setAttribute'));
  });
});
