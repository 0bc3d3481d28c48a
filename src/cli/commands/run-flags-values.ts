/**
 * Per-flag value parsing and validation for `gantry create`/`run` (docker/cli opts/, pkg/kvfile),
 * and the checks Docker's daemon makes on the resulting create body (moby daemon/container.go
 * `verifyContainerSettings`, daemon_unix.go), with the daemon's wording. Used by run-flags.ts.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { RestartPolicy, Ulimit } from '../../core/container-types.js';
import { parseRAMInBytes } from '../format/units.js';
import {
  cleanPath, cut, flagError, GO_BOOL_FALSE, GO_BOOL_TRUE, goQuote, INT64_MAX, INT64_MIN, invalid, parseCsvRecord, parseGoInt,
} from './run-flags-go.js';

/** An int64 flag's value (`--cpu-shares`, `--pids-limit`, ...); undefined when not given. */
export function intFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseGoInt(value);
  } catch (err) {
    throw flagError(flag, value, (err as Error).message);
  }
}

/** A bytes flag (`-m 512m`): go-units RAMInBytes; 0 when not given. */
export function bytesFlag(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  try {
    return parseRAMInBytes(value);
  } catch (err) {
    throw flagError(flag, value, (err as Error).message);
  }
}

/** `--cpus`: docker/cli opts.ParseCPUs (a big.Rat times 1e9, which must be whole). */
export function parseCpus(value: string): number {
  const fail = (cause: string) => flagError('--cpus', value, cause);
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(value);
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/.exec(value);
  if (frac) {
    num = BigInt(frac[1] as string);
    den = BigInt(frac[2] as string);
    if (den === 0n) throw fail(`failed to parse ${value} as a rational number`);
  } else if (dec && ((dec[2] ?? '') + (dec[3] ?? '')).length > 0) {
    const fraction = dec[3] ?? '';
    num = BigInt((dec[2] ?? '') + fraction || '0') * (dec[1] === '-' ? -1n : 1n);
    den = 10n ** BigInt(fraction.length);
    const exp = Number(dec[4] ?? '0');
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  } else {
    throw fail(`failed to parse ${value} as a rational number`);
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw fail('value is too precise');
  return Number(nano / den);
}

// ---------------------------------------------------------------------------------------------
// Per-flag validation (docker/cli opts/).

/** `-a, --attach`: stdin, stdout or stderr (any case), lower-cased. */
export function validateAttach(value: string): string {
  const s = value.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw flagError('-a, --attach', value, 'valid streams are STDIN, STDOUT and STDERR');
}

/** `-e KEY=VAL` as given; `-e KEY` takes the value from `env`, and is dropped when KEY is unset there. */
export function validateEnv(value: string, lookup: (key: string) => string | undefined): string[] {
  const [key, , hasValue] = cut(value, '=');
  if (key === '') throw flagError('-e, --env', value, `invalid environment variable: ${value}`);
  if (hasValue) return [value];
  const found = lookup(key);
  return found === undefined ? [] : [`${key}=${found}`];
}

/** `-l, --label KEY[=VALUE]`: a non-empty KEY without whitespace. */
export function validateLabel(value: string): string {
  const key = cut(value, '=')[0].replace(/^[ \t]+/, '');
  if (key === '') throw flagError('-l, --label', value, `invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw flagError('-l, --label', value, `label '${key}' contains whitespaces`);
  return value;
}

/** `host:ip`, `host=ip`, `host:[v6]` or `host:host-gateway`, normalised to `host:ip` for the API. */
export function validateExtraHost(value: string): string {
  const flag = '--add-host';
  let [k, v, ok] = cut(value, '=');
  if (!ok) [k, v, ok] = cut(value, ':');
  if (!ok || k === '' || k.includes(':')) throw flagError(flag, value, `bad format for add-host: ${goQuote(value)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    if (isIP(v.trim()) === 0) throw flagError(flag, value, `invalid IP address in add-host: ${goQuote(v)}`);
  }
  return `${k}:${v}`;
}

/** `--dns`: an IP address, trimmed. */
export function validateDnsServer(value: string): string {
  const ip = value.trim();
  if (isIP(ip) === 0) throw flagError('--dns', value, `IP address is not correctly formatted: ${value}`);
  return ip;
}

// docker/cli opts.go's domainRegexp, verbatim (its `(:?` groups allow a colon, as Docker's do).
const DOMAIN =
  /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

/** `--dns-search`: a domain name (or `.`), as docker/cli's ValidateDNSSearch returns it. */
export function validateDnsSearch(value: string): string {
  const v = value.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = /[a-zA-Z]/.test(v) ? DOMAIN.exec(v) : null;
  if (m && (m[1] as string).length < 255) return m[1] as string;
  throw flagError('--dns-search', value, `${v} is not a valid domain`);
}

/** Docker allows the namespaced sysctls only: kernel IPC ones, net.*, fs.mqueue.*. */
export function validateSysctl(value: string): [string, string] {
  const [k, v, ok] = cut(value, '=');
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax'];
  const allowed =
    [...ipc, 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.');
  if (!ok || k === '' || !allowed) throw flagError('--sysctl', value, `sysctl '${value}' is not allowed`);
  return [k, v];
}

const ULIMIT_NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio',
  'rttime', 'sigpending', 'stack',
]);

/** go-units ParseUlimit: `name=soft[:hard]`. */
export function parseUlimit(value: string): Ulimit {
  const fail = (cause: string) => flagError('--ulimit', value, cause);
  const [name, limits, ok] = cut(value, '=');
  if (!ok) throw fail(`invalid ulimit argument: ${value}`);
  if (!ULIMIT_NAMES.has(name)) throw fail(`invalid ulimit type: ${name}`);
  const parts = limits.split(':');
  if (parts.length > 2) {
    throw fail(`too many limit value arguments - ${limits}, can only have up to two, \`soft[:hard]\``);
  }
  const parse = (s: string) => {
    if (!/^[+-]?\d+$/.test(s)) throw fail(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
    const n = BigInt(s);
    if (n < INT64_MIN || n > INT64_MAX) throw fail(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
    return Number(n);
  };
  const hard = parts.length === 2 ? parse(parts[1] as string) : undefined;
  const soft = parse(parts[0] as string);
  if (hard !== undefined && hard !== -1) {
    if (soft === -1) {
      throw fail(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    }
    if (soft > hard) throw fail(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Soft: soft, Hard: hard ?? soft };
}

/** `--network NAME` or the long form `name=NAME,alias=A,ip=IP`. */
export function parseNetworkFlag(value: string): { name: string; aliases: string[]; ip?: string } {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return { name: value, aliases: [] };
  let target = '';
  const aliases: string[] = [];
  let ip: string | undefined;
  for (const field of parseCsvRecord(value, '--network')) {
    const [rawKey, rawVal, ok] = cut(field, '=');
    const key = rawKey.trim().toLowerCase();
    if (!ok || key === '') throw flagError('--network', value, `invalid field ${field}`);
    if (key === 'name') target = rawVal.trim();
    else if (key === 'alias') aliases.push(rawVal.trim());
    else if (key === 'ip') ip = rawVal.trim();
    else if (['ip6', 'mac-address', 'link-local-ip', 'driver-opt', 'gw-priority'].includes(key)) {
      throw flagError('--network', value, `network option '${key}' is not supported by gantry yet`);
    } else throw flagError('--network', value, `invalid field key ${key}`);
  }
  if (target === '') throw flagError('--network', value, 'network name/id is not specified');
  return ip === undefined ? { name: target, aliases } : { name: target, aliases, ip };
}

/** `--pull`: always, missing, never (or empty). */
export function validatePull(pull: string | undefined): void {
  if (pull === undefined || ['always', 'missing', 'never', ''].includes(pull)) return;
  throw invalid(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
}

// ---------------------------------------------------------------------------------------------
// Key/value files (docker/cli pkg/kvfile).

/**
 * Reads `--env-file`/`--label-file` files: one KEY=VALUE a line, `#` comments and blank lines
 * skipped, leading whitespace trimmed, a line's KEY without `=` taking its value from `lookup`
 * (dropped without one, and always for label files).
 */
export function readKeyValueFiles(flag: string, files: string[], lookup?: (key: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw invalid(`${flag}: ${goFileError(err, file)}`);
    }
    try {
      out.push(...parseKeyValueLines(data, lookup));
    } catch (err) {
      throw invalid(`${flag}: invalid env file (${file}): ${(err as Error).message}`);
    }
  }
  return out;
}

function parseKeyValueLines(data: Buffer, lookup?: (key: string) => string | undefined): string[] {
  const out: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let lineNo = 1; start < data.length; lineNo++) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    const bytes = data.subarray(start, end > start && data[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new Error(`invalid utf8 bytes at line ${lineNo}: [${[...bytes].join(' ')}]`);
    }
    if (lineNo === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    const line = text.replace(/^[\s\u0085]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const [key, , hasValue] = cut(line, '=');
    if (key === '') throw new Error(`no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`variable '${key}' contains whitespaces`);
    if (hasValue) out.push(line);
    else if (lookup) {
      const value = lookup(line);
      if (value !== undefined) out.push(`${key}=${value}`);
    }
  }
  return out;
}

/** The message Go's os.Open/os.ReadFile would give. */
function goFileError(err: unknown, file: string): string {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
  };
  if (e.code === 'EISDIR') return `read ${file}: is a directory`;
  return `open ${file}: ${(e.code && reasons[e.code]) ?? e.message}`;
}

// ---------------------------------------------------------------------------------------------
// Restart policy, logging, security options.

/** `--restart NAME[:MAX-RETRIES]` into a RestartPolicy (docker/cli opts.ParseRestartPolicy). */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const [name, count, hasCount] = cut(policy, ':');
  if (hasCount && name === '') throw invalid('invalid restart policy format: no policy provided before colon');
  let retries = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count) || BigInt(count) < INT64_MIN || BigInt(count) > INT64_MAX) {
      throw invalid('invalid restart policy format: maximum retry count must be an integer');
    }
    retries = Number(count);
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: retries };
}

/** moby's restart policy check: a known name; retries only with on-failure, never negative. */
export function validateRestartPolicy(policy: RestartPolicy): void {
  const retries = policy.MaximumRetryCount ?? 0;
  switch (policy.Name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (retries !== 0) {
        const negative = retries < 0 ? ' and cannot be negative' : '';
        throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'${negative}`);
      }
      return;
    case 'on-failure':
      if (retries < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw invalid(
        `invalid restart policy: unknown policy '${policy.Name as string}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
      );
  }
}

/** `--log-opt KEY=VALUE` into LogConfig.Config; none with `--log-driver none`. */
export function parseLoggingOpts(driver: string, logOpts: string[]): Record<string, string> {
  if (driver === 'none' && logOpts.length > 0) throw invalid(`invalid logging opts for driver ${driver}`);
  const out: Record<string, string> = {};
  for (const o of logOpts) {
    const [k, v] = cut(o, '=');
    out[k] = v;
  }
  return out;
}

/**
 * `--security-opt`: no-new-privileges[=bool|:bool], seccomp=unconfined|builtin, apparmor=...,
 * label=..., writable-cgroups=bool; kept verbatim (both `=` and the old `:` separator, as
 * Docker's daemon reads them). A seccomp profile file is not supported yet.
 */
export function parseSecurityOpts(securityOpts: string[]): string[] {
  for (const opt of securityOpts) {
    let [k, v, ok] = cut(opt, '=');
    if (!ok && k !== 'no-new-privileges') [k, v, ok] = cut(opt, ':');
    if ((!ok || v === '') && k !== 'no-new-privileges') {
      throw invalid(`invalid --security-opt: ${goQuote(opt)}`);
    }
    switch (k) {
      case 'no-new-privileges':
      case 'writable-cgroups':
        if (ok && !GO_BOOL_TRUE.includes(v) && !GO_BOOL_FALSE.includes(v)) {
          throw invalid(`invalid --security-opt: ${goQuote(opt)}`);
        }
        break;
      case 'seccomp':
        if (v !== 'unconfined' && v !== 'builtin') {
          throw invalid(`seccomp profile files are not supported yet: --security-opt ${goQuote(opt)}`, {
            hint: 'use seccomp=unconfined or leave out the option for the default profile',
          });
        }
        break;
      case 'apparmor':
      case 'label':
        break;
      default:
        throw invalid(`invalid --security-opt: ${goQuote(opt)}`);
    }
  }
  return [...securityOpts];
}

// ---------------------------------------------------------------------------------------------
// Daemon-side checks.

/** `-w, --workdir`: an absolute path, cleaned as the daemon stores it. */
export function validateWorkingDir(dir: string): string {
  if (!dir.startsWith('/')) {
    throw invalid(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  }
  return cleanPath(dir);
}

const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL',
  'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1',
  'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${14 - i}`),
]);

/** moby/sys/signal ParseSignal: a number other than 0, or a name with or without SIG. */
export function validateSignal(sig: string): void {
  if (/^[+-]?\d+$/.test(sig)) {
    if (Number(sig) !== 0) return;
  } else if (SIGNALS.has(sig.toUpperCase().replace(/^SIG/, ''))) return;
  throw invalid(`invalid signal: ${sig}`);
}

const CAPABILITIES = new Set(
  [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
    'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
    'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
    'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
    'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
    'CHECKPOINT_RESTORE',
  ].map((c) => `CAP_${c}`),
);

/** Capability names, case-insensitive, with or without CAP_, or ALL (moby caps.NormalizeLegacyCapabilities). */
export function validateCapabilities(field: 'CapAdd' | 'CapDrop', caps: string[]): void {
  for (const c of caps) {
    const upper = c.toUpperCase();
    if (upper === 'ALL') continue;
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!CAPABILITIES.has(name)) throw invalid(`invalid ${field}: unknown capability: ${goQuote(name)}`);
  }
}

const MIN_MEMORY = 6 * 1024 * 1024;

/** moby verifyPlatformContainerResources: memory and CPU limits. */
export function validateResources(r: {
  memory: number;
  memorySwap: number;
  memoryReservation: number;
  nanoCpus: number;
  cpuPeriod: number;
  cpuQuota: number;
}): void {
  if (r.memory !== 0 && r.memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (r.memory > 0 && r.memorySwap > 0 && r.memorySwap < r.memory) {
    throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.memory === 0 && r.memorySwap > 0) {
    throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (r.memoryReservation > 0 && r.memoryReservation < MIN_MEMORY) {
    throw invalid('Minimum memory reservation allowed is 6MB');
  }
  if (r.memory > 0 && r.memoryReservation > 0 && r.memory < r.memoryReservation) {
    throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.nanoCpus > 0 && r.cpuPeriod > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.nanoCpus > 0 && r.cpuQuota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const cpus = availableParallelism();
  if (r.nanoCpus < 0 || r.nanoCpus > cpus * 1e9) {
    throw invalid(`range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`);
  }
  if (r.cpuPeriod !== 0 && (r.cpuPeriod < 1000 || r.cpuPeriod > 1_000_000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (r.cpuQuota > 0 && r.cpuQuota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
}

/** `--cpuset-cpus`: a list such as `0-3,5` (moby parsers.ParseUintList). */
export function validateCpuset(value: string): void {
  const ok = value.split(',').every((r) => {
    const [lo, hi, isRange] = cut(r, '-');
    if (!isRange || hi === '') return /^[+-]?\d+$/.test(r) && Number(r) >= 0;
    return /^[+-]?\d+$/.test(lo) && /^[+-]?\d+$/.test(hi) && Number(lo) >= 0 && Number(hi) >= Number(lo);
  });
  if (!ok) throw invalid(`Invalid value ${value} for cpuset cpus: invalid format: ${value}`);
}
