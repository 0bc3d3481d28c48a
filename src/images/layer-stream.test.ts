import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decompress } from './layer-stream.js';

const data = Buffer.from('layer bytes '.repeat(10_000));
const hasZstd = spawnSync('zstd', ['--version']).status === 0;

describe('decompress', () => {
  it('passes uncompressed layers through and gunzips gzip ones', async () => {
    assert.deepEqual(await buffer(decompress(Readable.from([data]), 'none', 'layer x')), data);
    assert.deepEqual(await buffer(decompress(Readable.from([gzipSync(data)]), 'gzip', 'layer x')), data);
  });

  it('decompresses zstd through the zstd program', { skip: !hasZstd && 'zstd is not installed' }, async () => {
    const packed = spawnSync('zstd', ['-c', '-q'], { input: data }).stdout;
    assert.ok(packed.length < data.length);
    assert.deepEqual(await buffer(decompress(Readable.from([packed]), 'zstd', 'layer x')), data);
  });

  it('fails on corrupt zstd data, naming the layer', { skip: !hasZstd && 'zstd is not installed' }, async () => {
    await assert.rejects(buffer(decompress(Readable.from([Buffer.from('not zstd at all')]), 'zstd', 'layer sha256:ab')), /cannot decompress layer sha256:ab: zstd/);
  });

  it('refuses formats it cannot read', () => {
    assert.throws(() => decompress(Readable.from([data]), 'xz', 'layer x'), /unsupported compression xz for layer x/);
  });
});
