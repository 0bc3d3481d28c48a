/**
 * The host-wide network lock: flock(2) on one file in /run, held while gantry changes what
 * all state roots share — bridges and subnets, the shared iptables chains, host ports, the DNS
 * server's files. The kernel drops it with a dead holder. Reentrant within a process.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { flock, LOCK_EX } from '../native/native.js';

/** The lock file (one per host, whatever the state root). */
export const HOST_LOCK = '/run/gantry-network.lock';

let depth = 0;
let fd = -1;

/** Runs `fn` holding the host's network lock. */
export async function withHostLock<T>(fn: () => Promise<T>): Promise<T> {
  if (depth > 0) {
    depth++;
    try {
      return await fn();
    } finally {
      depth--;
    }
  }
  mkdirSync(dirname(HOST_LOCK), { recursive: true });
  fd = openSync(HOST_LOCK, 'a', 0o600);
  try {
    flock(fd, LOCK_EX);
    depth = 1;
    return await fn();
  } finally {
    depth = 0;
    closeSync(fd);
    fd = -1;
  }
}
