/**
 * Unpacks a build context sent as a tar stream (`gantry build - < ctx.tar`) into a private
 * directory, as Docker's daemon does with the context it receives (moby's
 * remotecontext.FromArchive → chrootarchive.Untar): modes, owners and times are kept as the
 * archive has them (a later `COPY` decides the owners in the image, `--chown` or 0:0), and
 * nothing in the archive can write outside the directory.
 *
 * A context is not a layer: `.wh.` names are ordinary files here, and there are no xattrs to
 * keep (COPY does not carry them).
 */
import {
  chmodSync, closeSync, constants as fsConstants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, unlinkSync, writeSync,
} from 'node:fs';
import { realpath } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { errors, isGantryError } from '../../core/errors.js';
import { mknod } from '../../native/native.js';
import { createReplacing, ensureParents, forEachTarEntry, type TarEntryData, tarPathComponents } from '../../snapshots/tar-entries.js';

/** Options of {@link extractContextTar}. */
export interface ExtractOptions {
  /** Aborting stops the unpack and rejects with CANCELED. */
  signal?: AbortSignal;
}

type TarHeader = Omit<Header, 'type'> & { type: Header['type'] | null };
type Data = TarEntryData;

const CREATE_FILE = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
const q = (s: string) => JSON.stringify(s);
const refuse = (what: string) => errors.invalid(`unable to prepare context: ${what}`);


/** One unpack. Assumes nothing but this code writes into `root` meanwhile. */
class ContextUnpacker {
  /** Paths ('' = root) known to be real directories, not symlinks. */
  private readonly dirs = new Set<string>(['']);
  /** Directory times, set at the end (deepest first): creating children changes them. */
  private readonly dirTimes = new Map<string, number>();
  /** chown needs root; an ordinary user keeps its own ownership, as `tar -x` does. */
  private readonly chown = process.getuid?.() === 0;

  constructor(private readonly root: string) {}

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /** Checks (and, if `create`, makes) every parent of `parts`; refuses symlinks and non-directories. */
  private parents(parts: string[], what: string, create: boolean): void {
    ensureParents(this.root, parts, this.dirs, { what, create, absent: 'which is not in the archive', refuse });
  }

  /** Runs `create`; on EEXIST replaces what is there (a later entry wins), except dir over dir. */
  private make<T>(rel: string, isDir: boolean, create: () => T): T | undefined {
    return createReplacing(this.abs(rel), isDir, create, (st) => {
      if (st.isDirectory()) {
        rmSync(this.abs(rel), { recursive: true, force: true });
        for (const k of [...this.dirs]) if (k === rel || k.startsWith(`${rel}/`)) this.dirs.delete(k);
      } else {
        unlinkSync(this.abs(rel));
      }
    });
  }

  private owner(rel: string, h: TarHeader): void {
    if (this.chown) lchownSync(this.abs(rel), h.uid ?? 0, h.gid ?? 0);
  }

  /** Unpacks one entry; `data` is its content (consumed or resumed). */
  async apply(h: TarHeader, data: Data): Promise<void> {
    const type = h.type === 'contiguous-file' ? 'file' : h.type;
    if (type !== 'file') data.resume();
    if ((type as string) === 'pax-global-header') return; // global pax records: nothing to unpack
    const parts = tarPathComponents(h.name);
    if (!parts) {
      throw refuse(h.name.includes('\0') ? `archive entry ${q(h.name)} contains a NUL byte` : `archive entry ${q(h.name)} is outside of the context directory`);
    }
    const rel = parts.join('/');
    const abs = this.abs(rel);
    const mode = (h.mode ?? 0o644) & 0o7777;
    // pax records (large ids, sub-second times) override the header's fields
    const pax = (h.pax ?? {}) as Record<string, string | undefined>;
    h.uid = pax.uid !== undefined ? Number(pax.uid) : (h.uid ?? 0);
    h.gid = pax.gid !== undefined ? Number(pax.gid) : (h.gid ?? 0);
    const mtime = pax.mtime !== undefined ? Number(pax.mtime) : (h.mtime?.getTime() ?? 0) / 1000;
    if (![h.uid, h.gid].every((n) => Number.isInteger(n) && n >= 0 && n < 0xffffffff) || !Number.isFinite(mtime)) {
      throw refuse(`invalid context archive: bad owner or time for ${q(h.name)}`);
    }
    if (rel === '') {
      if (type !== 'directory') throw refuse(`archive entry ${q(h.name)} would replace the context directory`);
      return; // NOTE: the context root keeps the metadata of our private directory
    }
    this.parents(parts, `archive entry ${q(h.name)}`, true);

    switch (type) {
      case 'file': {
        const fd = this.make(rel, false, () => openSync(abs, CREATE_FILE, 0o600)) as number;
        try {
          for await (const chunk of data) for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
          if (this.chown) fchownSync(fd, h.uid ?? 0, h.gid ?? 0);
          fchmodSync(fd, mode); // after chown, which clears setuid/setgid
          futimesSync(fd, mtime, mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case 'directory':
        this.make(rel, true, () => mkdirSync(abs, 0o700));
        this.dirs.add(rel);
        this.owner(rel, h);
        chmodSync(abs, mode);
        this.dirTimes.set(rel, mtime);
        return;
      case 'symlink':
        // The target is stored as is, wherever it points: a context may hold such links, and
        // COPY decides what following one means. Nothing here ever writes through a link.
        this.make(rel, false, () => symlinkSync(h.linkname ?? '', abs));
        this.owner(rel, h);
        lutimesSync(abs, mtime, mtime);
        return;
      case 'link': {
        const linkname = h.linkname ?? '';
        const target = tarPathComponents(linkname);
        if (!target || target.length === 0) throw refuse(`hard link ${q(h.name)} points outside of the context directory (${q(linkname)})`);
        const what = `hard link ${q(h.name)} points to ${q(linkname)}`;
        this.parents(target, what, false);
        const st = lstatSync(this.abs(target.join('/')), { throwIfNoEntry: false });
        if (!st) throw refuse(`${what}, which is not in the archive`);
        if (st.isDirectory()) throw refuse(`${what}, which is a directory`);
        if (target.join('/') !== rel) this.make(rel, false, () => linkSync(this.abs(target.join('/')), abs));
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const ifmt = { 'character-device': fsConstants.S_IFCHR, 'block-device': fsConstants.S_IFBLK, fifo: fsConstants.S_IFIFO }[type];
        this.make(rel, false, () => mknod(abs, ifmt | 0o600, h.devmajor ?? 0, h.devminor ?? 0));
        this.owner(rel, h);
        chmodSync(abs, mode);
        lutimesSync(abs, mtime, mtime);
        return;
      }
      default:
        throw refuse(`archive entry ${q(h.name)} has unsupported type ${String(h.type)}`);
    }
  }

  /** Sets directory times, deepest first. */
  finish(): void {
    const depth = (rel: string) => rel.split('/').length;
    for (const rel of [...this.dirTimes.keys()].sort((a, b) => depth(b) - depth(a))) {
      const t = this.dirTimes.get(rel) as number;
      lutimesSync(this.abs(rel), t, t);
    }
  }
}


/**
 * Unpacks the uncompressed tar `source` into `dir`, an empty directory private to the caller,
 * streaming (one entry's data at a time, never the archive). Rejects with INVALID_ARGUMENT
 * naming the entry when one would land outside `dir` (absolute, `..`, through a symlink, a hard
 * link to outside), and "invalid context archive" when the stream is not a valid tar. On
 * failure `dir` is left half-populated: the caller removes it.
 */
export async function extractContextTar(source: Readable, dir: string, options: ExtractOptions = {}): Promise<void> {
  if (options.signal?.aborted) throw errors.canceled();
  const unpacker = new ContextUnpacker(await realpath(dir));
  await forEachTarEntry(source, (h, data) => unpacker.apply(h as TarHeader, data), {
    signal: options.signal,
    failure: ({ err, sourceError, entry }) => {
      if (isGantryError(sourceError)) return sourceError;
      if (isGantryError(err)) return err;
      const reason = err instanceof Error ? err.message : String(err);
      if (entry) return errors.internal(`unable to prepare context: failed to extract ${q(entry.name)}: ${reason}`, { cause: err });
      return errors.invalid(`unable to prepare context: invalid context archive: ${reason}`, { cause: err });
    },
  });
  unpacker.finish();
}
