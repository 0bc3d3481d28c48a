/** File-system chores of the container service. */
import { lstatSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../core/errors.js';
import { MNT_DETACH, umount2 } from '../native/native.js';

/** Deletes exit files older than a minute whose container is gone. */
export function sweepExitFiles(dir: string, exists: (id: string) => boolean): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const cutoff = Date.now() - 60_000;
  for (const n of names) {
    const f = join(dir, n);
    try {
      if (statSync(f).mtimeMs < cutoff && !exists(n)) unlinkSync(f);
    } catch {
      // raced with another sweep
    }
  }
}

/** Removes a network namespace file (unmount, then unlink); nothing when absent. */
export function removeNetns(path: string): void {
  try {
    umount2(path, MNT_DETACH);
  } catch (err) {
    if (!isErrno(err, 'EINVAL') && !isErrno(err, 'ENOENT')) throw err;
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}

/** Bytes in a directory tree (files counted once per inode). */
export function dirSize(dir: string): number {
  let total = 0;
  const seen = new Set<number>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      let st;
      try {
        st = lstatSync(p, { throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (!seen.has(st.ino)) {
        seen.add(st.ino);
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
}

