/**
 * Leases protect resources that a running operation has written but not yet referenced from
 * an image record (containerd's model): garbage collection never removes a blob or snapshot
 * that a live lease names. A lease belongs to a process; one whose process has died is stale
 * and is dropped by the next collection, which then frees what it protected.
 */
import { randomBytes } from 'node:crypto';
import { processAlive } from '../core/process-alive.js';
import { type Db, writeTx } from './database.js';

/** A handle on one lease. */
export interface Lease {
  readonly id: string;
  /** Protects a blob (by digest) or a snapshot (by chain ID) until the lease is released. */
  add(kind: 'blob' | 'snapshot', key: string): void;
  /** Ends the lease; what it protected is collectable unless something else references it. */
  release(): void;
}

/** Creates a lease owned by this process. */
export function createLease(db: Db): Lease {
  const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  db.prepare('INSERT INTO leases (id, pid, created_at) VALUES (?, ?, ?)').run(id, process.pid, new Date().toISOString());
  const add = db.prepare('INSERT OR IGNORE INTO lease_resources (lease_id, kind, key) VALUES (?, ?, ?)');
  return {
    id,
    add: (kind, key) => void add.run(id, kind, key),
    release: () => void db.prepare('DELETE FROM leases WHERE id = ?').run(id),
  };
}

/** Deletes leases whose owning process is gone; returns how many. */
export function dropStaleLeases(db: Db): number {
  const rows = db.prepare('SELECT id, pid FROM leases').all() as { id: string; pid: number }[];
  const stale = rows.filter((r) => r.pid !== process.pid && !processAlive(r.pid));
  if (stale.length === 0) return 0;
  writeTx(db, () => {
    const del = db.prepare('DELETE FROM leases WHERE id = ?');
    for (const r of stale) del.run(r.id);
  });
  return stale.length;
}

/** Keys of every resource of `kind` held by a lease. */
export function leasedKeys(db: Db, kind: 'blob' | 'snapshot'): Set<string> {
  const rows = db.prepare('SELECT DISTINCT key FROM lease_resources WHERE kind = ?').all(kind) as { key: string }[];
  return new Set(rows.map((r) => r.key));
}
