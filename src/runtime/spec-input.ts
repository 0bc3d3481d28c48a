/**
 * What the container service decides and the spec builder turns into an OCI runtime
 * `config.json`. Everything here is already resolved: the builder does no I/O and applies
 * Docker's security defaults (capabilities, seccomp, masked paths, devices) on top.
 */
import type { LinuxDevice } from './oci-runtime-types.js';

/** A mount for the OCI spec, already resolved to a host path (or a tmpfs). */
export interface ResolvedMount {
  /** 'bind' for binds and volumes, 'tmpfs' for tmpfs. */
  type: 'bind' | 'tmpfs';
  /** Host path for binds; 'tmpfs' for tmpfs. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** Extra mount options (tmpfs: size=..., mode=...; binds: propagation such as rprivate). */
  options?: string[];
}

/** The process's user, resolved from the image's /etc/passwd and /etc/group. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** HOME from passwd (or "/"), used when the environment has no HOME. */
  home: string;
}

/** Resource limits (Docker's HostConfig fields, already validated). */
export interface ResourceLimits {
  /** Bytes; 0 = unlimited. */
  memory: number;
  /** Bytes of memory+swap; -1 unlimited; 0 = not set. */
  memorySwap: number;
  memoryReservation: number;
  /** CFS quota/period in microseconds; quota 0 = unlimited. */
  cpuQuota: number;
  cpuPeriod: number;
  cpuShares: number;
  cpusetCpus: string;
  /** 0 = unlimited. */
  pidsLimit: number;
  oomKillDisable: boolean;
}

/** No limits at all (a build step's, a test's). */
export const NO_LIMITS: Readonly<ResourceLimits> = {
  memory: 0,
  memorySwap: 0,
  memoryReservation: 0,
  cpuQuota: 0,
  cpuPeriod: 0,
  cpuShares: 0,
  cpusetCpus: '',
  pidsLimit: 0,
  oomKillDisable: false,
};

/** Everything the spec builder needs. */
export interface SpecInput {
  /** The container ID (for the cgroup path and annotations). */
  id: string;
  /** The mounted root filesystem (host path). */
  rootfs: string;
  readonlyRootfs: boolean;
  /** The final argv (entrypoint + cmd, with the init binary prepended when `init`). */
  args: string[];
  /** The final environment, KEY=VALUE, already merged (image, -e, PATH, HOSTNAME, HOME, TERM). */
  env: string[];
  cwd: string;
  user: ResolvedUser;
  terminal: boolean;
  hostname: string;
  /** Mounts beyond Docker's defaults (/proc, /dev, /sys...): binds, volumes, tmpfs, /etc/hosts etc. */
  mounts: ResolvedMount[];
  /** Network namespace: a path to join, 'host' to share the host's, or '' for a new empty one (`--network none`). */
  netns: string | 'host';
  /** Absolute cgroup path, e.g. "/gantry/<id>". */
  cgroupsPath: string;
  resources: ResourceLimits;
  /** Docker's `--ulimit`s, names without the RLIMIT_ prefix (e.g. "nofile"). */
  ulimits: { name: string; soft: number; hard: number }[];
  /** Capability names as the user gave them (with or without CAP_, any case, or "ALL"). */
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  noNewPrivileges: boolean;
  /** false with `--security-opt seccomp=unconfined`. */
  seccomp: boolean;
  /** Bytes of /dev/shm. */
  shmSize: number;
  sysctls: Record<string, string>;
  /** OCI annotations. */
  annotations?: Record<string, string>;
  /**
   * The host's devices, for privileged containers (which get all of them, as in Docker); read
   * them with `hostDevices()` (host-devices.ts) so that the builder itself does no I/O.
   */
  hostDevices?: LinuxDevice[];
}
