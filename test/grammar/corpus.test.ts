/**
 * grammar tier: every iptables and ipvsadm dump of the corpus and of samples/seed-swarm, tokenized
 * with the TextMate grammars (vscode-textmate, as VS Code does), checked against what the core
 * parsers read from the same lines: each rule's chain and target get chain/target scopes, tables
 * their section scope, IPVS services and real servers theirs, and no token is `invalid`.
 * The hand-written cases with inline assertions are in test/grammar/cases (vscode-tmgrammar-test).
 */
import { filesUnder } from '../unit/helpers';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tm from 'vscode-textmate';
import { createRegistry, loadConfiguration } from 'vscode-tmgrammar-test/dist/common/index';
import { detectKind } from '../../src/core/parsers/detectKind';
import { parseDump } from '../../src/core/parsers/index';

const ROOT = path.resolve(__dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/corpus');
const SEED = path.join(ROOT, 'samples/seed-swarm');

/** Dumps of the kinds the grammars cover, with their detected kind. */
function dumps(): { file: string; kind: 'iptables-save' | 'iptables-S' | 'iptables-L' | 'ipvsadm'; table?: string }[] {
  const out: ReturnType<typeof dumps> = [];
  for (const f of [...filesUnder(CORPUS), ...filesUnder(SEED)]) {
    if (!/\.txt$/.test(f)) continue;
    const text = fs.readFileSync(f, 'utf8');
    const d = detectKind(text, path.basename(f));
    if (d.kind === 'iptables-save' || d.kind === 'iptables-S' || d.kind === 'iptables-L' || d.kind === 'ipvsadm') out.push({ file: f, kind: d.kind, table: d.table });
  }
  return out;
}

interface Tok {
  start: number;
  end: number;
  scopes: string[];
}

let registry: tm.Registry;
const grammars = new Map<string, tm.IGrammar>();

async function grammar(scope: string): Promise<tm.IGrammar> {
  let g = grammars.get(scope);
  if (!g) {
    const loaded = await registry.loadGrammar(scope);
    assert.ok(loaded, `grammar ${scope} did not load`);
    g = loaded;
    grammars.set(scope, g);
  }
  return g;
}

async function tokenize(scope: string, text: string): Promise<Tok[][]> {
  const g = await grammar(scope);
  let stack = tm.INITIAL;
  return text.split('\n').map((line) => {
    const r = g.tokenizeLine(line.replace(/\r$/, ''), stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({ start: t.startIndex, end: t.endIndex, scopes: t.scopes }));
  });
}

/** The scopes of the token at a column. */
function scopesAt(toks: Tok[], col: number): string {
  return (toks.find((t) => col >= t.start && col < t.end)?.scopes ?? []).join(' ');
}

describe('grammar tier: TextMate grammars over the corpus', () => {
  before(() => {
    const { grammars: list } = loadConfiguration(path.join(__dirname, 'grammars.json'), undefined, undefined);
    registry = createRegistry(list);
  });

  const files = dumps();
  it('finds the corpus dumps of every form', () => {
    const kinds = new Set(files.map((f) => f.kind));
    assert.deepEqual([...kinds].sort(), ['iptables-L', 'iptables-S', 'iptables-save', 'ipvsadm']);
    assert.ok(files.length > 60, `only ${files.length} dumps found`);
  });

  for (const f of files) {
    const name = path.relative(path.resolve(ROOT, '..'), f.file);
    it(`${f.kind}: ${name}`, async () => {
      const text = fs.readFileSync(f.file, 'utf8');
      const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
      const scope = f.kind === 'ipvsadm' ? 'source.ipvsadm' : 'source.iptables';
      const toks = await tokenize(scope, text);
      toks.forEach((line, i) => {
        for (const t of line) assert.ok(!t.scopes.some((s) => s.startsWith('invalid')), `${name}:${i + 1}: invalid token \`${lines[i].slice(t.start, t.end)}\``);
      });
      const parsed = parseDump(f.kind, text, { file: name, hint: f.table ?? path.basename(f.file) });
      if (parsed.kind === 'ipvsadm') {
        for (const s of parsed.result.value.services) {
          const l = s.source.line - 1;
          const word = s.proto === 'fwm' ? 'FWM' : s.proto.toUpperCase();
          const col = lines[l].indexOf(word);
          if (col >= 0 && lines[l].trimStart().startsWith(word)) assert.match(scopesAt(toks[l], col), /storage\.type\.(fwmark|protocol)\.ipvsadm/, `${name}:${l + 1}`);
          for (const d of s.dests) {
            const dl = d.source.line - 1;
            if (!lines[dl].trimStart().startsWith('->')) continue;
            assert.match(scopesAt(toks[dl], lines[dl].indexOf(d.addr)), /constant\.numeric\.address\.ipvsadm/, `${name}:${dl + 1}`);
          }
        }
        return;
      }
      if (parsed.kind !== 'iptables-save' && parsed.kind !== 'iptables-S' && parsed.kind !== 'iptables-L') return;
      let rules = 0;
      for (const t of parsed.result.value.tables) {
        if (f.kind === 'iptables-save') {
          const l = t.source.line - 1;
          assert.match(scopesAt(toks[l], lines[l].indexOf(t.name)), /entity\.name\.section\.table\.iptables/, `${name}:${l + 1}`);
        }
        for (const c of t.chains) {
          for (const r of c.rules) {
            rules++;
            const l = r.source.line - 1;
            const line = lines[l];
            assert.match(scopesAt(toks[l], line.search(/\S/)), /meta\.rule\.iptables/, `${name}:${l + 1}: not a rule: ${line}`);
            const target = r.spec.target?.name;
            if (f.kind === 'iptables-L') {
              if (target) assert.match(scopesAt(toks[l], line.indexOf(` ${target} `) + 1), /(verdict|target|chain)\.iptables/, `${name}:${l + 1}: target ${target}`);
              continue;
            }
            const m = /-A\s+(\S+)/.exec(line);
            assert.ok(m, `${name}:${l + 1}`);
            assert.match(scopesAt(toks[l], (m.index ?? 0) + m[0].length - m[1].length), /entity\.name\.function\.chain/, `${name}:${l + 1}: chain ${m[1]}`);
            if (target) {
              const j = new RegExp(`-[jg] ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`).exec(line);
              assert.ok(j, `${name}:${l + 1}: no -j ${target}`);
              const scopes = scopesAt(toks[l], j.index + 3);
              const want = r.spec.target?.goto || c.name === target ? /chain/ : /(verdict|target|chain)\.iptables/;
              assert.match(scopes, want, `${name}:${l + 1}: target ${target}`);
              if (t.chains.some((x) => x.name === target && !x.builtin)) assert.match(scopes, /entity\.name\.function\.chain\.iptables/, `${name}:${l + 1}: jump to user chain ${target}`);
            }
          }
        }
      }
      if (parsed.result.value.tables.length) assert.ok(rules >= 0);
    });
  }
});
