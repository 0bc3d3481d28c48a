import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sha256 } from '../../core/digest.js';
import { blobStoreSuite } from './blob-store.suite.js';
import { FsBlobStore } from './fs-blob-store.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function fresh(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-hub-blobs-'));
  dirs.push(dir);
  return dir;
}

blobStoreSuite('FsBlobStore', async () => {
  const dir = await fresh();
  return { store: new FsBlobStore(dir), reopen: () => new FsBlobStore(dir) };
});

describe('FsBlobStore on disk', () => {
  it('lays blobs out by algorithm and prefix, and leaves no temporary files', async () => {
    const dir = await fresh();
    const store = new FsBlobStore(dir);
    const d = sha256('x');
    await store.put(d, Buffer.from('x'));
    await assert.rejects(store.put(sha256('y'), Buffer.from('x')));
    assert.equal(store.blobPath(d), join(dir, 'blobs', 'sha256', d.slice(7, 9), d.slice(7)));
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  });

  it('keeps an old blob that a writer touches (the race with gc)', async () => {
    const dir = await fresh();
    const store = new FsBlobStore(dir);
    const d = sha256('old');
    await store.put(d, Buffer.from('old'));
    const past = new Date(Date.now() - 3_600_000);
    await utimes(store.blobPath(d), past, past);
    const cutoff = Date.now() - 60_000;
    assert.ok(await store.touch(d));
    assert.equal(await store.removeIfUnusedSince(d, cutoff), false);
    await utimes(store.blobPath(d), past, past);
    assert.equal(await store.removeIfUnusedSince(d, cutoff), true);
  });
});
