/**
 * Image records in the metadata database: which images exist, their layers, and the names
 * (tags and digests) that point at them. Pure metadata: blobs and snapshots are referenced by
 * digest and chain ID, and the garbage collector reconciles them with these rows.
 */
import type { Digest } from '../core/digest.js';
import { type Db, writeTx } from '../metadata/database.js';

/** One layer of an image as stored. */
export interface LayerRecord {
  diffId: Digest;
  chainId: Digest;
  blobDigest: Digest;
  mediaType: string;
  blobSize: number;
}

/** A name that points at an image: a tag (`repo:tag`) or a digest (`repo@sha256:...`). */
export interface NameRecord {
  /** The full reference, e.g. `docker.io/library/busybox:latest`. */
  name: string;
  kind: 'tag' | 'digest';
}

/** An image as stored. `id` is the config digest. */
export interface ImageRecord {
  id: Digest;
  manifestDigest: Digest;
  manifestType: string;
  created: string | undefined;
  size: number;
  parent: string;
  addedAt: string;
  lastTagTime: string | undefined;
  layers: LayerRecord[];
  names: NameRecord[];
}

interface ImageRow {
  id: string;
  manifest_digest: string;
  manifest_type: string;
  created: string | null;
  size: number;
  parent: string;
  added_at: string;
  last_tag_time: string | null;
}
interface LayerRow {
  image_id: string;
  idx: number;
  diff_id: string;
  chain_id: string;
  blob_digest: string;
  media_type: string;
  blob_size: number;
}
interface NameRow {
  name: string;
  kind: 'tag' | 'digest';
  image_id: string;
}

/** A name that moved from one image to another when an image was stored or tagged. */
export interface MovedName {
  name: string;
  from: Digest;
}

/** Data access for images, layers and names. */
export class ImageStore {
  constructor(private readonly db: Db) {}

  /** Every image with its layers and names, in three queries whatever the count. */
  list(): ImageRecord[] {
    const images = this.db.prepare('SELECT * FROM images ORDER BY created DESC, id').all() as ImageRow[];
    const layers = this.db.prepare('SELECT * FROM image_layers ORDER BY image_id, idx').all() as LayerRow[];
    const names = this.db.prepare('SELECT * FROM image_names ORDER BY name').all() as NameRow[];
    return assemble(images, layers, names);
  }

  get(id: Digest): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    if (!row) return undefined;
    const layers = this.db.prepare('SELECT * FROM image_layers WHERE image_id = ? ORDER BY idx').all(id) as LayerRow[];
    const names = this.db.prepare('SELECT * FROM image_names WHERE image_id = ? ORDER BY name').all(id) as NameRow[];
    return assemble([row], layers, names)[0];
  }

  /** The image a full name points at. */
  idByName(name: string): Digest | undefined {
    const row = this.db.prepare('SELECT image_id FROM image_names WHERE name = ?').get(name) as
      | { image_id: string }
      | undefined;
    return row?.image_id as Digest | undefined;
  }

  /** IDs starting with `sha256:<prefix>` (at most 2, enough to detect ambiguity). */
  idsByPrefix(hexPrefix: string): Digest[] {
    const rows = this.db
      .prepare("SELECT id FROM images WHERE id >= ? AND id < ? || 'g' LIMIT 2")
      .all(`sha256:${hexPrefix}`, `sha256:${hexPrefix}`) as { id: string }[];
    return rows.map((r) => r.id as Digest);
  }

  /** IDs of images whose parent is `id`. */
  children(id: Digest): Digest[] {
    return (this.db.prepare('SELECT id FROM images WHERE parent = ?').all(id) as { id: string }[]).map(
      (r) => r.id as Digest,
    );
  }

  /**
   * Stores an image (if new) and points `names` at it, in one transaction. Returns the names
   * that were taken from other images (Docker leaves those images dangling, `<none>`).
   */
  put(image: Omit<ImageRecord, 'names' | 'addedAt' | 'lastTagTime'>, names: NameRecord[]): MovedName[] {
    return writeTx(this.db, () => {
      const now = new Date().toISOString();
      const exists = this.db.prepare('SELECT 1 FROM images WHERE id = ?').get(image.id);
      if (!exists) {
        this.db
          .prepare(
            `INSERT INTO images (id, manifest_digest, manifest_type, created, size, parent, added_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(image.id, image.manifestDigest, image.manifestType, image.created ?? null, image.size, image.parent, now);
        const insert = this.db.prepare(
          `INSERT INTO image_layers (image_id, idx, diff_id, chain_id, blob_digest, media_type, blob_size)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        );
        image.layers.forEach((l, i) =>
          insert.run(image.id, i, l.diffId, l.chainId, l.blobDigest, l.mediaType, l.blobSize),
        );
      }
      return names.flatMap((n) => this.setNameInTx(n, image.id, now));
    });
  }

  /** Points one name at an image; returns the move when it pointed elsewhere. */
  setName(name: NameRecord, id: Digest): MovedName[] {
    return writeTx(this.db, () => this.setNameInTx(name, id, new Date().toISOString()));
  }

  /** Removes a name; true when it existed. */
  removeName(name: string): boolean {
    return this.db.prepare('DELETE FROM image_names WHERE name = ?').run(name).changes > 0;
  }

  /** Deletes an image record (its layers and names go with it). */
  delete(id: Digest): void {
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  private setNameInTx(name: NameRecord, id: Digest, now: string): MovedName[] {
    const prev = this.db.prepare('SELECT image_id FROM image_names WHERE name = ?').get(name.name) as
      | { image_id: string }
      | undefined;
    this.db
      .prepare(
        `INSERT INTO image_names (name, kind, image_id, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, created_at = excluded.created_at`,
      )
      .run(name.name, name.kind, id, now);
    if (name.kind === 'tag') this.db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?').run(now, id);
    return prev && prev.image_id !== id ? [{ name: name.name, from: prev.image_id as Digest }] : [];
  }
}

function assemble(images: ImageRow[], layers: LayerRow[], names: NameRow[]): ImageRecord[] {
  const byId = new Map<string, ImageRecord>();
  const out = images.map((r) => {
    const rec: ImageRecord = {
      id: r.id as Digest,
      manifestDigest: r.manifest_digest as Digest,
      manifestType: r.manifest_type,
      created: r.created ?? undefined,
      size: r.size,
      parent: r.parent,
      addedAt: r.added_at,
      lastTagTime: r.last_tag_time ?? undefined,
      layers: [],
      names: [],
    };
    byId.set(r.id, rec);
    return rec;
  });
  for (const l of layers) {
    byId.get(l.image_id)?.layers.push({
      diffId: l.diff_id as Digest,
      chainId: l.chain_id as Digest,
      blobDigest: l.blob_digest as Digest,
      mediaType: l.media_type,
      blobSize: l.blob_size,
    });
  }
  for (const n of names) byId.get(n.image_id)?.names.push({ name: n.name, kind: n.kind });
  return out;
}
