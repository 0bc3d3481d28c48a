/**
 * The host's device nodes, which a privileged container gets (containerd's oci.HostDevices, as
 * Docker uses it for `--privileged`). Kept apart from the spec builder, which does no I/O.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../core/errors.js';
import type { LinuxDevice } from './oci-runtime-types.js';

/** Directories under /dev that hold no devices of the host's own (or that runc mounts itself). */
const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Linux's dev_t split (glibc's gnu_dev_major/gnu_dev_minor). */
function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** The device at `file`, or undefined when it is not a character or block device (or vanished). */
async function deviceAt(file: string): Promise<LinuxDevice | undefined> {
  let st;
  try {
    st = await lstat(file, { bigint: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (type === undefined) return undefined;
  const { major, minor } = majorMinor(st.rdev);
  return { type, path: file, major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/**
 * Every character and block device under `dir` (default /dev), recursively, skipping
 * consoles, symlinks, fifos and the pts, shm, fd and mqueue directories, with the paths
 * they have on the host (which are also their paths in the container).
 */
export async function hostDevices(dir = '/dev'): Promise<LinuxDevice[]> {
  const out: LinuxDevice[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...(await hostDevices(file)));
    } else if (entry.name !== 'console') {
      const device = await deviceAt(file);
      if (device) out.push(device);
    }
  }
  return out;
}
