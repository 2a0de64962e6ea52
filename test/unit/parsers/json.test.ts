/**
 * The JSON reader of every Docker dump: its strict one-pass reader (well-formed JSON) must give
 * exactly what the tolerant jsonc-parser reader gives: the same values, the same line of every
 * object and array, the same problems. Checked on every JSON file of the corpus, on hand-made
 * edge cases, and on random JSON (fast-check).
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJsonDump, type JsonDoc, type JsonValue } from '../../../src/core/parsers/json';
import { ProblemSink, type Problem } from '../../../src/core/problem';
import { corpusFile, corpusFiles } from '../helpers';

/** The value with every object and array's line beside it, and the problems. */
function read(text: string, fast: boolean, lineOffset = 0): { value: unknown; problems: Problem[] } {
  const sink = new ProblemSink('f.json');
  const doc = parseJsonDump(text, sink, lineOffset, { fast });
  return { value: withLines(doc, doc.value), problems: sink.problems };
}

function withLines(doc: JsonDoc, v: JsonValue | undefined): unknown {
  if (Array.isArray(v)) return { line: doc.lineOf(v), items: v.map((x) => withLines(doc, x)) };
  if (v !== null && typeof v === 'object') {
    assert.equal(Object.getPrototypeOf(v), null, 'objects have no prototype');
    return { line: doc.lineOf(v), keys: Object.keys(v), entries: Object.entries(v).map(([k, x]) => [k, withLines(doc, x)]) };
  }
  return v;
}

function same(text: string, lineOffset = 0): void {
  assert.deepEqual(read(text, true, lineOffset), read(text, false, lineOffset), text.slice(0, 200));
}

describe('unit: parseJsonDump (strict and tolerant readers agree)', () => {
  const files = corpusFiles().filter((f) => f.endsWith('.json'));

  it(`every JSON file of the corpus (${files.length}) reads the same by both readers`, () => {
    assert.ok(files.length >= 5);
    for (const f of files) same(corpusFile(f), 3);
  });

  const cases: [string, string][] = [
    ['nested objects and arrays on several lines', '{\n  "a": [\n    {"b": 1},\n    [2, 3]\n  ],\n  "c": {}\n}\n'],
    ['escapes', '["a\\"b", "\\u00e9\\n\\t\\/\\\\", "\\ud83d\\ude00", "\\ud800"]'],
    ['numbers', '[0, -0, 1.5, -2e10, 3E-2, 1e400, 12345678901234567890]'],
    ['literals and blanks', ' \r\n\t[true, false, null] \n'],
    ['duplicate keys: the last wins, in the first place', '{"a": 1, "b": 2, "a": 3}'],
    ['integer-like keys', '{"10": 1, "2": 2, "x": 3}'],
    ['forbidden keys, nested ones inside a dropped value muted', '{\n "__proto__": {"constructor": 1},\n "x": {"prototype": 2, "y": 3}\n}'],
    ['CRLF lines', '{\r\n"a": [\r\n1]\r\n}'],
    ['a string', '"just a string"'],
    ['deep but allowed', '['.repeat(150) + ']'.repeat(150)],
    ['200 levels: the most allowed', '['.repeat(199) + '{"a":' + '1' + '}' + ']'.repeat(199)],
    ['201 levels: refused by both', '['.repeat(200) + '{"a":' + '1' + '}' + ']'.repeat(200)],
  ];
  for (const [name, text] of cases) it(name, () => same(text));

  const broken = ['', '   ', '{', '{"a": 1,}', '[1,]', '{"a" 1}', "{'a': 1}", '[01]', '[1.]', '[.5]', '[+1]', '["a\nb"]', '["\\x"]', '[1] [2]', '\ufeff[1]', '// c\n[1]', '[NaN]', '[tru]', '{"a": 1', '["abc'];
  for (const text of broken) {
    it(`not strict JSON: ${JSON.stringify(text)} reads as the tolerant reader reads it`, () => {
      same(text);
      if (text.trim() !== '' && text !== '\ufeff[1]') assert.ok(read(text, true).problems.some((p) => p.severity === 'error'), 'a problem is reported');
    });
  }

  it('nesting: 200 levels read, 201 refused with a json-depth error', () => {
    assert.deepEqual(read('['.repeat(200) + ']'.repeat(200), true).problems, []);
    assert.deepEqual(read('['.repeat(201) + ']'.repeat(201), true).problems.map((p) => p.code), ['json-depth']);
  });

  it('the strict reader is the one that reads well-formed JSON (its objects carry lines)', () => {
    const sink = new ProblemSink('f.json');
    const doc = parseJsonDump('[\n{"a": 1}]', sink);
    const o = (doc.value as JsonValue[])[0];
    assert.equal(doc.lineOf(o), 2);
    assert.deepEqual(sink.problems, []);
  });

  it('random JSON (fast-check): both readers agree', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), fc.boolean(), (j, pretty) => {
        const text = pretty ? JSON.stringify(JSON.parse(j), null, 2) : j;
        same(text);
      }),
      { numRuns: 400, seed: 20261126 },
    );
  });

  it('random text near JSON (fast-check): both readers agree, nothing throws', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.nat(), fc.string({ maxLength: 3 }), (j, at, junk) => {
        const p = at % (j.length + 1);
        same(j.slice(0, p) + junk + j.slice(p));
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});
