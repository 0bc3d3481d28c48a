/**
 * The hub's accounts: users, organisations and their members, the visibility of repositories
 * and the refresh tokens handed out at login. One SQLite database, `<dataDir>/accounts.db`,
 * separate from the registry's storage so that the protocol server never depends on it.
 *
 * Vocabulary. An *account* is a user or an organisation; both are *namespaces* and share one
 * set of names, so `alice/web` belongs to whichever of the two is called `alice`. A user may
 * be an *admin* (every action on every repository, and the catalog). An organisation has
 * *members*, each an `owner` (pull, push, delete, manage) or a `member` who may push unless
 * made pull-only. A repository is `public` or `private`; one never given a visibility has the
 * store's default (public, as on Docker Hub).
 *
 * Lifecycle: `openAccountStore` creates or migrates the file; any number of processes may
 * open it at once (the hub serving and `gantry hub user create` changing it): WAL mode and a
 * busy timeout, every change one immediate transaction. `close` when done.
 */
import type Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../../core/errors.js';
import { openSqlite } from '../../metadata/sqlite.js';
import type { RepositoryAction } from '../access.js';
import { checkAccountName, checkRepositoryName, namespaceOf } from './names.js';
import { checkPassword, DEFAULT_SCRYPT, hashPassword, needsRehash, type ScryptParams, spendVerification, verifyPassword } from './password-hash.js';

/** A repository's visibility. */
export type Visibility = 'public' | 'private';

/** A member's role in an organisation. */
export type MemberRole = 'owner' | 'member';

/** A user, as listed. */
export interface UserInfo {
  name: string;
  admin: boolean;
  /** RFC 3339. */
  created: string;
}

/** A member of an organisation. */
export interface Member {
  user: string;
  role: MemberRole;
  /** False for a pull-only member (owners always push). */
  push: boolean;
}

/** An organisation, as listed. */
export interface OrganizationInfo {
  name: string;
  created: string;
  members: Member[];
}

/** Options of {@link openAccountStore}. */
export interface AccountStoreOptions {
  /** The visibility of a repository that was never given one; default public. */
  defaultVisibility?: Visibility;
  /** scrypt cost for new password hashes (tests lower it). */
  scrypt?: ScryptParams;
}

/** What a redeemed refresh token stands for. */
export interface RefreshGrant {
  user: string;
  service: string;
}

/** The account database. See the module comment for its vocabulary and lifecycle. */
export interface AccountStore {
  createUser(name: string, password: string, options?: { admin?: boolean }): Promise<void>;
  /** Deletes a user, its memberships and refresh tokens; refused for an organisation's last owner. */
  deleteUser(name: string): void;
  /** Replaces a user's password and revokes its refresh tokens. */
  setPassword(name: string, password: string): Promise<void>;
  setAdmin(name: string, admin: boolean): void;
  /** True when `name` is a user whose password is `password` (constant time either way). */
  verifyCredentials(name: string, password: string): Promise<boolean>;
  user(name: string): UserInfo | undefined;
  users(): UserInfo[];

  /** Creates an organisation with `owner` (an existing user) as its first owner. */
  createOrganization(name: string, owner: string): void;
  deleteOrganization(name: string): void;
  /** Adds `user` to `org`, or changes the role of a member. */
  addMember(org: string, user: string, options?: { role?: MemberRole; push?: boolean }): void;
  /** Removes a member; refused for the last owner. */
  removeMember(org: string, user: string): void;
  organization(name: string): OrganizationInfo | undefined;
  organizations(): OrganizationInfo[];

  setVisibility(repository: string, visibility: Visibility): void;
  visibility(repository: string): Visibility;

  /**
   * What `account` (undefined: anonymous) may do on `repository`: admins everything; a user in
   * its own namespace pull, push and delete; organisation owners pull, push and delete, members
   * pull and (unless pull-only) push; everyone else pull on public repositories only. An
   * account that no longer exists counts as anonymous.
   */
  permissions(account: string | undefined, repository: string): Set<RepositoryAction>;
  /** True when `account` may list the catalog: admins only (it would show private names). */
  canListCatalog(account: string | undefined): boolean;

  /** A new refresh token for `user` at `service`, valid for `ttlSeconds`; only its hash is kept. */
  issueRefreshToken(user: string, service: string, clientId: string, ttlSeconds: number): string;
  /** The grant behind a refresh token, or undefined when unknown, expired or revoked. */
  redeemRefreshToken(token: string): RefreshGrant | undefined;
  /** Revokes every refresh token of `user`; returns how many. */
  revokeRefreshTokens(user: string): number;

  close(): void;
}

/** The database file under a hub's data directory. */
export const ACCOUNTS_DB = 'accounts.db';

const SCHEMA = [
  `CREATE TABLE accounts (
     name TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('user', 'org')),
     password_hash TEXT,
     admin INTEGER NOT NULL DEFAULT 0,
     created TEXT NOT NULL
   ) STRICT;
   CREATE TABLE members (
     org TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
     user TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
     role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
     can_push INTEGER NOT NULL,
     PRIMARY KEY (org, user)
   ) STRICT;
   CREATE INDEX members_by_user ON members(user);
   CREATE TABLE repositories (
     name TEXT PRIMARY KEY,
     visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
     updated TEXT NOT NULL
   ) STRICT;
   CREATE TABLE refresh_tokens (
     hash TEXT PRIMARY KEY,
     user TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
     service TEXT NOT NULL,
     client_id TEXT NOT NULL,
     created INTEGER NOT NULL,
     expires INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX refresh_tokens_by_user ON refresh_tokens(user);`,
];

const ALL: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

/** Opens (creating and migrating) `<dataDir>/accounts.db`. */
export function openAccountStore(dataDir: string, options: AccountStoreOptions = {}): AccountStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = openSqlite(join(dataDir, ACCOUNTS_DB), (d) => {
    d.pragma('foreign_keys = ON');
    migrate(d);
  });
  return new SqliteAccountStore(db, options.defaultVisibility ?? 'public', options.scrypt ?? DEFAULT_SCRYPT);
}

interface AccountRow {
  name: string;
  kind: 'user' | 'org';
  password_hash: string | null;
  admin: number;
  created: string;
}

interface MemberRow {
  org: string;
  user: string;
  role: MemberRole;
  can_push: number;
}

class SqliteAccountStore implements AccountStore {
  constructor(
    private readonly db: Database.Database,
    private readonly defaultVisibility: Visibility,
    private readonly scrypt: ScryptParams,
  ) {}

  async createUser(name: string, password: string, options: { admin?: boolean } = {}): Promise<void> {
    checkAccountName(name, 'user');
    checkPassword(password);
    // Fail fast on a taken name before spending the hash; the insert checks again.
    if (this.account(name)) throw taken(name, this.account(name)?.kind);
    const hash = await hashPassword(password, this.scrypt);
    this.tx(() => {
      const existing = this.account(name);
      if (existing) throw taken(name, existing.kind);
      this.db
        .prepare('INSERT INTO accounts (name, kind, password_hash, admin, created) VALUES (?, ?, ?, ?, ?)')
        .run(name, 'user', hash, options.admin ? 1 : 0, new Date().toISOString());
    });
  }

  deleteUser(name: string): void {
    this.tx(() => {
      this.requireUser(name);
      const sole = this.db
        .prepare(
          `SELECT m.org FROM members m WHERE m.user = ? AND m.role = 'owner'
             AND (SELECT COUNT(*) FROM members o WHERE o.org = m.org AND o.role = 'owner') = 1`,
        )
        .pluck()
        .all(name) as string[];
      if (sole.length > 0) {
        throw errors.conflict(`user "${name}" is the last owner of organization "${sole[0]}"`, {
          hint: `add another owner with: gantry hub org add-member ${sole[0]} USER --role owner`,
        });
      }
      this.db.prepare('DELETE FROM accounts WHERE name = ?').run(name);
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    this.requireUser(name);
    const hash = await hashPassword(password, this.scrypt);
    this.tx(() => {
      this.requireUser(name);
      this.db.prepare('UPDATE accounts SET password_hash = ? WHERE name = ?').run(hash, name);
      // NOTE: a new password ends every session that the old one opened (docker's stored
      // identity tokens); access tokens already issued live out their few minutes.
      this.db.prepare('DELETE FROM refresh_tokens WHERE user = ?').run(name);
    });
  }

  setAdmin(name: string, admin: boolean): void {
    this.tx(() => {
      this.requireUser(name);
      this.db.prepare('UPDATE accounts SET admin = ? WHERE name = ?').run(admin ? 1 : 0, name);
    });
  }

  async verifyCredentials(name: string, password: string): Promise<boolean> {
    const row = this.account(name);
    if (!row || row.kind !== 'user' || !row.password_hash) {
      await spendVerification(password);
      return false;
    }
    if (!(await verifyPassword(password, row.password_hash))) return false;
    if (needsRehash(row.password_hash, this.scrypt)) {
      // The cost was raised since this hash was made: replace it now that the password is known.
      const hash = await hashPassword(password, this.scrypt);
      this.tx(() => this.db.prepare('UPDATE accounts SET password_hash = ? WHERE name = ? AND password_hash = ?').run(hash, name, row.password_hash));
    }
    return true;
  }

  user(name: string): UserInfo | undefined {
    const row = this.account(name);
    return row?.kind === 'user' ? { name: row.name, admin: row.admin === 1, created: row.created } : undefined;
  }

  users(): UserInfo[] {
    const rows = this.db.prepare(`SELECT * FROM accounts WHERE kind = 'user' ORDER BY name`).all() as AccountRow[];
    return rows.map((r) => ({ name: r.name, admin: r.admin === 1, created: r.created }));
  }

  createOrganization(name: string, owner: string): void {
    checkAccountName(name, 'organization');
    this.tx(() => {
      const existing = this.account(name);
      if (existing) throw taken(name, existing.kind);
      this.requireUser(owner);
      this.db
        .prepare('INSERT INTO accounts (name, kind, password_hash, admin, created) VALUES (?, ?, NULL, 0, ?)')
        .run(name, 'org', new Date().toISOString());
      this.db.prepare(`INSERT INTO members (org, user, role, can_push) VALUES (?, ?, 'owner', 1)`).run(name, owner);
    });
  }

  deleteOrganization(name: string): void {
    this.tx(() => {
      this.requireOrg(name);
      this.db.prepare('DELETE FROM accounts WHERE name = ?').run(name);
    });
  }

  addMember(org: string, user: string, options: { role?: MemberRole; push?: boolean } = {}): void {
    const role = options.role ?? 'member';
    // Owners manage the organisation: a pull-only owner would be a contradiction.
    if (role === 'owner' && options.push === false) throw errors.invalid('an owner cannot be pull-only');
    this.tx(() => {
      this.requireOrg(org);
      this.requireUser(user);
      const current = this.member(org, user);
      if (current?.role === 'owner' && role !== 'owner') this.checkNotLastOwner(org, user);
      this.db
        .prepare(
          `INSERT INTO members (org, user, role, can_push) VALUES (?, ?, ?, ?)
           ON CONFLICT (org, user) DO UPDATE SET role = excluded.role, can_push = excluded.can_push`,
        )
        .run(org, user, role, role === 'owner' || options.push !== false ? 1 : 0);
    });
  }

  removeMember(org: string, user: string): void {
    this.tx(() => {
      this.requireOrg(org);
      const current = this.member(org, user);
      if (!current) throw errors.notFound(`user "${user}" is not a member of organization "${org}"`);
      if (current.role === 'owner') this.checkNotLastOwner(org, user);
      this.db.prepare('DELETE FROM members WHERE org = ? AND user = ?').run(org, user);
    });
  }

  organization(name: string): OrganizationInfo | undefined {
    const row = this.account(name);
    if (row?.kind !== 'org') return undefined;
    const members = this.db.prepare('SELECT * FROM members WHERE org = ? ORDER BY user').all(name) as MemberRow[];
    return {
      name,
      created: row.created,
      members: members.map((m) => ({ user: m.user, role: m.role, push: m.can_push === 1 })),
    };
  }

  organizations(): OrganizationInfo[] {
    const names = this.db.prepare(`SELECT name FROM accounts WHERE kind = 'org' ORDER BY name`).pluck().all() as string[];
    return names.map((n) => this.organization(n)).filter((o): o is OrganizationInfo => o !== undefined);
  }

  setVisibility(repository: string, visibility: Visibility): void {
    checkRepositoryName(repository);
    if (visibility !== 'public' && visibility !== 'private') {
      throw errors.invalid(`invalid visibility "${String(visibility)}": must be "public" or "private"`);
    }
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO repositories (name, visibility, updated) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET visibility = excluded.visibility, updated = excluded.updated`,
        )
        .run(repository, visibility, new Date().toISOString());
    });
  }

  visibility(repository: string): Visibility {
    const v = this.db.prepare('SELECT visibility FROM repositories WHERE name = ?').pluck().get(repository) as Visibility | undefined;
    return v ?? this.defaultVisibility;
  }

  permissions(account: string | undefined, repository: string): Set<RepositoryAction> {
    const user = account === undefined ? undefined : this.account(account);
    if (user?.kind === 'user') {
      if (user.admin === 1) return new Set(ALL);
      const ns = namespaceOf(repository);
      if (ns === user.name) return new Set(ALL);
      if (ns !== undefined) {
        const m = this.member(ns, user.name);
        if (m?.role === 'owner') return new Set(ALL);
        if (m) return new Set<RepositoryAction>(m.can_push === 1 ? ['pull', 'push'] : ['pull']);
      }
    }
    return new Set<RepositoryAction>(this.visibility(repository) === 'public' ? ['pull'] : []);
  }

  canListCatalog(account: string | undefined): boolean {
    return account !== undefined && this.user(account)?.admin === true;
  }

  issueRefreshToken(user: string, service: string, clientId: string, ttlSeconds: number): string {
    const token = `ght_${randomBytes(32).toString('base64url')}`;
    const now = Math.floor(Date.now() / 1000);
    this.tx(() => {
      this.requireUser(user);
      // Expired rows are dropped here rather than by a timer: docker logs in (and gets a new
      // refresh token) often, and nothing else writes this table.
      this.db.prepare('DELETE FROM refresh_tokens WHERE expires <= ?').run(now);
      this.db
        .prepare('INSERT INTO refresh_tokens (hash, user, service, client_id, created, expires) VALUES (?, ?, ?, ?, ?, ?)')
        .run(tokenHash(token), user, service, clientId, now, now + ttlSeconds);
    });
    return token;
  }

  redeemRefreshToken(token: string): RefreshGrant | undefined {
    // NOTE: the lookup is by a SHA-256 of the token. The token is 256 random bits, so a fast
    // hash suffices (nothing to brute-force), and a stolen database holds no usable token.
    const row = this.db
      .prepare('SELECT user, service, expires FROM refresh_tokens WHERE hash = ?')
      .get(tokenHash(token)) as { user: string; service: string; expires: number } | undefined;
    if (!row || row.expires <= Math.floor(Date.now() / 1000)) return undefined;
    return { user: row.user, service: row.service };
  }

  revokeRefreshTokens(user: string): number {
    return this.tx(() => this.db.prepare('DELETE FROM refresh_tokens WHERE user = ?').run(user).changes);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private account(name: string): AccountRow | undefined {
    return this.db.prepare('SELECT * FROM accounts WHERE name = ?').get(name) as AccountRow | undefined;
  }

  private member(org: string, user: string): MemberRow | undefined {
    return this.db.prepare('SELECT * FROM members WHERE org = ? AND user = ?').get(org, user) as MemberRow | undefined;
  }

  private requireUser(name: string): void {
    if (this.account(name)?.kind !== 'user') throw errors.notFound(`no such user: ${name}`);
  }

  private requireOrg(name: string): void {
    if (this.account(name)?.kind !== 'org') throw errors.notFound(`no such organization: ${name}`);
  }

  private checkNotLastOwner(org: string, user: string): void {
    const owners = this.db.prepare(`SELECT COUNT(*) FROM members WHERE org = ? AND role = 'owner'`).pluck().get(org) as number;
    if (owners <= 1) {
      throw errors.conflict(`user "${user}" is the last owner of organization "${org}"`, {
        hint: `add another owner first: gantry hub org add-member ${org} USER --role owner`,
      });
    }
  }
}

function taken(name: string, kind: 'user' | 'org' | undefined) {
  return errors.conflict(`the name "${name}" is already taken by ${kind === 'org' ? 'an organization' : 'a user'}`);
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function migrate(db: Database.Database): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA.length) return;
  db.transaction(() => {
    // Re-read inside the lock: another process may have migrated meanwhile.
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < SCHEMA.length; v++) db.exec(SCHEMA[v] as string);
    db.pragma(`user_version = ${SCHEMA.length}`);
  }).immediate();
}
