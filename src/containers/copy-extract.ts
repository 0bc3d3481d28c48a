/**
 * `cp`'s extraction half: unpacks a tar into a directory of a container's filesystem, seen
 * from the host at directory `root` (moby's daemon/archive_unix.go over go-archive's Unpack),
 * with every entry resolved inside `root` as copy.ts describes (and with the same NOTE on its
 * check-then-act race).
 */
import {
  chmodSync, closeSync, constants as fsConstants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync,
  openSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';
import { errors, isErrno, isGantryError } from '../core/errors.js';
import { mknod } from '../native/native.js';
import { mkdirInRoot, resolveInRoot } from '../runtime/secure-path.js';
import { containerPath, drained, lstatIn, lstatOrUndefined, O_NOFOLLOW, q, within } from './copy-fs.js';

/** Options of {@link extractToRoot}. */
export interface ExtractOptions {
  /** Refuse to replace a directory by a non-directory or the reverse (Docker's NoOverwriteDirNonDir). */
  noOverwriteDirNonDir: boolean;
  /** Owner of everything extracted; undefined keeps the archive's owners. */
  chown: { uid: number; gid: number } | undefined;
  /** Leave owners alone: new files belong to this process (Docker's NoLchown, for the client side). */
  noLchown?: boolean;
  /** Renames each entry (and hard link target) before it is extracted (Docker's RebaseArchiveEntries). */
  rename?: (name: string) => string;
  /** Called with the destination's container path before anything is written; throws to refuse. */
  checkWritable?: (dir: string) => void;
}

/** Docker's mode for directories an archive implies but does not contain. */
const IMPLIED_DIR_MODE = 0o755;
const O_DIRECTORY = fsConstants.O_DIRECTORY;

/**
 * Docker's checkWritablePath, for {@link ExtractOptions.checkWritable}: a destination inside a
 * read-only mount, or outside every mount of a read-only root filesystem, is refused.
 */
export function writableCheck(mounts: readonly { Destination: string; RW: boolean }[], readonlyRootfs: boolean): (dir: string) => void {
  return (dir) => {
    const mount = mounts.filter((m) => within(dir, m.Destination)).sort((a, b) => b.Destination.length - a.Destination.length)[0];
    if (mount ? !mount.RW : readonlyRootfs) {
      throw errors.invalid(mount ? 'mounted volume is marked read-only' : 'container rootfs is marked read-only');
    }
  };
}

/** tar-stream's header as it really is: `type` is null for unknown typeflags. */
type TarHeader = Omit<Header, 'type' | 'pax'> & { type: Header['type'] | null; pax?: Record<string, string> | null };
interface Meta {
  uid: number;
  gid: number;
  mode: number;
  atime: number;
  mtime: number;
}

/** The components of a tar entry name, without a leading `/`, `.` and empty ones; refuses `..` and NUL. */
function entryParts(name: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (name.includes('\0') || parts.includes('..')) throw errors.invalid(`invalid entry name ${q(name)}: it leaves the destination directory`);
  return parts;
}

function metadata(h: TarHeader): Meta {
  const pax = h.pax ?? {};
  if (Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) throw errors.invalid(`sparse file ${q(h.name)} is not supported`);
  const uid = pax.uid !== undefined ? Number(pax.uid) : (h.uid ?? 0);
  const gid = pax.gid !== undefined ? Number(pax.gid) : (h.gid ?? 0);
  const mtime = pax.mtime !== undefined ? Number(pax.mtime) : (h.mtime?.getTime() ?? 0) / 1000;
  const atime = pax.atime !== undefined ? Math.max(Number(pax.atime), mtime) : mtime;
  if (![uid, gid].every((n) => Number.isInteger(n) && n >= 0 && n < 0xffffffff) || !Number.isFinite(atime)) {
    throw errors.invalid(`bad owner or time for ${q(h.name)}`);
  }
  return { uid, gid, mode: (h.mode ?? 0) & 0o7777, atime, mtime };
}

/** Writes all of `chunk` to `fd`. */
function writeAll(fd: number, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
}

/** Runs `fn` on `host` opened without following it (a directory or a regular file). */
function withFd(host: string, flags: number, fn: (fd: number) => void): void {
  const fd = openSync(host, flags | O_NOFOLLOW);
  try {
    fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** The state of one extraction. */
class Extractor {
  /** Container directories already verified or created (as the archive names them) and where they are. */
  private readonly dirs = new Map<string, string>();
  /** Directory times, set last: creating entries in a directory changes its mtime. */
  private readonly dirTimes: [string, Meta][] = [];
  private readonly lchown: boolean;

  constructor(
    private readonly root: string,
    private readonly dest: string,
    private readonly opts: ExtractOptions,
  ) {
    this.lchown = !opts.noLchown && process.getuid?.() === 0;
  }

  /** The host directory of container directory `dir`, creating it (0755, as Docker) when missing. */
  private parent(dir: string): string {
    const known = this.dirs.get(dir);
    if (known !== undefined) return known;
    let host = resolveInRoot(this.root, dir);
    const st = lstatIn(this.root, host);
    // NOTE: the resolved path: a dangling symlink on the way names directories to create inside the root.
    if (!st) host = mkdirInRoot(this.root, containerPath(this.root, host), IMPLIED_DIR_MODE);
    else if (!st.isDirectory()) throw errors.invalid(`cannot extract into ${q(dir)}: not a directory`);
    this.dirs.set(dir, host);
    return host;
  }

  /** Removes what is at `host` (never following a symlink) and forgets directories at or below it. */
  private remove(host: string, st: Stats): void {
    if (st.isDirectory()) rmSync(host, { recursive: true, force: true });
    else unlinkSync(host);
    for (const [dir, h] of this.dirs) if (h === host || h.startsWith(`${host}/`)) this.dirs.delete(dir);
  }

  /** Owner, then mode (chown clears setuid/setgid), through a descriptor. */
  private ownFd(fd: number, meta: Meta): void {
    if (this.lchown) fchownSync(fd, this.opts.chown?.uid ?? meta.uid, this.opts.chown?.gid ?? meta.gid);
    fchmodSync(fd, meta.mode);
  }

  /** Extracts one entry; `data` is its content (consumed or resumed). */
  async apply(h: TarHeader, data: AsyncIterable<Buffer> & { resume(): unknown }): Promise<void> {
    const type = h.type === 'contiguous-file' ? 'file' : h.type;
    if (type !== 'file') data.resume();
    const parts = entryParts(this.opts.rename ? this.opts.rename(h.name) : h.name);
    // NOTE: the archive's `.` is the destination itself, which Docker leaves alone.
    if (parts.length === 0) return;
    const meta = metadata(h);
    const rel = parts.join('/');
    const where = posix.join(this.dest, rel);
    const host = join(this.parent(posix.dirname(where)), parts[parts.length - 1] as string);
    const isDir = type === 'directory';
    const existing = lstatOrUndefined(host);
    if (existing) {
      if (this.opts.noOverwriteDirNonDir && existing.isDirectory() !== isDir) {
        throw errors.invalid(isDir
          ? `cannot overwrite non-directory ${q(rel)} with directory ${q(this.dest)}`
          : `cannot overwrite directory ${q(rel)} with non-directory ${q(this.dest)}`);
      }
      if (!existing.isDirectory() || !isDir) this.remove(host, existing);
    }
    switch (type) {
      case 'file': {
        const fd = openSync(host, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of data) writeAll(fd, chunk);
          this.ownFd(fd, meta);
          futimesSync(fd, meta.atime, meta.mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case 'directory':
        if (!existing?.isDirectory()) mkdirSync(host, 0o700);
        this.dirs.set(where, host);
        withFd(host, fsConstants.O_RDONLY | O_DIRECTORY, (fd) => this.ownFd(fd, meta));
        this.dirTimes.push([host, meta]);
        return;
      case 'symlink':
        symlinkSync(h.linkname ?? '', host);
        this.own(host, meta);
        lutimesSync(host, meta.atime, meta.mtime);
        return;
      case 'link':
        return this.hardlink(host, h.linkname ?? '', meta);
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const ifmt = { 'character-device': fsConstants.S_IFCHR, 'block-device': fsConstants.S_IFBLK, fifo: fsConstants.S_IFIFO }[type];
        mknod(host, ifmt | 0o600, h.devmajor ?? 0, h.devminor ?? 0);
        this.own(host, meta);
        chmodSync(host, meta.mode); // NOTE: host is what mknod just made, not a symlink
        utimesSync(host, meta.atime, meta.mtime);
        return;
      }
      default:
        throw errors.invalid(`unhandled tar header type ${String(h.type)} of ${q(h.name)}`);
    }
  }

  private own(host: string, meta: Meta): void {
    if (this.lchown) lchownSync(host, this.opts.chown?.uid ?? meta.uid, this.opts.chown?.gid ?? meta.gid);
  }

  /** A hard link to an entry extracted before, named relative to the destination as Docker does. */
  private hardlink(host: string, linkname: string, meta: Meta): void {
    const parts = entryParts(this.opts.rename ? this.opts.rename(linkname) : linkname);
    const where = posix.join(this.dest, parts.join('/'));
    const target = parts.length === 0 ? undefined : join(resolveInRoot(this.root, posix.dirname(where)), parts[parts.length - 1] as string);
    const st = target === undefined ? undefined : lstatOrUndefined(target);
    if (target === undefined || !st || st.isDirectory()) throw errors.invalid(`invalid hardlink target ${q(linkname)}`);
    linkSync(target, host);
    this.own(host, meta);
    if (st.isSymbolicLink()) return; // chmod and utimes would follow it
    chmodSync(host, meta.mode);
    utimesSync(host, meta.atime, meta.mtime);
  }

  /** Sets the directories' times. */
  finish(): void {
    for (const [host, meta] of this.dirTimes) {
      try {
        withFd(host, fsConstants.O_RDONLY | O_DIRECTORY, (fd) => futimesSync(fd, meta.atime, meta.mtime));
      } catch (err) {
        // A later entry replaced it.
        if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR') && !isErrno(err, 'ELOOP')) throw err;
      }
    }
  }
}

/** `tar`, gunzipped when it starts with gzip's magic number (Docker decompresses what is copied in). */
async function* decompressed(tar: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = tar[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const all = (async function* () {
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  if (first.value[0] !== 0x1f || first.value[1] !== 0x8b) return yield* all;
  const source = Readable.from(all, { objectMode: false });
  const gunzip = createGunzip();
  source.once('error', (err) => gunzip.destroy(err));
  yield* source.pipe(gunzip);
}

/** Writes `source` into `ex` with backpressure; stops early once `ex` is destroyed. */
async function feed(source: AsyncIterable<Uint8Array>, ex: Extract): Promise<void> {
  for await (const chunk of source) {
    if (ex.destroying) return;
    if (!ex.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) await drained(ex);
  }
  if (!ex.destroying) ex.end(undefined);
}

/**
 * Extracts the tar `tar` into container directory `destDir` (symlinks followed, the last one
 * too, as Docker's PUT /containers/{id}/archive does), with Docker's Unpack rules: a later
 * entry replaces what is there, directories merge, missing parents are made 0755, modes and
 * times are kept, owners per `opts`. Every entry is resolved inside `root`: an entry or hard
 * link with `..` is refused, a symlink on the way is followed as if `root` were `/`, and a
 * symlink in the last place is replaced, never written through. NOT_FOUND when `destDir` does
 * not exist, INVALID_ARGUMENT when it is not a directory ("extraction point is not a directory").
 */
export async function extractToRoot(root: string, destDir: string, tar: AsyncIterable<Uint8Array>, opts: ExtractOptions): Promise<void> {
  const cleanRoot = resolve(root);
  const destHost = resolveInRoot(cleanRoot, posix.join('/', destDir));
  const st = lstatIn(cleanRoot, destHost);
  if (!st) throw errors.notFound(`no such directory: ${destDir}`);
  if (!st.isDirectory()) throw errors.invalid('extraction point is not a directory');
  const dest = containerPath(cleanRoot, destHost);
  opts.checkWritable?.(dest);
  const x = new Extractor(cleanRoot, dest, opts);
  const ex = tarExtract();
  let sourceError: unknown;
  const feeding = feed(decompressed(tar), ex).catch((err: unknown) => {
    sourceError = err;
    ex.destroy(err as Error);
  });
  let name = '';
  try {
    for await (const e of ex) {
      name = e.header.name;
      await x.apply(e.header as TarHeader, e as unknown as AsyncIterable<Buffer> & { resume(): unknown });
    }
    await feeding;
    x.finish();
  } catch (err) {
    ex.destroy();
    (tar as Partial<Readable>).destroy?.();
    if (sourceError !== undefined) throw sourceError;
    if (isGantryError(err)) throw err;
    const reason = (err instanceof Error ? err.message : String(err)).split(cleanRoot).join('');
    throw errors.invalid(name ? `cannot extract ${q(name)}: ${reason}` : `invalid tar archive: ${reason}`, { cause: err });
  }
}
