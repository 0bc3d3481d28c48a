/**
 * Opening a layer blob as an uncompressed tar stream, whatever its compression.
 */
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import type { BlobReader } from '../content/content-store.js';
import type { Digest } from '../core/digest.js';
import { errors } from '../core/errors.js';
import { layerCompression } from '../core/media-types.js';

/** Compression formats a layer may come in. */
export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

/** Compression named by a layer media type; unknown types are sniffed by the caller. */
export function compressionOf(mediaType: string): Compression | undefined {
  return layerCompression(mediaType);
}

/** Wraps `source` in a decompressor; refuses formats gantry cannot read, naming them. */
export function decompress(source: Readable, compression: Compression, what: string): Readable {
  switch (compression) {
    case 'none':
      return source;
    case 'gzip': {
      const gunzip = createGunzip({ chunkSize: 1 << 20 });
      source.on('error', (err) => gunzip.destroy(err));
      gunzip.on('error', () => source.destroy());
      return source.pipe(gunzip);
    }
    case 'zstd':
      return unzstd(source, what);
    default:
      source.destroy();
      throw errors.invalid(`unsupported compression ${compression} for ${what}`, {
        hint: 'gantry reads uncompressed, gzip- and zstd-compressed layers',
      });
  }
}

/** Opens a stored layer blob as an uncompressed tar stream. */
export async function openLayer(content: BlobReader, digest: Digest, compression: Compression): Promise<Readable> {
  return decompress(await content.read(digest), compression, `layer ${digest}`);
}

/**
 * zstd through the `zstd` program: Node 20's zlib has no zstd. The stream ends only once zstd
 * has exited 0, and fails (naming the layer) when the program is missing or rejects the data.
 */
function unzstd(source: Readable, what: string): Readable {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.pipe(out, { end: false });
  const fail = (err: Error) => {
    source.destroy();
    out.destroy(err);
  };
  child.on('error', (err: NodeJS.ErrnoException) =>
    fail(
      err.code === 'ENOENT'
        ? errors.invalid(`cannot decompress ${what}: it is zstd-compressed and the zstd program is not installed`, {
            hint: 'install it with: apt-get install zstd',
          })
        : err,
    ),
  );
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!out.destroyed) fail(errors.invalid(`cannot decompress ${what}: zstd: ${stderr.trim().split('\n')[0] || `exit status ${code ?? signal}`}`));
  });
  source.on('error', (err) => {
    child.kill();
    out.destroy(err);
  });
  child.stdin.on('error', () => undefined); // zstd exiting early shows as its exit status
  source.pipe(child.stdin);
  // A consumer that stops reading early must not leave zstd running.
  out.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}
