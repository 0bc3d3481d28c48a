/**
 * Per-container locks across processes: flock(2) on a file in the run directory. The kernel
 * drops a lock when its holder dies, so a killed gantry never leaves a container locked.
 * Locked sections are short (a start, a cleanup, a removal); waiting for a container to stop
 * happens outside them.
 *
 * Within one process the lock is reentrant: flock on a second descriptor of the same file
 * would wait for ourselves.
 */
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { flock, LOCK_EX } from '../native/native.js';

const held = new Map<string, number>();

/**
 * Runs `fn` holding the lock file `path`. When `stale()` is true afterwards (what the lock
 * guarded is gone), the lock file is deleted before it is released.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, stale?: () => boolean): Promise<T> {
  const depth = held.get(path) ?? 0;
  if (depth > 0) {
    held.set(path, depth + 1);
    try {
      return await fn();
    } finally {
      held.set(path, (held.get(path) ?? 1) - 1);
    }
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  try {
    flock(fd, LOCK_EX);
    held.set(path, 1);
    return await fn();
  } finally {
    held.delete(path);
    if (stale?.()) rmSync(path, { force: true });
    closeSync(fd); // closing the only descriptor releases the lock
  }
}
