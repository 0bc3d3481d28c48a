/**
 * The spec builder against the real runc: a busybox root filesystem run with what buildSpec
 * produces, checking hostname, identity, capabilities, seccomp and mount denial from inside.
 * Needs root and runc on PATH.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ALL_CAPABILITIES, availableCapabilities } from '../../src/runtime/capabilities.js';
import { buildSpec, specToJson } from '../../src/runtime/spec.js';
import type { SpecInput } from '../../src/runtime/spec-input.js';
import { resolveUser } from '../../src/runtime/users.js';
import { needsRoot } from '../support/harness.js';

const BUSYBOX = '/bin/busybox';
const hasRunc = spawnSync('runc', ['--version']).status === 0;
const skip = needsRoot || (!hasRunc && 'needs runc on PATH') || (!existsSync(BUSYBOX) && `needs ${BUSYBOX}`);

/** Where each container's cgroup lives: one parent per test run, removed at the end. */
const CGROUP_PARENT = `/gantry-test/${process.pid}-${Date.now().toString(36)}`;

/** What `sh -c` prints for each container: the facts the tests check, one per line. */
const PROBE = [
  'echo "hostname=$(hostname)"',
  'echo "id=$(id)"',
  'grep -E "^(CapEff|Seccomp):" /proc/self/status',
  'mount -t tmpfs none /mnt 2>/dev/null; echo "mount=$?"',
].join('; ');

/** The CapEff line /proc/<pid>/status shows for a capability set. */
const capEff = (caps: readonly string[]) =>
  caps.reduce((m, c) => m | (1n << BigInt(ALL_CAPABILITIES.indexOf(c))), 0n).toString(16).padStart(16, '0');

describe('runc runs what buildSpec produces', { skip }, () => {
  let tmp = '';
  let rootfs = '';
  let n = 0;

  before(() => {
    tmp = mkdtempSync('/var/tmp/gantry-runtime-spec-');
    rootfs = join(tmp, 'rootfs');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'mnt']) mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
    for (const applet of ['sh', 'cat', 'id', 'hostname', 'mount', 'grep', 'echo', 'touch', 'wc', 'ls']) symlinkSync('busybox', join(rootfs, 'bin', applet));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nwheel:x:10:root\nstaff:x:50:app\napp:x:1000:\n');
    mkdirSync(join(tmp, 'shared'));
    writeFileSync(join(tmp, 'shared/hello'), 'hello from the host\n');
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    // runc removes each container's cgroup; remove the parents it created (v1: one per hierarchy).
    const base = '/sys/fs/cgroup';
    const dirs = [base, ...readdirSync(base).map((d) => join(base, d))];
    for (const dir of dirs) {
      for (const p of [join(dir, CGROUP_PARENT), join(dir, '/gantry-test')]) {
        try {
          rmdirSync(p);
        } catch {
          // not there, or still in use by a concurrent run
        }
      }
    }
  });

  /** Runs one container to completion with `runc run` and returns its output. */
  function run(overrides: Partial<SpecInput>): { status: number | null; stdout: string; stderr: string } {
    const id = `gantry-spec-${process.pid}-${++n}`;
    const bundle = join(tmp, id);
    mkdirSync(bundle);
    const spec = buildSpec({
      id,
      rootfs,
      readonlyRootfs: false,
      args: ['sh', '-c', PROBE],
      env: ['PATH=/bin', 'HOME=/root'],
      cwd: '/',
      user: resolveUser(rootfs, ''),
      terminal: false,
      hostname: 'gantry-spec',
      mounts: [],
      netns: 'host',
      cgroupsPath: `${CGROUP_PARENT}/${id}`,
      resources: {
        memory: 64 << 20, memorySwap: 0, memoryReservation: 0, cpuQuota: 0, cpuPeriod: 0, cpuShares: 0, cpusetCpus: '',
        pidsLimit: 100, oomKillDisable: false,
      },
      ulimits: [{ name: 'nofile', soft: 1024, hard: 1024 }],
      capAdd: [],
      capDrop: [],
      privileged: false,
      noNewPrivileges: false,
      seccomp: true,
      shmSize: 64 << 20,
      sysctls: {},
      ...overrides,
    });
    writeFileSync(join(bundle, 'config.json'), specToJson(spec));
    const state = join(tmp, 'state');
    try {
      const r = spawnSync('runc', ['--root', state, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    } finally {
      spawnSync('runc', ['--root', state, 'delete', '--force', id]);
    }
  }

  /** The `key=value` and `Key:\tvalue` lines of the probe's output. */
  const facts = (stdout: string) =>
    Object.fromEntries(stdout.trim().split('\n').map((l) => {
      const m = /^([^=:]+)[=:]\s*(.*)$/.exec(l);
      return m ? [m[1], m[2]] : [l, ''];
    }));

  test('a default container: our hostname, root, Docker’s 14 capabilities, seccomp on, mount denied', () => {
    const r = run({});
    assert.equal(r.status, 0, r.stderr);
    const f = facts(r.stdout);
    assert.equal(f.hostname, 'gantry-spec');
    assert.equal(f.id, 'uid=0(root) gid=0(root) groups=0(root),10(wheel)');
    assert.equal(f.CapEff, '00000000a80425fb');
    assert.equal(f.Seccomp, '2', 'filter mode');
    assert.notEqual(f.mount, '0', 'mount -t tmpfs must fail without CAP_SYS_ADMIN');
  });

  test('a user from the image’s passwd, with its supplementary groups and no capabilities', () => {
    const r = run({ user: resolveUser(rootfs, 'app', ['wheel']) });
    assert.equal(r.status, 0, r.stderr);
    const f = facts(r.stdout);
    assert.equal(f.id, 'uid=1000(app) gid=1000(app) groups=10(wheel),50(staff),1000(app)');
    assert.equal(f.CapEff, '0000000000000000');
  });

  test('--cap-add SYS_ADMIN: mount is allowed by capabilities and seccomp alike', () => {
    const r = run({ capAdd: ['sys_admin'] });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(facts(r.stdout).mount, '0');
  });

  test('read-only rootfs, binds, tmpfs, masked paths, ulimits and the memory limit', () => {
    const script = [
      'touch /x 2>/dev/null; echo "rootfs=$?"',
      'touch /run/x; echo "run=$?"',
      'touch /data/x 2>/dev/null; echo "data=$?"',
      'echo "hello=$(cat /data/hello)"',
      'echo "timer_list=$(wc -c < /proc/timer_list)"',
      'echo "firmware=$(ls -A /sys/firmware | wc -l)"',
      'echo "nofile=$(ulimit -n)"',
      'echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
    ].join('; ');
    const r = run({
      args: ['sh', '-c', script],
      readonlyRootfs: true,
      mounts: [
        { type: 'tmpfs', source: 'tmpfs', destination: '/run', readOnly: false, options: ['size=1m'] },
        { type: 'bind', source: join(tmp, 'shared'), destination: '/data', readOnly: true },
      ],
    });
    assert.equal(r.status, 0, r.stderr);
    const f = facts(r.stdout);
    assert.notEqual(f.rootfs, '0', 'the root filesystem is read-only');
    assert.equal(f.run, '0', 'the tmpfs is writable');
    assert.notEqual(f.data, '0', 'the bind is read-only');
    assert.equal(f.hello, 'hello from the host');
    assert.equal(f.timer_list, '0', '/proc/timer_list is masked (a file: /dev/null over it)');
    assert.equal(f.firmware, '0', '/sys/firmware is masked (a directory: an empty tmpfs over it)');
    assert.equal(f.nofile, '1024');
    assert.equal(f.memory, String(64 << 20));
  });

  test('privileged: every capability, no seccomp, mount works', () => {
    const r = run({ privileged: true });
    assert.equal(r.status, 0, r.stderr);
    const f = facts(r.stdout);
    assert.equal(f.CapEff, capEff(availableCapabilities()));
    assert.equal(f.Seccomp, '0');
    assert.equal(f.mount, '0');
  });
});
