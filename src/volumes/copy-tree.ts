/**
 * File-tree helpers of the local volume driver: copying an image directory into a volume the
 * way Docker's copy-up does (daemon/volumes_unix.go copyExistingContents: a tar-like copy that
 * keeps modes, owners, times, symlinks, hard links, device nodes and xattrs, then the source
 * directory's owner and mode on the volume root), and measuring a volume as `system df` does.
 */
import {
  chmodSync,
  constants as fsConstants,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  type Stats,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { isErrno, isGantryError } from '../core/errors.js';
import { lgetxattr, llistxattr, lsetxattr, mknod } from '../native/native.js';

/** Linux `major()` / `minor()` of a device number (glibc's encoding, valid for 64-bit rdev). */
function deviceNumbers(rdev: number): [number, number] {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | (hi & ~0xfff);
  const minor = (lo & 0xff) | (((lo >>> 12) | (hi << 20)) & ~0xff);
  return [major >>> 0, minor >>> 0];
}

/** Copies extended attributes when the native addon is there; stops trying once it is not. */
class XattrCopier {
  private enabled = true;

  copy(from: string, to: string): void {
    if (!this.enabled) return;
    let names: string[];
    try {
      names = llistxattr(from);
    } catch (err) {
      // No addon, or a filesystem without xattrs: copy without them (Docker's tar does too
      // when the kernel refuses).
      if (isGantryError(err) || isErrno(err, 'ENOTSUP') || isErrno(err, 'EOPNOTSUPP')) this.enabled = false;
      return;
    }
    for (const name of names) {
      // NOTE: overlay's own bookkeeping (opaque dirs, redirects) must not leak into a volume.
      if (name.startsWith('trusted.overlay.')) continue;
      try {
        const value = lgetxattr(from, name);
        if (value !== undefined) lsetxattr(to, name, value);
      } catch (err) {
        if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP')) throw err;
      }
    }
  }
}

/** Whether we run as root (asked when needed: the CLI may be a startup snapshot built earlier). */
const asRoot = () => process.getuid?.() === 0;

/** Sets owner, mode and times of `to` from `st` (owner changes need root; without it they are skipped). */
function applyMetadata(to: string, st: Stats, times = true): void {
  try {
    lchownSync(to, st.uid, st.gid);
  } catch (err) {
    if (asRoot() || !isErrno(err, 'EPERM')) throw err;
  }
  const link = st.isSymbolicLink();
  // NOTE: chmod after chown: chown clears the setuid/setgid bits.
  if (!link) chmodSync(to, st.mode & 0o7777);
  if (!times) return;
  if (link) lutimesSync(to, st.atime, st.mtime);
  else utimesSync(to, st.atime, st.mtime);
}

/**
 * Copies the contents of directory `from` into the existing empty directory `to`, keeping
 * what a `tar | tar -p` would, then gives `to` the owner and mode of `from` (as Docker's
 * copyOwnership). Sockets and overlay whiteouts (0/0 character devices) are skipped.
 */
export function copyTree(from: string, to: string): void {
  const links = new Map<string, string>();
  const xattrs = new XattrCopier();
  const copyEntry = (src: string, dst: string, st: Stats): void => {
    if (st.isDirectory()) {
      mkdirSync(dst, 0o700);
      copyChildren(src, dst);
      xattrs.copy(src, dst);
      applyMetadata(dst, st);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      linkSync(first, dst);
      return;
    }
    if (st.isFile()) copyFileSync(src, dst, fsConstants.COPYFILE_FICLONE);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      if (st.isCharacterDevice() && st.rdev === 0) return;
      const [major, minor] = deviceNumbers(st.rdev);
      mknod(dst, (st.mode & fsConstants.S_IFMT) | 0o600, major, minor);
    } else return;
    xattrs.copy(src, dst);
    applyMetadata(dst, st);
    if (st.nlink > 1) links.set(key, dst);
  };
  const copyChildren = (src: string, dst: string): void => {
    for (const name of readdirSync(src).sort()) {
      const s = join(src, name);
      copyEntry(s, join(dst, name), lstatSync(s));
    }
  };
  const root = statSync(from);
  copyChildren(from, to);
  xattrs.copy(from, to);
  applyMetadata(to, root, false);
}

/**
 * Bytes used under `dir` as Docker's directory.Size counts them: the sizes of everything but
 * directories (symlinks by their own size), each hard-linked inode once. Entries vanishing
 * during the walk are skipped.
 */
export function treeSize(dir: string): number {
  const seen = new Set<string>();
  let size = 0;
  const walk = (path: string): void => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (err) {
      if (isErrno(err, 'ENOENT') && path !== dir) return;
      throw err;
    }
    for (const name of names) {
      const p = join(path, name);
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      if (st.isDirectory()) {
        walk(p);
        continue;
      }
      if (st.size === 0) continue;
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      size += st.size;
    }
  };
  walk(dir);
  return size;
}
