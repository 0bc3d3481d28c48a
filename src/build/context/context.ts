/**
 * A build context on disk: the directory tree `gantry build` reads, minus what `.dockerignore`
 * excludes.
 *
 * Vocabulary: an *entry* is one path below the context root, with the metadata a COPY needs
 * (and none of its bytes: contents are streamed from disk when a COPY or a checksum reads
 * them). Paths are context-relative, `/`-separated, without a leading `./`.
 *
 * Rules, as Docker's (fsutil's walker) has them:
 * - the walk is deterministic: depth first, a directory before its children, siblings in
 *   byte order of their names;
 * - symbolic links are never followed; a link pointing outside the context is an entry like
 *   any other (following it is COPY's business, and an error there);
 * - an excluded directory is not read at all unless an exception could re-include something
 *   below it ({@link IgnoreMatcher.mayContainIncluded}); when something below it is included,
 *   the directory itself is yielded just before it, so every entry's parent is present;
 * - sockets are left out (a tar stream cannot carry them).
 */
import { lstat, open, readdir, readlink, stat } from 'node:fs/promises';
import { constants, lstatSync, readdirSync, readlinkSync, type ReadStream, type Stats } from 'node:fs';
import { join } from 'node:path';
import { errors, isErrno } from '../../core/errors.js';
import type { IgnoreMatcher } from './dockerignore.js';

/** What an entry is. */
export type ContextEntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block';

/** One path of a context with its metadata. */
export interface ContextEntry {
  /** Context-relative, `/`-separated: `src/main.ts`. */
  path: string;
  type: ContextEntryType;
  /** Permission bits with setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes for a file, the target's length for a symlink, as lstat reports otherwise. */
  size: number;
  mtime: Date;
  /** The link's target exactly as stored, for a symlink. */
  linkTarget?: string;
  /** Device numbers for char and block devices. */
  rdev?: number;
}

/** Options of {@link walkContext}. */
export interface WalkOptions {
  /** The ignore rules; nothing is excluded without them. */
  ignore?: IgnoreMatcher;
  /** Cancels the walk (Ctrl-C). */
  signal?: AbortSignal;
}

/** The entry type of `st`, or undefined for a socket. */
function typeOf(st: Stats): ContextEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return undefined;
}

/** The entry for `path` (context-relative) from its lstat; reads the link target of a symlink. */
export async function statEntry(contextDir: string, path: string): Promise<ContextEntry | undefined> {
  const abs = join(contextDir, path);
  const entry = entryOf(path, await lstat(abs));
  if (entry?.type === 'symlink') entry.linkTarget = await readlink(abs);
  return entry;
}

/** {@link statEntry}, synchronously (for walks of many small files, see checksum.ts). */
export function statEntrySync(contextDir: string, path: string): ContextEntry | undefined {
  const abs = join(contextDir, path);
  const entry = entryOf(path, lstatSync(abs));
  if (entry?.type === 'symlink') entry.linkTarget = readlinkSync(abs);
  return entry;
}

function entryOf(path: string, st: Stats): ContextEntry | undefined {
  const type = typeOf(st);
  if (type === undefined) return undefined;
  const entry: ContextEntry = { path, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size, mtime: st.mtime };
  if (type === 'char' || type === 'block') entry.rdev = st.rdev;
  return entry;
}

/**
 * Streams the contents of the regular file at context-relative `path`. Opened with
 * O_NOFOLLOW, so a file swapped for a symlink since the walk is refused (ELOOP) instead of
 * read through.
 */
export async function openContextFile(contextDir: string, path: string): Promise<ReadStream> {
  const handle = await open(join(contextDir, path), constants.O_RDONLY | constants.O_NOFOLLOW);
  return handle.createReadStream(); // closes the handle at the end or on error
}

/** Names in a directory, in byte order of their UTF-8 encoding (Go's string order). */
export async function sortedNames(absDir: string): Promise<string[]> {
  return byteOrder(await readdir(absDir));
}

/** {@link sortedNames}, synchronously. */
export function sortedNamesSync(absDir: string): string[] {
  return byteOrder(readdirSync(absDir));
}

function byteOrder(names: string[]): string[] {
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * Walks `contextDir`, yielding every entry that is not excluded. Throws NOT_FOUND when the
 * context is missing and INVALID_ARGUMENT when it is not a directory, in Docker's words.
 */
export async function* walkContext(contextDir: string, options: WalkOptions = {}): AsyncGenerator<ContextEntry> {
  await assertContextDir(contextDir);
  const { ignore, signal } = options;
  // Excluded directories being read because an exception may re-include something in them;
  // yielded (outermost first) only once something inside them is.
  const pending: { entry: ContextEntry; yielded: boolean }[] = [];

  async function* walkDir(dirPath: string): AsyncGenerator<ContextEntry> {
    const names = await sortedNames(dirPath === '' ? contextDir : join(contextDir, dirPath));
    for (const name of names) {
      signal?.throwIfAborted();
      const path = dirPath === '' ? name : `${dirPath}/${name}`;
      let entry: ContextEntry | undefined;
      try {
        entry = await statEntry(contextDir, path);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue; // removed while we walk: as if it never was
        throw err;
      }
      if (entry === undefined) continue;
      const isDir = entry.type === 'dir';
      if (!ignore?.matches(path, isDir)) {
        for (const p of pending) {
          if (!p.yielded) yield p.entry;
          p.yielded = true;
        }
        yield entry;
        if (isDir) yield* walkDir(path);
      } else if (isDir && ignore.mayContainIncluded(path)) {
        pending.push({ entry, yielded: false });
        try {
          yield* walkDir(path);
        } finally {
          pending.pop();
        }
      }
    }
  }

  yield* walkDir('');
}

/** Throws Docker's errors for a context path that is missing or not a directory. */
export async function assertContextDir(contextDir: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(contextDir); // NOTE: the root itself may be a symlink, as Docker allows
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw errors.notFound(`unable to prepare context: path ${JSON.stringify(contextDir)} not found`, { cause: err });
    }
    throw err;
  }
  if (!st.isDirectory()) {
    throw errors.invalid(`unable to prepare context: context must be a directory: ${contextDir}`, {
      hint: 'pass a directory, or send an archive on stdin with "-"',
    });
  }
}
