import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pack, type Header as Headers } from 'tar-stream';
import { isGantryError } from '../../core/errors.js';
import { contextArgKind, isArchive, prepareContext, type ContextSource } from './sources.js';

const isRoot = process.getuid?.() === 0;
const hasZstd = (() => {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

type Entry = Partial<Headers> & { name: string; body?: string | Buffer };

/** A tar archive of `entries` (made with tar-stream, as a client would send it). */
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => p.on('end', resolve).on('error', reject));
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      p.entry({ mtime: new Date(1_600_000_000_000), ...header } as Headers, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A stdin-like stream that delivers `buf` in small chunks, as a pipe does. */
const stdinOf = (buf: Buffer, chunk = 300) =>
  Readable.from((function* () {
    for (let off = 0; off < buf.length; off += chunk) yield buf.subarray(off, off + chunk);
  })());

/** Asserts `promise` rejects with a GantryError of `code` whose message matches `message`. */
async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isGantryError(err), String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return true;
  });
}

let tempDir = '';
beforeEach(async () => {
  if (tempDir !== '') await rm(tempDir, { recursive: true, force: true });
  tempDir = await mkdtemp(join(tmpdir(), 'gantry-sources-'));
});
after(() => rm(tempDir, { recursive: true, force: true }));
/** Nothing may be left in the temporary directory after a failure or a cleanup. */
const assertNothingLeft = async () => assert.deepEqual(await readdir(tempDir), []);

describe('contextArgKind', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-sources-kind-'));
    await writeFile(join(dir, 'ctx.tar'), '');
    await mkdir(join(dir, 'github.com/me/repo'), { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const cases: [string, string | (() => string)][] = [
    ['-', 'stdin'],
    ['https://github.com/docker/cli.git', 'git'],
    ['https://github.com/docker/cli.git#v25.0.0:build', 'git'],
    ['http://host/repo.git', 'git'],
    ['https://host/repogit', 'git'], // docker/cli's expression has an unescaped dot
    ['https://host/archive.tar.gz', 'url'],
    ['https://host/repo.git/x', 'url'],
    ['github.com/docker/cli', 'git'],
    ['git@github.com:docker/cli.git', 'git'],
    ['git://host/repo', 'git'],
    ['ssh://git@host/repo.git', 'git'],
    ['file:///srv/repo.git', 'git'],
    ['no/such/dir', 'missing'],
    ['repo.git', 'missing'],
  ];
  for (const [arg, want] of cases) {
    it(`${arg} → ${String(want)}`, async () => assert.equal(await contextArgKind(arg), want));
  }
  it('an existing path is local before anything else, whatever it looks like', async () => {
    assert.equal(await contextArgKind(dir), 'local');
    assert.equal(await contextArgKind(join(dir, 'ctx.tar')), 'local');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(await contextArgKind('github.com/me/repo'), 'local');
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('isArchive', () => {
  const cases: [string, Buffer, boolean][] = [
    ['a Dockerfile', Buffer.from('FROM alpine\nRUN true\n'), false],
    ['empty input', Buffer.alloc(0), false],
    ['an all-zero block (an empty tar)', Buffer.alloc(1024), false],
    ['gzip magic', Buffer.from([0x1f, 0x8b, 0x08, 0]), true],
    ['bzip2 magic', Buffer.from('BZh91AY'), true],
    ['xz magic', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1]), true],
    ['zstd magic', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]), true],
    ['gzip magic without the deflate method', Buffer.from([0x1f, 0x8b, 0x07, 0]), false],
  ];
  for (const [name, head, want] of cases) it(`${name} → ${want}`, () => assert.equal(isArchive(head), want));
  it('a tar header → true (ustar and v7)', async () => {
    const tar = await tarOf([{ name: 'Dockerfile', body: 'FROM x\n' }]);
    assert.equal(isArchive(tar.subarray(0, 1024)), true);
    const v7 = Buffer.from(tar.subarray(0, 512));
    v7.fill(0, 257, 512); // drop the ustar fields, fix the checksum
    v7.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of v7) sum += b;
    v7.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    assert.equal(isArchive(v7), true);
  });
});

describe('prepareContext: a local path', () => {
  it('uses a directory in place and cleanup leaves it alone', async () => {
    await writeFile(join(tempDir, 'Dockerfile'), 'FROM x\n');
    const ctx = await prepareContext(tempDir);
    assert.equal(ctx.kind, 'local');
    assert.equal(ctx.dir, tempDir);
    await ctx.cleanup();
    assert.deepEqual(await readdir(tempDir), ['Dockerfile']);
  });
  it('refuses a missing path in Docker words', async () => {
    await rejectsWith(prepareContext('no/such/dir'), 'NOT_FOUND', /^unable to prepare context: path "no\/such\/dir" not found$/);
  });
  it('unpacks a local tarball (docker/cli refuses one) into a directory that cleanup removes', async () => {
    const file = join(tempDir, 'ctx.tar.gz');
    await writeFile(file, gzipSync(await tarOf([{ name: 'Dockerfile', body: 'FROM x\n' }])));
    const ctx = await prepareContext(file, { tempDir });
    assert.equal(ctx.kind, 'local-archive');
    assert.equal(await readFile(join(ctx.dir, 'Dockerfile'), 'utf8'), 'FROM x\n');
    await ctx.cleanup();
    assert.deepEqual((await readdir(tempDir)).sort(), ['ctx.tar.gz']);
  });
  it('refuses any other file as docker/cli does ("context must be a directory")', async () => {
    const file = join(tempDir, 'Dockerfile');
    await writeFile(file, 'FROM x\n');
    await rejectsWith(prepareContext(file), 'INVALID_ARGUMENT', new RegExp(`^unable to prepare context: context must be a directory: ${file}$`));
  });
  it('does not fetch remote tarballs yet', async () => {
    await rejectsWith(prepareContext('https://example.invalid/ctx.tar.gz'), 'NOT_IMPLEMENTED', /remote URL contexts are not supported yet/);
  });
});

describe('prepareContext: stdin archive', () => {
  const entries: Entry[] = [
    { name: 'Dockerfile', body: 'FROM scratch\nCOPY . /\n', mode: 0o644 },
    { name: 'src', type: 'directory', mode: 0o750, uid: 1000, gid: 1001 },
    { name: 'src/main.sh', body: '#!/bin/sh\necho hi\n', mode: 0o4755, uid: 1000, gid: 1001 },
    { name: './deep/er/file.txt', body: 'parents are made\n' }, // no directory entries before it
    { name: 'link', type: 'symlink', linkname: '/etc/passwd' }, // kept as is: COPY decides
    { name: 'hard', type: 'link', linkname: 'src/main.sh' },
    { name: '.wh.not-a-whiteout', body: 'a context is not a layer\n' },
    { name: 'src/main.sh', body: '#!/bin/sh\necho later wins\n', mode: 0o755, uid: 1000, gid: 1001 },
  ];

  async function check(ctx: ContextSource): Promise<void> {
    assert.equal(ctx.kind, 'stdin-archive');
    assert.equal(ctx.dockerfileFromStdin, undefined);
    assert.ok(ctx.dir.startsWith(tempDir));
    assert.equal(await readFile(join(ctx.dir, 'Dockerfile'), 'utf8'), 'FROM scratch\nCOPY . /\n');
    assert.equal(await readFile(join(ctx.dir, 'deep/er/file.txt'), 'utf8'), 'parents are made\n');
    assert.equal((await stat(join(ctx.dir, 'deep'))).mode & 0o7777, 0o755);
    assert.equal(await readlink(join(ctx.dir, 'link')), '/etc/passwd');
    assert.equal(await readFile(join(ctx.dir, '.wh.not-a-whiteout'), 'utf8'), 'a context is not a layer\n');
    assert.equal(await readFile(join(ctx.dir, 'src/main.sh'), 'utf8'), '#!/bin/sh\necho later wins\n');
    assert.equal(await readFile(join(ctx.dir, 'hard'), 'utf8'), '#!/bin/sh\necho hi\n'); // linked to the first one
    const src = await stat(join(ctx.dir, 'src'));
    assert.equal(src.mode & 0o7777, 0o750);
    const main = await stat(join(ctx.dir, 'src/main.sh'));
    assert.equal(main.mode & 0o7777, 0o755);
    assert.equal(main.mtimeMs, 1_600_000_000_000);
    assert.equal(src.mtimeMs, 1_600_000_000_000);
    if (isRoot) {
      assert.deepEqual([main.uid, main.gid, src.uid, src.gid], [1000, 1001, 1000, 1001]);
      assert.equal((await stat(join(ctx.dir, 'hard'))).mode & 0o7777, 0o4755);
    }
    await ctx.cleanup();
    await ctx.cleanup(); // idempotent
    await assertNothingLeft();
  }

  it('unpacks a plain tar, keeping modes, owners and times', async () => {
    await check(await prepareContext('-', { stdin: stdinOf(await tarOf(entries)), tempDir }));
  });
  it('unpacks a gzip-compressed tar', async () => {
    await check(await prepareContext('-', { stdin: stdinOf(gzipSync(await tarOf(entries))), tempDir }));
  });
  it('unpacks a zstd-compressed tar with the zstd program', { skip: !hasZstd && 'zstd is not installed' }, async () => {
    const zst = execFileSync('zstd', ['-c', '-q'], { input: await tarOf(entries) });
    await check(await prepareContext('-', { stdin: stdinOf(zst), tempDir }));
  });

  const refused: [string, () => Promise<Buffer>, string, RegExp][] = [
    ['bzip2', async () => execFileSync('bzip2', ['-c'], { input: await tarOf(entries) }), 'INVALID_ARGUMENT', /bzip2-compressed build contexts are not supported/],
    ['xz', async () => Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]), 'INVALID_ARGUMENT', /xz-compressed build contexts are not supported/],
    ['corrupt gzip', async () => Buffer.concat([gzipSync(await tarOf(entries)).subarray(0, 200), Buffer.alloc(50, 7)]), 'INVALID_ARGUMENT', /invalid context archive/],
    ['truncated tar', async () => (await tarOf(entries)).subarray(0, 1100), 'INVALID_ARGUMENT', /invalid context archive/],
    ['gzip of a non-tar', async () => gzipSync(Buffer.from('FROM x\n'.repeat(200))), 'INVALID_ARGUMENT', /invalid context archive/],
  ];
  for (const [name, make, code, message] of refused) {
    it(`refuses ${name} and leaves nothing behind`, async () => {
      await rejectsWith(prepareContext('-', { stdin: stdinOf(await make()), tempDir }), code, message);
      await assertNothingLeft();
    });
  }
  if (hasZstd) {
    it('refuses corrupt zstd and leaves nothing behind', async () => {
      const zst = execFileSync('zstd', ['-c', '-q'], { input: await tarOf(entries) });
      const bad = Buffer.concat([zst.subarray(0, 40), Buffer.alloc(200, 9)]);
      await rejectsWith(prepareContext('-', { stdin: stdinOf(bad), tempDir }), 'INVALID_ARGUMENT', /invalid context archive/);
      await assertNothingLeft();
    });
  }

  it('says so when the zstd program is missing, and leaves nothing behind', async () => {
    const zst = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    const path = process.env.PATH;
    process.env.PATH = join(tempDir, 'no-bin');
    try {
      await rejectsWith(prepareContext('-', { stdin: stdinOf(zst), tempDir }), 'FAILED_PRECONDITION', /zstd-compressed and the zstd program was not found/);
    } finally {
      process.env.PATH = path;
    }
    await assertNothingLeft();
  });

  it('takes owners and times from pax records', { skip: !isRoot && 'chown needs root' }, async () => {
    const tar = await tarOf([{ name: 'f', body: 'x', pax: { uid: '3000000', gid: '3000001', mtime: '1700000000.5' } }]);
    const ctx = await prepareContext('-', { stdin: stdinOf(tar), tempDir });
    const st = await stat(join(ctx.dir, 'f'));
    assert.deepEqual([st.uid, st.gid, st.mtimeMs], [3000000, 3000001, 1_700_000_000_500]);
    await ctx.cleanup();
  });

  it('streams: a large file never sits in memory', async () => {
    const size = 96 << 20;
    const header = (await tarOf([{ name: 'big', body: Buffer.alloc(0) }])).subarray(0, 512);
    const h = Buffer.from(header);
    h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1'); // size field
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    let peak = 0;
    const chunk = Buffer.alloc(1 << 16, 0x61);
    const source = Readable.from((function* () {
      yield h;
      for (let sent = 0; sent < size; sent += chunk.length) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        yield chunk;
      }
      yield Buffer.alloc(1024);
    })());
    const before = process.memoryUsage().arrayBuffers;
    const ctx = await prepareContext('-', { stdin: source, tempDir });
    assert.equal((await stat(join(ctx.dir, 'big'))).size, size);
    assert.ok(peak - before < 32 << 20, `peak grew by ${(peak - before) >> 20} MiB`);
    await ctx.cleanup();
  });
});

describe('prepareContext: cancellation', () => {
  it('stops unpacking a stdin archive and leaves nothing behind', async () => {
    const ac = new AbortController();
    const tar = await tarOf([{ name: 'a', body: 'x' }]);
    const endless = Readable.from((async function* () {
      yield tar.subarray(0, 1024); // a header and its data, no end blocks
      ac.abort();
      await new Promise((resolve) => setTimeout(resolve, 10_000).unref());
    })());
    await assert.rejects(prepareContext('-', { stdin: endless, tempDir, signal: ac.signal }), (err: unknown) => isGantryError(err, 'CANCELED'));
    await assertNothingLeft();
  });
});

describe('prepareContext: hostile archives', () => {
  // Each archive tries to write `escaped` next to the temporary directory; nothing may appear there.
  const cases: [string, Entry[], RegExp][] = [
    ['a ../ path', [{ name: '../escaped', body: 'x' }], /archive entry "\.\.\/escaped" is outside of the context directory/],
    ['a ../ path in the middle', [{ name: 'a/../../escaped', body: 'x' }], /archive entry "a\/\.\.\/\.\.\/escaped" is outside/],
    ['an absolute path', [{ name: '/escaped', body: 'x' }], /archive entry "\/escaped" is outside/],
    ['a path through a symlink', [{ name: 'l', type: 'symlink', linkname: '..' }, { name: 'l/escaped', body: 'x' }], /archive entry "l\/escaped" goes through symlink "l"/],
    ['a path through an absolute symlink', [{ name: 'd', type: 'directory' }, { name: 'd/l', type: 'symlink', linkname: '/tmp' }, { name: 'd/l/escaped', body: 'x' }], /archive entry "d\/l\/escaped" goes through symlink "d\/l"/],
    ['a hard link to outside', [{ name: 'h', type: 'link', linkname: '../escaped' }], /hard link "h" points outside of the context directory/],
    ['a hard link to an absolute path', [{ name: 'h', type: 'link', linkname: '/etc/passwd' }], /hard link "h" points outside/],
    ['a hard link through a symlink', [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 'l/passwd' }], /hard link "h" points to "l\/passwd" goes through symlink "l"/],
    ['a hard link to a missing file', [{ name: 'h', type: 'link', linkname: 'nope' }], /hard link "h" points to "nope", which is not in the archive/],
    ['a file replacing the root', [{ name: './', type: 'symlink', linkname: '/' }], /would replace the context directory/],
  ];
  for (const [name, entries, message] of cases) {
    it(`refuses ${name}, naming the entry`, async () => {
      const outer = await mkdtemp(join(tmpdir(), 'gantry-sources-outer-'));
      const inner = join(outer, 'tmp');
      await mkdir(inner);
      try {
        await assert.rejects(prepareContext('-', { stdin: stdinOf(await tarOf(entries)), tempDir: inner }), (err: unknown) => {
          assert.ok(isGantryError(err, 'INVALID_ARGUMENT'), String(err));
          assert.match(err.message, /^unable to prepare context: /);
          assert.match(err.message, message);
          return true;
        });
        assert.deepEqual(await readdir(outer), ['tmp']);
        assert.deepEqual(await readdir(inner), []);
      } finally {
        await rm(outer, { recursive: true, force: true });
      }
    });
  }
});

describe('prepareContext: a Dockerfile on stdin', () => {
  it('gives an empty context and the Dockerfile', async () => {
    const text = 'FROM alpine\nRUN echo hi\n'.repeat(100); // longer than what is peeked
    const ctx = await prepareContext('-', { stdin: stdinOf(Buffer.from(text), 7), tempDir });
    assert.equal(ctx.kind, 'stdin-dockerfile');
    assert.equal(ctx.dockerfileFromStdin?.toString(), text);
    assert.deepEqual(await readdir(ctx.dir), []);
    assert.ok((await lstat(ctx.dir)).isDirectory());
    await ctx.cleanup();
    await assertNothingLeft();
  });
  it('an empty stdin is an empty Dockerfile', async () => {
    const ctx = await prepareContext('-', { stdin: stdinOf(Buffer.alloc(0)), tempDir });
    assert.equal(ctx.dockerfileFromStdin?.length, 0);
    await ctx.cleanup();
  });
  it('refuses -f with a Dockerfile on stdin (buildx wording)', async () => {
    await rejectsWith(prepareContext('-', { stdin: stdinOf(Buffer.from('FROM x\n')), dockerfile: 'Dockerfile.dev', tempDir }), 'INVALID_ARGUMENT', /^ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles$/);
    await assertNothingLeft();
  });
  it('refuses -f - with a - context', async () => {
    await rejectsWith(prepareContext('-', { stdin: stdinOf(Buffer.from('FROM x\n')), dockerfile: '-', tempDir }), 'INVALID_ARGUMENT', /^invalid argument: can't use stdin for both build context and dockerfile$/);
  });
  it('-f naming a file inside an archive on stdin is fine', async () => {
    const ctx = await prepareContext('-', { stdin: stdinOf(await tarOf([{ name: 'Dockerfile.dev', body: 'FROM x\n' }])), dockerfile: 'Dockerfile.dev', tempDir });
    assert.deepEqual(await readdir(ctx.dir), ['Dockerfile.dev']);
    await ctx.cleanup();
  });
});
