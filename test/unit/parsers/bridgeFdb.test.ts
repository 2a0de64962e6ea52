/** Unit tests (pure core): `bridge fdb show` text and `bridge -j fdb show` JSON. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { corpusFile, corpusFiles } from '../helpers';
import { parseBridgeFdb, parseBridgeFdbJson } from '../../../src/core/parsers/parseBridgeFdb';
import type { FdbEntry } from '../../../src/core/model/link';
import type { Problem } from '../../../src/core/problem';

function captureDirs(): string[] {
  return corpusFiles('captures')
    .filter((f) => path.basename(f) === 'bridge-fdb.json')
    .map((f) => path.dirname(f));
}

const notInfo = (ps: Problem[]): Problem[] => ps.filter((p) => p.severity !== 'info');
const brief = (ps: Problem[]): string[] => ps.map((p) => `${p.line}:${p.severity}:${p.code}`);
const noSource = (rs: FdbEntry[]): Omit<FdbEntry, 'source'>[] => rs.map(({ source: _s, ...r }) => r);

/** An entry with the defaults (`self` false, no flags). */
function fdb(e: Partial<FdbEntry> & Pick<FdbEntry, 'mac' | 'dev'>): Omit<FdbEntry, 'source'> {
  return { self: false, flags: [], ...e };
}

/** Parses text and compares every entry (without sources) and all problems. */
function check(text: string, expected: Omit<FdbEntry, 'source'>[], problems: string[] = []): void {
  const r = parseBridgeFdb(text);
  assert.deepEqual(brief(r.problems), problems);
  assert.deepEqual(noSource(r.value), expected);
}

describe('unit: parseBridgeFdb (text)', () => {
  it('the lab captures are all there', () => assert.equal(captureDirs().length, 13));
  for (const d of captureDirs()) {
    it(`${d}: clean, and the same entries as the JSON taken with it`, () => {
      const t = parseBridgeFdb(corpusFile(`${d}/bridge-fdb.txt`));
      const j = parseBridgeFdbJson(corpusFile(`${d}/bridge-fdb.json`));
      assert.deepEqual(brief(notInfo(t.problems)), []);
      assert.deepEqual(brief(notInfo(j.problems)), []);
      assert.ok(t.value.length >= 2);
      assert.deepEqual(noSource(t.value), noSource(j.value));
    });
  }

  it('netns-lab router: static VXLAN entries (incl. the all-zero default), learned and local bridge entries', () => {
    const r = parseBridgeFdb(corpusFile('captures/netns-lab/vm/router/bridge-fdb.txt'), { file: 'bridge-fdb.txt' });
    const v = noSource(r.value);
    assert.equal(v.length, 20);
    assert.deepEqual(v[0], fdb({ mac: '33:33:00:00:00:01', dev: 'br0', self: true, state: 'permanent' }));
    assert.deepEqual(v[5], fdb({ mac: '9e:6f:da:ff:43:e2', dev: 'leg1', master: 'br0' }));
    assert.deepEqual(v[6], fdb({ mac: 'de:f0:c2:6d:8b:aa', dev: 'leg1', master: 'br0', state: 'permanent' }));
    assert.deepEqual(v.slice(18), [
      fdb({ mac: '02:00:00:00:42:02', dev: 'vxlan0', dst: '203.0.113.2', self: true, state: 'permanent' }),
      fdb({ mac: '00:00:00:00:00:00', dev: 'vxlan0', dst: '203.0.113.2', self: true, state: 'permanent' }),
    ]);
    assert.deepEqual(r.value[19].source, { file: 'bridge-fdb.txt', line: 20 });
  });

  it('docker20 overlay netns: the vxlan0 port of br0', () => {
    const r = parseBridgeFdb(corpusFile('captures/docker20-swarm-lab/swarmlab/1-b1n3tv7414/bridge-fdb.txt'));
    assert.deepEqual(noSource(r.value.filter((e) => e.dev === 'vxlan0')), [fdb({ mac: '5e:b7:b5:dc:24:7c', dev: 'vxlan0', master: 'br0', state: 'permanent' })]);
  });

  it('vlan, vni, port, flags, states, the `master` flag and `master BRIDGE`', () => {
    const text = [
      '02:42:0a:00:00:03 dev vxlan0 dst 10.0.0.3 vni 4096 port 4789 self extern_learn offload permanent',
      '02:42:0a:00:00:04 dev eth1 vlan 1 master br0 sticky',
      '02:42:0a:00:00:05 dev eth1 vlan 10 master master br0 static',
      'AA:BB:CC:DD:EE:FF dev eth2 self master stale',
      '02:42:0a:00:00:06 dev eth3 used 3/5 master br0 state=0x40',
      '00:00:00:00:00:00 dev vxlan1 dst 2001:db8::2 via eth0 self permanent',
    ].join('\n');
    check(
      text,
      [
        fdb({ mac: '02:42:0a:00:00:03', dev: 'vxlan0', dst: '10.0.0.3', vni: 4096, port: 4789, self: true, flags: ['extern_learn', 'offload'], state: 'permanent' }),
        fdb({ mac: '02:42:0a:00:00:04', dev: 'eth1', vlan: 1, master: 'br0', flags: ['sticky'] }),
        fdb({ mac: '02:42:0a:00:00:05', dev: 'eth1', vlan: 10, master: 'br0', flags: ['master'], state: 'static' }),
        fdb({ mac: 'aa:bb:cc:dd:ee:ff', dev: 'eth2', self: true, flags: ['master'], state: 'stale' }),
        fdb({ mac: '02:42:0a:00:00:06', dev: 'eth3', master: 'br0', state: '0x40' }),
        fdb({ mac: '00:00:00:00:00:00', dev: 'vxlan1', dst: '2001:db8::2', self: true, state: 'permanent' }),
      ],
      ['6:info:not-modelled'],
    );
  });

  it('`bridge fdb show dev X` prints no `dev`: the command in the hint names it', () => {
    const r = parseBridgeFdb('02:42:0a:00:00:03 dst 10.0.0.3 self permanent\n', { hint: 'bridge fdb show dev vxlan0' });
    assert.deepEqual(noSource(r.value), [fdb({ mac: '02:42:0a:00:00:03', dev: 'vxlan0', dst: '10.0.0.3', self: true, state: 'permanent' })]);
    assert.deepEqual(brief(r.problems), ['1:warning:no-dev']);
    assert.equal(parseBridgeFdb('02:42:0a:00:00:03 self\n', { hint: 'bridge-fdb.txt' }).value[0].dev, '');
  });

  it('bad input: garbage, truncated, bad numbers, no dev, annotations; never throws', () => {
    const text = ['[...snip...]', 'not a mac dev eth0', '02:42:0a:00:00:07 dev', '02:42:0a:00:00:08 dev eth0 vlan 5000', '02:42:0a:00:00:09 self permanent', '02:42:0a:00:00:0a dev eth0 dst 10.0.0.300 frob'].join('\n');
    const r = parseBridgeFdb(text);
    assert.deepEqual(brief(r.problems), [
      '1:warning:annotation',
      '2:error:bad-fdb',
      '3:error:missing-value',
      '3:warning:no-dev',
      '4:error:bad-number',
      '5:warning:no-dev',
      '6:error:bad-address',
      '6:warning:unknown-token',
    ]);
    assert.deepEqual(r.value.map((e) => e.mac), ['02:42:0a:00:00:07', '02:42:0a:00:00:08', '02:42:0a:00:00:09', '02:42:0a:00:00:0a']);
    const bn = r.problems.find((p) => p.code === 'bad-number')!;
    assert.deepEqual([bn.col, bn.endCol], [33, 37]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        parseBridgeFdb(s);
        parseBridgeFdbJson(s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('unit: parseBridgeFdbJson', () => {
  it('reads the same fields as the text; bad objects are located', () => {
    const json = `[
{"mac":"02:42:0a:00:00:03","ifname":"vxlan0","dst":"10.0.0.3","vni":4096,"port":4789,"flags":["self","extern_learn"],"state":"permanent"},
{"mac":"02:42:0a:00:00:04","ifname":"eth1","vlan":1,"flags":["sticky"],"master":"br0","state":""},
{"mac":"zz","ifname":"eth1"},
{"mac":"02:42:0a:00:00:06","ifname":"eth3","flags":[],"master":"br0","state":"0x40"}
]`;
    const r = parseBridgeFdbJson(json);
    assert.deepEqual(brief(r.problems), ['4:error:bad-fdb']);
    assert.deepEqual(noSource(r.value), [
      fdb({ mac: '02:42:0a:00:00:03', dev: 'vxlan0', dst: '10.0.0.3', vni: 4096, port: 4789, self: true, flags: ['extern_learn'], state: 'permanent' }),
      fdb({ mac: '02:42:0a:00:00:04', dev: 'eth1', vlan: 1, master: 'br0', flags: ['sticky'] }),
      fdb({ mac: '02:42:0a:00:00:06', dev: 'eth3', master: 'br0', state: '0x40' }),
    ]);
  });
});
