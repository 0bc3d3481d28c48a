/**
 * Docker's default seccomp profile (moby/profiles seccomp v0.2.3, default.json), as data of our
 * own: a deny-by-default filter (EPERM) with an allow-list of system calls, more of them unlocked
 * by capabilities the container holds, and argument rules for socket, personality and clone.
 * https://docs.docker.com/engine/security/seccomp/
 *
 * Names that this machine's libseccomp does not know are fine: runc skips them.
 */
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from './oci-runtime-types.js';

const EPERM = 1;
const ENOSYS = 38;

/**
 * Allowed for every container. Includes ptrace, process_vm_readv and process_vm_writev, which
 * Docker allows on kernels >= 4.8 (where seccomp runs after ptrace, so a tracer cannot bypass it).
 */
const ALWAYS: readonly string[] = [
  'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'cachestat', 'capget', 'capset', 'chdir', 'chmod',
  'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime',
  'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'close', 'close_range', 'connect', 'copy_file_range',
  'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait',
  'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit', 'exit_group',
  'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fanotify_mark', 'fchdir', 'fchmod', 'fchmodat',
  'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock',
  'fork', 'fremovexattr', 'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate',
  'ftruncate64', 'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake', 'futimesat',
  'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32',
  'getgroups', 'getgroups32', 'getitimer', 'getpeername', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority',
  'getrandom', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getrlimit', 'get_robust_list', 'getrusage',
  'getsid', 'getsockname', 'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday', 'getuid', 'getuid32', 'getxattr',
  'getxattrat', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'ioctl',
  'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'ioprio_get', 'ioprio_set', 'io_setup',
  'io_submit', 'ipc', 'kill', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'lchown',
  'lchown32', 'lgetxattr', 'link', 'linkat', 'listen', 'listmount', 'listxattr', 'listxattrat', 'llistxattr', '_llseek',
  'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'lstat64', 'madvise', 'map_shadow_stack', 'membarrier',
  'memfd_create', 'memfd_secret', 'mincore', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall',
  'mmap', 'mmap2', 'mprotect', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64',
  'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'mremap', 'mseal', 'msgctl', 'msgget', 'msgrcv', 'msgsnd',
  'msync', 'munlock', 'munlockall', 'munmap', 'name_to_handle_at', 'nanosleep', 'newfstatat', '_newselect', 'open',
  'openat', 'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free',
  'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64', 'prctl', 'pread64', 'preadv', 'preadv2', 'prlimit64',
  'process_mrelease', 'process_vm_readv', 'process_vm_writev', 'pselect6', 'pselect6_time64', 'ptrace', 'pwrite64',
  'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'recv', 'recvfrom', 'recvmmsg',
  'recvmmsg_time64', 'recvmsg', 'remap_file_pages', 'removexattr', 'removexattrat', 'rename', 'renameat', 'renameat2',
  'restart_syscall', 'riscv_hwprobe', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo',
  'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo',
  'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr',
  'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp', 'select', 'semctl', 'semget', 'semop', 'semtimedop',
  'semtimedop_time64', 'send', 'sendfile', 'sendfile64', 'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsgid32',
  'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setitimer', 'setpgid', 'setpriority',
  'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid', 'setreuid32',
  'setrlimit', 'set_robust_list', 'setsid', 'setsockopt', 'set_thread_area', 'set_tid_address', 'setuid', 'setuid32',
  'setxattr', 'setxattrat', 'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4',
  'sigprocmask', 'sigreturn', 'socketcall', 'socketpair', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statmount',
  'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time',
  'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime',
  'timer_settime64', 'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
  'times', 'tkill', 'truncate', 'truncate64', 'ugetrlimit', 'umask', 'uname', 'unlink', 'unlinkat', 'uretprobe',
  'utime', 'utimensat', 'utimensat_time64', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'waitpid', 'write',
  'writev',
];

/** System calls a capability unlocks (Docker's `includes.caps` rules, one capability each). */
const BY_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
    'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount',
    'umount2', 'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** What differs between the architectures gantry runs on. */
interface ArchProfile {
  /** The native architecture first, then the compat ones the kernel also accepts. */
  architectures: string[];
  /** Allowed system calls that exist only there. */
  syscalls: readonly string[];
}

/**
 * Keyed by Node's `process.arch`.
 *
 * NOTE: x64 leaves out SCMP_ARCH_X32, which Docker's profile lists. Without it libseccomp's
 * filter answers every x32-ABI call (a syscall number with bit 30 set) with its bad-arch
 * action, killing the process, where Docker's filters x32 calls like native ones: stricter,
 * and x32 binaries (an ABI no distribution ships images for) do not run. runc compiles the
 * filter on every container start, and each architecture it lists costs there: without x32,
 * 7 ms less of the 13 ms the profile takes (docs/benchmarks.md). 32-bit x86 stays.
 */
const ARCHES: Readonly<Record<string, ArchProfile>> = {
  x64: { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: ['arch_prctl', 'modify_ldt'] },
  arm64: {
    architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
  },
};

const AF_ALG = 38;
const AF_VSOCK = 40;
/** personality(2) values allowed: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (query). */
const PERSONALITIES = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];
/** CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const allowIf = (name: string, arg: LinuxSeccompArg): LinuxSyscall => ({
  names: [name],
  action: 'SCMP_ACT_ALLOW',
  args: [arg],
});

/** Argument-checked rules: socket (every family but AF_ALG and AF_VSOCK) and personality. */
function argumentRules(): LinuxSyscall[] {
  return [
    allowIf('socket', { index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }),
    allowIf('socket', { index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }),
    allowIf('socket', { index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }),
    ...PERSONALITIES.map((p) => allowIf('personality', { index: 0, value: p, op: 'SCMP_CMP_EQ' })),
  ];
}

/**
 * Without CAP_SYS_ADMIN: clone only without namespace flags (its flags are the first argument
 * on x86 and arm), and clone3 fails with ENOSYS, since seccomp cannot inspect its flags (which
 * are behind a pointer) and ENOSYS makes libc fall back to clone.
 */
function cloneRules(caps: ReadonlySet<string>): LinuxSyscall[] {
  if (caps.has('CAP_SYS_ADMIN')) return [];
  return [
    allowIf('clone', { index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
  ];
}

/** Every system call allowed without argument checks, sorted, each once. */
function allowedNames(caps: ReadonlySet<string>, arch: ArchProfile | undefined): string[] {
  const names = new Set([...ALWAYS, ...(arch?.syscalls ?? [])]);
  for (const [cap, unlocked] of Object.entries(BY_CAPABILITY)) {
    if (caps.has(cap)) for (const n of unlocked) names.add(n);
  }
  return [...names].sort();
}

/**
 * Docker's default seccomp profile for a container holding `effectiveCaps` (CAP_* names).
 * `arch` is Node's name of the CPU architecture (x64 or arm64); on any other the filter names
 * no architectures, which runc takes as the native one, and arch-specific calls stay denied.
 */
export function defaultSeccomp(effectiveCaps: ReadonlySet<string>, arch: string = process.arch): LinuxSeccomp {
  const profile = ARCHES[arch];
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: profile ? [...profile.architectures] : [],
    syscalls: [
      { names: allowedNames(effectiveCaps, profile), action: 'SCMP_ACT_ALLOW' },
      ...argumentRules(),
      ...cloneRules(effectiveCaps),
    ],
  };
}
