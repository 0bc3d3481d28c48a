/**
 * Types of the OCI runtime spec's `config.json`, version 1.0.2 as runc 1.1.5 accepts it.
 * https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config.md and config-linux.md
 *
 * Field names follow the JSON exactly; only the fields gantry sets are declared. Serialize a
 * {@link RuntimeSpec} with `specToJson` (spec.ts): rlimits may hold 64-bit values (RLIM_INFINITY)
 * that a JavaScript number cannot carry.
 */

/** The whole `config.json`. */
export interface RuntimeSpec {
  ociVersion: string;
  process: Process;
  root: Root;
  hostname?: string;
  mounts: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux: Linux;
}

/** The container's process. https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config.md#process */
export interface Process {
  /** Initial size of the terminal (with `terminal`). */
  consoleSize?: { height: number; width: number };
  terminal?: boolean;
  user: User;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: POSIXRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
}

/** The process's identity. */
export interface User {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

/** The five capability sets, each a list of `CAP_*` names. */
export interface LinuxCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

/** One setrlimit(2) call. Values are bigint only for RLIM_INFINITY (2^64-1). */
export interface POSIXRlimit {
  /** `RLIMIT_NOFILE`, ... */
  type: string;
  hard: number | bigint;
  soft: number | bigint;
}

/** The root filesystem. */
export interface Root {
  path: string;
  readonly?: boolean;
}

/** One mount, in the order runc performs them. https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config.md#mounts */
export interface Mount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** One hook command. */
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** Lifecycle hooks (gantry sets none today; declared so callers can add createRuntime hooks). */
export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

/** The `linux` section. https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config-linux.md */
export interface Linux {
  namespaces: LinuxNamespace[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  resources?: LinuxResources;
  cgroupsPath?: string;
  seccomp?: LinuxSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  devices?: LinuxDevice[];
  sysctl?: Record<string, string>;
}

/** A namespace type runc 1.1.5 knows. */
export type LinuxNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

/** A namespace to create (no path) or join (path). */
export interface LinuxNamespace {
  type: LinuxNamespaceType;
  path?: string;
}

/** A user-namespace ID range. */
export interface LinuxIDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** cgroup settings. */
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
}

/** One devices-cgroup rule; absent type/major/minor match everything ("a", "*"). */
export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  /** Some of "r", "w", "m". */
  access?: string;
}

/** Memory cgroup, in bytes; swap is memory+swap, -1 unlimited. */
export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  disableOOMKiller?: boolean;
}

/** CPU cgroup. */
export interface LinuxCPU {
  shares?: number;
  /** Microseconds per period. */
  quota?: number;
  /** Microseconds. */
  period?: number;
  /** cpuset, e.g. "0-2,4". */
  cpus?: string;
}

/** Pids cgroup. */
export interface LinuxPids {
  limit: number;
}

/** A device node runc creates in the container's /dev. */
export interface LinuxDevice {
  type: 'c' | 'b' | 'p' | 'u';
  path: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** A seccomp action as libseccomp names it. */
export type LinuxSeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG';

/** A seccomp argument comparison. */
export type LinuxSeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

/** The seccomp filter. https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config-linux.md#seccomp */
export interface LinuxSeccomp {
  defaultAction: LinuxSeccompAction;
  /** errno for SCMP_ACT_ERRNO as the default action (EPERM when absent). */
  defaultErrnoRet?: number;
  /** SCMP_ARCH_X86_64, ... */
  architectures: string[];
  syscalls: LinuxSyscall[];
}

/** One rule: `action` for these syscalls when every `args` comparison holds. */
export interface LinuxSyscall {
  names: string[];
  action: LinuxSeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

/** One argument comparison; for SCMP_CMP_MASKED_EQ, `value` is the mask and `valueTwo` the expected result. */
export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: LinuxSeccompOperator;
}
