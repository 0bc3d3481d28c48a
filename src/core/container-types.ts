/**
 * The container vocabulary of the Docker Engine API, as the engine stores and reports it.
 *
 * A container is created from exactly the body of the Engine API's `POST /containers/create`
 * (`Config` + `HostConfig`), so the CLI's flag parser, the future API socket and Compose all
 * produce the same value and `inspect` returns what was given. Field names and meanings are
 * Docker's (https://docs.docker.com/engine/api/v1.47/#tag/Container); only the fields gantry
 * implements are declared.
 */
import type { HealthConfig } from './oci.js';

/** `Config` of a container (image defaults merged in at create time are not written back here). */
export interface ContainerCreateConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  /** Null or absent: the image's. An empty array: no command (Docker's `--entrypoint ""` resets). */
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Healthcheck?: HealthConfig;
  /** The image as the user named it. */
  Image: string;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** Seconds to wait after the stop signal before SIGKILL (Docker's default: 10). */
  StopTimeout?: number;
}

/** One `--mount` (and the parsed form of `-v`, `--tmpfs`). */
export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind), volume name (volume; empty: anonymous) or empty (tmpfs). */
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** `--ulimit name=soft[:hard]`. */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** `--restart`. */
export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

/** `HostConfig` of a container. */
export interface HostConfig {
  /** `-v src:dst[:opts]` as given (bind mounts and named/anonymous volumes). */
  Binds?: string[] | null;
  Mounts?: MountSpec[];
  /** `--tmpfs dst[:opts]`: target → mount options. */
  Tmpfs?: Record<string, string>;
  NetworkMode?: string;
  /** `-P`: publish every exposed port on a random host port. */
  PublishAllPorts?: boolean;
  /** gantry's egress policy (`--egress deny --egress-allow CIDR[:port[/proto]]`); not Docker's. */
  Egress?: { Mode: 'allow' | 'deny'; Allow: string[] };
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]>;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  /** Bytes; 0 = unlimited. */
  Memory?: number;
  /** Bytes of memory + swap; -1 = unlimited swap; 0 = Docker's default (twice Memory). */
  MemorySwap?: number;
  MemoryReservation?: number;
  /** CPU quota in units of 1e-9 CPUs (`--cpus 1.5` = 1.5e9). */
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  /** 0 or -1: unlimited. */
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  OomKillDisable?: boolean;
  /** Bytes of /dev/shm (Docker's default 64 MiB). */
  ShmSize?: number;
  /** Initial terminal size of a `-t` container: [rows, columns]. */
  ConsoleSize?: [number, number];
  /** `--init`: run tini as PID 1. */
  Init?: boolean | null;
  Sysctls?: Record<string, string>;
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  Runtime?: string;
  LogConfig?: { Type: string; Config: Record<string, string> };
}

/** The body of a create request. */
export interface ContainerCreateRequest {
  /** Optional name; a random Docker-style name is generated when absent. */
  name?: string;
  config: ContainerCreateConfig;
  hostConfig: HostConfig;
  /** Per-network endpoint settings (`--network-alias`, `--ip`), keyed by network name. */
  networkingConfig?: { EndpointsConfig: Record<string, EndpointConfig> };
}

/** `NetworkingConfig.EndpointsConfig[name]` of a create request or `network connect`. */
export interface EndpointConfig {
  Aliases?: string[];
  IPAMConfig?: { IPv4Address?: string };
}

/** Docker's container states. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** One row of `GET /containers/json` (what `ps` shows). */
export interface ContainerSummary {
  Id: string;
  /** With Docker's leading "/". */
  Names: string[];
  /** The image as the user named it (or its ID when that name is gone). */
  Image: string;
  ImageID: string;
  /** Entrypoint and command joined with spaces. */
  Command: string;
  /** Unix seconds. */
  Created: number;
  State: ContainerStatus;
  /** "Up 5 seconds", "Exited (0) 2 minutes ago", "Created", "Up 1 second (Paused)", ... */
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string>;
  /** With `size`: bytes in the container's writable layer, and that plus the image. */
  SizeRw?: number;
  SizeRootFs?: number;
  HostConfig: { NetworkMode: string };
  Mounts: MountPoint[];
}

/** A mount as inspect and ps report it. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** `State` of `GET /containers/{id}/json`. */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  /** RFC 3339 with nanoseconds; "0001-01-01T00:00:00Z" when never. */
  StartedAt: string;
  FinishedAt: string;
}

/** `GET /containers/{id}/json`. */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** The image ID. */
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Name: string; Data: Record<string, string> };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  /** The effective config: the image's defaults merged with the create request. */
  Config: ContainerCreateConfig;
  NetworkSettings: {
    Bridge: string;
    SandboxID: string;
    SandboxKey: string;
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
    IPAddress: string;
    Gateway: string;
    MacAddress: string;
    Networks: Record<string, unknown>;
  };
}

/** `GET /volumes/{name}`. */
export interface VolumeInfo {
  Name: string;
  Driver: string;
  Mountpoint: string;
  /** RFC 3339. */
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string>;
  /** With `system df -v`/`volume ls` size queries. */
  UsageData?: { Size: number; RefCount: number };
}

/** One entry of a container's `NetworkSettings.Networks`. */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address: string } | null;
  Links: null;
  Aliases: string[] | null;
  MacAddress: string;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

/** A container's network settings as inspect shows them. */
export interface ContainerNetworkView {
  Bridge: string;
  Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}
