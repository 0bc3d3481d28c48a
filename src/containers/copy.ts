/**
 * `cp`'s engine half: stat, archive and extract paths of a container's filesystem, seen from
 * the host at directory `root` (moby's daemon/archive_unix.go over go-archive's
 * TarWithOptions and Unpack). Container paths are resolved as secure-path resolves them:
 * every symlink is followed as if `root` were `/`, so nothing in the container (absolute
 * links, `..`, link chains) leads an operation outside `root`. Final path components are
 * never followed: they are lstat-ed, opened with O_NOFOLLOW, and changed through descriptors.
 *
 * NOTE: like secure-path, this checks and then acts. A process of a running container that
 * swaps a parent directory for a symlink between our resolution and our use can still
 * redirect one operation; Docker closes that race by chrooting into the container, which
 * Node cannot do.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync, closeSync, constants as fsConstants, createReadStream, createWriteStream, fchmodSync, fchownSync, fstatSync,
  futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync,
  readSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Extract, type Header, pack as tarPack, type Pack } from 'tar-stream';
import { errors, isErrno, isGantryError } from '../core/errors.js';
import { mknod } from '../native/native.js';
import { mkdirInRoot, resolveInRoot } from '../runtime/secure-path.js';

/** Docker's PathStat (the X-Docker-Container-Path-Stat header): what is at a container path. */
export interface PathStat {
  /** Base name of the path as asked (`.` for `dir/.`). */
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus the {@link FileMode} type bits. */
  mode: number;
  /** Modification time, RFC 3339. */
  mtime: string;
  /** For a symlink: the container path it finally resolves to (as far as it exists); else ''. */
  linkTarget: string;
}

/** Go's os.FileMode bits, as {@link PathStat.mode} carries them. */
export const FileMode = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
  irregular: 2 ** 19,
} as const;

/** True when FileMode `mode` has `bit` (arithmetic: bit 31 does not survive JavaScript's `&`). */
export function hasMode(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

/** Options of {@link archiveFromRoot}. */
export interface ArchiveOptions {
  /** Name of the archive's top entry instead of the path's base name (Docker's RebaseNames). */
  rebaseName?: string;
}

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
const CHUNK = 64 * 1024;
const O_NOFOLLOW = fsConstants.O_NOFOLLOW;
const O_DIRECTORY = fsConstants.O_DIRECTORY;
/** Kernel interfaces mounted in a running container: not files, and Docker cannot copy them either. */
const PSEUDO_FS = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'securityfs', 'debugfs', 'tracefs', 'bpf', 'configfs', 'fusectl', 'pstore', 'binfmt_misc', 'efivarfs']);

const q = (s: string) => JSON.stringify(s);

/** lstat, or undefined when nothing is there (ENOENT, or ENOTDIR for a file used as a directory). */
function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

/**
 * lstat of `host` inside `root`, or undefined when nothing is there. The root itself is
 * stat-ed: it is ours, and a running container's `/proc/<pid>/root` is a (magic) symlink.
 */
function lstatIn(root: string, host: string): Stats | undefined {
  if (host !== root) return lstatOrUndefined(host);
  try {
    return statSync(host);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** The container path of host path `host` under `root` (both clean). */
function containerPath(root: string, host: string): string {
  if (host === root) return '/';
  return root === '/' ? host : host.slice(root.length);
}

/** True when container path `p` is `dir` or below it. */
function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/**
 * Mount points of kernel pseudo filesystems when `root` is a running container's
 * `/proc/<pid>/root` (from its mountinfo, whose mount points are relative to that root).
 */
function pseudoMounts(root: string): string[] {
  const m = /^\/proc\/(\d+)\/root$/.exec(root);
  if (!m) return [];
  let text: string;
  try {
    text = readFileSync(`/proc/${m[1]}/mountinfo`, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    const point = left?.split(' ')[4];
    if (point && right && PSEUDO_FS.has(right.split(' ')[0] ?? '')) {
      out.push(point.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
    }
  }
  return out;
}

/** A container path located in the root: where it is on the host and how it was asked for. */
interface Located {
  root: string;
  /** The clean absolute container path asked for. */
  asked: string;
  host: string;
  /** Where `host` is in the container (symlinks resolved). */
  where: string;
  st: Stats;
  /** The path ends in `/.`: the archive holds the directory's contents. */
  contents: boolean;
  /** Entries below these container paths are not files (pseudo filesystems). */
  pseudo: string[];
}

/**
 * Finds container path `path` in `root` as Docker does (Lstat of the path joined to `/`): the
 * last component is not followed unless the path ends in `/` or `/.`. NOT_FOUND when missing.
 */
function locate(root: string, path: string): Located {
  const cleanRoot = resolve(root);
  const asked = posix.join('/', path);
  const contents = path === '.' || path.endsWith('/.');
  const assertsDir = contents || path.endsWith('/');
  const host = assertsDir || asked === '/'
    ? resolveInRoot(cleanRoot, asked)
    : join(resolveInRoot(cleanRoot, posix.dirname(asked)), posix.basename(asked));
  const where = containerPath(cleanRoot, host);
  const pseudo = pseudoMounts(cleanRoot);
  const st = pseudo.some((m) => where !== m && within(where, m)) ? undefined : lstatIn(cleanRoot, host);
  if (!st) throw errors.notFound(`lstat ${asked}: no such file or directory`);
  if (assertsDir && !st.isDirectory()) throw errors.invalid(`lstat ${posix.join(asked, '/')}: not a directory`);
  return { root: cleanRoot, asked, host, where, st, contents, pseudo };
}

/** Go's os.FileMode of a stat. */
function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode += FileMode.dir;
  else if (st.isSymbolicLink()) mode += FileMode.symlink;
  else if (st.isBlockDevice()) mode += FileMode.device;
  else if (st.isCharacterDevice()) mode += FileMode.device + FileMode.charDevice;
  else if (st.isFIFO()) mode += FileMode.namedPipe;
  else if (st.isSocket()) mode += FileMode.socket;
  else if (!st.isFile()) mode += FileMode.irregular;
  if (st.mode & 0o4000) mode += FileMode.setuid;
  if (st.mode & 0o2000) mode += FileMode.setgid;
  if (st.mode & 0o1000) mode += FileMode.sticky;
  return mode;
}

/** What is at container path `path` (Docker's containerFSView.Stat). NOT_FOUND when nothing is. */
export function statInRoot(root: string, path: string): PathStat {
  const loc = locate(root, path);
  const name = loc.contents ? '.' : loc.asked === '/' ? '/' : posix.basename(loc.asked);
  const linkTarget = loc.st.isSymbolicLink() ? containerPath(loc.root, resolveInRoot(loc.root, loc.asked)) : '';
  return { name, size: loc.st.size, mode: goFileMode(loc.st), mtime: loc.st.mtime.toISOString(), linkTarget };
}

/**
 * A tar of container path `path`, named as Docker's GET /containers/{id}/archive names it: a
 * file as its base name; a directory as `<base>/` and `<base>/...` (for `/`, `/` and `/...`);
 * `dir/.` as `./` and `./...` (its contents). Owners, modes and times (to the second) are
 * kept; hard links within the archive stay hard links; sockets are left out, as by Docker.
 * Throws NOT_FOUND at once when nothing is at `path`; later errors end the stream.
 */
export function archiveFromRoot(root: string, path: string, opts: ArchiveOptions = {}): Readable {
  const loc = locate(root, path);
  const natural = !loc.st.isDirectory() ? posix.basename(loc.asked) : loc.contents ? '.' : loc.asked === '/' ? '' : posix.basename(loc.asked);
  const top = opts.rebaseName ?? natural;
  const p = tarPack();
  new Archiver(p, loc.pseudo).add(loc.host, loc.where, top, loc.st).then(
    () => p.finalize(),
    (err: unknown) => p.destroy(err as Error),
  );
  return Readable.from(p, { objectMode: false });
}

/** A header as tar-stream's pack takes it. */
type EntryHeader = Partial<Header> & Pick<Header, 'name'>;

/** One archive being written. */
class Archiver {
  /** `dev:ino` of hard-linked files already in the archive, and their entry names. */
  private readonly links = new Map<string, string>();

  constructor(
    private readonly p: Pack,
    private readonly pseudo: string[],
  ) {}

  /** Adds `host` (container path `where`) as entry `name`, and what is below it. */
  async add(host: string, where: string, name: string, st: Stats): Promise<void> {
    // NOTE: the full st.mode, type bits included: tar-stream masks them off, but replaces a mode of 0 by 0644.
    const h: EntryHeader = { name, mode: st.mode, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    if (st.isDirectory()) {
      await this.entry({ ...h, name: `${name}/`, type: 'directory' });
      if (this.pseudo.includes(where)) return;
      for (const child of readdirSync(host).sort()) {
        const cst = lstatOrUndefined(join(host, child));
        if (cst) await this.add(join(host, child), posix.join(where, child), `${name}/${child}`, cst);
      }
      return;
    }
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.entry({ ...h, type: 'link', linkname: first });
      this.links.set(key, name);
    }
    if (st.isSymbolicLink()) return this.entry({ ...h, type: 'symlink', linkname: readlinkSync(host) });
    if (st.isFIFO()) return this.entry({ ...h, type: 'fifo' });
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      return this.entry({ ...h, type: st.isBlockDevice() ? 'block-device' : 'character-device', devmajor: major, devminor: minor });
    }
    if (st.isFile()) return this.file(host, { ...h, type: 'file', size: st.size }, st);
    // Sockets and the like: Docker logs "sockets not supported" and goes on.
  }

  private entry(h: EntryHeader): Promise<void> {
    return new Promise((res, rej) => this.p.entry(h, (err) => (err ? rej(err) : res())));
  }

  /** A regular file's entry: exactly the size lstat gave (a file that shrank meanwhile is padded). */
  private async file(host: string, h: EntryHeader, st: Stats): Promise<void> {
    const fd = openSync(host, fsConstants.O_RDONLY | O_NOFOLLOW);
    try {
      const now = fstatSync(fd);
      if (now.ino !== st.ino || now.dev !== st.dev) throw errors.conflict(`${q(h.name)} changed while it was archived`);
      let sink!: ReturnType<Pack['entry']>;
      const done = new Promise<void>((res, rej) => {
        sink = this.p.entry(h, (err) => (err ? rej(err) : res()));
      });
      const size = h.size ?? 0;
      for (let off = 0; off < size; ) {
        const buf = Buffer.alloc(Math.min(CHUNK, size - off));
        for (let got = 0; got < buf.length; ) {
          const n = readSync(fd, buf, got, buf.length - got, off + got);
          if (n === 0) break;
          got += n;
        }
        off += buf.length;
        if (!sink.write(buf)) await drained(sink);
      }
      sink.end(undefined);
      await done;
    } finally {
      closeSync(fd);
    }
  }
}

/** Resolves once `w` drains or closes. */
function drained(w: NodeJS.EventEmitter): Promise<void> {
  return new Promise((res) => {
    const done = () => {
      w.off('drain', done).off('close', done);
      res();
    };
    w.on('drain', done).on('close', done);
  });
}

/** Linux's major/minor of a dev_t (glibc's gnu_dev_major/minor). */
function splitDev(rdev: number): { major: number; minor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  const major = ((rdev >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) | (((high & 0xfff) << 20) >>> 0);
  return { major: major >>> 0, minor: minor >>> 0 };
}

/**
 * Writes `archive` to an unlinked temporary file in `dir` and returns a stream of it: the
 * archive outlives the root filesystem it was read from, with memory use bounded. No file is
 * left behind, whatever happens.
 */
export async function spoolArchive(archive: Readable, dir: string): Promise<Readable> {
  const file = join(dir, `.cp-${randomBytes(8).toString('hex')}`);
  const fd = openSync(file, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | O_NOFOLLOW, 0o600);
  unlinkSync(file);
  try {
    await pipeline(archive, createWriteStream(file, { fd, autoClose: false }));
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return createReadStream(file, { fd, start: 0 });
}

/** Runs `fn`, turning a missing path into Docker's `No such container:path: <container>:<path>`. */
export async function inContainerPath<T>(container: string, path: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isGantryError(err, 'NOT_FOUND')) throw errors.notFound(`No such container:path: ${container}:${path}`, { cause: err });
    throw err;
  }
}

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

// ------------------------------------------------------------------ extraction

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
