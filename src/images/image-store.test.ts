import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chainIds, sha256 } from '../core/digest.js';
import { type Db, openDatabase } from '../metadata/database.js';
import { ImageStore } from './image-store.js';

describe('ImageStore', () => {
  let dir: string;
  let db: Db;
  let store: ImageStore;
  const layer = sha256('layer');
  const image = (n: string) => ({
    id: sha256(`config ${n}`),
    manifestDigest: sha256(`manifest ${n}`),
    manifestType: 'application/vnd.oci.image.manifest.v1+json',
    created: '2024-01-01T00:00:00Z',
    size: 10,
    parent: '',
    layers: [{ diffId: layer, chainId: chainIds([layer])[0]!, blobDigest: layer, mediaType: 'application/vnd.oci.image.layer.v1.tar', blobSize: 5 }],
  });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-images-'));
    db = openDatabase(join(dir, 'gantry.db'));
    store = new ImageStore(db);
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores an image with its layers and names, and finds it by name and ID prefix', () => {
    const a = image('a');
    assert.deepEqual(store.put(a, [{ name: 'docker.io/library/a:latest', kind: 'tag' }]), []);
    const rec = store.get(a.id);
    assert.equal(rec?.layers.length, 1);
    assert.deepEqual(rec?.names, [{ name: 'docker.io/library/a:latest', kind: 'tag' }]);
    assert.equal(store.idByName('docker.io/library/a:latest'), a.id);
    assert.deepEqual(store.idsByPrefix(a.id.slice(7, 14)), [a.id]);
    assert.ok(rec?.lastTagTime);
  });

  it('moves a tag from one image to another and reports the move', () => {
    const a = image('a');
    const b = image('b');
    const moved = store.put(b, [{ name: 'docker.io/library/a:latest', kind: 'tag' }]);
    assert.deepEqual(moved, [{ name: 'docker.io/library/a:latest', from: a.id }]);
    assert.deepEqual(store.get(a.id)?.names, []);
    assert.equal(store.list().length, 2);
  });

  it('deletes an image with its layers and names', () => {
    const b = image('b');
    store.delete(b.id);
    assert.equal(store.get(b.id), undefined);
    assert.equal(store.idByName('docker.io/library/a:latest'), undefined);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM image_layers WHERE image_id = ?').get(b.id) as { n: number }).n, 0);
  });

  it('opens the same database from a second handle (WAL) and sees committed rows', () => {
    const other = openDatabase(join(dir, 'gantry.db'));
    try {
      assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(new ImageStore(other).list().length, 1);
    } finally {
      other.close();
    }
  });
});
