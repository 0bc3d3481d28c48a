/** File-system chores of the container service. */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
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
