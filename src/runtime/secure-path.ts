/**
 * Path resolution inside a container's root filesystem from the host, as Go's
 * github.com/cyphar/filepath-securejoin does it for Docker and runc: symlinks are followed as
 * if the root were `/`, so nothing in an image (absolute links, `..`, link chains) can point a
 * host-side operation outside the root.
 *
 * NOTE: these functions check and then act, so they are safe against hostile image content but
 * not against a process that swaps directories for symlinks concurrently. They are meant for
 * root filesystems that no container is running in yet (WORKDIR, mount points, /etc/passwd).
 */
import { chmodSync, lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { errors, isErrno } from '../core/errors.js';

/** How many symlinks one resolution may follow (Linux's MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/** lstat, or undefined when the path does not exist (ENOENT, or ENOTDIR for a file used as a directory). */
function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

/**
 * The host path of container path `unsafePath` in the root filesystem at host directory `root`,
 * with every symlink along the way resolved inside `root`: an absolute link target is taken
 * relative to `root` and `..` stops at `root`. Components that do not exist are kept as given,
 * so the result is where they would be created. The final component is resolved too: for a
 * symlink the result is its target. Throws INVALID_ARGUMENT after 40 symlinks (a loop).
 */
export function resolveInRoot(root: string, unsafePath: string): string {
  const cleanRoot = path.resolve(root);
  // `resolved` is a clean absolute container path none of whose components is a symlink.
  let resolved = '/';
  let pending = unsafePath.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    const next = path.posix.join(resolved, part); // lexical: `..` of '/' is '/'
    const host = path.join(cleanRoot, next);
    const st = part === '..' ? undefined : lstatOrUndefined(host);
    if (!st?.isSymbolicLink()) {
      resolved = next;
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw errors.invalid(`too many levels of symbolic links resolving ${JSON.stringify(unsafePath)} in ${cleanRoot}`);
    }
    const target = readlinkSync(host);
    if (target.startsWith('/')) resolved = '/';
    pending = [...target.split('/'), ...pending];
  }
  return resolved === '/' ? cleanRoot : path.join(cleanRoot, resolved);
}

/**
 * Creates container directory `containerPath` and its missing parents inside `root`, one
 * component at a time, each resolved by {@link resolveInRoot} so that symlinks in the image lead
 * no further than the root. New directories get exactly `mode` (not masked by the umask);
 * existing ones are left alone. Returns the directory's host path. Throws INVALID_ARGUMENT when a
 * component exists and is not a directory.
 */
export function mkdirInRoot(root: string, containerPath: string, mode = 0o755): string {
  const cleanRoot = path.resolve(root);
  let current = cleanRoot;
  for (const part of containerPath.split('/')) {
    if (part === '' || part === '.') continue;
    const host = resolveInRoot(cleanRoot, path.posix.join(current.slice(cleanRoot.length) || '/', part));
    const st = lstatOrUndefined(host);
    if (st === undefined) {
      try {
        mkdirSync(host, mode);
        chmodSync(host, mode);
      } catch (err) {
        // NOTE: EEXIST means something appeared since the lstat; check what it is below.
        if (!isErrno(err, 'EEXIST')) throw err;
      }
    }
    // NOTE: lstat, not stat: a symlink appearing between resolution and here is refused.
    if (!lstatSync(host).isDirectory()) {
      const where = host.slice(cleanRoot.length);
      throw errors.invalid(`cannot create directory ${JSON.stringify(containerPath)}: ${where} is not a directory`);
    }
    current = host;
  }
  return current;
}
