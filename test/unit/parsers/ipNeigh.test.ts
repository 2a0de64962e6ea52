/** Unit tests (pure core): `ip neigh` text and `ip -j neigh` JSON. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { corpusFile, corpusFiles } from '../helpers';
import { parseIpNeigh, parseIpNeighJson } from '../../../src/core/parsers/parseIpNeigh';
import type { Neighbour } from '../../../src/core/model/link';
import type { Problem } from '../../../src/core/problem';

function captureDirs(): string[] {
  return corpusFiles('captures')
    .filter((f) => path.basename(f) === 'ip-neigh.json')
    .map((f) => path.dirname(f));
}

const brief = (ps: Problem[]): string[] => ps.map((p) => `${p.line}:${p.severity}:${p.code}`);
const noSource = (rs: Neighbour[]): Omit<Neighbour, 'source'>[] => rs.map(({ source: _s, ...r }) => r);

/** A neighbour with the defaults (not a router). */
function nb(n: Partial<Neighbour> & Pick<Neighbour, 'dst' | 'state'>): Omit<Neighbour, 'source'> {
  return { router: false, ...n };
}

/** Parses text and compares every entry (without sources) and all problems. */
function check(text: string, expected: Omit<Neighbour, 'source'>[], problems: string[] = []): void {
  const r = parseIpNeigh(text);
  assert.deepEqual(brief(r.problems), problems);
  assert.deepEqual(noSource(r.value), expected);
}

describe('unit: parseIpNeigh (text)', () => {
  it('the lab captures are all there', () => assert.equal(captureDirs().length, 13));
  for (const d of captureDirs()) {
    it(`${d}: clean, and the same entries as the JSON taken with it`, () => {
      const t = parseIpNeigh(corpusFile(`${d}/ip-neigh.txt`));
      const j = parseIpNeighJson(corpusFile(`${d}/ip-neigh.json`));
      assert.deepEqual(brief(t.problems), []);
      assert.deepEqual(brief(j.problems), []);
      assert.deepEqual(noSource(t.value), noSource(j.value));
    });
  }

  it('netns-lab router: learned and PERMANENT neighbours (the VXLAN peer)', () => {
    const r = parseIpNeigh(corpusFile('captures/netns-lab/vm/router/ip-neigh.txt'), { file: 'ip-neigh.txt', lineOffset: 2 });
    assert.deepEqual(noSource(r.value), [
      nb({ dst: '192.0.2.10', dev: 'br0', lladdr: '9e:6f:da:ff:43:e2', state: ['REACHABLE'] }),
      nb({ dst: '192.0.2.99', dev: 'br0', lladdr: '02:00:00:00:00:99', state: ['PERMANENT'] }),
      nb({ dst: '203.0.113.2', dev: 'wan0', lladdr: 'ca:c3:e6:47:71:1e', state: ['REACHABLE'] }),
      nb({ dst: '198.51.100.2', dev: 'vxlan0', lladdr: '02:00:00:00:42:02', state: ['PERMANENT'] }),
    ]);
    assert.deepEqual(r.value[3].source, { file: 'ip-neigh.txt', line: 6 });
  });

  it('an empty listing (no neighbours) is empty and clean', () => {
    assert.deepEqual(parseIpNeigh(corpusFile('captures/docker20-swarm-lab/swarmlab/ingress_sbox/ip-neigh.txt')), { value: [], problems: [] });
  });

  it('router, FAILED, INCOMPLETE, several states, proxy, ip -s counters, IPv6', () => {
    const text = [
      '10.0.0.3 dev vxlan0 lladdr 02:42:0a:00:00:03 PERMANENT',
      'fe80::1 dev eth0 lladdr 52:54:00:12:34:56 router STALE',
      '10.0.0.9 dev eth0 FAILED',
      '10.0.0.10 dev eth0  INCOMPLETE',
      '10.0.0.11 dev eth0 lladdr AA:BB:CC:DD:EE:FF ref 1 used 10/10/7 probes 1 DELAY',
      '10.0.0.12 dev eth0 lladdr aa:bb:cc:dd:ee:01 extern_learn NOARP',
      '10.0.0.1 dev eth0 proxy',
      '2001:db8::1 dev eth1 lladdr 52:54:00:12:34:57 router REACHABLE proto zebra',
    ].join('\n');
    check(text, [
      nb({ dst: '10.0.0.3', dev: 'vxlan0', lladdr: '02:42:0a:00:00:03', state: ['PERMANENT'] }),
      nb({ dst: 'fe80::1', dev: 'eth0', lladdr: '52:54:00:12:34:56', router: true, state: ['STALE'] }),
      nb({ dst: '10.0.0.9', dev: 'eth0', state: ['FAILED'] }),
      nb({ dst: '10.0.0.10', dev: 'eth0', state: ['INCOMPLETE'] }),
      nb({ dst: '10.0.0.11', dev: 'eth0', lladdr: 'aa:bb:cc:dd:ee:ff', state: ['DELAY'] }),
      nb({ dst: '10.0.0.12', dev: 'eth0', lladdr: 'aa:bb:cc:dd:ee:01', state: ['extern_learn', 'NOARP'] }),
      nb({ dst: '10.0.0.1', dev: 'eth0', state: ['proxy'] }),
      nb({ dst: '2001:db8::1', dev: 'eth1', lladdr: '52:54:00:12:34:57', router: true, state: ['REACHABLE'] }),
    ]);
  });

  it('bad input: garbage, truncated, bad address, unknown words; never throws', () => {
    const text = ['# arp table', 'garbage here', '10.0.0.5 dev', '10.0.0.300 dev eth0 FAILED', '10.0.0.6 dev eth0 lladdr zz:zz WEIRD'].join('\n');
    const r = parseIpNeigh(text);
    assert.deepEqual(brief(r.problems), ['1:warning:annotation', '2:error:bad-neigh', '3:error:missing-value', '4:error:bad-neigh', '5:warning:bad-lladdr', '5:warning:unknown-token']);
    assert.deepEqual(noSource(r.value), [nb({ dst: '10.0.0.5', state: [] }), nb({ dst: '10.0.0.6', dev: 'eth0', lladdr: 'zz:zz', state: ['WEIRD'] })]);
    const u = r.problems.find((p) => p.code === 'unknown-token')!;
    assert.deepEqual([u.col, u.endCol], [32, 37]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        parseIpNeigh(s);
        parseIpNeighJson(s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('unit: parseIpNeighJson', () => {
  it('router/proxy flags as null keys, states as an array; bad objects are located', () => {
    const json = `[
{"dst":"fe80::1","dev":"eth0","lladdr":"52:54:00:12:34:56","router":null,"state":["STALE"]},
{"dst":"10.0.0.1","dev":"eth0","proxy":null},
{"dst":"10.0.0.9","dev":"eth0","state":["FAILED"]},
{"dev":"eth0"},
"x"
]`;
    const r = parseIpNeighJson(json);
    assert.deepEqual(brief(r.problems), ['5:error:bad-neigh', '1:error:json-shape']);
    assert.deepEqual(noSource(r.value), [
      nb({ dst: 'fe80::1', dev: 'eth0', lladdr: '52:54:00:12:34:56', router: true, state: ['STALE'] }),
      nb({ dst: '10.0.0.1', dev: 'eth0', state: ['proxy'] }),
      nb({ dst: '10.0.0.9', dev: 'eth0', state: ['FAILED'] }),
    ]);
  });
});
