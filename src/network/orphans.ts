/**
 * What a deleted state root leaves on the host. Bridges, iptables rules and aardvark-dns
 * servers outlive the root that made them (a test's temporary root is deleted with `rm -rf`,
 * no gantry command runs). Each bridge gantry makes is registered in /run/gantry-networks/
 * with its root; whenever a network is realized or pruned, entries whose root is gone are
 * undone, and DNS servers whose configuration directory is gone are stopped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeBridge } from './bridge.js';
import { removeNetworkRules } from './firewall.js';

/** The registry directory (host-wide, volatile). */
export const REGISTRY_DIR = '/run/gantry-networks';

interface Entry {
  root: string;
  networkId: string;
  bridge: string;
}

/** Records that `bridge` of network `networkId` belongs to `root`. */
export function register(e: Entry): void {
  mkdirSync(REGISTRY_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(join(REGISTRY_DIR, e.bridge), JSON.stringify(e));
}

/**
 * Before network `networkId` takes `bridge`: when the registry says the device belongs to
 * another network (of a root deleted and made again at the same path, so the same device
 * name), that network's leftovers are undone first. Cheap: one small file read.
 */
export async function reclaimBridge(bridge: string, networkId: string): Promise<void> {
  let e: Entry;
  try {
    e = JSON.parse(readFileSync(join(REGISTRY_DIR, bridge), 'utf8')) as Entry;
  } catch {
    return;
  }
  if (e.networkId === networkId) return;
  await removeNetworkRules(e.networkId).catch(() => undefined);
  await removeBridge(e.bridge).catch(() => undefined);
  unregister(bridge);
}

/** Forgets a bridge. */
export function unregister(bridge: string): void {
  rmSync(join(REGISTRY_DIR, bridge), { force: true });
}

/**
 * Undoes the networks of deleted roots and stops orphaned DNS servers. Call under the host lock.
 * `current` (this root and the networks its database knows) also catches a root that was
 * deleted and made again at the same path: its old bridges are registered under a root that
 * exists, but with networks the new database has never heard of.
 */
export async function sweepOrphans(current?: { root: string; networkIds: ReadonlySet<string> }): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(REGISTRY_DIR);
  } catch {
    names = [];
  }
  for (const n of names) {
    let e: Entry;
    try {
      e = JSON.parse(readFileSync(join(REGISTRY_DIR, n), 'utf8')) as Entry;
    } catch {
      continue;
    }
    const recreated = current !== undefined && e.root === current.root && !current.networkIds.has(e.networkId);
    if (!recreated && existsSync(join(e.root, 'gantry.db'))) continue;
    await removeNetworkRules(e.networkId).catch(() => undefined);
    await removeBridge(e.bridge).catch(() => undefined);
    unregister(n);
  }
  stopOrphanedDns();
}

/** Stops aardvark-dns processes whose `--config` directory no longer exists. */
function stopOrphanedDns(): void {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('aardvark')) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const dir = argv[argv.indexOf('--config') + 1];
      if (dir && dir.includes('/gantry') && !existsSync(dir)) process.kill(Number(pid), 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
}
