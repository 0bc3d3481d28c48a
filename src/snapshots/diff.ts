/**
 * Exports an overlayfs upper directory (the changes of a container or a build step) as an
 * uncompressed OCI layer tar: the reverse of tar-apply.ts, as Docker's overlay2 driver does it
 * (pkg/archive with its overlayWhiteoutConverter), but byte-for-byte deterministic, so that
 * the same changes always give the same diff ID.
 * https://github.com/opencontainers/image-spec/blob/main/layer.md
 *
 * overlayfs → OCI:
 *   character device 0/0 `NAME`            → empty regular file `.wh.NAME` (a whiteout)
 *   directory with trusted.overlay.opaque=y → the directory, then `DIR/.wh..wh..opq`
 *   trusted.overlay.* xattrs                → never written (they describe this mount only)
 *   other xattrs                            → PAX `SCHILY.xattr.<name>` records, raw bytes
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester, type Digest } from '../core/digest.js';
import { errors, isErrno, isGantryError, type GantryError } from '../core/errors.js';
import { lgetxattr, llistxattr } from '../native/native.js';
import { encodeTarHeader, END_OF_ARCHIVE, padding, TarType, type TarEntryHeader } from './tar-header.js';

/** Options of {@link layerDiffStream} and {@link writeLayerDiff}. */
export interface LayerDiffOptions {
  /**
   * Clamp modification times to at most this many seconds since the epoch (the
   * SOURCE_DATE_EPOCH convention, as BuildKit's rewrite-timestamp does). Later times become
   * this one; earlier ones are kept.
   */
  sourceDateEpoch?: number;
  /** Aborting stops the export; the stream fails (and `result` rejects) with CANCELED. */
  signal?: AbortSignal;
}

/** What an export produced. */
export interface LayerDiffResult {
  /** sha256 of the uncompressed tar: the layer's diff ID (and its digest when stored uncompressed). */
  diffId: Digest;
  /** Length of the tar in bytes. */
  size: number;
  /** Number of tar entries, PAX extended headers not counted. */
  entries: number;
}

/** A layer tar being produced: read `stream`; `result` settles once its last byte was produced. */
export interface LayerDiffStream {
  stream: Readable;
  result: Promise<LayerDiffResult>;
}

const WHITEOUT = '.wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';
const OVERLAY_XATTRS = 'trusted.overlay.';
const CHUNK = 128 * 1024;
/** Headers and small files are gathered into chunks of about this size. */
const BATCH = 64 * 1024;

const q = (s: string) => JSON.stringify(s);
const checkAborted = (signal: AbortSignal | undefined) => {
  if (signal?.aborted) throw errors.canceled();
};
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A directory member, with the name it gets in the tar. */
interface Child {
  fsName: string;
  tarName: string;
  st: BigIntStats;
  whiteout: boolean;
}

/** Linux's major()/minor() of a dev_t. */
const major = (rdev: bigint) => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const minor = (rdev: bigint) => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

/** The walk of one upper directory. Synchronous file system calls, as in tar-apply.ts (same reason). */
class DiffWalker {
  /** First tar name of each multiply-linked inode (`dev:ino`). */
  private readonly links = new Map<string, string>();
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly options: LayerDiffOptions,
  ) {}

  /** The whole archive, in chunks of any size. */
  *chunks(): Generator<Buffer> {
    const st = this.stat('', lstatSync);
    if (!st.isDirectory()) throw errors.invalid(`cannot export layer diff: ${q(this.root)} is not a directory`);
    // NOTE: the upper directory's own entry is not written, as Docker does not: applyLayer
    // ignores the root entry anyway, and the root cannot be deleted or made opaque.
    yield* this.directory('');
    yield END_OF_ARCHIVE;
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /** Wraps a file system error as a GantryError naming the path. */
  private failure(err: unknown, rel: string): GantryError {
    if (isGantryError(err)) return err;
    const path = q(this.abs(rel));
    if (isErrno(err, 'ENOENT')) {
      if (rel === '') return errors.notFound(`cannot export layer diff: ${path}: no such directory`, { cause: err });
      return errors.precondition(`cannot export layer diff: ${path} changed while it was being read`, {
        cause: err,
        hint: 'stop or pause the container before committing it',
      });
    }
    const reason = err instanceof Error ? err.message : String(err);
    return errors.internal(`cannot export layer diff: ${path}: ${reason}`, { cause: err });
  }

  private stat(rel: string, fn: (p: string, o: { bigint: true }) => BigIntStats): BigIntStats {
    try {
      return fn(this.abs(rel), { bigint: true });
    } catch (err) {
      throw this.failure(err, rel);
    }
  }

  /** The members of a directory sorted byte-wise by their tar name (sockets left out). */
  private children(rel: string): Child[] {
    let names: Buffer[];
    try {
      names = readdirSync(this.abs(rel), { encoding: 'buffer' });
    } catch (err) {
      throw this.failure(err, rel);
    }
    const children: Child[] = [];
    for (const raw of names) {
      const fsName = raw.toString('utf8');
      const childRel = rel === '' ? fsName : `${rel}/${fsName}`;
      // NOTE: tar readers (tar-stream, so applyLayer) decode names as UTF-8; another byte
      // sequence could not come back as the same file, so it is refused rather than mangled.
      if (!Buffer.from(fsName).equals(raw)) {
        throw errors.invalid(`cannot export layer diff: the name of ${q(this.abs(childRel))} is not valid UTF-8`);
      }
      const st = this.stat(childRel, lstatSync);
      if (st.isSocket()) continue; // sockets belong to a running process, as Docker skips them
      const whiteout = st.isCharacterDevice() && st.rdev === 0n;
      if (!whiteout && fsName.startsWith(WHITEOUT)) {
        throw errors.invalid(`cannot export layer diff: ${q(this.abs(childRel))}: names starting with ".wh." mark deletions in image layers`, {
          hint: 'rename the file',
        });
      }
      children.push({ fsName, tarName: whiteout ? WHITEOUT + fsName : fsName, st, whiteout });
    }
    return children.sort((a, b) => byBytes(a.tarName, b.tarName));
  }

  /** Everything below directory `rel`, depth first, each directory before its members. */
  private *directory(rel: string): Generator<Buffer> {
    for (const child of this.children(rel)) {
      checkAborted(this.options.signal);
      const childRel = rel === '' ? child.fsName : `${rel}/${child.fsName}`;
      const tarName = rel === '' ? child.tarName : `${rel}/${child.tarName}`;
      try {
        yield* this.entry(childRel, tarName, child);
      } catch (err) {
        throw this.failure(err, childRel);
      }
    }
  }

  private header(h: TarEntryHeader): Buffer {
    this.entries++;
    return encodeTarHeader(h);
  }

  private *entry(rel: string, tarName: string, { st, whiteout }: Child): Generator<Buffer> {
    const mtime = this.mtime(st);
    const owner = { uid: Number(st.uid), gid: Number(st.gid), mtime };
    const mode = Number(st.mode) & 0o7777;
    if (whiteout) {
      // Docker's overlayWhiteoutConverter: the owner and time of the device, mode 0600.
      yield this.header({ ...owner, name: tarName, type: TarType.file, mode: 0o600, size: 0 });
      return;
    }
    const { xattrs, opaque } = this.xattrs(rel, st);
    if (st.isDirectory()) {
      yield this.header({ ...owner, name: `${tarName}/`, type: TarType.directory, mode, size: 0, xattrs });
      if (opaque) {
        yield this.header({ ...owner, name: `${tarName}/${WHITEOUT_OPAQUE}`, type: TarType.file, mode: mode & 0o777, size: 0 });
      }
      yield* this.directory(rel);
      return;
    }
    // NOTE: overlayfs (5.8+) makes every whiteout a link to one shared inode, so whiteouts are
    // kept out of this map (above): each must stay its own `.wh.` entry.
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) {
        yield this.header({ ...owner, name: tarName, type: TarType.link, mode, size: 0, linkname: first, xattrs });
        return;
      }
      this.links.set(key, tarName);
    }
    if (st.isFile()) {
      yield this.header({ ...owner, name: tarName, type: TarType.file, mode, size: Number(st.size), xattrs });
      yield* this.content(rel, st);
    } else if (st.isSymbolicLink()) {
      const linkname = readlinkSync(this.abs(rel), { encoding: 'buffer' });
      if (!Buffer.from(linkname.toString('utf8')).equals(linkname)) {
        throw errors.invalid(`cannot export layer diff: the target of symlink ${q(this.abs(rel))} is not valid UTF-8`);
      }
      yield this.header({ ...owner, name: tarName, type: TarType.symlink, mode, size: 0, linkname: linkname.toString('utf8'), xattrs });
    } else {
      const type = st.isCharacterDevice() ? TarType.charDevice : st.isBlockDevice() ? TarType.blockDevice : TarType.fifo;
      const dev = type === TarType.fifo ? {} : { devmajor: major(st.rdev), devminor: minor(st.rdev) };
      yield this.header({ ...owner, name: tarName, type, mode, size: 0, ...dev, xattrs });
    }
  }

  private mtime(st: BigIntStats): number {
    const seconds = Number(st.mtimeNs / 1_000_000_000n - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1n : 0n));
    const epoch = this.options.sourceDateEpoch;
    return epoch !== undefined && seconds > epoch ? epoch : seconds;
  }

  /**
   * The xattrs to write, sorted by name, and whether the directory is opaque. Refuses what a
   * diff of the upper directory alone cannot express: a directory renamed by overlayfs
   * (`redirect_dir`) or a file whose data stayed in a lower layer (`metacopy`).
   */
  private xattrs(rel: string, st: BigIntStats): { xattrs: [string, Buffer][]; opaque: boolean } {
    const abs = this.abs(rel);
    const xattrs: [string, Buffer][] = [];
    let opaque = false;
    for (const name of llistxattr(abs).sort(byBytes)) {
      if (name.startsWith(OVERLAY_XATTRS)) {
        const what = name.slice(OVERLAY_XATTRS.length);
        if (what === 'opaque' && st.isDirectory()) opaque = lgetxattr(abs, name)?.toString('latin1') === 'y';
        if (what === 'redirect' || what === 'metacopy') {
          throw errors.precondition(`cannot export layer diff: ${q(abs)} has overlayfs ${what} data that only its lower layers can resolve`, {
            hint: 'mount the container overlay with redirect_dir=off and metacopy=off',
          });
        }
        continue;
      }
      const value = lgetxattr(abs, name);
      if (value !== undefined) xattrs.push([name, value]);
    }
    return { xattrs, opaque };
  }

  /** A regular file's content and padding, read in chunks; fails if the file changes size meanwhile. */
  private *content(rel: string, st: BigIntStats): Generator<Buffer> {
    const abs = this.abs(rel);
    const changed = () =>
      errors.precondition(`cannot export layer diff: ${q(abs)} changed while it was being read`, {
        hint: 'stop or pause the container before committing it',
      });
    const size = Number(st.size);
    const fd = openSync(abs, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      const now = fstatSync(fd, { bigint: true });
      if (now.ino !== st.ino || now.size !== st.size) throw changed();
      for (let left = size; left > 0; ) {
        const buf = Buffer.allocUnsafe(Math.min(left, CHUNK));
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) throw changed();
        left -= n;
        yield n === buf.length ? buf : buf.subarray(0, n);
        checkAborted(this.options.signal);
      }
      if (readSync(fd, Buffer.alloc(1), 0, 1, null) !== 0) throw changed();
    } finally {
      closeSync(fd);
    }
    yield padding(size);
  }
}

/** Gathers small chunks (headers, small files) into ones of about BATCH bytes. */
function* batched(chunks: Iterable<Buffer>): Generator<Buffer> {
  let pending: Buffer[] = [];
  let bytes = 0;
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    pending.push(chunk);
    bytes += chunk.length;
    if (bytes >= BATCH) {
      yield pending.length === 1 ? chunk : Buffer.concat(pending, bytes);
      pending = [];
      bytes = 0;
    }
  }
  if (bytes > 0) yield Buffer.concat(pending, bytes);
}

/**
 * Starts exporting `upperDir`, an overlayfs upper directory that nothing writes to meanwhile
 * (a stopped or paused container's), as an uncompressed OCI layer tar. The tar is produced as
 * `stream` is read (file contents in chunks, never whole; nothing is read ahead of the
 * reader). Entries are in byte-wise order of their names, depth first, each directory before
 * its members; owners are numeric (names empty), times whole seconds, with no access or change
 * times: the same directory gives the same bytes, so the same diff ID.
 *
 * Errors (on `stream` and `result`): NOT_FOUND when `upperDir` does not exist;
 * INVALID_ARGUMENT for names a layer cannot carry (not UTF-8, or starting with `.wh.`);
 * FAILED_PRECONDITION when a file changes during the export or overlayfs redirect/metacopy
 * data is found; CANCELED on abort or when `stream` is destroyed before its end; INTERNAL for
 * other file system errors. Each message names the path. Needs root (trusted.* xattrs).
 * A `sourceDateEpoch` that is not a whole number of seconds ≥ 0 throws INVALID_ARGUMENT at once.
 */
export function layerDiffStream(upperDir: string, options: LayerDiffOptions = {}): LayerDiffStream {
  const { sourceDateEpoch } = options;
  if (sourceDateEpoch !== undefined && !(Number.isSafeInteger(sourceDateEpoch) && sourceDateEpoch >= 0)) {
    throw errors.invalid(`invalid source date epoch: ${String(sourceDateEpoch)}`);
  }
  const walker = new DiffWalker(upperDir.replace(/(.)\/+$/, '$1'), options);
  const digester = new Digester();
  let settle!: { resolve: (r: LayerDiffResult) => void; reject: (e: unknown) => void };
  const result = new Promise<LayerDiffResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined); // a caller that only reads the stream sees the error there
  let finished = false;
  function* tar(): Generator<Buffer> {
    try {
      for (const chunk of batched(walker.chunks())) {
        digester.update(chunk);
        yield chunk;
      }
      finished = true;
      settle.resolve({ diffId: digester.digest(), size: digester.size, entries: walker.entries });
    } catch (err) {
      settle.reject(err);
      throw err;
    } finally {
      if (!finished) settle.reject(errors.canceled('layer diff stream closed before its end'));
    }
  }
  return { stream: Readable.from(tar(), { objectMode: false, highWaterMark: BATCH }), result };
}

/**
 * Exports `upperDir` as {@link layerDiffStream} does into `output`, with back-pressure, and
 * resolves once `output` has taken all of it (and, unless `end` is false, has finished).
 * On failure `output` is destroyed, as stream.pipeline does.
 */
export async function writeLayerDiff(
  upperDir: string,
  output: Writable,
  options: LayerDiffOptions & { end?: boolean } = {},
): Promise<LayerDiffResult> {
  const { stream, result } = layerDiffStream(upperDir, options);
  const { signal } = options;
  try {
    await pipeline(stream, output, signal ? { end: options.end ?? true, signal } : { end: options.end ?? true });
  } catch (err) {
    // An abort while `output` applies back-pressure surfaces as pipeline's AbortError.
    if (signal?.aborted) throw errors.canceled();
    throw err;
  }
  return result;
}
