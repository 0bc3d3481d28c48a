import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostDevices } from './host-devices.js';

describe('hostDevices', () => {
  test('finds /dev/null as c 1:3 and skips consoles, pts and symlinks', async () => {
    const devices = await hostDevices();
    const nul = devices.find((d) => d.path === '/dev/null');
    assert.deepEqual(nul && { type: nul.type, major: nul.major, minor: nul.minor }, { type: 'c', major: 1, minor: 3 });
    assert.equal(nul?.fileMode, 0o666);
    assert.ok(!devices.some((d) => d.path === '/dev/console' || d.path.startsWith('/dev/pts/')));
    assert.ok(!devices.some((d) => d.path === '/dev/stdin' || d.path === '/dev/fd'), 'symlinks are not devices');
  });
});
