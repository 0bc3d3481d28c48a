import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from '../errors.js';
import { parseRange } from './blobs.js';

describe('parseRange', () => {
  it('reads one byte range, open-ended or suffix, clamped to the size', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
  });

  it('ignores what it does not serve (the whole blob goes), refuses what cannot be satisfied', () => {
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
    assert.equal(parseRange('items=0-1', 100), undefined);
    assert.equal(parseRange('bytes=9-1', 100), undefined);
    assert.throws(() => parseRange('bytes=100-', 100), (e) => isHubError(e) && e.status === 416 && e.headers['Content-Range'] === 'bytes */100');
    assert.throws(() => parseRange('bytes=-0', 100), (e) => isHubError(e) && e.status === 416);
  });
});
