/**
 * Builds a container's OCI runtime spec (`config.json`) from what the container service
 * resolved, with Docker's defaults and security settings (moby daemon/pkg/oci/defaults.go and
 * daemon/oci_linux.go): namespaces, default mounts, masked and read-only /proc and /sys paths,
 * the devices cgroup, capabilities, seccomp, rlimits and resource limits.
 * https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config.md
 */
import { errors } from '../core/errors.js';
import { effectiveCapabilities } from './capabilities.js';
import type {
  LinuxDeviceCgroup, LinuxNamespace, LinuxResources, POSIXRlimit, Process, RuntimeSpec,
} from './oci-runtime-types.js';
import { defaultSeccomp } from './seccomp.js';
import type { ResourceLimits, SpecInput } from './spec-input.js';
import { combineMounts, defaultMounts } from './spec-mounts.js';

/** The runtime spec version runc 1.1.5 reports and accepts. */
export const OCI_VERSION = '1.0.2-dev';

/**
 * Paths under /proc and /sys hidden from unprivileged containers (Docker's list; Docker also
 * masks each CPU's thermal_throttle directory that exists on the host, which needs I/O).
 */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths under /proc that unprivileged containers see read-only. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The resource names `--ulimit` takes (go-units' list). */
const ULIMIT_NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime',
  'sigpending', 'stack',
]);

/** RLIM_INFINITY: what `--ulimit name=-1` means (Docker passes -1 through as uint64). */
export const RLIM_INFINITY = 2n ** 64n - 1n;

/** Docker's devices cgroup for unprivileged containers: deny everything, then allow the usual devices. */
function deviceRules(): LinuxDeviceCgroup[] {
  const char = (major: number | undefined, minor: number | undefined, access = 'rwm'): LinuxDeviceCgroup => ({
    allow: true,
    type: 'c',
    ...(major === undefined ? {} : { major }),
    ...(minor === undefined ? {} : { minor }),
    access,
  });
  return [
    { allow: false, access: 'rwm' },
    char(1, 3), // null
    char(1, 5), // zero
    char(1, 7), // full
    char(1, 8), // random
    char(1, 9), // urandom
    char(5, 0), // tty
    char(5, 1), // console
    char(5, 2), // ptmx
    char(136, undefined), // pts/*
    char(undefined, undefined, 'm'), // mknod of any character device
    { allow: true, type: 'b', access: 'm' }, // mknod of any block device
    char(10, 200), // net/tun
  ];
}

/** `--ulimit`s as rlimits; later entries for the same name win. */
function rlimits(ulimits: SpecInput['ulimits']): POSIXRlimit[] {
  const byName = new Map<string, POSIXRlimit>();
  const value = (n: number, name: string): number | bigint => {
    if (n === -1) return RLIM_INFINITY;
    if (!Number.isSafeInteger(n) || n < 0) throw errors.invalid(`invalid ulimit argument: ${name}=${n}`);
    return n;
  };
  for (const { name, soft, hard } of ulimits) {
    if (!ULIMIT_NAMES.has(name)) throw errors.invalid(`invalid ulimit type: ${name}`);
    const [s, h] = [value(soft, name), value(hard, name)];
    if (BigInt(s) > BigInt(h)) {
      throw errors.invalid(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    }
    byName.set(name, { type: `RLIMIT_${name.toUpperCase()}`, hard: h, soft: s });
  }
  return [...byName.values()];
}

/** The process: argv, environment, identity, capabilities and rlimits. */
function processOf(input: SpecInput, caps: string[]): Process {
  return {
    terminal: input.terminal,
    user: { uid: input.user.uid, gid: input.user.gid, additionalGids: [...input.user.additionalGids] },
    args: [...input.args],
    env: [...input.env],
    cwd: input.cwd,
    // NOTE: no inheritable or ambient capabilities, as Docker since 23.0 (CVE-2022-24769).
    capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
    rlimits: rlimits(input.ulimits),
    noNewPrivileges: input.noNewPrivileges,
    oomScoreAdj: 0,
  };
}

/** Namespaces: new pid, ipc, uts, mount and cgroup ones; the network one joined, new, or the host's. */
function namespaces(netns: string): LinuxNamespace[] {
  const ns: LinuxNamespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  if (netns === '') ns.push({ type: 'network' });
  else if (netns !== 'host') ns.push({ type: 'network', path: netns });
  return ns;
}

/**
 * Memory, CPU and pids limits, omitting what is unset. Swap follows Docker: with a memory limit
 * and no `--memory-swap`, memory+swap is twice the memory; -1 is unlimited swap.
 */
function resources(r: ResourceLimits, devices: LinuxDeviceCgroup[]): LinuxResources {
  const out: LinuxResources = { devices };
  const memory = {
    ...(r.memory > 0 ? { limit: r.memory } : {}),
    ...(r.memoryReservation > 0 ? { reservation: r.memoryReservation } : {}),
    ...(r.memorySwap > 0 || r.memorySwap === -1 ? { swap: r.memorySwap } : r.memory > 0 ? { swap: 2 * r.memory } : {}),
    ...(r.oomKillDisable ? { disableOOMKiller: true } : {}),
  };
  if (Object.keys(memory).length > 0) out.memory = memory;
  const cpu = {
    ...(r.cpuShares > 0 ? { shares: r.cpuShares } : {}),
    ...(r.cpuQuota > 0 ? { quota: r.cpuQuota } : {}),
    ...(r.cpuPeriod > 0 ? { period: r.cpuPeriod } : {}),
    ...(r.cpusetCpus !== '' ? { cpus: r.cpusetCpus } : {}),
  };
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  return out;
}

/**
 * The container's OCI runtime spec. Pure apart from reading the kernel's capability count once
 * (for privileged containers and `--cap-add ALL`). Privileged containers get every capability,
 * every device (`input.hostDevices`), writable /sys and cgroups, no masked or read-only paths
 * and no seccomp filter. Throws INVALID_ARGUMENT for unknown capabilities, ulimits and tmpfs
 * options.
 */
export function buildSpec(input: SpecInput): RuntimeSpec {
  const caps = effectiveCapabilities(input.capAdd, input.capDrop, input.privileged);
  const { privileged } = input;
  const devices: LinuxDeviceCgroup[] = privileged ? [{ allow: true, access: 'rwm' }] : deviceRules();
  return {
    ociVersion: OCI_VERSION,
    process: processOf(input, caps),
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    hostname: input.hostname,
    mounts: combineMounts(defaultMounts({ shmSize: input.shmSize, privileged }), input.mounts),
    ...(input.annotations ? { annotations: { ...input.annotations } } : {}),
    linux: {
      namespaces: namespaces(input.netns),
      resources: resources(input.resources, devices),
      cgroupsPath: input.cgroupsPath,
      ...(input.seccomp && !privileged ? { seccomp: defaultSeccomp(new Set(caps)) } : {}),
      maskedPaths: privileged ? [] : [...MASKED_PATHS],
      readonlyPaths: privileged ? [] : [...READONLY_PATHS],
      devices: privileged ? [...(input.hostDevices ?? [])] : [],
      sysctl: { ...input.sysctls },
    },
  };
}

/**
 * `config.json` text for a spec. Unlike JSON.stringify, writes bigint rlimits (RLIM_INFINITY)
 * as the exact integers runc expects.
 */
export function specToJson(spec: RuntimeSpec): string {
  return jsonWithBigints(spec);
}

/** JSON text of any value of the spec (e.g. an exec's `process`), bigints as exact integers. */
export function jsonWithBigints(value: unknown): string {
  const marker = `@@bigint:${Math.random().toString(36).slice(2)}:`;
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v), 2);
  return text.replace(new RegExp(`"${marker}(\\d+)"`, 'g'), '$1');
}
