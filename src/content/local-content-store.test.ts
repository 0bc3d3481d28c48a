import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../core/digest.js';
import { isGantryError } from '../core/errors.js';
import { LocalContentStore } from './local-content-store.js';

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

describe('LocalContentStore', () => {
  let dir: string;
  let store: LocalContentStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-content-'));
    store = new LocalContentStore(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a blob under its digest and reads it back', async () => {
    const info = await store.write(chunks('hello ', 'world'));
    assert.deepEqual(info, { digest: sha256('hello world'), size: 11 });
    assert.equal((await store.readBytes(info.digest)).toString(), 'hello world');
    const tail: Buffer[] = [];
    for await (const c of await store.read(info.digest, 6)) tail.push(c as Buffer);
    assert.equal(Buffer.concat(tail).toString(), 'world');
    assert.deepEqual(await store.list(), [info.digest]);
  });

  it('refuses a digest or size mismatch and leaves nothing behind', async () => {
    const before = await store.list();
    await assert.rejects(store.write(chunks('abc'), { digest: sha256('abd') }), (e) => isGantryError(e, 'DATA_LOSS') && /digest mismatch/.test(e.message));
    await assert.rejects(store.write(chunks('abc'), { size: 2 }), (e) => isGantryError(e, 'DATA_LOSS') && /size mismatch/.test(e.message));
    await assert.rejects(store.write(chunks('abc'), { size: 4 }), (e) => isGantryError(e, 'DATA_LOSS'));
    assert.deepEqual(await store.list(), before);
    assert.deepEqual(await readdir(join(dir, 'ingest')), []);
  });

  it('lets concurrent writers of one blob both succeed', async () => {
    const data = 'x'.repeat(1 << 20);
    const results = await Promise.all(Array.from({ length: 4 }, () => store.writeBytes(data, { digest: sha256(data) })));
    assert.ok(results.every((r) => r.digest === sha256(data) && r.size === data.length));
    assert.equal((await store.readBytes(sha256(data))).length, data.length);
  });

  it('reports a missing blob as NOT_FOUND', async () => {
    await assert.rejects(store.read(sha256('missing')), (e) => isGantryError(e, 'NOT_FOUND'));
    assert.equal(await store.info(sha256('missing')), undefined);
  });

  it('rejects a malformed expected digest', async () => {
    await assert.rejects(store.write(chunks('a'), { digest: 'sha256:xyz' as never }), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
  });
});
