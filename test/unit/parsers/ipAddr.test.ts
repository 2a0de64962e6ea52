/** Unit tests (pure core): `ip addr` / `ip link` text and `ip -j addr` JSON. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { corpusFile, corpusFiles } from '../helpers';
import { parseIpAddr, parseIpAddrJson } from '../../../src/core/parsers/parseIpAddr';
import type { Iface } from '../../../src/core/model/link';
import type { Problem } from '../../../src/core/problem';

/** Namespace folders of the lab captures (each has ip-addr.txt and ip-addr.json taken together). */
function captureDirs(): string[] {
  return corpusFiles('captures')
    .filter((f) => path.basename(f) === 'ip-addr.json')
    .map((f) => path.dirname(f));
}

const notInfo = (ps: Problem[]): Problem[] => ps.filter((p) => p.severity !== 'info');
const brief = (ps: Problem[]): string[] => ps.map((p) => `${p.line}:${p.severity}:${p.code}`);

/**
 * What both forms carry: text names the peer netns (`link-netns NAME`) where JSON gives its id,
 * and `-d` details differ in wording, so only the shared parts are compared.
 */
function project(i: Iface): unknown {
  const ex = i.details.extra ?? {};
  const shared: Record<string, string | undefined> = {};
  for (const k of ['promiscuity', 'allmulti', 'minmtu', 'maxmtu', 'numtxqueues', 'numrxqueues', 'gso_max_size', 'group', 'qlen']) shared[k] = ex[k];
  const s = i.details.slave;
  return {
    ifindex: i.ifindex,
    name: i.name,
    link: i.link,
    peerNetns: i.linkNetns !== undefined || i.linkNetnsid !== undefined,
    flags: i.flags,
    mtu: i.mtu,
    qdisc: i.qdisc,
    master: i.master,
    state: i.state,
    linkType: i.linkType,
    mac: i.mac,
    brd: i.brd,
    kind: i.details.kind,
    slaveKind: i.details.slaveKind,
    vxlan: i.details.vxlan,
    slave: s && { state: s.state, learning: s.learning, hairpin: s.hairpin, flood: s.flood, cost: s.cost, priority: s.priority },
    shared,
    addrs: i.addrs.map(({ source: _s, ...a }) => a),
  };
}

/** Parses text and checks the interfaces (by a partial match per interface) and problem codes. */
function check(text: string, expected: Partial<Iface>[], problems: string[] = []): Iface[] {
  const r = parseIpAddr(text, { file: 't.txt' });
  assert.deepEqual(brief(notInfo(r.problems)), problems);
  assert.equal(r.value.length, expected.length);
  expected.forEach((e, n) => {
    const got = r.value[n] as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(e)) assert.deepEqual(got[k], v, `interface ${n} ${k}`);
  });
  return r.value;
}

describe('unit: parseIpAddr (text)', () => {
  describe('corpus ip-addr/*', () => {
    // Author annotations per SOURCES.md: `[...snip...]` and `# <netns>` lines, by line number.
    const annotations: Record<string, number[]> = {
      'moby-pr52934-ingress_sbox-ip-d-a.txt': [7, 8, 16],
      'moby-pr52934-lb-netns-ip-d-a.txt': [7, 8],
      'moby-pr52934-overlay-netns-ingress-ip-d-a.txt': [7, 17, 22],
      'moby-pr52934-overlay-netns-someovl-ip-d-a.txt': [7, 17, 22],
      'moby-pr52934-swarm-host-ip-d-a.txt': [7, 25, 32],
      'moby-pr52934-swarm-task-container-ip-d-a.txt': [7, 8, 14, 20],
      'ollypom-docker17.03ee-host-ip-a.txt': [],
      'ollypom-docker17.03ee-ingress_sbox-ip-a.txt': [],
    };
    const files = corpusFiles('ip-addr');
    it('knows every corpus file', () => {
      assert.deepEqual(files.map((f) => path.basename(f)).sort(), Object.keys(annotations).sort());
    });
    for (const f of files) {
      it(`${path.basename(f)}: only annotation warnings, at the annotated lines`, () => {
        const r = parseIpAddr(corpusFile(f), { file: f });
        const bad = notInfo(r.problems);
        assert.deepEqual(
          bad.map((p) => `${p.line}:${p.code}:${p.severity}`),
          annotations[path.basename(f)].map((l) => `${l}:annotation:warning`),
        );
        assert.ok(r.value.length >= 2);
        for (const i of r.value) assert.equal(i.source.file, f);
      });
    }

    it('ingress_sbox (moby): eth0@if15 link-netnsid 0 has 10.0.0.2/24 and the VIP 10.0.0.3/32', () => {
      const r = parseIpAddr(corpusFile('ip-addr/moby-pr52934-ingress_sbox-ip-d-a.txt'));
      const eth0 = r.value.find((i) => i.name === 'eth0')!;
      assert.equal(eth0.ifindex, 14);
      assert.deepEqual(eth0.link, { ifindex: 15 });
      assert.equal(eth0.linkNetnsid, 0);
      assert.equal(eth0.mtu, 1450);
      assert.equal(eth0.details.kind, 'veth');
      assert.equal(eth0.source.line, 9);
      assert.deepEqual(
        eth0.addrs.map((a) => [a.local, a.prefixLen, a.broadcast, a.scope, a.label, a.source.line]),
        [
          ['10.0.0.2', 24, '10.0.0.255', 'global', 'eth0', 12],
          ['10.0.0.3', 32, undefined, 'global', 'eth0', 14],
        ],
      );
      const eth1 = r.value.find((i) => i.name === 'eth1')!;
      assert.equal(eth1.linkNetnsid, 1);
      assert.equal(eth1.addrs[0].local, '172.19.0.2');
    });

    it('overlay netns (moby): vxlan0@if13 is VNI 4096, dstport 4789, proxy l2miss l3miss, port of br0', () => {
      const r = parseIpAddr(corpusFile('ip-addr/moby-pr52934-overlay-netns-ingress-ip-d-a.txt'));
      const vx = r.value.find((i) => i.name === 'vxlan0')!;
      assert.deepEqual(vx.link, { ifindex: 13 });
      assert.equal(vx.master, 'br0');
      assert.equal(vx.state, 'UNKNOWN');
      assert.deepEqual(vx.details.vxlan, { vni: 4096, dstport: 4789, learning: true, proxy: true, l2miss: true, l3miss: true });
      assert.equal(vx.details.slaveKind, 'bridge_slave');
      assert.equal(vx.details.slave?.state, 'forwarding');
      assert.equal(vx.details.slave?.cost, '100');
      assert.equal(vx.details.extra?.ttl, 'auto');
      assert.equal(vx.details.extra?.srcport, '0 0');
      const br0 = r.value.find((i) => i.name === 'br0')!;
      assert.equal(br0.details.kind, 'bridge');
      assert.equal(br0.details.extra?.vlan_filtering, '0');
      assert.equal(br0.details.extra?.gc_timer, '183.75');
      assert.deepEqual(br0.addrs.map((a) => `${a.local}/${a.prefixLen}`), ['10.0.0.1/24']);
    });

    it('swarm host (moby): docker0 NO-CARRIER/DOWN, veth ports of docker_gwbridge with hairpin on', () => {
      const r = parseIpAddr(corpusFile('ip-addr/moby-pr52934-swarm-host-ip-d-a.txt'));
      const d0 = r.value.find((i) => i.name === 'docker0')!;
      assert.deepEqual(d0.flags, ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP']);
      assert.equal(d0.state, 'DOWN');
      const v = r.value.find((i) => i.name === 'vethee00f7d')!;
      assert.deepEqual(v.link, { ifindex: 17 });
      assert.equal(v.linkNetnsid, 2);
      assert.equal(v.master, 'docker_gwbridge');
      assert.equal(v.details.slave?.hairpin, 'on');
      assert.deepEqual(v.addrs.map((a) => [a.family, a.local, a.prefixLen, a.scope]), [['inet6', 'fe80::f477:3dff:fedb:5a', 64, 'link']]);
    });

    it('iproute2 3.x (ollypom, CentOS 7): no `group`, trailing blanks, link-netnsid', () => {
      const r = parseIpAddr(corpusFile('ip-addr/ollypom-docker17.03ee-host-ip-a.txt'));
      assert.deepEqual(r.value.map((i) => i.name), ['lo', 'ens3', 'docker0', 'docker_gwbridge', 'veth1a1ccf0', 'veth0c4d246']);
      const lo = r.value[0];
      assert.equal(lo.details.extra?.qlen, '1');
      assert.equal(lo.details.extra?.group, undefined);
      assert.equal(lo.addrs[1].local, '::1');
      const v = r.value[4];
      assert.deepEqual(v.link, { ifindex: 15 });
      assert.equal(v.linkNetnsid, 1);
      assert.equal(v.state, 'UP');
      assert.equal(r.value[1].qdisc, 'pfifo_fast');
    });
  });

  describe('captures/*/*/ip-addr.txt', () => {
    it('the lab captures are all there', () => assert.equal(captureDirs().length, 13));
    for (const d of captureDirs()) {
      it(`${d}: no warnings or errors`, () => {
        const r = parseIpAddr(corpusFile(`${d}/ip-addr.txt`), { file: `${d}/ip-addr.txt` });
        assert.deepEqual(brief(notInfo(r.problems)), []);
        assert.ok(r.value.length >= 2);
      });
    }

    it('docker20 ingress_sbox: eth0@if7 link-netnsid 0 has 10.0.0.2/24; eth1 peer in netns swarmlab', () => {
      const r = parseIpAddr(corpusFile('captures/docker20-swarm-lab/swarmlab/ingress_sbox/ip-addr.txt'));
      const eth0 = r.value.find((i) => i.name === 'eth0')!;
      assert.equal(eth0.ifindex, 6);
      assert.deepEqual(eth0.link, { ifindex: 7 });
      assert.equal(eth0.linkNetnsid, 0);
      assert.deepEqual(eth0.addrs.map((a) => `${a.local}/${a.prefixLen} brd ${a.broadcast}`), ['10.0.0.2/24 brd 10.0.0.255']);
      const eth1 = r.value.find((i) => i.name === 'eth1')!;
      assert.equal(eth1.linkNetns, 'swarmlab');
      assert.equal(eth1.linkNetnsid, undefined);
    });

    it('docker20 ingress overlay netns: vxlan0@if5 VNI 4096 dstport 4789 proxy l2miss l3miss, link-netns swarmlab', () => {
      const r = parseIpAddr(corpusFile('captures/docker20-swarm-lab/swarmlab/1-b1n3tv7414/ip-addr.txt'));
      const vx = r.value.find((i) => i.name === 'vxlan0')!;
      assert.deepEqual(vx.details.vxlan, { vni: 4096, dstport: 4789, learning: true, proxy: true, l2miss: true, l3miss: true });
      assert.equal(vx.linkNetns, 'swarmlab');
      assert.deepEqual(vx.addrs, []);
    });

    it('netns-lab router: vxlan0 VNI 42 local 203.0.113.1 dev wan0 nolearning; legs in netns client/server', () => {
      const r = parseIpAddr(corpusFile('captures/netns-lab/vm/router/ip-addr.txt'));
      const vx = r.value.find((i) => i.name === 'vxlan0')!;
      assert.equal(vx.link, undefined);
      assert.equal(vx.mac, '02:00:00:00:42:01');
      assert.deepEqual(vx.details.vxlan, { vni: 42, local: '203.0.113.1', dev: 'wan0', dstport: 4789, learning: false, proxy: false, l2miss: false, l3miss: false });
      assert.equal(r.value.find((i) => i.name === 'leg1')!.linkNetns, 'client');
      assert.equal(r.value.find((i) => i.name === 'leg2')!.linkNetns, 'server');
      assert.deepEqual(r.value.find((i) => i.name === 'br0')!.addrs.map((a) => `${a.local}/${a.prefixLen}`), ['192.0.2.1/24', 'fe80::3001:61ff:fef7:a206/64']);
    });
  });

  describe('text and JSON taken together parse to the same interfaces', () => {
    for (const d of captureDirs()) {
      it(d, () => {
        const t = parseIpAddr(corpusFile(`${d}/ip-addr.txt`));
        const j = parseIpAddrJson(corpusFile(`${d}/ip-addr.json`));
        assert.deepEqual(brief(notInfo(j.problems)), []);
        assert.deepEqual(t.value.map(project), j.value.map(project));
        // Where the text prints a netns id (not a name), it is the JSON's id.
        t.value.forEach((ti, n) => {
          if (ti.linkNetnsid !== undefined) assert.equal(ti.linkNetnsid, j.value[n].linkNetnsid);
        });
      });
    }
  });

  describe('grammar cases', () => {
    it('same-netns link by name, @NONE, peer address, flags, secondary label', () => {
      const text = [
        '4: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000',
        '    link/ether 0e:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff',
        '5: ipip0@NONE: <NOARP> mtu 1480 qdisc noop state DOWN group default qlen 1000',
        '    link/ipip 0.0.0.0 brd 0.0.0.0',
        '6: tun0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN group default qlen 500',
        '    link/none ',
        '    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0',
        '       valid_lft forever preferred_lft forever',
        '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000',
        '    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff',
        '    altname enp0s3',
        '    inet 192.168.1.10/24 metric 100 brd 192.168.1.255 scope global dynamic eth0',
        '       valid_lft 86390sec preferred_lft 86390sec',
        '    inet 192.168.1.11/24 brd 192.168.1.255 scope global secondary eth0:1',
        '       valid_lft forever preferred_lft forever',
        '    inet6 2001:DB8:0:0::5/64 scope global dynamic mngtmpaddr noprefixroute ',
        '       valid_lft 2591998sec preferred_lft 604798sec',
        '    inet6 fe80::5054:ff:fe12:3456/64 scope link ',
        '       valid_lft forever preferred_lft forever',
      ].join('\n');
      const v = check(text, [
        { name: 'veth1', link: { name: 'veth0' }, flags: ['BROADCAST', 'MULTICAST', 'M-DOWN'], state: 'DOWN', qdisc: 'noop' },
        { name: 'ipip0', link: { none: true }, linkType: 'ipip', mac: '0.0.0.0' },
        { name: 'tun0', linkType: 'none', mac: undefined },
        { name: 'eth0', mac: '52:54:00:12:34:56' },
      ]);
      assert.equal(v[0].details.extra?.mode, 'DEFAULT');
      assert.deepEqual(
        v[2].addrs.map(({ source: _s, ...a }) => a),
        [{ family: 'inet', local: '10.8.0.1', peer: '10.8.0.2', prefixLen: 32, scope: 'global', flags: [], label: 'tun0' }],
      );
      assert.equal(v[3].details.extra?.altname, 'enp0s3');
      assert.deepEqual(
        v[3].addrs.map((a) => [a.local, a.prefixLen, a.broadcast, a.flags, a.label]),
        [
          ['192.168.1.10', 24, '192.168.1.255', ['dynamic'], 'eth0'],
          ['192.168.1.11', 24, '192.168.1.255', ['secondary'], 'eth0:1'],
          ['2001:db8::5', 64, undefined, ['dynamic', 'mngtmpaddr', 'noprefixroute'], undefined],
          ['fe80::5054:ff:fe12:3456', 64, undefined, [], undefined],
        ],
      );
    });

    it('vxlan with group, remote-less, old `port A B` source range, and `ip -d link` words', () => {
      const text = [
        '7: vxlan42: <BROADCAST,MULTICAST> mtu 1450 qdisc noop state DOWN mode DEFAULT group default qlen 1000',
        '    link/ether 9a:8b:7c:6d:5e:4f brd ff:ff:ff:ff:ff:ff promiscuity 0 ',
        '    vxlan id 42 group 239.1.1.1 dev eth0 port 32768 61000 ttl 64 ageing 300 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535',
        '8: vxlan7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN group default qlen 1000',
        '    link/ether 9a:8b:7c:6d:5e:40 brd ff:ff:ff:ff:ff:ff promiscuity 0 allmulti 0 minmtu 68 maxmtu 65535',
        '    vxlan id 7 remote 2001:db8::2 local 2001:db8::1 srcport 0 0 dstport 8472 nolearning proxy l2miss ttl auto ageing 300 noudpcsum udp6zerocsumtx ',
      ].join('\n');
      const v = check(text, [{ name: 'vxlan42' }, { name: 'vxlan7' }]);
      assert.deepEqual(v[0].details.vxlan, { vni: 42, group: '239.1.1.1', dev: 'eth0', learning: true, proxy: false, l2miss: false, l3miss: false });
      assert.equal(v[0].details.extra?.srcport, '32768 61000');
      assert.equal(v[0].details.extra?.addrgenmode, 'eui64');
      assert.equal(v[0].details.extra?.numtxqueues, '1');
      assert.deepEqual(v[1].details.vxlan, { vni: 7, remote: '2001:db8::2', local: '2001:db8::1', dstport: 8472, learning: false, proxy: true, l2miss: true, l3miss: false });
      assert.equal(v[1].details.extra?.udpcsum, 'off');
    });

    it('other kinds are kept verbatim under their name; ip -s statistics are noted once', () => {
      const text = [
        '9: mv0@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000',
        '    link/ether 16:aa:bb:cc:dd:ee brd ff:ff:ff:ff:ff:ff promiscuity 0',
        '    macvlan mode bridge bcqueuelen 1000 numtxqueues 1 numrxqueues 1',
        '    RX:  bytes packets errors dropped  missed   mcast',
        '          1234      10      0       0       0       0',
        '    TX:  bytes packets errors dropped carrier collsns',
        '           567       5      0       0       0       0',
      ].join('\n');
      const r = parseIpAddr(text);
      assert.deepEqual(brief(r.problems), ['4:info:link-stats']);
      assert.equal(r.value[0].details.kind, 'macvlan');
      assert.equal(r.value[0].details.extra?.macvlan, 'mode bridge bcqueuelen 1000');
      assert.equal(r.value[0].details.extra?.numrxqueues, '1');
      assert.deepEqual(r.value[0].link, { name: 'eth0' });
    });

    it('`ip -o addr` and `ip -o link` (one record per line, `\\` for line breaks)', () => {
      const o = [
        '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
        '1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever',
        '6: eth0@if7    inet 10.0.0.2/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      ].join('\n');
      const v = check(o, [
        { ifindex: 1, name: 'lo', flags: [] },
        { ifindex: 6, name: 'eth0', link: { ifindex: 7 } },
      ]);
      assert.deepEqual(v.map((i) => i.addrs.map((a) => `${a.local}/${a.prefixLen} ${a.label ?? '-'}`)), [['127.0.0.1/8 lo', '::1/128 -'], ['10.0.0.2/24 eth0']]);
      const l = '2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0 frob';
      const r = parseIpAddr(l);
      assert.equal(r.value[0].mac, '02:42:ac:11:00:02');
      assert.equal(r.value[0].linkNetnsid, 0);
      // Columns still point into the physical line.
      assert.deepEqual(r.problems.map((p) => [p.code, p.col, p.endCol]), [['unknown-token', l.length - 3, l.length + 1]]);
    });

    it('sources carry the file and the line offset; problems too', () => {
      const text = '# note\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
      const r = parseIpAddr(text, { file: 'bundle.txt', lineOffset: 10 });
      assert.deepEqual(r.value[0].source, { file: 'bundle.txt', line: 12 });
      assert.deepEqual(
        r.problems.map((p) => [p.file, p.line, p.code, p.col, p.endCol]),
        [['bundle.txt', 11, 'annotation', 1, 7]],
      );
    });
  });

  describe('bad input: never throws, problems are located', () => {
    it('an address line before any interface', () => {
      const r = parseIpAddr('    inet 10.0.0.1/24 scope global eth0\n1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN\n');
      assert.deepEqual(brief(r.problems), ['1:error:orphan-line']);
      assert.equal(r.value.length, 1);
      assert.deepEqual(r.value[0].addrs, []);
    });

    it('`mtu` not a number: the interface is kept, the mtu is not', () => {
      const r = parseIpAddr('2: eth0: <BROADCAST,UP> mtu abc qdisc noqueue state UP group default\n    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff\n');
      assert.deepEqual(
        r.problems.map((p) => [p.line, p.severity, p.code, p.col, p.endCol]),
        [[1, 'error', 'bad-number', 29, 32]],
      );
      assert.equal(r.value[0].name, 'eth0');
      assert.equal(r.value[0].mtu, undefined);
      assert.equal(r.value[0].mac, '02:42:ac:11:00:02');
    });

    it('truncated header, bad address, bad prefix, garbage line', () => {
      const text = [
        '3: eth1',
        '4: eth2: <UP> mtu 1500',
        '    inet 10.0.0.300/24 scope global eth2',
        '    inet 10.0.0.3/33 scope global eth2',
        '    inet6 10.0.0.3/24 scope global',
        '\u0000\u0001\u0002 binary',
        '    inet 10.0.0.4/24 scope global eth2',
        '       valid_lft forever preferred_lft',
      ].join('\n');
      const r = parseIpAddr(text);
      assert.deepEqual(brief(r.problems), [
        '1:error:bad-header',
        '3:error:bad-address',
        '4:error:bad-address',
        '5:error:bad-address',
        '6:error:unexpected-line',
        '8:warning:bad-lifetime',
      ]);
      assert.deepEqual(r.value.map((i) => i.name), ['eth2']);
      assert.deepEqual(r.value[0].addrs.map((a) => a.local), ['10.0.0.4']);
    });

    it('huge garbage yields a capped list of problems', () => {
      const r = parseIpAddr('garbage line\n'.repeat(20000));
      assert.equal(r.value.length, 0);
      assert.ok(r.problems.length <= 501);
      assert.equal(r.problems[r.problems.length - 1].code, 'too-many-problems');
      assert.equal(r.problems[r.problems.length - 1].message, '19500 more problems in this file are not listed');
      // Annotations have their own, larger budget.
      const a = parseIpAddr('# note\n'.repeat(12000));
      assert.equal(a.problems.filter((p) => p.code === 'annotation').length, 10000);
      assert.equal(a.problems[a.problems.length - 1].code, 'too-many-problems');
    });

    it('random input never throws and every problem is inside the text', () => {
      const lines = corpusFile('ip-addr/moby-pr52934-swarm-host-ip-d-a.txt').split('\n');
      const mutated = fc.array(
        fc.oneof(
          fc.constantFrom(...lines),
          fc.tuple(fc.constantFrom(...lines), fc.nat(300)).map(([l, n]) => l.slice(0, n)),
          fc.string({ unit: 'binary', maxLength: 80 }),
        ),
        { maxLength: 40 },
      );
      fc.assert(
        fc.property(mutated, (ls) => {
          const text = ls.join('\n');
          const r = parseIpAddr(text);
          const n = text.split(/\r?\n/).length;
          for (const p of r.problems) {
            assert.ok(p.line >= 1 && p.line <= n, `line ${p.line} of ${n}`);
            assert.ok(p.col >= 1 && p.endCol > p.col);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('unit: parseIpAddrJson', () => {
  it('router capture: veth legs with link_index + link_netnsid, vxlan info_data', () => {
    const r = parseIpAddrJson(corpusFile('captures/netns-lab/vm/router/ip-addr.json'), { file: 'ip-addr.json' });
    assert.deepEqual(r.problems, []);
    const leg1 = r.value.find((i) => i.name === 'leg1')!;
    assert.deepEqual(leg1.link, { ifindex: 2 });
    assert.equal(leg1.linkNetnsid, 0);
    assert.equal(leg1.details.slaveKind, 'bridge_slave');
    assert.equal(leg1.details.slave?.hairpin, 'off');
    assert.equal(leg1.details.extra?.minmtu, '68');
    const vx = r.value.find((i) => i.name === 'vxlan0')!;
    assert.deepEqual(vx.details.vxlan, { vni: 42, local: '203.0.113.1', dev: 'wan0', dstport: 4789, learning: false, proxy: false, l2miss: false, l3miss: false });
    assert.deepEqual(vx.source, { file: 'ip-addr.json', line: 1 });
  });

  it('peer address, flags as booleans, link null, same-netns link name', () => {
    const json = `[
  {"ifindex": 5, "ifname": "ipip0", "link": null, "flags": ["NOARP"], "mtu": 1480, "link_type": "ipip", "address": "0.0.0.0", "addr_info": []},
  {"ifindex": 4, "ifname": "veth1", "link": "veth0", "flags": [], "mtu": 1500,
   "addr_info": [{"family": "inet", "local": "10.8.0.1", "address": "10.8.0.2", "prefixlen": 32, "scope": "global", "label": "veth1"},
                 {"family": "inet6", "local": "2001:db8::5", "prefixlen": 64, "scope": "global", "dynamic": true, "mngtmpaddr": true, "noprefixroute": true}]}
]`;
    const r = parseIpAddrJson(json);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.value[0].link, { none: true });
    assert.deepEqual(r.value[1].link, { name: 'veth0' });
    assert.deepEqual(
      r.value[1].addrs.map(({ source: _s, ...a }) => a),
      [
        { family: 'inet', local: '10.8.0.1', peer: '10.8.0.2', prefixLen: 32, scope: 'global', flags: [], label: 'veth1' },
        { family: 'inet6', local: '2001:db8::5', prefixLen: 64, scope: 'global', flags: ['dynamic', 'mngtmpaddr', 'noprefixroute'] },
      ],
    );
    assert.equal(r.value[1].addrs[0].source.line, 4);
  });

  it('bad JSON: truncated, not an array, objects without ifindex, mtu not a number', () => {
    const trunc = parseIpAddrJson('[{"ifindex":1,"ifname":"lo","flags":[],"mtu":65536},{"ifindex":2,"ifn');
    assert.ok(trunc.problems.some((p) => p.code === 'json-syntax' && p.line === 1));
    assert.deepEqual(trunc.value.map((i) => i.name), ['lo']);
    assert.deepEqual(brief(parseIpAddrJson('{"ifindex":1}').problems), ['1:error:json-shape']);
    const bad = parseIpAddrJson('[\n 7,\n {"ifname":"x"},\n {"ifindex":3,"ifname":"eth0","mtu":"big"}\n]');
    // json.ts tracks lines of objects and arrays only: a bad scalar item is reported at its array.
    assert.deepEqual(brief(bad.problems), ['1:error:json-shape', '3:error:json-shape', '4:error:bad-number']);
    assert.equal(bad.value[0].mtu, undefined);
    assert.deepEqual(brief(parseIpAddrJson('').problems), ['1:info:empty']);
  });
});
