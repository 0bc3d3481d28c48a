/**
 * Garbage collection of the hub (`gantry hub gc`): mark and sweep, safe while the hub serves.
 *
 * Mark: every manifest is kept — or, with `deleteUntagged`, only tagged ones, manifests
 * younger than the grace period, and what those reference (child manifests of an index,
 * referrers of a kept subject). Every blob a kept manifest is made of or references is marked.
 * Sweep: each unmarked blob older than the grace period is removed, then the repository links
 * to it. Nothing here holds a lock the hub waits on.
 *
 * NOTE: why it is safe with pushes under way: a push writes or touches every blob it relies on
 * — an upload's completion renames a fresh file or touches the existing one, a mount touches,
 * and a manifest PUT touches each blob it references before its row is written — and the
 * sweep removes only blobs whose time is before the cutoff, checking that time *after* moving
 * the blob aside (FsBlobStore.removeIfUnusedSince). So a blob a push relied on after gc began
 * is kept, and a push that checks a blob after the sweep took it finds it missing and says so
 * (MANIFEST_BLOB_UNKNOWN) instead of storing a manifest with a hole. The grace period covers
 * the time between a push's first blob and its manifest: keep it longer than the slowest push.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../core/digest.js';
import { errors, isErrno } from '../core/errors.js';
import type { BlobStore } from './storage/blob-store.js';
import { FsBlobStore } from './storage/fs-blob-store.js';
import { SqliteMetadataStore } from './storage/sqlite-metadata-store.js';
import type { ManifestRecord, MetadataStore } from './storage/metadata-store.js';

/** Options of {@link collectGarbage}. */
export interface GcOptions {
  /** Report what would be removed, remove nothing. */
  dryRun: boolean;
  /** Also remove manifests no tag reaches (distribution's --delete-untagged). */
  deleteUntagged: boolean;
  /** Blobs and manifests younger than this are kept. */
  gracePeriodMs: number;
}

/** What a collection removed (or would remove). */
export interface GcReport {
  manifests: { repository: string; digest: Digest }[];
  blobs: { digest: Digest; size: number }[];
  /** Bytes of the removed blobs. */
  bytes: number;
  /** Blobs kept because a manifest references them. */
  marked: number;
}

/** Runs one collection. */
export async function collectGarbage(blobs: BlobStore, metadata: MetadataStore, options: GcOptions): Promise<GcReport> {
  const cutoffMs = Date.now() - options.gracePeriodMs;
  const manifests = await metadata.allManifests();
  const edges = await metadata.allEdges();
  const key = (repository: string, digest: string) => `${repository}@${digest}`;

  const kept = new Set<string>();
  if (!options.deleteUntagged) {
    for (const m of manifests) kept.add(key(m.repository, m.digest));
  } else {
    const children = new Map<string, string[]>();
    for (const e of edges) {
      const from = key(e.repository, e.manifest);
      children.set(from, [...(children.get(from) ?? []), key(e.repository, e.digest)]);
    }
    const referrers = new Map<string, string[]>();
    for (const m of manifests) {
      if (!m.subject) continue;
      const subject = key(m.repository, m.subject);
      referrers.set(subject, [...(referrers.get(subject) ?? []), key(m.repository, m.digest)]);
    }
    const queue = manifests.filter((m) => m.tagged || m.createdMs >= cutoffMs).map((m) => key(m.repository, m.digest));
    while (queue.length > 0) {
      const k = queue.pop() as string;
      if (kept.has(k)) continue;
      kept.add(k);
      for (const next of [...(children.get(k) ?? []), ...(referrers.get(k) ?? [])]) if (!kept.has(next)) queue.push(next);
    }
  }
  const doomed: ManifestRecord[] = manifests.filter((m) => !kept.has(key(m.repository, m.digest)));

  const marked = new Set<string>();
  for (const m of manifests) if (kept.has(key(m.repository, m.digest))) marked.add(m.digest);
  for (const e of edges) if (kept.has(key(e.repository, e.manifest))) marked.add(e.digest);

  const report: GcReport = { manifests: doomed.map((m) => ({ repository: m.repository, digest: m.digest })), blobs: [], bytes: 0, marked: 0 };
  const candidates: { digest: Digest; size: number }[] = [];
  for await (const b of blobs.list()) {
    if (marked.has(b.digest)) report.marked++;
    else if (b.modifiedMs < cutoffMs) candidates.push({ digest: b.digest, size: b.size });
  }
  if (options.dryRun) {
    report.blobs = candidates;
  } else {
    // Manifests first: their blobs are then unreferenced (and marked as such above already).
    if (doomed.length > 0) report.manifests = await metadata.sweep(report.manifests, []);
    for (const c of candidates) {
      if (await blobs.removeIfUnusedSince(c.digest, cutoffMs)) report.blobs.push(c);
    }
    if (report.blobs.length > 0) await metadata.sweep([], report.blobs.map((b) => b.digest));
  }
  report.bytes = report.blobs.reduce((n, b) => n + b.size, 0);
  return report;
}

/** Options of {@link collectHubGarbage}. */
export interface HubGcOptions extends GcOptions {
  /** Also remove uploads with no activity for this long (not in a dry run); undefined: keep them. */
  uploadAgeMs?: number;
}

/** Opens a hub's data directory, collects its garbage (and abandoned uploads) and closes it. */
export async function collectHubGarbage(dataDir: string, options: HubGcOptions): Promise<GcReport & { uploads: number }> {
  try {
    await stat(join(dataDir, 'registry.db'));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw errors.notFound(`no hub data in ${dataDir}`, { hint: 'pass the directory `gantry hub serve` uses with --data' });
    throw err;
  }
  const blobs = new FsBlobStore(dataDir);
  const metadata = new SqliteMetadataStore(dataDir);
  try {
    const report = await collectGarbage(blobs, metadata, options);
    let uploads = 0;
    if (!options.dryRun && options.uploadAgeMs !== undefined) {
      const cutoff = Date.now() - options.uploadAgeMs;
      for (const u of await blobs.listUploads()) if (u.modifiedMs < cutoff && (await blobs.cancelUpload(u.id))) uploads++;
    }
    return { ...report, uploads };
  } finally {
    metadata.close();
  }
}
