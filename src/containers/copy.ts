/**
 * `cp`'s engine half: stat, archive and extract paths of a container's filesystem, seen from
 * the host at directory `root` (moby's daemon/archive_unix.go over go-archive's
 * TarWithOptions and Unpack). Container paths are resolved as secure-path resolves them:
 * every symlink is followed as if `root` were `/`, so nothing in the container (absolute
 * links, `..`, link chains) leads an operation outside `root`. Final path components are
 * never followed: they are lstat-ed, opened with O_NOFOLLOW, and changed through descriptors.
 * Extraction is in copy-extract.ts (re-exported here); the shared primitives in copy-fs.ts.
 *
 * NOTE: like secure-path, this checks and then acts. A process of a running container that
 * swaps a parent directory for a symlink between our resolution and our use can still
 * redirect one operation; Docker closes that race by chrooting into the container, which
 * Node cannot do.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants as fsConstants, createReadStream, createWriteStream, fstatSync, openSync, readdirSync, readFileSync, readlinkSync,
  readSync, unlinkSync, type Stats,
} from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Header, pack as tarPack, type Pack } from 'tar-stream';
import { errors, isGantryError } from '../core/errors.js';
import { resolveInRoot } from '../runtime/secure-path.js';
import { containerPath, drained, lstatIn, lstatOrUndefined, O_NOFOLLOW, q, within } from './copy-fs.js';

export { type ExtractOptions, extractToRoot, writableCheck } from './copy-extract.js';

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

const CHUNK = 64 * 1024;
/** Kernel interfaces mounted in a running container: not files, and Docker cannot copy them either. */
const PSEUDO_FS = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'securityfs', 'debugfs', 'tracefs', 'bpf', 'configfs', 'fusectl', 'pstore', 'binfmt_misc', 'efivarfs']);

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
