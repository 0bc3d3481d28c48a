/**
 * Helpers of the networking end-to-end tests: a web server container, "outside hosts"
 * (network namespaces the test creates, routed from the host through a veth), and snapshots
 * of the host's links, addresses and iptables rules to prove that nothing is left behind.
 * All traffic stays on this machine: containers, test-made namespaces and 127.0.0.0/8.
 */
import { randomBytes } from 'node:crypto';
import { runCommand, Sandbox } from '../support/harness.js';

/** Runs a command and fails on a non-zero exit. */
export async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await runCommand(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Starts a detached busybox httpd serving `text` at `/` on port 80; returns its ID. */
export async function webServer(sb: Sandbox, args: string[], text: string): Promise<string> {
  const script = `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`;
  return (await sb.ok(['run', '-d', ...args, 'busybox', 'sh', '-c', script])).stdout.trim();
}

/**
 * `wget -qO- URL` from a new container (`--rm`), with a time limit (busybox wget's own -T
 * crashes in Debian's static build): returns the exit code and output.
 */
export async function fetchFrom(sb: Sandbox, args: string[], url: string, seconds = 3): Promise<{ code: number; out: string }> {
  // NOTE: `; exit` keeps sh as PID 1 (it would exec timeout, and PID 1 ignores SIGTERM).
  const r = await sb.run(['run', '--rm', ...args, 'busybox', 'sh', '-c', `timeout ${seconds} wget -qO- ${url}; exit $?`]);
  return { code: r.code, out: r.stdout.trim() };
}

/** A network namespace standing for a host outside, reachable from the host through a veth. */
export class OutsideHost {
  private constructor(
    readonly ns: string,
    /** The namespace's address. */
    readonly ip: string,
    private readonly hostIf: string,
  ) {}

  /** Creates it on 198.18.<n>.0/30 (RFC 2544 benchmarking space) and serves `text` on port 80. */
  static async create(n: number, text: string): Promise<OutsideHost> {
    const tag = randomBytes(3).toString('hex');
    const ns = `gtout-${tag}`;
    const hostIf = `gto${tag}h`;
    const nsIf = `gto${tag}n`;
    const [hostIp, ip] = [`198.18.${n}.1`, `198.18.${n}.2`];
    await sh('ip', ['netns', 'add', ns]);
    const batch = [
      `link add ${hostIf} type veth peer name ${nsIf}`,
      `link set ${nsIf} netns ${ns}`,
      `addr add ${hostIp}/30 dev ${hostIf}`,
      `link set ${hostIf} up`,
      `-n ${ns} addr add ${ip}/30 dev ${nsIf}`,
      `-n ${ns} link set ${nsIf} up`,
      `-n ${ns} link set lo up`,
      `-n ${ns} route add default via ${hostIp}`,
    ];
    for (const line of batch) await sh('ip', line.split(' '));
    await sh('ip', ['netns', 'exec', ns, 'sh', '-c', `mkdir -p /tmp/${ns} && echo ${text} > /tmp/${ns}/index.html && busybox httpd -p 80 -h /tmp/${ns}`]);
    return new OutsideHost(ns, ip, hostIf);
  }

  /** Stops its processes and removes it. */
  async destroy(): Promise<void> {
    const pids = (await runCommand('ip', ['netns', 'pids', this.ns])).stdout.split('\n').filter(Boolean);
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone
      }
    }
    await runCommand('ip', ['link', 'del', this.hostIf]);
    await runCommand('ip', ['netns', 'del', this.ns]);
    await runCommand('rm', ['-rf', `/tmp/${this.ns}`]);
  }
}

/** The host's links, IPv4 addresses and iptables rules, one string per line. */
export async function hostNetworkState(): Promise<{ links: string[]; addrs: string[]; rules: string[] }> {
  const links = (await sh('ip', ['-o', 'link'])).split('\n').map((l) => l.replace(/^\d+: /, '').split(':')[0] ?? '');
  const addrs = (await sh('ip', ['-o', '-4', 'addr'])).split('\n').map((l) => l.replace(/^\d+: /, '').replace(/\s+/g, ' ').replace(/\\.*$/, ''));
  const rules = (await sh('iptables-save', []))
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
  return { links: links.filter(Boolean), addrs: addrs.filter(Boolean), rules: rules.filter(Boolean) };
}

/** Lines of `after` not in `before` that mention one of `marks`. */
export function leftovers(before: string[], after: string[], marks: string[]): string[] {
  const had = new Set(before);
  return after.filter((l) => !had.has(l) && marks.some((m) => l.includes(m)));
}

/**
 * Undoes what deleted state roots left on the host (their default bridges, rules and DNS
 * servers): `network prune` in a throw-away root sweeps them (src/network/orphans.ts).
 */
export async function sweepDeletedRoots(): Promise<void> {
  const tmp = await Sandbox.create('gantry-e2e-sweep-');
  await tmp.run(['network', 'prune', '-f']);
  await tmp.destroy();
}
