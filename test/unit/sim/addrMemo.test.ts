/**
 * unit: the memoised formatting on the simulator's hot path (issue 6): ip4str against its plain
 * formatting (cold and warm, integers and values that are not unsigned 32-bit integers), and hex's
 * shortcut for 0 against the general formatting.
 */
import * as assert from 'node:assert/strict';
import { ip4, ip4str, ip4strUncached } from '../../../src/core/sim/addr';
import { hex } from '../../../src/core/sim/netfilter';

describe('simulator formatting memos', () => {
  it('ip4str equals the plain formatting, on first and later calls', () => {
    const xs = [0, 1, 0x7f000001, 0xc0a80001, 0xffffffff, 0x0a000002, 0x80000000, 123456789];
    for (let round = 0; round < 3; round++) for (const n of xs) assert.equal(ip4str(n), ip4strUncached(n));
    assert.equal(ip4str(0xc0a80001), '192.168.0.1');
    assert.equal(ip4str(0x0a000002), '10.0.0.2');
    // Distinct numbers, distinct strings (the memo is keyed on the number).
    assert.notEqual(ip4str(0x0a000002), ip4str(0x0a000003));
    for (const s of ['10.0.0.1', '172.18.0.2', '255.255.255.255']) assert.equal(ip4str(ip4(s) as number), s);
  });

  it('ip4str formats values that are not unsigned 32-bit integers as before', () => {
    for (const n of [-1, 2 ** 32, 1.5, NaN, -0x7f000001]) assert.equal(ip4str(n), ip4strUncached(n));
  });

  it('hex: 0 and other marks', () => {
    assert.equal(hex(0), '0x0');
    assert.equal(hex(-0), '0x0');
    assert.equal(hex(0x100), '0x100');
    assert.equal(hex(0xffffffff), '0xffffffff');
    assert.equal(hex(-1), '0xffffffff');
  });
});
