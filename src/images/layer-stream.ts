/**
 * Opening a layer blob as an uncompressed tar stream, whatever its compression.
 */
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
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
    default:
      source.destroy();
      throw errors.invalid(`unsupported compression ${compression} for ${what}`, {
        hint: 'gantry reads uncompressed and gzip-compressed layers',
      });
  }
}

/** Opens a stored layer blob as an uncompressed tar stream. */
export async function openLayer(content: BlobReader, digest: Digest, compression: Compression): Promise<Readable> {
  return decompress(await content.read(digest), compression, `layer ${digest}`);
}
