/**
 * Docker's rules that the container service applies: the daemon's checks of a HostConfig, the
 * restart policy's verdict, signal names, and the exit code of a failed start.
 */
import { readFileSync } from 'node:fs';
import type { HostConfig } from '../core/container-types.js';
import { errors } from '../core/errors.js';
import type { ContainerRecord } from './container-store.js';

/** Exit codes of a failed start, by Docker's rules on the runtime's message. */
export function startFailureExitCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file/i.test(message)) return 127;
  if (/permission denied|exec format error|not a directory|is a directory/i.test(message)) return 126;
  return 125;
}

/** The daemon-side checks Docker makes on a HostConfig. */
export function validateHostConfig(host: HostConfig): void {
  const policy = host.RestartPolicy?.Name ?? '';
  if (host.AutoRemove && policy !== '' && policy !== 'no') {
    throw errors.invalid('conflicting options: cannot specify both --restart and --rm');
  }
  if (host.Memory && host.Memory > 0 && host.Memory < 6 * 1024 * 1024) throw errors.invalid('Minimum memory limit allowed is 6MB');
  if (host.MemorySwap && host.MemorySwap > 0 && host.Memory && host.MemorySwap < host.Memory) {
    throw errors.invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (host.NanoCpus) {
    const cpus = cpuCount();
    if (host.NanoCpus < 0 || host.NanoCpus > cpus * 1e9) {
      throw errors.invalid(`Range of CPUs is from 0.01 to ${cpus.toFixed(2)}, as there are only ${cpus} CPUs available`);
    }
  }
  if (host.PidsLimit !== undefined && host.PidsLimit !== null && host.PidsLimit < -1) {
    throw errors.invalid(`invalid pids-limit: ${host.PidsLimit}`);
  }
  const net = host.NetworkMode ?? 'default';
  if (net.startsWith('container:') && net.length === 'container:'.length) throw errors.invalid('invalid network mode: container: needs a container name or ID');
}

function cpuCount(): number {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length || 1;
  } catch {
    return 1;
  }
}

/**
 * The restart policy's verdict on an exit: a delay in ms before starting again, or
 * undefined. Docker's back-off: 100 ms, doubling per restart, at most a minute.
 */
export function restartDecision(rec: ContainerRecord, exitCode: number): number | undefined {
  if (rec.stoppedByUser) return undefined;
  const policy = rec.spec.hostConfig.RestartPolicy ?? { Name: 'no' };
  let restart = false;
  if (policy.Name === 'always' || policy.Name === 'unless-stopped') restart = true;
  else if (policy.Name === 'on-failure') {
    const max = policy.MaximumRetryCount ?? 0;
    restart = exitCode !== 0 && (max <= 0 || rec.restartCount < max);
  }
  if (!restart) return undefined;
  const ranMs = Date.now() - Date.parse(rec.startedAt || new Date().toISOString());
  if (ranMs >= 10_000) return 100;
  return Math.min(100 * 2 ** Math.min(rec.restartCount, 10), 60_000);
}

/** A signal as runc wants it: a number, or a name without SIG. */
export function signalName(signal: string): string {
  const s = signal.trim().toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(s)) {
    if (Number(s) < 1 || Number(s) > 64) throw errors.invalid(`Invalid signal: ${signal}`);
    return s;
  }
  if (!/^(HUP|INT|QUIT|ILL|TRAP|ABRT|IOT|BUS|FPE|KILL|USR1|SEGV|USR2|PIPE|ALRM|TERM|STKFLT|CHLD|CONT|STOP|TSTP|TTIN|TTOU|URG|XCPU|XFSZ|VTALRM|PROF|WINCH|IO|POLL|PWR|SYS|RTMIN(\+\d+)?|RTMAX(-\d+)?)$/.test(s)) {
    throw errors.invalid(`Invalid signal: ${signal}`);
  }
  return s;
}

