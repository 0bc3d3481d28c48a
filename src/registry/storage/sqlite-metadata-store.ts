/**
 * {@link MetadataStore} in one SQLite file (better-sqlite3) in the hub's data directory, in
 * WAL mode so that `gantry hub gc` (another process) reads and writes while the hub serves:
 * readers never wait, a second writer waits on `busy_timeout`, and each mutation is one
 * `BEGIN IMMEDIATE` transaction.
 */
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Digest } from '../../core/digest.js';
import { openSqlite } from '../../metadata/sqlite.js';
import { HubError } from '../errors.js';
import type { ManifestEdge, ManifestInput, ManifestRecord, MetadataStore, PageQuery } from './metadata-store.js';

/** Schema versions; entry i brings user_version i to i + 1. */
const MIGRATIONS = [
  `CREATE TABLE repositories (name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE blob_links (repository TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repository, digest)) WITHOUT ROWID;
   CREATE INDEX blob_links_digest ON blob_links (digest);
   CREATE TABLE manifests (
     repository TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
     artifact_type TEXT, subject TEXT, annotations TEXT, created_ms INTEGER NOT NULL,
     PRIMARY KEY (repository, digest)) WITHOUT ROWID;
   CREATE INDEX manifests_subject ON manifests (repository, subject) WHERE subject IS NOT NULL;
   CREATE TABLE manifest_edges (
     repository TEXT NOT NULL, manifest TEXT NOT NULL, digest TEXT NOT NULL, kind TEXT NOT NULL,
     PRIMARY KEY (repository, manifest, digest)) WITHOUT ROWID;
   CREATE TABLE tags (repository TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, updated_ms INTEGER NOT NULL,
     PRIMARY KEY (repository, tag)) WITHOUT ROWID;
   CREATE INDEX tags_digest ON tags (repository, digest);`,
  // The hub's web API (hub-data-store.ts): what a repository is beyond its content.
  `CREATE TABLE repository_info (name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', full_description TEXT NOT NULL DEFAULT '',
     pull_count INTEGER NOT NULL DEFAULT 0, last_pushed_ms INTEGER) WITHOUT ROWID;
   CREATE TABLE stars (repository TEXT NOT NULL, account TEXT NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY (repository, account)) WITHOUT ROWID;
   CREATE TABLE sessions (hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE webhooks (id INTEGER PRIMARY KEY, repository TEXT NOT NULL, name TEXT NOT NULL, url TEXT NOT NULL, created_ms INTEGER NOT NULL);
   CREATE INDEX webhooks_repository ON webhooks (repository);
   CREATE TABLE deliveries (id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE, event TEXT NOT NULL,
     payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, response_status INTEGER, last_error TEXT,
     created_ms INTEGER NOT NULL, delivered_ms INTEGER);
   CREATE INDEX deliveries_webhook ON deliveries (webhook_id);
   CREATE TABLE build_settings (repository TEXT PRIMARY KEY, provider TEXT NOT NULL, clone_url TEXT NOT NULL, secret TEXT NOT NULL, rules TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE builds (id INTEGER PRIMARY KEY, repository TEXT NOT NULL, status TEXT NOT NULL, trigger TEXT NOT NULL, source_ref TEXT NOT NULL,
     commit_sha TEXT, tag TEXT NOT NULL, rule TEXT NOT NULL, created_ms INTEGER NOT NULL, started_ms INTEGER, finished_ms INTEGER, digest TEXT);
   CREATE INDEX builds_repository ON builds (repository, id);`,
];

interface ManifestRow {
  repository: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_ms: number;
}

/** The metadata store in `<dir>/registry.db`. */
export class SqliteMetadataStore implements MetadataStore {
  /** The database, shared with the hub's web API data (hub-data-store.ts), whose tables these migrations create. */
  readonly db: Database.Database;

  constructor(dir: string) {
    this.db = openSqlite(join(dir, 'registry.db'));
    this.migrate();
  }

  async linkBlob(repository: string, digest: Digest): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO blob_links (repository, digest) VALUES (?, ?)').run(repository, digest);
  }

  async unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.db.prepare('DELETE FROM blob_links WHERE repository = ? AND digest = ?').run(repository, digest).changes > 0;
  }

  async isBlobLinked(repository: string, digest: Digest): Promise<boolean> {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM blob_links WHERE repository = @repository AND digest = @digest
           UNION ALL SELECT 1 FROM manifests WHERE repository = @repository AND digest = @digest LIMIT 1`,
        )
        .get({ repository, digest }) !== undefined
    );
  }

  async unlinkedBlobs(repository: string, digests: readonly Digest[]): Promise<Digest[]> {
    const stmt = this.db.prepare('SELECT 1 FROM blob_links WHERE repository = ? AND digest = ?');
    return digests.filter((d) => stmt.get(repository, d) === undefined);
  }

  async putManifest(m: ManifestInput): Promise<void> {
    const now = Date.now();
    this.write(() => {
      const has = this.db.prepare('SELECT 1 FROM manifests WHERE repository = ? AND digest = ?');
      const missing = m.manifests.filter((d) => d !== m.digest && has.get(m.repository, d) === undefined);
      if (missing.length > 0) {
        throw new HubError('MANIFEST_BLOB_UNKNOWN', 'manifest references a manifest unknown to the repository', { detail: { digests: missing } });
      }
      this.db.prepare('INSERT OR IGNORE INTO repositories (name, created_ms) VALUES (?, ?)').run(m.repository, now);
      this.db
        .prepare(
          `INSERT INTO manifests (repository, digest, media_type, size, artifact_type, subject, annotations, created_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(m.repository, m.digest, m.mediaType, m.size, m.artifactType ?? null, m.subject ?? null, m.annotations ? JSON.stringify(m.annotations) : null, now);
      const edge = this.db.prepare('INSERT OR IGNORE INTO manifest_edges (repository, manifest, digest, kind) VALUES (?, ?, ?, ?)');
      for (const d of m.blobs) edge.run(m.repository, m.digest, d, 'blob');
      for (const d of m.manifests) edge.run(m.repository, m.digest, d, 'manifest');
      if (m.tag !== undefined) {
        this.db
          .prepare('INSERT INTO tags (repository, tag, digest, updated_ms) VALUES (?, ?, ?, ?) ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, updated_ms = excluded.updated_ms')
          .run(m.repository, m.tag, m.digest, now);
      }
    });
  }

  async manifest(repository: string, digest: Digest): Promise<ManifestRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM manifests WHERE repository = ? AND digest = ?').get(repository, digest) as ManifestRow | undefined;
    return row && toRecord(row);
  }

  async resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    const row = this.db.prepare('SELECT digest FROM tags WHERE repository = ? AND tag = ?').get(repository, tag) as { digest: Digest } | undefined;
    return row?.digest;
  }

  async deleteManifest(repository: string, digest: Digest): Promise<boolean> {
    return this.write(() => this.deleteManifestRows(repository, digest));
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM tags WHERE repository = ? AND tag = ?').run(repository, tag).changes > 0;
  }

  async tags(repository: string, page: PageQuery): Promise<string[] | undefined> {
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM repositories WHERE name = ?').get(repository)) return undefined;
      return (
        this.db
          .prepare('SELECT tag FROM tags WHERE repository = ? AND tag > ? ORDER BY tag LIMIT ?')
          .all(repository, page.last ?? '', page.n ?? -1) as { tag: string }[]
      ).map((r) => r.tag);
    })();
  }

  async repositories(page: PageQuery): Promise<string[]> {
    return (this.db.prepare('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?').all(page.last ?? '', page.n ?? -1) as { name: string }[]).map(
      (r) => r.name,
    );
  }

  async referrers(repository: string, subject: Digest, artifactType?: string): Promise<ManifestRecord[]> {
    const rows = (
      artifactType === undefined
        ? this.db.prepare('SELECT * FROM manifests WHERE repository = ? AND subject = ? ORDER BY created_ms, digest').all(repository, subject)
        : this.db.prepare('SELECT * FROM manifests WHERE repository = ? AND subject = ? AND artifact_type = ? ORDER BY created_ms, digest').all(repository, subject, artifactType)
    ) as ManifestRow[];
    return rows.map(toRecord);
  }

  async allManifests(): Promise<(ManifestRecord & { tagged: boolean })[]> {
    const rows = this.db
      .prepare('SELECT m.*, EXISTS (SELECT 1 FROM tags t WHERE t.repository = m.repository AND t.digest = m.digest) AS tagged FROM manifests m')
      .all() as (ManifestRow & { tagged: number })[];
    return rows.map((r) => ({ ...toRecord(r), tagged: r.tagged === 1 }));
  }

  async allEdges(): Promise<ManifestEdge[]> {
    return this.db.prepare('SELECT repository, manifest, digest FROM manifest_edges').all() as ManifestEdge[];
  }

  async sweep(manifests: readonly { repository: string; digest: Digest }[], blobs: readonly Digest[]): Promise<{ repository: string; digest: Digest }[]> {
    return this.write(() => {
      // NOTE: re-checked inside the transaction: a push since the mark may have tagged the
      // manifest again or stored an index that needs it; then it stays.
      const inUse = this.db.prepare(
        `SELECT 1 FROM tags WHERE repository = @repository AND digest = @digest
         UNION ALL SELECT 1 FROM manifest_edges WHERE repository = @repository AND digest = @digest AND kind = 'manifest' LIMIT 1`,
      );
      const removed = manifests.filter((m) => inUse.get({ repository: m.repository, digest: m.digest }) === undefined && this.deleteManifestRows(m.repository, m.digest));
      const unlink = this.db.prepare('DELETE FROM blob_links WHERE digest = ?');
      for (const d of blobs) unlink.run(d);
      return removed;
    });
  }

  close(): void {
    this.db.close();
  }

  private deleteManifestRows(repository: string, digest: Digest): boolean {
    const gone = this.db.prepare('DELETE FROM manifests WHERE repository = ? AND digest = ?').run(repository, digest).changes > 0;
    this.db.prepare('DELETE FROM manifest_edges WHERE repository = ? AND manifest = ?').run(repository, digest);
    this.db.prepare('DELETE FROM tags WHERE repository = ? AND digest = ?').run(repository, digest);
    return gone;
  }

  /** Runs `fn` in one write-locking transaction. */
  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current >= MIGRATIONS.length) return;
    this.write(() => {
      // Re-read under the lock: another process (gc, a second hub) may have migrated meanwhile.
      const version = this.db.pragma('user_version', { simple: true }) as number;
      for (let v = version; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v] as string);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
  }
}

function toRecord(row: ManifestRow): ManifestRecord {
  const record: ManifestRecord = {
    repository: row.repository,
    digest: row.digest as Digest,
    mediaType: row.media_type,
    size: row.size,
    createdMs: row.created_ms,
  };
  if (row.artifact_type !== null) record.artifactType = row.artifact_type;
  if (row.subject !== null) record.subject = row.subject as Digest;
  if (row.annotations !== null) record.annotations = JSON.parse(row.annotations) as Record<string, string>;
  return record;
}
