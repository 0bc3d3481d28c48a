/**
 * One stats sample of a running container, read from its cgroup and its network namespace,
 * as Docker's daemon builds `GET /containers/{id}/stats` (moby daemon/stats_unix.go with
 * containerd's cgroups readers).
 *
 * cgroup v1 (this host's hybrid layout): `<root>/<controller>/<cgroupsPath>/…` for cpuacct,
 * cpu (throttling), memory, pids and blkio. cgroup v2 (unified): `<root>/<cgroupsPath>/…`,
 * used for a controller whose v1 directory does not exist. Host-wide numbers come from
 * /proc/stat (CPU time, online CPUs) and /proc/meminfo (the limit of an unlimited container).
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  emptyBlkioStats,
  emptyCpuStats,
  type BlkioStatEntry,
  type BlkioStats,
  type ContainerStatsSample,
  type CpuStats,
  type MemoryStats,
  type NetworkStats,
} from '../core/container-stats.js';
import { errors, isErrno } from '../core/errors.js';

/** Where the cgroup and proc filesystems are (tests point these at fixtures). */
export interface StatsRoots {
  /** Default `/sys/fs/cgroup`. */
  cgroup?: string;
  /** Default `/proc`. */
  proc?: string;
}

/** USER_HZ, which the kernel uses for /proc/stat and cpuacct.stat (Docker assumes 100 too). */
const CLOCK_TICKS = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS;
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** memory.stat keys Docker reports on cgroup v1 (daemon/stats_unix.go statsV1). */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault',
  'pgmajfault', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
  'hierarchical_memory_limit', 'hierarchical_memsw_limit', 'total_cache', 'total_rss', 'total_rss_huge',
  'total_mapped_file', 'total_dirty', 'total_writeback', 'total_pgpgin', 'total_pgpgout', 'total_pgfault',
  'total_pgmajfault', 'total_inactive_anon', 'total_active_anon', 'total_inactive_file', 'total_active_file',
  'total_unevictable',
];
/** memory.stat keys Docker reports on cgroup v2 (statsV2). */
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback',
  'anon_thp', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable',
  'slab_unreclaimable', 'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate',
  'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree',
  'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ENODEV')) return undefined;
    throw err;
  }
}

/** A file holding one unsigned number; `max` and a missing file are undefined. */
function readNumber(path: string): number | undefined {
  const text = readText(path)?.trim();
  return text === undefined || !/^\d+$/.test(text) ? undefined : Number(text);
}

/** A `key value` per line file (memory.stat, cpu.stat, cpuacct.stat, memory.events). */
function readKeyValues(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText(path) ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

const omitZero = (n: number | undefined): number | undefined => (n ? n : undefined);

/** `o` without its undefined fields, as Go's `omitempty` leaves zero fields out. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
const pick = (kv: Map<string, number>, keys: string[]): Record<string, number> =>
  Object.fromEntries(keys.map((k) => [k, kv.get(k) ?? 0]));

/** RFC 3339 with the fraction's trailing zeros trimmed, as Go's encoding/json writes a time. */
function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}

/** Host CPU time in nanoseconds (the `cpu` line's first seven fields) and the `cpuN` lines counted. */
function systemCpu(proc: string): { usage: number; cpus: number } {
  let usage = 0;
  let cpus = 0;
  for (const line of (readText(join(proc, 'stat')) ?? '').split('\n')) {
    if (!line.startsWith('cpu')) break;
    if (line[3] === ' ') {
      const ticks = line.trim().split(/\s+/).slice(1, 8).map(Number);
      usage = ticks.reduce((a, b) => a + b, 0) * NS_PER_TICK;
    } else if (/^cpu\d/.test(line)) cpus++;
  }
  return { usage, cpus };
}

function machineMemory(proc: string): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(readText(join(proc, 'meminfo')) ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

/** cpu_stats, its fields in the order Docker writes them. */
function cpuStats(v1Acct: string | undefined, v1Cpu: string, v2: string, system: { usage: number; cpus: number }): CpuStats {
  let usage: CpuStats['cpu_usage'];
  let throttling: CpuStats['throttling_data'];
  if (v1Acct) {
    const percpu = readText(join(v1Acct, 'cpuacct.usage_percpu'))?.trim();
    const acct = readKeyValues(join(v1Acct, 'cpuacct.stat'));
    usage = compact({
      total_usage: readNumber(join(v1Acct, 'cpuacct.usage')) ?? 0,
      percpu_usage: percpu ? percpu.split(/\s+/).map(Number) : undefined,
      usage_in_kernelmode: (acct.get('system') ?? 0) * NS_PER_TICK,
      usage_in_usermode: (acct.get('user') ?? 0) * NS_PER_TICK,
    });
    const cpu = readKeyValues(join(v1Cpu, 'cpu.stat'));
    throttling = {
      periods: cpu.get('nr_periods') ?? 0,
      throttled_periods: cpu.get('nr_throttled') ?? 0,
      throttled_time: cpu.get('throttled_time') ?? 0,
    };
  } else {
    const cpu = readKeyValues(join(v2, 'cpu.stat'));
    const us = (key: string): number => (cpu.get(key) ?? 0) * 1000;
    usage = {
      total_usage: us('usage_usec'),
      usage_in_kernelmode: us('system_usec'),
      usage_in_usermode: us('user_usec'),
    };
    throttling = {
      periods: cpu.get('nr_periods') ?? 0,
      throttled_periods: cpu.get('nr_throttled') ?? 0,
      throttled_time: us('throttled_usec'),
    };
  }
  return compact({
    cpu_usage: usage,
    system_cpu_usage: omitZero(system.usage),
    online_cpus: omitZero(system.cpus),
    throttling_data: throttling,
  });
}

function memoryStats(v1: string | undefined, v2: string, hostMemory: number): MemoryStats {
  let mem: MemoryStats;
  if (v1) {
    mem = {
      usage: omitZero(readNumber(join(v1, 'memory.usage_in_bytes'))),
      max_usage: omitZero(readNumber(join(v1, 'memory.max_usage_in_bytes'))),
      stats: pick(readKeyValues(join(v1, 'memory.stat')), V1_MEMORY_KEYS),
      failcnt: omitZero(readNumber(join(v1, 'memory.failcnt'))),
      limit: omitZero(readNumber(join(v1, 'memory.limit_in_bytes'))),
    };
  } else {
    mem = {
      usage: omitZero(readNumber(join(v2, 'memory.current'))),
      stats: pick(readKeyValues(join(v2, 'memory.stat')), V2_MEMORY_KEYS),
      failcnt: omitZero(readKeyValues(join(v2, 'memory.events')).get('oom')),
      // `max` (unlimited) reads as undefined and becomes the host's memory below.
      limit: readNumber(join(v2, 'memory.max')) ?? Number.MAX_SAFE_INTEGER,
    };
  }
  if (mem.limit !== undefined && hostMemory > 0 && mem.limit > hostMemory) mem.limit = hostMemory;
  return compact(mem);
}

/** A v1 `blkio.*` file: `major:minor Op value` lines (or `major:minor value`), `Total` skipped. */
function readBlkioV1(path: string): BlkioStatEntry[] {
  const out: BlkioStatEntry[] = [];
  for (const line of (readText(path) ?? '').split('\n')) {
    const f = line.split(/[ :]+/).filter(Boolean);
    if (f.length < 3) continue;
    const [major, minor, op, value] = f.length >= 4 ? f : [f[0], f[1], '', f[2]];
    out.push({ major: Number(major), minor: Number(minor), op: op ?? '', value: Number(value) });
  }
  return out;
}

function blkioStats(v1: string | undefined, v2: string): BlkioStats {
  if (!v1) {
    // io.stat: `major:minor rbytes=N wbytes=N rios=N …`, one line per device.
    let entries: BlkioStatEntry[] | null = null;
    for (const line of (readText(join(v2, 'io.stat')) ?? '').split('\n')) {
      const m = /^(\d+):(\d+)\s/.exec(line);
      if (!m) continue;
      const kv = new Map(line.split(/\s+/).slice(1).map((p) => p.split('=') as [string, string]));
      const dev = { major: Number(m[1]), minor: Number(m[2]) };
      (entries ??= []).push(
        { ...dev, op: 'read', value: Number(kv.get('rbytes') ?? 0) },
        { ...dev, op: 'write', value: Number(kv.get('wbytes') ?? 0) },
      );
    }
    return {
      io_service_bytes_recursive: entries,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    };
  }
  const file = (name: string): BlkioStatEntry[] => readBlkioV1(join(v1, `blkio.${name}`));
  const stats = emptyBlkioStats();
  // NOTE: as containerd: CFQ's files when the kernel has them and they list something, else
  // the throttle files, which every blk-mq kernel (BFQ, mq-deadline, none) keeps.
  if (existsSync(join(v1, 'blkio.io_serviced_recursive'))) {
    stats.sectors_recursive = file('sectors_recursive');
    stats.io_service_bytes_recursive = file('io_service_bytes_recursive');
    stats.io_serviced_recursive = file('io_serviced_recursive');
    stats.io_queue_recursive = file('io_queued_recursive');
    stats.io_service_time_recursive = file('io_service_time_recursive');
    stats.io_wait_time_recursive = file('io_wait_time_recursive');
    stats.io_merged_recursive = file('io_merged_recursive');
    stats.io_time_recursive = file('time_recursive');
    if (Object.values(stats).some((list) => (list?.length ?? 0) > 0)) return stats;
  }
  stats.io_serviced_recursive = file('throttle.io_serviced');
  stats.io_service_bytes_recursive = file('throttle.io_service_bytes');
  return stats;
}

/**
 * Interface counters of the network namespace `pid` is in, from /proc/<pid>/net/dev, without
 * `lo`; undefined when the process is gone or shares the engine's namespace (`--network host`),
 * where Docker reports no networks either.
 */
function networkStats(proc: string, pid: number): Record<string, NetworkStats> | undefined {
  try {
    if (readlinkSync(join(proc, String(pid), 'ns/net')) === readlinkSync(join(proc, 'self/ns/net'))) return undefined;
  } catch {
    // No namespace links to compare (a fixture, or the process just exited): read the file.
  }
  const text = readText(join(proc, String(pid), 'net/dev'));
  if (text === undefined) return undefined;
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    const at = (i: number): number => f[i] ?? 0;
    out[name] = {
      rx_bytes: at(0),
      rx_packets: at(1),
      rx_errors: at(2),
      rx_dropped: at(3),
      tx_bytes: at(8),
      tx_packets: at(9),
      tx_errors: at(10),
      tx_dropped: at(11),
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * One stats sample of the container in cgroup `cgroupsPath` (as given to runc, e.g.
 * `/gantry/<id>`) whose init process is `pid`. `previous` (the last sample of the same
 * stream) becomes `precpu_stats`/`preread`, so CPU percentages can be computed from this
 * sample alone. Missing counter files read as zero; throws NOT_FOUND when the cgroup does
 * not exist at all (the container is not running).
 */
export function readStats(
  cgroupsPath: string,
  pid: number,
  previous?: ContainerStatsSample,
  roots: StatsRoots = {},
): ContainerStatsSample {
  const cgroup = roots.cgroup ?? '/sys/fs/cgroup';
  const proc = roots.proc ?? '/proc';
  const v1 = (controller: string): string | undefined => {
    const dir = join(cgroup, controller, cgroupsPath);
    return existsSync(dir) ? dir : undefined;
  };
  const v2 = join(cgroup, cgroupsPath);
  const dirs = { cpuacct: v1('cpuacct'), memory: v1('memory'), pids: v1('pids'), blkio: v1('blkio') };
  if (!Object.values(dirs).some(Boolean) && !existsSync(join(v2, 'cgroup.procs'))) {
    throw errors.notFound(`cgroup ${cgroupsPath} does not exist`, { hint: 'Is the container running?' });
  }
  const read = new Date();
  const cpu = cpuStats(dirs.cpuacct, join(cgroup, 'cpu', cgroupsPath), v2, systemCpu(proc));
  const pidsDir = dirs.pids ?? v2;
  const sample: ContainerStatsSample = {
    read: rfc3339Nano(read),
    preread: previous?.read ?? ZERO_TIME,
    pids_stats: compact({
      current: omitZero(readNumber(join(pidsDir, 'pids.current'))),
      limit: omitZero(readNumber(join(pidsDir, 'pids.max'))),
    }),
    blkio_stats: blkioStats(dirs.blkio, v2),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: previous?.cpu_stats ?? emptyCpuStats(),
    memory_stats: memoryStats(dirs.memory, v2, machineMemory(proc)),
  };
  const networks = networkStats(proc, pid);
  if (networks) sample.networks = networks;
  return sample;
}
