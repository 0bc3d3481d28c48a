import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from './errors.js';
import { checkRepositoryName, isRepositoryName, isTag, parseManifestReference } from './names.js';

describe('repository names', () => {
  it('accepts the grammar of the distribution spec', () => {
    for (const ok of ['a', 'library/busybox', 'a.b_c__d-e--f/g0', 'x/y/z', 'a'.repeat(255)]) assert.ok(isRepositoryName(ok), ok);
  });

  it('refuses path tricks, case, empty components and long names', () => {
    for (const bad of ['', '..', '../x', 'a/../b', 'a/./b', './a', 'a//b', '/a', 'a/', 'A', 'a___b', 'a.-b', '-a', 'a-', '%2e%2e', 'a\\b', 'a'.repeat(256), 'a b']) {
      assert.ok(!isRepositoryName(bad), bad);
      assert.throws(() => checkRepositoryName(bad), (e) => isHubError(e, 'NAME_INVALID') && e.status === 400);
    }
  });
});

describe('manifest references', () => {
  it('tells tags from digests', () => {
    assert.deepEqual(parseManifestReference('v1.0_rc-1'), { tag: 'v1.0_rc-1' });
    const d = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseManifestReference(d), { digest: d });
    assert.ok(isTag('a'.repeat(128)));
    assert.ok(!isTag('a'.repeat(129)));
    assert.ok(!isTag('.hidden'));
  });

  it('refuses bad tags with MANIFEST_INVALID and bad digests with DIGEST_INVALID', () => {
    assert.throws(() => parseManifestReference('-x'), (e) => isHubError(e, 'MANIFEST_INVALID'));
    assert.throws(() => parseManifestReference('sha256:abc'), (e) => isHubError(e, 'DIGEST_INVALID'));
    assert.throws(() => parseManifestReference(`md5:${'a'.repeat(32)}`), (e) => isHubError(e, 'DIGEST_INVALID'));
  });
});
