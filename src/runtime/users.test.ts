import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isGantryError } from '../core/errors.js';
import { resolveUser } from './users.js';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
# a comment
www:x:33:33:www-data:/var/www:/bin/false

app:x:1000:1001::/home/app:/bin/sh
nohome:x:1002:1002::
`;
const GROUP = `root:x:0:
daemon:x:1:
wheel:x:10:root
www:x:33:
app:x:1001:
staff:x:50:app,www
audio:x:63:app
`;

describe('resolveUser', () => {
  let rootfs = '';
  let bare = '';
  before(() => {
    rootfs = mkdtempSync(path.join(os.tmpdir(), 'gantry-users-'));
    mkdirSync(path.join(rootfs, 'data'));
    // /etc is an absolute symlink: it must be read inside the rootfs, not the host's /etc.
    symlinkSync('/data', path.join(rootfs, 'etc'));
    writeFileSync(path.join(rootfs, 'data/passwd'), PASSWD);
    writeFileSync(path.join(rootfs, 'data/group'), GROUP);
    bare = mkdtempSync(path.join(os.tmpdir(), 'gantry-users-bare-'));
  });
  after(() => {
    rmSync(rootfs, { recursive: true, force: true });
    rmSync(bare, { recursive: true, force: true });
  });

  test('"" is root, with root’s home and supplementary groups', () => {
    assert.deepEqual(resolveUser(rootfs, ''), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  });

  test('a name: uid, gid and home from passwd, groups that list the user', () => {
    assert.deepEqual(resolveUser(rootfs, 'app'), { uid: 1000, gid: 1001, additionalGids: [1001, 50, 63], home: '/home/app' });
    assert.deepEqual(resolveUser(rootfs, 'nohome'), { uid: 1002, gid: 1002, additionalGids: [1002], home: '/' });
  });

  test('a uid: looked up in passwd when listed, used as is when not', () => {
    assert.deepEqual(resolveUser(rootfs, '33'), { uid: 33, gid: 33, additionalGids: [33, 50], home: '/var/www' });
    assert.deepEqual(resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
  });

  test('user:group in every combination; an explicit group drops supplementary groups', () => {
    assert.deepEqual(resolveUser(rootfs, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' });
    assert.deepEqual(resolveUser(rootfs, 'app:7'), { uid: 1000, gid: 7, additionalGids: [7], home: '/home/app' });
    assert.deepEqual(resolveUser(rootfs, '1000:33'), { uid: 1000, gid: 33, additionalGids: [33], home: '/home/app' });
    assert.deepEqual(resolveUser(rootfs, '4242:wheel'), { uid: 4242, gid: 10, additionalGids: [10], home: '/' });
    assert.deepEqual(resolveUser(rootfs, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' });
  });

  test('--group-add: names from /etc/group, numbers as they are, after the user’s groups', () => {
    assert.deepEqual(resolveUser(rootfs, 'app', ['wheel', '777', '63']).additionalGids, [1001, 50, 63, 10, 777]);
    assert.deepEqual(resolveUser(rootfs, '4242', ['audio']).additionalGids, [0, 63]);
    assert.throws(
      () => resolveUser(rootfs, 'app', ['nosuch']),
      (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === 'unable to find group nosuch: no matching entries in group file',
    );
  });

  test('unknown user or group names are INVALID_ARGUMENT, worded like Docker', () => {
    assert.throws(
      () => resolveUser(rootfs, 'ghost'),
      (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === 'unable to find user ghost: no matching entries in passwd file',
    );
    assert.throws(
      () => resolveUser(rootfs, 'app:ghosts'),
      (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === 'unable to find group ghosts: no matching entries in group file',
    );
  });

  test('without /etc/passwd and /etc/group numbers work and names fail', () => {
    assert.deepEqual(resolveUser(bare, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
    assert.deepEqual(resolveUser(bare, '1000:1000', ['5']), { uid: 1000, gid: 1000, additionalGids: [1000, 5], home: '/' });
    assert.throws(() => resolveUser(bare, 'root'), /unable to find user root/);
    assert.throws(() => resolveUser(bare, '0:root'), /unable to find group root/);
  });

  test('ids out of 0..2^31-1 are refused', () => {
    assert.equal(resolveUser(bare, '2147483647').uid, 2147483647);
    for (const spec of ['2147483648', '-1', '0:2147483648', '99999999999999999999']) {
      assert.throws(() => resolveUser(bare, spec), (err) => isGantryError(err, 'INVALID_ARGUMENT') && /range 0-2147483647/.test(err.message), spec);
    }
    assert.throws(() => resolveUser(bare, '0', ['-5']), /range/);
  });
});
