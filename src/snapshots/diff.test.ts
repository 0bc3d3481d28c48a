import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { constants as fsConstants, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, chown, link, lutimes, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { extract } from 'tar-stream';
import { isGantryError } from '../core/errors.js';
import { lgetxattr, llistxattr, lsetxattr, MNT_DETACH, mknod, mount, MS_RDONLY, umount2 } from '../native/native.js';
import { layerDiffStream, writeLayerDiff } from './diff.js';
import { applyLayer } from './tar-apply.js';

const CAP = Buffer.from([1, 0, 0, 2, 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // cap_setuid,cap_net_raw+ep
const T2001 = new Date('2001-02-03T04:05:06.789Z');
const S2001 = Math.floor(T2001.getTime() / 1000); // whole seconds in the tar

let base = '';
let counter = 0;
const mounts: string[] = [];
const fresh = async (name: string) => {
  const dir = path.join(base, `${name}${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

/** Mounts an overlay and remembers it, so that after() unmounts it even when a test fails. */
function overlay(target: string, data: string, flags = 0): void {
  mount('overlay', target, 'overlay', flags, data);
  mounts.push(target);
}
function unmount(target: string): void {
  umount2(target);
  mounts.splice(mounts.indexOf(target), 1);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The tar and its result, checked against each other. */
async function diff(upper: string, sourceDateEpoch?: number) {
  const { stream, result } = layerDiffStream(upper, sourceDateEpoch === undefined ? {} : { sourceDateEpoch });
  const tar = await collect(stream);
  const r = await result;
  assert.equal(r.size, tar.length);
  assert.equal(r.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
  assert.equal(tar.length % 512, 0);
  return { tar, ...r };
}

interface Listed {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  data: string;
  pax: Record<string, string>;
}

/** The entries of a tar as tar-stream reads them (PAX applied). */
async function list(tar: Buffer): Promise<Listed[]> {
  const ex = extract();
  const out: Listed[] = [];
  const reading = (async () => {
    for await (const e of ex) {
      const h = e.header;
      const data = await collect(e as unknown as Readable);
      out.push({
        name: h.name, type: h.type ?? '?', mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0,
        mtime: (h.mtime?.getTime() ?? 0) / 1000, linkname: h.linkname ?? null, data: data.toString(), pax: { ...(h.pax ?? {}) },
      });
    }
  })();
  ex.end(tar);
  await reading;
  return out;
}

/**
 * A comparable description of a tree: per path its type, mode, owner, mtime (seconds), data
 * hash, link target, device, xattrs (overlay's own left out except opaque) and which paths share an inode.
 */
function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, r);
      const st = lstatSync(abs, { bigint: true });
      const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'chr' : st.isBlockDevice() ? 'blk' : 'fifo';
      const extra = st.isFile()
        ? createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 12)
        : st.isSymbolicLink() ? readlinkSync(abs) : st.isCharacterDevice() || st.isBlockDevice() ? `rdev=${st.rdev}` : '';
      const xattrs = llistxattr(abs)
        .filter((x) => !x.startsWith('trusted.overlay.') || x === 'trusted.overlay.opaque')
        .sort()
        .map((x) => `${x}=${lgetxattr(abs, x)?.toString('hex')}`);
      let linked = '';
      if (!st.isDirectory() && st.nlink > 1n && !(st.isCharacterDevice() && st.rdev === 0n)) {
        const key = `${st.dev}:${st.ino}`;
        linked = `linked-to=${inodes.get(key) ?? ''}`;
        if (!inodes.has(key)) inodes.set(key, r);
      }
      const mode = (Number(st.mode) & 0o7777).toString(8);
      out[r] = [kind, mode, `${st.uid}:${st.gid}`, st.mtimeNs / 1_000_000_000n, extra, linked, ...xattrs].join(' ');
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

describe('layerDiffStream', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  before(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'gantry-diff-'));
  });
  after(async () => {
    for (const m of mounts.reverse()) {
      try {
        umount2(m, MNT_DETACH);
      } catch {
        // already gone
      }
    }
    await rm(base, { recursive: true, force: true });
  });

  /** An upper directory made by hand, with everything overlayfs can leave in one. */
  async function handMadeUpper(): Promise<string> {
    const up = await fresh('upper');
    const p = (rel: string) => path.join(up, rel);
    await mkdir(p('a/sub'), { recursive: true });
    await writeFile(p('a/f'), 'file a/f\n');
    await chown(p('a/f'), 1000, 1001);
    await chmod(p('a/f'), 0o640);
    lsetxattr(p('a/sub'), 'trusted.overlay.opaque', Buffer.from('y'));
    lsetxattr(p('a/sub'), 'trusted.overlay.origin', Buffer.from([0, 1, 2])); // never exported
    await writeFile(p('a/sub/inner'), 'inner');
    mknod(p('a/old'), fsConstants.S_IFCHR, 0, 0);
    await link(p('a/old'), p('gone')); // overlayfs shares one whiteout inode between whiteouts
    await writeFile(p('a-b'), 'sorts after a/ and its members');
    await writeFile(p('big-uid'), '');
    await chown(p('big-uid'), 3_000_000, 3_000_001); // beyond ustar's 7 octal digits
    await mkdir(p('bin'));
    await writeFile(p('bin/su'), '#!/bin/sh\n');
    await chmod(p('bin/su'), 0o4755);
    await writeFile(p('cap'), 'ping');
    lsetxattr(p('cap'), 'security.capability', CAP);
    lsetxattr(p('cap'), 'user.note', Buffer.from('hello'));
    await mkdir(p('dev'));
    mknod(p('dev/null'), fsConstants.S_IFCHR | 0o666, 1, 3);
    mknod(p('dev/loop0'), fsConstants.S_IFBLK | 0o660, 7, 0);
    await writeFile(p('h1'), 'linked');
    await link(p('h1'), p('h2'));
    await symlink('/target', p('link'));
    await symlink(`/${'t'.repeat(150)}`, p('long-link'));
    const longDir = 'd'.repeat(90);
    await mkdir(p(longDir));
    await writeFile(p(`${longDir}/${'f'.repeat(60)}`), 'long name');
    mknod(p('p'), fsConstants.S_IFIFO | 0o640, 0, 0);
    mknod(p('sock'), fsConstants.S_IFSOCK | 0o755, 0, 0); // skipped
    await mkdir(p('tmp'));
    await chmod(p('tmp'), 0o1777);
    await mkdir(p('shared'));
    await chmod(p('shared'), 0o2775);
    await writeFile(p('big'), Buffer.alloc(1_000_003, 7)); // several chunks, unaligned
    await writeFile(p('ünï'), 'utf-8 name');
    await lutimes(p('link'), T2001, T2001);
    await utimes(p('a/f'), T2001, T2001);
    return up;
  }

  test('entries, types, whiteouts, links, owners and xattrs of a hand-made upper directory', async () => {
    const up = await handMadeUpper();
    const { tar, entries } = await diff(up);
    const listed = await list(tar);
    const longDir = 'd'.repeat(90);
    assert.deepEqual(
      listed.map((e) => [e.name, e.type]),
      [
        ['.wh.gone', 'file'],
        ['a/', 'directory'],
        ['a/.wh.old', 'file'],
        ['a/f', 'file'],
        ['a/sub/', 'directory'],
        ['a/sub/.wh..wh..opq', 'file'],
        ['a/sub/inner', 'file'],
        ['a-b', 'file'],
        ['big', 'file'],
        ['big-uid', 'file'],
        ['bin/', 'directory'],
        ['bin/su', 'file'],
        ['cap', 'file'],
        [`${longDir}/`, 'directory'],
        [`${longDir}/${'f'.repeat(60)}`, 'file'],
        ['dev/', 'directory'],
        ['dev/loop0', 'block-device'],
        ['dev/null', 'character-device'],
        ['h1', 'file'],
        ['h2', 'link'],
        ['link', 'symlink'],
        ['long-link', 'symlink'],
        ['p', 'fifo'],
        ['shared/', 'directory'],
        ['tmp/', 'directory'],
        ['ünï', 'file'],
      ],
    );
    assert.equal(entries, listed.length);
    const by = Object.fromEntries(listed.map((e) => [e.name, e]));
    const get = (name: string) => by[name] as Listed;
    assert.deepEqual([get('a/f').mode, get('a/f').uid, get('a/f').gid, get('a/f').mtime, get('a/f').data], [0o640, 1000, 1001, S2001, 'file a/f\n']);
    assert.equal(get('bin/su').mode, 0o4755);
    assert.equal(get('tmp/').mode, 0o1777);
    assert.equal(get('shared/').mode, 0o2775);
    // tar-stream leaves PAX owners in `pax` (applyLayer reads them there)
    assert.deepEqual([get('big-uid').pax.uid, get('big-uid').pax.gid], ['3000000', '3000001']);
    assert.equal(get('h2').linkname, 'h1');
    assert.equal(get('link').linkname, '/target');
    assert.equal(get('link').mtime, S2001);
    assert.equal(get('long-link').linkname, `/${'t'.repeat(150)}`);
    assert.equal(get('big').data.length, 1_000_003);
    assert.equal(get('.wh.gone').mode, 0o600);
    assert.equal(get('a/sub/.wh..wh..opq').data, '');
    assert.equal(get('cap').pax['SCHILY.xattr.user.note'], 'hello');
    assert.ok('SCHILY.xattr.security.capability' in get('cap').pax);
    for (const e of listed) {
      assert.ok(!Object.keys(e.pax).some((k) => k.includes('trusted.overlay')), `no overlay xattrs on ${e.name}`);
    }
    // uname/gname are empty: bytes 265..329 of every ustar header are zero
    for (let off = 0; off + 512 <= tar.length; off += 512) {
      if (tar.toString('latin1', off + 257, off + 262) === 'ustar') assert.ok(tar.subarray(off + 265, off + 329).every((b) => b === 0));
    }
  });

  test('the same directory gives the same bytes; sourceDateEpoch clamps later times only', async () => {
    const up = await handMadeUpper();
    const one = await diff(up);
    readFileSync(path.join(up, 'a/f')); // an access changes atime, which is not exported
    const two = await diff(up);
    assert.equal(two.diffId, one.diffId);
    assert.ok(two.tar.equals(one.tar));
    const clamped = await list((await diff(up, 1_500_000_000)).tar);
    const times = Object.fromEntries(clamped.map((e) => [e.name, e.mtime]));
    assert.equal(times['a/f'], S2001, 'earlier than the epoch: kept');
    assert.equal(times['h1'], 1_500_000_000, 'later: clamped');
    // writing into a Writable gives the same bytes
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) });
    const r = await writeLayerDiff(up, sink);
    assert.equal(r.diffId, one.diffId);
    assert.ok(Buffer.concat(chunks).equals(one.tar));
  });

  test('round trip: applyLayer of the diff rebuilds the same upper directory', async () => {
    const up = await handMadeUpper();
    await unlink(path.join(up, 'sock'));
    const { tar } = await diff(up);
    const applied = await fresh('applied');
    await applyLayer(Readable.from([tar]), applied);
    const want = describeTree(up);
    for (const k of Object.keys(want)) want[k] = (want[k] as string).replace(/ trusted\.overlay\.origin=\S+/, '');
    assert.deepEqual(describeTree(applied), want);
  });

  test('a real overlay mount: the diff of its upper directory, applied over the lower, gives the same view', async () => {
    const [lower, upper, work, merged] = [await fresh('lower'), await fresh('upper'), await fresh('work'), await fresh('merged')];
    const l = (rel: string) => path.join(lower, rel);
    for (const d of ['deldir/sub', 'redo', 'bin', 'etc']) await mkdir(l(d), { recursive: true });
    for (const f of ['keep', 'mod', 'del', 'deldir/sub/x', 'redo/old1', 'redo/old2', 'chm', 'bin/tool', 'etc/conf']) {
      await writeFile(l(f), `lower ${f}\n`);
    }
    await chmod(l('bin/tool'), 0o755);
    overlay(merged, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
    try {
      const m = (rel: string) => path.join(merged, rel);
      await writeFile(m('new'), 'new file\n'); // add
      lsetxattr(m('new'), 'security.capability', CAP);
      lsetxattr(m('new'), 'user.note', Buffer.from('hi'));
      await link(m('new'), m('new-hl')); // hard link
      await writeFile(m('mod'), 'modified\n'); // modify (copy-up)
      await unlink(m('del')); // delete a file
      await rm(m('deldir'), { recursive: true }); // delete a directory
      await rm(m('redo'), { recursive: true }); // delete a directory and make it again: opaque
      await mkdir(m('redo'));
      await writeFile(m('redo/new'), 'again\n');
      await chmod(m('chm'), 0o600); // metadata-only copy-up
      await chmod(m('bin/tool'), 0o4755); // setuid
      await chown(m('etc/conf'), 1000, 1000);
      await writeFile(m('etc/added'), 'added\n');
      await symlink('keep', m('sl'));
    } finally {
      unmount(merged);
    }

    const one = await diff(upper);
    assert.equal((await diff(upper)).diffId, one.diffId, 'two runs, same digest');
    const listed = await list(one.tar);
    assert.deepEqual(
      listed.map((e) => [e.name, e.type]),
      [
        ['.wh.del', 'file'],
        ['.wh.deldir', 'file'],
        ['bin/', 'directory'],
        ['bin/tool', 'file'],
        ['chm', 'file'],
        ['etc/', 'directory'],
        ['etc/added', 'file'],
        ['etc/conf', 'file'],
        ['mod', 'file'],
        ['new', 'file'],
        ['new-hl', 'link'],
        ['redo/', 'directory'],
        ['redo/.wh..wh..opq', 'file'],
        ['redo/new', 'file'],
        ['sl', 'symlink'],
      ],
    );
    const by = Object.fromEntries(listed.map((e) => [e.name, e]));
    assert.equal(by['bin/tool']?.mode, 0o4755);
    assert.equal(by['chm']?.mode, 0o600);
    assert.deepEqual([by['etc/conf']?.uid, by['etc/conf']?.gid], [1000, 1000]);
    assert.equal(by['mod']?.data, 'modified\n');
    assert.equal(by['new-hl']?.linkname, 'new');
    assert.equal(by['sl']?.linkname, 'keep');
    for (const e of listed) assert.ok(!Object.keys(e.pax).some((k) => k.includes('trusted.overlay')), `no overlay xattrs on ${e.name}`);

    // Round trip: the original view (upper over lower) against the diff unpacked over the lower.
    const applied = await fresh('applied');
    await applyLayer(Readable.from([one.tar]), applied);
    const again = await fresh('merged');
    overlay(merged, `lowerdir=${upper}:${lower}`, MS_RDONLY);
    overlay(again, `lowerdir=${applied}:${lower}`, MS_RDONLY);
    try {
      const want = describeTree(merged);
      assert.match(want['new'] ?? '', /security\.capability=0100000280200000/);
      assert.match(want['new-hl'] ?? '', /linked-to=new/);
      assert.equal(want['deldir'], undefined);
      assert.deepEqual(Object.keys(want).filter((k) => k.startsWith('redo/')), ['redo/new']);
      assert.deepEqual(describeTree(again), want);
    } finally {
      unmount(again);
      unmount(merged);
    }
  });

  test('back-pressure: nothing is read ahead of a paused reader', async () => {
    const up = await fresh('upper');
    await writeFile(path.join(up, 'big'), Buffer.alloc(8 * 1024 * 1024, 1));
    const { stream, result } = layerDiffStream(up);
    const through = new PassThrough({ highWaterMark: 1024 });
    stream.pipe(through);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(stream.readableLength + through.readableLength + through.writableLength < 1024 * 1024, 'at most a few chunks buffered');
    through.resume();
    assert.equal((await result).size, 8 * 1024 * 1024 + 512 + 1024); // header, data, end of archive
  });

  test('errors name the path; a destroyed stream rejects the result', async () => {
    const missing = path.join(base, 'no-such-upper');
    await assert.rejects(collect(layerDiffStream(missing).stream), (err) => isGantryError(err, 'NOT_FOUND') && err.message.includes(missing));
    const up = await fresh('upper');
    await writeFile(path.join(up, '.wh.sneaky'), '');
    await assert.rejects(diff(up), (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message.includes(path.join(up, '.wh.sneaky')));
    const renamed = await fresh('upper');
    await mkdir(path.join(renamed, 'moved'));
    lsetxattr(path.join(renamed, 'moved'), 'trusted.overlay.redirect', Buffer.from('/orig'));
    await assert.rejects(diff(renamed), (err) => isGantryError(err, 'FAILED_PRECONDITION') && err.message.includes('moved'));
    const big = await fresh('upper');
    await writeFile(path.join(big, 'big'), Buffer.alloc(4 * 1024 * 1024));
    const { stream, result } = layerDiffStream(big);
    stream.once('data', () => stream.destroy());
    await assert.rejects(result, (err) => isGantryError(err, 'CANCELED'));
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(writeLayerDiff(big, new PassThrough(), { signal: ac.signal }), (err) => isGantryError(err, 'CANCELED'));
  });
});
