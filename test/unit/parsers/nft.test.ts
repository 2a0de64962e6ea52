/** Unit tests of parseNft: the lab captures, every block kind of `nft list ruleset`, and bad input. */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNft } from '../../../src/core/parsers/parseNft';
import type { NftRuleset } from '../../../src/core/model/nft';
import type { Problem } from '../../../src/core/problem';
import { corpusFile, corpusFiles } from '../helpers';

function strip<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (k, x) => (k === 'source' ? undefined : x))) as T;
}

function loud(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity !== 'info');
}

/** Parses `input` and checks the problems as [severity, code, line]; returns the ruleset. */
function check(input: string, problems: [string, string, number][] = []): NftRuleset {
  const r = parseNft(input, { file: 'nft.txt' });
  assert.deepEqual(
    r.problems.map((p) => [p.severity, p.code, p.line]),
    problems,
  );
  return r.value;
}

/** A rule's text, verdict, jump and counters in one tuple, for short expectations. */
const brief = (rs: NftRuleset, table: number, chain: number): unknown[] =>
  rs.tables[table].chains[chain].rules.map((r) => [r.verdict, r.jump, r.counters?.packets, r.counters?.bytes]);

describe('unit: parseNft', () => {
  describe('corpus', () => {
    const files = corpusFiles('captures').filter((f) => f.endsWith('/nft.txt'));

    it('finds the corpus files', () => {
      assert.equal(files.length, 13);
    });

    for (const f of files) {
      it(`reads ${f} with no warnings or errors`, () => {
        const r = parseNft(corpusFile(f), { file: f });
        assert.deepEqual(loud(r.problems), []);
      });
    }

    it('router: tables, base chains, physdev compat rules, verdicts and counters', () => {
      const f = 'captures/netns-lab/vm/router/nft.txt';
      const r = parseNft(corpusFile(f), { file: f });
      const rs = r.value;
      assert.deepEqual(
        rs.tables.map((t) => [t.family, t.name, t.chains.map((c) => c.name)]),
        [
          ['ip', 'raw', ['PREROUTING']],
          ['ip', 'mangle', ['PREROUTING', 'FORWARD']],
          ['ip', 'nat', ['PREROUTING', 'POSTROUTING']],
          ['ip', 'filter', ['LAN-CHECK', 'FORWARD', 'INPUT']],
        ],
      );
      const filter = rs.tables[3];
      const fwd = filter.chains[1];
      assert.deepEqual(
        { ...strip(fwd), rules: fwd.rules.length },
        { name: 'FORWARD', type: 'filter', hook: 'forward', priority: 'filter', priorityValue: 0, policy: 'drop', rules: 8 },
      );
      assert.deepEqual(fwd.source, { file: f, line: 40 });
      assert.deepEqual(brief(rs, 3, 1), [
        ['accept', undefined, 37, 2836],
        ['jump', 'LAN-CHECK', 6, 384],
        ['reject', undefined, 1, 60],
        ['accept', undefined, 1, 60],
        ['reject', undefined, 1, 60],
        ['accept', undefined, 1, 84],
        ['accept', undefined, 2, 120],
        ['accept', undefined, 1, 60],
      ]);
      assert.deepEqual(fwd.rules[2].text, 'meta l4proto tcp xt match physdev tcp dport 22  counter packets 1 bytes 60 reject with tcp reset');
      assert.deepEqual(fwd.rules[2].source, { file: f, line: 44 });
      // LAN-CHECK is a regular chain: no type/hook/policy; its last rule had a leading blank.
      const lan = filter.chains[0];
      assert.equal(lan.type, undefined);
      assert.equal(lan.policy, undefined);
      assert.equal(lan.rules[2].text, 'counter packets 0 bytes 0 reject with icmp type admin-prohibited');
      assert.deepEqual(brief(rs, 0, 0), [['notrack', undefined, 16, 2051]]);
      assert.deepEqual(brief(rs, 2, 0), [
        ['dnat', undefined, 1, 60],
        ['redirect', undefined, 0, 0],
      ]);
      assert.deepEqual(brief(rs, 2, 1), [
        ['masquerade', undefined, 1, 84],
        ['snat', undefined, 2, 120],
      ]);
      assert.deepEqual(
        rs.tables.map((t) => t.chains.map((c) => c.priorityValue)),
        [[-300], [-150, -150], [-100, 100], [undefined, 0, 0]],
      );
      // A mark rule has counters but no verdict.
      assert.equal(rs.tables[1].chains[0].rules[0].verdict, undefined);
    });

    it('swarm host: numeric priority, jumps to DOCKER chains', () => {
      const rs = parseNft(corpusFile('captures/docker20-swarm-lab/swarmlab/host/nft.txt')).value;
      const nat = rs.tables[0];
      const out = nat.chains.find((c) => c.name === 'OUTPUT')!;
      assert.equal(out.priority, '-100');
      assert.equal(out.priorityValue, -100);
      assert.equal(out.rules[0].jump, 'DOCKER');
      const fwd = rs.tables[1].chains.find((c) => c.name === 'FORWARD')!;
      assert.deepEqual(
        fwd.rules.filter((r) => r.verdict === 'jump').map((r) => r.jump),
        ['DOCKER-USER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER', 'DOCKER', 'DOCKER'],
      );
    });

    it('empty dumps give an empty ruleset', () => {
      assert.deepEqual(check(corpusFile('captures/netns-lab/vm/client/nft.txt')), { tables: [], notes: [] });
    });
  });

  describe('forms', () => {
    it('sets, maps (wrapped elements), flowtable, named objects, table flags and comments', () => {
      const rs = check(
        [
          'table inet fw {',
          '\tflags dormant',
          '\tcomment "lab { table"',
          '\tcounter cnt_ssh {',
          '\t\tpackets 3 bytes 180',
          '\t}',
          '',
          '\tct helper ftp-std {',
          '\t\ttype "ftp" protocol tcp',
          '\t\tl3proto inet',
          '\t}',
          '',
          '\tset allowed {',
          '\t\ttype ipv4_addr',
          '\t\tflags interval,timeout',
          '\t\telements = { 10.0.0.0/8, 172.16.0.0/12,',
          '\t\t\t     192.168.0.0/16 }',
          '\t}',
          '',
          '\tmap ports {',
          '\t\ttype inet_service : verdict',
          '\t\telements = { 22 : accept, 80 : jump web }',
          '\t}',
          '',
          '\tflowtable ft {',
          '\t\thook ingress priority filter',
          '\t\tdevices = { eth0, eth1 }',
          '\t}',
          '',
          '\tchain web {',
          '\t\tcomment "web { rules"',
          '\t\tip saddr @allowed counter packets 1 bytes 2 accept comment "allow {lan}"',
          '\t\ttcp dport vmap @ports',
          '\t}',
          '}',
        ].join('\n'),
      );
      const t = strip(rs.tables[0]);
      assert.equal(t.family, 'inet');
      assert.deepEqual(t.flags, ['dormant']);
      assert.equal(t.comment, 'lab { table');
      assert.deepEqual(t.objects, [
        { kind: 'counter', name: 'cnt_ssh', lines: ['packets 3 bytes 180'] },
        { kind: 'ct helper', name: 'ftp-std', lines: ['type "ftp" protocol tcp', 'l3proto inet'] },
      ]);
      assert.deepEqual(t.sets, [
        {
          kind: 'set',
          name: 'allowed',
          type: 'ipv4_addr',
          flags: ['interval', 'timeout'],
          lines: ['type ipv4_addr', 'flags interval,timeout', 'elements = { 10.0.0.0/8, 172.16.0.0/12,', '192.168.0.0/16 }'],
        },
        {
          kind: 'map',
          name: 'ports',
          type: 'inet_service : verdict',
          flags: [],
          lines: ['type inet_service : verdict', 'elements = { 22 : accept, 80 : jump web }'],
        },
      ]);
      assert.deepEqual(t.flowtables, [
        { name: 'ft', hook: 'ingress', priority: 'filter', devices: ['eth0', 'eth1'], lines: ['hook ingress priority filter', 'devices = { eth0, eth1 }'] },
      ]);
      assert.deepEqual(t.chains, [
        {
          name: 'web',
          comment: 'web { rules',
          rules: [
            { text: 'ip saddr @allowed counter packets 1 bytes 2 accept comment "allow {lan}"', counters: { packets: 1, bytes: 2 }, verdict: 'accept', comment: 'allow {lan}' },
            { text: 'tcp dport vmap @ports', verdict: 'vmap' },
          ],
        },
      ]);
      assert.equal(rs.tables[0].sets[0].source.line, 13);
    });

    it('`nft -a` handles, owner, netdev devices, named priorities with offsets, bridge priorities', () => {
      const rs = check(
        [
          'table netdev ingress { # handle 7 progname iptables-nft-restore',
          '\tchain in { # handle 1',
          '\t\ttype filter hook ingress device "eth0" priority -500; policy accept;',
          '\t\tip saddr 192.0.2.1 drop # handle 4',
          '\t}',
          '\tchain multi {',
          '\t\ttype filter hook ingress devices = { eth0, eth1 } priority mangle - 5; policy drop; flags offload;',
          '\t}',
          '}',
          'table bridge br {',
          '\tchain fwd {',
          '\t\ttype filter hook forward priority filter + 10; policy accept;',
          '\t\tct status != dnat icmp type redirect goto other',
          '\t}',
          '}',
        ].join('\n'),
      );
      const [nd, br] = rs.tables;
      assert.equal(nd.handle, 7);
      assert.equal(nd.owner, 'iptables-nft-restore');
      assert.deepEqual(
        nd.chains.map((c) => [c.handle, c.devices, c.priority, c.priorityValue, c.policy, c.flags]),
        [
          [1, ['eth0'], '-500', -500, 'accept', undefined],
          [undefined, ['eth0', 'eth1'], 'mangle - 5', -155, 'drop', ['offload']],
        ],
      );
      assert.deepEqual(strip(nd.chains[0].rules), [{ text: 'ip saddr 192.0.2.1 drop', verdict: 'drop', handle: 4 }]);
      assert.equal(br.chains[0].priorityValue, -190);
      assert.deepEqual(strip(br.chains[0].rules), [
        { text: 'ct status != dnat icmp type redirect goto other', verdict: 'goto', jump: 'other' },
      ]);
    });

    it('iptables-nft compat: quoted `xt match`/`xt target`, and `# Warning` lines as notes (info)', () => {
      const rs = check(
        [
          '# Warning: table ip filter is managed by iptables-nft, do not touch!',
          'table ip filter {',
          '\tchain FORWARD {',
          '\t\ttype filter hook forward priority filter; policy accept;',
          '\t\txt match "physdev" counter packets 1 bytes 60 accept',
          '\t\tmeta l4proto tcp xt match "physdev" counter packets 0 bytes 0 xt target "MASQUERADE"',
          '\t\tct status dnat counter packets 2 bytes 3',
          '\t}',
          '}',
        ].join('\n'),
        [['info', 'nft-comment', 1]],
      );
      assert.deepEqual(strip(rs.notes), [{ text: '# Warning: table ip filter is managed by iptables-nft, do not touch!' }]);
      assert.deepEqual(brief(rs, 0, 0), [
        ['accept', undefined, 1, 60],
        ['xt', undefined, 0, 0],
        [undefined, undefined, 2, 3],
      ]);
      assert.equal(rs.tables[0].chains[0].rules[1].xt, 'MASQUERADE');
    });
  });

  describe('bad input', () => {
    it('a dump cut short: errors at the lines of the blocks left open, content kept', () => {
      const rs = check(
        ['table ip nat {', '\tchain PREROUTING {', '\t\ttype nat hook prerouting priority dstnat; policy accept;', '\t\tiifname "wan0" tcp dport 8080 dnat to 192.0.2.10:80'].join('\n'),
        [
          ['error', 'nft-unclosed', 2],
          ['error', 'nft-unclosed', 1],
        ],
      );
      assert.equal(rs.tables[0].chains[0].rules[0].verdict, 'dnat');
      const r = parseNft('table ip t {\n\tchain c {\n', { file: 'f', lineOffset: 5 });
      assert.deepEqual(
        r.problems.map((p) => [p.line, p.col, p.endCol]),
        [
          [7, 2, 11],
          [6, 1, 13],
        ],
      );
    });

    it('a set cut short inside its elements is an error at the set line', () => {
      check(['table ip t {', '\tset s {', '\t\ttype ipv4_addr', '\t\telements = { 10.0.0.1,'].join('\n'), [
        ['error', 'nft-unclosed', 2],
        ['error', 'nft-unclosed', 1],
      ]);
    });

    it('extra `}`, unbalanced rule braces, unknown lines and blocks', () => {
      check(
        [
          'flush ruleset',
          '}',
          'table ip t {',
          '\tchain c {',
          '\t\ttcp dport { 80, 443 accept',
          '\t\taccept',
          '\t}',
          '\tfrobnicator x {',
          '\t\tstuff',
          '\t}',
          '\tbogus line',
          '}',
          'table quux t2 {',
          '}',
        ].join('\n'),
        [
          ['warning', 'nft-unknown', 1],
          ['error', 'nft-syntax', 2],
          ['error', 'nft-syntax', 5],
          ['warning', 'nft-unknown', 8],
          ['warning', 'nft-unknown', 11],
          ['warning', 'nft-unknown', 13],
        ],
      );
    });

    it('never throws on random text or on corpus dumps cut at random places', () => {
      const samples = corpusFiles('captures')
        .filter((f) => f.endsWith('/nft.txt'))
        .map((f) => corpusFile(f))
        .filter((t) => t.length > 0);
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), fc.nat(), fc.nat(), (s, a, b) => {
          const base = samples[a % samples.length];
          for (const input of [s, base.slice(0, b % (base.length + 1)) + s]) {
            const r = parseNft(input);
            for (const p of r.problems) assert.ok(p.line >= 1 && p.col >= 1 && p.endCol > p.col);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('deep nesting and huge lines stay fast', () => {
      const t0 = Date.now();
      const r = parseNft('{\n'.repeat(50000) + '"'.repeat(100001) + '\n' + 'table ip x {\n' + '{'.repeat(200000) + '\n');
      assert.ok(Date.now() - t0 < 3000, 'too slow');
      assert.ok(r.problems.length > 0);
    });
  });
});
