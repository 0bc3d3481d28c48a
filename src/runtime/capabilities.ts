/**
 * Linux capabilities and Docker's rules for `--cap-add`, `--cap-drop` and `--privileged`
 * (moby daemon/pkg/oci/caps: DefaultCapabilities, NormalizeLegacyCapabilities, TweakCapabilities).
 * https://man7.org/linux/man-pages/man7/capabilities.7.html
 */
import { readFileSync } from 'node:fs';
import { errors } from '../core/errors.js';

/** Every capability Linux defines, indexed by its number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** The capabilities a Docker container gets by default, in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** The magic name that means every capability in `--cap-add` / `--cap-drop`. */
const ALL = 'ALL';

let available: readonly string[] | undefined;

/** The capabilities in a /proc/<pid>/status hex mask, in kernel order. */
function fromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

/** What this kernel supports: the capabilities numbered up to /proc/sys/kernel/cap_last_cap. */
function kernelCapabilities(): readonly string[] {
  const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  return Number.isSafeInteger(n) && n >= 0 ? ALL_CAPABILITIES.slice(0, n + 1) : ALL_CAPABILITIES;
}

/**
 * The capabilities containers can have here: those of gantry's own effective set (CapEff in
 * /proc/self/status), as Docker's caps.GetAllCapabilities, since runc cannot grant what it does
 * not hold (in a user namespace or a sandbox that dropped some, this is fewer than the kernel's).
 * Falls back to the kernel's list (/proc/sys/kernel/cap_last_cap), then to every capability
 * gantry knows. Read once and cached.
 */
export function availableCapabilities(): readonly string[] {
  if (available) return available;
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    available = hex === undefined ? kernelCapabilities() : fromMask(hex);
  } catch {
    try {
      available = kernelCapabilities();
    } catch {
      // NOTE: no /proc at all: runc drops the capabilities the kernel lacks (with a warning).
      available = ALL_CAPABILITIES;
    }
  }
  return available;
}

/**
 * Docker's spelling of a capability: upper case with the CAP_ prefix ("net_admin" →
 * "CAP_NET_ADMIN"); "all" in any case stays "ALL". Does not check that the name exists.
 */
export function normalizeCapability(name: string): string {
  const upper = name.toUpperCase();
  if (upper === ALL) return ALL;
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** Normalizes a `--cap-add`/`--cap-drop` list, rejecting names that are unknown or not available here. */
function normalizeList(names: readonly string[], field: 'CapAdd' | 'CapDrop', usable: readonly string[]): string[] {
  return names.map((name) => {
    const cap = normalizeCapability(name);
    if (cap === ALL || usable.includes(cap)) return cap;
    if (ALL_CAPABILITIES.includes(cap)) {
      const why = 'capability not supported by your kernel or not available in the current environment';
      throw errors.invalid(`invalid ${field}: ${why}: ${JSON.stringify(cap)}`);
    }
    throw errors.invalid(`invalid ${field}: unknown capability: ${JSON.stringify(cap)}`);
  });
}

/**
 * The container's capability set from Docker's defaults, `--cap-add`, `--cap-drop` and
 * `--privileged`, by moby's TweakCapabilities:
 *  - privileged: every capability available here ({@link availableCapabilities});
 *  - `--cap-add ALL`: every capability except those dropped;
 *  - `--cap-drop ALL`: exactly the added ones;
 *  - otherwise the defaults minus the dropped, plus the added.
 * Names are validated in every case (as Docker does at create), CapAdd first. The result has
 * no duplicates. `usable` is for tests; it defaults to {@link availableCapabilities}.
 */
export function effectiveCapabilities(
  add: readonly string[],
  drop: readonly string[],
  privileged: boolean,
  usable: readonly string[] = availableCapabilities(),
): string[] {
  const capAdd = normalizeList(add, 'CapAdd', usable);
  const capDrop = normalizeList(drop, 'CapDrop', usable);
  if (privileged) return [...usable];
  let caps: string[];
  if (capAdd.includes(ALL)) caps = usable.filter((c) => !capDrop.includes(c));
  else if (capDrop.includes(ALL)) caps = capAdd;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
  return [...new Set(caps)];
}
