import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Header } from 'tar-stream';
import { isGantryError } from '../core/errors.js';
import { lgetxattr, mount, umount2 } from '../native/native.js';
import { applyLayer, isTarHeader, sniffCompression } from './tar-apply.js';
import { tarOf } from '../../test/support/tarball.js';

type Spec = Partial<Header> & { name: string; data?: string | Buffer };

const T2001 = new Date('2001-02-03T04:05:06Z');
const T2002 = new Date('2002-02-03T04:05:06Z');
const CAP = Buffer.from([1, 0, 0, 2, 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // cap_setuid,cap_net_raw+ep
const CAP_PLACEHOLDER = 'CAPCAPCAPCAPCAPCAP!!';

let base = '';
let counter = 0;
const freshDir = async () => {
  const dir = path.join(base, `layer${++counter}`);
  await mkdir(dir);
  return dir;
};
const unpack = async (entries: Spec[] | Buffer, dir?: string) => {
  const target = dir ?? (await freshDir());
  const tar = Buffer.isBuffer(entries) ? entries : await tarOf(entries);
  return { dir: target, result: await applyLayer(Readable.from([tar]), target) };
};

describe('applyLayer', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  before(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'gantry-tar-apply-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  test('files, dirs, symlinks, hard links, devices; the root entry is ignored', async () => {
    const { dir, result } = await unpack([
      { name: './', type: 'directory', mode: 0o750, uid: 5, gid: 6, mtime: T2001 },
      { name: 'bin/', type: 'directory', mode: 0o755, mtime: T2002 },
      { name: 'bin/tool', mode: 0o4755, uid: 1000, gid: 1001, mtime: T2001, data: 'hello\n' },
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', uid: 7, mtime: T2001 },
      { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'run/fifo', type: 'fifo', mode: 0o640, gid: 9 },
      { name: 'deep/a/b/file', mode: 0o600, data: Buffer.alloc(70_000, 1) },
    ]);
    assert.equal(result.entries, 8);
    // The archive's root entry is ignored (as Docker does): the layer directory keeps its own.
    const root = await lstat(dir);
    assert.notDeepEqual([root.mode & 0o7777, root.uid, root.gid], [0o750, 5, 6]);
    const tool = await lstat(path.join(dir, 'bin/tool'));
    assert.deepEqual([tool.mode & 0o7777, tool.uid, tool.gid, tool.mtimeMs], [0o4755, 1000, 1001, T2001.getTime()]);
    assert.equal(await readFile(path.join(dir, 'bin/tool'), 'utf8'), 'hello\n');
    assert.equal((await lstat(path.join(dir, 'bin'))).mtimeMs, T2002.getTime(), 'dir mtime set after its children');
    assert.equal(await readlink(path.join(dir, 'bin/sh')), '/bin/busybox');
    const sh = await lstat(path.join(dir, 'bin/sh'));
    assert.deepEqual([sh.uid, sh.mtimeMs], [7, T2001.getTime()]);
    assert.equal((await lstat(path.join(dir, 'bin/tool2'))).ino, tool.ino);
    const nul = await lstat(path.join(dir, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.deepEqual([nul.rdev, nul.mode & 0o7777], [(1 << 8) | 3, 0o666]);
    const fifo = await lstat(path.join(dir, 'run/fifo'));
    assert.deepEqual([fifo.isFIFO(), fifo.mode & 0o7777, fifo.gid], [true, 0o640, 9]);
    assert.equal((await lstat(path.join(dir, 'deep/a'))).mode & 0o7777, 0o755, 'implicit parents are 0755');
    assert.equal((await readFile(path.join(dir, 'deep/a/b/file'))).length, 70_000);
  });

  test('size counts non-directories, each hard-linked inode once', async () => {
    const { result } = await unpack([
      { name: 'a', data: Buffer.alloc(100) },
      { name: 'b', type: 'link', linkname: 'a' },
      { name: 's', type: 'symlink', linkname: 'target12' },
      { name: 'd/', type: 'directory' },
      { name: 'd/c', data: Buffer.alloc(50) },
      { name: '.wh.gone', data: '' },
      { name: 'replaced', data: Buffer.alloc(1000) },
      { name: 'replaced', data: Buffer.alloc(10) },
    ]);
    assert.deepEqual(result, { size: 100 + 8 + 50 + 10, entries: 8 });
  });

  test('binary pax xattrs are kept byte-exact', async () => {
    let tar = await tarOf([
      { name: 'ping', mode: 0o755, data: 'x', pax: { 'SCHILY.xattr.security.capability': CAP_PLACEHOLDER, 'SCHILY.xattr.user.note': 'hi' } },
    ]);
    const at = tar.indexOf(CAP_PLACEHOLDER);
    tar = Buffer.concat([tar.subarray(0, at), CAP, tar.subarray(at + CAP.length)]);
    const { dir } = await unpack(tar);
    assert.deepEqual(lgetxattr(path.join(dir, 'ping'), 'security.capability'), CAP);
    assert.deepEqual(lgetxattr(path.join(dir, 'ping'), 'user.note'), Buffer.from('hi'));
  });

  test('whiteouts become overlayfs whiteouts and opaque directories', async () => {
    const { dir } = await unpack([
      { name: 'etc/.wh.foo', data: '' },
      { name: 'opq/.wh..wh..opq', data: '' },
      { name: 'opq/', type: 'directory', mode: 0o711 },
      { name: 'opq/new', data: 'n' },
      { name: '.wh.again', data: '' },
      { name: 'again/', type: 'directory' },
    ]);
    const wh = await lstat(path.join(dir, 'etc/foo'));
    assert.deepEqual([wh.isCharacterDevice(), wh.rdev], [true, 0]);
    assert.deepEqual(await readdir(path.join(dir, 'etc')), ['foo']);
    assert.deepEqual(lgetxattr(path.join(dir, 'opq'), 'trusted.overlay.opaque'), Buffer.from('y'));
    assert.equal((await lstat(path.join(dir, 'opq'))).mode & 0o7777, 0o711);
    assert.deepEqual(await readdir(path.join(dir, 'opq')), ['new']);
    assert.deepEqual(lgetxattr(path.join(dir, 'again'), 'trusted.overlay.opaque'), Buffer.from('y'), 'dir recreated after whiteout');
  });

  test('later entries replace earlier ones without following symlinks', async () => {
    const outside = path.join(base, 'replace-outside');
    await writeFile(outside, 'keep');
    const { dir } = await unpack([
      { name: 'r', data: 'file' },
      { name: 'r/', type: 'directory' },
      { name: 'q/sub/x', data: 'x' },
      { name: 'q', data: 'now a file' },
      { name: 's', type: 'symlink', linkname: outside },
      { name: 's', data: 'replaced' },
    ]);
    assert.ok((await lstat(path.join(dir, 'r'))).isDirectory());
    assert.equal(await readFile(path.join(dir, 'q'), 'utf8'), 'now a file');
    assert.ok((await lstat(path.join(dir, 's'))).isFile());
    assert.equal(await readFile(outside, 'utf8'), 'keep');
  });

  describe('hostile archives', () => {
    const hostile: [string, Spec[], RegExp][] = [
      ['../evil', [{ name: '../evil', data: 'x' }], /entry "\.\.\/evil" escapes the layer directory/],
      ['/etc/evil', [{ name: '/etc/evil', data: 'x' }], /entry "\/etc\/evil" escapes the layer directory/],
      ['a/../../evil', [{ name: 'a/../../evil', data: 'x' }], /entry "a\/\.\.\/\.\.\/evil" escapes the layer directory/],
      ['file through symlink to outside', [{ name: 'link', type: 'symlink', linkname: '@OUTSIDE' }, { name: 'link/evil', data: 'x' }], /entry "link\/evil" goes through symlink "link"/],
      ['file through symlink to ..', [{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/evil', data: 'x' }], /entry "up\/evil" goes through symlink "up"/],
      ['dir replaced by symlink', [{ name: 'd/', type: 'directory' }, { name: 'd', type: 'symlink', linkname: '@OUTSIDE' }, { name: 'd/evil', data: 'x' }], /goes through symlink "d"/],
      ['opaque marker through symlink', [{ name: 'o', type: 'symlink', linkname: '@OUTSIDE' }, { name: 'o/.wh..wh..opq' }], /goes through symlink "o"/],
      ['whiteout of ..', [{ name: 'a/.wh...', data: '' }], /invalid whiteout entry "a\/\.wh\.\.\."/],
      ['hard link to /etc/passwd', [{ name: 'x', type: 'link', linkname: '/etc/passwd' }], /hard link "x" points outside the layer directory \("\/etc\/passwd"\)/],
      ['hard link to ../x', [{ name: 'x', type: 'link', linkname: '../x' }], /hard link "x" points outside the layer directory/],
      ['hard link through symlink', [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'x', type: 'link', linkname: 'l/passwd' }], /hard link "x" points to "l\/passwd" goes through symlink "l"/],
      ['hard link to a missing file', [{ name: 'x', type: 'link', linkname: 'nothere' }], /hard link "x" points to "nothere", which does not exist in the layer/],
    ];
    for (const [title, specs, message] of hostile) {
      test(`refuses ${title}`, async () => {
        const outside = path.join(base, 'outside');
        await mkdir(outside, { recursive: true });
        await writeFile(path.join(outside, 'sentinel'), 'untouched');
        const before = readdirSync(base).sort();
        const dir = await freshDir();
        const entries = specs.map((s) => (s.linkname === '@OUTSIDE' ? { ...s, linkname: outside } : s));
        await assert.rejects(unpack(entries, dir), (err) => {
          assert.ok(isGantryError(err, 'INVALID_ARGUMENT'), String(err));
          assert.match(err.message, /^refusing to unpack layer: /);
          assert.match(err.message, message);
          return true;
        });
        assert.deepEqual(readdirSync(base).sort(), [...before, path.basename(dir)].sort());
        assert.deepEqual(await readdir(outside), ['sentinel']);
        assert.equal(await readFile(path.join(outside, 'sentinel'), 'utf8'), 'untouched');
        await assert.rejects(stat('/etc/evil'), { code: 'ENOENT' });
      });
    }
  });

  test('a truncated or corrupt archive is invalid and leaks no file descriptor', async () => {
    const tar = await tarOf([{ name: 'big', data: Buffer.alloc(100_000, 7) }, { name: 'small', data: 'x' }]);
    const fds = readdirSync('/proc/self/fd').length;
    for (const broken of [tar.subarray(0, 50_000), tar.subarray(0, 700), Buffer.alloc(1024, 0x41)]) {
      await assert.rejects(unpack(broken), (err) => {
        assert.ok(isGantryError(err, 'INVALID_ARGUMENT'), String(err));
        assert.match(err.message, /^invalid layer archive: /);
        assert.ok(err.cause instanceof Error);
        return true;
      });
    }
    assert.equal(readdirSync('/proc/self/fd').length, fds);
  });

  test('abort rejects with CANCELED and destroys the source', async () => {
    const tar = await tarOf([{ name: 'big', data: Buffer.alloc(100_000, 7) }]);
    const source = new PassThrough();
    source.write(tar.subarray(0, 30_000));
    const controller = new AbortController();
    const pending = applyLayer(source, await freshDir(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, (err) => isGantryError(err, 'CANCELED'));
    assert.ok(source.destroyed);
  });

  test('overlayfs honours the converted whiteouts', async () => {
    const lower = await freshDir();
    await mkdir(path.join(lower, 'a'));
    await mkdir(path.join(lower, 'opq'));
    await writeFile(path.join(lower, 'a/keep'), 'k');
    await writeFile(path.join(lower, 'gone'), 'g');
    await writeFile(path.join(lower, 'opq/old'), 'o');
    const { dir: layer } = await unpack([
      { name: '.wh.gone', data: '' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/.wh..wh..opq', data: '' },
      { name: 'opq/new', data: 'n' },
      { name: 'a/added', data: 'a' },
    ]);
    const merged = await freshDir();
    mount('overlay', merged, 'overlay', 0, `lowerdir=${layer}:${lower}`);
    try {
      assert.deepEqual((await readdir(merged)).sort(), ['a', 'opq']);
      assert.deepEqual(await readdir(path.join(merged, 'opq')), ['new']);
      assert.deepEqual((await readdir(path.join(merged, 'a'))).sort(), ['added', 'keep']);
    } finally {
      umount2(merged);
    }
  });
});

test('isTarHeader and sniffCompression', async () => {
  const tar = await tarOf([{ name: 'f', data: 'x' }]);
  assert.ok(isTarHeader(tar.subarray(0, 512)));
  const v7 = Buffer.from(tar.subarray(0, 512));
  v7.fill(0, 257, 265); // drop the ustar magic and version: a v7 header with a valid checksum
  const sum = v7.reduce((acc, b, i) => acc + (i >= 148 && i < 156 ? 0x20 : b), 0);
  v7.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  assert.ok(isTarHeader(v7));
  v7[0] = (v7[0] as number) + 1;
  assert.ok(!isTarHeader(v7));
  assert.ok(!isTarHeader(Buffer.alloc(512)));
  assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 0x08, 0])), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniffCompression(Buffer.from([0x5e, 0x2a, 0x4d, 0x18])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('BZh9')), 'bzip2');
  assert.equal(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.equal(sniffCompression(tar), 'none');
  assert.equal(sniffCompression(new Uint8Array(0)), 'none');
});
