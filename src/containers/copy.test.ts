import assert from 'node:assert/strict';
import {
  chmodSync, chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { isGantryError } from '../core/errors.js';
import {
  archiveFromRoot, extractToRoot, type ExtractOptions, FileMode, hasMode, inContainerPath, spoolArchive, statInRoot, writableCheck,
} from './copy.js';
import { tarOf } from '../../test/support/tarball.js';

const isRoot = process.getuid?.() === 0;
type Spec = Partial<Header> & { name: string; data?: string };

/** The headers (and file contents) of a tar stream. */
async function entriesOf(tar: Readable): Promise<(Header & { data: string })[]> {
  const ex = extract();
  const out: (Header & { data: string })[] = [];
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.push({ ...e.header, data: Buffer.concat(chunks).toString() });
    }
  })();
  for await (const chunk of tar) ex.write(chunk as Buffer);
  ex.end(undefined);
  await done;
  return out;
}

const names = async (tar: Readable) => (await entriesOf(tar)).map((e) => e.name);
const T2001 = new Date('2001-02-03T04:05:06Z');

describe('container copy', () => {
  let base = '';
  let root = '';
  const at = (p: string) => path.join(root, p);
  before(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'gantry-copy-'));
    root = path.join(base, 'root');
    mkdirSync(at('d/sub'), { recursive: true });
    writeFileSync(at('d/a'), 'alpha');
    writeFileSync(at('d/sub/b'), 'beta');
    linkSync(at('d/a'), at('d/hard'));
    writeFileSync(at('f'), 'file\n');
    writeFileSync(at('zero'), '');
    chmodSync(at('zero'), 0);
    symlinkSync('/d', at('abs')); // absolute: means <root>/d, never the host's /d
    symlinkSync('../../../../d/a', at('d/sub/climb'));
    symlinkSync('d', at('rel'));
    writeFileSync(path.join(base, 'outside'), 'host file');
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  describe('statInRoot', () => {
    test('a file, a directory, `dir/.` and `/` as Docker names and types them', () => {
      const f = statInRoot(root, '/f');
      assert.deepEqual([f.name, f.size, f.linkTarget], ['f', 5, '']);
      assert.equal(f.mode, 0o644 & ~process.umask());
      assert.equal(f.mtime, statSync(at('f')).mtime.toISOString());
      const d = statInRoot(root, 'd/');
      assert.equal(d.name, 'd');
      assert.ok(hasMode(d.mode, FileMode.dir) && !hasMode(d.mode, FileMode.symlink));
      assert.equal(statInRoot(root, '/d/.').name, '.');
      assert.equal(statInRoot(root, '/').name, '/');
      assert.ok(hasMode(statInRoot(root, '/').mode, FileMode.dir));
    });

    test('a symlink is not followed; its target is resolved inside the root', () => {
      const abs = statInRoot(root, '/abs');
      assert.ok(hasMode(abs.mode, FileMode.symlink) && !hasMode(abs.mode, FileMode.dir));
      assert.equal(abs.linkTarget, '/d');
      assert.equal(statInRoot(root, '/d/sub/climb').linkTarget, '/d/a');
      // Symlinks before the last component are followed, inside the root.
      assert.equal(statInRoot(root, '/abs/a').size, 5);
      // A trailing slash follows the last one too.
      assert.ok(hasMode(statInRoot(root, '/abs/').mode, FileMode.dir));
    });

    test('missing paths are NOT_FOUND; a file asserted to be a directory is refused', () => {
      assert.throws(() => statInRoot(root, '/nope'), (err) => isGantryError(err, 'NOT_FOUND'));
      assert.throws(() => statInRoot(root, '/f/x'), (err) => isGantryError(err, 'NOT_FOUND'));
      assert.throws(() => statInRoot(root, '/f/'), (err) => isGantryError(err, 'INVALID_ARGUMENT') && /not a directory/.test(err.message));
    });

    test('FileMode bits survive bit 31', () => {
      assert.equal(FileMode.dir, 0x80000000);
      assert.ok(hasMode(FileMode.dir + 0o755, FileMode.dir));
      assert.ok(!hasMode(0o755, FileMode.dir));
    });
  });

  describe('archiveFromRoot', () => {
    test('a file is archived under its base name, with its data, mode and mtime (seconds)', async () => {
      const [e, ...rest] = await entriesOf(archiveFromRoot(root, '/d/a'));
      assert.equal(rest.length, 0);
      assert.equal(e?.name, 'a');
      assert.equal(e?.type, 'file');
      assert.equal(e?.data, 'alpha');
      assert.equal(e?.mtime.getTime(), Math.floor(statSync(at('d/a')).mtimeMs / 1000) * 1000);
      const [zero] = await entriesOf(archiveFromRoot(root, 'zero'));
      assert.equal(zero?.mode, 0, 'mode 0 is kept');
    });

    test('a directory is archived as itself; `dir/.` as its contents; rebaseName renames the top', async () => {
      assert.deepEqual(await names(archiveFromRoot(root, '/d')), ['d/', 'd/a', 'd/hard', 'd/sub/', 'd/sub/b', 'd/sub/climb']);
      assert.deepEqual(await names(archiveFromRoot(root, '/d/')), ['d/', 'd/a', 'd/hard', 'd/sub/', 'd/sub/b', 'd/sub/climb']);
      assert.deepEqual(await names(archiveFromRoot(root, '/d/sub/.')), ['./', './b', './climb']);
      assert.deepEqual(await names(archiveFromRoot(root, '/d/sub', { rebaseName: 'other' })), ['other/', 'other/b', 'other/climb']);
      assert.deepEqual(await names(archiveFromRoot(root, '/d/sub/.', { rebaseName: 'x' })), ['x/', 'x/b', 'x/climb']);
      const all = await names(archiveFromRoot(root, '/'));
      assert.equal(all[0], '/');
      assert.ok(all.includes('/d/sub/b'));
    });

    test('hard links stay links; symlinks are archived as links, followed only before the last component', async () => {
      const entries = await entriesOf(archiveFromRoot(root, '/d'));
      const hard = entries.find((e) => e.name === 'd/hard');
      assert.deepEqual([hard?.type, hard?.linkname], ['link', 'd/a']);
      const climb = entries.find((e) => e.name === 'd/sub/climb');
      assert.deepEqual([climb?.type, climb?.linkname], ['symlink', '../../../../d/a']);
      const [link, ...none] = await entriesOf(archiveFromRoot(root, '/rel'));
      assert.deepEqual([link?.name, link?.type, link?.linkname, none.length], ['rel', 'symlink', 'd', 0]);
      assert.deepEqual(await names(archiveFromRoot(root, '/abs/sub')), ['sub/', 'sub/b', 'sub/climb'], 'via <root>/d');
      assert.deepEqual((await names(archiveFromRoot(root, '/rel/'))).slice(0, 2), ['rel/', 'rel/a'], 'a trailing slash follows, keeps the name');
    });

    test('owners are kept', { skip: !isRoot && 'needs root' }, async () => {
      writeFileSync(at('owned'), 'x');
      chownSync(at('owned'), 1234, 5678);
      const [e] = await entriesOf(archiveFromRoot(root, '/owned'));
      assert.deepEqual([e?.uid, e?.gid], [1234, 5678]);
    });

    test('a missing path throws NOT_FOUND at once', () => {
      assert.throws(() => archiveFromRoot(root, '/missing'), (err) => isGantryError(err, 'NOT_FOUND'));
    });

    test('spoolArchive returns the same bytes and leaves no file behind', async () => {
      const spoolDir = path.join(base, 'spool');
      mkdirSync(spoolDir);
      const spooled = await spoolArchive(archiveFromRoot(root, '/d'), spoolDir);
      assert.deepEqual(readdirSync(spoolDir), []);
      assert.deepEqual(await names(spooled), ['d/', 'd/a', 'd/hard', 'd/sub/', 'd/sub/b', 'd/sub/climb']);
    });
  });

  describe('extractToRoot', () => {
    let n = 0;
    /** A fresh container root with a /dest directory. */
    const freshRoot = () => {
      const r = path.join(base, `x${++n}`);
      mkdirSync(path.join(r, 'dest'), { recursive: true });
      return r;
    };
    const opts: ExtractOptions = { noOverwriteDirNonDir: true, chown: undefined };
    const untar = async (r: string, entries: Spec[] | Buffer, o: Partial<ExtractOptions> = {}, dest = '/dest') =>
      extractToRoot(r, dest, Readable.from([Buffer.isBuffer(entries) ? entries : await tarOf(entries)]), { ...opts, ...o });

    test('files, directories, links and implied parents, with modes and times', async () => {
      const r = freshRoot();
      await untar(r, [
        { name: './', type: 'directory', mode: 0o700 },
        { name: 'dir/', type: 'directory', mode: 0o750, mtime: T2001 },
        { name: 'dir/file', mode: 0o640, mtime: T2001, data: 'hello' },
        { name: 'dir/link', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'dir/hard', type: 'link', linkname: 'dir/file', mode: 0o640 }, // a hard link's mode is its file's
        { name: 'implied/deep/file', data: 'x' },
      ]);
      const d = path.join(r, 'dest');
      assert.equal(statSync(d).mode & 0o777, 0o755, 'the archive\'s `.` leaves the destination alone');
      assert.equal(statSync(path.join(d, 'dir')).mode & 0o777, 0o750);
      assert.equal(statSync(path.join(d, 'dir')).mtime.getTime(), T2001.getTime());
      assert.equal(readFileSync(path.join(d, 'dir/file'), 'utf8'), 'hello');
      assert.equal(statSync(path.join(d, 'dir/file')).mode & 0o777, 0o640);
      assert.equal(readlinkSync(path.join(d, 'dir/link')), '/etc/passwd');
      assert.equal(statSync(path.join(d, 'dir/hard')).ino, statSync(path.join(d, 'dir/file')).ino);
      assert.equal(statSync(path.join(d, 'implied/deep')).mode & 0o777, 0o755);
    });

    test('`..` entries and hard links are refused; absolute names stay inside', async () => {
      const r = freshRoot();
      await assert.rejects(untar(r, [{ name: '../escaped', data: 'x' }]), (err) => isGantryError(err, 'INVALID_ARGUMENT') && /escaped/.test(err.message));
      await assert.rejects(untar(r, [{ name: 'a/../../b', data: 'x' }]), (err) => isGantryError(err, 'INVALID_ARGUMENT'));
      await assert.rejects(untar(r, [{ name: 'h', type: 'link', linkname: '../../outside' }]), (err) => isGantryError(err, 'INVALID_ARGUMENT'));
      assert.ok(!lstatSync(r).isSymbolicLink());
      assert.deepEqual(readdirSync(r), ['dest']);
      await untar(r, [{ name: '/abs/file', data: 'in' }]);
      assert.equal(readFileSync(path.join(r, 'dest/abs/file'), 'utf8'), 'in');
    });

    test('symlinks on the way resolve inside the root, whatever they say', async () => {
      const r = freshRoot();
      const outside = path.join(base, 'victim-dir');
      mkdirSync(outside);
      symlinkSync(outside, path.join(r, 'dest/hostlink')); // a host path: inside the root it means <root><outside>
      symlinkSync('../../../../../..', path.join(r, 'dest/up'));
      await untar(r, [
        { name: 'hostlink/f', data: 'a' },
        { name: 'up/g', data: 'b' },
      ]);
      assert.deepEqual(readdirSync(outside), []);
      assert.equal(readFileSync(path.join(r, outside, 'f'), 'utf8'), 'a');
      assert.equal(readFileSync(path.join(r, 'g'), 'utf8'), 'b');
    });

    test('a symlink in the last place is replaced, never written through', async () => {
      const r = freshRoot();
      const victim = path.join(base, 'outside');
      symlinkSync(victim, path.join(r, 'dest/evil'));
      await untar(r, [{ name: 'evil', data: 'pwned' }]);
      assert.equal(readFileSync(victim, 'utf8'), 'host file');
      assert.ok(lstatSync(path.join(r, 'dest/evil')).isFile());
    });

    test('an entry creating a symlink cannot lead a later entry out', async () => {
      const r = freshRoot();
      const outside = path.join(base, 'victim-dir2');
      mkdirSync(outside);
      await untar(r, [
        { name: 'sneaky', type: 'symlink', linkname: outside },
        { name: 'sneaky/f', data: 'a' },
      ]);
      assert.deepEqual(readdirSync(outside), []);
      assert.equal(readFileSync(path.join(r, outside, 'f'), 'utf8'), 'a');
    });

    test('NoOverwriteDirNonDir, and replacing otherwise', async () => {
      const r = freshRoot();
      mkdirSync(path.join(r, 'dest/dir'));
      writeFileSync(path.join(r, 'dest/file'), 'old');
      await assert.rejects(untar(r, [{ name: 'dir', data: 'x' }]), (err) => isGantryError(err, 'INVALID_ARGUMENT') && /cannot overwrite directory "dir"/.test(err.message));
      await assert.rejects(untar(r, [{ name: 'file/', type: 'directory' }]), /cannot overwrite non-directory "file"/);
      await untar(r, [{ name: 'file', data: 'new' }]);
      assert.equal(readFileSync(path.join(r, 'dest/file'), 'utf8'), 'new');
      await untar(r, [{ name: 'dir', data: 'now a file' }], { noOverwriteDirNonDir: false });
      assert.ok(statSync(path.join(r, 'dest/dir')).isFile());
    });

    test('owners: the archive\'s, or the chown option\'s, or left alone', { skip: !isRoot && 'needs root' }, async () => {
      const r = freshRoot();
      const entries = [{ name: 'f', uid: 1234, gid: 5678, data: 'x' }, { name: 'd/', type: 'directory' as const, uid: 1234, gid: 5678 }];
      await untar(r, entries);
      assert.deepEqual([statSync(path.join(r, 'dest/f')).uid, statSync(path.join(r, 'dest/d')).gid], [1234, 5678]);
      await untar(r, entries, { chown: { uid: 0, gid: 0 } });
      assert.deepEqual([statSync(path.join(r, 'dest/f')).uid, statSync(path.join(r, 'dest/d')).gid], [0, 0]);
      await untar(r, [{ name: 'g', uid: 1234, gid: 5678, data: 'x' }], { noLchown: true });
      assert.equal(statSync(path.join(r, 'dest/g')).uid, 0);
    });

    test('rename, gzip, and the destination followed as a symlink', async () => {
      const r = freshRoot();
      symlinkSync('/dest', path.join(r, 'destlink'));
      const tar = gzipSync(await tarOf([{ name: 'a/', type: 'directory' }, { name: 'a/f', data: 'x' }, { name: 'a/h', type: 'link', linkname: 'a/f' }]));
      await untar(r, tar, { rename: (name) => name.replace(/^a/, 'b') }, '/destlink');
      assert.equal(readFileSync(path.join(r, 'dest/b/f'), 'utf8'), 'x');
      assert.equal(statSync(path.join(r, 'dest/b/h')).ino, statSync(path.join(r, 'dest/b/f')).ino);
    });

    test('a missing destination is NOT_FOUND, a file destination is refused, checkWritable sees the container path', async () => {
      const r = freshRoot();
      writeFileSync(path.join(r, 'file'), '');
      await assert.rejects(untar(r, [{ name: 'f', data: 'x' }], {}, '/nope'), (err) => isGantryError(err, 'NOT_FOUND'));
      await assert.rejects(untar(r, [{ name: 'f', data: 'x' }], {}, '/file'), /extraction point is not a directory/);
      const seen: string[] = [];
      await untar(r, [{ name: 'f', data: 'x' }], { checkWritable: (d) => void seen.push(d) }, 'dest/');
      assert.deepEqual(seen, ['/dest']);
    });

    test('a corrupt archive is INVALID_ARGUMENT; inContainerPath words NOT_FOUND as Docker', async () => {
      const r = freshRoot();
      const tar = await tarOf([{ name: 'f', data: 'x'.repeat(2000) }]);
      await assert.rejects(untar(r, tar.subarray(0, 1000)), (err) => isGantryError(err));
      await assert.rejects(
        inContainerPath('web', '/nope', () => untar(r, [], {}, '/nope')),
        (err) => isGantryError(err, 'NOT_FOUND') && err.message === 'No such container:path: web:/nope',
      );
    });
  });

  test('writableCheck: read-only mounts and root filesystems, the deepest mount deciding', () => {
    const check = writableCheck([{ Destination: '/data', RW: false }, { Destination: '/data/rw', RW: true }], true);
    assert.throws(() => check('/data/x'), /mounted volume is marked read-only/);
    assert.doesNotThrow(() => check('/data/rw/x'));
    assert.throws(() => check('/datax'), /container rootfs is marked read-only/);
    assert.doesNotThrow(() => writableCheck([], false)('/anything'));
  });
});
