import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { ContextChecksums } from './checksum.js';
import { walkContext, type ContextEntry } from './context.js';
import { IgnoreMatcher, loadIgnoreMatcher } from './dockerignore.js';

async function collect(dir: string, ignore?: IgnoreMatcher): Promise<ContextEntry[]> {
  const out: ContextEntry[] = [];
  for await (const e of walkContext(dir, { ignore })) out.push(e);
  return out;
}
const paths = (entries: ContextEntry[]) => entries.map((e) => e.path);

describe('walkContext', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-context-'));
    for (const d of ['src/lib', 'node_modules/pkg', 'docs/img', 'b']) await mkdir(join(dir, d), { recursive: true });
    for (const f of ['src/main.ts', 'src/lib/a.ts', 'node_modules/pkg/index.js', 'docs/README.md', 'docs/img/x.png', 'a.txt', 'b/z', 'Dockerfile', 'x.log']) {
      await writeFile(join(dir, f), `content of ${f}\n`);
    }
    await writeFile(join(dir, '.dockerignore'), 'node_modules\n*.log\ndocs\n!docs/README.md\n.dockerignore\nDockerfile\n');
    await symlink('/etc/passwd', join(dir, 'outside'));
    await symlink('src', join(dir, 'srclink'));
    await chmod(join(dir, 'b/z'), 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('yields every path, sorted, parents first, without ignore rules', async () => {
    assert.deepEqual(paths(await collect(dir)), [
      '.dockerignore', 'Dockerfile', 'a.txt', 'b', 'b/z', 'docs', 'docs/README.md', 'docs/img', 'docs/img/x.png',
      'node_modules', 'node_modules/pkg', 'node_modules/pkg/index.js', 'outside', 'src', 'src/lib', 'src/lib/a.ts',
      'src/main.ts', 'srclink', 'x.log',
    ]);
  });

  it('leaves out excluded paths, keeps the Dockerfile, .dockerignore and re-included files with their parent', async () => {
    const { matcher } = await loadIgnoreMatcher({ contextDir: dir, dockerfile: join(dir, 'Dockerfile') });
    assert.deepEqual(paths(await collect(dir, matcher)), [
      '.dockerignore', 'Dockerfile', 'a.txt', 'b', 'b/z', 'docs', 'docs/README.md', 'outside', 'src', 'src/lib',
      'src/lib/a.ts', 'src/main.ts', 'srclink',
    ]);
  });

  it('does not read an excluded directory no exception reaches', async () => {
    // A directory the walker reads has its children matched; record which paths were asked about.
    const asked: string[] = [];
    class Spy extends IgnoreMatcher {
      override matches(p: string, isDir = false): boolean {
        asked.push(p);
        return super.matches(p, isDir);
      }
    }
    const got = paths(await collect(dir, new Spy(['node_modules', 'docs', '!docs/README.md'])));
    assert.ok(!asked.some((p) => p.startsWith('node_modules/')), asked.join(' '));
    assert.ok(asked.includes('docs/img'));
    assert.ok(!got.some((p) => p.startsWith('node_modules')));
    assert.ok(got.includes('src/main.ts'));
  });

  it('reports symlinks as symlinks, never following them', async () => {
    const entries = await collect(dir);
    const outside = entries.find((e) => e.path === 'outside')!;
    assert.equal(outside.type, 'symlink');
    assert.equal(outside.linkTarget, '/etc/passwd');
    const srclink = entries.find((e) => e.path === 'srclink')!;
    assert.equal(srclink.type, 'symlink');
    assert.ok(!entries.some((e) => e.path.startsWith('srclink/')));
  });

  it('reports type, mode, size and owner', async () => {
    const entries = await collect(dir);
    const z = entries.find((e) => e.path === 'b/z')!;
    assert.equal(z.type, 'file');
    assert.equal(z.mode, 0o755);
    assert.equal(z.size, 'content of b/z\n'.length);
    assert.equal(z.uid, process.getuid?.());
    assert.equal(entries.find((e) => e.path === 'b')!.type, 'dir');
  });

  it('refuses a missing context or a file', async () => {
    await assert.rejects(collect(join(dir, 'nope')), (e) => isGantryError(e, 'NOT_FOUND'));
    await assert.rejects(collect(join(dir, 'a.txt')), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
  });
});

describe('ContextChecksums', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-checksum-'));
    await mkdir(join(dir, 'app/sub'), { recursive: true });
    await writeFile(join(dir, 'app/one'), 'one\n');
    await writeFile(join(dir, 'app/sub/two'), 'two\n');
    await writeFile(join(dir, 'app/skip.log'), 'noise\n');
    await symlink('../../etc/hosts', join(dir, 'app/link'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is stable across instances and ignores mtime', async () => {
    const a = await new ContextChecksums(dir).checksum('app');
    await writeFile(join(dir, 'app/one'), 'one\n'); // same bytes, new mtime
    const b = await new ContextChecksums(dir).checksum('./app/');
    assert.equal(a, b);
    assert.match(a, /^sha256:[0-9a-f]{64}$/);
  });

  // [what changes, how] — each must change the file's and its directory's checksums
  const changes: [string, () => Promise<void>][] = [
    ['content', () => writeFile(join(dir, 'app/sub/two'), 'TWO\n')],
    ['mode', () => chmod(join(dir, 'app/sub/two'), 0o600)],
  ];
  for (const [what, change] of changes) {
    it(`changes when ${what} changes`, async () => {
      const before = new ContextChecksums(dir);
      const [file, tree, other] = await Promise.all([before.checksum('app/sub/two'), before.checksum('app'), before.checksum('app/one')]);
      await change();
      const now = new ContextChecksums(dir);
      assert.notEqual(await now.checksum('app/sub/two'), file);
      assert.notEqual(await now.checksum('app'), tree);
      assert.equal(await now.checksum('app/one'), other);
    });
  }

  it('changes when a symlink target changes, without following it', async () => {
    const before = await new ContextChecksums(dir).checksum('app/link');
    await rm(join(dir, 'app/link'));
    await symlink('/nowhere', join(dir, 'app/link'));
    assert.notEqual(await new ContextChecksums(dir).checksum('app/link'), before);
  });

  it('leaves excluded paths out of a directory and refuses them by name', async () => {
    const ignore = new IgnoreMatcher(['*/*.log']);
    const withLog = await new ContextChecksums(dir).checksum('app');
    const sums = new ContextChecksums(dir, ignore);
    const without = await sums.checksum('app');
    assert.notEqual(without, withLog);
    await writeFile(join(dir, 'app/skip.log'), 'other noise\n');
    assert.equal(await new ContextChecksums(dir, ignore).checksum('app'), without);
    await assert.rejects(sums.checksum('app/skip.log'), (e) => isGantryError(e, 'NOT_FOUND'));
    await assert.rejects(sums.checksum('missing'), (e) => isGantryError(e, 'NOT_FOUND'));
    await assert.rejects(sums.checksum('../x'), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
  });

  it('does not depend on the name of the directory summed', async () => {
    await mkdir(join(dir, 'copy'));
    await writeFile(join(dir, 'copy/two'), await readFile(join(dir, 'app/sub/two')));
    for (const [p, mode] of [['copy/two', 0o600], ['app/sub/two', 0o600], ['copy', 0o755], ['app/sub', 0o755]] as const) {
      await chmod(join(dir, p), mode);
    }
    const sums = new ContextChecksums(dir);
    assert.equal(await sums.checksum('copy'), await sums.checksum('app/sub'));
    await writeFile(join(dir, 'copy/three'), '3');
    assert.notEqual(await new ContextChecksums(dir).checksum('copy'), await sums.checksum('app/sub'));
  });

  it('refuses a path through a symlink', async () => {
    await symlink('app', join(dir, 'applink'));
    await assert.rejects(new ContextChecksums(dir).checksum('applink/one'), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
  });
});
