import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import type { ProgressEvent } from '../core/op-context.js';
import { LayerTee, PullProgress } from './layer-tee.js';

const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i));

async function drain(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

describe('LayerTee', () => {
  it('gives the unpack every byte the store gets', async () => {
    const tee = new LayerTee();
    const data = chunks(20, 1 << 20); // more than the tee buffers: the download waits for the reader
    const [stored, unpacked] = await Promise.all([drain(tee.feed(async function* () { yield* data; }(), new AbortController().signal)), buffer(tee.open())]);
    assert.deepEqual(unpacked, Buffer.concat(data));
    assert.deepEqual(stored, Buffer.concat(data));
  });

  it('lets the download go on alone once released unread', async () => {
    const tee = new LayerTee();
    const done = drain(tee.feed(async function* () { yield* chunks(20, 1 << 20); }(), new AbortController().signal));
    setTimeout(() => tee.release(), 20); // e.g. the snapshot already existed
    assert.equal((await done).length, 20 << 20);
    assert.throws(() => tee.open(), /abandoned/);
  });

  it('fails an unpack that opens after the download failed, and one that is reading', async () => {
    const failing = new LayerTee();
    const boom = new Error('connection lost');
    await assert.rejects(drain(failing.feed(async function* () { yield Buffer.from('x'); throw boom; }(), new AbortController().signal)), /connection lost/);
    assert.throws(() => failing.open(), /connection lost/);

    const reading = new LayerTee();
    const stream = reading.open();
    const read = buffer(stream);
    reading.release(new Error('pull failed'));
    await assert.rejects(read, /pull failed/);
  });
});

describe('PullProgress', () => {
  it('holds a layer\'s unpack lines until its download is complete', () => {
    const seen: string[] = [];
    const p = new PullProgress((e: ProgressEvent) => seen.push(e.kind === 'message' ? e.text : `${e.id} ${e.action}`));
    p.download({ kind: 'progress', id: 'a', action: 'Pulling fs layer' });
    p.commit({ kind: 'progress', id: 'a', action: 'Loading layer', current: 0, total: 1 });
    p.download({ kind: 'progress', id: 'a', action: 'Downloading', current: 1, total: 2 });
    p.commit({ kind: 'done', id: 'a', action: 'Loading layer' });
    p.commit({ kind: 'progress', id: 'b', action: 'Loading layer' }); // b was already here
    p.downloaded('a');
    assert.deepEqual(seen, ['a Pulling fs layer', 'a Downloading', 'b Extracting', 'a Download complete', 'a Extracting', 'a Pull complete']);
  });
});
