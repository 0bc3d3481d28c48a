import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { parseGitUrl, type GitContextRef } from './git-source.js';
import { prepareContext } from './sources.js';

describe('parseGitUrl', () => {
  const cases: [string, GitContextRef][] = [
    ['https://github.com/docker/cli.git', { remote: 'https://github.com/docker/cli.git' }],
    ['https://github.com/docker/cli.git#v25.0.0', { remote: 'https://github.com/docker/cli.git', ref: 'v25.0.0' }],
    ['https://github.com/docker/cli.git#v25.0.0:build/ctx', { remote: 'https://github.com/docker/cli.git', ref: 'v25.0.0', subdir: 'build/ctx' }],
    ['https://github.com/docker/cli.git#:build', { remote: 'https://github.com/docker/cli.git', subdir: 'build' }],
    ['https://github.com/docker/cli.git#main:', { remote: 'https://github.com/docker/cli.git', ref: 'main' }],
    ['https://github.com/docker/cli.git#refs/pull/1/head:a:b', { remote: 'https://github.com/docker/cli.git', ref: 'refs/pull/1/head', subdir: 'a:b' }],
    ['https://host/r.git#main:dir%20with%20space', { remote: 'https://host/r.git', ref: 'main', subdir: 'dir with space' }],
    ['github.com/docker/cli#main', { remote: 'https://github.com/docker/cli', ref: 'main' }],
    ['git@github.com:docker/cli.git#main:sub', { remote: 'git@github.com:docker/cli.git', ref: 'main', subdir: 'sub' }],
    ['git://host/repo#abc1234', { remote: 'git://host/repo', ref: 'abc1234' }],
    ['ssh://git@host:2222/repo.git#v1', { remote: 'ssh://git@host:2222/repo.git', ref: 'v1' }],
    ['file:///srv/repo.git#main:sub', { remote: 'file:///srv/repo.git', ref: 'main', subdir: 'sub' }],
  ];
  for (const [arg, want] of cases) it(arg, () => assert.deepEqual(parseGitUrl(arg), want));

  it('refuses a ref that git would read as an option', () => {
    assert.throws(() => parseGitUrl('https://host/r.git#--upload-pack=evil'), (err: unknown) => {
      assert.ok(isGantryError(err, 'INVALID_ARGUMENT'));
      assert.equal(err.message, "unable to prepare context: unable to 'git clone' to temporary context directory: invalid refspec: --upload-pack=evil");
      return true;
    });
  });
});

describe('prepareContext: git repositories (local bare repositories, no network)', () => {
  let root = '';
  let tempDir = '';
  let url = '';
  const sha: Record<string, string> = {};
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
  };
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'protocol.file.allow=always', ...args], { cwd, env, encoding: 'utf8' }).trim();
  const commit = async (work: string, files: Record<string, string>, message: string) => {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(work, name, '..'), { recursive: true });
      await writeFile(join(work, name), text);
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', message);
    return git(work, 'rev-parse', 'HEAD');
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-git-'));
    tempDir = join(root, 'tmp');
    await mkdir(tempDir);
    // A library repository, used as a submodule.
    git(root, 'init', '-q', '--bare', '--initial-branch=main', 'lib.git');
    git(root, 'clone', '-q', `file://${root}/lib.git`, 'lib-work');
    await commit(join(root, 'lib-work'), { 'lib.txt': 'lib\n' }, 'lib');
    git(join(root, 'lib-work'), 'push', '-q', 'origin', 'main');

    git(root, 'init', '-q', '--bare', '--initial-branch=main', 'repo.git');
    url = `file://${root}/repo.git`;
    const work = join(root, 'work');
    git(root, 'clone', '-q', url, 'work');
    sha.one = await commit(work, { Dockerfile: 'one\n', 'sub/a.txt': 'one\n' }, 'one');
    await symlink('../..', join(work, 'link-out'));
    await symlink('sub', join(work, 'sub-link'));
    sha.two = await commit(work, { Dockerfile: 'two\n', 'sub/a.txt': 'two\n', 'file.txt': 'f\n' }, 'two');
    git(work, 'tag', '-a', '-m', 'v2', 'v2');
    git(work, 'branch', 'feature');
    sha.three = await commit(work, { Dockerfile: 'three\n', 'sub/a.txt': 'three\n' }, 'three');
    git(work, 'checkout', '-q', 'feature');
    await commit(work, { Dockerfile: 'feature\n' }, 'feature');
    git(work, 'checkout', '-q', '-b', 'with-sub', 'main');
    git(work, 'submodule', 'add', '-q', `file://${root}/lib.git`, 'lib');
    await commit(work, { Dockerfile: 'with-sub\n' }, 'with submodule');
    git(work, 'push', '-q', '--all', 'origin');
    git(work, 'push', '-q', '--tags', 'origin');
  });
  after(() => rm(root, { recursive: true, force: true }));

  const good: [string, () => string, string, Record<string, string>][] = [
    ['no ref: the remote HEAD', () => url, 'three\n', { 'sub/a.txt': 'three\n' }],
    ['a branch', () => `${url}#feature`, 'feature\n', {}],
    ['an annotated tag', () => `${url}#v2`, 'two\n', { 'file.txt': 'f\n' }],
    ['a commit that no ref points at', () => `${url}#${sha.one}`, 'one\n', {}],
    ['an abbreviated commit', () => `${url}#${sha.one?.slice(0, 10)}`, 'one\n', {}],
    ['submodules, recursively', () => `${url}#with-sub`, 'with-sub\n', { 'lib/lib.txt': 'lib\n' }],
  ];
  for (const [name, arg, dockerfile, files] of good) {
    it(`clones ${name}`, async () => {
      const ctx = await prepareContext(arg(), { tempDir });
      assert.equal(ctx.kind, 'git');
      assert.ok(ctx.dir.startsWith(tempDir));
      assert.equal(await readFile(join(ctx.dir, 'Dockerfile'), 'utf8'), dockerfile);
      for (const [f, text] of Object.entries(files)) assert.equal(await readFile(join(ctx.dir, f), 'utf8'), text);
      await ctx.cleanup();
      assert.deepEqual(await readdir(tempDir), []);
    });
  }

  it('clones a branch shallowly', async () => {
    const ctx = await prepareContext(`${url}#main`, { tempDir });
    assert.equal(git(ctx.dir, 'rev-list', '--count', 'HEAD'), '1');
    assert.equal(git(ctx.dir, 'rev-parse', 'HEAD'), sha.three);
    await ctx.cleanup();
  });

  const subdirs: [string, string, string][] = [
    ['a subdirectory', 'main:sub', 'three\n'],
    ['a subdirectory of the remote HEAD', ':sub', 'three\n'],
    ['a subdirectory reached through a symlink inside the checkout', 'v2:sub-link', 'two\n'],
  ];
  for (const [name, fragment, text] of subdirs) {
    it(`uses ${name}`, async () => {
      const ctx = await prepareContext(`${url}#${fragment}`, { tempDir });
      assert.equal(await readFile(join(ctx.dir, 'a.txt'), 'utf8'), text);
      assert.deepEqual(await readdir(ctx.dir), ['a.txt']);
      await ctx.cleanup();
      assert.deepEqual(await readdir(tempDir), []);
    });
  }

  const PREFIX = "unable to prepare context: unable to 'git clone' to temporary context directory: ";
  const bad: [string, () => string, string, RegExp][] = [
    ['a missing ref', () => `${url}#nope`, 'UNAVAILABLE', /error fetching: fatal: couldn't find remote ref nope/],
    ['a missing repository', () => `file://${root}/none.git`, 'UNAVAILABLE', /error fetching: fatal: .*none\.git/],
    ['a missing commit', () => `${url}#0123456789abcdef0123456789abcdef01234567`, 'NOT_FOUND', /error checking out 0123456789abcdef0123456789abcdef01234567: /],
    ['a missing subdirectory', () => `${url}#main:missing`, 'NOT_FOUND', /error setting git context, subdirectory "missing" does not exist/],
    ['a subdirectory escaping the checkout', () => `${url}#main:../..`, 'INVALID_ARGUMENT', /error setting git context, "\.\.\/\.\." not within git root/],
    ['a subdirectory through a symlink out of the checkout', () => `${url}#v2:link-out`, 'INVALID_ARGUMENT', /error setting git context, "link-out" not within git root/],
    ['the .git directory', () => `${url}#main:.git`, 'INVALID_ARGUMENT', /".git" not within git root/],
    ['a file as subdirectory', () => `${url}#v2:file.txt`, 'INVALID_ARGUMENT', /error setting git context, not a directory: file\.txt/],
    ['a ref starting with -', () => `${url}#-oops`, 'INVALID_ARGUMENT', /invalid refspec: -oops/],
  ];
  for (const [name, arg, code, message] of bad) {
    it(`refuses ${name} in one line and leaves nothing behind`, async () => {
      await assert.rejects(prepareContext(arg(), { tempDir }), (err: unknown) => {
        assert.ok(isGantryError(err), String(err));
        assert.equal(err.code, code, err.message);
        assert.ok(err.message.startsWith(PREFIX), err.message);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
      assert.deepEqual(await readdir(tempDir), []);
    });
  }

  it('cancels a clone and leaves nothing behind', async () => {
    const ac = new AbortController();
    const preparing = prepareContext(`${url}#with-sub`, { tempDir, signal: ac.signal });
    ac.abort(); // after the first check: the running git is killed
    await assert.rejects(preparing, (err: unknown) => isGantryError(err, 'CANCELED'));
    assert.deepEqual(await readdir(tempDir), []);
    await assert.rejects(prepareContext(url, { tempDir, signal: ac.signal }), (err: unknown) => isGantryError(err, 'CANCELED'));
  });
});
