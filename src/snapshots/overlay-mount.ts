/**
 * Overlay mounts of layer snapshots: a container's (or a build step's) root filesystem, the
 * read-only lowers top first under a writable upper directory; or a read-only view of a
 * layer stack (what a build's `COPY --from` reads).
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isErrno } from '../core/errors.js';
import { MNT_DETACH, mount, umount2 } from '../native/native.js';

/** What the kernel accepts as mount data (one page, minus a margin). */
const MAX_MOUNT_DATA = 4000;

/** Mounts the overlay at `target` (unmounting a stale mount there first). */
export function mountRootfs(lowers: readonly string[], upper: string, work: string, target: string, layersRoot: string): void {
  for (const d of [upper, work]) mkdirSync(d, { recursive: true, mode: 0o755 });
  mountOverlay(lowers, `,upperdir=${upper},workdir=${work}`, target, layersRoot);
}

/**
 * Mounts a read-only view of `lowers` (top first) at `target`. overlayfs wants two lowers
 * when there is no upper directory: missing ones are empty directories made under `empty`.
 */
export function mountReadOnly(lowers: readonly string[], target: string, layersRoot: string, empty: string): void {
  const pad = ['a', 'b'].slice(0, Math.max(0, 2 - lowers.length)).map((n) => join(empty, n));
  for (const d of pad) mkdirSync(d, { recursive: true, mode: 0o755 });
  mountOverlay([...lowers, ...pad], '', target, layersRoot);
}

function mountOverlay(lowers: readonly string[], extra: string, target: string, layersRoot: string): void {
  mkdirSync(target, { recursive: true, mode: 0o755 });
  unmountRootfs(target);
  const data = (l: readonly string[]) => `lowerdir=${l.join(':')}${extra}`;
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
