/**
 * Typed access to the gantry_native addon (src/native/gantry-native.c, built by
 * `npm run build:native` into build/Release/gantry_native.node): the Linux syscalls that
 * Node's fs module lacks, and a posix_spawn-based process spawner (see runtime/spawn.ts).
 * All calls are synchronous (but watchExit, which reports a child's exit later from the event
 * loop) and throw Node-style errors (`code` = errno name such as 'EPERM', plus `errno`,
 * `syscall` and `path`), so callers can match them with isErrno() from core/errors like fs
 * errors.
 *
 * The addon is loaded on first use, so importing this module never fails on a machine where
 * it was not built; the first call then throws FAILED_PRECONDITION with a hint.
 */
import { constants } from 'node:os';
import path from 'node:path';
import { errors } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';

// Mount flags and umount2 flags, as in <sys/mount.h> (Linux UAPI values; they never change).
// The addon exports the same names and load() checks that they agree.
/** Mount read-only. */
export const MS_RDONLY = 0x1;
/** Ignore setuid/setgid bits. */
export const MS_NOSUID = 0x2;
/** Disallow access to device nodes. */
export const MS_NODEV = 0x4;
/** Disallow program execution. */
export const MS_NOEXEC = 0x8;
/** Change the flags of an existing mount (with MS_BIND: of a bind mount). */
export const MS_REMOUNT = 0x20;
/** Bind mount. */
export const MS_BIND = 0x1000;
/** With MS_BIND or a propagation flag: apply to the whole subtree. */
export const MS_REC = 0x4000;
/** Make the mount private (no propagation in either direction). */
export const MS_PRIVATE = 0x40000;
/** umount2: lazy unmount, detach now and clean up when no longer busy. */
export const MNT_DETACH = 0x2;
/** flock: shared lock. */
export const LOCK_SH = 1;
/** flock: exclusive lock. */
export const LOCK_EX = 2;
/** flock: do not block (ORed with LOCK_SH or LOCK_EX). */
export const LOCK_NB = 4;
/** flock: unlock. */
export const LOCK_UN = 8;

const CONSTANTS = {
  MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH, LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN,
};

interface Addon extends Record<keyof typeof CONSTANTS, number> {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | undefined;
  llistxattr(path: string): string[];
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount2(target: string, flags: number): void;
  seqpacketConnect(dir: string, name: string): number;
  shutdown(fd: number, how: number): void;
  flock(fd: number, operation: number): boolean;
  createNetns(path: string): void;
  markTopdir(path: string): boolean;
  sendfileSome(outFd: number, inFd: number, offset: number, count: number): number;
  mallocTrim(): boolean;
  pipe(): [number, number];
  spawn(file: string, argv: string[], env: string[] | null, cwd: string | null, fds: number[], setsid: boolean): number;
  watchExit(pid: number, callback: (code: number | null, signal: number | null) => void, ref: boolean): void;
}

let addon: Addon | undefined;

function load(): Addon {
  if (addon) return addon;
  const file = path.join(packageRoot(), 'build', 'Release', 'gantry_native.node');
  let loaded: Addon;
  try {
    // dlopen directly: what require() of a .node file ends in, without the module loader's
    // work (resolving, package scopes), which every container start would pay.
    const module = { exports: {} };
    process.dlopen(module, file);
    loaded = module.exports as Addon;
  } catch (err) {
    throw errors.precondition(`cannot load the native addon ${file}`, {
      cause: err,
      hint: 'build it with "npm run build:native" (needs make, a C compiler and python3)',
    });
  }
  for (const [name, value] of Object.entries(CONSTANTS)) {
    if (loaded[name as keyof typeof CONSTANTS] !== value) {
      throw errors.internal(`native addon constant ${name} is ${loaded[name as keyof typeof CONSTANTS]}, expected ${value}`);
    }
  }
  addon = loaded;
  return loaded;
}

/**
 * mknod(2). `mode` holds the file type (fs.constants.S_IFCHR, S_IFBLK or S_IFIFO) ORed with
 * the permission bits (subject to the process umask, like every create call).
 */
export function mknod(path: string, mode: number, major: number, minor: number): void {
  load().mknod(path, mode, major, minor);
}

/** lsetxattr(2): sets extended attribute `name` (e.g. 'security.capability') without following a final symlink. */
export function lsetxattr(path: string, name: string, value: Buffer): void {
  load().lsetxattr(path, name, value);
}

/** lgetxattr(2): the attribute's value, or undefined when it is not set (ENODATA). */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  return load().lgetxattr(path, name);
}

/** llistxattr(2): the names of all extended attributes visible to this process. */
export function llistxattr(path: string): string[] {
  return load().llistxattr(path);
}

/**
 * mount(2). Empty `source`, `fstype` or `data` are passed as NULL (as bind mounts and
 * propagation changes want). Example: `mount('overlay', target, 'overlay', 0, 'lowerdir=...')`.
 */
export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  load().mount(source, target, fstype, flags, data);
}

/**
 * Sets FS_TOPDIR_FL (`chattr +T`) on directory `path`: ext2/3/4 then start each new
 * subdirectory in a block group of its own. False when the file system has no inode flags.
 */
export function markTopdir(path: string): boolean {
  return load().markTopdir(path);
}

/** umount2(2); `flags` is 0 or MNT_DETACH. */
export function umount2(target: string, flags = 0): void {
  load().umount2(target, flags);
}

/**
 * A blocking SOCK_SEQPACKET connection to the Unix socket `name` in directory `dir` (of any
 * length: the path goes through /proc/self/fd). Returns the file descriptor; close it with
 * fs.closeSync.
 */
export function seqpacketConnect(dir: string, name: string): number {
  return load().seqpacketConnect(dir, name);
}

/** shutdown(2): `how` 0 stops reading, 1 writing (the peer reads end-of-file), 2 both. */
export function shutdown(fd: number, how: 0 | 1 | 2): void {
  load().shutdown(fd, how);
}

/**
 * flock(2) with LOCK_SH/LOCK_EX/LOCK_UN, optionally ORed with LOCK_NB. Returns false only
 * when LOCK_NB was given and another holder has the lock. A blocking call blocks the event
 * loop: keep locked sections short.
 */
export function flock(fd: number, operation: number): boolean {
  return load().flock(fd, operation);
}

/**
 * Creates a network namespace kept alive by a bind mount on `path` (an existing empty
 * file), with loopback up. Release it with umount2(path, MNT_DETACH) and unlink.
 */
export function createNetns(path: string): void {
  load().createNetns(path);
}

/**
 * One sendfile(2) of up to `count` bytes of file `inFd` from `offset` to the non-blocking
 * socket `outFd`: returns the bytes the socket buffer took, -1 when it is full (try later), 0
 * at the end of the file.
 * Throws on other errors (EPIPE when the client went away).
 */
export function sendfileSome(outFd: number, inFd: number, offset: number, count: number): number {
  return load().sendfileSome(outFd, inFd, offset, count);
}

/**
 * malloc_trim(0): returns the C heap's free memory to the kernel (Node's buffers live there);
 * true when some was released. A few milliseconds for a large heap: call it when idle.
 */
export function mallocTrim(): boolean {
  return load().mallocTrim();
}

/** pipe2(2) with O_CLOEXEC: `[readFd, writeFd]`, blocking; close them with fs.closeSync. */
export function pipe(): [number, number] {
  return load().pipe();
}

/** What spawn() needs besides the program. */
export interface SpawnOptions {
  /** argv[0] first (conventionally the program's path or name). */
  argv: string[];
  /** The child's environment as "NAME=value" strings; null inherits this process's. */
  env: string[] | null;
  /** The child's working directory; null inherits this process's. */
  cwd: string | null;
  /** `fds[i]` is the descriptor of this process that becomes the child's fd i; -1 is /dev/null. All other descriptors are closed in the child. */
  fds: number[];
  /** Start a new session (setsid), as child_process's `detached`. */
  setsid: boolean;
}

/**
 * Starts program `file` (an absolute path, no PATH search) with posix_spawn(3), which unlike
 * fork() copies no page tables, and returns its pid. The child starts with an empty signal mask
 * and every signal at its default action (SIGPIPE too, which Node ignores). Throws a Node-style
 * error with syscall 'posix_spawn' and path `file` when it cannot start, e.g. ENOENT for a
 * missing program. Reap the child with watchExit().
 */
export function spawn(file: string, o: SpawnOptions): number {
  return load().spawn(file, o.argv, o.env, o.cwd, o.fds, o.setsid);
}

/** How a child ended: its exit code, or the signal that killed it (both null if unknown). */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/**
 * Reaps child `pid` (started with spawn()) once it exits, without blocking: a pidfd watched on
 * the event loop. Then calls `onExit` from the loop. Call it once per child, right after
 * spawn(). While the child runs the watch keeps the process alive, unless `ref` is false (for
 * a detached child that is reaped only so it leaves no zombie).
 */
export function watchExit(pid: number, onExit: (status: ExitStatus) => void, ref = true): void {
  load().watchExit(
    pid,
    (code, signal) => onExit({ code, signal: signal === null ? null : (SIGNAL_NAMES.get(signal) ?? (`SIG${signal}` as NodeJS.Signals)) }),
    ref,
  );
}
