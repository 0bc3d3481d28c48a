/**
 * Name resolution on user-defined networks through Debian's aardvark-dns (the DNS server that
 * podman's netavark drives), so that names keep resolving with no gantry process running.
 *
 * aardvark-dns reads one file per network from a directory: the first line lists the
 * addresses to listen on (the bridge's gateway), each further line one container
 * (`id ipv4s ipv6s names [upstream servers]`); SIGHUP makes it re-read them, and it exits
 * by itself when no file is left. It answers a container with the names of every network
 * that container is on (it knows a container by the address the query comes from) and
 * forwards other names to the container's `--dns` servers, else the host's resolv.conf.
 * https://github.com/containers/aardvark-dns/blob/v1.4.0/config.md
 *
 * gantry keeps the directory on the run directory (volatile: gone after a reboot like the
 * server), writes a network's file when its first container attaches and removes it with the
 * last, and makes sure the server runs. Callers hold the network lock.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from '../core/errors.js';

/** Where Debian's package installs it. */
export const AARDVARK_BINARY = '/usr/lib/podman/aardvark-dns';
const PID_FILE = 'aardvark.pid';

/** One container's line. */
export interface DnsEntry {
  containerId: string;
  ipv4: string;
  names: string[];
  /** Upstream servers for this container's other names (`--dns`). */
  upstream: string[];
}

/** One network's file. */
export interface DnsNetwork {
  /** The file name: aardvark's network name (gantry uses the network ID). */
  key: string;
  listen: string;
  entries: DnsEntry[];
}

/** A valid DNS label sequence, as aardvark will be asked for it. */
function dnsName(n: string): boolean {
  return /^[a-zA-Z0-9_]([a-zA-Z0-9_.-]*[a-zA-Z0-9_])?$/.test(n);
}

/** The aardvark-dns server of one run directory. */
export class AardvarkDns {
  constructor(readonly dir: string) {}

  /** Writes (or, with no entries, removes) a network's file and makes the server see it. */
  async update(net: DnsNetwork): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, net.key);
    if (net.entries.length === 0) {
      if (!existsSync(file)) return;
      rmSync(file, { force: true });
    } else {
      const lines = [net.listen];
      for (const e of net.entries) {
        const names = [...new Set(e.names.filter(dnsName))];
        if (names.length === 0) continue;
        lines.push(`${e.containerId} ${e.ipv4}  ${names.join(',')}${e.upstream.length > 0 ? ` ${e.upstream.join(',')}` : ''}`);
      }
      // NOTE: written aside and renamed: aardvark may re-read the directory at any moment.
      writeFileSync(`${file}.tmp`, `${lines.join('\n')}\n`);
      renameSync(`${file}.tmp`, file);
    }
    await this.reload();
  }

  /** The server's pid, if it runs. */
  pid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, PID_FILE), 'utf8').trim());
      if (!(pid > 0)) return undefined;
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      return comm.startsWith('aardvark') ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The networks with a file. */
  networks(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => n !== PID_FILE && !n.endsWith('.tmp'));
    } catch {
      return [];
    }
  }

  /** Starts the server, or tells it to re-read its files; waits until it listens again. */
  private async reload(): Promise<void> {
    const listen = this.networks().flatMap((n) => {
      try {
        return (readFileSync(join(this.dir, n), 'utf8').split('\n')[0] ?? '').split(' ')[0]?.split(',') ?? [];
      } catch {
        return [];
      }
    });
    const pid = this.pid();
    if (listen.length === 0) {
      // aardvark exits by itself on a reload that finds nothing; a stopped one needs nothing.
      if (pid) process.kill(pid, 'SIGHUP');
      return;
    }
    const before = udp53Sockets(listen);
    if (pid) {
      process.kill(pid, 'SIGHUP');
    } else {
      await this.start();
    }
    // Ready when every address has a socket that was not there before (a reload rebinds).
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      const now = udp53Sockets(listen);
      if (listen.every((ip) => now.has(ip) && now.get(ip) !== before.get(ip))) return;
      await sleep(2);
    }
  }

  private async start(): Promise<void> {
    if (!existsSync(AARDVARK_BINARY)) {
      throw errors.precondition(`name resolution on user-defined networks needs aardvark-dns (${AARDVARK_BINARY})`, {
        hint: 'apt-get install aardvark-dns',
      });
    }
    rmSync(join(this.dir, PID_FILE), { force: true });
    // It forks; the parent exits once the child has written its pid file.
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(AARDVARK_BINARY, ['--config', this.dir, '-p', '53', 'run'], { stdio: 'ignore', detached: true });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw errors.internal(`aardvark-dns failed to start (exit code ${code})`);
  }

  /** Stops the server (all networks gone). */
  stop(): void {
    const pid = this.pid();
    if (pid) process.kill(pid, 'SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Inodes of the UDP sockets bound to port 53 on `ips` (from /proc/net/udp). */
function udp53Sockets(ips: string[]): Map<string, string> {
  const wanted = new Map(ips.map((ip) => [procHex(ip), ip]));
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || !local.endsWith(':0035')) continue;
    const ip = wanted.get(local.slice(0, 8));
    if (ip) out.set(ip, f[9] ?? '');
  }
  return out;
}

/** An IPv4 address as /proc/net/udp prints it (host byte order, little-endian here). */
function procHex(ip: string): string {
  return ip
    .split('.')
    .map((b) => Number(b).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
}
