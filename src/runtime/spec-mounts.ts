/**
 * The mounts of a container's OCI spec: Docker's defaults (/proc, /dev, /sys, cgroups, mqueue,
 * shm) and the user's binds, volumes and tmpfs, combined the way moby's withMounts
 * (daemon/oci_linux.go) combines them.
 */
import path from 'node:path';
import { errors } from '../core/errors.js';
import type { Mount } from './oci-runtime-types.js';
import type { ResolvedMount } from './spec-input.js';

/** What the default mounts depend on. */
export interface DefaultMountOptions {
  /** Bytes of /dev/shm; 0 leaves the kernel's default (half of RAM). */
  shmSize: number;
  privileged: boolean;
}

/**
 * Docker's default mounts, in mount order. /sys and /sys/fs/cgroup are read-only unless
 * privileged. (Docker also makes the defaults other than /proc and /dev* read-only on a
 * read-only root filesystem: that is only /sys and the cgroups, which already are, and which
 * privileged containers get writable either way.)
 */
export function defaultMounts(options: DefaultMountOptions): Mount[] {
  const rw = options.privileged;
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...(rw ? [] : ['ro'])] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', ...(rw ? [] : ['ro'])],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', ...(options.shmSize > 0 ? [`size=${options.shmSize}`] : [])],
    },
  ];
}

/** Mount flags and their opposites, grouped by the flag they set or clear (moby/sys/mount's table). */
const FLAG_GROUPS: readonly (readonly string[])[] = [
  ['ro', 'rw'], ['nosuid', 'suid'], ['nodev', 'dev'], ['noexec', 'exec'], ['sync', 'async'], ['dirsync'],
  ['remount'], ['mand', 'nomand'], ['atime', 'noatime'], ['diratime', 'nodiratime'], ['relatime', 'norelatime'],
  ['strictatime', 'nostrictatime'],
  ['bind', 'rbind', 'unbindable', 'runbindable', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'],
];
const FLAG_KEY = new Map(FLAG_GROUPS.flatMap((group, i) => group.map((flag) => [flag, `flag:${i}`] as const)));
/** The `key=value` options tmpfs accepts. */
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/**
 * tmpfs options without contradictions: of two options setting the same thing (noexec, exec;
 * size=1m, size=2m) the later wins, in its place. "defaults" is dropped. Throws INVALID_ARGUMENT
 * for options tmpfs does not take (moby/sys/mount MergeTmpfsOptions).
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const option of [...options].reverse()) {
    if (option === 'defaults') continue;
    const flagKey = FLAG_KEY.get(option);
    const dataKey = option.includes('=') ? option.slice(0, option.indexOf('=')) : undefined;
    if (flagKey === undefined && (dataKey === undefined || !TMPFS_DATA.has(dataKey))) {
      throw errors.invalid(`invalid tmpfs option ${JSON.stringify(dataKey ?? option)}`);
    }
    const key = flagKey ?? `data:${dataKey}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.unshift(option);
  }
  return out;
}

/** Propagation modes a bind mount may name. */
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);

/**
 * A bind mount as Docker writes it: "rbind" (or "bind" when the options ask for a
 * non-recursive bind), "ro" or "rw", the given options, and "rprivate" unless they name a
 * propagation.
 */
function bindMount(m: ResolvedMount): Mount {
  const given = m.options ?? [];
  const mode = given.includes('bind') ? 'bind' : 'rbind';
  const rest = given.filter((o) => o !== 'bind' && o !== 'rbind' && o !== 'ro' && o !== 'rw');
  const propagation = rest.some((o) => PROPAGATIONS.has(o)) ? [] : ['rprivate'];
  return {
    destination: m.destination,
    type: 'bind',
    source: m.source,
    options: [mode, m.readOnly ? 'ro' : 'rw', ...rest, ...propagation],
  };
}

/** A tmpfs as Docker's --tmpfs/--mount type=tmpfs writes it: noexec,nosuid,nodev,rprivate, then the user's options. */
function tmpfsMount(m: ResolvedMount): Mount {
  const options = ['noexec', 'nosuid', 'nodev', 'rprivate', ...(m.readOnly ? ['ro'] : []), ...(m.options ?? [])];
  return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(options) };
}

/** A destination in the one spelling comparisons use: absolute, normalized, no trailing slash. */
const normalizeDestination = (p: string): string => path.posix.resolve('/', p);

/** Number of components of a destination: parents sort before what is mounted inside them. */
const depth = (p: string): number => (p === '/' ? 0 : p.split('/').length - 1);

/**
 * The user's mounts, parents first (a stable sort by depth, as Docker's sortMounts), after the
 * defaults they do not replace. A user mount replaces the default on the same destination, and
 * a user mount on /dev replaces every default under /dev.
 */
export function combineMounts(defaults: readonly Mount[], user: readonly ResolvedMount[]): Mount[] {
  const mounts = user
    .map((m) => ({ ...m, destination: normalizeDestination(m.destination) }))
    .sort((a, b) => depth(a.destination) - depth(b.destination));
  const taken = new Set(mounts.map((m) => m.destination));
  const kept = defaults.filter(
    (d) => !taken.has(d.destination) && !(taken.has('/dev') && d.destination.startsWith('/dev/')),
  );
  return [...kept, ...mounts.map((m) => (m.type === 'tmpfs' ? tmpfsMount(m) : bindMount(m)))];
}
