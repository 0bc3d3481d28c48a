/**
 * Host ports for `-p`/`-P`: which host port each published container port gets, and Docker's
 * "port is already allocated" when it is taken — by a process listening on the host (checked by
 * binding it for a moment) or by another container's mapping (portmap's DNAT rules, which any
 * gantry state root on the host can see). Callers hold the host's network lock, so two
 * containers never get the same port.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { errors } from '../core/errors.js';
import type { PortBinding } from './network-store.js';

const run = promisify(execFile);

/** What `HostConfig.PortBindings` and `-P` ask for. */
export interface PortRequest {
  /** `80/tcp` → bindings (HostPort "" = any; "8000-8010" = the first free of the range). */
  bindings: Record<string, { HostIp?: string; HostPort?: string }[]>;
  /** `-P`: these exposed ports (`80/tcp`) too, on random host ports, unless bound above. */
  publishAll: string[];
}

/** Host ports already mapped by CNI portmap on this host, as `proto/port`. */
async function mappedPorts(): Promise<Set<string>> {
  const out = new Set<string>();
  let text: string;
  try {
    text = (await run('iptables', ['-w', '-t', 'nat', '-S', 'CNI-HOSTPORT-DNAT'])).stdout;
  } catch {
    return out; // no chain: nothing mapped yet
  }
  for (const line of text.split('\n')) {
    const proto = / -p (\w+)/.exec(line)?.[1];
    const ports = / --dports (\S+)/.exec(line)?.[1];
    if (!proto || !ports) continue;
    for (const p of ports.split(',')) {
      const [lo, hi] = p.split(':').map(Number) as [number, number | undefined];
      for (let n = lo; n <= (hi ?? lo); n++) out.add(`${proto}/${n}`);
    }
  }
  return out;
}

/** True when a process can bind `ip:port` now (then releases it). */
function canBind(proto: string, ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind({ address: ip, port, exclusive: true }, () => s.close(() => resolve(true)));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: ip, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A free ephemeral port, from the kernel. */
function ephemeralPort(proto: string, ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind({ address: ip, port: 0, exclusive: true }, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
      return;
    }
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: ip, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * The host port of every published port. `endpoint` names the endpoint in the error, as
 * Docker's "driver failed programming external connectivity on endpoint NAME (ID)".
 */
export async function allocatePorts(req: PortRequest, endpoint: string): Promise<PortBinding[]> {
  const wanted: { key: string; hostIp: string; hostPort: string }[] = [];
  for (const [key, list] of Object.entries(req.bindings)) for (const b of list ?? []) wanted.push({ key, hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' });
  for (const key of req.publishAll) if (!req.bindings[key]) wanted.push({ key, hostIp: '', hostPort: '' });
  if (wanted.length === 0) return [];
  const mapped = await mappedPorts();
  const out: PortBinding[] = [];
  for (const w of wanted) {
    const [portText, protoText] = w.key.split('/');
    const proto = (protoText || 'tcp') as PortBinding['protocol'];
    const containerPort = Number(portText);
    const bindIp = w.hostIp || '0.0.0.0';
    const taken = (n: number) => mapped.has(`${proto}/${n}`) || out.some((o) => o.protocol === proto && o.hostPort === n);
    let hostPort = 0;
    if (w.hostPort === '') {
      for (let tries = 0; tries < 20 && hostPort === 0; tries++) {
        const n = await ephemeralPort(proto, bindIp);
        if (!taken(n)) hostPort = n;
      }
    } else {
      const [lo, hi] = w.hostPort.split('-').map(Number) as [number, number | undefined];
      for (let n = lo; n <= (hi ?? lo) && hostPort === 0; n++) {
        if (!taken(n) && (proto === 'sctp' || (await canBind(proto, bindIp, n)))) hostPort = n;
      }
      if (hostPort === 0) {
        const shown = hi !== undefined && hi !== lo ? `${lo}-${hi}` : String(lo);
        throw errors.conflict(`driver failed programming external connectivity on endpoint ${endpoint}: Bind for ${bindIp}:${shown} failed: port is already allocated`, {
          hint: 'publish another host port, or stop what uses this one',
        });
      }
    }
    if (hostPort === 0) throw errors.unavailable(`no free host port for ${w.key}`);
    out.push({ hostIp: w.hostIp, hostPort, containerPort, protocol: proto });
  }
  return out;
}
