/**
 * lsp tier: diagnostics pushed by a real server process. Real dumps (the corpus, the seed swarm)
 * must be clean; each check the issue lists is shown on a small edited text, with the line it must
 * point at marked `|`; the Swarm checks run on edited in-memory copies of samples/seed-swarm files
 * (didOpen/didChange), with the rest of the capture read from disk.
 */
import { filesUnder } from '../unit/helpers';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic } from 'vscode-languageserver-protocol';
import { CORPUS, LspSession, SEED, cursorIn, uriOf } from './harness';

const languageOf = (f: string): string => (path.basename(f).includes('ipvsadm') ? 'ipvsadm' : 'iptables');

/** The diagnostics of a code, with a readable failure message. */
function withCode(ds: Diagnostic[], code: string): Diagnostic[] {
  return ds.filter((d) => d.code === code);
}

/** A diagnostic's message as text (LSP 3.18 allows Markup; this server sends strings). */
function msg(d: Diagnostic | undefined): string {
  if (!d) return '';
  return typeof d.message === 'string' ? d.message : d.message.value;
}

function show(ds: Diagnostic[]): string {
  return JSON.stringify(ds.map((d) => [d.range.start.line, d.severity, d.code, d.message]), null, 1);
}

describe('lsp tier: diagnostics (node dist/server.js --stdio)', function () {
  this.timeout(90000);
  let s: LspSession;
  before(async () => {
    s = new LspSession();
    await s.initialize();
  });
  after(async () => {
    await s.dispose();
  });

  describe('real dumps are clean', () => {
    it('every iptables and ipvsadm dump of samples/seed-swarm: no error, no warning', async () => {
      const files = filesUnder(SEED).filter((f) => /iptables|ipvsadm/.test(path.basename(f)));
      assert.ok(files.length >= 30, `${files.length} files`);
      const uris = [];
      for (const f of files) uris.push(await s.open(f, undefined, languageOf(f)));
      for (const [i, uri] of uris.entries()) {
        const ds = await s.diagnostics(uri);
        const bad = ds.filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
        assert.deepEqual(bad, [], `${files[i]}: ${show(bad)}`);
      }
      for (const uri of uris) await s.close(uri);
    });

    it('corpus iptables-save dumps: only the authors\' annotation lines are flagged', async () => {
      const expected: Record<string, { annotations: number; other: string[] }> = {
        'garutilorenzo-docker20-ubuntu-legacy-v1.8.4-published-port.txt': { annotations: 0, other: ['unused-chain', 'unused-chain'] },
        'moby-golden-iptabler-icc-false-masq-nat-ip6tables.txt': { annotations: 0, other: [] },
        'moby-golden-iptabler-icc-false-masq-nat.txt': { annotations: 0, other: [] },
        'praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt': { annotations: 0, other: [] },
        'praqma-gke-2016-kube-proxy-docker-v1.4.14-before-pods.txt': { annotations: 0, other: [] },
      };
      for (const f of filesUnder(path.join(CORPUS, 'iptables-save'))) {
        const text = fs.readFileSync(f, 'utf8');
        const uri = await s.open(f, text);
        const ds = await s.diagnostics(uri);
        const annotated = text.split('\n').filter((l) => /^##/.test(l)).length;
        const want = expected[path.basename(f)] ?? { annotations: annotated, other: [] };
        assert.equal(withCode(ds, 'annotation').length, want.annotations, `${path.basename(f)}: ${show(ds)}`);
        assert.ok(withCode(ds, 'annotation').every((d) => d.severity === DiagnosticSeverity.Warning));
        const other = ds.filter((d) => d.code !== 'annotation' && d.severity !== DiagnosticSeverity.Information && d.severity !== DiagnosticSeverity.Hint);
        assert.deepEqual(other, [], `${path.basename(f)}: ${show(other)}`);
        assert.deepEqual(ds.filter((d) => d.code === 'unused-chain').map((d) => d.code), want.other.filter((c) => c === 'unused-chain'));
        await s.close(uri);
      }
    });
  });

  describe('checks on edited texts', () => {
    /** A case: a text with one line marked `|` where the diagnostic must start. */
    const cases: { name: string; code: string; severity: DiagnosticSeverity; text: string; related?: string; unnecessary?: boolean }[] = [
      {
        name: 'a jump to an undeclared chain',
        code: 'undeclared-target',
        severity: DiagnosticSeverity.Error,
        text: '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j |NOPE\nCOMMIT\n',
      },
      {
        name: 'a goto to an undeclared chain',
        code: 'undeclared-target',
        severity: DiagnosticSeverity.Error,
        text: '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -g |NOWHERE\nCOMMIT\n',
      },
      {
        name: 'a chain declared twice',
        code: 'duplicate-chain',
        severity: DiagnosticSeverity.Error,
        text: '*filter\n:INPUT ACCEPT [0:0]\n:MINE - [0:0]\n:|MINE - [0:0]\n-A INPUT -j MINE\nCOMMIT\n',
      },
      {
        name: 'a table without COMMIT',
        code: 'missing-commit',
        severity: DiagnosticSeverity.Error,
        text: '|*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080\n',
      },
      {
        name: 'an unknown option',
        code: 'unknown-option',
        severity: DiagnosticSeverity.Warning,
        text: '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp |--frobnicate 1 -j ACCEPT\nCOMMIT\n',
      },
      {
        name: 'a rule shadowed by an earlier unconditional rule',
        code: 'shadowed-rule',
        severity: DiagnosticSeverity.Warning,
        text: '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m comment --comment "drop all" -j DROP\n|-A FORWARD -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n',
        related: '-A FORWARD -m comment --comment "drop all" -j DROP',
        unnecessary: true,
      },
      {
        name: 'a rule after an unconditional goto',
        code: 'shadowed-rule',
        severity: DiagnosticSeverity.Warning,
        text: '*filter\n:INPUT ACCEPT [0:0]\n:CHECK - [0:0]\n-A INPUT -g CHECK\n|-A INPUT -i lo -j ACCEPT\n-A CHECK -j RETURN\nCOMMIT\n',
        related: '-A INPUT -g CHECK',
        unnecessary: true,
      },
      {
        name: 'a user chain nothing jumps to',
        code: 'unused-chain',
        severity: DiagnosticSeverity.Information,
        text: '*filter\n:INPUT ACCEPT [0:0]\n:|LONELY - [0:0]\n-A LONELY -j DROP\nCOMMIT\n',
        unnecessary: true,
      },
      {
        name: 'a DNAT to port 0',
        code: 'nat-target',
        severity: DiagnosticSeverity.Error,
        text: '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 80 -j |DNAT --to-destination 10.1.1.1:0\nCOMMIT\n',
      },
      {
        name: 'a REDIRECT to port 0',
        code: 'nat-target',
        severity: DiagnosticSeverity.Error,
        text: '*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp -m udp --dport 53 -j |REDIRECT --to-ports 0\nCOMMIT\n',
      },
      {
        name: 'a DNAT to the broadcast address',
        code: 'nat-target',
        severity: DiagnosticSeverity.Warning,
        text: '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 80 -j |DNAT --to-destination 255.255.255.255:80\nCOMMIT\n',
      },
      {
        name: 'a DNAT reached from POSTROUTING (the kernel refuses it)',
        code: 'target-hook',
        severity: DiagnosticSeverity.Error,
        text: '*nat\n:POSTROUTING ACCEPT [0:0]\n:FIX - [0:0]\n-A POSTROUTING -j FIX\n-A FIX -p tcp -m tcp --dport 80 -j |DNAT --to-destination 10.1.1.1:8080\nCOMMIT\n',
      },
      {
        name: 'iptables -S of a whole table: a jump to a chain it does not list',
        code: 'undeclared-target',
        severity: DiagnosticSeverity.Warning,
        text: '-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n-A FORWARD -i br0 -j |MISSING\n',
      },
      {
        name: 'an iptables -S listing with an unknown option',
        code: 'unknown-option',
        severity: DiagnosticSeverity.Warning,
        text: '-P INPUT ACCEPT\n-A INPUT -p udp -m udp |--frob 1 -j ACCEPT\n',
      },
    ];
    let n = 0;
    for (const c of cases) {
      it(c.name, async () => {
        const bar = c.text.indexOf('|');
        const text = c.text.slice(0, bar) + c.text.slice(bar + 1);
        const before = c.text.slice(0, bar).split('\n');
        const at = { line: before.length - 1, character: before[before.length - 1].length };
        const uri = `untitled:Untitled-${++n}`;
        await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'iptables', version: 1, text } });
        const ds = await s.diagnostics(uri, (d) => d.some((x) => x.code === c.code));
        const hit = withCode(ds, c.code).find((d) => d.range.start.line === at.line);
        assert.ok(hit, `no ${c.code} on line ${at.line}: ${show(ds)}`);
        assert.equal(hit.severity, c.severity);
        assert.equal(hit.range.start.character, at.character, `${c.code} starts at column ${hit.range.start.character}, expected ${at.character}`);
        if (c.related) {
          const rel = hit.relatedInformation?.[0];
          assert.ok(rel, 'no related information');
          assert.equal(rel.location.uri, uri);
          assert.equal(rel.location.range.start.line, text.split('\n').findIndex((l) => l === c.related));
        }
        assert.equal(hit.tags?.includes(DiagnosticTag.Unnecessary) ?? false, c.unnecessary ?? false);
        await s.close(uri);
      });
    }
  });

  describe('Swarm checks across namespaces (edited copies of samples/seed-swarm)', () => {
    const W1 = path.join(SEED, 'swarm-worker1');
    const W2 = path.join(SEED, 'swarm-worker2');
    const read = (f: string): string => fs.readFileSync(f, 'utf8');
    const line = (text: string, marked: string, nth?: number): number => cursorIn(text, marked, nth).line;

    it('a published-port DNAT with no MARK for that port in ingress_sbox', async () => {
      const sboxFile = path.join(W2, 'ingress_sbox/iptables-save.txt');
      const hostFile = path.join(W2, 'host/iptables-save.txt');
      const sboxText = read(sboxFile);
      const edited = sboxText.split('\n').filter((l) => !l.includes('--dport 8080 -j MARK')).join('\n');
      assert.notEqual(edited, sboxText);
      const sbox = await s.open(sboxFile, edited);
      const host = await s.open(hostFile);
      const hostText = read(hostFile);
      const ds = await s.diagnostics(host, (d) => withCode(d, 'swarm-no-mark').length > 0);
      const d = withCode(ds, 'swarm-no-mark')[0];
      assert.equal(d.severity, DiagnosticSeverity.Warning);
      assert.equal(d.range.start.line, line(hostText, '--dport 8080 -j |DNAT'));
      assert.match(msg(d), /published port 8080\/tcp: the host DNATs it to ingress_sbox, but swarm-worker2\/ingress_sbox has no MARK rule for port 8080/);
      assert.equal(d.relatedInformation?.[0].location.uri, uriOf(sboxFile));
      assert.equal(d.relatedInformation?.[0].location.range.start.line, line(edited, '|:PREROUTING ACCEPT', 0));
      // Put the MARK back (didChange): the host's warning goes away without touching the host file.
      await s.change(sbox, sboxText);
      await s.diagnostics(host, (x) => withCode(x, 'swarm-no-mark').length === 0);
      await s.close(sbox);
      await s.close(host);
    });

    it('a mark with no IPVS service, and then a service with no live real server', async () => {
      const ipvsFile = path.join(W1, 'ingress_sbox/ipvsadm.txt');
      const rulesFile = path.join(W1, 'ingress_sbox/iptables-save.txt');
      const ipvsText = read(ipvsFile);
      const rulesText = read(rulesFile);
      const noService = ipvsText.split('\n').slice(0, 3).join('\n') + '\n';
      const ipvs = await s.open(ipvsFile, noService, 'ipvsadm');
      const rules = await s.open(rulesFile);
      let ds = await s.diagnostics(rules, (d) => withCode(d, 'swarm-mark-no-ipvs').length === 2);
      assert.deepEqual(withCode(ds, 'swarm-mark-no-ipvs').map((d) => d.range.start.line), [line(rulesText, '--dport 8080 -j |MARK'), line(rulesText, '-A INPUT -d 10.0.0.5/32 -j |MARK')]);
      assert.match(msg(withCode(ds, 'swarm-mark-no-ipvs')[0]), /mark 256 \(0x100\) has no IPVS service in swarm-worker1\/ingress_sbox/);
      assert.equal(withCode(ds, 'swarm-mark-no-ipvs')[0].relatedInformation?.[0].location.uri, uriOf(ipvsFile));

      // Every real server drained (weight 0).
      const drained = ipvsText.replace(/Masq {4}1/g, 'Masq    0');
      assert.notEqual(drained, ipvsText);
      await s.change(ipvs, drained);
      ds = await s.diagnostics(rules, (d) => withCode(d, 'swarm-ipvs-no-live-server').length === 2);
      assert.match(msg(withCode(ds, 'swarm-ipvs-no-live-server')[0]), /feeds IPVS service FWM 256, but every real server has weight 0/);
      const ipvsDiags = await s.diagnostics(ipvs, (d) => withCode(d, 'ipvs-no-live-server').length === 1);
      assert.equal(withCode(ipvsDiags, 'ipvs-no-live-server')[0].range.start.line, line(drained, '|FWM  256 rr'));

      // Real servers that are no task of the capture.
      const gone = ipvsText.replace('10.0.0.6:0 ', '10.0.0.96:0').replace('10.0.0.7:0 ', '10.0.0.97:0');
      await s.change(ipvs, gone);
      const goneDiags = await s.diagnostics(ipvs, (d) => withCode(d, 'ipvs-no-live-server').some((x) => /running task/.test(msg(x))));
      assert.match(msg(withCode(goneDiags, 'ipvs-no-live-server')[0]), /no real server of IPVS service FWM 256 is a running task or an address in this capture \(10\.0\.0\.96, 10\.0\.0\.97\)/);

      // Back to the dump as captured: all clean.
      await s.change(ipvs, ipvsText);
      await s.diagnostics(rules, (d) => d.every((x) => !String(x.code).startsWith('swarm-')));
      await s.diagnostics(ipvs, (d) => d.every((x) => x.severity !== DiagnosticSeverity.Warning));
      await s.close(ipvs);
      await s.close(rules);
    });

    it('a change on disk (reported by the file watcher) reloads the capture', async () => {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtrace-lsp-'));
      try {
        fs.cpSync(SEED, copy, { recursive: true });
        const hostFile = path.join(copy, 'swarm-worker2/host/iptables-save.txt');
        const sboxFile = path.join(copy, 'swarm-worker2/ingress_sbox/iptables-save.txt');
        const host = await s.open(hostFile);
        await s.diagnostics(host, (d) => d.every((x) => x.code !== 'swarm-no-mark'));
        fs.writeFileSync(sboxFile, read(sboxFile).split('\n').filter((l) => !l.includes('--dport 8080 -j MARK')).join('\n'));
        await s.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(sboxFile), type: 2 }] });
        const ds = await s.diagnostics(host, (d) => withCode(d, 'swarm-no-mark').length === 1);
        assert.equal(ds.find((d) => d.code === 'swarm-no-mark')?.relatedInformation?.[0].location.uri, uriOf(sboxFile));
        await s.close(host);
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    });

    it('a published-port DNAT to the network address of docker_gwbridge', async () => {
      const hostFile = path.join(SEED, 'swarm-manager/host/iptables-save.txt');
      const edited = read(hostFile).replace('--to-destination 172.18.0.2:8080', '--to-destination 172.18.0.0:8080');
      const host = await s.open(hostFile, edited);
      const ds = await s.diagnostics(host, (d) => withCode(d, 'nat-target').length > 0);
      const d = withCode(ds, 'nat-target')[0];
      assert.equal(d.range.start.line, line(edited, '--dport 8080 -j |DNAT'));
      assert.match(msg(d), /172\.18\.0\.0 is the network address of /);
      assert.match(msg(withCode(ds, 'swarm-dnat-address')[0]), /not an address of swarm-manager\/ingress_sbox/);
      await s.close(host);
    });
  });
});
