/**
 * Garbage collection of blobs and snapshots: mark what images, containers, the build cache and
 * live leases reference, sweep the rest.
 *
 * NOTE: the sweep runs inside one write transaction of the metadata database, and it unlinks
 * blobs and moves snapshot directories aside with synchronous calls inside it. Writers add
 * their lease rows before they look for or write a resource, and those inserts wait for the
 * transaction, so a writer either is seen by the mark (and its resources kept) or starts after
 * the sweep (and finds nothing it could wrongly reuse). Files newer than the oldest live lease
 * are also kept: a writer that does not yet know a blob's digest is protected by time.
 */
import { rmSync, statSync, unlinkSync } from 'node:fs';
import type { LocalContentStore } from '../content/local-content-store.js';
import type { Digest } from '../core/digest.js';
import { type Db, writeTx } from '../metadata/database.js';
import { dropStaleLeases, leasedKeys } from '../metadata/leases.js';
import type { OverlaySnapshotter } from '../snapshots/overlay-snapshotter.js';

/** What one collection removed. */
export interface GcResult {
  blobs: Digest[];
  snapshots: Digest[];
  /** Bytes freed from blobs (snapshot sizes are reported by callers from their records). */
  blobBytes: number;
}

/** Extra roots that keep snapshots alive (e.g. container snapshots, added by later services). */
export type SnapshotRoots = () => Iterable<string>;

/** Runs one collection. */
export async function collectGarbage(
  db: Db,
  content: LocalContentStore,
  snapshots: OverlaySnapshotter,
  extraRoots: SnapshotRoots = () => [],
): Promise<GcResult> {
  dropStaleLeases(db);
  await content.sweepIngest();
  await snapshots.sweep();
  // List files first, then read references: anything written after the listing is not swept.
  const blobs = await content.list();
  const snapshotDirs = await snapshots.listDirs();
  const result: GcResult = { blobs: [], snapshots: [], blobBytes: 0 };
  const trash: string[] = [];
  writeTx(db, () => {
    const keepBlobs = new Set<string>(leasedKeys(db, 'blob'));
    for (const r of db.prepare('SELECT id, manifest_digest FROM images').all() as { id: string; manifest_digest: string }[]) {
      keepBlobs.add(r.id);
      keepBlobs.add(r.manifest_digest);
    }
    for (const r of db.prepare('SELECT DISTINCT blob_digest FROM image_layers').all() as { blob_digest: string }[]) {
      keepBlobs.add(r.blob_digest);
    }
    // The build cache keeps what its steps made: their configs, layer blobs and snapshots.
    for (const r of db.prepare('SELECT config_digest FROM build_cache').all() as { config_digest: string }[]) {
      keepBlobs.add(r.config_digest);
    }
    for (const r of db.prepare('SELECT DISTINCT blob_digest FROM build_cache_layers').all() as { blob_digest: string }[]) {
      keepBlobs.add(r.blob_digest);
    }
    const keepSnaps = new Set<string>(leasedKeys(db, 'snapshot'));
    for (const r of db
      .prepare('SELECT chain_id FROM image_layers UNION SELECT chain_id FROM build_cache_layers')
      .all() as { chain_id: string }[]) {
      keepSnaps.add(r.chain_id);
    }
    for (const k of extraRoots()) keepSnaps.add(k);
    // A kept snapshot keeps its parents.
    const rows = db.prepare('SELECT chain_id, parent FROM snapshots').all() as { chain_id: string; parent: string }[];
    const parentOf = new Map(rows.map((r) => [r.chain_id, r.parent]));
    for (const k of [...keepSnaps]) {
      for (let p = parentOf.get(k); p; p = parentOf.get(p)) keepSnaps.add(p);
    }
    const oldestLease = (db.prepare('SELECT MIN(created_at) AS t FROM leases').get() as { t: string | null }).t;
    const protectedSince = oldestLease ? Date.parse(oldestLease) - 1000 : Infinity;

    for (const digest of blobs) {
      if (keepBlobs.has(digest)) continue;
      const path = content.blobPath(digest);
      try {
        const st = statSync(path);
        if (st.mtimeMs >= protectedSince) continue;
        unlinkSync(path);
        result.blobs.push(digest);
        result.blobBytes += st.size;
      } catch {
        // already gone
      }
    }
    const known = new Set(rows.map((r) => r.chain_id));
    for (const r of rows) {
      if (keepSnaps.has(r.chain_id)) continue;
      const t = snapshots.detach(r.chain_id as Digest);
      if (t) trash.push(t);
      result.snapshots.push(r.chain_id as Digest);
    }
    // Directories without a record: an unpack that died between rename and insert.
    for (const hex of snapshotDirs) {
      const chainId = `sha256:${hex}` as Digest;
      if (known.has(chainId) || keepSnaps.has(chainId)) continue;
      try {
        if (statSync(snapshots.dir(chainId)).mtimeMs >= protectedSince) continue;
      } catch {
        // no fs dir: remove the stub
      }
      const t = snapshots.detach(chainId);
      if (t) trash.push(t);
    }
  });
  for (const t of trash) rmSync(t, { recursive: true, force: true });
  return result;
}
