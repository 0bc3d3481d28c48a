/**
 * The engine's metadata database: one SQLite file in WAL mode under the state root.
 *
 * Several `gantry` processes may open it at once (the CLI is daemonless): WAL lets readers
 * proceed while one writer commits, `busy_timeout` makes a second writer wait instead of
 * failing, and every mutation is one `BEGIN IMMEDIATE` transaction so that a process killed
 * at any moment leaves the previous or the next consistent state, never a half of each.
 */
import { MIGRATIONS } from './migrations.js';
import { openSqlite, type SqliteDb, type SqliteStatement } from './sqlite.js';

/** The handle services use. It is better-sqlite3's, narrowed to what we call. */
export type Db = SqliteDb;

/** Opens (creating if needed) the database at `path` and brings its schema up to date. */
export function openDatabase(path: string): Db {
  return openSqlite(path, (db) => {
    db.pragma('foreign_keys = ON');
    migrate(db);
  });
}

const statements = new WeakMap<Db, Map<string, SqliteStatement>>();

/**
 * `db.prepare(sql)`, compiled once per connection. SQLite compiles a statement's text on every
 * prepare (tens of microseconds), which a lookup made for each row of a listing — `ps` asks
 * for each container's networks — would pay a thousand times over. Only for statements run
 * with `run`, `get` and `all` (not `iterate`, `pluck` or `raw`, which change or hold one).
 */
export function statement(db: Db, sql: string): SqliteStatement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare<unknown[]>(sql)));
  return stmt;
}

/** Runs `fn` in one immediate (write-locking) transaction and returns its result. */
export function writeTx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current >= MIGRATIONS.length) return;
  writeTx(db, () => {
    // Re-read inside the lock: another process may have migrated meanwhile.
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
    }
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
}
