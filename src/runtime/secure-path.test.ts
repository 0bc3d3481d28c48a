import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isGantryError } from '../core/errors.js';
import { mkdirInRoot, resolveInRoot } from './secure-path.js';

describe('resolveInRoot', () => {
  let root = '';
  const at = (p: string) => path.join(root, p);
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'gantry-securepath-'));
    mkdirSync(at('etc'));
    mkdirSync(at('usr/lib'), { recursive: true });
    writeFileSync(at('etc/passwd'), '');
    symlinkSync('/etc/passwd', at('abs-passwd')); // absolute link: relative to the root, not the host
    symlinkSync('../../../../../etc/shadow', at('etc/rel-escape')); // relative link climbing out
    symlinkSync('/', at('rootlink'));
    symlinkSync('usr/lib', at('lib')); // relative link, resolved from its directory
    symlinkSync('../etc', at('usr/etc'));
    symlinkSync('loop-b', at('loop-a'));
    symlinkSync('loop-a', at('loop-b'));
    symlinkSync('/nowhere/deep', at('dangling'));
    symlinkSync('/usr/lib/../..', at('up'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('plain paths, `.`, `//` and missing components', () => {
    assert.equal(resolveInRoot(root, '/etc/passwd'), at('etc/passwd'));
    assert.equal(resolveInRoot(root, 'etc//./passwd'), at('etc/passwd'));
    assert.equal(resolveInRoot(root, '/'), root);
    assert.equal(resolveInRoot(root, ''), root);
    assert.equal(resolveInRoot(root, '/does/not/exist'), at('does/not/exist'));
  });

  test('`..` never climbs above the root', () => {
    assert.equal(resolveInRoot(root, '../../../etc/passwd'), at('etc/passwd'));
    assert.equal(resolveInRoot(root, '/etc/../../..'), root);
    assert.equal(resolveInRoot(root, '/missing/../../etc'), at('etc'));
  });

  test('absolute symlinks resolve inside the root', () => {
    assert.equal(resolveInRoot(root, '/abs-passwd'), at('etc/passwd'));
    assert.equal(resolveInRoot(root, '/rootlink/rootlink/etc/passwd'), at('etc/passwd'));
    assert.equal(resolveInRoot(root, '/dangling/x'), at('nowhere/deep/x'));
  });

  test('relative symlinks resolve from their directory and cannot escape', () => {
    assert.equal(resolveInRoot(root, '/etc/rel-escape'), at('etc/shadow'));
    assert.equal(resolveInRoot(root, '/lib/x.so'), at('usr/lib/x.so'));
    assert.equal(resolveInRoot(root, '/usr/etc/passwd'), at('etc/passwd'));
    assert.equal(resolveInRoot(root, '/up/etc'), at('etc'));
    // `..` after a symlink applies to where the link led (as the kernel does), not lexically.
    assert.equal(resolveInRoot(root, '/lib/..'), at('usr'));
    assert.equal(resolveInRoot(root, '/lib/../etc/passwd'), at('etc/passwd'), 'via usr/etc → ../etc');
  });

  test('symlink loops fail after 40 links', () => {
    assert.throws(() => resolveInRoot(root, '/loop-a/x'), (err) => isGantryError(err, 'INVALID_ARGUMENT') && /too many levels/.test(err.message));
  });

  test('a root given with a trailing slash or relative segments is cleaned', () => {
    assert.equal(resolveInRoot(`${root}/./`, '/abs-passwd'), at('etc/passwd'));
  });
});

describe('mkdirInRoot', () => {
  let root = '';
  const at = (p: string) => path.join(root, p);
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'gantry-mkdir-'));
    mkdirSync(at('var'));
    symlinkSync('/var', at('link-to-var'));
    symlinkSync('../../../../tmp', at('var/escape'));
    writeFileSync(at('file'), '');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('creates missing directories with the mode asked for, whatever the umask', () => {
    const old = process.umask(0o077);
    try {
      assert.equal(mkdirInRoot(root, '/app/src/deep', 0o755), at('app/src/deep'));
    } finally {
      process.umask(old);
    }
    for (const d of ['app', 'app/src', 'app/src/deep']) assert.equal(statSync(at(d)).mode & 0o7777, 0o755, d);
    assert.equal(mkdirInRoot(root, 'app/src/deep'), at('app/src/deep'), 'existing directories are fine');
  });

  test('follows symlinks inside the root, never outside', () => {
    assert.equal(mkdirInRoot(root, '/link-to-var/lib/data'), at('var/lib/data'));
    assert.ok(lstatSync(at('var/lib/data')).isDirectory());
    const made = mkdirInRoot(root, '/var/escape/gantry-should-be-inside');
    assert.equal(made, at('tmp/gantry-should-be-inside'));
    assert.ok(lstatSync(made).isDirectory());
  });

  test('a file in the way is INVALID_ARGUMENT', () => {
    assert.throws(() => mkdirInRoot(root, '/file/sub'), (err) => isGantryError(err, 'INVALID_ARGUMENT') && /not a directory/.test(err.message));
    assert.throws(() => mkdirInRoot(root, '/file'), /not a directory/);
  });
});
