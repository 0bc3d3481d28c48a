/**
 * {@link BlobStore} on the local filesystem:
 *
 *   <dir>/blobs/<alg>/<2 hex>/<hex>    blobs, content-addressed, shared by all repositories
 *   <dir>/uploads/<id>/data            an upload's bytes so far
 *   <dir>/uploads/<id>/info.json       its repository and start time
 *   <dir>/tmp/                         whole-blob writes and GC's trash, same filesystem
 *
 * A blob appears by rename of a fully written, fsynced file, so a reader sees all of it or
 * nothing. Two writers of the same blob both verify it; the second finds it present and only
 * touches it (same bytes, by construction). Upload state is the data file itself — its size is
 * the offset — so an upload resumes after a restart: the running sha256 kept in memory is
 * rebuilt from the file when it is missing or does not match the file's size.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { syncDir, writeFileAtomic } from '../../core/atomic-file.js';
import { type Digest, Digester, digestAlgorithm, digestHex } from '../../core/digest.js';
import { isErrno } from '../../core/errors.js';
import { HubError } from '../errors.js';
import type { AppendOptions, BlobEntry, BlobStat, BlobStore, UploadInfo } from './blob-store.js';
import { KeyedMutex } from './keyed-mutex.js';
import { readdirOrEmpty } from '../../core/readdir-or-empty.js';

const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const READ_CHUNK = 256 * 1024;
const WRITE_BATCH = 1 << 20;
/** Written bytes after which a background fdatasync starts (see copyInto). */
const SYNC_EVERY = 16 << 20;

/** The running digest of an upload, valid while `size` equals the data file's size. */
interface RunningDigest {
  digester: Digester;
  size: number;
}

/** A blob store under one directory. */
export class FsBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  private readonly tmpDir: string;
  private readonly running = new Map<string, RunningDigest>();
  private readonly uploadLocks = new KeyedMutex();
  private ready: Promise<void> | undefined;

  constructor(readonly dir: string) {
    this.blobsDir = join(dir, 'blobs');
    this.uploadsDir = join(dir, 'uploads');
    this.tmpDir = join(dir, 'tmp');
  }

  /** The file of a blob (digests are validated before they get here). */
  blobPath(digest: Digest): string {
    const hex = digestHex(digest);
    return join(this.blobsDir, digestAlgorithm(digest), hex.slice(0, 2), hex);
  }

  async stat(digest: Digest): Promise<BlobStat | undefined> {
    try {
      return { digest, size: (await stat(this.blobPath(digest))).size };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async touch(digest: Digest): Promise<BlobStat | undefined> {
    const path = this.blobPath(digest);
    try {
      const now = new Date();
      await utimes(path, now, now);
      return { digest, size: (await stat(path)).size };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async read(digest: Digest, range?: { start: number; end: number }): Promise<Readable> {
    // Open first, so that a missing blob is an answer here and not a stream error later.
    const fh = await this.openFile(digest);
    return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: READ_CHUNK, autoClose: true });
  }

  openFile(digest: Digest): Promise<FileHandle> {
    return open(this.blobPath(digest), 'r').catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) throw new HubError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
      throw err;
    });
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new HubError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
      throw err;
    }
  }

  async put(digest: Digest, bytes: Uint8Array): Promise<BlobStat> {
    return this.write([bytes], digest, { size: bytes.length });
  }

  async write(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, digest: Digest, options: { size?: number; maxSize?: number } = {}): Promise<BlobStat> {
    await this.init();
    const tmp = join(this.tmpDir, `write-${randomBytes(8).toString('hex')}`);
    try {
      const fh = await open(tmp, 'wx', 0o644);
      const digester = new Digester(digestAlgorithm(digest) === 'sha512' ? 'sha512' : 'sha256');
      try {
        await copyInto(fh, source, digester, options.maxSize ?? 0, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (options.size !== undefined && digester.size !== options.size) {
        throw new HubError('SIZE_INVALID', 'provided length did not match content length', { detail: { expected: options.size, received: digester.size } });
      }
      checkDigest(digester.digest(), digest);
      await this.place(tmp, digest);
      return { digest, size: digester.size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async *list(): AsyncIterable<BlobEntry> {
    for (const alg of await readdirOrEmpty(this.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.blobsDir, alg))) {
        for (const hex of await readdirOrEmpty(join(this.blobsDir, alg, prefix))) {
          try {
            const st = await stat(join(this.blobsDir, alg, prefix, hex));
            yield { digest: `${alg}:${hex}`, size: st.size, modifiedMs: st.mtimeMs };
          } catch (err) {
            if (!isErrno(err, 'ENOENT')) throw err;
          }
        }
      }
    }
  }

  async removeIfUnusedSince(digest: Digest, cutoffMs: number): Promise<boolean> {
    await this.init();
    const path = this.blobPath(digest);
    const trash = join(this.tmpDir, `gc-${randomBytes(8).toString('hex')}`);
    // NOTE: move it aside first, then look at its time. A writer that touches the blob before
    // the move is seen in the time (and the blob goes back); one that touches it after the
    // move finds it absent and writes it anew or reports it unknown. Putting it back may
    // replace a blob written meanwhile: same digest, same bytes.
    try {
      await rename(path, trash);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
    const st = await stat(trash);
    if (st.mtimeMs >= cutoffMs) {
      await rename(trash, path);
      return false;
    }
    await unlink(trash);
    return true;
  }

  async startUpload(repository: string): Promise<UploadInfo> {
    await this.init();
    const id = randomUUID();
    const dir = join(this.uploadsDir, id);
    const startedMs = Date.now();
    await mkdir(dir);
    await writeFileAtomic(join(dir, 'info.json'), JSON.stringify({ repository, startedMs }));
    await (await open(join(dir, 'data'), 'wx', 0o644)).close();
    this.running.set(id, { digester: new Digester(), size: 0 });
    return { id, repository, size: 0, startedMs, modifiedMs: startedMs };
  }

  async upload(id: string): Promise<UploadInfo | undefined> {
    if (!UPLOAD_ID_RE.test(id)) return undefined;
    const dir = join(this.uploadsDir, id);
    try {
      const info = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')) as { repository: string; startedMs: number };
      const st = await stat(join(dir, 'data'));
      return { id, repository: info.repository, size: st.size, startedMs: info.startedMs, modifiedMs: Math.max(st.mtimeMs, info.startedMs) };
    } catch (err) {
      if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  async appendUpload(id: string, source: AsyncIterable<Uint8Array>, options: AppendOptions = {}): Promise<UploadInfo> {
    return this.uploadLocks.run(id, async () => {
      const info = await this.mustUpload(id);
      if (options.offset !== undefined && options.offset !== info.size) {
        throw new HubError('BLOB_UPLOAD_INVALID', 'invalid content range: chunks must be uploaded in order', {
          status: 416,
          detail: { expectedOffset: info.size, offset: options.offset },
        });
      }
      const data = join(this.uploadsDir, id, 'data');
      const running = await this.runningDigest(id, info.size);
      const fh = await open(data, 'r+');
      try {
        await copyInto(fh, source, running.digester, options.maxSize ?? 0, info.size);
        const added = running.digester.size - info.size;
        if (options.length !== undefined && added !== options.length) {
          throw new HubError('BLOB_UPLOAD_INVALID', 'the chunk is shorter or longer than announced', { detail: { announced: options.length, received: added } });
        }
        running.size = running.digester.size;
      } catch (err) {
        // NOTE: a failed chunk (client gone, bad length, over the limit) leaves the upload as it
        // was before it, so that the client may send the chunk again from the same offset.
        this.running.delete(id);
        await fh.truncate(info.size).catch(() => undefined);
        throw err;
      } finally {
        await fh.close();
      }
      return { ...info, size: running.size, modifiedMs: Date.now() };
    });
  }

  async completeUpload(id: string, digest: Digest): Promise<BlobStat> {
    return this.uploadLocks.run(id, async () => {
      const info = await this.mustUpload(id);
      const data = join(this.uploadsDir, id, 'data');
      let actual: Digest;
      if (digestAlgorithm(digest) === 'sha256') {
        actual = (await this.runningDigest(id, info.size)).digester.digest();
      } else {
        actual = (await digestFile(data, 'sha512')).digest();
      }
      this.running.delete(id);
      try {
        checkDigest(actual, digest);
        const fh = await open(data, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await this.place(data, digest);
      } finally {
        await rm(join(this.uploadsDir, id), { recursive: true, force: true });
      }
      return { digest, size: info.size };
    });
  }

  async cancelUpload(id: string): Promise<boolean> {
    if (!UPLOAD_ID_RE.test(id)) return false;
    return this.uploadLocks.run(id, async () => {
      const dir = join(this.uploadsDir, id);
      const existed = await stat(dir).then(() => true, () => false);
      this.running.delete(id);
      await rm(dir, { recursive: true, force: true });
      return existed;
    });
  }

  async listUploads(): Promise<UploadInfo[]> {
    const out: UploadInfo[] = [];
    for (const id of await readdirOrEmpty(this.uploadsDir)) {
      const info = await this.upload(id);
      if (info) out.push(info);
      else if (UPLOAD_ID_RE.test(id)) {
        // A directory a crash left without its info file: report it as started long ago.
        out.push({ id, repository: '', size: 0, startedMs: 0, modifiedMs: 0 });
      }
    }
    return out;
  }

  /** Creates the directories once. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.blobsDir, { recursive: true });
      await mkdir(this.uploadsDir, { recursive: true });
      await mkdir(this.tmpDir, { recursive: true });
    })();
    return this.ready;
  }

  private async mustUpload(id: string): Promise<UploadInfo> {
    const info = await this.upload(id);
    if (!info) throw new HubError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { detail: { uuid: id } });
    return info;
  }

  /** The upload's running sha256, rebuilt from its file after a restart or a failed chunk. */
  private async runningDigest(id: string, size: number): Promise<RunningDigest> {
    let running = this.running.get(id);
    if (!running || running.size !== size) {
      const digester = await digestFile(join(this.uploadsDir, id, 'data'), 'sha256');
      running = { digester, size: digester.size };
      this.running.set(id, running);
    }
    return running;
  }

  /**
   * Makes the verified file `src` the blob `digest`: renamed into place, or — when the blob is
   * already there — the existing one touched (so GC sees it in use) and `src` dropped.
   */
  private async place(src: string, digest: Digest): Promise<void> {
    const path = this.blobPath(digest);
    const now = new Date();
    try {
      await utimes(path, now, now);
      return;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    await mkdir(dirname(path), { recursive: true });
    await rename(src, path);
    await syncDir(dirname(path));
  }
}

/** Copies `source` to the end of `fh` (at `position`), digesting it, stopping at `maxSize`. */
async function copyInto(fh: FileHandle, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, digester: Digester, maxSize: number, position: number): Promise<void> {
  let at = position;
  // NOTE: socket chunks are ~64 KiB; they are written in batches of WRITE_BATCH bytes, and one
  // batch is written while the next is received: waiting for each write before reading on
  // would stall the socket, and the client with it, for every write.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let inflight: Promise<void> | undefined;
  // NOTE: a blob is fsynced before it becomes visible. Started every SYNC_EVERY bytes while the
  // rest still streams in (on a pool thread), data syncs leave the final fsync only the tail:
  // a 200 MB push then waits ~10 ms for its disk instead of ~100 ms. One at a time; a failed
  // one is harmless, the final fsync reports what matters.
  let syncing: Promise<void> | undefined;
  let unsynced = 0;
  const flush = async (buffers: Uint8Array[], bytes: number) => {
    // One writev of the chunks as they came (no copy into one buffer); a short write, rare on
    // a regular file, finishes with plain writes of what is left.
    let written = (await fh.writev(buffers, at)).bytesWritten;
    if (written < bytes) {
      const rest = Buffer.concat(buffers).subarray(written);
      for (let off = 0; off < rest.length; ) off += (await fh.write(rest, off, rest.length - off, at + written + off)).bytesWritten;
      written = bytes;
    }
    at += written;
    unsynced += written;
    if (unsynced >= SYNC_EVERY && !syncing) {
      unsynced = 0;
      syncing = fh.datasync().catch(() => undefined).finally(() => (syncing = undefined));
    }
  };
  const startFlush = async () => {
    await inflight;
    const buffers = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    inflight = flush(buffers, bytes);
    inflight.catch(() => undefined); // awaited before the next batch or at the end
  };
  try {
    for await (const chunk of source) {
      if (maxSize > 0 && digester.size + chunk.length > maxSize) {
        throw new HubError('SIZE_INVALID', `blob is larger than the hub accepts (${maxSize} bytes)`, { status: 413, detail: { limit: maxSize } });
      }
      digester.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BATCH) await startFlush();
    }
    if (pendingBytes > 0) await startFlush();
  } finally {
    // Whatever happened, no write or sync is left running on the handle the caller closes.
    await inflight?.catch(() => undefined);
    await syncing;
  }
  await inflight;
}

/** The digest of a whole file. */
async function digestFile(path: string, algorithm: 'sha256' | 'sha512'): Promise<Digester> {
  const digester = new Digester(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) digester.update(chunk as Buffer);
  return digester;
}

function checkDigest(actual: Digest, expected: Digest): void {
  if (actual !== expected) {
    throw new HubError('DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { expected, actual } });
  }
}
