/**
 * unit: parseIptablesSave over the public corpus dumps (legacy and nf_tables, v1.4.14 to v1.8.9,
 * ip6tables, with and without `-c`), the lab captures, hand-written restore input that must come
 * out in save form, and bad input.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIptablesSave } from '../../../src/core/parsers/parseIptablesSave';
import { materializeRuleset } from '../../../src/core/parsers/lazyRule';
import { formatRuleSpec } from '../../../src/core/parsers/iptablesRule';
import type { Rule, XtMatch, XtOption } from '../../../src/core/model/netfilter';
import { diffRulesets, normalizeRuleset } from '../../../src/core/model/netfilterCompare';
import type { ParseShare, Problem } from '../../../src/core/problem';
import { genKubeProxySave, kubeProxyRuleCount } from '../../../scripts/genKubeProxy';
import { chainRules, corpusFile, corpusFiles } from '../helpers';

function loud(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity !== 'info');
}

function optionOf(m: { options: XtOption[] } | undefined, name: string): XtOption | undefined {
  return m?.options.find((o) => o.name === name);
}

function matchOf(r: Rule, name: string): XtMatch | undefined {
  return r.spec.matches.find((m) => m.name === name);
}

/** Wraps rule lines in a filter table with the given user chains. */
function filter(lines: string[], chains: string[] = []): string {
  return ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...chains.map((c) => `:${c} - [0:0]`), ...lines, 'COMMIT', ''].join('\n');
}

/** Parses one hand-written rule and checks it prints back as `saved` (the iptables-save form). */
function check(input: string, saved: string, chains: string[] = ['X']): Rule {
  const r = parseIptablesSave(filter([`-A INPUT ${input}`], chains));
  assert.deepEqual(loud(r.problems), [], `problems for ${input}`);
  const rule = chainRules(r.value, 'filter', 'INPUT')[0];
  assert.equal(formatRuleSpec(rule.spec), saved);
  return rule;
}

/** Problems as [severity, code, line] for short comparisons. */
function codes(problems: Problem[]): [string, string, number][] {
  return problems.map((p) => [p.severity, p.code, p.line]);
}

/** Problems without their line: what a rule gets wherever it is. */
function placeless(problems: Problem[]): string[] {
  return problems.map((p) => `${p.severity} ${p.code} ${p.col}-${p.endCol} ${p.message}`);
}

/** Freezes a value and everything it reaches, so any later write throws. */
function deepFreeze<T>(v: T, seen = new Set<unknown>()): T {
  if (v && typeof v === 'object' && !seen.has(v)) {
    seen.add(v);
    for (const x of Object.values(v)) deepFreeze(x, seen);
    Object.freeze(v);
  }
  return v;
}

/** A tiny deterministic generator (the same rules every run). */
function lcg(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
}

describe('unit: parseIptablesSave', () => {
  describe('public corpus', () => {
    const files = corpusFiles('iptables-save');

    it('finds the nine public dumps', () => {
      assert.equal(files.length, 9);
    });

    for (const f of files) {
      it(`${f}: no warning or error but annotations, and every rule prints back as written`, () => {
        const text = corpusFile(f);
        const r = parseIptablesSave(text, { file: f });
        assert.deepEqual(loud(r.problems).filter((p) => p.code !== 'annotation'), []);
        let n = 0;
        for (const t of r.value.tables) {
          for (const c of t.chains) {
            c.rules.forEach((rule, i) => {
              assert.equal(rule.index, i);
              assert.equal(rule.id, '');
              assert.equal(rule.source.file, f);
              assert.equal(text.split('\n')[rule.source.line - 1], rule.text);
              // The parsed spec printed in save form gives the line back: nothing lost or reordered.
              assert.equal(formatRuleSpec(rule.spec), rule.text.replace(/^-A \S+ /, ''));
              n++;
            });
          }
        }
        assert.ok(n > 0);
      });
    }

    const annotations: Record<string, number[]> = {
      'iptables-save/moby-pr52934-swarm-host-nft-annotated.txt': [5, 6, 7, ...Array.from({ length: 20 }, (_, i) => 45 + i), 78, 80, 84],
      'iptables-save/moby-pr52934-swarm-task-container-nft-annotated.txt': [6, 12, 28, 29, 30, 31, 34],
      'iptables-save/moby-pr52934-ingress_sbox-nft-annotated.txt': [10, 11, 12, 31, 32, 33, 34, 35, 36, 37, 38, 39],
      'iptables-save/moby-pr52934-lb-netns-nft-annotated.txt': [8],
      'iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt': [],
      'iptables-save/moby-golden-iptabler-icc-false-masq-nat-ip6tables.txt': [],
    };
    for (const [f, lines] of Object.entries(annotations)) {
      it(`${f}: one annotation warning per inserted comment line`, () => {
        const r = parseIptablesSave(corpusFile(f), { file: f });
        const got = r.problems.filter((p) => p.code === 'annotation');
        assert.deepEqual(got.map((p) => p.line), lines);
        for (const p of got) assert.equal(p.severity, 'warning');
      });
    }

    it('reads flavour and version from the header', () => {
      const cases: [string, string, string | undefined, string][] = [
        ['iptables-save/moby-pr52934-swarm-host-nft-annotated.txt', 'nf_tables', '1.8.9', 'ipv4'],
        ['iptables-save/garutilorenzo-docker20-ubuntu-legacy-v1.8.4-published-port.txt', 'legacy', '1.8.4', 'ipv4'],
        ['iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-before-pods.txt', 'legacy', '1.4.14', 'ipv4'],
        ['iptables-save/moby-golden-iptabler-icc-false-masq-nat.txt', 'unknown', undefined, 'ipv4'],
        ['iptables-save/moby-golden-iptabler-icc-false-masq-nat-ip6tables.txt', 'unknown', undefined, 'ipv6'],
      ];
      for (const [f, flavour, version, family] of cases) {
        const rs = parseIptablesSave(corpusFile(f)).value;
        assert.deepEqual([rs.flavour, rs.version, rs.family], [flavour, version, family], f);
      }
    });

    it('swarm host (nft): tables, policies, the ingress DNAT and the negated interface', () => {
      const rs = parseIptablesSave(corpusFile('iptables-save/moby-pr52934-swarm-host-nft-annotated.txt')).value;
      assert.deepEqual(rs.tables.map((t) => t.name), ['raw', 'filter', 'nat']);
      assert.ok(rs.tables.every((t) => t.committed));
      const filterT = rs.tables[1];
      assert.deepEqual(filterT.chains.map((c) => [c.name, c.builtin, c.policy ?? '-']), [
        ['INPUT', true, 'ACCEPT'], ['FORWARD', true, 'ACCEPT'], ['OUTPUT', true, 'ACCEPT'], ['DOCKER', false, '-'],
        ['DOCKER-BRIDGE', false, '-'], ['DOCKER-CT', false, '-'], ['DOCKER-FORWARD', false, '-'], ['DOCKER-INGRESS', false, '-'],
        ['DOCKER-INTERNAL', false, '-'], ['DOCKER-USER', false, '-'],
      ]);
      const raw = chainRules(rs, 'raw', 'PREROUTING')[0];
      assert.deepEqual(raw.spec.dst, { addr: '172.19.0.2', prefixLen: 32, invert: false });
      assert.deepEqual(raw.spec.iif, { name: 'docker_gwbridge', wildcard: false, invert: true });
      assert.equal(raw.source.line, 8);
      const dnat = chainRules(rs, 'nat', 'DOCKER-INGRESS')[0];
      assert.equal(dnat.source.line, 85);
      assert.deepEqual(dnat.spec.proto, { name: 'udp', invert: false });
      assert.deepEqual(matchOf(dnat, 'udp')?.options, [{ name: 'dport', values: ['3001'], invert: false }]);
      assert.equal(dnat.spec.target?.name, 'DNAT');
      assert.deepEqual(optionOf(dnat.spec.target, 'to-destination')?.values, ['172.19.0.2:3001']);
      assert.equal(dnat.spec.target?.raw, '-j DNAT --to-destination 172.19.0.2:3001');
      const ct = chainRules(rs, 'filter', 'DOCKER-CT')[0];
      assert.deepEqual(matchOf(ct, 'conntrack'), { name: 'conntrack', options: [{ name: 'ctstate', values: ['RELATED,ESTABLISHED'], invert: false }], known: true, raw: '-m conntrack --ctstate RELATED,ESTABLISHED' });
      const addr = chainRules(rs, 'nat', 'PREROUTING')[0];
      assert.deepEqual(matchOf(addr, 'addrtype')?.options, [{ name: 'dst-type', values: ['LOCAL'], invert: false }]);
      assert.deepEqual(addr.spec.target, { name: 'DOCKER-INGRESS', options: [], goto: false, known: true, raw: '-j DOCKER-INGRESS' });
    });

    it('ingress_sbox: MARK, the ipvs match and SNAT to a port only', () => {
      const rs = parseIptablesSave(corpusFile('iptables-save/moby-pr52934-ingress_sbox-nft-annotated.txt')).value;
      const mark = chainRules(rs, 'mangle', 'PREROUTING')[0];
      assert.deepEqual(mark.spec.target?.options, [{ name: 'set-xmark', values: ['0x100/0xffffffff'], invert: false }]);
      const ipvs = chainRules(rs, 'nat', 'POSTROUTING')[1];
      assert.deepEqual(matchOf(ipvs, 'ipvs')?.options, [{ name: 'ipvs', values: [], invert: false }]);
      assert.deepEqual(ipvs.spec.dst, { addr: '10.0.0.0', prefixLen: 24, invert: false });
      assert.deepEqual(ipvs.spec.target?.options, [{ name: 'to-source', values: ['10.0.0.2'], invert: false }]);
      const dns = chainRules(rs, 'nat', 'DOCKER_POSTROUTING')[0];
      assert.deepEqual(dns.spec.target?.options, [{ name: 'to-source', values: [':53'], invert: false }]);
    });

    it('kube-proxy v1.4.14 (2016): quoted comments, the MARK-MASQ mark, negated addrtype, DNAT endpoints', () => {
      const f = 'iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt';
      const rs = parseIptablesSave(corpusFile(f)).value;
      const svc = chainRules(rs, 'nat', 'KUBE-SERVICES')[0];
      assert.deepEqual(svc.spec.src, { addr: '10.80.0.0', prefixLen: 14, invert: true });
      assert.deepEqual(optionOf(matchOf(svc, 'comment'), 'comment')?.values, ['default/kubernetes:https cluster IP']);
      assert.deepEqual(svc.spec.matches.map((m) => m.name), ['comment', 'tcp']);
      const last = chainRules(rs, 'nat', 'KUBE-SERVICES').at(-1)!;
      assert.deepEqual(optionOf(matchOf(last, 'comment'), 'comment')?.values, ['kubernetes service nodeports; NOTE: this must be the last rule in this chain']);
      const masq = chainRules(rs, 'nat', 'POSTROUTING')[1];
      assert.deepEqual(masq.spec.dst, { addr: '10.0.0.0', prefixLen: 8, invert: true });
      assert.deepEqual(matchOf(masq, 'addrtype')?.options, [{ name: 'dst-type', values: ['LOCAL'], invert: true }]);
      assert.deepEqual(chainRules(rs, 'nat', 'KUBE-MARK-MASQ')[0].spec.target?.options, [{ name: 'set-xmark', values: ['0x4000/0x4000'], invert: false }]);
      const post = chainRules(rs, 'nat', 'KUBE-POSTROUTING')[0];
      assert.deepEqual(optionOf(matchOf(post, 'mark'), 'mark')?.values, ['0x4000/0x4000']);
      const sep = chainRules(rs, 'nat', 'KUBE-SEP-54GVWSVFIGJ7TMTH')[1];
      assert.deepEqual(matchOf(sep, 'tcp')?.options, []);
      assert.deepEqual(optionOf(sep.spec.target, 'to-destination')?.values, ['10.80.0.4:8080']);
      assert.equal(rs.tables.find((t) => t.name === 'nat')!.chains.length, 24);
      assert.equal(rs.tables.find((t) => t.name === 'nat')!.chains.reduce((n, c) => n + c.rules.length, 0), 57);
    });

    it('ip6tables (moby golden): IPv6 prefixes and a bracketed DNAT destination', () => {
      const rs = parseIptablesSave(corpusFile('iptables-save/moby-golden-iptabler-icc-false-masq-nat-ip6tables.txt')).value;
      assert.equal(rs.family, 'ipv6');
      const d = chainRules(rs, 'nat', 'DOCKER')[0];
      assert.deepEqual(d.spec.src, { addr: 'fe80::', prefixLen: 10, invert: true });
      assert.deepEqual(optionOf(d.spec.target, 'to-destination')?.values, ['[fd49:efd7:54aa::1]:80']);
      const out = chainRules(rs, 'nat', 'OUTPUT')[0];
      assert.deepEqual(out.spec.dst, { addr: '::1', prefixLen: 128, invert: true });
      assert.deepEqual(chainRules(rs, 'raw', 'PREROUTING')[0].spec.dst, { addr: 'fd49:efd7:54aa::1', prefixLen: 128, invert: false });
    });
  });

  describe('lab captures (iptables-save -c)', () => {
    const files = corpusFiles('captures').filter((f) => f.endsWith('/iptables-save.txt'));

    it('finds the 13 namespace dumps', () => {
      assert.equal(files.length, 13);
    });

    for (const f of files) {
      it(`${f}: no warning or error`, () => {
        const r = parseIptablesSave(corpusFile(f), { file: f });
        assert.deepEqual(loud(r.problems), []);
      });
    }

    it('router: counters, text without them, CONNMARK, TCPMSS, physdev, REJECT types', () => {
      const rs = parseIptablesSave(corpusFile('captures/netns-lab/vm/router/iptables-save.txt')).value;
      assert.deepEqual(rs.tables.map((t) => t.name), ['mangle', 'raw', 'filter', 'nat']);
      const restore = chainRules(rs, 'mangle', 'PREROUTING')[0];
      assert.deepEqual(restore.counters, { packets: 66, bytes: 5811 });
      assert.equal(restore.text, '-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff');
      assert.deepEqual(restore.spec.target?.options.map((o) => [o.name, ...o.values]), [['restore-mark'], ['nfmask', '0xff'], ['ctmask', '0xff']]);
      const mark = chainRules(rs, 'mangle', 'PREROUTING')[1];
      assert.deepEqual(optionOf(matchOf(mark, 'multiport'), 'dports')?.values, ['80,443,8000:8100']);
      assert.deepEqual(optionOf(matchOf(mark, 'mark'), 'mark')?.values, ['0x0/0xff']);
      assert.deepEqual(optionOf(mark.spec.target, 'set-xmark')?.values, ['0x1/0xff']);
      const mss = chainRules(rs, 'mangle', 'FORWARD')[0];
      assert.deepEqual(optionOf(matchOf(mss, 'tcp'), 'tcp-flags')?.values, ['SYN,RST', 'SYN']);
      assert.deepEqual(mss.spec.target?.options, [{ name: 'clamp-mss-to-pmtu', values: [], invert: false }]);
      const fwd = chainRules(rs, 'filter', 'FORWARD');
      assert.deepEqual(matchOf(fwd[2], 'physdev')?.options.map((o) => [o.name, ...o.values]), [['physdev-in', 'leg1'], ['physdev-out', 'leg2'], ['physdev-is-bridged']]);
      assert.deepEqual(fwd[2].spec.matches.map((m) => m.name), ['physdev', 'tcp', 'comment']);
      assert.deepEqual(optionOf(fwd[2].spec.target, 'reject-with')?.values, ['tcp-reset']);
      assert.deepEqual(optionOf(matchOf(fwd[7], 'conntrack'), 'ctstate')?.values, ['DNAT']);
      assert.deepEqual(chainRules(rs, 'raw', 'PREROUTING')[0].spec.target?.options, [{ name: 'notrack', values: [], invert: false }]);
      assert.deepEqual(rs.tables.find((t) => t.name === 'filter')!.chains.find((c) => c.name === 'FORWARD')!.policy, 'DROP');
    });
  });

  describe('restore input comes out in save form', () => {
    const cases: [string, string][] = [
      ['-p tcp --dport 80 -j ACCEPT', '-p tcp -m tcp --dport 80 -j ACCEPT'],
      ['-p tcp --source-port 1024: -j ACCEPT', '-p tcp -m tcp --sport 1024:65535 -j ACCEPT'],
      ['-p 6 -m tcp --syn -j DROP', '-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP'],
      ['-p tcp ! --syn -j DROP', '-p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -j DROP'],
      ['-p tcp -m tcp --tcp-flags ALL NONE -j DROP', '-p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP'],
      ['-p udp --dport domain -j ACCEPT', '-p udp -m udp --dport 53 -j ACCEPT'],
      ['-p icmp --icmp-type echo-request -j ACCEPT', '-p icmp -m icmp --icmp-type 8 -j ACCEPT'],
      ['-p icmp -m icmp --icmp-type port-unreachable -j ACCEPT', '-p icmp -m icmp --icmp-type 3/3 -j ACCEPT'],
      ['-p all -s 10.1.2.3/8 -d 192.0.2.9 -j ACCEPT', '-s 10.0.0.0/8 -d 192.0.2.9/32 -j ACCEPT'],
      ['-s 0.0.0.0/0 -j ACCEPT', '-j ACCEPT'],
      ['-s 10.0.0.0/255.0.255.0 -j ACCEPT', '-s 10.0.0.0/255.0.255.0 -j ACCEPT'],
      ['-s ! 10.0.0.1 -j DROP', '! -s 10.0.0.1/32 -j DROP'],
      ['--in-interface docker+ -o + -j ACCEPT', '-i docker+ -j ACCEPT'],
      ['-m conntrack --ctstate ESTABLISHED,RELATED,new -j ACCEPT', '-m conntrack --ctstate NEW,RELATED,ESTABLISHED -j ACCEPT'],
      ['-m state --state ESTABLISHED,RELATED -j ACCEPT', '-m state --state RELATED,ESTABLISHED -j ACCEPT'],
      ['-m addrtype --dst-type ! LOCAL -j ACCEPT', '-m addrtype ! --dst-type LOCAL -j ACCEPT'],
      ['-m addrtype --dst-type LOCAL,UNICAST -j ACCEPT', '-m addrtype --dst-type UNICAST,LOCAL -j ACCEPT'],
      ['-m mark --mark 256 -j ACCEPT', '-m mark --mark 0x100 -j ACCEPT'],
      ['-m mark --mark 0x4000/0xffffffff -j ACCEPT', '-m mark --mark 0x4000 -j ACCEPT'],
      ['-j MARK --set-mark 256', '-j MARK --set-xmark 0x100/0xffffffff'],
      ['-j MARK --or-mark 0x4000', '-j MARK --set-xmark 0x4000/0x4000'],
      ['-j MARK --and-mark 0xff', '-j MARK --set-xmark 0x0/0xffffff00'],
      ['-j CONNMARK --save-mark', '-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff'],
      ['-j CONNMARK --restore-mark --mask 0xff', '-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff'],
      ['-j REJECT', '-j REJECT --reject-with icmp-port-unreachable'],
      ['-j REJECT --reject-with tcp-rst', '-j REJECT --reject-with tcp-reset'],
      ['-j LOG --log-level warning --log-prefix "IN: "', '-j LOG --log-prefix "IN: "'],
      ['-j LOG --log-level info', '-j LOG --log-level 6'],
      ['-m limit --limit 5/minute --limit-burst 5 -j ACCEPT', '-m limit --limit 5/min -j ACCEPT'],
      ['-m limit --limit 10/s --limit-burst 20 -j ACCEPT', '-m limit --limit 10/sec --limit-burst 20 -j ACCEPT'],
      ['-m statistic --mode random --probability 0.5 -j ACCEPT', '-m statistic --mode random --probability 0.50000000000 -j ACCEPT'],
      ['-m statistic --mode nth --every 3 -j ACCEPT', '-m statistic --mode nth --every 3 --packet 0 -j ACCEPT'],
      ['-m recent --rcheck --seconds 60 -j DROP', '-m recent --rcheck --seconds 60 --name DEFAULT --mask 255.255.255.255 --rsource -j DROP'],
      ['-p tcp -j REDIRECT --to-port 8080', '-p tcp -j REDIRECT --to-ports 8080'],
      ['-p tcp -j DNAT --to 10.0.0.1:80', '-p tcp -j DNAT --to-destination 10.0.0.1:80'],
      ['-m multiport --destination-ports http,https -p tcp -j ACCEPT', '-p tcp -m multiport --dports 80,443 -j ACCEPT'],
      ['-m comment --comment "a \\"b\\" c" -j ACCEPT', '-m comment --comment "a \\"b\\" c" -j ACCEPT'],
      ['-m comment --comment "" -j ACCEPT', '-m comment --comment "" -j ACCEPT'],
      ['-j LOG --log-prefix -DROP-', '-j LOG --log-prefix -DROP-'],
      ['-g X', '-g X'],
      ['-j X', '-j X'],
      ['-m tcp -p tcp -m comment --comment x --dport 22 -j ACCEPT', '-p tcp -m tcp --dport 22 -m comment --comment x -j ACCEPT'],
      ['-m pkttype --pkt-type bcast -j DROP', '-m pkttype --pkt-type broadcast -j DROP'],
      ['-p udp', '-p udp'],
    ];
    for (const [input, saved] of cases) {
      it(`${input}  →  ${saved}`, () => {
        check(input, saved);
      });
    }

    it('unquotes a comment with escapes', () => {
      const rule = check('-m comment --comment "a \\"b\\" c\\\\d" -j ACCEPT', '-m comment --comment "a \\"b\\" c\\\\d" -j ACCEPT');
      assert.deepEqual(rule.spec.matches[0].options[0].values, ['a "b" c\\d']);
    });

    it('keeps an unknown match and target verbatim, flagged', () => {
      const r = parseIptablesSave(filter(['-A INPUT -m hashlimit --hashlimit-upto 5/sec --hashlimit-name x -j CHECKSUM --checksum-fill']));
      const rule = chainRules(r.value, 'filter', 'INPUT')[0];
      assert.deepEqual(rule.spec.matches[0], {
        name: 'hashlimit',
        options: [{ name: 'hashlimit-upto', values: ['5/sec'], invert: false }, { name: 'hashlimit-name', values: ['x'], invert: false }],
        known: false,
        raw: '-m hashlimit --hashlimit-upto 5/sec --hashlimit-name x',
      });
      assert.equal(rule.spec.target?.known, false);
      assert.deepEqual(rule.spec.target?.options, [{ name: 'checksum-fill', values: [], invert: false }]);
      assert.deepEqual(codes(r.problems), [['warning', 'unknown-match', 5], ['warning', 'unknown-target', 5]]);
      assert.deepEqual([r.problems[0].col, r.problems[0].endCol], [13, 22]);
    });
  });

  describe('shared rule parts (each part read once, then shared)', () => {
    // Rule parts met again are taken from a per-parse cache keyed by their exact text: a rule must
    // read the same, with the same problems, whether its parts were met before or not.
    const TOP = ['-s 10.0.0.1/32', '! -s 10.0.0.0/8', '-d 192.0.2.1', '-s ! 10.1.1.1', '-i eth0', '! -o docker+', '-p tcp', '-p 6', '-p all', '! -p udp', '-f', '-s host.example', '-s 300.1.1.1', '--source 1.2.3.4', '-i +', '-s 0.0.0.0/0', '-c 1 2', '-d 10.0.0.0/255.0.255.0'];
    const MATCH = [
      '-m tcp --dport 80', '-m tcp', '-m tcp --sport 1024:', '-m tcp --dp 80', '-m tcp --syn', '-m tcp ! --syn', '-m udp --dport domain',
      '-m comment --comment "a b"', '-m comment --comment x', '-m comment --comment "esc \\" q"', '-m comment --comment "-m"', '-m comment --comment -j',
      '-m statistic --mode random --probability 0.5', '-m statistic --mode random --probability 0.50000000000', '-m mark --mark 256',
      '-m conntrack --ctstate NEW,ESTABLISHED', '-m conntrack ! --ctstate NEW', '-m addrtype --dst-type ! LOCAL', '-m foo --bar 1',
      '-m multiport --dports 80,443', '-m set --match-set s src', '-m physdev --physdev-is-bridged', '-m icmp --icmp-type 8', '-m recent --set',
      '-m limit --limit 5/min', '-m tcp --dport', '-m', '-m comment --comment "open', '--dport 22', '!', '-m comment --comment x !',
      '-m iprange --dst-range 2.2.2.2-2.2.2.3 --src-range 1.1.1.1-1.1.1.9', '-m tcp --dport 80 -s 1.2.3.4', '-m comment --comment "x"y',
    ];
    const TARGET = [
      '-j ACCEPT', '-j X', '-g X', '-j NOPE', '-g NOPE', '-j DNAT --to-destination 1.2.3.4:80', '-j DNAT --to-destination "1.2.3.4:80"',
      '-j SNAT --random --to-source 1.1.1.1', '-j MASQUERADE --random-fully', '-j MARK --set-mark 1', '-j REJECT', '-j X --foo',
      '-j LOG --log-prefix "p: "', '-j TPROXY --on-port 1', '-g ACCEPT', '-j', '-j X -j ACCEPT', '-j ACCEPT -m tcp', '-j "X"', '',
      '-j DNAT --to-destination !', '-j DNAT ! --to-destination 1.1.1.1',
    ];

    it('a rule reads the same alone and among rules that share its parts (400 generated rules)', () => {
      const rnd = lcg(20261126);
      const pick = (xs: string[]): string => xs[rnd(xs.length)];
      const lines: string[] = [];
      for (let i = 0; i < 400; i++) {
        const parts: string[] = [];
        for (let k = rnd(3); k > 0; k--) parts.push(pick(TOP));
        for (let k = rnd(4); k > 0; k--) parts.push(pick(MATCH));
        if (rnd(8) === 0) parts.push(pick(TOP));
        parts.push(pick(TARGET));
        lines.push(`${rnd(6) === 0 ? `[${rnd(9)}:${rnd(99)}] ` : ''}-A INPUT ${parts.join(rnd(9) === 0 ? '  ' : ' ')}`.trimEnd());
      }
      // Every line twice, so that the second one always finds its parts shared.
      const all = [...lines, ...lines];
      const r = parseIptablesSave(filter(all, ['X']));
      const got = chainRules(r.value, 'filter', 'INPUT');
      let k = 0;
      let fine = 0;
      all.forEach((line, i) => {
        // The reference: INPUT is not declared, so the rule is read by the full reader alone.
        const alone = parseIptablesSave(['*filter', ':X - [0:0]', line, 'COMMIT', ''].join('\n'));
        const want = alone.value.tables[0].chains.find((c) => c.name === 'INPUT')?.rules ?? [];
        assert.deepEqual(placeless(r.problems.filter((p) => p.line === 6 + i)), placeless(alone.problems.filter((p) => p.code !== 'implicit-chain')), line);
        if (want.length === 0) return;
        const rule = got[k++];
        assert.equal(rule.text, want[0].text);
        assert.deepEqual(rule.spec, want[0].spec, line);
        assert.deepEqual(rule.counters, want[0].counters, line);
        fine++;
      });
      assert.equal(k, got.length);
      assert.ok(fine > 200, `only ${fine} rules read`);
    });

    for (const f of [...corpusFiles('iptables-save'), 'captures/netns-lab/vm/router/iptables-save.txt']) {
      it(`${f}: every rule line written twice reads twice the same`, () => {
        const text = corpusFile(f);
        const twice = text.split('\n').flatMap((l) => (/^\s*(\[[\d:]+\]\s*)?-A /.test(l) ? [l, l] : [l])).join('\n');
        const once = parseIptablesSave(text).value;
        const r = parseIptablesSave(twice);
        assert.deepEqual(loud(r.problems).filter((p) => p.code !== 'annotation'), []);
        for (const t of once.tables) {
          for (const c of t.chains) {
            const got = chainRules(r.value, t.name, c.name);
            assert.equal(got.length, 2 * c.rules.length);
            c.rules.forEach((rule, i) => {
              for (const copy of [got[2 * i], got[2 * i + 1]]) {
                assert.deepEqual(copy.spec, rule.spec, rule.text);
                assert.deepEqual([copy.text, copy.counters, copy.index], [rule.text, rule.counters, copy === got[2 * i] ? 2 * i : 2 * i + 1]);
              }
            });
          }
        }
      });
    }

    // One parse state per capture (ParseOptions.shared): the rules of every dump of a load share
    // their parts and, spelled the same, their whole spec. Nothing a dump reads may depend on
    // what the dumps before it were.
    describe('one parse state shared by the dumps of a capture', () => {
      const corpus = [...corpusFiles('iptables-save'), ...corpusFiles('captures').filter((f) => f.endsWith('/iptables-save.txt'))];
      const project = (r: ReturnType<typeof parseIptablesSave>): unknown => ({
        problems: r.problems,
        family: r.value.family,
        tables: r.value.tables.map((t) => ({ name: t.name, source: t.source, committed: t.committed, chains: t.chains.map((c) => ({ name: c.name, source: c.source, policy: c.policy, counters: c.counters, rules: c.rules.map((x) => [x.id, x.text, x.source, x.index, x.counters, x.spec]) })) })),
      });

      it('every corpus dump, read after all the others (twice over), reads as it does alone', () => {
        const texts = corpus.map((f) => ({ f, text: corpusFile(f) }));
        assert.ok(texts.length >= 20, `${texts.length} dumps`);
        const shared = {};
        for (const pass of [1, 2]) {
          for (const { f, text } of texts) {
            const alone = parseIptablesSave(text, { file: f });
            const along = parseIptablesSave(text, { file: f, shared });
            assert.deepEqual(project(along), project(alone), `${f} (pass ${pass})`);
          }
        }
        // The second pass found whole rules: the same spec object for the same text in two reads.
        const a = parseIptablesSave(texts[0].text, { shared }).value.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
        const b = parseIptablesSave(texts[0].text, { shared }).value.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
        assert.ok(a.length > 10);
        assert.ok(a.filter((x, i) => x.spec === b[i].spec).length > a.length / 2, 'whole rules are shared between reads');
      });

      it('a dump read again (another node, the same text) reads as alone, under its own name, in objects of its own', () => {
        const shared = {};
        const text = corpusFile('iptables-save/moby-pr52934-swarm-host-nft-annotated.txt');
        const first = parseIptablesSave(text, { file: 'n1/host/iptables-save.txt', shared });
        // The model gives rules ids: that must not leak into the next reading.
        for (const t of first.value.tables) for (const c of t.chains) for (const r of c.rules) r.id = `n1/${r.index}`;
        const again = parseIptablesSave(text, { file: 'n2/host/iptables-save.txt', shared });
        const alone = parseIptablesSave(text, { file: 'n2/host/iptables-save.txt' });
        assert.deepEqual(project(again), project(alone));
        assert.ok(again.problems.length > 0 && again.problems.every((p) => p.file === 'n2/host/iptables-save.txt'));
        const r1 = first.value.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
        const r2 = again.value.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
        assert.ok(r2.length > 20 && r2.every((r, i) => r !== r1[i] && r.source.file === 'n2/host/iptables-save.txt'));
        assert.notEqual(again.value.tables[0].chains[0], first.value.tables[0].chains[0]);
        // Another line offset, another hint: read anew, not taken.
        const shifted = parseIptablesSave(text, { file: 'n3', lineOffset: 5, shared });
        assert.deepEqual(project(shifted), project(parseIptablesSave(text, { file: 'n3', lineOffset: 5 })));
      });

      it('a rule spelled the same in a dump that lacks its jump target gets a spec of its own', () => {
        const shared = {};
        const good = ['*filter', ':INPUT ACCEPT [0:0]', ':X - [0:0]', '-A INPUT -p tcp -m tcp --dport 80 -j X', '-A INPUT -p tcp -m tcp --dport 80 -j X', 'COMMIT', ''].join('\n');
        const bad = ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -p tcp -m tcp --dport 80 -j X', 'COMMIT', ''].join('\n');
        const g1 = parseIptablesSave(good, { file: 'a', shared });
        const b1 = parseIptablesSave(bad, { file: 'b', shared });
        const g2 = parseIptablesSave(good, { file: 'c', shared });
        assert.deepEqual(codes(b1.problems), [['error', 'undeclared-target', 3]]);
        assert.equal(chainRules(b1.value, 'filter', 'INPUT')[0].spec.target?.known, false);
        for (const g of [g1, g2]) {
          assert.deepEqual(loud(g.problems), []);
          assert.deepEqual(chainRules(g.value, 'filter', 'INPUT').map((x) => x.spec.target?.known), [true, true]);
        }
        assert.equal(chainRules(g2.value, 'filter', 'INPUT')[0].spec, chainRules(g1.value, 'filter', 'INPUT')[0].spec);
      });

      it('the same rule text reads per family: an IPv6 dump does not take the IPv4 reading', () => {
        const shared = {};
        const body = ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -p tcp -j REJECT --reject-with icmp-port-unreachable', 'COMMIT', ''];
        const v4 = parseIptablesSave(['# Generated by iptables-save v1.8.9 (nf_tables) on Thu Nov 26 2026', ...body].join('\n'), { shared });
        const v6 = parseIptablesSave(['# Generated by ip6tables-save v1.8.9 (nf_tables) on Thu Nov 26 2026', ...body].join('\n'), { shared });
        const v6alone = parseIptablesSave(['# Generated by ip6tables-save v1.8.9 (nf_tables) on Thu Nov 26 2026', ...body].join('\n'));
        assert.equal(v4.value.family, 'ipv4');
        assert.equal(v6.value.family, 'ipv6');
        assert.deepEqual(loud(v4.problems), []);
        // ip6tables has no icmp-port-unreachable (REJECT's IPv6 names are icmp6-…): a problem there only.
        assert.ok(loud(v6alone.problems).length > 0);
        assert.deepEqual(project(v6), project(v6alone));
      });

      it('kube-proxy dumps (no rule twice, so whole rules pause) read as each alone, and so does the one after', () => {
        const shared = {};
        const big = genKubeProxySave(400, 10); // ~12 800 distinct rules: several rounds, a pause
        for (const text of [big, big, corpusFile('iptables-save/moby-pr52934-swarm-host-nft-annotated.txt')]) {
          assert.deepEqual(project(parseIptablesSave(text, { shared })), project(parseIptablesSave(text)));
        }
      });

      it('400 generated rules spread over three dumps read as each dump alone', () => {
        const rnd = lcg(7);
        const tops = ['-s 10.0.0.1/32', '-d 192.0.2.1/32', '-i eth0', '! -o docker+', '-p tcp', '-p udp', '-s 2001:db8::1/128'];
        const ms = ['-m tcp --dport 80', '-m comment --comment "a b"', '-m conntrack --ctstate NEW,ESTABLISHED', '-m mark --mark 0x100', '-m foo --bar 1', '-m addrtype --dst-type LOCAL'];
        const ts = ['-j ACCEPT', '-j X', '-g X', '-j DNAT --to-destination 172.18.0.2:80', '-j MARK --set-xmark 0x100/0xffffffff', '-j NOPE', '-j REJECT --reject-with icmp-port-unreachable'];
        const dumps: string[][] = [[], [], []];
        for (let i = 0; i < 400; i++) {
          const parts = [tops[rnd(tops.length)], ms[rnd(ms.length)], ts[rnd(ts.length)]].filter(() => rnd(5) > 0);
          dumps[rnd(3)].push(`-A INPUT ${parts.join(' ')}`);
        }
        const shared = {};
        dumps.forEach((lines, d) => {
          // The third dump does not declare X: its jumps are unknown there only.
          const text = filter(lines, d === 2 ? [] : ['X']);
          assert.deepEqual(project(parseIptablesSave(text, { shared })), project(parseIptablesSave(text)), `dump ${d}`);
        });
      });
    });

    it('kube-proxy (300 services × 4 endpoints): clean, and repeated parts are one object', () => {
      const text = genKubeProxySave(300, 4);
      const r = parseIptablesSave(text, { file: 'kp' });
      assert.deepEqual(loud(r.problems), []);
      const nat = r.value.tables.find((t) => t.name === 'nat')!;
      const all = nat.chains.flatMap((c) => c.rules);
      assert.equal(all.length, kubeProxyRuleCount(300, 4) - 2);
      const masq = all.filter((x) => x.spec.target?.name === 'KUBE-MARK-MASQ');
      assert.equal(masq.length, 300 * 5);
      assert.equal(new Set(masq.map((x) => x.spec.target)).size, 1);
      // A jump target's name is the chain's own name string; unknown to no one.
      assert.ok(masq.every((x) => x.spec.target!.known && !x.spec.target!.goto && x.spec.target!.raw === '-j KUBE-MARK-MASQ'));
      // Every `-m tcp`-less DNAT rule of one service shares the comment match, and its matches array.
      const dnat = all.filter((x) => x.spec.target?.name === 'DNAT' && x.spec.matches[0].options[0].values[0] === 'bench-ns/svc-7:http');
      assert.equal(dnat.length, 4);
      assert.equal(new Set(dnat.map((x) => x.spec.matches[0])).size, 1);
      assert.equal(new Set(dnat.slice(1).map((x) => x.spec.matches)).size, 1);
      assert.deepEqual(dnat[0].spec.matches.map((m) => m.raw), ['-m comment --comment "bench-ns/svc-7:http"', '-m tcp']);
      // Each rule keeps its own text, line, counters-free place and index.
      assert.ok(all.every((x, i) => i === 0 || x.source !== all[i - 1].source));
      const svc = nat.chains.find((c) => c.name.startsWith('KUBE-SVC-'))!;
      assert.deepEqual(svc.rules.map((x) => x.index), [0, 1, 2, 3, 4]);
      assert.equal(svc.rules[1].spec.matches[1].options[1].values[0], '0.25000000000');
    });

    it('nothing that reads the model writes to it: the frozen ruleset compares, diffs and prints', () => {
      const texts = [genKubeProxySave(40, 3), corpusFile('iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt')];
      for (const text of texts) {
        // A lazy rule writes its spec into itself when first read (lazyRule.ts): the readers
        // below are checked on the model with every spec read, as plain rules.
        const r = parseIptablesSave(text);
        materializeRuleset(r.value);
        const before = JSON.stringify(r.value);
        deepFreeze(r.value);
        assert.deepEqual(diffRulesets(r.value, parseIptablesSave(text).value), []);
        assert.equal(normalizeRuleset(r.value).tables.length, 2);
        for (const t of r.value.tables) for (const c of t.chains) for (const rule of c.rules) formatRuleSpec(rule.spec);
        assert.equal(JSON.stringify(r.value), before);
      }
      assert.ok(JSON.stringify(parseIptablesSave(texts[0]).value).includes('{"name":"to-destination","values":["192.0.2.1:8000"],"invert":false}'));
    });

    for (const lazy of [true, false]) it(`a target shared by two tables is unknown only in the table that lacks its chain${lazy ? '' : ' (every spec read at load: the chain remembered on shared parts and whole rules)'}`, () => {
      const text = ['*nat', ':PREROUTING ACCEPT [0:0]', ':X - [0:0]', '-A PREROUTING -j X', '-A PREROUTING -j X', 'COMMIT', '*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -j X', '[1:2]  -A INPUT -j X', 'COMMIT', ''].join('\n');
      const r = parseIptablesSave(text, { lazy });
      assert.deepEqual(codes(r.problems), [['error', 'undeclared-target', 9], ['error', 'undeclared-target', 10]]);
      assert.deepEqual([r.problems[0].col, r.problems[0].endCol, r.problems[1].col, r.problems[1].endCol], [13, 14, 20, 21]);
      assert.deepEqual(chainRules(r.value, 'nat', 'PREROUTING').map((x) => x.spec.target?.known), [true, true]);
      assert.deepEqual(chainRules(r.value, 'filter', 'INPUT').map((x) => [x.spec.target?.known, x.spec.target?.raw, x.counters]), [[false, '-j X', undefined], [false, '-j X', { packets: 1, bytes: 2 }]]);
    });

    it('a chain declared after the rules that jump to it is found; CRLF lines read the same', () => {
      const text = ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -p tcp -m tcp --dport 80 -j LATE', '-A INPUT -p tcp -m tcp --dport 80 -j LATE', ':LATE - [0:0]', '-A LATE -j RETURN', 'COMMIT', ''].join('\r\n');
      const r = parseIptablesSave(text);
      assert.deepEqual(loud(r.problems), []);
      const rs = chainRules(r.value, 'filter', 'INPUT');
      assert.deepEqual(rs.map((x) => [x.text, x.spec.target?.known, formatRuleSpec(x.spec)]), [
        ['-A INPUT -p tcp -m tcp --dport 80 -j LATE', true, '-p tcp -m tcp --dport 80 -j LATE'],
        ['-A INPUT -p tcp -m tcp --dport 80 -j LATE', true, '-p tcp -m tcp --dport 80 -j LATE'],
      ]);
      assert.equal(rs[0].spec.target, rs[1].spec.target);
      assert.equal(rs[0].spec.proto, rs[1].spec.proto);
    });
  });

  it('a run of chain declarations reads as each line read on its own (random forms, duplicates, odd policies and counters)', () => {
    // The first declaration of a run goes through declare, the ones right after it through
    // declRun's loop; a line with a leading blank is always read on its own. Both must agree.
    const name = fc.constantFrom('KUBE-SEP-A', 'KUBE-SEP-B', 'X', 'INPUT', 'OUTPUT', 'a"b', 'é', 'Y-1');
    const rest = fc.constantFrom(' - [0:0]', ' - [0:0]', ' ACCEPT [1:2]', ' DROP [0:0]', ' - [1:x]', ' -  [0:0]', '  - [0:0]', ' - [0:0] junk', ' - [0:0]\r', ' -', ' - [0:0', '', ' QUEUE [0:0]');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, rest), { minLength: 1, maxLength: 12 }), (decls) => {
        const lines = decls.map(([n, r]) => `:${n}${r}`);
        const run = parseIptablesSave(['*filter', ...lines, 'COMMIT', ''].join('\n'), { file: 'f' });
        const alone = parseIptablesSave(['*filter', ...lines.map((l) => ' ' + l), 'COMMIT', ''].join('\n'), { file: 'f' });
        assert.deepStrictEqual(run.value, alone.value);
        // Columns: the blank moved every column but a whole-line problem's (1 to the line's end).
        const key = (p: Problem, shift: number): unknown[] => [p.line, p.code, p.severity, p.message, p.col === 1 ? 1 : p.col - shift, p.col === 1 ? 0 : p.endCol - shift];
        assert.deepStrictEqual(
          run.problems.map((p) => key(p, 0)),
          alone.problems.map((p) => key(p, 1)),
        );
      }),
      { numRuns: 300 },
    );
  });

  describe('an IPv4 address in an IPv6 ruleset (ip6tables-restore refuses it)', () => {
    const v6 = (rule: string): string =>
      ['# Generated by ip6tables-save v1.8.9 (nf_tables) on Thu Nov 26 12:00:00 2026', '*filter', ':INPUT ACCEPT [0:0]', rule, 'COMMIT', ''].join('\n');
    const v4 = (rule: string): string =>
      ['# Generated by iptables-save v1.8.9 (nf_tables) on Thu Nov 26 12:00:00 2026', '*filter', ':INPUT ACCEPT [0:0]', rule, 'COMMIT', ''].join('\n');
    for (const lazy of [true, false]) {
      it(`is a bad-address error at its columns, the rule skipped (lazy: ${lazy})`, () => {
        const r = parseIptablesSave(v6('-A INPUT -s 10.1.2.9/32 -p tcp -j ACCEPT'), { file: 'ip6.txt', lazy });
        const bad = loud(r.problems);
        assert.deepStrictEqual(bad.map((p) => [p.code, p.line, p.col, p.endCol]), [['bad-address', 4, 13, 24]]);
        assert.match(bad[0].message, /IPv4 address in an IPv6 ruleset/);
        assert.equal(chainRules(r.value, 'filter', 'INPUT').length, 0);
        // A host name is kept (with its own warning), an IPv6 address is read.
        assert.equal(loud(parseIptablesSave(v6('-A INPUT -s fd00::1/128 -j ACCEPT'), { lazy }).problems).length, 0);
        assert.deepStrictEqual(loud(parseIptablesSave(v6('-A INPUT -d db.example -j ACCEPT'), { lazy }).problems).map((p) => p.code), ['host-name']);
      });
    }

    for (const lazy of [true, false]) {
      it(`the same rule read first in an IPv4 dump of the capture is still refused in the IPv6 one (the top options are cached per family; lazy: ${lazy})`, () => {
        const shared: ParseShare = {};
        const rule = '-A INPUT -s 10.1.2.9/32 -d 10.1.2.10/32 -p tcp -m tcp --dport 80 -j ACCEPT';
        const rule2 = '-A INPUT -s 10.1.2.9/32 -d 10.1.2.10/32 -p tcp -m tcp --dport 81 -j ACCEPT';
        assert.deepStrictEqual(loud(parseIptablesSave(v4([rule, rule2].join('\n')), { file: 'ip4.txt', shared, lazy }).problems), []);
        // The IPv6 dump's first rule has the same matches and target (so they are known for IPv6).
        const r6 = parseIptablesSave(v6(['-A INPUT -s fd00::1/128 -d fd00::2/128 -p tcp -m tcp --dport 81 -j ACCEPT', rule2].join('\n')), { file: 'ip6.txt', shared, lazy });
        assert.deepStrictEqual(loud(r6.problems).map((p) => [p.code, p.line, p.col, p.endCol]), [['bad-address', 5, 13, 24]]);
      });
    }
  });

  describe('problems', () => {
    // xtables_parse_port takes 0…65535 or a service name; libxt_tcp refuses a range with min > max.
    for (const [rule, bad] of [
      ['-p tcp --dport 99999', true],
      ['-p tcp -m tcp --dport 65536', true],
      ['-p udp -m udp --sport 2000:1000', true],
      ['-p tcp -m multiport --dports 80,70000', true],
      ['-p tcp -m tcp --dport 65535', false],
      ['-p tcp -m tcp --dport 000080', false],
      ['-p tcp -m tcp --dport 1000:2000', false],
    ] as const) {
      it(`port out of range or reversed: \`${rule}\` ${bad ? 'is flagged and kept unread' : 'reads'}`, () => {
        const r = parseIptablesSave(filter([`-A INPUT ${rule} -j ACCEPT`]));
        const m = chainRules(r.value, 'filter', 'INPUT')[0].spec.matches[0];
        assert.equal(m.known, !bad);
        assert.deepEqual(codes(r.problems), bad ? [['warning', 'bad-value', 5]] : []);
      });
    }

    it('missing COMMIT: error at the table line, the table and its rules kept', () => {
      const r = parseIptablesSave('*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j ACCEPT\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', { file: 'x', lineOffset: 10 });
      assert.deepEqual(codes(r.problems), [['error', 'missing-commit', 11]]);
      assert.equal(r.problems[0].file, 'x');
      assert.deepEqual(r.value.tables.map((t) => [t.name, t.committed]), [['nat', false], ['filter', true]]);
      assert.equal(chainRules(r.value, 'nat', 'PREROUTING').length, 1);
    });

    it('a truncated dump: missing COMMIT and a cut rule, nothing thrown', () => {
      const full = corpusFile('iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt');
      const cut = full.slice(0, full.indexOf('--comment "default/apache: loadbalancer IP"') + 20);
      const r = parseIptablesSave(cut);
      assert.deepEqual(codes(r.problems), [['error', 'unterminated-quote', 85], ['error', 'missing-commit', 16]]);
      assert.equal(chainRules(r.value, 'nat', 'KUBE-SERVICES').length, 16);
    });

    it('a rule or chain before any table, a stray COMMIT', () => {
      const r = parseIptablesSave('-A INPUT -j ACCEPT\n:INPUT ACCEPT [0:0]\nCOMMIT\n');
      assert.deepEqual(codes(r.problems), [['error', 'no-table', 1], ['error', 'no-table', 2], ['warning', 'stray-commit', 3]]);
      assert.deepEqual(r.value.tables, []);
    });

    it('a rule in an undeclared chain is skipped; a built-in chain is made', () => {
      const r = parseIptablesSave('*filter\n-A INPUT -j ACCEPT\n-A NOPE -j ACCEPT\nCOMMIT\n');
      assert.deepEqual(codes(r.problems), [['info', 'implicit-chain', 2], ['error', 'undeclared-chain', 3]]);
      assert.deepEqual([r.problems[1].col, r.problems[1].endCol], [4, 8]);
      assert.deepEqual(r.value.tables[0].chains.map((c) => [c.name, c.builtin, c.rules.length]), [['INPUT', true, 1]]);
    });

    it('a chain declared twice', () => {
      const r = parseIptablesSave(filter([], ['X', 'X']));
      assert.deepEqual(codes(r.problems), [['error', 'duplicate-chain', 6]]);
      assert.equal(r.value.tables[0].chains.filter((c) => c.name === 'X').length, 1);
    });

    it('a jump or goto to a chain never declared: error with the chain name\'s columns', () => {
      const text = filter(['-A INPUT -p tcp -j MISSING', '-A INPUT -g GONE', '-A INPUT -j X'], ['X']);
      const r = parseIptablesSave(text);
      assert.deepEqual(codes(r.problems), [['error', 'undeclared-target', 6], ['error', 'undeclared-target', 7]]);
      assert.deepEqual([r.problems[0].col, r.problems[0].endCol], [20, 27]);
      assert.equal('-A INPUT -p tcp -j MISSING'.slice(19, 26), 'MISSING');
      assert.deepEqual([r.problems[1].col, r.problems[1].endCol], [13, 17]);
      const rs = chainRules(r.value, 'filter', 'INPUT');
      assert.deepEqual(rs.map((x) => [x.spec.target?.name, x.spec.target?.goto, x.spec.target?.known]), [['MISSING', false, false], ['GONE', true, false], ['X', false, true]]);
    });

    it('an unknown table is skipped whole', () => {
      const r = parseIptablesSave('*bogus\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n-A INPUT -j DROP\n*filter\n:INPUT DROP [1:2]\nCOMMIT\n');
      assert.deepEqual(codes(r.problems), [['error', 'unknown-table', 1], ['error', 'no-table', 5]]);
      assert.deepEqual(r.value.tables.map((t) => t.name), ['filter']);
      assert.deepEqual(r.value.tables[0].chains[0].counters, { packets: 1, bytes: 2 });
    });

    it('malformed counters: the rule is kept without them', () => {
      const r = parseIptablesSave(filter(['[12:ab] -A INPUT -j ACCEPT', '[3:4 -A INPUT -j DROP', '[5:6] -A INPUT -j RETURN']));
      assert.deepEqual(codes(r.problems), [['warning', 'bad-counters', 5], ['error', 'bad-counters', 6]]);
      const rs = chainRules(r.value, 'filter', 'INPUT');
      assert.deepEqual(rs.map((x) => [x.spec.target?.name, x.counters, x.text]), [['ACCEPT', undefined, '-A INPUT -j ACCEPT'], ['RETURN', { packets: 5, bytes: 6 }, '-A INPUT -j RETURN']]);
    });

    it('unparseable options and unterminated quotes skip the rule', () => {
      const r = parseIptablesSave(filter(['-A INPUT -j ACCEPT', '-A INPUT --dport 80 -j ACCEPT', '-A INPUT -s', '-A INPUT foo', '-A INPUT -m comment --comment "open -j ACCEPT', '-A INPUT -s 300.1.1.1 -j DROP', '-I INPUT -j DROP', '-A INPUT ! -m tcp -j DROP']));
      assert.deepEqual(codes(r.problems), [
        ['error', 'bad-option', 6], ['error', 'bad-option', 7], ['error', 'bad-option', 8], ['error', 'unterminated-quote', 9],
        ['error', 'bad-address', 10], ['error', 'unsupported-command', 11], ['error', 'bad-option', 12],
      ]);
      assert.equal(chainRules(r.value, 'filter', 'INPUT').length, 1);
      for (const p of r.problems) assert.ok(p.col >= 1 && p.endCol > p.col, JSON.stringify(p));
    });

    it('nft warnings and comments outside a table are info', () => {
      const r = parseIptablesSave("# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n# Table `mangle' is incompatible, use 'nft' tool.\n# my notes\n" + filter([]));
      assert.deepEqual(codes(r.problems), [['info', 'nft-warning', 1], ['info', 'nft-incompatible', 2], ['info', 'comment', 3]]);
    });

    it('binary garbage: one error, nothing thrown', () => {
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1');
      const r = parseIptablesSave(bytes);
      assert.deepEqual(codes(r.problems), [['error', 'binary', 1]]);
      assert.deepEqual(r.value.tables, []);
    });

    it('text garbage: unreadable lines reported (then summarised), nothing thrown', () => {
      const text = Array.from({ length: 100 }, (_, i) => `garbage ${i} \u00e9\u{1F600}`).join('\n');
      const r = parseIptablesSave(text);
      assert.equal(r.problems.length, 21);
      assert.ok(r.problems.every((p) => p.code === 'unparseable-line' && p.severity === 'error'));
      assert.match(r.problems[20].message, /80 more lines/);
    });

    it('a 5 MB line is read (and an unknown-option one rejected) quickly', () => {
      const big = 'x'.repeat(5 * 1024 * 1024);
      const t0 = Date.now();
      const r = parseIptablesSave(filter([`-A INPUT -m comment --comment "${big}" -j ACCEPT`, `-A INPUT ${big}`]));
      assert.ok(Date.now() - t0 < 5000);
      assert.deepEqual(codes(r.problems), [['error', 'bad-option', 6]]);
      assert.ok(r.problems[0].message.length < 200);
      assert.equal(chainRules(r.value, 'filter', 'INPUT')[0].spec.matches[0].options[0].values[0].length, big.length);
    });

    it('empty input: no tables, no problems', () => {
      assert.deepEqual(parseIptablesSave(''), { value: { family: 'ipv4', flavour: 'unknown', tables: [] }, problems: [] });
    });
  });
});
