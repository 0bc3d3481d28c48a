/**
 * The iptables rules of gantry's networks (Debian's iptables, nf_tables backend or legacy),
 * written with one `iptables-restore --noflush` per change so that a container's rules cost a
 * couple of milliseconds, not one process per rule.
 *
 * Chains (filter table unless said):
 * - `GANTRY-FORWARD`, jumped to first from FORWARD: for each network, `-o <bridge>` jumps at the
 *   top and `-i <bridge>` jumps at the bottom, so a packet between two networks meets the
 *   destination's chain first, which drops it (isolation).
 * - `GANTRY-N-<id>` per network: same-bridge traffic accepted; inbound only for replies and
 *   published ports (conntrack DNAT); outbound through `GANTRY-EGRESS` (per-container
 *   policies), the network's policy chain, then accepted — or dropped when `--internal`.
 * - `GANTRY-P-<id>` / `GANTRY-C-<id>`: egress policies of a network / a container (egress.ts),
 *   also jumped to from `GANTRY-INPUT` (traffic to the host itself).
 * - nat `GANTRY-POSTROUTING`: one MASQUERADE per non-internal network (`-s subnet ! -o bridge`),
 *   instead of the bridge plugin's per-container ipMasq chains (four iptables calls each).
 *
 * Every rule in a shared chain carries the comment `gantry:<id>` of its owner, so removal
 * finds exactly its own rules; the shared chains are removed when the last owner goes, and
 * no other chain (Docker's, the CNI plugins') is ever touched.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { errors } from '../core/errors.js';
import type { EgressPolicy } from './egress.js';

const run = promisify(execFile);

const SHARED_FILTER = ['GANTRY-FORWARD', 'GANTRY-INPUT', 'GANTRY-EGRESS'] as const;
const SHARED_NAT = ['GANTRY-POSTROUTING'] as const;

/** What the rules of one network need. */
export interface NetworkRules {
  /** The network's ID (its first 12 digits name its chains). */
  id: string;
  bridge: string;
  subnet: string;
  internal: boolean;
  egress?: EgressPolicy;
}

/** What the rules of one container's egress policy need. */
export interface ContainerRules {
  /** The container's ID. */
  id: string;
  bridge: string;
  /** The container's address on that network. */
  ip: string;
  /** The network's subnet (always allowed). */
  subnet: string;
  egress: EgressPolicy;
}

/** The parsed state of the filter and nat tables. */
interface Tables {
  filter: string[];
  nat: string[];
}

async function save(): Promise<Tables> {
  const [f, n] = await Promise.all([iptables('iptables-save', ['-t', 'filter']), iptables('iptables-save', ['-t', 'nat'])]);
  return { filter: f.split('\n'), nat: n.split('\n') };
}

async function iptables(cmd: string, args: string[], input?: string): Promise<string> {
  try {
    if (input === undefined) return (await run(cmd, args, { maxBuffer: 64 << 20 })).stdout;
    return await new Promise<string>((resolve, reject) => {
      const child = execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr }));
        else resolve(stdout);
      });
      child.stdin?.end(input);
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw errors.precondition(`${cmd} is not installed`, { hint: 'apt-get install iptables' });
    throw errors.internal(`${cmd} failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join('; ')}`, { cause: err });
  }
}

async function restore(script: string[]): Promise<void> {
  if (script.length === 0) return;
  await iptables('iptables-restore', ['-w', '--noflush'], `${script.join('\n')}\n`);
}

const short = (id: string) => id.slice(0, 12);
// NOTE: quoted as iptables-save prints it, so that a rule read back compares equal.
const tag = (id: string) => `-m comment --comment "gantry:${short(id)}"`;

/** Chain of a network, of its egress policy, of a container's egress policy. */
export const chainOf = {
  network: (id: string) => `GANTRY-N-${short(id)}`,
  policy: (id: string) => `GANTRY-P-${short(id)}`,
  container: (id: string) => `GANTRY-C-${short(id)}`,
};

function hasChain(lines: string[], chain: string): boolean {
  return lines.some((l) => l === `:${chain} - [0:0]` || l.startsWith(`:${chain} `));
}

function hasRule(lines: string[], rule: string): boolean {
  return lines.includes(rule);
}

/** Lines creating the shared chains and their jumps, where missing. */
function sharedSetup(t: Tables): { filter: string[]; nat: string[] } {
  const filter: string[] = [];
  const nat: string[] = [];
  for (const c of SHARED_FILTER) if (!hasChain(t.filter, c)) filter.push(`:${c} - [0:0]`);
  for (const c of SHARED_NAT) if (!hasChain(t.nat, c)) nat.push(`:${c} - [0:0]`);
  if (!hasRule(t.filter, '-A FORWARD -j GANTRY-FORWARD')) filter.push('-I FORWARD 1 -j GANTRY-FORWARD');
  if (!hasRule(t.filter, '-A INPUT -j GANTRY-INPUT')) filter.push('-I INPUT 1 -j GANTRY-INPUT');
  if (!hasRule(t.nat, '-A POSTROUTING -j GANTRY-POSTROUTING')) nat.push('-I POSTROUTING 1 -j GANTRY-POSTROUTING');
  return { filter, nat };
}

/** The rules of a policy chain: replies, the own subnet and the allowed entries return; the rest is rejected. */
function policyRules(chain: string, subnet: string, policy: EgressPolicy): string[] {
  const out = [`:${chain} - [0:0]`, `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`, `-A ${chain} -d ${subnet} -j RETURN`];
  for (const a of policy.allow) {
    if (!a.port) {
      out.push(`-A ${chain} -d ${a.cidr} -j RETURN`);
      continue;
    }
    const port = a.port.replace('-', ':');
    for (const proto of a.proto ? [a.proto] : ['tcp', 'udp']) out.push(`-A ${chain} -d ${a.cidr} -p ${proto} -m ${proto} --dport ${port} -j RETURN`);
  }
  out.push(`-A ${chain} -j REJECT --reject-with icmp-admin-prohibited`);
  return out;
}

/** Lines that delete every rule tagged `gantry:<id>` in `lines` (an iptables-save table). */
function deleteTagged(lines: string[], id: string): string[] {
  const mark = `--comment "gantry:${short(id)}"`;
  return lines.filter((l) => l.startsWith('-A ') && l.includes(`${mark} `)).map((l) => `-D ${l.slice(3)}`);
}

/**
 * Installs (or re-installs: idempotent) the rules of a network. The network's own chains are
 * rewritten whole; its jumps are added where missing.
 */
export async function setupNetworkRules(n: NetworkRules): Promise<void> {
  const t = await save();
  const shared = sharedSetup(t);
  const nc = chainOf.network(n.id);
  const pc = chainOf.policy(n.id);
  const br = n.bridge;
  const filter = [...shared.filter, `:${nc} - [0:0]`];
  filter.push(`-A ${nc} -i ${br} -o ${br} -j ACCEPT`);
  if (n.internal) {
    filter.push(`-A ${nc} -j DROP`);
  } else {
    filter.push(`-A ${nc} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`);
    filter.push(`-A ${nc} -o ${br} -j DROP`);
    filter.push(`-A ${nc} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    filter.push(`-A ${nc} -j GANTRY-EGRESS`);
    if (n.egress?.mode === 'deny') {
      filter.push(...policyRules(pc, n.subnet, n.egress));
      filter.push(`-A ${nc} -j ${pc}`);
    }
    filter.push(`-A ${nc} -j ACCEPT`);
  }
  const outJump = `-A GANTRY-FORWARD -o ${br} ${tag(n.id)} -j ${nc}`;
  const inJump = `-A GANTRY-FORWARD -i ${br} ${tag(n.id)} -j ${nc}`;
  if (!hasRule(t.filter, outJump)) filter.push(`-I GANTRY-FORWARD 1 ${outJump.slice('-A GANTRY-FORWARD '.length)}`);
  if (!hasRule(t.filter, inJump)) filter.push(inJump);
  const inputJump = `-A GANTRY-INPUT -i ${br} ${tag(n.id)} -j ${pc}`;
  if (n.egress?.mode === 'deny' && !n.internal && !hasRule(t.filter, inputJump)) filter.push(inputJump);
  const nat = [...shared.nat];
  const masq = `-A GANTRY-POSTROUTING -s ${n.subnet} ! -o ${br} ${tag(n.id)} -j MASQUERADE`;
  if (!n.internal && !hasRule(t.nat, masq)) nat.push(masq);
  await restore([...table('filter', filter), ...table('nat', nat)]);
}

/** Removes a network's rules and chains; removes the shared chains once nothing uses them. */
export async function removeNetworkRules(id: string): Promise<void> {
  const t = await save();
  const filter = deleteTagged(t.filter, id);
  for (const c of [chainOf.network(id), chainOf.policy(id)]) if (hasChain(t.filter, c)) filter.push(`-F ${c}`, `-X ${c}`);
  const nat = deleteTagged(t.nat, id);
  await restore([...table('filter', filter), ...table('nat', nat)]);
  await removeSharedIfUnused();
}

/** Installs a container's egress policy (after its address is known). */
export async function setupContainerRules(c: ContainerRules): Promise<void> {
  const t = await save();
  const shared = sharedSetup(t);
  const cc = chainOf.container(c.id);
  const filter = [...shared.filter, ...policyRules(cc, c.subnet, c.egress)];
  const fwd = `-A GANTRY-EGRESS -s ${c.ip}/32 ${tag(c.id)} -j ${cc}`;
  const inp = `-A GANTRY-INPUT -s ${c.ip}/32 -i ${c.bridge} ${tag(c.id)} -j ${cc}`;
  if (!hasRule(t.filter, fwd)) filter.push(fwd);
  if (!hasRule(t.filter, inp)) filter.push(inp);
  await restore([...table('filter', filter), ...table('nat', shared.nat)]);
}

/** Removes a container's egress rules, if any. */
export async function removeContainerRules(id: string): Promise<void> {
  const t = await save();
  const cc = chainOf.container(id);
  const filter = deleteTagged(t.filter, id);
  if (hasChain(t.filter, cc)) filter.push(`-F ${cc}`, `-X ${cc}`);
  if (filter.length === 0) return;
  await restore(table('filter', filter));
  await removeSharedIfUnused();
}

/** True when the filter table has a chain for container `id` (so detaching must remove it). */
export async function hasContainerRules(id: string): Promise<boolean> {
  return hasChain((await save()).filter, chainOf.container(id));
}

/** Drops the shared chains when no network or container rule is left in them. */
async function removeSharedIfUnused(): Promise<void> {
  const t = await save();
  const inUse = (lines: string[], chains: readonly string[]) => lines.some((l) => chains.some((c) => l.startsWith(`-A ${c} `)));
  if (inUse(t.filter, SHARED_FILTER) || inUse(t.nat, SHARED_NAT)) return;
  const filter: string[] = [];
  const nat: string[] = [];
  if (hasRule(t.filter, '-A FORWARD -j GANTRY-FORWARD')) filter.push('-D FORWARD -j GANTRY-FORWARD');
  if (hasRule(t.filter, '-A INPUT -j GANTRY-INPUT')) filter.push('-D INPUT -j GANTRY-INPUT');
  for (const c of SHARED_FILTER) if (hasChain(t.filter, c)) filter.push(`-X ${c}`);
  if (hasRule(t.nat, '-A POSTROUTING -j GANTRY-POSTROUTING')) nat.push('-D POSTROUTING -j GANTRY-POSTROUTING');
  for (const c of SHARED_NAT) if (hasChain(t.nat, c)) nat.push(`-X ${c}`);
  await restore([...table('filter', filter), ...table('nat', nat)]);
}

function table(name: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : [`*${name}`, ...lines, 'COMMIT'];
}
