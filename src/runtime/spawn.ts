/**
 * Starting the runtime's helper programs (runc, conmon) without child_process.
 *
 * child_process.spawn goes through libuv, which fork()s: the kernel copies the page tables of
 * the whole Node process (tens of megabytes of heap and code) only for the child to throw them
 * away at exec, about 3 ms per child on the machines gantry runs on. `gantry run --rm` starts
 * three children on its critical path (conmon, `runc start`, `runc delete`). spawnChild()
 * starts them with posix_spawn instead (native.spawn: glibc clones with CLONE_VM |
 * CLONE_VFORK, so nothing is copied), reads their pipes with net.Socket like child_process
 * does, and reaps them through a pidfd watched on the event loop (native.watchExit).
 *
 * What it does not do: PATH search (callers pass absolute paths), terminals, IPC channels,
 * uid/gid changes, `kill()` helpers. `runc exec` with an inherited terminal stays on
 * child_process (OciRuntime.execSpawn).
 */
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import * as native from '../native/native.js';

/** How one of the child's descriptors is set up. */
export type ChildStdio =
  /** /dev/null. */
  | 'ignore'
  /** A pipe to this process: the child reads fd 0 and writes every other fd. */
  | 'pipe'
  /** This process's descriptor, shared with the child. */
  | number;

/** What spawnChild() needs besides the program and its arguments. */
export interface SpawnChildOptions {
  /** The child's environment; this process's (process.env) when not given. */
  env?: NodeJS.ProcessEnv;
  /** The child's working directory; this process's when not given. */
  cwd?: string;
  /** fd 0; 'ignore' when not given (so are stdout and stderr). */
  stdin?: ChildStdio;
  stdout?: ChildStdio;
  stderr?: ChildStdio;
  /** The child's fds 3, 4, ... in order (e.g. conmon's sync pipe, `_OCI_SYNCPIPE=3`). */
  extraFds?: ChildStdio[];
  /**
   * The child starts a session of its own (setsid), and its exit watch does not keep this
   * process alive: as child_process's `detached` followed by `child.unref()`. It is still
   * reaped if it exits while this process runs.
   */
  detached?: boolean;
}

/** A started child. */
export interface SpawnedChild {
  pid: number;
  /** This process's end of each 'pipe' by child fd (`stdio[3]` is the first extra fd); null for the others. */
  stdio: (Socket | null)[];
  /** Writable end of the child's stdin when it is 'pipe'. */
  stdin: Socket | null;
  /** Readable end of the child's stdout when it is 'pipe'. */
  stdout: Socket | null;
  /** Readable end of the child's stderr when it is 'pipe'. */
  stderr: Socket | null;
  /** Settles once the child has exited and was reaped (its pipes may still hold data). */
  exited: Promise<native.ExitStatus>;
}

/**
 * Starts program `file` (an absolute path) with arguments `args`. Throws synchronously when it
 * cannot start, with an error shaped like child_process's 'error' event: message
 * `spawn <file> <CODE>`, `code` (e.g. 'ENOENT' for a missing program or working directory),
 * `errno`, `syscall` ('spawn <file>'), `path` and `spawnargs`.
 */
export function spawnChild(file: string, args: string[], o: SpawnChildOptions = {}): SpawnedChild {
  const wanted: ChildStdio[] = [o.stdin ?? 'ignore', o.stdout ?? 'ignore', o.stderr ?? 'ignore', ...(o.extraFds ?? [])];
  const ours: (number | null)[] = []; // this process's end of each pipe
  const theirs: number[] = []; // what the child gets, by child fd
  const farEnds: number[] = []; // the child's ends of the pipes
  let pid: number;
  try {
    for (const [i, w] of wanted.entries()) {
      if (w === 'pipe') {
        const [r, wr] = native.pipe();
        ours.push(i === 0 ? wr : r);
        theirs.push(i === 0 ? r : wr);
        farEnds.push(i === 0 ? r : wr);
      } else {
        ours.push(null);
        theirs.push(w === 'ignore' ? -1 : w);
      }
    }
    pid = native.spawn(file, {
      argv: [file, ...args],
      env: o.env === undefined ? null : Object.entries(o.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
      cwd: o.cwd ?? null,
      fds: theirs,
      setsid: o.detached ?? false,
    });
  } catch (err) {
    for (const fd of ours) if (fd !== null) closeSync(fd);
    throw spawnError(err, file, args);
  } finally {
    // The child has its copies (or never will): the pipes' far ends must close here, or
    // reading would never see end-of-file.
    for (const fd of farEnds) closeSync(fd);
  }
  const exited = new Promise<native.ExitStatus>((resolve) => native.watchExit(pid, resolve, !o.detached));
  const stdio = ours.map((fd, i) => (fd === null ? null : new Socket({ fd, readable: i !== 0, writable: i === 0 })));
  return { pid, stdio, stdin: stdio[0] ?? null, stdout: stdio[1] ?? null, stderr: stdio[2] ?? null, exited };
}

/**
 * Everything `stream` yields until it closes. A read error ends it early with what arrived
 * (a child's pipe does not fail in practice, and its exit status tells what went wrong).
 */
export function readAll(stream: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('error', () => undefined); // 'close' follows
    stream.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** native.spawn's error (syscall 'posix_spawn') in the shape child_process gives its 'error' event. */
function spawnError(err: unknown, file: string, args: string[]): unknown {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || e.syscall !== 'posix_spawn') return err;
  return Object.assign(new Error(`spawn ${file} ${e.code}`, { cause: err }), {
    code: e.code,
    errno: e.errno,
    syscall: `spawn ${file}`,
    path: file,
    spawnargs: args,
  });
}
