/** unit: the Trace Packet wizard's checks, run as the user types. */
import * as assert from 'node:assert/strict';
import { checkAddress, checkName, checkPort, parseIpv4 } from '../../../src/commands/queryValidation';

describe('unit: ext wizard validation', () => {
  const check = (f: (t: string) => string | undefined, input: string, expected: string | undefined): void => assert.equal(f(input), expected, input);

  it('checks addresses', () => {
    check(checkAddress, '192.168.200.10', undefined);
    check(checkAddress, ' 10.0.0.5 ', undefined);
    check(checkAddress, '', 'enter an IPv4 address, e.g. 192.168.200.10');
    check(checkAddress, '10.0.0.256', '256 is over 255: each part of an IPv4 address is 0-255');
    check(checkAddress, '10.0.0', '"10.0.0" is not an IPv4 address: expected four numbers 0-255 separated by dots');
    check(checkAddress, '10.0.0.5:80', 'meshtrace traces IPv4 packets: enter a dotted address like 10.0.0.5 (no port here)');
    check(checkAddress, '10.0.0.0/24', 'enter one address, not a prefix');
    assert.deepEqual(parseIpv4('1.2.3.4'), [1, 2, 3, 4]);
    assert.equal(parseIpv4('1.2.3.400'), undefined);
  });

  it('checks ports', () => {
    const port = (t: string): string | undefined => checkPort(t, false);
    const sport = (t: string): string | undefined => checkPort(t, true);
    check(port, '8080', undefined);
    check(port, '', 'enter a port, 1-65535');
    check(sport, '', undefined);
    check(port, '99999', '99999 is out of range: ports are 1-65535');
    check(port, '0', '0 is out of range: ports are 1-65535');
    check(port, '80a', '"80a" is not a port: expected a number 1-65535');
  });

  it('checks node and namespace names', () => {
    const node = (t: string): string | undefined => checkName(t, 'node');
    check(node, 'swarm-manager', undefined);
    check(node, '', 'enter a node name');
    check(node, 'a/b', 'a node name cannot hold a slash');
  });
});
