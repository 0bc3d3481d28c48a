import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { escapeLike, HubDataStore } from './hub-data-store.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';

describe('HubDataStore', () => {
  let dir: string;
  let meta: SqliteMetadataStore;
  let data: HubDataStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-hub-data-'));
    meta = new SqliteMetadataStore(dir);
    data = new HubDataStore(meta.db);
  });
  after(async () => {
    meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('escapes LIKE wildcards', () => {
    assert.equal(escapeLike('a%b_c\\d'), 'a\\%b\\_c\\\\d');
  });

  it('searches by rank, then stars, then pulls, with wildcards taken literally', () => {
    for (const n of ['a/web', 'b/webby', 'c/my_web', 'd/myxweb', 'e/zzz']) assert.equal(data.createRepository(n, n === 'e/zzz' ? 'a web thing' : ''), true);
    assert.equal(data.createRepository('a/web', ''), false);
    data.setStar('d/myxweb', 'u1', true);
    data.countPull('c/my_web');
    assert.deepEqual(
      data.search('web', 10).map((r) => [r.name, r.rank]),
      [
        ['a/web', 0],
        ['b/webby', 1],
        ['d/myxweb', 2],
        ['c/my_web', 2],
        ['e/zzz', 3],
      ],
    );
    assert.deepEqual(data.search('my_', 10).map((r) => r.name), ['c/my_web']);
    assert.deepEqual(data.search('%', 10), []);
    assert.deepEqual(data.search("'); DROP TABLE repositories; --", 10), []);
    assert.equal(data.search('', 10).length, 5);
  });

  it('keeps sessions hashed, and forgets expired ones', () => {
    data.createSession('tok', 'alice', 'csrf', Date.now() + 60_000);
    data.createSession('old', 'bob', 'csrf2', Date.now() - 1);
    assert.deepEqual(data.session('tok'), { username: 'alice', csrf: 'csrf' });
    assert.equal(data.session('old'), undefined);
    assert.equal(meta.db.prepare('SELECT COUNT(*) FROM sessions WHERE hash = ?').pluck().get('tok'), 0);
    data.deleteSession('tok');
    assert.equal(data.session('tok'), undefined);
  });

  it('deletes a repository with its metadata', () => {
    const w = data.addWebhook('a/web', 'ci', 'http://127.0.0.1:1/');
    data.addDelivery(w.id, 'push', '{}');
    assert.equal(data.deleteRepository('a/web'), true);
    assert.equal(data.repository('a/web'), undefined);
    assert.deepEqual(data.webhooks('a/web'), []);
    assert.deepEqual(data.pendingDeliveries(), []);
  });
});
