/**
 * Content checksums of context paths, the part of a COPY's cache key that says "the same
 * bytes, the same metadata" (BuildKit's contenthash, in our own canonical form).
 *
 * A node's digest is sha256 over a canonical header (format version, type, mode, uid, gid,
 * link target, device number), followed by the file's bytes for a file, or by one
 * `name NUL digest LF` line per child, in byte order, for a directory. So a path enters a
 * checksum as a child's name in its parent; a COPY's source path itself is part of the
 * instruction's key, not of this digest, and renaming the directory being copied changes
 * nothing inside it. mtime is left out (a fresh checkout must hit the cache); excluded paths
 * are left out as the walker leaves them out.
 *
 * Lazy: only the paths a COPY asks for, and what is below them, are read; results are
 * memoized for the life of the object (one build). Files are streamed through one buffer,
 * never held in memory.
 *
 * The walk uses synchronous calls: a context is mostly small files, and four thread-pool
 * round trips per file (lstat, open, read, close) took most of a fully cached rebuild of a
 * 2,000-file context. It yields to the event loop every few milliseconds so that progress
 * and signals are still served.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Digest } from '../../core/digest.js';
import { errors, isErrno } from '../../core/errors.js';
import { sortedNamesSync, statEntrySync, type ContextEntry } from './context.js';
import { cleanPath, type IgnoreMatcher } from './dockerignore.js';

const HEADER_VERSION = 'gantry.context.v1';
const YIELD_EVERY_MS = 10;
const YIELD_EVERY_BYTES = 16 << 20;

/** The canonical header of an entry (no name, no mtime). */
function header(e: ContextEntry): string {
  return [HEADER_VERSION, e.type, e.mode.toString(8), e.uid, e.gid, e.linkTarget ?? '', e.rdev ?? ''].join('\0') + '\0';
}

/** Checksums of the paths of one context, computed on demand and memoized. */
export class ContextChecksums {
  private readonly memo = new Map<string, Promise<Digest | undefined>>();
  private readonly buffer = Buffer.allocUnsafe(256 << 10);
  private lastYield = Date.now();
  private bytesSinceYield = 0;

  constructor(
    private readonly contextDir: string,
    private readonly ignore?: IgnoreMatcher,
  ) {}

  /**
   * The digest of the context-relative `path` (`.` for the whole context): a file, a symlink
   * (its target, not followed) or a directory tree. Throws NOT_FOUND when it is missing or
   * excluded, in BuildKit's words, and INVALID_ARGUMENT when it leaves the context or goes
   * through a symlink (resolving links inside the context is COPY's job).
   */
  async checksum(path: string): Promise<Digest> {
    const p = cleanPath(path.replace(/^\/+/, ''));
    if (p === '..' || p.startsWith('../')) {
      throw errors.invalid(`${JSON.stringify(path)} is outside the build context`, { hint: 'COPY and ADD sources are relative to the build context' });
    }
    await this.assertNoSymlinkParents(p);
    const digest = await this.digest(p);
    if (digest === undefined) {
      throw errors.notFound(`failed to compute cache key: "/${p === '.' ? '' : p}": not found`, {
        hint: 'check that the path exists in the build context and is not excluded by .dockerignore',
      });
    }
    return digest;
  }

  private async assertNoSymlinkParents(p: string): Promise<void> {
    const parts = p === '.' ? [] : p.split('/');
    for (let n = 1; n < parts.length; n++) {
      const parent = parts.slice(0, n).join('/');
      try {
        if ((await lstat(join(this.contextDir, parent))).isSymbolicLink()) {
          throw errors.invalid(`cannot checksum ${JSON.stringify(p)}: ${JSON.stringify(parent)} is a symbolic link`, {
            hint: 'resolve the link first',
          });
        }
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return; // the lookup of p reports it
        throw err;
      }
    }
  }

  private digest(p: string): Promise<Digest | undefined> {
    let d = this.memo.get(p);
    if (!d) {
      d = this.compute(p);
      this.memo.set(p, d);
    }
    return d;
  }

  private async compute(p: string): Promise<Digest | undefined> {
    await this.maybeYield();
    let entry: ContextEntry | undefined;
    try {
      entry = statEntrySync(this.contextDir, p === '.' ? '' : p);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
      throw err;
    }
    if (entry === undefined) return undefined;
    const excluded = p !== '.' && (this.ignore?.matches(p, entry.type === 'dir') ?? false);
    if (excluded && !(entry.type === 'dir' && this.ignore!.mayContainIncluded(p))) return undefined;

    const hash = createHash('sha256').update(header(entry));
    if (entry.type === 'file') {
      // NOTE: excluded can only be false here; a file is never "kept for its children".
      this.hashFile(join(this.contextDir, p), hash);
    } else if (entry.type === 'dir') {
      let children = 0;
      for (const name of sortedNamesSync(join(this.contextDir, p))) {
        const child = await this.digest(p === '.' ? name : `${p}/${name}`);
        if (child === undefined) continue;
        hash.update(`${name}\0${child}\n`);
        children++;
      }
      if (excluded && children === 0) return undefined;
    }
    return `sha256:${hash.digest('hex')}`;
  }

  /**
   * Feeds a regular file's bytes to `hash`. O_NOFOLLOW: a file swapped for a symlink since
   * its lstat is refused (ELOOP) instead of read through.
   */
  private hashFile(abs: string, hash: Hash): void {
    const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      for (;;) {
        const n = readSync(fd, this.buffer, 0, this.buffer.length, null);
        if (n === 0) break;
        hash.update(this.buffer.subarray(0, n));
        this.bytesSinceYield += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Lets the event loop run when the walk has held it for a while. */
  private async maybeYield(): Promise<void> {
    if (Date.now() - this.lastYield < YIELD_EVERY_MS && this.bytesSinceYield < YIELD_EVERY_BYTES) return;
    await yieldToLoop();
    this.lastYield = Date.now();
    this.bytesSinceYield = 0;
  }
}
