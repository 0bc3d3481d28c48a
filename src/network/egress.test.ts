import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEgressAllow, parseEgressAllow, parseEgressPolicy } from './egress.js';

describe('egress policies', () => {
  it('parses CIDR[:port[/proto]] entries', () => {
    assert.deepEqual(parseEgressAllow('192.0.2.7'), { cidr: '192.0.2.7/32' });
    assert.deepEqual(parseEgressAllow('10.1.2.3/8'), { cidr: '10.0.0.0/8' });
    assert.deepEqual(parseEgressAllow('192.0.2.0/24:443'), { cidr: '192.0.2.0/24', port: '443' });
    assert.deepEqual(parseEgressAllow('192.0.2.0/24:53/udp'), { cidr: '192.0.2.0/24', port: '53', proto: 'udp' });
    assert.deepEqual(parseEgressAllow('192.0.2.1:8000-8080/tcp'), { cidr: '192.0.2.1/32', port: '8000-8080', proto: 'tcp' });
    for (const bad of ['', 'example.com', '192.0.2.1:0', '192.0.2.1:70000', '192.0.2.1:90-80', '192.0.2.1/udp', '1.2.3.4/40']) {
      assert.throws(() => parseEgressAllow(bad), /invalid --egress-allow/, bad);
    }
    assert.equal(formatEgressAllow(parseEgressAllow('192.0.2.0/24:53/udp')), '192.0.2.0/24:53/udp');
  });

  it('a policy: allow by default, deny with entries', () => {
    assert.equal(parseEgressPolicy(undefined, []), undefined);
    assert.equal(parseEgressPolicy('allow', []), undefined);
    assert.deepEqual(parseEgressPolicy('deny', []), { mode: 'deny', allow: [] });
    assert.deepEqual(parseEgressPolicy(undefined, ['10.0.0.0/8']), { mode: 'deny', allow: [{ cidr: '10.0.0.0/8' }] });
    assert.throws(() => parseEgressPolicy('allow', ['10.0.0.0/8']), /needs --egress deny/);
    assert.throws(() => parseEgressPolicy('maybe', []), /want allow or deny/);
  });
});
