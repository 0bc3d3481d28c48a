/**
 * Runs the CNI plugins of Debian's containernetworking-plugins (/usr/lib/cni) as the CNI
 * specification says: one process per plugin, the command in `CNI_COMMAND`, the network
 * configuration on stdin, the result on stdout.
 * https://github.com/containernetworking/cni/blob/spec-v1.0.0/SPEC.md
 *
 * gantry's list for a bridge network is `bridge` (with `host-local` IPAM, which `bridge`
 * runs itself) and, when the container publishes ports, `portmap`. ADD runs them in order,
 * each receiving the previous result (`prevResult`); DEL runs them in reverse with the ADD
 * result, and tolerates what is already gone (spec: DEL must succeed on missing resources).
 * NAT and filtering are per network (firewall.ts), not per container: the bridge plugin's
 * `ipMasq` and the firewall plugin cost 4 to 6 iptables processes per container.
 */
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { errors } from '../core/errors.js';
import { readAll, spawnChild } from '../runtime/spawn.js';

/** Where Debian installs the plugins. */
export const CNI_PATH = '/usr/lib/cni';
/** The spec version gantry speaks (the Debian plugins support 0.1.0 to 1.0.0). */
export const CNI_VERSION = '1.0.0';

/** One plugin's configuration: `type` names the binary. */
export type PluginConf = { type: string } & Record<string, unknown>;

/** A network configuration list. */
export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

/** The parts of a CNI 1.0 result gantry reads. */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
}

/** The runtime side of one invocation. */
export interface CniInvocation {
  containerId: string;
  netns: string;
  ifName: string;
  /** Capability arguments (`portMappings`, `ips`), given to plugins that declare them. */
  runtimeConfig?: Record<string, unknown>;
}

/** A plugin's error result (spec: `code`, `msg`, `details`). */
export class CniError extends Error {
  constructor(
    readonly plugin: string,
    readonly code: number,
    msg: string,
  ) {
    super(msg);
  }
}

async function execPlugin(command: 'ADD' | 'DEL' | 'CHECK', conf: Record<string, unknown>, inv: CniInvocation): Promise<string> {
  const type = conf.type as string;
  const binary = `${CNI_PATH}/${type}`;
  if (!existsSync(binary)) {
    throw errors.precondition(`the CNI plugin ${type} is not installed (${binary})`, { hint: 'apt-get install containernetworking-plugins' });
  }
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifName,
    CNI_PATH,
  };
  // posix_spawn, not child_process: ADD and DEL are on the path of every container start
  // and removal on a network (see runtime/spawn.ts).
  let child;
  try {
    child = spawnChild(binary, [], { env, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
  } catch (err) {
    throw errors.precondition(`cannot run the CNI plugin ${binary}: ${(err as Error).message}`, { cause: err });
  }
  const stdin = child.stdin as Socket;
  stdin.on('error', () => undefined); // a plugin that exits without reading: its status says why
  stdin.end(JSON.stringify(conf));
  const [status, out, err] = await Promise.all([child.exited, readAll(child.stdout as Socket), readAll(child.stderr as Socket)]);
  const stdout = out.toString();
  if (status.code === 0) return stdout;
  let code = 999;
  let msg = err.toString().trim() || `${binary} ${status.signal ? `was killed by ${status.signal}` : `exited with ${status.code}`}`;
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    code = e.code ?? code;
    msg = [e.msg, e.details].filter(Boolean).join(': ') || msg;
  } catch {
    // not a JSON error: keep the process's own words
  }
  throw new CniError(type, code, msg);
}

/** The configuration one plugin of a list receives (spec §"Network configuration list runtime"). */
function pluginConf(list: ConfList, p: PluginConf, inv: CniInvocation, prevResult?: CniResult): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...p, cniVersion: list.cniVersion, name: list.name };
  const caps = (p.capabilities ?? {}) as Record<string, boolean>;
  const rc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inv.runtimeConfig ?? {})) if (caps[k]) rc[k] = v;
  delete conf.capabilities;
  if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

/** ADD: every plugin in order; returns the last result. A failure undoes what was added. */
export async function cniAdd(list: ConfList, inv: CniInvocation): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const p of list.plugins) {
    try {
      result = JSON.parse(await execPlugin('ADD', pluginConf(list, p, inv, result), inv)) as CniResult;
    } catch (err) {
      await cniDel(list, inv, result).catch(() => undefined);
      throw err;
    }
  }
  return result as CniResult;
}

/** DEL: every plugin in reverse order, with the ADD result when known. Errors of all are collected. */
export async function cniDel(list: ConfList, inv: CniInvocation, prevResult?: CniResult): Promise<void> {
  const failures: string[] = [];
  for (const p of [...list.plugins].reverse()) {
    try {
      await execPlugin('DEL', pluginConf(list, p, inv, prevResult), inv);
    } catch (err) {
      failures.push(`${p.type}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) throw errors.internal(`CNI DEL failed for container ${inv.containerId}: ${failures.join('; ')}`);
}
