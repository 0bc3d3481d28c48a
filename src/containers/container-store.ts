/**
 * Container records in the metadata database. A record holds what the user asked for (the
 * Engine API create body), what the engine resolved at create time (image, command, paths),
 * and the last known run state. The run state is only ever changed by compare-and-set
 * updates keyed by the run generation, so two processes that both notice the same exit (the
 * monitor's exit command and a waiting CLI) record it once.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerCreateConfig, ContainerStatus, HostConfig } from '../core/container-types.js';
import type { Digest } from '../core/digest.js';
import { errors } from '../core/errors.js';
import { type Db, statement, writeTx } from '../metadata/database.js';
import type { PlannedMount } from './config.js';
import { randomName } from './names.js';

/** What the engine decided at create time, stored next to the request. */
export interface ContainerSpec {
  /** The create request's config, as given. */
  request: ContainerCreateConfig;
  hostConfig: HostConfig;
  /** The effective config: image defaults merged with the request (what inspect shows as Config). */
  config: ContainerCreateConfig;
  /** The command: entrypoint + cmd, resolved at create. */
  path: string;
  args: string[];
  /** The image's layer snapshots, bottom first (kept by GC while the container exists). */
  layers: string[];
  /** Mounts decided at create time, volume names resolved. */
  mounts: PlannedMount[];
  /** The OCI runtime binary's name ("runc"). */
  runtime: string;
}

/** A container record. */
export interface ContainerRecord {
  id: string;
  name: string;
  imageId: Digest;
  created: string;
  spec: ContainerSpec;
  status: ContainerStatus;
  pid: number;
  monitorPid: number;
  monitorStart: number;
  bootId: string;
  runGen: number;
  exitCode: number;
  oomKilled: boolean;
  error: string;
  startedAt: string;
  finishedAt: string;
  restartCount: number;
  stoppedByUser: boolean;
}

interface Row {
  id: string;
  name: string;
  image_id: string;
  created: string;
  spec: string;
  status: string;
  pid: number;
  monitor_pid: number;
  monitor_start: number;
  boot_id: string;
  run_gen: number;
  exit_code: number;
  oom_killed: number;
  error: string;
  started_at: string;
  finished_at: string;
  restart_count: number;
  stopped_by_user: number;
}

function fromRow(r: Row): ContainerRecord {
  return {
    id: r.id,
    name: r.name,
    imageId: r.image_id as Digest,
    created: r.created,
    spec: JSON.parse(r.spec) as ContainerSpec,
    status: r.status as ContainerStatus,
    pid: r.pid,
    monitorPid: r.monitor_pid,
    monitorStart: r.monitor_start,
    bootId: r.boot_id,
    runGen: r.run_gen,
    exitCode: r.exit_code,
    oomKilled: r.oom_killed !== 0,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    restartCount: r.restart_count,
    stoppedByUser: r.stopped_by_user !== 0,
  };
}

/** Run-state fields an update may set. */
export type RunState = Partial<
  Pick<
    ContainerRecord,
    | 'status'
    | 'pid'
    | 'monitorPid'
    | 'monitorStart'
    | 'bootId'
    | 'runGen'
    | 'exitCode'
    | 'oomKilled'
    | 'error'
    | 'startedAt'
    | 'finishedAt'
    | 'restartCount'
    | 'stoppedByUser'
  >
>;

const COLUMN: Record<keyof RunState, string> = {
  status: 'status',
  pid: 'pid',
  monitorPid: 'monitor_pid',
  monitorStart: 'monitor_start',
  bootId: 'boot_id',
  runGen: 'run_gen',
  exitCode: 'exit_code',
  oomKilled: 'oom_killed',
  error: 'error',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  restartCount: 'restart_count',
  stoppedByUser: 'stopped_by_user',
};

/** Docker's rule for container names. */
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Checks a user-given name; returns it without a leading "/". */
export function validName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw errors.invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.replace(/^\//, '');
}

/** The container table. */
export class ContainerStore {
  constructor(private readonly db: Db) {}

  /** Inserts a new record; fails with Docker's conflict message when the name is taken. */
  insert(rec: Omit<ContainerRecord, 'name'> & { name?: string }): ContainerRecord {
    return writeTx(this.db, () => {
      let name = rec.name;
      if (name) {
        this.assertNameFree(name);
      } else {
        do name = randomName();
        while (this.byName(name));
      }
      this.db
        .prepare(
          `INSERT INTO containers (id, name, image_id, created, spec, status, exit_code)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(rec.id, name, rec.imageId, rec.created, JSON.stringify(rec.spec), rec.status, rec.exitCode);
      return { ...rec, name };
    });
  }

  get(id: string): ContainerRecord | undefined {
    const r = statement(this.db, 'SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  byName(name: string): ContainerRecord | undefined {
    const r = statement(this.db, 'SELECT * FROM containers WHERE name = ?').get(name.replace(/^\//, '')) as Row | undefined;
    return r && fromRow(r);
  }

  /** All records, newest first (as `ps` lists them). */
  list(): ContainerRecord[] {
    return (statement(this.db, 'SELECT * FROM containers ORDER BY created DESC, rowid DESC').all() as Row[]).map(fromRow);
  }

  /** Active containers started in another's network namespace (`--network container:X`). */
  namespaceJoiners(): ContainerRecord[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM containers WHERE status IN ('running', 'paused', 'restarting')
             AND json_extract(spec, '$.hostConfig.NetworkMode') LIKE 'container:%'`,
        )
        .all() as Row[]
    ).map(fromRow);
  }

  /**
   * Finds a container as Docker does: full ID, then exact name, then a unique ID prefix.
   * Throws Docker's "No such container" when nothing matches.
   */
  resolve(input: string): ContainerRecord {
    const found = this.tryResolve(input);
    if (!found) throw errors.notFound(`No such container: ${input}`);
    return found;
  }

  tryResolve(input: string): ContainerRecord | undefined {
    if (!input) return undefined;
    const exact = this.get(input) ?? this.byName(input);
    if (exact) return exact;
    if (!/^[0-9a-f]+$/.test(input)) return undefined;
    const rows = this.db
      .prepare("SELECT * FROM containers WHERE id >= ? AND id < ? || 'g' LIMIT 2")
      .all(input, input) as Row[];
    if (rows.length > 1) throw errors.invalid(`multiple IDs found with provided prefix: ${input}`);
    return rows[0] && fromRow(rows[0]);
  }

  /**
   * Sets run-state fields when the record is still at `expectGen` (compare-and-set);
   * returns false when another process moved it on.
   */
  update(id: string, expectGen: number, state: RunState): boolean {
    const keys = Object.keys(state) as (keyof RunState)[];
    if (keys.length === 0) return true;
    const sets = keys.map((k) => `${COLUMN[k]} = @${k}`).join(', ');
    const params: Record<string, unknown> = { id, expectGen };
    for (const k of keys) {
      const v = state[k];
      params[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    const r = statement(this.db, `UPDATE containers SET ${sets} WHERE id = @id AND run_gen = @expectGen`).run(params);
    return r.changes === 1;
  }

  /** Throws Docker's conflict error when a container other than `self` holds `name`. */
  assertNameFree(name: string, self?: string): void {
    const holder = this.byName(name);
    if (holder && holder.id !== self) {
      throw errors.conflict(
        `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
  }

  /** Renames; Docker's conflict message when the new name is taken. */
  rename(id: string, newName: string): void {
    writeTx(this.db, () => {
      this.assertNameFree(newName, id);
      statement(this.db, 'UPDATE containers SET name = ? WHERE id = ?').run(newName, id);
    });
  }

  delete(id: string): void {
    statement(this.db, 'DELETE FROM containers WHERE id = ?').run(id);
  }

  /** Image ID → how many containers use it (for rmi's conflict rules). */
  imagesInUse(): Map<Digest, number> {
    const rows = statement(this.db, 'SELECT image_id, COUNT(*) AS n FROM containers GROUP BY image_id').all() as {
      image_id: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.image_id as Digest, r.n]));
  }
}

/** A new container ID: 64 random hex digits, never all-numeric (Docker avoids those too). */
export function newContainerId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (/[a-f]/.test(id.slice(0, 12))) return id;
  }
}
