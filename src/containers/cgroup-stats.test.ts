import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { emptyBlkioStats, emptyCpuStats, statsRow, type ContainerStatsSample } from '../core/container-stats.js';
import { isGantryError } from '../core/errors.js';
import { readStats } from './cgroup-stats.js';

/** Writes `files` (path → content) under a new temporary directory. */
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gantry-stats-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const PROC = {
  'proc/stat': 'cpu  100 1 50 1000 9 2 3 7 0 0\ncpu0 50 1 25 500 4 1 2 3 0 0\ncpu1 50 0 25 500 5 1 1 4 0 0\nintr 1\n',
  'proc/meminfo': 'MemTotal:        2048000 kB\nMemFree:          100 kB\n',
  'proc/42/net/dev':
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
    '    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n' +
    '  eth0:    1500      10    1    2    0     0          0         0      700       5    3    4    0     0       0          0\n',
};

function sample(over: Partial<ContainerStatsSample>): ContainerStatsSample {
  return {
    read: '2024-01-02T03:04:05Z',
    preread: '0001-01-01T00:00:00Z',
    pids_stats: {},
    blkio_stats: emptyBlkioStats(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpuStats(),
    precpu_stats: emptyCpuStats(),
    memory_stats: {},
    ...over,
  };
}

describe('statsRow', () => {
  it("computes docker stats' numbers with Docker CLI's formulas", () => {
    const cpu = (total: number, system: number) => ({
      ...emptyCpuStats(),
      cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      system_cpu_usage: system,
      online_cpus: 4,
    });
    const prev = sample({ cpu_stats: cpu(1_000_000_000, 100_000_000_000) });
    const cur = sample({
      cpu_stats: cpu(1_500_000_000, 102_000_000_000),
      memory_stats: { usage: 100 * 2 ** 20, limit: 400 * 2 ** 20, stats: { total_inactive_file: 20 * 2 ** 20, inactive_file: 5 } },
      pids_stats: { current: 3 },
      networks: {
        eth0: { rx_bytes: 1000, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 10, tx_packets: 1, tx_errors: 0, tx_dropped: 0 },
        eth1: { rx_bytes: 24, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 5, tx_packets: 1, tx_errors: 0, tx_dropped: 0 },
      },
      blkio_stats: {
        ...sample({}).blkio_stats,
        io_service_bytes_recursive: [
          { major: 8, minor: 0, op: 'Read', value: 4096 },
          { major: 8, minor: 0, op: 'Write', value: 512 },
          { major: 8, minor: 0, op: 'Sync', value: 9999 },
          { major: 8, minor: 16, op: 'read', value: 4 },
          { major: 8, minor: 16, op: 'write', value: 1 },
          { major: 8, minor: 16, op: '', value: 7 },
        ],
      },
    });
    const row = statsRow(cur, prev);
    // 0.5 s of 2 s host time on 4 CPUs: 100 %.
    assert.equal(row.cpuPercent, 100);
    assert.equal(row.memUsage, 80 * 2 ** 20);
    assert.equal(row.memLimit, 400 * 2 ** 20);
    assert.equal(row.memPercent, 20);
    assert.equal(row.netRx, 1024);
    assert.equal(row.netTx, 15);
    assert.equal(row.blockRead, 4100);
    assert.equal(row.blockWrite, 513);
    assert.equal(row.pids, 3);
    // Without `prev`, precpu_stats serves; no host delta means 0 %.
    assert.equal(statsRow({ ...cur, precpu_stats: prev.cpu_stats }).cpuPercent, 100);
    assert.equal(statsRow(cur, cur).cpuPercent, 0);
  });

  it('subtracts inactive_file on cgroup v2, and falls back to usage', () => {
    const v2 = sample({ memory_stats: { usage: 1000, limit: 0, stats: { inactive_file: 300 } } });
    assert.equal(statsRow(v2).memUsage, 700);
    assert.equal(statsRow(v2).memPercent, 0, 'no limit, no percentage');
    const cacheHeavy = sample({ memory_stats: { usage: 1000, limit: 4000, stats: { total_inactive_file: 5000, inactive_file: 200 } } });
    assert.equal(statsRow(cacheHeavy).memUsage, 800);
    assert.equal(statsRow(sample({ memory_stats: { usage: 10, stats: { inactive_file: 10 } } })).memUsage, 10);
  });

  it('counts per-CPU entries when online_cpus is absent', () => {
    const cur = sample({
      cpu_stats: { ...emptyCpuStats(), cpu_usage: { total_usage: 300, percpu_usage: [1, 2], usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 1000 },
    });
    assert.equal(statsRow(cur).cpuPercent, 60);
  });
});

describe('readStats on fixtures', () => {
  it('reads a cgroup v1 hierarchy the way Docker reports it', () => {
    const g = 'sys/fs/cgroup';
    const root = fixture({
      ...PROC,
      [`${g}/cpuacct/gantry/c1/cpuacct.usage`]: '123456789\n',
      [`${g}/cpuacct/gantry/c1/cpuacct.usage_percpu`]: '100000000 23456789 \n',
      [`${g}/cpuacct/gantry/c1/cpuacct.stat`]: 'user 7\nsystem 3\n',
      [`${g}/cpu/gantry/c1/cpu.stat`]: 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n',
      [`${g}/memory/gantry/c1/memory.usage_in_bytes`]: '8192000\n',
      [`${g}/memory/gantry/c1/memory.max_usage_in_bytes`]: '9000000\n',
      [`${g}/memory/gantry/c1/memory.limit_in_bytes`]: '9223372036854771712\n',
      [`${g}/memory/gantry/c1/memory.failcnt`]: '0\n',
      [`${g}/memory/gantry/c1/memory.stat`]: 'cache 4096\nrss 8192\nshmem 1\ntotal_inactive_file 4096\n',
      [`${g}/pids/gantry/c1/pids.current`]: '2\n',
      [`${g}/pids/gantry/c1/pids.max`]: 'max\n',
      [`${g}/blkio/gantry/c1/blkio.throttle.io_service_bytes`]: '8:0 Read 4096\n8:0 Write 1024\n8:0 Total 5120\nTotal 5120\n',
      [`${g}/blkio/gantry/c1/blkio.throttle.io_serviced`]: '8:0 Read 1\n8:0 Write 2\nTotal 3\n',
    });
    try {
      const first = readStats('/gantry/c1', 42, undefined, { cgroup: join(root, g), proc: join(root, 'proc') });
      assert.equal(first.preread, '0001-01-01T00:00:00Z');
      assert.match(first.read, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.deepEqual(first.cpu_stats, {
        cpu_usage: { total_usage: 123456789, percpu_usage: [100000000, 23456789], usage_in_kernelmode: 30_000_000, usage_in_usermode: 70_000_000 },
        throttling_data: { periods: 10, throttled_periods: 2, throttled_time: 5000 },
        system_cpu_usage: (100 + 1 + 50 + 1000 + 9 + 2 + 3) * 10_000_000,
        online_cpus: 2,
      });
      assert.deepEqual(first.precpu_stats, emptyCpuStats());
      assert.equal(first.memory_stats.usage, 8192000);
      assert.equal(first.memory_stats.max_usage, 9000000);
      assert.equal(first.memory_stats.limit, 2048000 * 1024, 'unlimited: the host memory');
      assert.equal('failcnt' in first.memory_stats, false);
      assert.equal(first.memory_stats.stats?.rss, 8192);
      assert.equal(first.memory_stats.stats?.total_rss, 0);
      assert.equal(first.memory_stats.stats?.shmem, undefined, 'only the keys Docker reports');
      assert.deepEqual(first.pids_stats, { current: 2 });
      assert.deepEqual(first.blkio_stats.io_service_bytes_recursive, [
        { major: 8, minor: 0, op: 'Read', value: 4096 },
        { major: 8, minor: 0, op: 'Write', value: 1024 },
        { major: 8, minor: 0, op: 'Total', value: 5120 },
      ]);
      assert.equal(first.blkio_stats.io_serviced_recursive?.length, 2);
      assert.deepEqual(first.blkio_stats.sectors_recursive, []);
      assert.deepEqual(first.networks, {
        eth0: { rx_bytes: 1500, rx_packets: 10, rx_errors: 1, rx_dropped: 2, tx_bytes: 700, tx_packets: 5, tx_errors: 3, tx_dropped: 4 },
      });
      const second = readStats('/gantry/c1', 42, first, { cgroup: join(root, g), proc: join(root, 'proc') });
      assert.equal(second.preread, first.read);
      assert.deepEqual(second.precpu_stats, first.cpu_stats);
      const row = statsRow(second);
      assert.equal(row.memUsage, 8192000 - 4096);
      assert.equal(row.blockRead, 4096);
      assert.equal(row.blockWrite, 1024);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads a cgroup v2 directory when there is no v1 one', () => {
    const root = fixture({
      ...PROC,
      'cg/gantry/c2/cgroup.procs': '42\n',
      'cg/gantry/c2/cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
      'cg/gantry/c2/memory.current': '4096000\n',
      'cg/gantry/c2/memory.max': '1048576000\n',
      'cg/gantry/c2/memory.stat': 'anon 100\nfile 200\ninactive_file 96000\nworkingset_refault_file 3\n',
      'cg/gantry/c2/memory.events': 'low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\n',
      'cg/gantry/c2/pids.current': '5\n',
      'cg/gantry/c2/pids.max': '100\n',
      'cg/gantry/c2/io.stat': '259:0 rbytes=8192 wbytes=4096 rios=2 wios=1 dbytes=0 dios=0\n',
    });
    try {
      const s = readStats('/gantry/c2', 42, undefined, { cgroup: join(root, 'cg'), proc: join(root, 'proc') });
      assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 1_500_000, usage_in_kernelmode: 500_000, usage_in_usermode: 1_000_000 });
      assert.deepEqual(s.cpu_stats.throttling_data, { periods: 4, throttled_periods: 1, throttled_time: 20_000 });
      assert.equal(s.memory_stats.usage, 4096000);
      assert.equal(s.memory_stats.limit, 1048576000);
      assert.equal(s.memory_stats.failcnt, 2);
      assert.equal(s.memory_stats.stats?.anon, 100);
      assert.equal(s.memory_stats.stats?.workingset_refault, 0);
      assert.deepEqual(s.pids_stats, { current: 5, limit: 100 });
      assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
        { major: 259, minor: 0, op: 'read', value: 8192 },
        { major: 259, minor: 0, op: 'write', value: 4096 },
      ]);
      assert.equal(s.blkio_stats.io_serviced_recursive, null);
      assert.equal(statsRow(s).memUsage, 4096000 - 96000);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails with NOT_FOUND when the cgroup does not exist', () => {
    const root = fixture(PROC);
    try {
      assert.throws(
        () => readStats('/gantry/gone', 42, undefined, { cgroup: join(root, 'cg'), proc: join(root, 'proc') }),
        (err: unknown) => isGantryError(err, 'NOT_FOUND'),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('readStats on a real cgroup v1 hierarchy', () => {
  it('counts the process and its memory', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root');
    const controllers = ['memory', 'cpuacct', 'pids'];
    if (!controllers.every((c) => isDir(`/sys/fs/cgroup/${c}`))) return t.skip('no cgroup v1 controllers here');
    const name = `gantry-test-${randomBytes(4).toString('hex')}`;
    const dirs = controllers.map((c) => `/sys/fs/cgroup/${c}/${name}`);
    for (const d of dirs) mkdirSync(d);
    // The shell waits for a line before it execs sleep, so sleep's memory is charged to the
    // new cgroup (v1 does not move the charges of pages a process already has).
    const child = spawn('sh', ['-c', 'read x; exec sleep 30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = once(child, 'exit');
    try {
      const pid = child.pid as number;
      for (const d of dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
      child.stdin.write('go\n');
      await new Promise((r) => setTimeout(r, 200));
      const s = readStats(`/${name}`, pid);
      assert.equal(s.pids_stats.current, 1);
      assert.ok((s.memory_stats.usage ?? 0) > 0, `memory usage ${s.memory_stats.usage}`);
      assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
      assert.ok((s.cpu_stats.system_cpu_usage ?? 0) > 0);
      assert.ok((s.cpu_stats.online_cpus ?? 0) >= 1);
      assert.ok((s.memory_stats.limit ?? 0) > 0);
      assert.equal(s.networks, undefined, 'the child shares our network namespace');
      const row = statsRow(readStats(`/${name}`, pid, s));
      assert.equal(row.pids, 1);
      assert.ok(row.cpuPercent >= 0);
    } finally {
      child.kill('SIGKILL');
      await exited;
      for (const d of dirs) rmdirSync(d);
    }
  });
});

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
