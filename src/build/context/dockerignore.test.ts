import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { cleanPath, IgnoreMatcher, loadIgnoreMatcher, parseDockerignore } from './dockerignore.js';
import { compilePattern } from './ignore-pattern.js';

// [pattern, path, excluded]: moby/patternmatcher's TestMatches and TestMatch (Go's own
// filepath.Match table) behaviour, through MatchesOrParentMatches.
const single: [string, string, boolean][] = [
  ['*', 'fileutils.go', true],
  ['*.go', 'fileutils.go', true],
  ['**', 'file', true],
  ['**', 'file/', true],
  ['**/', 'file', true],
  ['**', 'dir/file', true],
  ['**/', 'dir/file', true],
  ['**/**', 'dir/file', true],
  ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/dir2/file', true],
  ['dir/**', 'dir/dir2/file/', true],
  ['**/dir', 'dir', true],
  ['**/dir', 'dir/file', true],
  ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**file', 'file', true],
  ['**file', 'dir/file', true],
  ['**file', 'dir/dir/file', true],
  ['**file', 'dir/profile', true], // patternmatcher's suffix match: kept for fidelity
  ['**/file', 'dir/dir/file', true],
  ['**/file', 'dir/profile', false],
  ['**/file*', 'dir/dir/file.txt', true],
  ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true],
  ['**/**/*.txt', 'file.txt', true],
  ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt', 'a/file.txt', true],
  ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false],
  ['a[b-d]e', 'ace', true],
  ['a[b-d]e', 'aae', false],
  ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true],
  ['.*', 'foo', false],
  ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true],
  ['abc?def', 'abcZdef', true],
  ['abc?def', 'abcdef', false],
  ['a\\\\', 'a\\', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['**/foo/bar', 'foo/bar', true],
  ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false],
  ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false],
  ['a(b)c/def', 'a(b)c/def', true],
  ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['a^b', 'a^b', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['abc', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'ab/c', true],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[!a]', '!', true], // Go has no "!" negation: a class of "!" and "a"
  ['[!a]', 'b', false],
  ['[*]', '*', true],
  ['[*]', 'x', false],
  ['*x', 'xxx', true],
  // parent-directory matching and cleaning
  ['dir', 'dir/file', true],
  ['dir', 'dir/sub/file', true],
  ['dir/', 'dir/file', true],
  ['/dir', 'dir/file', true],
  ['./dir/../other//x/', 'other/x/y', true],
  ['dir', 'dirty', false],
  ['dir/file', 'dir', false],
  ['*/temp*', 'somedir/temporary.txt', true], // the Docker documentation's examples
  ['*/temp*', 'somedir/temp', true],
  ['*/temp*', 'temp', false],
  ['*/*/temp*', 'somedir/subdir/temporary.txt', true],
  ['*/*/temp*', 'somedir/temporary.txt', false],
  ['temp?', 'tempa', true],
  ['temp?', 'temp', false],
  ['**/*.go', 'a/b/c.go', true],
];

describe('IgnoreMatcher.matches: one pattern', () => {
  for (const [pattern, path, want] of single) {
    it(`${pattern} ~ ${path} = ${want}`, () => assert.equal(new IgnoreMatcher([pattern]).matches(path), want));
  }
  it('never excludes the context root', () => {
    assert.equal(new IgnoreMatcher(['**']).matches('.'), false);
    assert.equal(new IgnoreMatcher(['*']).matches('/'), false);
  });
});

// [patterns, path, excluded]: the last matching pattern wins; exceptions reach parents too.
const multi: [string[], string, boolean][] = [
  [['!fileutils.go', '*.go'], 'fileutils.go', true],
  [['*.go', '!fileutils.go'], 'fileutils.go', false],
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false],
  [['docs', '!docs/README.md'], 'docs/other.md', true],
  [['docs', '!docs/README.md'], 'docs', true],
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['*', '!dir'], 'dir/file', false],
  [['foo*', '!foo/bar2'], 'foo/bar', true],
  [['foo*', '!foo/bar2'], 'foo/bar2', false],
  [['**/bar', '!foo/bar/baz'], 'foo/bar/baz/x', false],
  [['foo', '!foo/bar', 'foo/bar/baz', '!foo/bar/baz/x'], 'foo/bar/baz/x/y', false],
  [['foo', '!foo/bar', 'foo/bar/baz', '!foo/bar/baz/x'], 'foo/bar/baz/y', true],
  [['foo', '!foo/bar', 'foo/bar/baz', '!foo/bar/baz/x'], 'foo/bar/q', false],
  // the Docker documentation's README examples
  [['*.md', '!README.md'], 'README.md', false],
  [['*.md', '!README.md'], 'CHANGES.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-public.md', false],
  [['*.md', 'README-secret.md', '!README*.md'], 'README-secret.md', false],
];

describe('IgnoreMatcher.matches: several patterns', () => {
  for (const [patterns, path, want] of multi) {
    it(`${patterns.join(' ')} ~ ${path} = ${want}`, () => assert.equal(new IgnoreMatcher(patterns).matches(path, false), want));
  }
});

describe('pattern syntax', () => {
  const bad = ['[', '[^', '[^bc', 'a[', '[]a]', '[-]', '[x-]', '[-x]', '[a-b-c]', '[z-a]', '\\', 'a\\', '!', '! '];
  for (const p of bad) {
    it(`rejects ${JSON.stringify(p)}`, () => assert.throws(() => new IgnoreMatcher([p]), (e) => isGantryError(e, 'INVALID_ARGUMENT')));
  }
  const kinds: [string, string][] = [
    ['*', 'regexp'], ['**', 'suffix'], ['**/**', 'regexp'], ['dir/**', 'prefix'], ['**/dir', 'suffix'],
    ['**/dir2/*', 'regexp'], ['abc.def', 'exact'], ['a(b)c/def', 'exact'], ['a\\*b', 'regexp'],
  ];
  for (const [p, kind] of kinds) it(`${p} is a ${kind} match`, () => assert.equal(compilePattern(p)?.kind, kind));
  it('skips blank patterns and reports exceptions', () => {
    const m = new IgnoreMatcher(['', '  ', 'a', ' !b ']);
    assert.equal(m.patterns.length, 2);
    assert.equal(m.hasExceptions, true);
    assert.equal(new IgnoreMatcher(['a']).hasExceptions, false);
  });
  const cleans: [string, string][] = [
    ['', '.'], ['a//b/./c/', 'a/b/c'], ['a/../../b', '../b'], ['/../a', '/a'], ['./', '.'], ['/', '/'],
  ];
  for (const [p, want] of cleans) it(`cleanPath(${JSON.stringify(p)}) = ${want}`, () => assert.equal(cleanPath(p), want));
});

describe('IgnoreMatcher.mayContainIncluded', () => {
  // [patterns, directory, may contain an included path]
  const cases: [string[], string, boolean][] = [
    [['foo'], 'foo', false],
    [['foo'], 'bar', true], // not excluded at all
    [['foo', '!foo/bar'], 'foo', true],
    [['foo', '!foo/bar'], 'foo/baz', false],
    [['foo', '!foo/bar/x'], 'foo/bar', true],
    [['foo', '!foo/bar'], 'foo/bar', true], // not excluded
    [['foo', '!foo/*.txt'], 'foo', true],
    [['foo', '!foo/*.txt'], 'foo/sub', false],
    [['foo', '!f*/keep'], 'foo', true],
    [['foo', '!g*/keep'], 'foo', false],
    [['foo', '!**/keep'], 'foo/deep/er', true],
    [['foo', '!foo/[ab]'], 'foo', true],
    [['foo', '!foo/bar/**'], 'foo/bar', true],
    [['foo', '!other'], 'foo', false],
    [['**', '!src'], 'node_modules', false],
    [['*', '!src/main.ts'], 'src', true],
  ];
  for (const [patterns, dir, want] of cases) {
    it(`${patterns.join(' ')} / ${dir} = ${want}`, () => assert.equal(new IgnoreMatcher(patterns).mayContainIncluded(dir), want));
  }
  it('agrees with matches: a skipped directory never holds an included path', () => {
    const patterns = ['a', '!a/b/c', 'x/*', '!x/y*/z', '**/tmp', '!keep/**/tmp'];
    const m = new IgnoreMatcher(patterns);
    const names = ['a', 'b', 'c', 'x', 'y1', 'z', 'tmp', 'keep'];
    const paths: string[] = [];
    const grow = (prefix: string, depth: number) => {
      for (const n of names) {
        const p = prefix ? `${prefix}/${n}` : n;
        paths.push(p);
        if (depth > 1) grow(p, depth - 1);
      }
    };
    grow('', 4);
    for (const dir of paths) {
      if (m.mayContainIncluded(dir)) continue;
      for (const p of paths) {
        if (p.startsWith(`${dir}/`)) assert.equal(m.matches(p), true, `${dir} skipped but ${p} is included`);
      }
    }
  });
});

describe('parseDockerignore', () => {
  it('reads lines like ignorefile.ReadAll', () => {
    const text = '\uFEFFtest1\r\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n  # not a comment\n! /inverted/abs/path\n!\n! \n  spaced/  \n';
    assert.deepEqual(parseDockerignore(text), [
      'test1', 'test2', 'a/file/here', 'lastfile', '# not a comment', '!inverted/abs/path', '!', '!', 'spaced',
    ]);
  });
});

describe('loadIgnoreMatcher', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-ignore-'));
    await mkdir(join(dir, 'build'));
    await writeFile(join(dir, '.dockerignore'), '*.log\nDockerfile\n.dockerignore\nbuild\n');
    await writeFile(join(dir, 'build', 'App.Dockerfile'), 'FROM scratch\n');
    await writeFile(join(dir, 'build', 'App.Dockerfile.dockerignore'), '*.txt\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('uses <context>/.dockerignore and keeps itself and the Dockerfile', async () => {
    const { matcher, file } = await loadIgnoreMatcher({ contextDir: dir, dockerfile: join(dir, 'Dockerfile') });
    assert.equal(file, join(dir, '.dockerignore'));
    assert.equal(matcher.matches('x.log'), true);
    assert.equal(matcher.matches('Dockerfile'), false);
    assert.equal(matcher.matches('.dockerignore'), false);
    assert.equal(matcher.matches('a.txt'), false);
  });
  it('prefers <Dockerfile>.dockerignore', async () => {
    const { matcher, file } = await loadIgnoreMatcher({ contextDir: dir, dockerfile: join(dir, 'build', 'App.Dockerfile') });
    assert.equal(file, join(dir, 'build', 'App.Dockerfile.dockerignore'));
    assert.equal(matcher.matches('a.txt'), true);
    assert.equal(matcher.matches('x.log'), false);
  });
  it('keeps a Dockerfile inside an excluded directory', async () => {
    await writeFile(join(dir, 'build', 'Other.Dockerfile'), 'FROM scratch\n');
    const { matcher } = await loadIgnoreMatcher({ contextDir: dir, dockerfile: join(dir, 'build', 'Other.Dockerfile') });
    assert.equal(matcher.matches('build'), true);
    assert.equal(matcher.matches('build/Other.Dockerfile'), false);
    assert.equal(matcher.matches('build/App.Dockerfile'), true);
    assert.equal(matcher.mayContainIncluded('build'), true);
  });
  it('excludes nothing without an ignore file', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gantry-ignore-'));
    try {
      const { matcher, file } = await loadIgnoreMatcher({ contextDir: empty });
      assert.equal(file, undefined);
      assert.equal(matcher.matches('anything'), false);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
