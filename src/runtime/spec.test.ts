import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isGantryError } from '../core/errors.js';
import { DEFAULT_CAPABILITIES, availableCapabilities } from './capabilities.js';
import type { Mount } from './oci-runtime-types.js';
import { buildSpec, MASKED_PATHS, OCI_VERSION, READONLY_PATHS, RLIM_INFINITY, specToJson } from './spec.js';
import { NO_LIMITS, type SpecInput } from './spec-input.js';
import { mergeTmpfsOptions } from './spec-mounts.js';

/** A plain `docker run busybox` worth of input. */
function input(overrides: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'c0ffee',
    rootfs: '/var/lib/gantry/rootfs/c0ffee',
    readonlyRootfs: false,
    args: ['sh', '-c', 'true'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=c0ffee'],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' },
    terminal: false,
    hostname: 'c0ffee',
    mounts: [],
    netns: '/run/gantry/netns/c0ffee',
    cgroupsPath: '/gantry/c0ffee',
    resources: { ...NO_LIMITS },
    ulimits: [],
    capAdd: [],
    capDrop: [],
    privileged: false,
    noNewPrivileges: false,
    seccomp: true,
    shmSize: 64 * 1024 * 1024,
    sysctls: {},
    ...overrides,
  };
}
const mount = (mounts: Mount[], destination: string) => mounts.filter((m) => m.destination === destination);
const only = (mounts: Mount[], destination: string): Mount => {
  const found = mount(mounts, destination);
  assert.equal(found.length, 1, `one mount on ${destination}`);
  return found[0] as Mount;
};

describe('buildSpec', () => {
  test('the process, root, hostname and version', () => {
    const spec = buildSpec(input({ terminal: true, cwd: '/app', noNewPrivileges: true }));
    assert.equal(spec.ociVersion, OCI_VERSION);
    assert.deepEqual(spec.root, { path: '/var/lib/gantry/rootfs/c0ffee', readonly: false });
    assert.equal(spec.hostname, 'c0ffee');
    assert.deepEqual(spec.process.args, ['sh', '-c', 'true']);
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [0, 10] });
    assert.equal(spec.process.terminal, true);
    assert.equal(spec.process.cwd, '/app');
    assert.equal(spec.process.noNewPrivileges, true);
    assert.equal(spec.process.oomScoreAdj, 0);
    assert.equal(spec.linux.cgroupsPath, '/gantry/c0ffee');
    assert.equal(buildSpec(input({ readonlyRootfs: true })).root.readonly, true);
    assert.equal(spec.annotations, undefined);
    assert.deepEqual(buildSpec(input({ annotations: { a: 'b' } })).annotations, { a: 'b' });
  });

  test('Docker’s capabilities in bounding, effective and permitted; none inheritable', () => {
    const caps = buildSpec(input()).process.capabilities;
    assert.deepEqual(caps, {
      bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES], permitted: [...DEFAULT_CAPABILITIES],
    });
    const tweaked = buildSpec(input({ capAdd: ['sys_admin'], capDrop: ['NET_RAW'] })).process.capabilities;
    assert.ok(tweaked?.effective.includes('CAP_SYS_ADMIN') && !tweaked.effective.includes('CAP_NET_RAW'));
    assert.throws(() => buildSpec(input({ capAdd: ['nope'] })), /invalid CapAdd: unknown capability: "CAP_NOPE"/);
  });

  test('namespaces: network joined by path, new with "", absent for host', () => {
    const types = (netns: string) => buildSpec(input({ netns })).linux.namespaces;
    assert.deepEqual(types('/run/netns/x'), [
      { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' },
      { type: 'network', path: '/run/netns/x' },
    ]);
    assert.deepEqual(types('').at(-1), { type: 'network' });
    assert.ok(!types('host').some((n) => n.type === 'network'));
    assert.equal(types('host').length, 5);
  });

  test('default mounts, in order, with Docker’s options', () => {
    const mounts = buildSpec(input()).mounts;
    assert.deepEqual(mounts.map((m) => m.destination), [
      '/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm',
    ]);
    assert.deepEqual(only(mounts, '/proc'), { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
    assert.deepEqual(only(mounts, '/dev').options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
    assert.deepEqual(only(mounts, '/dev/pts').options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
    assert.ok(only(mounts, '/sys').options?.includes('ro'));
    assert.ok(only(mounts, '/sys/fs/cgroup').options?.includes('ro'));
    assert.deepEqual(only(mounts, '/dev/shm'), {
      destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'],
    });
  });

  test('masked and read-only paths, seccomp and the devices cgroup for unprivileged containers', () => {
    const { linux } = buildSpec(input());
    assert.deepEqual(linux.maskedPaths, [...MASKED_PATHS]);
    for (const p of ['/proc/kcore', '/proc/keys', '/sys/firmware', '/proc/sched_debug']) assert.ok(linux.maskedPaths?.includes(p), p);
    assert.deepEqual(linux.readonlyPaths, [...READONLY_PATHS]);
    assert.ok(linux.readonlyPaths?.includes('/proc/sys'));
    assert.equal(linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(linux.devices, []);
    const rules = linux.resources?.devices ?? [];
    assert.deepEqual(rules[0], { allow: false, access: 'rwm' }, 'deny everything first');
    assert.ok(rules.some((r) => r.allow && r.type === 'c' && r.major === 1 && r.minor === 3 && r.access === 'rwm'), '/dev/null');
    assert.ok(rules.some((r) => r.allow && r.type === 'c' && r.major === 136 && r.minor === undefined), 'ptys');
    assert.ok(rules.some((r) => r.allow && r.type === 'b' && r.major === undefined && r.access === 'm'), 'mknod b *:*');
    assert.ok(!rules.some((r) => r.allow && r.type === 'b' && r.access?.includes('r')), 'no block device is readable');
    assert.equal(buildSpec(input({ seccomp: false })).linux.seccomp, undefined, '--security-opt seccomp=unconfined');
  });

  test('privileged lifts masks, read-only /sys and cgroups, seccomp and the device rules', () => {
    const hostDevices = [{ type: 'c' as const, path: '/dev/kvm', major: 10, minor: 232, fileMode: 0o660, uid: 0, gid: 0 }];
    const spec = buildSpec(input({ privileged: true, hostDevices }));
    assert.deepEqual(spec.linux.maskedPaths, []);
    assert.deepEqual(spec.linux.readonlyPaths, []);
    assert.equal(spec.linux.seccomp, undefined);
    assert.ok(!only(spec.mounts, '/sys').options?.includes('ro'));
    assert.ok(!only(spec.mounts, '/sys/fs/cgroup').options?.includes('ro'));
    assert.deepEqual(spec.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
    assert.deepEqual(spec.linux.devices, hostDevices);
    assert.deepEqual(spec.process.capabilities?.bounding, [...availableCapabilities()]);
  });

  test('binds: rbind, ro or rw, rprivate unless a propagation is given; parents first', () => {
    const spec = buildSpec(input({
      mounts: [
        { type: 'bind', source: '/srv/data/logs', destination: '/data/logs/', readOnly: true },
        { type: 'bind', source: '/srv/data', destination: '/data', readOnly: false, options: ['rshared'] },
        { type: 'bind', source: '/etc/gantry/hosts', destination: '/etc/hosts', readOnly: false, options: ['bind'] },
      ],
    }));
    const user = spec.mounts.slice(7);
    assert.deepEqual(user, [
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rw', 'rshared'] },
      { destination: '/data/logs', type: 'bind', source: '/srv/data/logs', options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: '/etc/gantry/hosts', options: ['bind', 'rw', 'rprivate'] },
    ]);
  });

  test('tmpfs: noexec,nosuid,nodev,rprivate, then the user’s options, which win', () => {
    const spec = buildSpec(input({
      mounts: [{ type: 'tmpfs', source: 'tmpfs', destination: '/run', readOnly: false, options: ['exec', 'size=65536k', 'mode=1770'] }],
    }));
    assert.deepEqual(only(spec.mounts, '/run'), {
      destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'rprivate', 'exec', 'size=65536k', 'mode=1770'],
    });
    assert.throws(
      () => buildSpec(input({ mounts: [{ type: 'tmpfs', source: 'tmpfs', destination: '/x', readOnly: false, options: ['bogus=1'] }] })),
      (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === 'invalid tmpfs option "bogus"',
    );
  });

  test('a user mount replaces the default on the same destination; one on /dev replaces all of /dev/*', () => {
    const shm = buildSpec(input({ mounts: [{ type: 'tmpfs', source: 'tmpfs', destination: '/dev/shm', readOnly: false, options: ['size=1g'] }] }));
    assert.deepEqual(only(shm.mounts, '/dev/shm').options, ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1g']);
    assert.equal(only(shm.mounts, '/dev/shm').source, 'tmpfs');
    const dev = buildSpec(input({ mounts: [{ type: 'bind', source: '/dev', destination: '/dev', readOnly: false }] }));
    assert.deepEqual(dev.mounts.map((m) => m.destination), ['/proc', '/sys', '/sys/fs/cgroup', '/dev']);
  });

  test('memory: swap defaults to twice the memory, -1 is unlimited, explicit values pass through', () => {
    const mem = (memory: number, memorySwap: number, extra: Partial<SpecInput['resources']> = {}) =>
      buildSpec(input({ resources: { ...input().resources, memory, memorySwap, ...extra } })).linux.resources?.memory;
    assert.deepEqual(mem(0, 0), undefined);
    assert.deepEqual(mem(100 << 20, 0), { limit: 100 << 20, swap: 200 << 20 });
    assert.deepEqual(mem(100 << 20, -1), { limit: 100 << 20, swap: -1 });
    assert.deepEqual(mem(100 << 20, 150 << 20), { limit: 100 << 20, swap: 150 << 20 });
    assert.deepEqual(mem(0, 0, { memoryReservation: 50 << 20, oomKillDisable: true }), { reservation: 50 << 20, disableOOMKiller: true });
  });

  test('cpu and pids limits, omitted when unset', () => {
    const none = buildSpec(input()).linux.resources;
    assert.equal(none?.cpu, undefined);
    assert.equal(none?.pids, undefined);
    const r = buildSpec(input({
      resources: { ...input().resources, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 512, cpusetCpus: '0-1', pidsLimit: 100 },
    })).linux.resources;
    assert.deepEqual(r?.cpu, { shares: 512, quota: 50000, period: 100000, cpus: '0-1' });
    assert.deepEqual(r?.pids, { limit: 100 });
  });

  test('ulimits: RLIMIT_ names, last one wins, -1 is infinity, bad names and soft > hard refused', () => {
    const spec = buildSpec(input({
      ulimits: [
        { name: 'nofile', soft: 1024, hard: 2048 },
        { name: 'memlock', soft: -1, hard: -1 },
        { name: 'nofile', soft: 4096, hard: 8192 },
      ],
    }));
    assert.deepEqual(spec.process.rlimits, [
      { type: 'RLIMIT_NOFILE', soft: 4096, hard: 8192 },
      { type: 'RLIMIT_MEMLOCK', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    ]);
    assert.match(specToJson(spec), /"hard": 18446744073709551615,\s+"soft": 18446744073709551615\s/);
    assert.throws(
      () => buildSpec(input({ ulimits: [{ name: 'as', soft: 1, hard: 1 }] })),
      (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === 'invalid ulimit type: as',
    );
    assert.throws(() => buildSpec(input({ ulimits: [{ name: 'nproc', soft: 10, hard: 5 }] })), /soft limit must be less than or equal to hard limit/);
    assert.throws(() => buildSpec(input({ ulimits: [{ name: 'nproc', soft: -1, hard: 5 }] })), /soft limit must be/);
  });

  test('sysctls are copied; specToJson round-trips', () => {
    const spec = buildSpec(input({ sysctls: { 'net.ipv4.ip_forward': '1' } }));
    assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
    assert.deepEqual(JSON.parse(specToJson(spec)), JSON.parse(JSON.stringify(spec)));
  });
});

describe('mergeTmpfsOptions', () => {
  test('later options win in their place; defaults dropped; propagations are one setting', () => {
    assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'size=1m', 'defaults', 'exec', 'size=2m']), ['nosuid', 'exec', 'size=2m']);
    assert.deepEqual(mergeTmpfsOptions(['rprivate', 'rshared', 'ro', 'rw']), ['rshared', 'rw']);
    assert.throws(() => mergeTmpfsOptions(['nosuch']), /invalid tmpfs option "nosuch"/);
  });
});
