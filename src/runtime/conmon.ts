/**
 * conmon, the per-container monitor: it runs `runc create`, becomes the parent of the
 * container's init process, holds its stdio (relaying it to a log file and to clients of the
 * attach socket), and when the container exits writes the exit code to a file and runs an
 * exit command. It double-forks, so it outlives the gantry process that launched it.
 *
 * Files conmon keeps in the bundle directory: `attach` (a SOCK_SEQPACKET socket: messages
 * from it are prefixed with one byte, 2 for stdout and 3 for stderr; what a client writes goes
 * to the container's stdin), `ctl` (a FIFO taking "1 <rows> <cols>\n" to resize the
 * terminal), `exit` and `oom` (in the persist directory).
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { errors } from '../core/errors.js';
import { type SpawnedChild, spawnChild } from './spawn.js';

/** Where conmon is installed (Debian's package). */
export const CONMON_BINARY = '/usr/bin/conmon';

/** What one conmon launch needs. */
export interface ConmonOptions {
  id: string;
  name: string;
  runtime: string;
  /** Global runtime arguments (e.g. --root). */
  runtimeArgs: string[];
  bundle: string;
  /** Where the container's init pid is written. */
  pidFile: string;
  /** Where conmon writes its own pid. */
  conmonPidFile: string;
  logPath: string;
  /** Where conmon writes `exit` and `oom`. */
  persistDir: string;
  /** Directory for `<id>` exit files (watched by waiters). */
  exitDir: string;
  /** Directory for the short symlinks conmon makes to reach the attach socket. */
  socketDir: string;
  terminal: boolean;
  stdin: boolean;
  /** argv run by conmon after the container exits. */
  exitCommand?: string[];
}

/** The pids a successful launch reports. */
export interface ConmonStarted {
  /** The container's init process (created, not yet started). */
  pid: number;
  /** conmon itself. */
  monitorPid: number;
}

/** Builds conmon's command line. */
export function conmonArgs(o: ConmonOptions): string[] {
  const args = [
    '--api-version', '1',
    '-c', o.id,
    '-u', o.id,
    '-n', o.name,
    '-r', o.runtime,
    '-b', o.bundle,
    '-p', o.pidFile,
    '-P', o.conmonPidFile,
    '-l', `k8s-file:${o.logPath}`,
    '--persist-dir', o.persistDir,
    '--exit-dir', o.exitDir,
    '--socket-dir-path', o.socketDir,
    '--log-level', 'error',
  ];
  for (const a of o.runtimeArgs) args.push('--runtime-arg', a);
  if (o.terminal) args.push('-t');
  if (o.stdin) args.push('-i');
  if (o.exitCommand && o.exitCommand.length > 0) {
    const [cmd, ...rest] = o.exitCommand;
    args.push('--exit-command', cmd as string);
    for (const a of rest) args.push('--exit-command-arg', a);
  }
  return args;
}

/**
 * Launches conmon, which runs `runtime create`, and resolves once the container is created
 * (its init process waits for `runtime start`). Rejects with the runtime's error message
 * when creation fails.
 */
export function launchConmon(o: ConmonOptions): Promise<ConmonStarted> {
  return new Promise((resolve, reject) => {
    let child: SpawnedChild;
    try {
      child = spawnChild(CONMON_BINARY, conmonArgs(o), {
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: 'pipe',
        extraFds: ['pipe'],
        env: { ...process.env, _OCI_SYNCPIPE: '3' },
        // conmon 2.1.6 also writes its `oom` marker relative to its working directory.
        cwd: o.bundle,
        // conmon double-forks and outlives us; its first process exits at once and is reaped
        // then, without keeping this process alive.
        detached: true,
      });
    } catch (e) {
      reject(errors.precondition(`cannot run ${CONMON_BINARY}: ${(e as Error).message}`, { cause: e, hint: 'install conmon (apt-get install conmon)' }));
      return;
    }
    const sync = child.stdio[3] as Socket;
    const stderr: Buffer[] = [];
    const chunks: Buffer[] = [];
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    let settled = false;
    const settle = (text: string | undefined) => {
      if (settled) return;
      settled = true;
      sync.removeAllListeners('data');
      sync.destroy();
      let msg: { data?: number; message?: string } = {};
      try {
        msg = JSON.parse(text ?? '') as typeof msg;
      } catch {
        // conmon died before reporting: its stderr says why
      }
      if (typeof msg.data === 'number' && msg.data > 0) {
        let monitorPid = 0;
        try {
          monitorPid = Number(readFileSync(o.conmonPidFile, 'utf8').trim());
        } catch {
          // reported below as a missing monitor
        }
        if (monitorPid > 0) {
          resolve({ pid: msg.data, monitorPid });
          return;
        }
      }
      const why = msg.message?.trim() || Buffer.concat(stderr).toString().trim() || 'the container monitor exited without a report';
      reject(new RuntimeCreateError(cleanRuntimeMessage(why)));
    };
    // conmon keeps the pipe open after its one-line report, so a line is the end of the answer.
    sync.on('data', (b: Buffer) => {
      chunks.push(b);
      const text = Buffer.concat(chunks).toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) settle(text.slice(0, nl));
    });
    sync.on('end', () => settle(Buffer.concat(chunks).toString().trim() || undefined));
    sync.on('error', () => settle(undefined));
  });
}

/** `runtime create` failed; `message` is the runtime's own words. */
export class RuntimeCreateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeCreateError';
  }
}

/** Strips runc's logrus framing from a message conmon relays. */
export function cleanRuntimeMessage(text: string): string {
  const lines = text.split('\n').map((l) => {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
    return m ? (JSON.parse(`"${m[1]}"`) as string) : l;
  });
  return lines.filter(Boolean).join('; ');
}
