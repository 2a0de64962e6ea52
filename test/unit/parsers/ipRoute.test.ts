/** Unit tests (pure core): `ip route` text and `ip -j route` JSON. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { corpusFile, corpusFiles } from '../helpers';
import { parseIpRoute, parseIpRouteJson } from '../../../src/core/parsers/parseIpRoute';
import type { Route } from '../../../src/core/model/link';
import type { Problem } from '../../../src/core/problem';

function captureDirs(): string[] {
  return corpusFiles('captures')
    .filter((f) => path.basename(f) === 'ip-route.json')
    .map((f) => path.dirname(f));
}

const notInfo = (ps: Problem[]): Problem[] => ps.filter((p) => p.severity !== 'info');
const brief = (ps: Problem[]): string[] => ps.map((p) => `${p.line}:${p.severity}:${p.code}`);
const noSource = (rs: Route[]): Omit<Route, 'source'>[] => rs.map(({ source: _s, ...r }) => r);

/** A route with the defaults `ip route` leaves out. */
function route(r: Partial<Route> & Pick<Route, 'dst' | 'prefixLen'>): Omit<Route, 'source'> {
  return { type: 'unicast', family: r.dst.includes(':') ? 'inet6' : 'inet', table: 'main', flags: [], ...r };
}

/** Parses text and compares every route (without sources) and the non-info problems. */
function check(text: string, expected: Omit<Route, 'source'>[], problems: string[] = [], hint?: string): Route[] {
  const r = parseIpRoute(text, { hint });
  assert.deepEqual(brief(notInfo(r.problems)), problems);
  assert.deepEqual(noSource(r.value), expected);
  return r.value;
}

describe('unit: parseIpRoute (text)', () => {
  describe('corpus ip-route/*', () => {
    for (const f of corpusFiles('ip-route')) {
      it(`${path.basename(f)}: clean`, () => {
        const r = parseIpRoute(corpusFile(f), { file: f });
        assert.deepEqual(brief(r.problems), []);
        assert.ok(r.value.length >= 3);
        assert.equal(r.value[0].source.file, f);
      });
    }

    it('swarm host (moby): default via 172.17.0.1; docker0 route is linkdown', () => {
      const r = parseIpRoute(corpusFile('ip-route/moby-pr52934-swarm-host-ip-route.txt'));
      assert.deepEqual(noSource(r.value), [
        route({ dst: '0.0.0.0', prefixLen: 0, via: '172.17.0.1', dev: 'eth0' }),
        route({ dst: '172.17.0.0', prefixLen: 16, dev: 'eth0', proto: 'kernel', scope: 'link', src: '172.17.0.3' }),
        route({ dst: '172.18.0.0', prefixLen: 16, dev: 'docker0', proto: 'kernel', scope: 'link', src: '172.18.0.1', flags: ['linkdown'] }),
        route({ dst: '172.19.0.0', prefixLen: 16, dev: 'docker_gwbridge', proto: 'kernel', scope: 'link', src: '172.19.0.1' }),
      ]);
      assert.deepEqual(r.value.map((x) => x.source.line), [1, 2, 3, 4]);
    });
  });

  describe('captures/*/*/ip-route.txt (`ip route show table all`)', () => {
    it('the lab captures are all there', () => assert.equal(captureDirs().length, 13));
    for (const d of captureDirs()) {
      it(`${d}: no warnings or errors`, () => {
        const r = parseIpRoute(corpusFile(`${d}/ip-route.txt`));
        assert.deepEqual(brief(notInfo(r.problems)), []);
      });
    }

    it('netns-lab router: table 100, blackhole / prohibit / unreachable, host route /32, local table, IPv6', () => {
      const r = parseIpRoute(corpusFile('captures/netns-lab/vm/router/ip-route.txt'));
      const v = noSource(r.value);
      assert.equal(v.length, 34);
      assert.deepEqual(v.slice(0, 9), [
        route({ dst: '0.0.0.0', prefixLen: 0, via: '198.51.100.2', dev: 'vxlan0', table: '100' }),
        route({ dst: '192.0.2.0', prefixLen: 24, dev: 'br0', table: '100', scope: 'link', src: '192.0.2.1' }),
        route({ type: 'unreachable', dst: '192.0.2.128', prefixLen: 25, table: '100' }),
        route({ dst: '203.0.113.2', prefixLen: 32, dev: 'wan0', table: '100', scope: 'link' }),
        route({ dst: '192.0.2.0', prefixLen: 24, dev: 'br0', proto: 'kernel', scope: 'link', src: '192.0.2.1' }),
        route({ type: 'blackhole', dst: '198.18.0.0', prefixLen: 15 }),
        route({ dst: '198.51.100.0', prefixLen: 24, dev: 'vxlan0', proto: 'kernel', scope: 'link', src: '198.51.100.1' }),
        route({ dst: '203.0.113.0', prefixLen: 24, dev: 'wan0', proto: 'kernel', scope: 'link', src: '203.0.113.1' }),
        route({ type: 'prohibit', dst: '203.0.113.128', prefixLen: 25 }),
      ]);
      assert.deepEqual(v[10], route({ type: 'local', dst: '127.0.0.1', prefixLen: 32, dev: 'lo', table: 'local', proto: 'kernel', scope: 'host', src: '127.0.0.1' }));
      assert.deepEqual(v[11], route({ type: 'broadcast', dst: '127.255.255.255', prefixLen: 32, dev: 'lo', table: 'local', proto: 'kernel', scope: 'link', src: '127.0.0.1' }));
      assert.deepEqual(v[18], route({ dst: 'fe80::', prefixLen: 64, dev: 'leg1', proto: 'kernel', metric: 256 }));
      assert.deepEqual(v[23], route({ type: 'local', dst: '::1', prefixLen: 128, dev: 'lo', table: 'local', proto: 'kernel', metric: 0 }));
      assert.deepEqual(v[33], route({ type: 'multicast', dst: 'ff00::', prefixLen: 8, dev: 'vxlan0', table: 'local', proto: 'kernel', metric: 256 }));
    });

    it('netns-lab server: a gateway route with a metric', () => {
      const r = parseIpRoute(corpusFile('captures/netns-lab/vm/server/ip-route.txt'));
      assert.deepEqual(noSource(r.value.slice(0, 3)), [
        route({ dst: '10.255.0.0', prefixLen: 16, via: '203.0.113.1', dev: 'eth0' }),
        route({ dst: '192.0.2.0', prefixLen: 24, dev: 'eth1', proto: 'kernel', scope: 'link', src: '192.0.2.20' }),
        route({ dst: '192.0.2.0', prefixLen: 24, via: '198.51.100.1', dev: 'vxlan0', metric: 50 }),
      ]);
    });
  });

  describe('text and JSON taken together parse to the same routes', () => {
    for (const d of captureDirs()) {
      it(d, () => {
        const t = parseIpRoute(corpusFile(`${d}/ip-route.txt`));
        const j = parseIpRouteJson(corpusFile(`${d}/ip-route.json`));
        assert.deepEqual(brief(notInfo(j.problems)), []);
        assert.deepEqual(noSource(t.value), noSource(j.value));
      });
    }
  });

  describe('grammar cases', () => {
    it('every route type', () => {
      const text = [
        'unicast 10.1.0.0/16 via 10.0.0.1 dev eth0 proto static scope global',
        'local 10.0.0.5 dev eth0 table local proto kernel scope host src 10.0.0.5',
        'broadcast 10.0.0.255 dev eth0 table local proto kernel scope link src 10.0.0.5',
        'multicast 224.0.0.0/4 dev eth0 table local proto static',
        'anycast fe80:: dev eth0 table local proto kernel metric 0 pref medium',
        'blackhole 10.9.0.0/16 proto static',
        'unreachable 10.10.0.0/16',
        'prohibit 10.11.0.0/16 metric 5',
        'throw 10.12.0.0/16 table 200',
        'nat 10.13.0.1 via 192.168.0.1 table local',
      ].join('\n');
      check(text, [
        route({ dst: '10.1.0.0', prefixLen: 16, via: '10.0.0.1', dev: 'eth0', proto: 'static', scope: 'global' }),
        route({ type: 'local', dst: '10.0.0.5', prefixLen: 32, dev: 'eth0', table: 'local', proto: 'kernel', scope: 'host', src: '10.0.0.5' }),
        route({ type: 'broadcast', dst: '10.0.0.255', prefixLen: 32, dev: 'eth0', table: 'local', proto: 'kernel', scope: 'link', src: '10.0.0.5' }),
        route({ type: 'multicast', dst: '224.0.0.0', prefixLen: 4, dev: 'eth0', table: 'local', proto: 'static' }),
        route({ type: 'anycast', dst: 'fe80::', prefixLen: 128, dev: 'eth0', table: 'local', proto: 'kernel', metric: 0 }),
        route({ type: 'blackhole', dst: '10.9.0.0', prefixLen: 16, proto: 'static' }),
        route({ type: 'unreachable', dst: '10.10.0.0', prefixLen: 16 }),
        route({ type: 'prohibit', dst: '10.11.0.0', prefixLen: 16, metric: 5 }),
        route({ type: 'throw', dst: '10.12.0.0', prefixLen: 16, table: '200' }),
        route({ type: 'nat', dst: '10.13.0.1', prefixLen: 32, via: '192.168.0.1', table: 'local' }),
      ]);
    });

    it('IPv6 default with expires, metrics and pref; tos; onlink; mtu lock; old double blanks', () => {
      const text = [
        'default via fe80::1 dev eth0 proto ra metric 1024 expires 1797sec hoplimit 64 pref medium',
        '10.20.0.0/16 tos 0x10 via 10.0.0.1 dev eth0 onlink',
        '10.21.0.0/16 via 10.0.0.1 dev eth0  proto static  metric 10 mtu lock 1400 advmss 1360 rtt 10ms features ecn',
        'unreachable default dev lo table unspec proto kernel metric 4294967295 error -101 pref medium',
      ].join('\n');
      check(text, [
        route({ dst: '::', prefixLen: 0, via: 'fe80::1', dev: 'eth0', proto: 'ra', metric: 1024, family: 'inet6' }),
        route({ dst: '10.20.0.0', prefixLen: 16, tos: '0x10', via: '10.0.0.1', dev: 'eth0', flags: ['onlink'] }),
        route({ dst: '10.21.0.0', prefixLen: 16, via: '10.0.0.1', dev: 'eth0', proto: 'static', metric: 10 }),
        route({ type: 'unreachable', dst: '::', prefixLen: 0, family: 'inet6', dev: 'lo', table: 'unspec', proto: 'kernel', metric: 4294967295 }),
      ]);
    });

    it('multipath next hops on tab-indented lines; flags dead/offload', () => {
      const text = [
        'default proto static metric 100 ',
        '\tnexthop via 10.0.0.1 dev eth0 weight 1 ',
        '\tnexthop via 10.0.1.1 dev eth1 weight 2 dead linkdown ',
        '10.30.0.0/16 via 10.0.0.1 dev eth0 offload',
        'default via inet6 fe80::1 dev eth2',
      ].join('\n');
      const r = parseIpRoute(text);
      assert.deepEqual(brief(r.problems), ['3:info:not-modelled']);
      assert.deepEqual(noSource(r.value), [
        route({ dst: '0.0.0.0', prefixLen: 0, proto: 'static', metric: 100, nexthops: [{ via: '10.0.0.1', dev: 'eth0', weight: 1 }, { via: '10.0.1.1', dev: 'eth1', weight: 2 }] }),
        route({ dst: '10.30.0.0', prefixLen: 16, via: '10.0.0.1', dev: 'eth0', flags: ['offload'] }),
        route({ dst: '::', prefixLen: 0, family: 'inet6', via: 'fe80::1', dev: 'eth2' }),
      ]);
    });

    it('cache entries are skipped with an info; host routes become /32 and /128; 0/LEN', () => {
      const text = [
        '10.0.0.9 via 10.0.0.1 dev eth0 ',
        '    cache expires 297sec mtu 1400 ',
        '2001:db8::9 dev eth0 metric 1024 pref medium',
        '0/8 dev eth9',
      ].join('\n');
      const r = parseIpRoute(text);
      assert.deepEqual(brief(r.problems), ['1:info:route-cache']);
      assert.deepEqual(noSource(r.value), [
        route({ dst: '2001:db8::9', prefixLen: 128, dev: 'eth0', metric: 1024 }),
        route({ dst: '0.0.0.0', prefixLen: 8, dev: 'eth9' }),
      ]);
      assert.equal(r.value[0].source.line, 3);
    });

    it('`ip route show table 100` prints no `table`: the hint names it; `ip -o` multipath', () => {
      const text = 'default proto static metric 100 \\\tnexthop via 10.0.0.1 dev eth0 weight 1 \\\tnexthop via 10.0.1.1 dev eth1 weight 1 \n10.0.0.0/8 dev eth0 scope link\n';
      check(
        text,
        [
          route({ dst: '0.0.0.0', prefixLen: 0, table: '100', proto: 'static', metric: 100, nexthops: [{ via: '10.0.0.1', dev: 'eth0', weight: 1 }, { via: '10.0.1.1', dev: 'eth1', weight: 1 }] }),
          route({ dst: '10.0.0.0', prefixLen: 8, table: '100', dev: 'eth0', scope: 'link' }),
        ],
        [],
        'ip -o route show table 100',
      );
      const all = parseIpRoute('10.0.0.0/8 dev eth0 table 7\n', { hint: 'ip route show table all' });
      assert.equal(all.value[0].table, '7');
      const j = parseIpRouteJson('[{"dst":"10.0.0.0/8","dev":"eth0","flags":[]}]', { hint: 'ip -j route show table local' });
      assert.equal(j.value[0].table, 'local');
    });

    it('a hint naming IPv6 makes a bare `default` an IPv6 route', () => {
      check('default dev tun0 metric 1', [route({ dst: '::', prefixLen: 0, family: 'inet6', dev: 'tun0', metric: 1 })], [], 'ip -6 route');
    });
  });

  describe('bad input: never throws, problems are located', () => {
    it('garbage, truncated lines, bad numbers, host bits, orphan next hop', () => {
      const text = [
        '\tnexthop via 10.0.0.1 dev eth0 weight 1',
        'this is not a route',
        '10.0.0.0/24 dev',
        '10.1.0.0/16 via 10.0.0.1 dev eth0 metric lots',
        '10.2.0.1/16 dev eth0',
        '10.3.0.0/40 dev eth0',
        'xresolve 10.4.0.0/16',
        '10.5.0.0/16 dev eth0 frobnicate',
      ].join('\n');
      const r = parseIpRoute(text);
      assert.deepEqual(brief(r.problems), [
        '1:error:orphan-line',
        '2:error:bad-route',
        '3:error:missing-value',
        '4:error:bad-number',
        '5:warning:host-bits',
        '6:error:bad-route',
        '7:error:unsupported-route-type',
        '8:warning:unknown-token',
      ]);
      assert.deepEqual(
        r.value.map((x) => `${x.dst}/${x.prefixLen} ${x.metric ?? '-'} ${x.flags.join(',')}`),
        ['10.0.0.0/24 - ', '10.1.0.0/16 - ', '10.2.0.0/16 - ', '10.5.0.0/16 - frobnicate'],
      );
      const bad = r.problems.find((p) => p.code === 'bad-number')!;
      assert.deepEqual([bad.col, bad.endCol], [42, 46]);
    });

    it('random input never throws', () => {
      const lines = corpusFile('captures/netns-lab/vm/router/ip-route.txt').split('\n');
      const gen = fc.array(
        fc.oneof(
          fc.constantFrom(...lines),
          fc.tuple(fc.constantFrom(...lines), fc.nat(100)).map(([l, n]) => l.slice(0, n)),
          fc.constantFrom('\tnexthop via 10.0.0.1 dev eth0 weight 1', '    cache ', 'default', 'via', '# x'),
          fc.string({ unit: 'binary', maxLength: 60 }),
        ),
        { maxLength: 30 },
      );
      fc.assert(
        fc.property(gen, (ls) => {
          const r = parseIpRoute(ls.join('\n'));
          for (const p of r.problems) assert.ok(p.line >= 1 && p.col >= 1 && p.endCol > p.col);
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('unit: parseIpRouteJson', () => {
  it('multipath, via object, cache, deleted and bad objects', () => {
    const json = `[
 {"dst":"default","protocol":"static","metric":100,"flags":[],"nexthops":[
   {"gateway":"10.0.0.1","dev":"eth0","weight":1,"flags":[]},{"gateway":"10.0.1.1","dev":"eth1","weight":2,"flags":["linkdown"]}]},
 {"dst":"default","via":{"family":"inet6","host":"fe80::1"},"dev":"eth2","flags":[]},
 {"dst":"10.0.0.9","gateway":"10.0.0.1","dev":"eth0","flags":[],"cache":[]},
 {"type":"xresolve","dst":"10.4.0.0/16","flags":[]},
 {"dst":"nonsense","flags":[]},
 {"dst":"2001:db8::/32","gateway":"2001:db8::zz","flags":[]}
]`;
    const r = parseIpRouteJson(json);
    assert.deepEqual(brief(r.problems), ['2:info:not-modelled', '5:info:route-cache', '6:error:unsupported-route-type', '7:error:bad-route', '8:error:bad-address']);
    assert.deepEqual(noSource(r.value), [
      route({ dst: '0.0.0.0', prefixLen: 0, proto: 'static', metric: 100, nexthops: [{ via: '10.0.0.1', dev: 'eth0', weight: 1 }, { via: '10.0.1.1', dev: 'eth1', weight: 2 }] }),
      route({ dst: '::', prefixLen: 0, family: 'inet6', via: 'fe80::1', dev: 'eth2' }),
      route({ dst: '2001:db8::', prefixLen: 32 }),
    ]);
  });

  it('truncated JSON keeps what was read and says where it broke', () => {
    const r = parseIpRouteJson('[{"dst":"10.0.0.0/24","dev":"eth0","flags":[]},\n{"dst":"10.1');
    assert.deepEqual(r.value.map((x) => x.dst), ['10.0.0.0']);
    assert.ok(r.problems.some((p) => p.code === 'json-syntax' && p.line === 2 && p.severity === 'error'));
  });
});
