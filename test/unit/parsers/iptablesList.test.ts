/**
 * unit: parseIptablesList. Each extension's `-L` print is checked against the iptables-save line
 * of the same rule (both must give the same RuleSpec), then the row layout (counters, K/M
 * suffixes, missing columns, `!` forms, no target, [goto]), the lab listings and bad input.
 */
import * as assert from 'node:assert/strict';
import { parseIptablesList } from '../../../src/core/parsers/parseIptablesList';
import { parseIptablesSave } from '../../../src/core/parsers/parseIptablesSave';
import { formatRuleSpec } from '../../../src/core/parsers/iptablesRule';
import { normalizeRuleSpec } from '../../../src/core/model/netfilterCompare';
import type { Rule, RuleSpec } from '../../../src/core/model/netfilter';
import type { Problem } from '../../../src/core/problem';
import { corpusFile, corpusFiles } from '../helpers';

const HEADER = 'num      pkts      bytes target     prot opt in     out     source               destination';

function loud(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity !== 'info');
}

function codes(problems: Problem[]): [string, string, number][] {
  return problems.map((p) => [p.severity, p.code, p.line]);
}

/** The spec iptables-save gives for `-A INPUT <save>` in a filter table with chain X. */
function saveSpec(save: string, family: 'ipv4' | 'ipv6'): RuleSpec {
  const text = `*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n-A INPUT ${save}\nCOMMIT\n`;
  const r = parseIptablesSave(text, { hint: family === 'ipv6' ? 'ip6tables' : undefined });
  assert.deepEqual(loud(r.problems), [], `save form ${save}`);
  return r.value.tables[0].chains[0].rules[0].spec;
}

/** One `-L -n -v -x --line-numbers` row of chain INPUT: `target` (may be '') then the rest. */
function listRule(target: string, rest: string): { rule: Rule; problems: Problem[] } {
  const row = target ? `1           3      252 ${target.padEnd(9)}  ${rest}` : `1           3      252            ${rest}`;
  const text = `Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n${HEADER}\n${row}\n\nChain X (0 references)\n${HEADER}\n`;
  const r = parseIptablesList(text, { hint: 'filter' });
  return { rule: r.value.tables[0].chains[0].rules[0], problems: r.problems };
}

/** The `-L` row (target + columns + extension text) must give the same spec as the save line. */
function check(target: string, rest: string, save: string, family: 'ipv4' | 'ipv6' = 'ipv4'): void {
  const { rule, problems } = listRule(target, rest);
  assert.deepEqual(loud(problems), [], `problems for ${rest}`);
  assert.equal(formatRuleSpec(rule.spec), formatRuleSpec(saveSpec(save, family)));
  assert.deepEqual(normalizeRuleSpec(rule.spec), normalizeRuleSpec(saveSpec(save, family)));
}

const ANY = '--  *      *       0.0.0.0/0            0.0.0.0/0           ';

describe('unit: parseIptablesList', () => {
  describe('each extension print reads back as its save form', () => {
    const cases: [string, string, string][] = [
      ['ACCEPT', `0    ${ANY} ADDRTYPE match dst-type LOCAL`, '-m addrtype --dst-type LOCAL -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} ADDRTYPE match src-type !LOCAL limit-in`, '-m addrtype ! --src-type LOCAL --limit-iface-in -j ACCEPT'],
      ['DNAT', `6    ${ANY} tcp dpt:8080 to:172.18.0.2:8080`, '-p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080'],
      ['MARK', `6    ${ANY} tcp dpt:3000 MARK set 0x100`, '-p tcp -m tcp --dport 3000 -j MARK --set-xmark 0x100/0xffffffff'],
      ['MARK', `0    ${ANY} MARK xset 0x1/0xff`, '-j MARK --set-xmark 0x1/0xff'],
      ['MARK', `0    ${ANY} MARK or 0x4000`, '-j MARK --set-xmark 0x4000/0x4000'],
      ['MARK', `0    ${ANY} MARK and 0xff`, '-j MARK --set-xmark 0x0/0xffffff00'],
      ['MARK', `0    ${ANY} MARK xor 0x1`, '-j MARK --set-xmark 0x1/0x0'],
      ['ACCEPT', `0    ${ANY} ctstate RELATED,ESTABLISHED`, '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} ! ctstate NEW ctstatus ASSURED ctdir REPLY`, '-m conntrack ! --ctstate NEW --ctstatus ASSURED --ctdir REPLY -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} ctorigdst 10.0.0.1 ctorigdstport 80`, '-m conntrack --ctorigdst 10.0.0.1 --ctorigdstport 80 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} state RELATED,ESTABLISHED`, '-m state --state RELATED,ESTABLISHED -j ACCEPT'],
      ['ACCEPT', `6    ${ANY} multiport dports 80,443`, '-p tcp -m multiport --dports 80,443 -j ACCEPT'],
      ['ACCEPT', `6    ${ANY} multiport sports  !1000:2000,22`, '-p tcp -m multiport ! --sports 1000:2000,22 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} /* default/kubernetes:https cluster IP */`, '-m comment --comment "default/kubernetes:https cluster IP" -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} /* a */ b */ tcp-ish */`, '-m comment --comment "a */ b */ tcp-ish" -j ACCEPT'],
      ['SNAT', `0    ${ANY} ipvs to:10.255.0.2`, '-m ipvs --ipvs -j SNAT --to-source 10.255.0.2'],
      ['ACCEPT', `0    ${ANY} vaddr 10.0.0.2 vport 80 vdir ORIGINAL vmethod MASQ`, '-m ipvs --vaddr 10.0.0.2/32 --vport 80 --vdir ORIGINAL --vmethod MASQ -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} ! ipvs`, '-m ipvs ! --ipvs -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} mark match 0x1/0xff`, '-m mark --mark 0x1/0xff -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} mark match ! 0x4000`, '-m mark ! --mark 0x4000 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} connmark match  0x1/0xff`, '-m connmark --mark 0x1/0xff -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} connmark match ! 0x2`, '-m connmark ! --mark 0x2 -j ACCEPT'],
      ['CONNMARK', `0    ${ANY} CONNMARK save`, '-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff'],
      ['CONNMARK', `0    ${ANY} CONNMARK restore mask 0xff`, '-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff'],
      ['CONNMARK', `0    ${ANY} CONNMARK save nfmask 0xff ctmask ~0xf0`, '-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xf0'],
      ['CONNMARK', `0    ${ANY} mark match 0x1/0xff CONNMARK set 0x5`, '-m mark --mark 0x1/0xff -j CONNMARK --set-xmark 0x5/0xffffffff'],
      ['ACCEPT', `0    ${ANY} statistic mode random probability 0.50000000000`, '-m statistic --mode random --probability 0.50000000000 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} statistic mode nth every 3 packet 1`, '-m statistic --mode nth --every 3 --packet 1 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} statistic mode random ! probability 0.25000000000`, '-m statistic --mode random ! --probability 0.25000000000 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} PHYSDEV match --physdev-in x --physdev-is-bridged`, '-m physdev --physdev-in x --physdev-is-bridged -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} PHYSDEV match ! --physdev-out y`, '-m physdev ! --physdev-out y -j ACCEPT'],
      ['REJECT', `0    ${ANY} reject-with icmp-port-unreachable`, '-j REJECT --reject-with icmp-port-unreachable'],
      ['REDIRECT', `17   ${ANY} udp dpt:53 redir ports 5353`, '-p udp -m udp --dport 53 -j REDIRECT --to-ports 5353'],
      ['SNAT', `6    ${ANY} tcp spt:34283 to::53`, '-p tcp -m tcp --sport 34283 -j SNAT --to-source :53'],
      ['MASQUERADE', `6    ${ANY} masq ports: 1024-2000 random-fully`, '-p tcp -j MASQUERADE --to-ports 1024-2000 --random-fully'],
      ['MASQUERADE', `0    ${ANY}`, '-j MASQUERADE'],
      ['DNAT', `6    ${ANY} tcp dpts:1000:2000 to:10.0.0.1-10.0.0.3:80-90 random persistent`, '-p tcp -m tcp --dport 1000:2000 -j DNAT --to-destination 10.0.0.1-10.0.0.3:80-90 --random --persistent'],
      ['LOG', `0    ${ANY} LOG flags 0 level 4`, '-j LOG'],
      ['LOG', `0    ${ANY} LOG flags 9 level 6 prefix "DROP: x"`, '-j LOG --log-prefix "DROP: x" --log-level 6 --log-tcp-sequence --log-uid'],
      ['ACCEPT', `0    ${ANY} limit: avg 5/min burst 5`, '-m limit --limit 5/min -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} limit: avg 10/sec burst 20`, '-m limit --limit 10/sec --limit-burst 20 -j ACCEPT'],
      ['ACCEPT', `1    ${ANY} icmptype 8`, '-p icmp -m icmp --icmp-type 8 -j ACCEPT'],
      ['ACCEPT', `1    ${ANY} icmptype 3 code 3`, '-p icmp -m icmp --icmp-type 3/3 -j ACCEPT'],
      ['ACCEPT', `1    ${ANY} icmp !type 0`, '-p icmp -m icmp ! --icmp-type 0 -j ACCEPT'],
      ['ACCEPT', `1    ${ANY} icmp echo-request`, '-p icmp -m icmp --icmp-type 8 -j ACCEPT'],
      ['ACCEPT', `1    ${ANY} icmptype 255`, '-p icmp -m icmp --icmp-type any -j ACCEPT'],
      ['TCPMSS', `6    --  *      vxlan0  0.0.0.0/0            0.0.0.0/0            tcp flags:0x06/0x02 TCPMSS clamp to PMTU`, '-o vxlan0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu'],
      ['DROP', `6    ${ANY} tcp flags:0x17/0x02`, '-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP'],
      ['DROP', `6    ${ANY} tcp spt:!22 flags:!0x3F/0x00`, '-p tcp -m tcp ! --sport 22 ! --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP'],
      ['TCPMSS', `6    ${ANY} TCPMSS set 1400`, '-p tcp -j TCPMSS --set-mss 1400'],
      ['CT', `17   ${ANY} udp dpt:4789 CT notrack`, '-p udp -m udp --dport 4789 -j CT --notrack'],
      ['CT', `6    ${ANY} CT helper ftp zone 5`, '-p tcp -j CT --helper ftp --zone 5'],
      ['NOTRACK', `0    ${ANY} NOTRACK`, '-j NOTRACK'],
      ['ACCEPT', `0    ${ANY} owner UID match 0`, '-m owner --uid-owner 0 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} owner socket exists ! owner GID match 100-200 incl. suppl. groups`, '-m owner --socket-exists ! --gid-owner 100-200 --suppl-groups -j ACCEPT'],
      ['DROP', `0    ${ANY} PKTTYPE = broadcast`, '-m pkttype --pkt-type broadcast -j DROP'],
      ['DROP', `0    ${ANY} PKTTYPE != unicast`, '-m pkttype ! --pkt-type unicast -j DROP'],
      ['ACCEPT', `0    ${ANY} source IP range 10.0.0.1-10.0.0.9 destination IP range ! 10.1.0.1-10.1.0.9`, '-m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.1.0.1-10.1.0.9 -j ACCEPT'],
      ['DROP', `0    ${ANY} recent: CHECK seconds: 60 hit_count: 4 name: ssh side: source mask: 255.255.255.255`, '-m recent --rcheck --seconds 60 --hitcount 4 --name ssh --mask 255.255.255.255 --rsource -j DROP'],
      ['DROP', `0    ${ANY} ! recent: SET name: DEFAULT side: dest mask: 255.255.255.255`, '-m recent ! --set --name DEFAULT --mask 255.255.255.255 --rdest -j DROP'],
      ['ACCEPT', `0    ${ANY} match-set kube-ips dst,dst return-nomatch`, '-m set --match-set kube-ips dst,dst --return-nomatch -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} ! match-set bad src`, '-m set ! --match-set bad src -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} helper match "ftp"`, '-m helper --helper ftp -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} MAC 02:42:AC:11:00:02`, '-m mac --mac-source 02:42:ac:11:00:02 -j ACCEPT'],
      ['ACCEPT', `0    ${ANY} length 0:1000`, '-m length --length 0:1000 -j ACCEPT'],
      ['NFLOG', `0    ${ANY} nflog-prefix "pkt log" nflog-group 5`, '-j NFLOG --nflog-prefix "pkt log" --nflog-group 5'],
      ['ACCEPT', `132  ${ANY} sctp dpt:5000`, '-p sctp -m sctp --dport 5000 -j ACCEPT'],
      ['ACCEPT', `17   ${ANY} udp spts:1:1024`, '-p udp -m udp --sport 1:1024 -j ACCEPT'],
      ['TRACE', `0    ${ANY}`, '-j TRACE'],
      ['X', `0    ${ANY}`, '-j X'],
      ['X', `0    ${ANY} [goto] `, '-g X'],
      ['X', `6    ${ANY} [goto]  tcp dpt:22`, '-p tcp -m tcp --dport 22 -g X'],
      ['', `0    ${ANY}`, ''],
      ['', `6    ${ANY} tcp dpt:80`, '-p tcp -m tcp --dport 80'],
      ['ACCEPT', `!6   ${ANY}`, '! -p tcp -j ACCEPT'],
      ['ACCEPT', `47   ${ANY}`, '-p gre -j ACCEPT'],
      ['ACCEPT', `all  ${ANY}`, '-j ACCEPT'],
      ['ACCEPT', `tcp  ${ANY} tcp dpt:80`, '-p tcp -m tcp --dport 80 -j ACCEPT'],
      ['ACCEPT', '0    -f  *      *       0.0.0.0/0            0.0.0.0/0', '-f -j ACCEPT'],
      ['ACCEPT', '0    !f  *      *       0.0.0.0/0            0.0.0.0/0', '! -f -j ACCEPT'],
      ['ACCEPT', '0    --  !eth0  docker+ !10.0.0.0/8          192.0.2.1', '! -s 10.0.0.0/8 -d 192.0.2.1/32 ! -i eth0 -o docker+ -j ACCEPT'],
      ['ACCEPT', '0    --  *      *       10.0.0.0/255.0.255.0  0.0.0.0/0', '-s 10.0.0.0/255.0.255.0 -j ACCEPT'],
      ['ACCEPT', '0    --  *      *      !0.0.0.0/0            0.0.0.0/0', '! -s 0.0.0.0/0 -j ACCEPT'],
      ['DOCKER-ISOLATION-STAGE-2', '0    --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0', '-i docker0 ! -o docker0 -j X'.replace('X', 'DOCKER-ISOLATION-STAGE-2')],
    ];
    for (const [target, rest, save] of cases) {
      it(`${target} ${rest.replace(ANY, '…').trim()}  ≡  ${save}`, () => {
        if (target === 'DOCKER-ISOLATION-STAGE-2') {
          const { rule, problems } = listRule(target, rest);
          assert.deepEqual(loud(problems), []);
          assert.equal(formatRuleSpec(rule.spec), save);
          return;
        }
        check(target, rest, save);
      });
    }

    it('ip6tables rows: IPv6 addresses, ipv6-icmp, bracketed DNAT', () => {
      check('DNAT', '6    --  !br-dummy *  !fe80::/10            ::/0                 tcp dpt:8080 to:[fd49:efd7:54aa::1]:80', '! -s fe80::/10 ! -i br-dummy -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd49:efd7:54aa::1]:80', 'ipv6');
      check('ACCEPT', '58   --  *      *       ::/0                 fd00::1              ipv6-icmptype 128', '-d fd00::1/128 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT', 'ipv6');
      check('REJECT', '0    --  *      *       ::/0                 ::/0                 reject-with icmp6-port-unreachable', '-j REJECT --reject-with icmp6-port-unreachable', 'ipv6');
    });

    it('keeps text it cannot read as an unknown match, and still reads the target', () => {
      const { rule, problems } = listRule('DNAT', `6    ${ANY} tcp dpt:80 hashlimit: up to 5/sec burst 5 mode srcip to:10.0.0.1:80`);
      assert.deepEqual(codes(problems).filter((c) => c[0] !== 'info'), [['warning', 'unread-text', 3]]);
      assert.deepEqual(rule.spec.matches.map((m) => [m.name, m.known, m.raw]), [['tcp', true, 'tcp dpt:80'], ['hashlimit:', false, 'hashlimit: up to 5/sec burst 5 mode srcip']]);
      assert.deepEqual(rule.spec.target?.options, [{ name: 'to-destination', values: ['10.0.0.1:80'], invert: false }]);
      assert.equal(rule.spec.target?.known, true);
    });

    it('an unknown target keeps its text', () => {
      const { rule, problems } = listRule('CHECKSUM', `17   ${ANY} udp dpt:68 CHECKSUM fill`);
      assert.deepEqual(codes(problems).filter((c) => c[0] !== 'info'), [['warning', 'unknown-target', 3]]);
      assert.deepEqual([rule.spec.target?.known, rule.spec.target?.raw], [false, 'CHECKSUM fill']);
      assert.deepEqual(rule.spec.matches.map((m) => m.name), ['udp']);
    });

    it('a known target whose text is not as printed is kept unread', () => {
      const { rule, problems } = listRule('REJECT', `0    ${ANY} reject-with`);
      assert.deepEqual(codes(problems).filter((c) => c[0] !== 'info'), [['warning', 'unread-text', 3]]);
      assert.deepEqual([rule.spec.target?.known, rule.spec.target?.raw, rule.spec.matches.length], [false, 'reject-with', 0]);
    });
  });

  describe('layout', () => {
    it('-L -n -v without -x: K/M counters are approximate', () => {
      const text = [
        'Chain INPUT (policy DROP 1282K packets, 2M bytes)',
        ' pkts bytes target     prot opt in     out     source               destination         ',
        ' 123K   99M ACCEPT     all  --  lo     *       0.0.0.0/0            0.0.0.0/0           ',
        '   12  1234 ACCEPT     tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22',
      ].join('\n');
      const r = parseIptablesList(text, { hint: 'filter' });
      assert.deepEqual(loud(r.problems), []);
      const c = r.value.tables[0].chains[0];
      assert.deepEqual(c.counters, { packets: 1282000, bytes: 2000000, approximate: true });
      assert.equal(c.policy, 'DROP');
      assert.deepEqual(c.rules.map((x) => x.counters), [{ packets: 123000, bytes: 99000000, approximate: true }, { packets: 12, bytes: 1234 }]);
      assert.deepEqual(c.rules.map((x) => formatRuleSpec(x.spec)), ['-i lo -j ACCEPT', '-p tcp -m tcp --dport 22 -j ACCEPT']);
    });

    it('-L -n (no -v): no counters, no interfaces; a rule without target', () => {
      const text = [
        'Chain FORWARD (policy ACCEPT)',
        'target     prot opt source               destination         ',
        'DOCKER-USER  all  --  0.0.0.0/0            0.0.0.0/0           ',
        '           tcp  --  0.0.0.0/0            10.0.0.1             tcp dpt:80',
        '',
        'Chain DOCKER-USER (1 references)',
        'target     prot opt source               destination         ',
        'RETURN     all  --  0.0.0.0/0            0.0.0.0/0           ',
      ].join('\n');
      const r = parseIptablesList(text, { hint: 'filter' });
      assert.deepEqual(loud(r.problems), []);
      const [fwd, user] = r.value.tables[0].chains;
      assert.deepEqual([fwd.builtin, fwd.policy, fwd.counters, user.builtin, user.references], [true, 'ACCEPT', undefined, false, 1]);
      assert.deepEqual(fwd.rules.map((x) => [formatRuleSpec(x.spec), x.counters, x.index, x.source.line]), [
        ['-j DOCKER-USER', undefined, 0, 3],
        ['-d 10.0.0.1/32 -p tcp -m tcp --dport 80', undefined, 1, 4],
      ]);
    });

    it('infers the table and says how (info)', () => {
      const cases: [string, string, RegExp][] = [
        ['Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\nChain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)\n', 'nat', /PREROUTING and POSTROUTING but not FORWARD/],
        ['Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\nChain FORWARD (policy ACCEPT 0 packets, 0 bytes)\nChain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)\n', 'mangle', /FORWARD/],
        ['Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\nChain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n', 'raw', /PREROUTING and OUTPUT/],
        ['Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n', 'filter', /filter/],
        [`Chain DOCKER (2 references)\n${HEADER}\n1 0 0 DNAT       6    ${ANY} tcp dpt:80 to:10.0.0.2:80\n`, 'nat', /DNAT target/],
        [`Chain KUBE-MARK-MASQ (2 references)\n${HEADER}\n1 0 0 MARK       0    ${ANY} MARK or 0x4000\n`, 'mangle', /MARK target/],
      ];
      for (const [text, table, why] of cases) {
        const r = parseIptablesList(text);
        assert.equal(r.value.tables[0].name, table);
        const info = r.problems.find((p) => p.code === 'table-inferred');
        assert.ok(info && info.severity === 'info', text);
        assert.match(info.message, why);
      }
      const hinted = parseIptablesList('Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n', { hint: 'captures/x/iptables-L-raw.txt' });
      assert.equal(hinted.value.tables[0].name, 'raw');
    });

    it('problems: rows before a chain, bad rows, unnumbered order, comments; nothing thrown', () => {
      const text = [
        '1 0 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0',
        'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)',
        HEADER,
        '1 0 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0',
        '3 0 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0',
        'x 0 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0',
        '3 0 0 ACCEPT 0 ?? * * 0.0.0.0/0 0.0.0.0/0',
        '3 0 0 ACCEPT 0 -- * * 0.0.0.0/0',
        '3 0 0 ACCEPT 0 -- * * 999.0.0.0/0 0.0.0.0/0',
        '# iptables -L -n -v',
        'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)',
      ].join('\n');
      const r = parseIptablesList(text, { hint: 'filter', lineOffset: 100 });
      assert.deepEqual(codes(r.problems), [
        ['error', 'no-chain', 101], ['warning', 'rule-number', 105], ['error', 'bad-row', 106], ['error', 'bad-row', 107],
        ['error', 'bad-row', 108], ['error', 'bad-row', 109], ['warning', 'annotation', 110], ['error', 'duplicate-chain', 111],
      ]);
      assert.equal(r.value.tables[0].chains[0].rules.length, 2);
    });

    it('binary garbage and a 5 MB line: nothing thrown', () => {
      const bin = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31) % 256)).toString('latin1');
      assert.deepEqual(codes(parseIptablesList(bin).problems), [['error', 'binary', 1]]);
      const big = `Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n${HEADER}\n1 0 0 ACCEPT 0 ${ANY} /* ${'y'.repeat(5 << 20)} */\n`;
      const r = parseIptablesList(big, { hint: 'filter' });
      assert.deepEqual(loud(r.problems), []);
      assert.equal(r.value.tables[0].chains[0].rules[0].spec.matches[0].options[0].values[0].length, 5 << 20);
    });
  });

  describe('lab listings', () => {
    const files = corpusFiles('captures').filter((f) => /\/iptables-L-[a-z]+\.txt$/.test(f));

    it('finds 65 listings', () => {
      assert.equal(files.length, 65);
    });

    for (const f of files) {
      it(`${f}: no warning or error, the table from the file name`, () => {
        const table = /iptables-L-([a-z]+)\.txt$/.exec(f)![1];
        const r = parseIptablesList(corpusFile(f), { file: f, hint: table });
        assert.deepEqual(loud(r.problems), []);
        assert.equal(r.value.tables[0].name, table);
        for (const c of r.value.tables[0].chains) for (const rule of c.rules) for (const m of [...rule.spec.matches, rule.spec.target]) assert.notEqual(m?.known, false, rule.text);
      });
    }

    it('router nat: DNAT with comment, REDIRECT, MASQUERADE, SNAT', () => {
      const r = parseIptablesList(corpusFile('captures/netns-lab/vm/router/iptables-L-nat.txt'), { hint: 'nat' });
      const pre = r.value.tables[0].chains[0];
      assert.deepEqual(pre.rules.map((x) => formatRuleSpec(x.spec)), [
        '-i wan0 -p tcp -m tcp --dport 8080 -m comment --comment "port forward 8080 to client web" -j DNAT --to-destination 192.0.2.10:80',
        '-i br0 -p udp -m udp --dport 53 -j REDIRECT --to-ports 5353',
      ]);
      assert.deepEqual(pre.rules[0].counters, { packets: 1, bytes: 60 });
      assert.equal(pre.rules[0].spec.target?.raw, 'to:192.0.2.10:80');
      assert.equal(pre.rules[0].spec.matches[1].raw, '/* port forward 8080 to client web */');
    });
  });
});
