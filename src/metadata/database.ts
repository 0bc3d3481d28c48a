/**
 * The engine's metadata database: one SQLite file in WAL mode under the state root.
 *
 * Several `gantry` processes may open it at once (the CLI is daemonless): WAL lets readers
 * proceed while one writer commits, `busy_timeout` makes a second writer wait instead of
 * failing, and every mutation is one `BEGIN IMMEDIATE` transaction so that a process killed
 * at any moment leaves the previous or the next consistent state, never a half of each.
 */
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import { MIGRATIONS } from './migrations.js';

/** The handle services use. It is better-sqlite3's, narrowed to what we call. */
export type Db = Database.Database;

/** Opens (creating if needed) the database at `path` and brings its schema up to date. */
export function openDatabase(path: string): Db {
  const db = new (sqlite())(path, { timeout: 15_000 });
  db.pragma('journal_mode = WAL');
  // NOTE: NORMAL is crash-safe in WAL mode (a killed process never corrupts the file); only
  // the last commits before a power loss may be lost, which the content-addressed files on
  // disk tolerate: GC removes what no row references.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

let driver: typeof Database | undefined;

/**
 * better-sqlite3, loaded on first use from the package's node_modules (it is a native addon,
 * which the bundled CLI and its startup snapshot cannot contain).
 */
function sqlite(): typeof Database {
  driver ??= createRequire(join(packageRoot(), 'package.json'))('better-sqlite3') as typeof Database;
  return driver;
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
