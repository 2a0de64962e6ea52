/**
 * parseBundle: sections are slices of the bundle; the result must be what splitting the bundle
 * into lines and joining them gave (refParseBundle.ts), on real bundles, edge cases and random
 * text (fast-check): the same dumps, texts, line offsets and problems.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { dumpsOfFile, parseBundle } from '../../../src/core/parsers/parseBundle';
import { synthesize } from '../../../src/core/topology/synth';
import { parseBundleRef } from './refParseBundle';

function same(text: string): void {
  assert.deepEqual(parseBundle(text, 'b.txt'), parseBundleRef(text, 'b.txt'), JSON.stringify(text.slice(0, 300)));
}

const H = (node: string, ns: string, cmd: string): string => `### meshtrace node=${node} ns=${ns} cmd=${cmd}`;

describe('unit: parseBundle (sections as slices)', () => {
  const cases: [string, string][] = [
    ['two sections', [H('n1', 'host', 'iptables-save'), '*nat', 'COMMIT', H('n1', 'ingress_sbox', 'ip -d addr'), '1: lo: <LOOPBACK>', ''].join('\n')],
    ['no final newline', [H('n1', 'host', 'sysctl -a'), 'net.ipv4.ip_forward = 1'].join('\n')],
    ['CRLF lines', [H('n1', 'host', 'sysctl -a'), 'a = 1', 'b = 2', ''].join('\r\n')],
    ['a lone \\r inside a line stays', [H('n1', 'host', 'x'), 'a\rb', 'c\r\r', ''].join('\n')],
    ['a last line ending in \\r without newline', `${H('n1', 'host', 'x')}\nabc\r`],
    ['empty sections and blank lines', [H('n1', 'host', 'a'), H('n1', 'host', 'b'), '', '', H('n2', 'host', 'c'), ''].join('\n') + '\n'],
    ['lines before the first header are not read', ['junk', 'more', H('n1', 'host', 'a'), 'x', ''].join('\n')],
    ['bad headers: no node, bad names', [H('', 'host', 'a'), 'x', '### meshtrace ns=host cmd=b', 'y', '### meshtrace node=a/b ns=h cmd=c', 'z', ''].join('\n')],
    ['a header-like line that is not one', [H('n1', 'host', 'a'), '### meshtracer node=x', '### meshtrace', 'w', ''].join('\n')],
    ['no section at all', 'just text\n'],
    ['empty', ''],
  ];
  for (const [name, text] of cases) it(name, () => same(text));

  it('a synthesised capture written as one bundle', () => {
    const r = synthesize(
      `services:\n  web: { image: nginx, ports: ["8080:80"], deploy: { replicas: 2 } }\nx-meshtrace:\n  nodes:\n    - { name: n1, addr: 198.51.100.10/24, role: manager }\n    - { name: n2, addr: 198.51.100.11/24 }\n`,
      'd.yml',
    );
    const text = r.files.map((f) => `${H(f.path.split('/')[0], f.path.split('/')[1] ?? 'host', 'x')}\n${f.text}`).join('');
    assert.ok(text.length > 10_000);
    same(text);
    same(text.replace(/\n/g, '\r\n'));
  });

  it('random bundles (fast-check)', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(H('n1', 'host', 'a'), H('n2', 'x', 'b c'), '### meshtrace', '### meshtrace node=', '### meshtrace node=a ns=b/c', '\r', ''),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), (lines, eol, final) => {
        same(lines.join(eol) + (final ? eol : ''));
      }),
      { numRuns: 800, seed: 11 },
    );
  });
});

describe('unit: dumpsOfFile (how the loader and the language server read one file)', () => {
  it('a bundle: its sections and its problems', () => {
    const text = [H('n1', 'host', 'iptables-save'), '*nat', 'COMMIT', H('', 'host', 'x'), 'y', ''].join('\n');
    assert.deepEqual(dumpsOfFile(text, 'b.txt', 'ignored', 'ignored'), parseBundle(text, 'b.txt'));
    assert.ok(parseBundle(text, 'b.txt').problems.length > 0, 'the bad header is reported');
  });

  it('anything else: the whole text, one dump of the given node and namespace', () => {
    const text = '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n';
    assert.deepEqual(dumpsOfFile(text, 'n1/ingress_sbox/iptables-save.txt', 'n1', 'ingress_sbox'), {
      value: [{ path: 'n1/ingress_sbox/iptables-save.txt', node: 'n1', namespace: 'ingress_sbox', text, lineOffset: 0 }],
      problems: [],
    });
  });
});
