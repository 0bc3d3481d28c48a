/**
 * Reading a tar stream entry by entry with tar-stream's extractor, for the two unpackers: layers
 * (tar-apply.ts) and build context archives (build/context/tar-source.ts). What they share is
 * the delicate part — feeding the extractor with back-pressure, stopping on abort, and shutting
 * extractor and source down on any failure before reporting it — so that no stream is left
 * waiting and no error goes unheard. How a failure is worded stays with each caller.
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';
import { errors, isErrno } from '../core/errors.js';

/** One entry's data: read it to the end, or `resume()` to skip it. */
export type TarEntryData = AsyncIterable<Buffer> & { resume(): unknown };

/** What stopped a read, for the caller to turn into its error. */
export interface TarReadFailure {
  /** What was thrown: by the handler, by the extractor, or the source's own error. */
  err: unknown;
  /** The source stream's own error, when it failed. */
  sourceError?: unknown;
  /** The extractor's error, when the bytes are not a valid tar. */
  archiveError?: unknown;
  /** The header of the entry being handled, when the failure came during one. */
  entry?: Header;
}

/** Options of {@link forEachTarEntry}. */
export interface TarEntriesOptions {
  signal?: AbortSignal;
  /** Adjusts the extractor before any input (e.g. to keep raw PAX records). */
  configure?: (ex: Extract) => void;
  /** The error to reject with; called once extractor and source have stopped. Not for aborts: those reject with CANCELED. */
  failure: (f: TarReadFailure) => unknown;
}

/**
 * Calls `onEntry` for each entry of the tar `source`, one at a time (the next header is read
 * once the promise settles and the data is consumed). Rejects with CANCELED when `signal`
 * aborts, else with what `options.failure` makes of the failure.
 */
export async function forEachTarEntry(
  source: Readable | AsyncIterable<Uint8Array>,
  onEntry: (header: Header, data: TarEntryData) => Promise<void>,
  options: TarEntriesOptions,
): Promise<void> {
  const { signal } = options;
  // Destroyed without an error argument: an 'error' event nobody listens to would crash the process.
  const destroySource = () => (source as Partial<Readable>).destroy?.();
  if (signal?.aborted) {
    destroySource();
    throw errors.canceled();
  }
  const ex = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);
  options.configure?.(ex);
  let archiveError: unknown;
  let sourceError: unknown;
  let closed = false;
  let stopping = false; // from here on, a source error is the one this function caused
  ex.on('error', (err: unknown) => (archiveError ??= err)).once('close', () => (closed = true));
  const feeding = feed(source as AsyncIterable<Uint8Array>, ex).catch((err: unknown) => {
    if (stopping) return;
    sourceError = err;
    ex.destroy(err as Error);
  });
  const onAbort = () => {
    stopping = true;
    destroySource();
    ex.destroy(errors.canceled());
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let entry: Header | undefined;
  try {
    for await (const e of ex) {
      entry = e.header;
      await onEntry(entry, e as unknown as TarEntryData);
      entry = undefined;
    }
    await feeding;
    if (sourceError !== undefined) throw sourceError;
  } catch (err) {
    stopping = true;
    ex.destroy();
    destroySource(); // ends the feeder if it waits for more input
    if (!closed) await new Promise<void>((resolve) => ex.once('close', () => resolve()));
    await feeding;
    if (signal?.aborted) throw errors.canceled();
    // The source's own error is what the extractor saw too: it is not the archive's fault.
    if (archiveError === sourceError) archiveError = undefined;
    throw options.failure({ err, sourceError, archiveError, entry });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Writes `source` into `ex` with back-pressure; stops early once `ex` is destroyed. */
async function feed(source: AsyncIterable<Uint8Array>, ex: Extract): Promise<void> {
  for await (const chunk of source) {
    if (ex.destroying) return;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!ex.write(buf)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          ex.off('drain', done).off('close', done);
          resolve();
        };
        ex.on('drain', done).on('close', done);
      });
    }
  }
  if (!ex.destroying) ex.end(undefined);
}

/** Components of a tar entry's path without `.` and empty ones; undefined when it is absolute or has `..` or a NUL. */
export function tarPathComponents(name: string): string[] | undefined {
  if (name.includes('\0') || name.startsWith('/')) return undefined;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return parts.includes('..') ? undefined : parts;
}

/** How {@link ensureParents} words and handles what it finds. */
export interface ParentCheck {
  /** The entry, for messages ("entry \"a/b\""). */
  what: string;
  /** Make missing parents (mode 0755 exactly); else a missing one is refused. */
  create: boolean;
  /** Why a missing parent is refused when not creating ("which does not exist in the layer"). */
  absent: string;
  /** The caller's error for a refused entry. */
  refuse: (reason: string) => Error;
}

/**
 * Checks every parent directory of `parts` under `root` — and makes the missing ones when
 * asked — refusing a parent that is a symlink or not a directory, so that no entry is ever
 * written through a symlink. `known` holds the directories checked already (relative paths).
 */
export function ensureParents(root: string, parts: readonly string[], known: Set<string>, check: ParentCheck): void {
  let rel = '';
  for (const part of parts.slice(0, -1)) {
    rel = rel === '' ? part : `${rel}/${part}`;
    if (known.has(rel)) continue;
    const abs = `${root}/${rel}`;
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st) {
      if (!check.create) throw check.refuse(`${check.what}, ${check.absent}`);
      mkdirSync(abs, 0o755);
      chmodSync(abs, 0o755); // exact, whatever the umask
    } else if (st.isSymbolicLink()) {
      throw check.refuse(`${check.what} goes through symlink ${JSON.stringify(rel)}`);
    } else if (!st.isDirectory()) {
      throw check.refuse(`${check.what} goes through ${JSON.stringify(rel)}, which is not a directory`);
    }
    known.add(rel);
  }
}

/**
 * Runs `create` (a file, directory, link or node at `abs`); when something is there already
 * (EEXIST) it is removed with `remove` and `create` runs again — tar's rule that a later entry
 * wins — except that a directory entry keeps an existing directory (undefined then).
 */
export function createReplacing<T>(abs: string, isDir: boolean, create: () => T, remove: (st: Stats) => void): T | undefined {
  try {
    return create();
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  const st = lstatSync(abs);
  if (isDir && st.isDirectory()) return undefined;
  remove(st);
  return create();
}
