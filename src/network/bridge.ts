/**
 * The Linux side of a bridge network that is not per container: the bridge device with the
 * gateway address (made at `network create`, so that its route reserves the subnet on the host
 * at once), forwarding, and the host's routes that a new subnet must avoid. Done with iproute2
 * (`ip -batch`), one process per change.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { errors } from '../core/errors.js';
import { type Cidr, parseCidr } from './cidr.js';

const run = promisify(execFile);

async function ip(args: string[], input?: string): Promise<string> {
  try {
    if (input === undefined) return (await run('ip', args)).stdout;
    return await new Promise<string>((resolve, reject) => {
      const child = execFile('ip', args, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)));
      child.stdin?.end(input);
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw errors.precondition('the ip command is not installed', { hint: 'apt-get install iproute2' });
    throw errors.internal(`ip ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

/** True when a network device of that name exists. */
export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Creates the bridge with its gateway address and brings it up; completes a partial one. */
export async function ensureBridge(name: string, gatewayCidr: string, mtu?: number): Promise<void> {
  const cmds: string[] = [];
  if (!linkExists(name)) {
    cmds.push(`link add name ${name}${mtu ? ` mtu ${mtu}` : ''} type bridge`, `addr add ${gatewayCidr} dev ${name}`);
  } else if (!(await ip(['-4', '-o', 'addr', 'show', 'dev', name])).includes(` ${gatewayCidr} `)) {
    cmds.push(`addr add ${gatewayCidr} dev ${name}`);
  }
  cmds.push(`link set ${name} up`);
  await ip(['-batch', '-'], `${cmds.join('\n')}\n`);
  // NOTE: containers reach the outside through the host: forwarding must be on (the bridge
  // plugin turns it on too, but only at the first container). route_localnet lets published
  // ports answer on 127.0.0.1 (portmap's DNAT of loopback traffic; Docker does the same).
  sysctl('/proc/sys/net/ipv4/ip_forward', '1');
  sysctl(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1');
}

function sysctl(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // read-only /proc/sys (a container without privileges): the plugins will say what fails
  }
}

/** Deletes a bridge; nothing when it is gone. */
export async function removeBridge(name: string): Promise<void> {
  if (!linkExists(name)) return;
  await ip(['link', 'del', name]).catch((err: unknown) => {
    if (linkExists(name)) throw err;
  });
}

/** The IPv4 blocks the host routes somewhere (its connected and routed networks, not the default). */
export async function hostRoutes(): Promise<Cidr[]> {
  const out = await ip(['-4', '-o', 'route', 'show', 'table', 'all']);
  const blocks: Cidr[] = [];
  for (const line of out.split('\n')) {
    let dst = line.trim().split(/\s+/)[0] ?? '';
    if (['broadcast', 'local', 'unicast', 'multicast'].includes(dst)) dst = line.trim().split(/\s+/)[1] ?? '';
    if (!dst || dst === 'default') continue;
    const c = parseCidr(dst);
    if (c && c.prefix > 0 && !dst.startsWith('127.')) blocks.push(c);
  }
  return blocks;
}
