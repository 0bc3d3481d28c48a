/**
 * Isolation and security defaults, seen from inside containers, as Docker's: own PID 1 and
 * hostname, Docker's 14 default capabilities, the default seccomp profile, masked and
 * read-only /proc and /sys paths, --privileged lifting them, no-new-privileges, cgroup
 * limits (memory with OOM kill, pids, CPU), ulimits, and the none and host networks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers, inspect } from '../support/containers.js';
import { needsRoot, type Sandbox } from '../support/harness.js';

/** Docker's default capability set (CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP). */
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';

/**
 * A static probe that calls syscalls Docker's default seccomp profile refuses and prints
 * `name=OK` or `name=<errno name>` for each.
 */
const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static void report(const char *name, long r) {
  if (r >= 0) printf("%s=OK\n", name);
  else printf("%s=%s\n", name, errno == EPERM ? "EPERM" : errno == ENOSYS ? "ENOSYS" : errno == EINVAL ? "EINVAL" : "OTHER");
}
int main(void) {
  report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 1));
  report("add_key", syscall(SYS_add_key, "user", "gantry-probe", "x", 1, -2 /* process keyring */));
  report("unshare_user", unshare(CLONE_NEWUSER));
  report("get_mempolicy", syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0));
  return 0;
}
`;

/**
 * x86-64 probes without libc, for the ABIs the seccomp filter tells apart: each makes one
 * getpid call and exits 0 when it returned a PID, 1 otherwise. `x32` uses the x32 ABI (the
 * x86-64 syscall number with bit 30 set), `i386` the 32-bit one (int 0x80).
 */
const ABI_PROBES: Record<string, string> = {
  x32: `.globl _start
_start:
  mov $0x40000027, %rax
  syscall
  xor %edi, %edi
  cmp $0, %rax
  jg 1f
  mov $1, %edi
1:
  mov $60, %eax
  syscall
`,
  i386: `.globl _start
_start:
  mov $20, %eax
  int $0x80
  xor %edi, %edi
  cmp $0, %eax
  jg 1f
  mov $1, %edi
1:
  mov $60, %eax
  syscall
`,
};

describe('container isolation and security defaults', { skip: needsRoot }, () => {
  let sb: Sandbox;
  /** The compiled probe, or undefined when there is no C compiler. */
  let probe: string | undefined;

  before(async () => {
    sb = await busyboxSandbox('gantry-e2e-security-');
    const src = join(sb.root, 'probe.c');
    writeFileSync(src, PROBE_C);
    const cc = spawnSync('cc', ['-static', '-O1', '-o', join(sb.root, 'probe'), src], { encoding: 'utf8' });
    if (cc.status === 0) probe = join(sb.root, 'probe');
  });
  after(() => destroyWithContainers(sb));

  /** Runs `sh -c script` in a new container (removed afterwards); returns exit code and output. */
  async function sh(flags: string[], script: string) {
    return sb.run(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
  }
  /** The value of one /proc/self/status field inside a container with these flags. */
  async function status(flags: string[], field: string): Promise<string> {
    const r = await sh(flags, `grep '^${field}:' /proc/self/status`);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.replace(`${field}:`, '').trim();
  }

  it('the container has its own PID namespace: its command is PID 1 and it sees only its processes', async () => {
    const r = await sh([], 'echo $$; ps -o pid,args | tail -n +2');
    assert.equal(r.code, 0, r.stderr);
    const [pid1, ...procs] = r.stdout.trim().split('\n');
    assert.equal(pid1, '1');
    assert.ok(procs.length <= 3, `sees only its own processes:\n${r.stdout}`);
    assert.match(procs[0] as string, /^\s*1 sh -c /);
  });

  it('the container has its own hostname (UTS namespace)', async () => {
    const r = await sh(['-h', 'inner'], 'hostname; cat /proc/sys/kernel/hostname');
    assert.equal(r.stdout, 'inner\ninner\n', r.stderr);
    assert.notEqual(hostname(), 'inner', 'the host keeps its hostname');
    const def = await sh([], 'hostname');
    assert.match(def.stdout, /^[a-f0-9]{12}\n$/);
    // Changing it needs CAP_SYS_ADMIN; with it, the change stays inside.
    const denied = await sh([], 'hostname other');
    assert.notEqual(denied.code, 0);
    const changed = await sh(['--cap-add', 'SYS_ADMIN'], 'hostname changed-inside && hostname');
    assert.equal(changed.stdout, 'changed-inside\n', changed.stderr);
    assert.notEqual(hostname(), 'changed-inside', 'the host keeps its hostname');
  });

  it('the default capability set is Docker\'s 14; --cap-add, --cap-drop ALL and --privileged change it', async () => {
    assert.equal(await status([], 'CapEff'), DOCKER_DEFAULT_CAPS);
    assert.equal(await status([], 'CapBnd'), DOCKER_DEFAULT_CAPS);
    assert.equal(await status(['--cap-drop', 'ALL'], 'CapEff'), '0000000000000000');
    assert.equal(await status(['--cap-add', 'NET_ADMIN'], 'CapEff'), '00000000a80435fb');
    assert.equal(await status(['--cap-drop', 'CHOWN', '--cap-drop', 'cap_kill'], 'CapEff'), '00000000a80425da');
    // --privileged: every capability the host has.
    const host = /^CapBnd:\s+(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    assert.equal(await status(['--privileged'], 'CapEff'), host);
  });

  it('mount fails without CAP_SYS_ADMIN, and works with --privileged or --cap-add SYS_ADMIN', async () => {
    const script = 'mkdir -p /m; mount -t tmpfs none /m && grep -c " /m tmpfs " /proc/mounts';
    const denied = await sh([], script);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /permission denied|Operation not permitted/i);
    const privileged = await sh(['--privileged'], script);
    assert.deepEqual([privileged.code, privileged.stdout], [0, '1\n'], privileged.stderr);
    const sysAdmin = await sh(['--cap-add', 'SYS_ADMIN'], script);
    assert.deepEqual([sysAdmin.code, sysAdmin.stdout], [0, '1\n'], sysAdmin.stderr);
  });

  it('a seccomp filter is on by default and off under --privileged or seccomp=unconfined', async () => {
    assert.equal(await status([], 'Seccomp'), '2');
    assert.equal(await status(['--privileged'], 'Seccomp'), '0');
    assert.equal(await status(['--security-opt', 'seccomp=unconfined'], 'Seccomp'), '0');
    // unshare(CLONE_NEWUSER) needs no capability: only seccomp refuses it.
    const denied = await sh([], 'unshare -U true');
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Operation not permitted/);
    const allowed = await sh(['--security-opt', 'seccomp=unconfined'], 'unshare -U true');
    assert.equal(allowed.code, 0, allowed.stderr);
  });

  it('the seccomp profile refuses keyctl, add_key, unshare and NUMA calls with EPERM, as Docker\'s', async (t) => {
    if (!probe) {
      t.skip('needs a C compiler with static libc');
      return;
    }
    const run = async (flags: string[]) => {
      const r = await sb.run(['run', '--rm', ...flags, '-v', `${probe}:/probe:ro`, 'busybox', '/probe']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    assert.equal(await run([]), 'keyctl=EPERM\nadd_key=EPERM\nunshare_user=EPERM\nget_mempolicy=EPERM\n');
    const unconfined = await run(['--security-opt', 'seccomp=unconfined']);
    assert.doesNotMatch(unconfined, /=EPERM/, unconfined);
    const privileged = await run(['--privileged']);
    assert.doesNotMatch(privileged, /=EPERM/, privileged);
  });

  it('x32-ABI calls kill the process (the filter leaves x32 out); 32-bit x86 calls are filtered like native ones', async (t) => {
    if (process.arch !== 'x64') {
      t.skip('x86-64 only');
      return;
    }
    const built: Record<string, string> = {};
    for (const [abi, asm] of Object.entries(ABI_PROBES)) {
      const src = join(sb.root, `${abi}.S`);
      writeFileSync(src, asm);
      const out = join(sb.root, abi);
      // No libc is linked: gcc and binutils, which the set-up installs, are all it takes.
      const cc = spawnSync('cc', ['-nostdlib', '-static', '-o', out, src], { encoding: 'utf8' });
      assert.equal(cc.status, 0, `cc ${abi}.S: ${cc.stderr || String(cc.error)}`);
      built[abi] = out;
    }
    const run = (abi: string, flags: string[] = []) => sb.run(['run', '--rm', ...flags, '-v', `${built[abi]}:/probe:ro`, 'busybox', '/probe']);
    // SIGSYS (31): libseccomp's bad-arch action. Unconfined, the kernel answers (ENOSYS where
    // it was built without x32, as Debian's are by default): an ordinary exit either way.
    assert.equal((await run('x32')).code, 128 + 31);
    assert.ok([0, 1].includes((await run('x32', ['--security-opt', 'seccomp=unconfined'])).code));
    const i386 = spawnSync(built.i386 ?? '', []);
    if (i386.status !== 0) {
      t.diagnostic('this kernel runs no 32-bit code (no IA32 emulation): the i386 half is not checked');
      return;
    }
    assert.equal((await run('i386')).code, 0);
  });

  it('/proc and /sys paths are masked or read-only as in Docker; --privileged lifts both', async () => {
    const maskedFiles = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/latency_stats', '/proc/timer_stats'].filter((p) => existsSync(p));
    const maskedDirs = ['/proc/acpi', '/proc/scsi', '/proc/asound', '/sys/firmware'].filter((p) => existsSync(p));
    const readOnly = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys'].filter((p) => existsSync(p));
    assert.ok(maskedFiles.includes('/proc/keys') && maskedDirs.includes('/sys/firmware'));
    const script = [
      ...maskedFiles.map((f) => `if [ -c ${f} ]; then echo "${f}=null"; else echo "${f}=$(wc -c < ${f})"; fi`),
      ...maskedDirs.map((d) => `echo "${d}=$(ls -A ${d} | wc -l)"`),
      ...readOnly.map((p) => `awk '$5 == "${p}" { split($6, o, ","); print "${p}=" o[1] }' /proc/self/mountinfo`),
      'echo x > /proc/sys/kernel/domainname; echo "write=$?"',
    ].join('; ');
    const def = await sh([], script);
    const expected = [
      ...maskedFiles.map((f) => `${f}=null`),
      ...maskedDirs.map((d) => `${d}=0`),
      ...readOnly.map((p) => `${p}=ro`),
      'write=1',
    ];
    assert.deepEqual(def.stdout.trim().split('\n'), expected, def.stdout + def.stderr);
    assert.match(def.stderr, /Read-only file system/);
    // /sys/firmware is an empty, read-only tmpfs.
    const fw = await sh([], 'grep " /sys/firmware " /proc/self/mounts; touch /sys/firmware/x');
    assert.match(fw.stdout, /^tmpfs \/sys\/firmware tmpfs ro[, ]/);
    assert.notEqual(fw.code, 0);

    const priv = await sh(['--privileged'], script);
    const out = priv.stdout.trim().split('\n');
    assert.ok(!out.includes('/proc/keys=null'), `/proc/keys not masked under --privileged:\n${priv.stdout}`);
    assert.ok(!out.includes('/sys/firmware=0'), `firmware visible under --privileged:\n${priv.stdout}`);
    assert.ok(!out.some((l) => l.endsWith('=ro')), `nothing read-only under --privileged:\n${priv.stdout}`);
    assert.ok(out.includes('write=0'), priv.stdout + priv.stderr);
  });

  it('--security-opt no-new-privileges sets NoNewPrivs', async () => {
    assert.equal(await status([], 'NoNewPrivs'), '0');
    assert.equal(await status(['--security-opt', 'no-new-privileges'], 'NoNewPrivs'), '1');
    assert.equal(await status(['--security-opt', 'no-new-privileges=true'], 'NoNewPrivs'), '1');
    assert.equal(await status(['--security-opt', 'no-new-privileges:true'], 'NoNewPrivs'), '1');
  });

  it('a memory limit OOM-kills a process that exceeds it: exit 137, OOMKilled true', async (t) => {
    t.after(() => sb.run(['rm', '-f', 'oom', 'no-oom']).then(() => undefined));
    const r = await sb.run(['run', '--name', 'oom', '--memory', '16m', 'busybox', 'sh', '-c', 'tail /dev/zero']);
    assert.equal(r.code, 137, r.stderr);
    const c = await inspect(sb, 'oom');
    assert.equal(c.State.OOMKilled, true);
    assert.equal(c.State.ExitCode, 137);
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.HostConfig.Memory, 16 * 1024 * 1024);
    // A run within the limit is not OOM-killed.
    const fine = await sb.run(['run', '--name', 'no-oom', '--memory', '16m', 'busybox', 'sh', '-c', 'head -c 1000000 /dev/zero | wc -c']);
    assert.deepEqual([fine.code, fine.stdout], [0, '1000000\n']);
    assert.equal((await inspect(sb, 'no-oom')).State.OOMKilled, false);
    // Docker allows as much swap as memory unless told otherwise.
    assert.equal(c.HostConfig.MemorySwap, 32 * 1024 * 1024);
  });

  it('--pids-limit limits forks', async () => {
    // NOTE: runc's init (a Go program) counts its threads against the limit before it execs the
    // command; a limit of 5 made it fail now and then on a busy machine.
    const r = await sh(['--pids-limit', '12'], 'for i in $(seq 20); do sleep 1 & done; wait; echo done');
    assert.match(r.stderr, /can't fork: Resource temporarily unavailable/);
    const max = await sh(['--pids-limit', '12'], 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max');
    assert.equal(max.stdout, '12\n', max.stderr);
    const c = (await sb.ok(['create', '--pids-limit', '5', 'busybox'])).stdout.trim();
    assert.equal((await inspect(sb, c)).HostConfig.PidsLimit, 5);
    await sb.ok(['rm', c]);
  });

  it('--cpus sets NanoCpus and the CFS quota', async () => {
    const id = (await sb.ok(['create', '--cpus', '0.5', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max'])).stdout.trim();
    assert.equal((await inspect(sb, id)).HostConfig.NanoCpus, 500_000_000);
    const r = await sb.run(['start', '-a', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(['50000\n100000\n', '50000 100000\n'].includes(r.stdout), r.stdout);
    await sb.ok(['rm', id]);
  });

  it('--ulimit sets soft and hard limits', async () => {
    const r = await sh(['--ulimit', 'nofile=100:200'], 'ulimit -n; ulimit -Hn');
    assert.deepEqual([r.code, r.stdout], [0, '100\n200\n'], r.stderr);
  });

  it('--network none has only lo; --network host sees the host\'s interfaces', async () => {
    const names = (dev: string) =>
      dev
        .split('\n')
        .slice(2)
        .map((l) => l.split(':')[0]?.trim())
        .filter(Boolean)
        .sort();
    const none = await sh(['--network', 'none'], 'cat /proc/net/dev');
    assert.deepEqual(names(none.stdout), ['lo']);
    // Other test files start and remove containers meanwhile, and with them veths and
    // bridges: the container must see every interface the host had both before and after.
    const before = names(readFileSync('/proc/net/dev', 'utf8'));
    const host = await sh(['--network', 'host'], 'cat /proc/net/dev');
    const after = names(readFileSync('/proc/net/dev', 'utf8'));
    const stable = before.filter((n) => after.includes(n));
    assert.ok(stable.some((n) => n !== 'lo'), `the host has interfaces besides lo: ${stable.join(' ')}`);
    assert.deepEqual(stable.filter((n) => !names(host.stdout).includes(n)), [], host.stdout);
    const hn = await sh(['--network', 'host'], 'hostname');
    assert.equal(hn.stdout, `${hostname()}\n`, 'the host network uses the host\'s hostname');
  });
});
