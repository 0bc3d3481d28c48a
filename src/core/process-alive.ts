/** Liveness of processes that own on-disk work (ingest files, leases, temporary snapshots). */
import { readFileSync } from 'node:fs';

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid that prefixes a work-file name `<pid>-<random>`, or undefined. */
export function ownerPid(name: string): number | undefined {
  const pid = Number(name.split('-')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when a `<pid>-<random>` work file belongs to a process that is gone. */
export function abandoned(name: string): boolean {
  const pid = ownerPid(name);
  return pid !== undefined && pid !== process.pid && !processAlive(pid);
}

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined when it does not exist. A pid together with its start time names one process
 * for good: pids are reused, start times of reused pids differ.
 */
export function processStartTime(pid: number): number | undefined {
  if (!(pid > 0)) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields follow the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined;
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

let bootIdCache: string | undefined;

/** This boot of the host (/proc/sys/kernel/random/boot_id). */
export function bootId(): string {
  bootIdCache ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return bootIdCache;
}
