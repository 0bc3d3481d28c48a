import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ellipsis } from './ellipsis.js';

describe('ellipsis', () => {
  it('keeps text that fits and cuts longer text to max columns ending in …', () => {
    assert.equal(ellipsis('busybox', 45), 'busybox');
    assert.equal(ellipsis('x'.repeat(45), 45), 'x'.repeat(45));
    assert.equal(ellipsis('x'.repeat(46), 45), `${'x'.repeat(44)}…`);
    assert.equal(ellipsis('abc', 1), 'a');
    assert.equal(ellipsis('abc', 0), '');
  });

  it('counts display columns for wide characters', () => {
    // 6 CJK characters are 12 columns: at most 4 fit before the … in 10.
    assert.equal(ellipsis('日本語日本語', 10), '日本語日…');
    assert.equal(ellipsis('日本語日本', 10), '日本語日本');
    assert.equal(ellipsis('é'.repeat(12), 10), `${'é'.repeat(9)}…`);
  });
});
