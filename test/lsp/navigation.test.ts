/**
 * lsp tier: definition, references, rename, document and workspace symbols, folding, code lenses
 * and the custom captureInfo request, over a real server process, with cursors marked `|`.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  CodeLens,
  DocumentSymbol,
  FoldingRange,
  Location,
  Range,
  TextEdit,
  WorkspaceEdit,
  WorkspaceSymbol,
} from 'vscode-languageserver-protocol';
import { parseIptablesS } from '../../src/core/parsers/parseIptablesS';
import { parseIptablesSave } from '../../src/core/parsers/parseIptablesSave';
import { CaptureInfoRequest, TRACE_COMMAND, type CaptureInfo, type TracePrefill } from '../../src/shared/protocol';
import { CORPUS, LspSession, ROOT, SEED, cursorIn, uriOf } from './harness';

const HOST = path.join(SEED, 'swarm-manager/host/iptables-save.txt');
const HOST_L = path.join(SEED, 'swarm-manager/host/iptables-L-nat.txt');
const ROUTER_S = path.join(CORPUS, 'captures/netns-lab/vm/router/iptables-S-filter.txt');
const ROUTER_SAVE = path.join(CORPUS, 'captures/netns-lab/vm/router/iptables-save.txt');
const BUNDLE = path.join(__dirname, 'fixtures/swarm-manager.meshtrace');

/** The text a range covers in a file's lines. */
function textAt(body: string, r: Range): string {
  const lines = body.split('\n');
  assert.equal(r.start.line, r.end.line, 'one-line range expected');
  return lines[r.start.line].slice(r.start.character, r.end.character);
}

/** The 0-based line that holds a fragment (which must be unique). */
function lineOf(body: string, fragment: string): number {
  return cursorIn(body, `|${fragment}`).line;
}

/** Applies edits of one file (no overlaps). */
function applyEdits(body: string, edits: TextEdit[]): string {
  const lines = body.split('\n');
  const sorted = [...edits].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
  for (const e of sorted) {
    const l = lines[e.range.start.line];
    lines[e.range.start.line] = l.slice(0, e.range.start.character) + e.newText + l.slice(e.range.end.character);
  }
  return lines.join('\n');
}

describe('lsp tier: navigation (node dist/server.js --stdio)', function () {
  this.timeout(60000);
  let s: LspSession;
  const body = new Map<string, string>();
  const uris = new Map<string, string>();
  const open = async (file: string, lang = 'iptables'): Promise<string> => {
    let uri = uris.get(file);
    if (!uri) {
      body.set(file, fs.readFileSync(file, 'utf8'));
      uri = await s.open(file, body.get(file), lang);
      uris.set(file, uri);
    }
    return uri;
  };
  const at = (file: string, marked: string): { textDocument: { uri: string }; position: { line: number; character: number } } => ({
    textDocument: { uri: uris.get(file) as string },
    position: cursorIn(body.get(file) as string, marked),
  });

  before(async () => {
    s = new LspSession();
    await s.initialize([ROOT]);
    for (const f of [HOST, HOST_L, ROUTER_S, ROUTER_SAVE]) await open(f);
    await open(BUNDLE, 'meshtrace-bundle');
  });
  after(async () => {
    await s.dispose();
  });

  describe('definition', () => {
    const cases: { name: string; file: string; at: string; decl: string; nth?: number }[] = [
      { name: 'a jump goes to the chain of its own table (nat, not filter)', file: HOST, at: '[296:17960] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-IN|GRESS', decl: ':DOCKER-INGRESS - [0:0]', nth: 0 },
      { name: 'a jump in filter goes to the filter chain of the same name', file: HOST, at: '[0:0] -A FORWARD -j DOCKER-IN|GRESS', decl: ':DOCKER-INGRESS - [0:0]', nth: 1 },
      { name: 'a jump in filter goes to the filter chain', file: HOST, at: '[0:0] -A FORWARD -j DOCKER-ISO|LATION-STAGE-1', decl: ':DOCKER-ISOLATION-STAGE-1 - [0:0]' },
      { name: 'the chain of an -A line', file: HOST, at: '[0:0] -A DOCKER-ISOLATION|-STAGE-2 -o docker0 -j DROP', decl: ':DOCKER-ISOLATION-STAGE-2 - [0:0]' },
      { name: 'iptables -S: -j LAN-CHECK goes to -N LAN-CHECK', file: ROUTER_S, at: '-j LAN-|CHECK', decl: '-N LAN-CHECK' },
      { name: 'iptables -L: the target column goes to the Chain line', file: HOST_L, at: '    8   590 DOCKER-|INGRESS', decl: 'Chain DOCKER-INGRESS (2 references)' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const locs = await s.request<Location[]>('textDocument/definition', at(c.file, c.at));
        assert.equal(locs.length, 1, JSON.stringify(locs));
        const b = body.get(c.file) as string;
        assert.equal(locs[0].uri, uris.get(c.file));
        assert.equal(locs[0].range.start.line, cursorIn(b, `|${c.decl}`, c.nth).line);
        assert.equal(textAt(b, locs[0].range), /^(Chain|-N) /.test(c.decl) ? c.decl.split(' ')[1] : c.decl.slice(1).split(' ')[0]);
      });
    }
    it('a verdict has no definition', async () => {
      const locs = await s.request<Location[]>('textDocument/definition', at(HOST, '[302:18430] -A DOCKER-INGRESS -j RET|URN'));
      assert.deepEqual(locs, []);
    });
  });

  describe('references', () => {
    it('nat DOCKER-INGRESS: the two jumps (PREROUTING, OUTPUT), and the declaration when asked', async () => {
      const b = body.get(HOST) as string;
      // Two `:DOCKER-INGRESS` lines exist (nat and filter); the first is nat's.
      const p = { textDocument: { uri: uris.get(HOST) }, position: cursorIn(b, ':DOCKER-IN|GRESS - [0:0]', 0), context: { includeDeclaration: false } };
      const refs = await s.request<Location[]>('textDocument/references', p);
      assert.deepEqual(refs.map((r) => r.range.start.line).sort((a, c) => a - c), [lineOf(b, '[296:17960] -A PREROUTING'), lineOf(b, '[8:590] -A OUTPUT')]);
      for (const r of refs) assert.equal(textAt(b, r.range), 'DOCKER-INGRESS');
      const withDecl = await s.request<Location[]>('textDocument/references', { ...p, context: { includeDeclaration: true } });
      assert.equal(withDecl.length, 3);
    });
    it('filter DOCKER-INGRESS: the one jump from FORWARD', async () => {
      const b = body.get(HOST) as string;
      const refs = await s.request<Location[]>('textDocument/references', { textDocument: { uri: uris.get(HOST) }, position: cursorIn(b, ':DOCKER-IN|GRESS - [0:0]', 1), context: { includeDeclaration: false } });
      assert.deepEqual(refs.map((r) => r.range.start.line), [lineOf(b, '[0:0] -A FORWARD -j DOCKER-INGRESS')]);
    });
    it('iptables -S: LAN-CHECK is jumped to once', async () => {
      const refs = await s.request<Location[]>('textDocument/references', { ...at(ROUTER_S, '-N LAN-C|HECK'), context: { includeDeclaration: false } });
      assert.deepEqual(refs.map((r) => r.range.start.line), [lineOf(body.get(ROUTER_S) as string, '-j LAN-CHECK')]);
    });
  });

  describe('rename', () => {
    it('renames a user chain everywhere in iptables -S: -N, every -A and the jump', async () => {
      const prep = await s.request<{ range: Range; placeholder: string }>('textDocument/prepareRename', at(ROUTER_S, '-j LAN-CH|ECK'));
      assert.equal(prep.placeholder, 'LAN-CHECK');
      const edit = await s.request<WorkspaceEdit>('textDocument/rename', { ...at(ROUTER_S, '-j LAN-CH|ECK'), newName: 'LAN-GUARD' });
      const edits = edit.changes?.[uris.get(ROUTER_S) as string] ?? [];
      assert.equal(edits.length, 5);
      const after = applyEdits(body.get(ROUTER_S) as string, edits);
      assert.ok(!after.includes('LAN-CHECK'));
      const parsed = parseIptablesS(after, { hint: 'filter' });
      const chain = parsed.value.tables[0].chains.find((c) => c.name === 'LAN-GUARD');
      assert.equal(chain?.rules.length, 3);
      assert.ok(parsed.value.tables[0].chains.flatMap((c) => c.rules).some((r) => r.spec.target?.name === 'LAN-GUARD'));
      assert.equal(parsed.problems.filter((p) => p.severity !== 'info').length, 0);
    });
    it('renames in iptables-save, from the declaration, and the result still loads', async () => {
      const edit = await s.request<WorkspaceEdit>('textDocument/rename', { ...at(ROUTER_SAVE, ':LAN-C|HECK - [0:0]'), newName: 'LAN-GUARD' });
      const after = applyEdits(body.get(ROUTER_SAVE) as string, edit.changes?.[uris.get(ROUTER_SAVE) as string] ?? []);
      const parsed = parseIptablesSave(after);
      assert.equal(parsed.problems.filter((p) => p.severity === 'error').length, 0);
      assert.equal(parsed.value.tables.find((t) => t.name === 'filter')?.chains.find((c) => c.name === 'LAN-GUARD')?.rules.length, 3);
    });
    const refused: { name: string; at: string; newName: string; why: RegExp }[] = [
      { name: 'a built-in chain', at: '-A FOR|WARD -m conntrack', newName: 'X', why: /built-in chain/ },
      { name: 'to a name already used', at: '-N LAN-C|HECK', newName: 'INPUT', why: /built-in chain|already has/ },
      { name: 'to a target name', at: '-N LAN-C|HECK', newName: 'DNAT', why: /name of a target/ },
      { name: 'to a name with a blank', at: '-N LAN-C|HECK', newName: 'LAN CHECK', why: /blanks/ },
      { name: 'to a name over 28 characters', at: '-N LAN-C|HECK', newName: 'A'.repeat(29), why: /at most 28/ },
    ];
    for (const r of refused) {
      it(`refuses ${r.name}`, async () => {
        const req = r.name === 'a built-in chain' ? 'textDocument/prepareRename' : 'textDocument/rename';
        const params = { ...at(ROUTER_S, r.at.includes('FOR|WARD') ? '-A FOR|WARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT' : r.at), newName: r.newName };
        await assert.rejects(s.request(req, params), (e: Error) => r.why.test(e.message));
      });
    }
  });

  describe('symbols', () => {
    it('document symbols: tables → chains with policies and rule counts', async () => {
      const syms = await s.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: uris.get(HOST) } });
      assert.deepEqual(syms.map((x) => [x.name, x.detail]), [['nat', '6 chains · 11 rules'], ['filter', '8 chains · 21 rules']]);
      const nat = syms[0].children ?? [];
      assert.deepEqual(nat.map((c) => [c.name, c.detail]), [
        ['PREROUTING', 'policy ACCEPT · 2 rules'],
        ['INPUT', 'policy ACCEPT · 0 rules'],
        ['OUTPUT', 'policy ACCEPT · 2 rules'],
        ['POSTROUTING', 'policy ACCEPT · 3 rules'],
        ['DOCKER', '2 rules · 2 references'],
        ['DOCKER-INGRESS', '2 rules · 2 references'],
      ]);
      const b = body.get(HOST) as string;
      assert.equal(textAt(b, nat[5].selectionRange), 'DOCKER-INGRESS');
    });
    it('document symbols of a bundle: one entry per section, then its tables or IPVS services', async () => {
      const syms = await s.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: uris.get(BUNDLE) } });
      assert.deepEqual(syms.map((x) => [x.name, x.detail]), [
        ['swarm-manager/host', 'iptables-save -c'],
        ['swarm-manager/ingress_sbox', 'iptables-save -c'],
        ['swarm-manager/ingress_sbox', 'ipvsadm -Ln'],
        ['swarm-manager/ingress_sbox', 'ip -d addr'],
      ]);
      assert.deepEqual(syms[1].children?.map((x) => x.name), ['mangle', 'nat']);
      assert.deepEqual(syms[2].children?.map((x) => [x.name, x.detail, x.children?.map((d) => d.name)]), [['FWM 256', 'rr · 2 real servers', ['10.0.0.6:0', '10.0.0.7:0']]]);
    });
    it('workspace symbols: chains of every rule file in the workspace, with node/namespace and table', async () => {
      const syms = await s.request<WorkspaceSymbol[]>('workspace/symbol', { query: 'DOCKER-ISOLATION-STAGE-2' });
      const seed = syms.filter((x) => 'uri' in x.location && x.location.uri.includes('/samples/seed-swarm/') && x.location.uri.endsWith('/host/iptables-save.txt'));
      assert.deepEqual(seed.map((x) => x.containerName).sort(), ['swarm-manager/host filter', 'swarm-worker1/host filter', 'swarm-worker2/host filter']);
      assert.ok(syms.every((x) => x.name === 'DOCKER-ISOLATION-STAGE-2'));
    });
  });

  describe('folding', () => {
    it('folds each table block and each chain with several rules', async () => {
      const folds = await s.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: uris.get(HOST) } });
      const b = body.get(HOST) as string;
      const has = (from: string, to: string): boolean => folds.some((f) => f.startLine === lineOf(b, from) && f.endLine === lineOf(b, to));
      const nat = folds.find((f) => f.startLine === lineOf(b, '*nat'));
      assert.equal(nat?.endLine, lineOf(b, '[302:18430] -A DOCKER-INGRESS -j RETURN') + 1, 'the nat block ends at its COMMIT');
      assert.ok(has('[2:120] -A DOCKER-INGRESS -p tcp', '[302:18430] -A DOCKER-INGRESS -j RETURN'), 'DOCKER-INGRESS rules fold');
    });
    it('folds iptables -L chains and bundle sections', async () => {
      const l = await s.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: uris.get(HOST_L) } });
      const bl = body.get(HOST_L) as string;
      assert.ok(l.some((f) => f.startLine === lineOf(bl, 'Chain DOCKER-INGRESS') && f.endLine === lineOf(bl, '302 18430 RETURN')));
      const bf = await s.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: uris.get(BUNDLE) } });
      const bb = body.get(BUNDLE) as string;
      assert.ok(bf.some((f) => f.startLine === lineOf(bb, 'cmd=ipvsadm -Ln') && f.kind === 'region'));
    });
  });

  describe('code lenses', () => {
    it('a trace lens per chain, pre-filled from the chain, and per-rule counters', async () => {
      const lenses = await s.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: uris.get(HOST) } });
      const b = body.get(HOST) as string;
      const trace = lenses.find((l) => l.command?.command === TRACE_COMMAND && l.range.start.line === cursorIn(b, '|:DOCKER-INGRESS - [0:0]', 0).line);
      assert.ok(trace, 'no trace lens on nat DOCKER-INGRESS');
      assert.equal(trace.command?.title, '▶ Trace a packet into nat DOCKER-INGRESS (via PREROUTING, OUTPUT)');
      const prefill = trace.command?.arguments?.[0] as TracePrefill;
      assert.equal(prefill.capture, SEED);
      assert.deepEqual(prefill.query, { node: 'swarm-manager', namespace: 'host', proto: 'tcp', dport: 8080 });
      assert.deepEqual([prefill.table, prefill.chain, prefill.hooks, prefill.entry], ['nat', 'DOCKER-INGRESS', ['PREROUTING', 'OUTPUT'], 'interface']);
      assert.equal(prefill.cli, `meshtrace trace ${SEED} --node swarm-manager --ns host --iif <interface> --proto tcp --src <ip> --dst <ip> --dport 8080`);
      const counters = lenses.find((l) => l.range.start.line === lineOf(b, '[2:120] -A DOCKER-INGRESS') && !l.command?.command);
      assert.equal(counters?.command?.title, '2 packets · 120 bytes');
      const never = lenses.find((l) => l.range.start.line === lineOf(b, '[0:0] -A DOCKER -i docker0 -j RETURN') && !l.command?.command);
      assert.equal(never?.command?.title, 'never matched (0 packets)');
      const out = lenses.find((l) => l.command?.title === '▶ Trace a packet into nat OUTPUT');
      assert.equal((out?.command?.arguments?.[0] as TracePrefill).entry, 'local');
    });
  });

  describe('captureInfo (custom request)', () => {
    it('places a file of the seed swarm in its capture, node and namespace', async () => {
      const info = await s.request<CaptureInfo>(CaptureInfoRequest.method, { uri: uriOf(HOST) });
      assert.equal(info.root, SEED);
      assert.equal(info.shape, 'capture');
      assert.equal(info.file, 'swarm-manager/host/iptables-save.txt');
      assert.deepEqual([info.node, info.namespace, info.kind], ['swarm-manager', 'host', 'iptables-save']);
      assert.deepEqual(info.nodes, ['swarm-manager', 'swarm-worker1', 'swarm-worker2']);
      assert.equal(info.namespaces, 15);
      assert.equal(info.problems.error + info.problems.warning, 0);
    });
    it('a corpus dump outside any capture is a capture of its own', async () => {
      const f = path.join(CORPUS, 'iptables-save/garutilorenzo-docker20-ubuntu-legacy-v1.8.4-published-port.txt');
      await open(f);
      const info = await s.request<CaptureInfo>(CaptureInfoRequest.method, { uri: uriOf(f) });
      assert.deepEqual([info.root, info.shape, info.node, info.namespace], [f, 'file', 'pasted', 'host']);
    });
    it('the netns lab router is node vm, namespace router', async () => {
      const info = await s.request<CaptureInfo>(CaptureInfoRequest.method, { uri: uriOf(ROUTER_S) });
      assert.deepEqual([info.root, info.shape, info.node, info.namespace, info.kind], [path.join(CORPUS, 'captures/netns-lab'), 'capture', 'vm', 'router', 'iptables-S']);
    });
  });
});
