/**
 * `cp` end to end through the real gantry binary: host → container and back for files,
 * directories and `dir/.`, `-` in both directions, -a ownership, created, running and
 * stopped containers, Docker's errors, and no mount left behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { extract, pack } from 'tar-stream';
import { GANTRY, needsRoot, runCommand, Sandbox } from '../support/harness.js';

/** Names and owners of the entries of a tar. */
async function tarEntries(tar: Buffer): Promise<{ name: string; uid: number; gid: number; data: string }[]> {
  const ex = extract();
  const out: { name: string; uid: number; gid: number; data: string }[] = [];
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.push({ name: e.header.name, uid: e.header.uid, gid: e.header.gid, data: Buffer.concat(chunks).toString() });
    }
  })();
  for await (const chunk of Readable.from([tar])) ex.write(chunk as Buffer);
  ex.end(undefined);
  await done;
  return out;
}

/** A tar of the given files (owned by 4321:8765). */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const [name, data] of Object.entries(files)) {
    await new Promise<void>((res, rej) => p.entry({ name, uid: 4321, gid: 8765, mode: 0o644 }, data, (e) => (e ? rej(e) : res())));
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

describe('cp', { skip: needsRoot }, () => {
  let sb: Sandbox;
  let host = '';
  let out = '';
  let n = 0;
  /** A fresh empty local directory for one test's copies out. */
  const outDir = async () => {
    const d = join(out, String(++n));
    await mkdir(d);
    return d;
  };
  /** Lines of /proc/mounts under the sandbox. */
  const mounts = async () => (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(sb.root));
  /** Runs `fn` with a new container, then removes it. */
  const withContainer = async (args: string[], fn: (id: string) => Promise<void>) => {
    const id = (await sb.ok(args)).stdout.trim();
    try {
      await fn(id);
    } finally {
      await sb.run(['rm', '-f', id]);
    }
  };
  const names = async (id: string, path: string) => (await tarEntries((await sb.ok(['cp', `${id}:${path}`, '-'])).stdoutBytes)).map((e) => e.name);

  before(async () => {
    sb = await Sandbox.create('gantry-e2e-cp-');
    await sb.ok(['image', 'bootstrap', 'busybox']);
    host = join(sb.root, 'host');
    out = join(sb.root, 'out');
    await mkdir(join(host, 'dir/sub'), { recursive: true });
    await mkdir(out);
    await writeFile(join(host, 'file.txt'), 'hello\n');
    await writeFile(join(host, 'dir/a'), 'alpha');
    await writeFile(join(host, 'dir/sub/b'), 'beta');
    await writeFile(join(host, 'owned'), 'mine');
    await chown(join(host, 'owned'), 1234, 5678);
  });
  after(async () => {
    assert.deepEqual(await mounts(), [], 'nothing stays mounted');
    await sb.destroy();
  });

  it('a file into a created container and back: into a directory, to a new name, quietly', async () => {
    await withContainer(['create', 'busybox', 'sleep', '60'], async (id) => {
      const r = await sb.ok(['cp', join(host, 'file.txt'), `${id}:/tmp`]);
      assert.deepEqual([r.stdout, r.stderr], ['', ''], 'quiet without a terminal');
      await sb.ok(['container', 'cp', join(host, 'file.txt'), `${id}:/tmp/renamed.txt`]);
      assert.deepEqual(await names(id, '/tmp'), ['tmp/', 'tmp/file.txt', 'tmp/renamed.txt']);
      assert.deepEqual(await mounts(), [], 'the root filesystem is unmounted after each copy');

      const dest = await outDir();
      await sb.ok(['cp', `${id}:/tmp/renamed.txt`, dest]);
      assert.equal(await readFile(join(dest, 'renamed.txt'), 'utf8'), 'hello\n');
      await sb.ok(['cp', `${id}:tmp/file.txt`, join(dest, 'new-name')]);
      assert.equal(await readFile(join(dest, 'new-name'), 'utf8'), 'hello\n');
      await sb.ok(['cp', `${id}:/tmp/file.txt`, join(dest, 'new-name')]);
      assert.equal(await readFile(join(dest, 'new-name'), 'utf8'), 'hello\n', 'an existing file is overwritten');
      assert.deepEqual(await mounts(), []);
    });
  });

  it('directories: the directory itself, `dir/.` its contents, a new name', async () => {
    await withContainer(['create', 'busybox'], async (id) => {
      await sb.ok(['cp', join(host, 'dir'), `${id}:/home`]); // existing: dir goes inside
      await sb.ok(['cp', join(host, 'dir'), `${id}:/newdir`]); // missing: dir becomes newdir
      await sb.ok(['cp', `${join(host, 'dir')}/.`, `${id}:/root`]); // contents into /root
      assert.deepEqual(await names(id, '/home'), ['home/', 'home/dir/', 'home/dir/a', 'home/dir/sub/', 'home/dir/sub/b']);
      assert.deepEqual(await names(id, '/newdir'), ['newdir/', 'newdir/a', 'newdir/sub/', 'newdir/sub/b']);
      assert.deepEqual(await names(id, '/root/.'), ['./', './a', './sub/', './sub/b']);

      const dest = await outDir();
      await sb.ok(['cp', `${id}:/home/dir`, dest]);
      await sb.ok(['cp', `${id}:/home/dir`, join(dest, 'copy')]);
      await mkdir(join(dest, 'contents'));
      await sb.ok(['cp', `${id}:/home/dir/.`, join(dest, 'contents')]);
      assert.deepEqual((await readdir(dest)).sort(), ['contents', 'copy', 'dir']);
      for (const d of ['dir', 'copy', 'contents']) {
        assert.equal(await readFile(join(dest, d, 'sub/b'), 'utf8'), 'beta', d);
        assert.deepEqual((await readdir(join(dest, d))).sort(), ['a', 'sub'], d);
      }
    });
  });

  it('`-` streams a tar to stdout and extracts one from stdin, in a running container', async () => {
    await withContainer(['run', '-d', 'busybox', 'sleep', '60'], async (id) => {
      const tar = await tarOf({ 'x.txt': 'from stdin', 'deep/y.txt': 'nested' });
      await sb.ok(['cp', '-', `${id}:/tmp`], { input: tar });
      assert.equal((await sb.ok(['exec', id, 'cat', '/tmp/x.txt', '/tmp/deep/y.txt'])).stdout, 'from stdinnested');
      const entries = await tarEntries((await sb.ok(['cp', `${id}:/tmp/x.txt`, '-'])).stdoutBytes);
      assert.deepEqual(entries.map((e) => [e.name, e.data]), [['x.txt', 'from stdin']]);
      assert.deepEqual([entries[0]?.uid, entries[0]?.gid], [0, 0], 'copied in as the container\'s root user');
      // From stdin, with -a: the archive's owners.
      await sb.ok(['cp', '-a', '-', `${id}:/tmp`], { input: await tarOf({ 'z.txt': 'kept' }) });
      assert.equal((await sb.ok(['exec', id, 'stat', '-c', '%u:%g', '/tmp/z.txt'])).stdout, '4321:8765\n');
      // Volumes and pseudo filesystems of the running container: /proc's files are not copied.
      const missing = await sb.run(['cp', `${id}:/proc/1/status`, '-']);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `Error: No such container:path: ${id}:/proc/1/status\n`);
    });
  });

  it('-a keeps uid/gid both ways; without it, copies in belong to root and copies out to the caller', async () => {
    await withContainer(['run', '-d', 'busybox', 'sleep', '60'], async (id) => {
      await sb.ok(['cp', join(host, 'owned'), `${id}:/plain`]);
      await sb.ok(['cp', '-a', join(host, 'owned'), `${id}:/kept`]);
      const owners = await sb.ok(['exec', id, 'stat', '-c', '%u:%g %n', '/plain', '/kept']);
      assert.equal(owners.stdout, '0:0 /plain\n1234:5678 /kept\n');
      const dest = await outDir();
      await sb.ok(['cp', `${id}:/kept`, join(dest, 'plain')]);
      await sb.ok(['cp', '-a', `${id}:/kept`, join(dest, 'kept')]);
      const [plain, kept] = [await stat(join(dest, 'plain')), await stat(join(dest, 'kept'))];
      assert.deepEqual([plain.uid, plain.gid, kept.uid, kept.gid], [0, 0, 1234, 5678]);
    });
  });

  it('works on a stopped container and leaves nothing mounted', async () => {
    await withContainer(['run', '-d', 'busybox', 'sleep', '60'], async (id) => {
      await sb.ok(['exec', id, 'sh', '-c', 'echo written-while-running > /data.txt']);
      await sb.ok(['kill', id]);
      await sb.ok(['wait', id]);
      const dest = await outDir();
      await sb.ok(['cp', `${id}:/data.txt`, dest]);
      assert.equal(await readFile(join(dest, 'data.txt'), 'utf8'), 'written-while-running\n');
      await sb.ok(['cp', join(host, 'file.txt'), `${id}:/`]);
      assert.deepEqual(await names(id, '/file.txt'), ['file.txt']);
      assert.deepEqual(await mounts(), []);
    });
  });

  it('fails as Docker does, with exit code 1', async () => {
    await withContainer(['create', 'busybox'], async (id) => {
      const dest = await outDir();
      const fail = async (args: string[], stderr: string, input?: Buffer) => {
        const r = await sb.run(args, input ? { input } : {});
        assert.deepEqual([r.code, r.stderr], [1, stderr], args.join(' '));
      };
      await fail(['cp', `${id}:/nope`, dest], `Error: No such container:path: ${id}:/nope\n`);
      await fail(['cp', join(host, 'file.txt'), `${id}:/nope/file`], `Error: No such container:path: ${id}:/nope\n`);
      await fail(['cp', join(host, 'file.txt'), `${id}:/tmp/newdir/`], 'Error: no such directory\n');
      await fail(['cp', '-', `${id}:/etc/passwd`], `Error: destination "${id}:/etc/passwd" must be a directory\n`, Buffer.alloc(0));
      await fail(['cp', join(host, 'dir'), `${id}:/etc/passwd`], 'Error: cannot copy directory\n');
      await fail(['cp', join(host, 'missing'), `${id}:/tmp`], `Error: lstat ${join(host, 'missing')}: no such file or directory\n`);
      await fail(['cp', `${id}:/etc/passwd`, join(dest, 'no/such/dir')], `Error: invalid output path: directory "${join(dest, 'no/such')}" does not exist\n`);
      await fail(['cp', join(host, 'file.txt'), join(dest, 'x')], 'Error: must specify at least one container source\n');
      await fail(['cp', `${id}:/a`, `${id}:/b`], 'Error: copying between containers is not supported\n');
      await fail(['cp', 'no-such-container:/etc', dest], 'Error: No such container: no-such-container\n');
      assert.ok(!existsSync(join(dest, 'x')));
    });
  });

  it('prints Docker\'s summary line when stdout is a terminal', { skip: !existsSync('/usr/bin/script') && 'needs script(1)' }, async () => {
    await withContainer(['create', 'busybox'], async (id) => {
      const dest = await outDir();
      const inTerminal = (args: string[]) =>
        runCommand('script', ['-qec', [GANTRY, '--root', sb.root, ...args].map((a) => `'${a}'`).join(' '), '/dev/null']);
      const to = await inTerminal(['cp', join(host, 'file.txt'), `${id}:/tmp`]);
      assert.match(to.stdout, new RegExp(`Successfully copied 6B \\(transferred 2.05kB\\) to ${id}:/tmp\r?\n`));
      const from = await inTerminal(['cp', `${id}:/tmp/file.txt`, join(dest, 'f')]);
      assert.match(from.stdout, new RegExp(`Successfully copied 6B \\(transferred 2.05kB\\) to ${join(dest, 'f')}\r?\n`));
      const quiet = await inTerminal(['cp', '-q', `${id}:/tmp/file.txt`, join(dest, 'g')]);
      assert.equal(quiet.stdout, '');
    });
  });
});
