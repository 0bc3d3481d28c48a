import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contains, formatCidr, lastAddress, overlaps, parseCidr, parseIPv4, pickSubnet, requireSubnet } from './cidr.js';

describe('cidr', () => {
  it('parses and formats addresses and blocks', () => {
    assert.equal(parseIPv4('10.88.0.1'), 0x0a580001);
    assert.equal(parseIPv4('256.1.1.1'), undefined);
    assert.equal(parseIPv4('10.1.1'), undefined);
    assert.equal(formatCidr(parseCidr('10.1.2.3/16') as never), '10.1.0.0/16');
    assert.equal(parseCidr('10.1.2.3/16', true), undefined);
    assert.equal(parseCidr('10.1.0.0/33'), undefined);
    assert.equal(lastAddress(parseCidr('10.1.0.0/24') as never), parseIPv4('10.1.0.255'));
  });

  it('containment and overlap', () => {
    const a = parseCidr('10.88.0.0/16') as never;
    assert.ok(contains(a, parseIPv4('10.88.200.1') as number));
    assert.ok(!contains(a, parseIPv4('10.89.0.1') as number));
    assert.ok(overlaps(a, parseCidr('10.88.5.0/24') as never));
    assert.ok(overlaps(parseCidr('10.0.0.0/8') as never, a));
    assert.ok(!overlaps(a, parseCidr('10.89.0.0/16') as never));
  });

  it('requireSubnet words errors as Docker does', () => {
    assert.throws(() => requireSubnet('10.1.2.3/16'), /invalid subnet 10\.1\.2\.3\/16 : it should be 10\.1\.0\.0\/16/);
    assert.throws(() => requireSubnet('nope'), /invalid CIDR address: nope/);
    assert.throws(() => requireSubnet('10.0.0.0/31'), /too small/);
  });

  it('pickSubnet skips what is taken', () => {
    assert.equal(formatCidr(pickSubnet([])), '10.88.0.0/16');
    assert.equal(formatCidr(pickSubnet([parseCidr('10.88.3.0/24') as never, parseCidr('10.89.0.0/16') as never])), '10.90.0.0/16');
    assert.equal(formatCidr(pickSubnet([parseCidr('10.0.0.0/8') as never])), '192.168.0.0/24');
  });
});
