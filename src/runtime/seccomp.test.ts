import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.js';
import type { LinuxSeccomp } from './oci-runtime-types.js';
import { defaultSeccomp } from './seccomp.js';

/** The system calls allowed without argument checks. */
const unconditional = (p: LinuxSeccomp) =>
  p.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names);
const allowedWithArgs = (p: LinuxSeccomp, name: string) =>
  p.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && s.args && s.names.includes(name));

const defaults = defaultSeccomp(new Set(DEFAULT_CAPABILITIES), 'x64');
const withAdmin = defaultSeccomp(new Set([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']), 'x64');

describe('default seccomp profile', () => {
  test('denies with EPERM by default, for x86_64 and 32-bit x86 (not x32)', () => {
    assert.equal(defaults.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(defaults.defaultErrnoRet, 1);
    assert.deepEqual(defaults.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    assert.deepEqual(defaultSeccomp(new Set(), 'arm64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.deepEqual(defaultSeccomp(new Set(), 'mips').architectures, []);
  });

  test('the everyday calls are allowed, x86-only ones only on x86', () => {
    const names = new Set(unconditional(defaults));
    for (const n of ['read', 'write', 'openat', 'execve', 'exit_group', 'futex', 'clock_gettime', 'arch_prctl', 'ptrace']) {
      assert.ok(names.has(n), n);
    }
    assert.ok(!unconditional(defaultSeccomp(new Set(), 'arm64')).includes('arch_prctl'));
    assert.ok(unconditional(defaultSeccomp(new Set(), 'arm64')).includes('set_tls'));
  });

  test('dangerous calls are not allowed with Docker’s default capabilities', () => {
    const names = new Set(unconditional(defaults));
    for (const n of [
      'keyctl', 'add_key', 'request_key', 'kexec_load', 'kexec_file_load', 'bpf', 'mount', 'umount2', 'unshare', 'setns',
      'open_by_handle_at', 'perf_event_open', 'userfaultfd', 'reboot', 'init_module', 'swapon', 'acct', 'clone3',
      'clone', 'personality', 'socket', 'pivot_root', 'syslog', 'settimeofday', 'iopl', 'vhangup', 'kcmp',
    ]) {
      assert.ok(!names.has(n), n);
    }
    // chroot needs CAP_SYS_CHROOT, which Docker grants by default.
    assert.ok(names.has('chroot'));
  });

  test('each allowed name appears once, in one unconditional rule', () => {
    for (const caps of [new Set<string>(), new Set(DEFAULT_CAPABILITIES), new Set(ALL_CAPABILITIES)]) {
      const names = unconditional(defaultSeccomp(caps, 'x64'));
      assert.equal(new Set(names).size, names.length);
      assert.equal(defaultSeccomp(caps, 'x64').syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).length, 1);
    }
  });

  test('CAP_SYS_ADMIN unlocks mount, unshare, setns, bpf, clone and clone3', () => {
    const names = new Set(unconditional(withAdmin));
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'clone', 'clone3', 'sethostname', 'syslog']) {
      assert.ok(names.has(n), n);
    }
    assert.deepEqual(allowedWithArgs(withAdmin, 'clone'), [], 'no masked clone rule once clone is allowed');
    assert.ok(!withAdmin.syscalls.some((s) => s.names.includes('clone3') && s.action === 'SCMP_ACT_ERRNO'));
  });

  test('other capabilities unlock their calls', () => {
    const cases: [string, string[]][] = [
      ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise']],
      ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
      ['CAP_SYS_BOOT', ['reboot']],
      ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
      ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
      ['CAP_SYS_NICE', ['mbind', 'set_mempolicy']],
      ['CAP_SYSLOG', ['syslog']],
      ['CAP_SYS_PACCT', ['acct']],
      ['CAP_SYS_TTY_CONFIG', ['vhangup']],
      ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
      ['CAP_BPF', ['bpf']],
      ['CAP_PERFMON', ['perf_event_open']],
    ];
    for (const [cap, calls] of cases) {
      const names = new Set(unconditional(defaultSeccomp(new Set([cap]), 'x64')));
      for (const n of calls) assert.ok(names.has(n), `${cap} → ${n}`);
      assert.ok(!names.has('mount'), `${cap} does not unlock mount`);
    }
  });

  test('clone without namespace flags, clone3 ENOSYS, without CAP_SYS_ADMIN', () => {
    assert.deepEqual(allowedWithArgs(defaults, 'clone').map((s) => s.args), [
      [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    ]);
    const clone3 = defaults.syscalls.filter((s) => s.names.includes('clone3'));
    assert.deepEqual(clone3, [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  });

  test('personality only for the harmless personas; socket for all families but AF_ALG and AF_VSOCK', () => {
    const personas = allowedWithArgs(defaults, 'personality').map((s) => s.args?.[0]?.value).sort((a, b) => (a ?? 0) - (b ?? 0));
    assert.deepEqual(personas, [0, 8, 0x20000, 0x20008, 0xffffffff]);
    const sockets = allowedWithArgs(defaults, 'socket').map((s) => [s.args?.[0]?.op, s.args?.[0]?.value]);
    assert.deepEqual(sockets, [['SCMP_CMP_LT', 38], ['SCMP_CMP_EQ', 39], ['SCMP_CMP_GT', 40]]);
  });
});
