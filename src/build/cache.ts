/**
 * The build cache: what each build step produced, under a key that names everything the
 * result depends on (see cache-key.ts). A row holds the stage's image config after the step
 * (a blob, whose digest is what an image of that state would be called) and its layers; the
 * garbage collector keeps what rows reference (images/gc.ts), `builder prune` drops rows.
 */
import type { Digest } from '../core/digest.js';
import { type Db, writeTx } from '../metadata/database.js';
import type { LayerRef } from './step-fs.js';

/** A cached step result. */
export interface CachedStep {
  configDigest: Digest;
  layers: LayerRef[];
}

/** One row, for `builder du` and prune reports. */
export interface CacheEntry {
  key: string;
  description: string;
  size: number;
  createdAt: string;
  lastUsed: string;
}

interface LayerRow {
  diff_id: string;
  chain_id: string;
  blob_digest: string;
  media_type: string;
  blob_size: number;
}

/** The build cache table. */
export class BuildCache {
  constructor(private readonly db: Db) {}

  /** The result stored under `key` (and marks it used), or undefined. */
  get(key: string): CachedStep | undefined {
    const row = this.db.prepare('SELECT config_digest FROM build_cache WHERE key = ?').get(key) as { config_digest: string } | undefined;
    if (!row) return undefined;
    const layers = (
      this.db.prepare('SELECT * FROM build_cache_layers WHERE key = ? ORDER BY idx').all(key) as LayerRow[]
    ).map((r) => ({
      diffId: r.diff_id as Digest,
      chainId: r.chain_id as Digest,
      blobDigest: r.blob_digest as Digest,
      mediaType: r.media_type,
      blobSize: r.blob_size,
    }));
    this.db.prepare('UPDATE build_cache SET last_used = ? WHERE key = ?').run(new Date().toISOString(), key);
    return { configDigest: row.config_digest as Digest, layers };
  }

  /** Stores (or replaces) the result of a step. */
  put(key: string, step: CachedStep, description: string, size: number): void {
    const now = new Date().toISOString();
    writeTx(this.db, () => {
      this.db.prepare('DELETE FROM build_cache WHERE key = ?').run(key);
      this.db
        .prepare('INSERT INTO build_cache (key, config_digest, description, size, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?)')
        .run(key, step.configDigest, description, size, now, now);
      const add = this.db.prepare(
        'INSERT INTO build_cache_layers (key, idx, diff_id, chain_id, blob_digest, media_type, blob_size) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      step.layers.forEach((l, i) => add.run(key, i, l.diffId, l.chainId, l.blobDigest, l.mediaType, l.blobSize));
    });
  }

  /** Every row, most recently used first. */
  list(): CacheEntry[] {
    return (
      this.db.prepare('SELECT key, description, size, created_at, last_used FROM build_cache ORDER BY last_used DESC').all() as {
        key: string;
        description: string;
        size: number;
        created_at: string;
        last_used: string;
      }[]
    ).map((r) => ({ key: r.key, description: r.description, size: r.size, createdAt: r.created_at, lastUsed: r.last_used }));
  }

  /**
   * Deletes rows: all of them with `all`, else those whose last layer no image uses (the
   * cache that only builds can reach; an image's own layers stay until the image goes).
   * `until` keeps rows used at or after that time. Returns the rows deleted.
   */
  prune(options: { all?: boolean; until?: Date } = {}): CacheEntry[] {
    return writeTx(this.db, () => {
      const inImages = new Set(
        (this.db.prepare('SELECT DISTINCT chain_id FROM image_layers').all() as { chain_id: string }[]).map((r) => r.chain_id),
      );
      const victims = this.list().filter((e) => {
        if (options.until && Date.parse(e.lastUsed) >= options.until.getTime()) return false;
        if (options.all) return true;
        const top = this.db
          .prepare('SELECT chain_id FROM build_cache_layers WHERE key = ? ORDER BY idx DESC LIMIT 1')
          .get(e.key) as { chain_id: string } | undefined;
        return !top || !inImages.has(top.chain_id) || e.size === 0;
      });
      const del = this.db.prepare('DELETE FROM build_cache WHERE key = ?');
      for (const v of victims) del.run(v.key);
      return victims;
    });
  }
}
