/**
 * The volume service: Docker's volumes with the `local` driver. A volume is a directory,
 * `<root>/volumes/<name>/_data`, that containers mount; its row in the `volumes` table (name,
 * driver, labels, options, creation time) is what makes it exist, and `container_volumes`
 * rows say which containers use it.
 *
 * Lifecycle: `create` (idempotent by name, as Docker) → the container service `attach`es it to
 * containers inside its own transactions, `populate`s it from the image on first use and
 * mounts `mountpoint()` → `detachAll` when a container goes → `remove` / `prune` once no
 * container uses it. An *anonymous* volume is one created without a name (or with
 * `anonymous`): it gets a random 64-hex name and Docker 23+'s `com.docker.volume.anonymous`
 * label, and is what `volume prune` removes unless told `all`.
 *
 * Consistency across processes (the CLI is daemonless): every change is one write transaction;
 * a directory appears before its row commits (and is removed when the insert fails) and leaves
 * with its row (renamed into `volumes/.trash/` inside the transaction, deleted after commit),
 * so no process ever sees a row without its directory.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { VolumeInfo } from '../core/container-types.js';
import { errors, isErrno } from '../core/errors.js';
import { abandoned } from '../core/process-alive.js';
import { type Db, writeTx } from '../metadata/database.js';
import { copyTree, treeSize } from './copy-tree.js';
import { validateLocalOptions, validateVolumeName } from './local-driver.js';
import {
  ANONYMOUS_LABEL,
  LIST_FILTER_KEYS,
  naturalCompare,
  PRUNE_FILTER_KEYS,
  pruneFilters,
  type VolumeFilters,
  volumeMatcher,
} from './volume-filters.js';

/** What the volume service stands on. */
export interface VolumeServiceDeps {
  db: Db;
  /** The state root; volumes live under `<root>/volumes`. */
  root: string;
}

/** Options of {@link VolumeService.create} (the body of `POST /volumes/create`). */
export interface CreateVolumeOptions {
  /** Only `local` exists. */
  driver?: string;
  labels?: Record<string, string>;
  /** Driver options (`-o`); the local driver's type/device/o/size are validated, then refused. */
  options?: Record<string, string>;
  /** Marks the volume anonymous (implied when no name is given). */
  anonymous?: boolean;
}

/** Result of a prune, as the Engine API reports it. */
export interface VolumePruneReport {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

/** `system df` figures for local volumes. */
export interface VolumeUsage {
  /** Each volume with `UsageData` (Size -1 when it could not be measured). */
  volumes: VolumeInfo[];
  /** Volumes used by at least one container. */
  active: number;
  totalSize: number;
  /** Bytes in volumes no container uses. */
  reclaimable: number;
}

interface VolumeRow {
  name: string;
  driver: string;
  created: string;
  labels: string;
  options: string;
  anonymous: number;
}

/** The volume service. */
export class VolumeService {
  private readonly db: Db;
  /** `<root>/volumes`. */
  private readonly dir: string;

  constructor(deps: VolumeServiceDeps) {
    this.db = deps.db;
    this.dir = join(deps.root, 'volumes');
  }

  /**
   * Creates a volume, or returns the existing one of that name (Docker is idempotent here and
   * ignores the other options then). Without a name the volume is anonymous. May be called
   * inside a caller's transaction (it then nests as a savepoint).
   */
  create(name?: string, opts: CreateVolumeOptions = {}): VolumeInfo {
    const anonymous = opts.anonymous === true || !name;
    const volumeName = name || randomBytes(32).toString('hex');
    const driver = opts.driver || 'local';
    if (driver !== 'local') {
      throw errors.notFound(`create ${volumeName}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    validateVolumeName(volumeName);
    const labels = { ...opts.labels, ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
    return writeTx(this.db, () => {
      const existing = this.row(volumeName);
      if (existing) return this.info(existing);
      validateLocalOptions(volumeName, opts.options ?? {});
      const volDir = join(this.dir, volumeName);
      // NOTE: a directory without a row (left by a caller's rolled-back transaction, or put
      // there by hand) is adopted as Docker's local driver adopts what it finds, not wiped.
      const made = !existsSync(volDir);
      mkdirSync(this.dir, { recursive: true, mode: 0o701 });
      mkdirSync(join(volDir, '_data'), { recursive: true, mode: 0o755 });
      chmodSync(join(volDir, '_data'), 0o755);
      try {
        this.db
          .prepare('INSERT INTO volumes (name, driver, created, labels, options, anonymous) VALUES (?, ?, ?, ?, ?, ?)')
          .run(volumeName, driver, new Date().toISOString(), JSON.stringify(labels), '{}', anonymous ? 1 : 0);
      } catch (err) {
        if (made) rmSync(volDir, { recursive: true, force: true });
        throw err;
      }
      return this.info(this.row(volumeName) as VolumeRow);
    });
  }

  /** The volume named `name` (NOT_FOUND `get NAME: no such volume`, Docker's wording). */
  inspect(name: string): VolumeInfo {
    return this.info(this.mustRow(name));
  }

  /** Volumes matching Docker's `volume ls` filters (dangling, name, driver, label), in `volume ls` order. */
  list(filters: VolumeFilters = {}): VolumeInfo[] {
    const match = volumeMatcher(filters, LIST_FILTER_KEYS);
    const refs = this.refCounts();
    return this.rows()
      .filter((r) => match({ name: r.name, driver: r.driver, labels: parseMap(r.labels), refCount: refs.get(r.name) ?? 0 }))
      .map((r) => this.info(r));
  }

  /**
   * Removes a volume and its data. A volume some container uses is refused (CONFLICT, naming
   * the containers); a missing one is NOT_FOUND unless `force`.
   */
  remove(name: string, force = false): void {
    const trash = this.deleteVolumes(() => {
      if (!this.row(name)) {
        if (force) return [];
        throw errors.notFound(`get ${name}: no such volume`);
      }
      const users = this.users(name);
      if (users.length > 0) throw errors.conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      return [name];
    });
    this.emptyTrash(trash);
  }

  /**
   * Removes unused local volumes: only anonymous ones unless `all` (or the filter `all=true`),
   * narrowed by `label` / `label!` filters. Volumes with driver options are never pruned.
   */
  prune(opts: { all?: boolean; filters?: VolumeFilters } = {}): VolumePruneReport {
    const match = volumeMatcher(pruneFilters(opts.filters ?? {}, opts.all ?? false), PRUNE_FILTER_KEYS);
    const refs = this.refCounts();
    const candidates = this.rows().filter(
      (r) =>
        r.driver === 'local' &&
        r.options === '{}' &&
        (refs.get(r.name) ?? 0) === 0 &&
        match({ name: r.name, driver: r.driver, labels: parseMap(r.labels), refCount: 0 }),
    );
    // NOTE: sizes are measured before the transaction, so the write lock is not held while
    // walking directories; a volume written to meanwhile reports its earlier size.
    const sizes = new Map(candidates.map((r) => [r.name, this.size(r.name)]));
    const deleted: string[] = [];
    const trash = this.deleteVolumes(() => {
      for (const r of candidates) {
        // Re-checked under the lock: a container may have started using it meanwhile.
        if (this.row(r.name) && this.users(r.name).length === 0) deleted.push(r.name);
      }
      return deleted;
    });
    this.emptyTrash(trash);
    return {
      VolumesDeleted: deleted,
      SpaceReclaimed: deleted.reduce((sum, n) => sum + Math.max(0, sizes.get(n) ?? 0), 0),
    };
  }

  /** Local volumes with their sizes and reference counts, for `system df`. */
  usage(): VolumeUsage {
    const refs = this.refCounts();
    const out: VolumeUsage = { volumes: [], active: 0, totalSize: 0, reclaimable: 0 };
    for (const r of this.rows()) {
      if (r.driver !== 'local' || r.options !== '{}') continue;
      const info = this.info(r);
      const refCount = refs.get(r.name) ?? 0;
      info.UsageData = { Size: this.size(r.name), RefCount: refCount };
      out.volumes.push(info);
      if (refCount > 0) out.active++;
      if (info.UsageData.Size < 0) continue;
      out.totalSize += info.UsageData.Size;
      if (refCount === 0) out.reclaimable += info.UsageData.Size;
    }
    return out;
  }

  /**
   * Records that container `containerId` uses volume `name` (idempotent). Runs no transaction
   * of its own: call it inside the one that creates the container, so that a concurrent
   * prune either sees the use or ran before the volume was taken.
   */
  attach(containerId: string, name: string): void {
    this.mustRow(name);
    this.db.prepare('INSERT OR IGNORE INTO container_volumes (container_id, volume) VALUES (?, ?)').run(containerId, name);
  }

  /** Forgets every volume use of a container and returns the volume names (for `rm -v`). No transaction of its own. */
  detachAll(containerId: string): string[] {
    const names = (
      this.db.prepare('SELECT volume FROM container_volumes WHERE container_id = ? ORDER BY volume').all(containerId) as {
        volume: string;
      }[]
    ).map((r) => r.volume);
    this.db.prepare('DELETE FROM container_volumes WHERE container_id = ?').run(containerId);
    return names;
  }

  /** The host directory to mount for volume `name` (NOT_FOUND when there is no such volume). */
  mountpoint(name: string): string {
    this.mustRow(name);
    return this.dataDir(name);
  }

  /**
   * Docker's copy-up: when volume `name` is empty, copies the contents of `fromDir` (the
   * image's directory at the mount target) into it, keeping modes, owners, times, links and
   * xattrs, and gives the volume root `fromDir`'s owner and mode. Returns true when it copied;
   * false when the volume already had content or `fromDir` is not a directory.
   *
   * The copy goes to a temporary directory that replaces the empty `_data` with one rename,
   * so an interrupted copy never leaves a half-filled volume that would count as populated.
   * Call it outside transactions: it may copy a lot.
   */
  populate(name: string, fromDir: string): boolean {
    const data = this.mountpoint(name);
    try {
      if (!statSync(fromDir).isDirectory()) return false;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
      throw err;
    }
    if (readdirSync(data).length > 0) return false;
    const volDir = join(this.dir, name);
    for (const n of readdirSync(volDir)) {
      if (n.endsWith('.populate') && abandoned(n)) rmSync(join(volDir, n), { recursive: true, force: true });
    }
    const tmp = join(volDir, `${process.pid}-${randomBytes(6).toString('hex')}.populate`);
    mkdirSync(tmp, { mode: 0o755 });
    try {
      copyTree(fromDir, tmp);
      try {
        renameSync(tmp, data);
        return true;
      } catch (err) {
        // Populated by someone else meanwhile: theirs stays.
        if (isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST')) return false;
        // `_data` is a mount point (a running container has it): copy in place instead.
        if (!isErrno(err, 'EBUSY')) throw err;
        if (readdirSync(data).length > 0) return false;
        copyTree(fromDir, data);
        return true;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** IDs of the containers using volume `name`, sorted. */
  users(name: string): string[] {
    const rows = this.db
      .prepare('SELECT container_id FROM container_volumes WHERE volume = ? ORDER BY container_id')
      .all(name) as { container_id: string }[];
    return rows.map((r) => r.container_id);
  }

  private dataDir(name: string): string {
    return join(this.dir, name, '_data');
  }

  private row(name: string): VolumeRow | undefined {
    return this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
  }

  private mustRow(name: string): VolumeRow {
    const row = this.row(name);
    if (!row) throw errors.notFound(`get ${name}: no such volume`);
    return row;
  }

  /** Every volume, in `volume ls` order (the Docker CLI's natural sort of names). */
  private rows(): VolumeRow[] {
    const rows = this.db.prepare('SELECT * FROM volumes').all() as VolumeRow[];
    return rows.sort((a, b) => naturalCompare(a.name, b.name));
  }

  private refCounts(): Map<string, number> {
    const rows = this.db.prepare('SELECT volume, COUNT(*) AS n FROM container_volumes GROUP BY volume').all() as {
      volume: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.volume, r.n]));
  }

  /** Bytes in the volume's data directory, or -1 when it cannot be read (Docker's convention). */
  private size(name: string): number {
    try {
      return treeSize(this.dataDir(name));
    } catch {
      return -1;
    }
  }

  private info(r: VolumeRow): VolumeInfo {
    // Docker's field order (its JSON is alphabetical), so that inspect prints the same.
    return {
      CreatedAt: new Date(r.created).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Driver: r.driver,
      Labels: parseMap(r.labels),
      Mountpoint: this.dataDir(r.name),
      Name: r.name,
      Options: parseMap(r.options),
      Scope: 'local',
    };
  }

  /**
   * In one write transaction: `pick` chooses the volumes (and may throw), their rows are
   * deleted and their directories renamed into the trash. Returns the trash paths to delete
   * after commit; if the transaction fails, the directories are moved back.
   */
  private deleteVolumes(pick: () => string[]): string[] {
    const moved: { from: string; to: string }[] = [];
    try {
      writeTx(this.db, () => {
        const del = this.db.prepare('DELETE FROM volumes WHERE name = ?');
        for (const name of pick()) {
          del.run(name);
          const from = join(this.dir, name);
          if (!existsSync(from)) continue;
          const to = join(this.dir, '.trash', `${process.pid}-${randomBytes(6).toString('hex')}`);
          mkdirSync(join(this.dir, '.trash'), { recursive: true, mode: 0o700 });
          renameSync(from, to);
          moved.push({ from, to });
        }
      });
    } catch (err) {
      for (const m of moved.reverse()) renameSync(m.to, m.from);
      throw err;
    }
    return moved.map((m) => m.to);
  }

  /** Deletes trashed directories, and any a crashed process left behind. */
  private emptyTrash(paths: string[]): void {
    for (const p of paths) rmSync(p, { recursive: true, force: true });
    const trash = join(this.dir, '.trash');
    let names: string[];
    try {
      names = readdirSync(trash);
    } catch {
      return;
    }
    for (const n of names) if (abandoned(n)) rmSync(join(trash, n), { recursive: true, force: true });
  }
}

function parseMap(json: string): Record<string, string> {
  return JSON.parse(json) as Record<string, string>;
}
