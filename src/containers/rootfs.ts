/**
 * A container's root filesystem: an overlay mount of the image's layer snapshots (read-only
 * lowers, top first) under the container's own writable upper directory.
 */
import { mkdirSync } from 'node:fs';
import { relative } from 'node:path';
import { isErrno } from '../core/errors.js';
import { MNT_DETACH, mount, umount2 } from '../native/native.js';

/** What the kernel accepts as mount data (one page, minus a margin). */
const MAX_MOUNT_DATA = 4000;

/** Mounts the overlay at `target` (unmounting a stale mount there first). */
export function mountRootfs(lowers: readonly string[], upper: string, work: string, target: string, layersRoot: string): void {
  for (const d of [upper, work, target]) mkdirSync(d, { recursive: true, mode: 0o755 });
  unmountRootfs(target);
  const data = (l: readonly string[]) => `lowerdir=${l.join(':')},upperdir=${upper},workdir=${work}`;
  if (data(lowers).length <= MAX_MOUNT_DATA) {
    mount('overlay', target, 'overlay', 0, data(lowers));
    return;
  }
  // Many layers: name the lowers relative to the snapshot directory, which the mount call
  // resolves against the working directory (Docker's overlay2 does the same with short links).
  const cwd = process.cwd();
  process.chdir(layersRoot);
  try {
    mount('overlay', target, 'overlay', 0, data(lowers.map((l) => relative(layersRoot, l))));
  } finally {
    process.chdir(cwd);
  }
}

/** Unmounts the root filesystem; nothing to do when it is not mounted. */
export function unmountRootfs(target: string): void {
  for (;;) {
    try {
      umount2(target, MNT_DETACH);
    } catch (err) {
      if (isErrno(err, 'EINVAL') || isErrno(err, 'ENOENT')) return;
      throw err;
    }
  }
}
