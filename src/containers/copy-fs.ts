/**
 * The host-side primitives `cp`'s two halves share (copy.ts, which stats and archives, and
 * copy-extract.ts, which extracts): lstat inside a container root, mapping host paths back to
 * container paths, and waiting for a stream to drain. See copy.ts for how container paths are
 * resolved and why final components are never followed.
 */
import { constants as fsConstants, lstatSync, statSync, type Stats } from 'node:fs';
import { isErrno } from '../core/errors.js';

/** Opens never follow a final symlink: the component is the container's, not the host's. */
export const O_NOFOLLOW = fsConstants.O_NOFOLLOW;

/** A name quoted for a message (JSON's string syntax, which is Go's %q for these names). */
export const q = (s: string) => JSON.stringify(s);

/** lstat, or undefined when nothing is there (ENOENT, or ENOTDIR for a file used as a directory). */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

/**
 * lstat of `host` inside `root`, or undefined when nothing is there. The root itself is
 * stat-ed: it is ours, and a running container's `/proc/<pid>/root` is a (magic) symlink.
 */
export function lstatIn(root: string, host: string): Stats | undefined {
  if (host !== root) return lstatOrUndefined(host);
  try {
    return statSync(host);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** The container path of host path `host` under `root` (both clean). */
export function containerPath(root: string, host: string): string {
  if (host === root) return '/';
  return root === '/' ? host : host.slice(root.length);
}

/** True when container path `p` is `dir` or below it. */
export function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** Resolves once `w` drains or closes. */
export function drained(w: NodeJS.EventEmitter): Promise<void> {
  return new Promise((res) => {
    const done = () => {
      w.off('drain', done).off('close', done);
      res();
    };
    w.on('drain', done).on('close', done);
  });
}
