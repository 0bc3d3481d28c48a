import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markTopdir } from './native.js';

describe('markTopdir', () => {
  it('sets the top-directory flag that lsattr shows as T, and refuses what is not a directory', async () => {
    const dir = await mkdtemp('/var/tmp/gantry-topdir-');
    try {
      const set = markTopdir(dir);
      const lsattr = spawnSync('lsattr', ['-d', dir], { encoding: 'utf8' });
      // On a file system without inode flags (tmpfs, overlay) the call reports false instead.
      if (set) assert.match(lsattr.stdout.split(' ')[0] ?? '', /T/);
      else assert.notEqual(lsattr.status, 0);
      assert.equal(markTopdir(dir), set, 'setting it again is harmless');
      await writeFile(join(dir, 'f'), '');
      assert.throws(() => markTopdir(join(dir, 'f')), { code: 'ENOTDIR' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
