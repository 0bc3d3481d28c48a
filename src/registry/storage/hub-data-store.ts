/**
 * What the hub's web API keeps beyond the registry's content, in the registry's own SQLite file
 * (`registry.db`, tables created by sqlite-metadata-store.ts's migration 2): descriptions, pull
 * counts and push times, stars, browser sessions, outgoing webhooks and their deliveries,
 * automated build settings and builds.
 *
 * Why the same file: a repository's deletion removes its content and its metadata in one
 * transaction, and search joins names with stars and pulls in one query. Visibility is *not*
 * here: the account store owns it (the authorizer reads it per request), see docs/dev/hub.md.
 *
 * Every query binds its values as parameters; search escapes LIKE's wildcards (`%`, `_`, `\`).
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';

/** A repository's row for listings and search. */
export interface RepositoryRow {
  name: string;
  description: string;
  fullDescription: string;
  starCount: number;
  pullCount: number;
  /** ms since the epoch; undefined when never pushed. */
  lastPushedMs?: number;
  createdMs: number;
}

/** An outgoing webhook. */
export interface WebhookRow {
  id: number;
  repository: string;
  name: string;
  url: string;
  createdMs: number;
}

/** One delivery of a webhook event. */
export interface DeliveryRow {
  id: number;
  webhookId: number;
  event: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  responseStatus?: number;
  lastError?: string;
  createdMs: number;
  deliveredMs?: number;
}

/** A build rule (see builds/rules.ts). */
export interface BuildRule {
  source_type: 'branch' | 'tag';
  source: string;
  target_tag: string;
  dockerfile: string;
  context: string;
}

/** A repository's automated build settings. */
export interface BuildSettings {
  provider: 'github' | 'bitbucket';
  cloneUrl: string;
  secret: string;
  rules: BuildRule[];
}

/** A build's state. */
export type BuildStatus = 'queued' | 'running' | 'success' | 'failed' | 'canceled';

/** One automated build. */
export interface BuildRow {
  id: number;
  repository: string;
  status: BuildStatus;
  trigger: 'github' | 'bitbucket' | 'manual';
  sourceRef: string;
  commit?: string;
  tag: string;
  rule: BuildRule;
  createdMs: number;
  startedMs?: number;
  finishedMs?: number;
  digest?: string;
}

/** A search hit before ranking by the caller's rights. */
export interface SearchRow extends RepositoryRow {
  /** 0 exact name, 1 prefix, 2 substring of the name, 3 of the description. */
  rank: number;
}

/** The longest search term used (longer queries are cut: nothing longer can match a name anyway). */
export const MAX_QUERY = 256;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The web API's data; see the module comment. */
export class HubDataStore {
  constructor(private readonly db: Database.Database) {}

  /** Creates an empty repository (no tags yet); false when it exists. */
  createRepository(name: string, description: string): boolean {
    return this.db
      .transaction(() => {
        const created = this.db.prepare('INSERT OR IGNORE INTO repositories (name, created_ms) VALUES (?, ?)').run(name, Date.now()).changes > 0;
        if (created) {
          this.db.prepare(`INSERT INTO repository_info (name, description) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET description = excluded.description`).run(name, description);
        }
        return created;
      })
      .immediate();
  }

  /** A repository, or undefined when the registry has none of that name. */
  repository(name: string): RepositoryRow | undefined {
    const row = this.db.prepare(`${REPO_SELECT} WHERE r.name = ?`).get(name) as RawRepo | undefined;
    return row && toRepo(row);
  }

  /** Repositories whose name starts with `prefix` (`alice/`), or all. */
  repositories(prefix?: string): RepositoryRow[] {
    const rows = prefix === undefined ? this.db.prepare(`${REPO_SELECT} ORDER BY r.name`).all() : this.db.prepare(`${REPO_SELECT} WHERE r.name LIKE ? ESCAPE '\\' ORDER BY r.name`).all(`${escapeLike(prefix)}%`);
    return (rows as RawRepo[]).map(toRepo);
  }

  /** Updates descriptions (fields left undefined stay). */
  updateInfo(name: string, info: { description?: string; fullDescription?: string }): void {
    this.db.prepare(`INSERT OR IGNORE INTO repository_info (name) VALUES (?)`).run(name);
    if (info.description !== undefined) this.db.prepare('UPDATE repository_info SET description = ? WHERE name = ?').run(info.description, name);
    if (info.fullDescription !== undefined) this.db.prepare('UPDATE repository_info SET full_description = ? WHERE name = ?').run(info.fullDescription, name);
  }

  /**
   * Removes a repository: its tags, manifests, blob links (the bytes go at the next `hub gc`),
   * and everything this store keeps about it. Builds and their logs stay as history.
   */
  deleteRepository(name: string): boolean {
    return this.db
      .transaction(() => {
        const gone = this.db.prepare('DELETE FROM repositories WHERE name = ?').run(name).changes > 0;
        for (const table of ['tags', 'manifests', 'manifest_edges', 'blob_links']) this.db.prepare(`DELETE FROM ${table} WHERE repository = ?`).run(name);
        this.db.prepare('DELETE FROM repository_info WHERE name = ?').run(name);
        this.db.prepare('DELETE FROM stars WHERE repository = ?').run(name);
        this.db.prepare('DELETE FROM deliveries WHERE webhook_id IN (SELECT id FROM webhooks WHERE repository = ?)').run(name);
        this.db.prepare('DELETE FROM webhooks WHERE repository = ?').run(name);
        this.db.prepare('DELETE FROM build_settings WHERE repository = ?').run(name);
        return gone;
      })
      .immediate();
  }

  /** The repository's tags with their digests and push times, sorted by name. */
  tags(name: string): { tag: string; digest: string; updatedMs: number }[] {
    const rows = this.db.prepare('SELECT tag, digest, updated_ms FROM tags WHERE repository = ? ORDER BY tag').all(name) as { tag: string; digest: string; updated_ms: number }[];
    return rows.map((r) => ({ tag: r.tag, digest: r.digest, updatedMs: r.updated_ms }));
  }

  /** Counts one manifest pull. */
  countPull(name: string): void {
    this.db.prepare('INSERT INTO repository_info (name, pull_count) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET pull_count = pull_count + 1').run(name);
  }

  /** Records a push's time. */
  recordPush(name: string, atMs: number): void {
    this.db.prepare('INSERT INTO repository_info (name, last_pushed_ms) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_pushed_ms = excluded.last_pushed_ms').run(name, atMs);
  }

  /** Stars or unstars; resolves the new count. */
  setStar(name: string, account: string, starred: boolean): number {
    if (starred) this.db.prepare('INSERT OR IGNORE INTO stars (repository, account, created_ms) VALUES (?, ?, ?)').run(name, account, Date.now());
    else this.db.prepare('DELETE FROM stars WHERE repository = ? AND account = ?').run(name, account);
    return this.db.prepare('SELECT COUNT(*) FROM stars WHERE repository = ?').pluck().get(name) as number;
  }

  isStarred(name: string, account: string): boolean {
    return this.db.prepare('SELECT 1 FROM stars WHERE repository = ? AND account = ?').get(name, account) !== undefined;
  }

  /**
   * Repositories matching `query` (case-insensitive) in the name or the description, with their
   * rank; at most `limit` rows, best first (rank, stars, pulls, name).
   */
  search(query: string, limit: number): SearchRow[] {
    const q = query.slice(0, MAX_QUERY).toLowerCase();
    const like = `%${escapeLike(q)}%`;
    // NOTE: the short name is what follows the namespace (`alice/web` → `web`); an exact or
    // prefix match of either the full or the short name ranks first.
    const rows = this.db
      .prepare(
        `SELECT * FROM (
           SELECT x.*, CASE
             WHEN @q = '' THEN 2
             WHEN lower(x.name) = @q OR lower(substr(x.name, instr(x.name, '/') + 1)) = @q THEN 0
             WHEN lower(x.name) LIKE @prefix ESCAPE '\\' OR lower(substr(x.name, instr(x.name, '/') + 1)) LIKE @prefix ESCAPE '\\' THEN 1
             WHEN lower(x.name) LIKE @like ESCAPE '\\' THEN 2
             WHEN lower(x.description) LIKE @like ESCAPE '\\' THEN 3
             ELSE 9 END AS rank
           FROM (${REPO_SELECT}) x)
         WHERE rank < 9 ORDER BY rank, star_count DESC, pull_count DESC, name LIMIT @limit`,
      )
      .all({ q, prefix: `${escapeLike(q)}%`, like, limit }) as (RawRepo & { rank: number })[];
    return rows.map((r) => ({ ...toRepo(r), rank: r.rank }));
  }

  // --- sessions ---------------------------------------------------------------------------

  /** Stores a session under the hash of its token. */
  createSession(token: string, username: string, csrf: string, expiresMs: number): void {
    this.db.prepare('DELETE FROM sessions WHERE expires_ms <= ?').run(Date.now());
    this.db.prepare('INSERT INTO sessions (hash, username, csrf, expires_ms) VALUES (?, ?, ?, ?)').run(sha256(token), username, csrf, expiresMs);
  }

  /** The live session of a token, or undefined. */
  session(token: string): { username: string; csrf: string } | undefined {
    const row = this.db.prepare('SELECT username, csrf, expires_ms FROM sessions WHERE hash = ?').get(sha256(token)) as { username: string; csrf: string; expires_ms: number } | undefined;
    if (!row || row.expires_ms <= Date.now()) return undefined;
    return { username: row.username, csrf: row.csrf };
  }

  deleteSession(token: string): void {
    this.db.prepare('DELETE FROM sessions WHERE hash = ?').run(sha256(token));
  }

  // --- webhooks ---------------------------------------------------------------------------

  addWebhook(repository: string, name: string, url: string): WebhookRow {
    const createdMs = Date.now();
    const id = Number(this.db.prepare('INSERT INTO webhooks (repository, name, url, created_ms) VALUES (?, ?, ?, ?)').run(repository, name, url, createdMs).lastInsertRowid);
    return { id, repository, name, url, createdMs };
  }

  webhooks(repository: string): WebhookRow[] {
    const rows = this.db.prepare('SELECT * FROM webhooks WHERE repository = ? ORDER BY id').all(repository) as { id: number; repository: string; name: string; url: string; created_ms: number }[];
    return rows.map((r) => ({ id: r.id, repository: r.repository, name: r.name, url: r.url, createdMs: r.created_ms }));
  }

  webhook(repository: string, id: number): WebhookRow | undefined {
    return this.webhooks(repository).find((w) => w.id === id);
  }

  deleteWebhook(repository: string, id: number): boolean {
    return this.db
      .transaction(() => {
        const gone = this.db.prepare('DELETE FROM webhooks WHERE repository = ? AND id = ?').run(repository, id).changes > 0;
        if (gone) this.db.prepare('DELETE FROM deliveries WHERE webhook_id = ?').run(id);
        return gone;
      })
      .immediate();
  }

  addDelivery(webhookId: number, event: string, payload: string): DeliveryRow {
    const createdMs = Date.now();
    const id = Number(
      this.db.prepare(`INSERT INTO deliveries (webhook_id, event, payload, status, created_ms) VALUES (?, ?, ?, 'pending', ?)`).run(webhookId, event, payload, createdMs).lastInsertRowid,
    );
    return { id, webhookId, event, payload, status: 'pending', attempts: 0, createdMs };
  }

  /** Records one attempt of a delivery. */
  recordAttempt(id: number, outcome: { status: DeliveryRow['status']; responseStatus?: number; error?: string }): void {
    this.db
      .prepare('UPDATE deliveries SET attempts = attempts + 1, status = ?, response_status = ?, last_error = ?, delivered_ms = ? WHERE id = ?')
      .run(outcome.status, outcome.responseStatus ?? null, outcome.error ?? null, outcome.status === 'delivered' ? Date.now() : null, id);
  }

  deliveries(webhookId: number): DeliveryRow[] {
    return (this.db.prepare('SELECT * FROM deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT 100').all(webhookId) as RawDelivery[]).map(toDelivery);
  }

  /** Deliveries not finished (a hub stopped mid-retry resumes them). */
  pendingDeliveries(): (DeliveryRow & { url: string })[] {
    const rows = this.db.prepare(`SELECT d.*, w.url FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.status = 'pending' ORDER BY d.id`).all() as (RawDelivery & { url: string })[];
    return rows.map((r) => ({ ...toDelivery(r), url: r.url }));
  }

  // --- builds -----------------------------------------------------------------------------

  buildSettings(repository: string): BuildSettings | undefined {
    const row = this.db.prepare('SELECT * FROM build_settings WHERE repository = ?').get(repository) as { provider: BuildSettings['provider']; clone_url: string; secret: string; rules: string } | undefined;
    return row && { provider: row.provider, cloneUrl: row.clone_url, secret: row.secret, rules: JSON.parse(row.rules) as BuildRule[] };
  }

  setBuildSettings(repository: string, s: BuildSettings): void {
    this.db
      .prepare(
        `INSERT INTO build_settings (repository, provider, clone_url, secret, rules) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (repository) DO UPDATE SET provider = excluded.provider, clone_url = excluded.clone_url, secret = excluded.secret, rules = excluded.rules`,
      )
      .run(repository, s.provider, s.cloneUrl, s.secret, JSON.stringify(s.rules));
  }

  addBuild(b: Omit<BuildRow, 'id' | 'status' | 'createdMs'>): BuildRow {
    const createdMs = Date.now();
    const id = Number(
      this.db
        .prepare(`INSERT INTO builds (repository, status, trigger, source_ref, commit_sha, tag, rule, created_ms) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)`)
        .run(b.repository, b.trigger, b.sourceRef, b.commit ?? null, b.tag, JSON.stringify(b.rule), createdMs).lastInsertRowid,
    );
    return { ...b, id, status: 'queued', createdMs };
  }

  updateBuild(id: number, change: { status: BuildStatus; startedMs?: number; finishedMs?: number; digest?: string }): void {
    this.db
      .prepare('UPDATE builds SET status = ?, started_ms = coalesce(?, started_ms), finished_ms = coalesce(?, finished_ms), digest = coalesce(?, digest) WHERE id = ?')
      .run(change.status, change.startedMs ?? null, change.finishedMs ?? null, change.digest ?? null, id);
  }

  builds(repository: string): BuildRow[] {
    return (this.db.prepare('SELECT * FROM builds WHERE repository = ? ORDER BY id DESC LIMIT 100').all(repository) as RawBuild[]).map(toBuild);
  }

  build(repository: string, id: number): BuildRow | undefined {
    const row = this.db.prepare('SELECT * FROM builds WHERE repository = ? AND id = ?').get(repository, id) as RawBuild | undefined;
    return row && toBuild(row);
  }

  /** Builds a stopped hub left queued or running: marked canceled at start. */
  cancelUnfinishedBuilds(): number {
    return this.db.prepare(`UPDATE builds SET status = 'canceled', finished_ms = ? WHERE status IN ('queued', 'running')`).run(Date.now()).changes;
  }
}

/** Escapes LIKE's wildcards for `ESCAPE '\'`. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const REPO_SELECT = `SELECT r.name AS name, r.created_ms AS created_ms, coalesce(i.description, '') AS description,
  coalesce(i.full_description, '') AS full_description, coalesce(i.pull_count, 0) AS pull_count, i.last_pushed_ms AS last_pushed_ms,
  (SELECT COUNT(*) FROM stars s WHERE s.repository = r.name) AS star_count
  FROM repositories r LEFT JOIN repository_info i ON i.name = r.name`;

interface RawRepo {
  name: string;
  created_ms: number;
  description: string;
  full_description: string;
  pull_count: number;
  last_pushed_ms: number | null;
  star_count: number;
}

function toRepo(r: RawRepo): RepositoryRow {
  const row: RepositoryRow = {
    name: r.name,
    description: r.description,
    fullDescription: r.full_description,
    starCount: r.star_count,
    pullCount: r.pull_count,
    createdMs: r.created_ms,
  };
  if (r.last_pushed_ms !== null) row.lastPushedMs = r.last_pushed_ms;
  return row;
}

interface RawDelivery {
  id: number;
  webhook_id: number;
  event: string;
  payload: string;
  status: DeliveryRow['status'];
  attempts: number;
  response_status: number | null;
  last_error: string | null;
  created_ms: number;
  delivered_ms: number | null;
}

function toDelivery(r: RawDelivery): DeliveryRow {
  const d: DeliveryRow = { id: r.id, webhookId: r.webhook_id, event: r.event, payload: r.payload, status: r.status, attempts: r.attempts, createdMs: r.created_ms };
  if (r.response_status !== null) d.responseStatus = r.response_status;
  if (r.last_error !== null) d.lastError = r.last_error;
  if (r.delivered_ms !== null) d.deliveredMs = r.delivered_ms;
  return d;
}

interface RawBuild {
  id: number;
  repository: string;
  status: BuildStatus;
  trigger: BuildRow['trigger'];
  source_ref: string;
  commit_sha: string | null;
  tag: string;
  rule: string;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  digest: string | null;
}

function toBuild(r: RawBuild): BuildRow {
  const b: BuildRow = {
    id: r.id,
    repository: r.repository,
    status: r.status,
    trigger: r.trigger,
    sourceRef: r.source_ref,
    tag: r.tag,
    rule: JSON.parse(r.rule) as BuildRule,
    createdMs: r.created_ms,
  };
  if (r.commit_sha !== null) b.commit = r.commit_sha;
  if (r.started_ms !== null) b.startedMs = r.started_ms;
  if (r.finished_ms !== null) b.finishedMs = r.finished_ms;
  if (r.digest !== null) b.digest = r.digest;
  return b;
}
