/**
 * The shared test suite of {@link BlobStore}: every driver runs it (fs-blob-store.test.ts;
 * an S3 driver would too). `make` gives a fresh, empty store; `reopen` the same storage
 * through a new instance, as after a restart of the hub.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Digest, Digester, sha256 } from '../../core/digest.js';
import { isHubError } from '../errors.js';
import type { BlobStore } from './blob-store.js';

async function* chunks(...parts: (string | Buffer)[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function* failing(first: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(first);
  throw new Error('client went away');
}

async function readAll(store: BlobStore, digest: Digest, range?: { start: number; end: number }): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of await store.read(digest, range)) out.push(c as Buffer);
  return Buffer.concat(out).toString();
}

async function digests(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list()) out.push(b.digest);
  return out.sort();
}

/** Runs the suite for one driver. */
export function blobStoreSuite(name: string, make: () => Promise<{ store: BlobStore; reopen: () => BlobStore }>): void {
  describe(`BlobStore: ${name}`, () => {
    it('stores bytes under their digest and reads them whole or by range', async () => {
      const { store } = await make();
      const d = sha256('hello world');
      assert.deepEqual(await store.put(d, Buffer.from('hello world')), { digest: d, size: 11 });
      assert.deepEqual(await store.stat(d), { digest: d, size: 11 });
      assert.equal(await readAll(store, d), 'hello world');
      assert.equal(await readAll(store, d, { start: 6, end: 10 }), 'world');
      assert.equal((await store.readBytes(d)).toString(), 'hello world');
      assert.deepEqual(await digests(store), [d]);
      assert.equal(await store.stat(sha256('absent')), undefined);
      await assert.rejects(store.read(sha256('absent')), (e) => isHubError(e, 'BLOB_UNKNOWN'));
    });

    it('verifies whole writes: digest, size and limit; nothing stored on failure', async () => {
      const { store } = await make();
      await assert.rejects(store.put(sha256('other'), Buffer.from('abc')), (e) => isHubError(e, 'DIGEST_INVALID'));
      await assert.rejects(store.write(chunks('abc'), sha256('abc'), { size: 4 }), (e) => isHubError(e, 'SIZE_INVALID'));
      await assert.rejects(store.write(chunks('abc', 'def'), sha256('abcdef'), { maxSize: 4 }), (e) => isHubError(e, 'SIZE_INVALID') && e.status === 413);
      await assert.rejects(store.write(failing('abc'), sha256('abc')), /client went away/);
      assert.deepEqual(await digests(store), []);
      const s512 = new Digester('sha512');
      s512.update(Buffer.from('abc'));
      const d512 = s512.digest();
      assert.deepEqual(await store.write(chunks('a', 'bc'), d512), { digest: d512, size: 3 });
    });

    it('takes an upload in ordered chunks and completes it as a blob', async () => {
      const { store } = await make();
      const u = await store.startUpload('repo');
      assert.equal(u.size, 0);
      assert.equal((await store.appendUpload(u.id, chunks('hello '), { offset: 0 })).size, 6);
      await assert.rejects(store.appendUpload(u.id, chunks('x'), { offset: 3 }), (e) => isHubError(e, 'BLOB_UPLOAD_INVALID') && e.status === 416);
      await assert.rejects(store.appendUpload(u.id, failing('wor')), /client went away/);
      await assert.rejects(store.appendUpload(u.id, chunks('wo'), { length: 5 }), (e) => isHubError(e, 'BLOB_UPLOAD_INVALID'));
      assert.equal((await store.upload(u.id))?.size, 6, 'failed chunks leave the upload as it was');
      assert.equal((await store.appendUpload(u.id, chunks('world'), { offset: 6, length: 5 })).size, 11);
      assert.deepEqual(await store.completeUpload(u.id, sha256('hello world')), { digest: sha256('hello world'), size: 11 });
      assert.equal(await store.upload(u.id), undefined);
      assert.equal(await readAll(store, sha256('hello world')), 'hello world');
      await assert.rejects(store.appendUpload(u.id, chunks('x')), (e) => isHubError(e, 'BLOB_UPLOAD_UNKNOWN'));
      assert.equal(await store.upload('../../etc'), undefined);
    });

    it('drops an upload completed with the wrong digest, storing nothing', async () => {
      const { store } = await make();
      const u = await store.startUpload('repo');
      await store.appendUpload(u.id, chunks('abc'));
      await assert.rejects(store.completeUpload(u.id, sha256('abd')), (e) => isHubError(e, 'DIGEST_INVALID'));
      assert.equal(await store.upload(u.id), undefined);
      assert.deepEqual(await digests(store), []);
    });

    it('resumes an upload through a new instance (a restart) and completes it with sha512 too', async () => {
      const { store, reopen } = await make();
      const u = await store.startUpload('repo');
      await store.appendUpload(u.id, chunks('part one, '));
      const again = reopen();
      assert.equal((await again.upload(u.id))?.size, 10);
      await again.appendUpload(u.id, chunks('part two'), { offset: 10 });
      const s512 = new Digester('sha512');
      s512.update(Buffer.from('part one, part two'));
      assert.equal((await again.completeUpload(u.id, s512.digest())).size, 18);
      const u2 = await again.startUpload('repo');
      await again.appendUpload(u2.id, chunks('x'));
      assert.equal((await reopen().completeUpload(u2.id, sha256('x'))).size, 1);
    });

    it('completes concurrent uploads of the same bytes into one blob', async () => {
      const { store } = await make();
      const data = Buffer.alloc(300_000, 7);
      const ids = await Promise.all(Array.from({ length: 5 }, () => store.startUpload('r')));
      await Promise.all(ids.map((u) => store.appendUpload(u.id, chunks(data.subarray(0, 100_000), data.subarray(100_000)))));
      await Promise.all(ids.map((u) => store.completeUpload(u.id, sha256(data))));
      assert.deepEqual(await digests(store), [sha256(data)]);
      assert.equal((await store.readBytes(sha256(data))).equals(data), true);
      assert.deepEqual(await store.listUploads(), []);
    });

    it('cancels uploads', async () => {
      const { store } = await make();
      const u = await store.startUpload('r');
      assert.equal(await store.cancelUpload(u.id), true);
      assert.equal(await store.cancelUpload(u.id), false);
      assert.equal(await store.upload(u.id), undefined);
    });

    it('removes a blob unused since the cutoff, keeps one touched after it', async () => {
      const { store } = await make();
      const d = sha256('gc me');
      await store.put(d, Buffer.from('gc me'));
      assert.equal(await store.removeIfUnusedSince(d, Date.now() - 60_000), false, 'written after the cutoff');
      assert.deepEqual(await store.stat(d), { digest: d, size: 5 });
      assert.equal(await store.removeIfUnusedSince(d, Date.now() + 60_000), true);
      assert.equal(await store.stat(d), undefined);
      assert.equal(await store.touch(d), undefined);
      assert.equal(await store.removeIfUnusedSince(d, Date.now() + 60_000), false, 'already gone');
    });
  });
}
