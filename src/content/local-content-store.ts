/**
 * {@link ContentStore} on the local filesystem:
 *   <dir>/blobs/sha256/<hex>      committed blobs, read-only files
 *   <dir>/ingest/<pid>-<rand>     blobs being written by process <pid>
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { syncDir } from '../core/atomic-file.js';
import { type Digest, Digester, digestAlgorithm, digestHex, parseDigest } from '../core/digest.js';
import { errors, isErrno } from '../core/errors.js';
import { abandoned } from '../core/process-alive.js';
import type { BlobInfo, ContentStore, Expected } from './content-store.js';

const WRITE_CHUNK = 1 << 20;

/** A content store under one directory. */
export class LocalContentStore implements ContentStore {
  private readonly blobsDir: string;
  private readonly ingestDir: string;
  private ready: Promise<void> | undefined;

  constructor(readonly dir: string) {
    this.blobsDir = join(dir, 'blobs');
    this.ingestDir = join(dir, 'ingest');
  }

  /** The file a committed blob lives in (for readers that need a path, e.g. the unpacker). */
  blobPath(digest: Digest): string {
    return join(this.blobsDir, digestAlgorithm(digest), digestHex(digest));
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async read(digest: Digest, start = 0): Promise<Readable> {
    const path = this.blobPath(digest);
    // Open first so that a missing blob is reported here, not as a stream error later.
    const fh = await open(path, 'r').catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) throw errors.notFound(`blob ${digest} not found in the content store`);
      throw err;
    });
    return fh.createReadStream({ start, highWaterMark: WRITE_CHUNK, autoClose: true });
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw errors.notFound(`blob ${digest} not found in the content store`);
      throw err;
    }
  }

  async writeBytes(data: Uint8Array | string, expected: Expected = {}): Promise<BlobInfo> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    return this.write(once(bytes), expected);
  }

  async write(source: AsyncIterable<Uint8Array>, expected: Expected = {}, signal?: AbortSignal): Promise<BlobInfo> {
    if (expected.digest) parseDigest(expected.digest);
    await this.ensureDirs();
    // NOTE: a blob already present is still drained from `source`, because callers that tee a
    // stream (unpack while storing) need it consumed; but we skip the write.
    const digester = new Digester();
    const tmp = join(this.ingestDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    let committed = false;
    try {
      for await (const chunk of source) {
        if (signal?.aborted) throw errors.canceled();
        digester.update(chunk);
        if (expected.size !== undefined && digester.size > expected.size) {
          throw errors.dataLoss(
            `size mismatch for ${expected.digest ?? 'blob'}: got more than the expected ${expected.size} bytes`,
          );
        }
        await writeAll(fh, chunk);
      }
      const digest = digester.digest();
      if (expected.size !== undefined && digester.size !== expected.size) {
        throw errors.dataLoss(
          `size mismatch for ${expected.digest ?? digest}: expected ${expected.size} bytes, got ${digester.size}`,
        );
      }
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw errors.dataLoss(`digest mismatch: expected ${expected.digest}, got ${digest}`, {
          hint: 'the content is corrupt or was modified',
        });
      }
      await fh.sync();
      await fh.close();
      const target = this.blobPath(digest);
      await mkdir(join(this.blobsDir, digestAlgorithm(digest)), { recursive: true });
      await rename(tmp, target);
      committed = true;
      await syncDir(join(this.blobsDir, digestAlgorithm(digest)));
      return { digest, size: digester.size };
    } finally {
      if (!committed) {
        await fh.close().catch(() => undefined);
        await rm(tmp, { force: true });
      }
    }
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const out: Digest[] = [];
    let algs: string[];
    try {
      algs = await readdir(this.blobsDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return out;
      throw err;
    }
    for (const alg of algs) {
      for (const hex of await readdir(join(this.blobsDir, alg))) out.push(`${alg}:${hex}`);
    }
    return out;
  }

  /** Removes ingest files whose writer process is gone; returns how many. */
  async sweepIngest(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.ingestDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 0;
      throw err;
    }
    let n = 0;
    for (const name of names) {
      if (abandoned(name)) {
        await unlink(join(this.ingestDir, name)).catch(() => undefined);
        n++;
      }
    }
    return n;
  }

  private ensureDirs(): Promise<void> {
    this.ready ??= Promise.all([
      mkdir(join(this.blobsDir, 'sha256'), { recursive: true }),
      mkdir(this.ingestDir, { recursive: true }),
    ]).then(() => undefined);
    return this.ready;
  }
}

/** An async iterable of one chunk. */
async function* once(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}
