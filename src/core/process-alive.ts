/** Liveness of processes that own on-disk work (ingest files, leases, temporary snapshots). */

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
