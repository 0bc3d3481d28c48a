import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRules, matchRules, targetTag } from './rules.js';

const rule = (source_type: 'branch' | 'tag', source: string, target_tag: string) => ({ source_type, source, target_tag, dockerfile: 'Dockerfile', context: '/' });

describe('build rules', () => {
  it('match exact names and whole-name regexes, by source type', () => {
    assert.equal(targetTag(rule('branch', 'main', 'latest'), { type: 'branch', name: 'main' }), 'latest');
    assert.equal(targetTag(rule('branch', 'main', 'latest'), { type: 'tag', name: 'main' }), undefined);
    assert.equal(targetTag(rule('branch', 'main', 'latest'), { type: 'branch', name: 'main2' }), undefined);
    assert.equal(targetTag(rule('tag', '/v([0-9]+)/', 'x{\\1}'), { type: 'tag', name: 'av1b' }), 'x1'); // unanchored: a match anywhere
    assert.equal(targetTag(rule('tag', '/^v([0-9]+)$/', 'x'), { type: 'tag', name: 'av1b' }), undefined);
    assert.equal(targetTag(rule('tag', '/^v([0-9]+)\\.([0-9]+)$/', 'release-{\\1}-{\\2}'), { type: 'tag', name: 'v1.20' }), 'release-1-20');
  });

  it('substitute {sourceref}, making slashes of branch names valid tag characters', () => {
    assert.equal(targetTag(rule('branch', '/.*/', '{sourceref}'), { type: 'branch', name: 'feature/x' }), 'feature-x');
    assert.equal(targetTag(rule('branch', '/.*/', '{sourceref}'), { type: 'branch', name: '-bad' }), undefined);
    assert.deepEqual(
      matchRules([rule('branch', 'main', 'latest'), rule('branch', '/^ma/', 'dev-{sourceref}')], { type: 'branch', name: 'main' }).map((m) => [m.index, m.tag]),
      [
        [0, 'latest'],
        [1, 'dev-main'],
      ],
    );
  });

  it('refuse bad rules when settings are saved', () => {
    assert.throws(() => checkRules([{ source_type: 'commit', source: 'x' }]), /source_type/);
    assert.throws(() => checkRules([{ source_type: 'tag', source: '/(/' }]), /rules\[0\]\.source/);
    assert.throws(() => checkRules([{ source_type: 'tag', source: 'v1', dockerfile: '../../etc/passwd' }]), /dockerfile/);
    assert.throws(() => checkRules([{ source_type: 'tag', source: 'v1', context: 'a/../..' }]), /context/);
    assert.deepEqual(checkRules([{ source_type: 'branch', source: 'main' }]), [{ source_type: 'branch', source: 'main', target_tag: 'latest', dockerfile: 'Dockerfile', context: '/' }]);
  });
});
