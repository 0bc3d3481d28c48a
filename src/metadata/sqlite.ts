/**
 * SQLite files, as the engine and the hub open them: better-sqlite3 in WAL mode.
 *
 * better-sqlite3's JavaScript is bundled into the CLI (and frozen into its startup snapshot)
 * like every other module; only its native addon is loaded at run time, on the first open,
 * straight from its file. Loading the package through Node's module resolver instead costs
 * a dozen file lookups and compilations on every `gantry` call (about 10 ms on a slow host),
 * and a native addon cannot be part of the snapshot.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';

/** An open database. */
export type SqliteDb = Database.Database;
/** A prepared statement taking positional parameters. */
export type SqliteStatement = Database.Statement<unknown[]>;

/**
 * Opens (creating if needed) the database file at `path` in WAL mode: several processes may
 * read while one writes, and a second writer waits up to 15 s for the lock instead of failing.
 * `prepare` (pragmas, migrations) runs next; if it throws, the database is closed again.
 */
export function openSqlite(path: string, prepare?: (db: SqliteDb) => void): SqliteDb {
  // NOTE: better-sqlite3 takes the loaded addon object too; its typings only name a path.
  const db = new Database(path, { timeout: 15_000, nativeBinding: nativeAddon() as unknown as string });
  try {
    db.pragma('journal_mode = WAL');
    // NOTE: NORMAL is crash-safe in WAL mode (a killed process never corrupts the file); a
    // power loss may only lose the last commits, which content-addressed stores tolerate:
    // their garbage collection removes files that no row references.
    db.pragma('synchronous = NORMAL');
    prepare?.(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

let addon: object | undefined;

/**
 * better-sqlite3's compiled addon (build/Release/better_sqlite3.node), found in the package
 * root's node_modules, or through Node's resolver when gantry is itself installed as a
 * dependency and the package sits elsewhere.
 */
function nativeAddon(): object {
  if (addon) return addon;
  const local = join(packageRoot(), 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  const file = existsSync(local)
    ? local
    : join(createRequire(join(packageRoot(), 'package.json')).resolve('better-sqlite3/package.json'), '..', 'build', 'Release', 'better_sqlite3.node');
  // dlopen directly: what require() of a .node file ends in, without the module loader's work.
  const module = { exports: {} };
  process.dlopen(module, file);
  addon = module.exports;
  return addon;
}
