/**
 * One resource-usage sample of a running container, in the shape of the Docker Engine API's
 * `GET /containers/{id}/stats` (moby api/types/container/stats.go; only the Linux fields), and
 * the numbers `docker stats` shows for it.
 *
 * Counters are cumulative since the container started; rates come from two samples, which is
 * why a sample carries the previous sample's CPU counters (`precpu_stats`, `preread`). Fields
 * Docker tags `omitempty` are absent when zero. Large counters (nanoseconds of CPU) are plain
 * numbers: exact up to 2^53, and a rounding of a few nanoseconds beyond does not show in a rate.
 */

/** `cpu_stats` / `precpu_stats`. */
export interface CpuStats {
  cpu_usage: {
    /** Nanoseconds of CPU time the container used. */
    total_usage: number;
    /** Per CPU, cgroup v1 only. */
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
  };
  /** Nanoseconds of CPU time the whole host spent since boot (all CPUs, idle included). */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

/** `memory_stats`: bytes, and the cgroup's memory.stat counters in `stats` (v1 or v2 names). */
export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  /** The cgroup's limit, or the host's memory when that is lower (unlimited). */
  limit?: number;
}

/** One row of a blkio list: a device, an operation (`Read`, `Write`, … on v1; `read`, `write` on v2). */
export interface BlkioStatEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** `blkio_stats`: lists are `[]` on cgroup v1; on v2 only `io_service_bytes_recursive` is set, the rest null. */
export interface BlkioStats {
  io_service_bytes_recursive: BlkioStatEntry[] | null;
  io_serviced_recursive: BlkioStatEntry[] | null;
  io_queue_recursive: BlkioStatEntry[] | null;
  io_service_time_recursive: BlkioStatEntry[] | null;
  io_wait_time_recursive: BlkioStatEntry[] | null;
  io_merged_recursive: BlkioStatEntry[] | null;
  io_time_recursive: BlkioStatEntry[] | null;
  sectors_recursive: BlkioStatEntry[] | null;
}

/** Counters of one network interface of the container. */
export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** `GET /containers/{id}/stats` (one element of the stream). */
export interface ContainerStatsSample {
  /** Filled in by the container service. */
  id?: string;
  name?: string;
  os_type?: string;
  /** RFC 3339 (nanoseconds, trailing zeros trimmed) of when this sample was taken. */
  read: string;
  /** `read` of the previous sample, or Go's zero time `0001-01-01T00:00:00Z`. */
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: BlkioStats;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: MemoryStats;
  /** By interface name, loopback excluded; absent when the container has no network of its own. */
  networks?: Record<string, NetworkStats>;
}

/** What a `docker stats` row shows, before formatting. */
export interface StatsRow {
  /** Percent of one CPU (can exceed 100 on several CPUs). */
  cpuPercent: number;
  /** Bytes in use, without the inactive page cache. */
  memUsage: number;
  memLimit: number;
  memPercent: number;
  /** Bytes over all interfaces. */
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** Block I/O counters of a cgroup v1 sample before its files are read: every list empty. */
export function emptyBlkioStats(): BlkioStats {
  return {
    io_service_bytes_recursive: [],
    io_serviced_recursive: [],
    io_queue_recursive: [],
    io_service_time_recursive: [],
    io_wait_time_recursive: [],
    io_merged_recursive: [],
    io_time_recursive: [],
    sectors_recursive: [],
  };
}

/** CPU counters of a sample that has none yet. */
export function emptyCpuStats(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/**
 * The numbers of a `docker stats` row for `cur`, with Docker CLI's formulas
 * (cli/command/container/stats_helpers.go): CPU from the change since `prev` (or since the
 * sample's own `precpu_stats`), memory without the inactive file cache, block I/O summed by
 * operation, network summed over interfaces.
 */
export function statsRow(cur: ContainerStatsSample, prev?: ContainerStatsSample): StatsRow {
  const pre = prev?.cpu_stats ?? cur.precpu_stats;
  const mem = cur.memory_stats;
  const memUsage = memUsageNoCache(mem);
  const memLimit = mem.limit ?? 0;
  const [blockRead, blockWrite] = blockIO(cur.blkio_stats);
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(cur.networks ?? {})) {
    netRx += n.rx_bytes;
    netTx += n.tx_bytes;
  }
  return {
    cpuPercent: cpuPercent(pre, cur.cpu_stats),
    memUsage,
    memLimit,
    memPercent: memLimit !== 0 ? (memUsage / memLimit) * 100 : 0,
    netRx,
    netTx,
    blockRead,
    blockWrite,
    pids: cur.pids_stats.current ?? 0,
  };
}

/** calculateCPUPercentUnix: the container's share of the host's CPU time, times the CPUs. */
function cpuPercent(pre: CpuStats, cur: CpuStats): number {
  const cpuDelta = cur.cpu_usage.total_usage - pre.cpu_usage.total_usage;
  const systemDelta = (cur.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cur.online_cpus || (cur.cpu_usage.percpu_usage?.length ?? 0);
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/**
 * calculateMemUsageUnixNoCache: usage less `total_inactive_file` (v1) or `inactive_file` (v2),
 * the page cache the kernel would drop first (what cadvisor and containerd's CRI report).
 */
function memUsageNoCache(mem: MemoryStats): number {
  const usage = mem.usage ?? 0;
  const v1 = mem.stats?.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = mem.stats?.inactive_file ?? 0;
  return v2 < usage ? usage - v2 : usage;
}

/** calculateBlockIO: bytes read and written, by the first letter of each entry's operation. */
function blockIO(blkio: BlkioStats): [number, number] {
  let read = 0;
  let write = 0;
  for (const e of blkio.io_service_bytes_recursive ?? []) {
    const op = e.op[0];
    if (op === 'r' || op === 'R') read += e.value;
    else if (op === 'w' || op === 'W') write += e.value;
  }
  return [read, write];
}
