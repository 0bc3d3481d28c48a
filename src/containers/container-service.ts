/**
 * The container service: create, start, stop, kill, pause, remove, wait, list and inspect
 * containers that run under runc and are monitored by conmon, without a daemon.
 *
 * State lives in three places, each authoritative for one thing: the database for what a
 * container is and its last recorded state; conmon's files (`exit`, `oom`) for how a run
 * ended; the process table for whether a run is still going. Every read of a container
 * whose record says it runs checks its monitor (pid + start time + boot ID) and, when the
 * monitor is gone, records the exit and tears the run down ("refresh"); so a container whose
 * monitor died, or whose host rebooted, is reported as exited, never as a ghost.
 *
 * A run is numbered (`runGen`); the end of run N is recorded by whoever sees it first (the
 * monitor's exit command, a waiting `run`, a `ps`), once, by a compare-and-set on N.
 */
import type { StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerCreateRequest, ContainerInspect, ContainerSummary } from '../core/container-types.js';
import { type ContainerStatsSample, type StatsRow, statsRow } from '../core/container-stats.js';
import type { Digest } from '../core/digest.js';
import { errors, GantryError } from '../core/errors.js';
import type { ImageConfig } from '../core/oci.js';
import { bootId, processStartTime } from '../core/process-alive.js';
import { type Db, writeTx } from '../metadata/database.js';
import { effectiveCapabilities } from '../runtime/capabilities.js';
import { type ConmonOptions, launchConmon, RuntimeCreateError } from '../runtime/conmon.js';
import { OciRuntime } from '../runtime/runc.js';
import type { VolumeService } from '../volumes/volume-service.js';
import { AttachSession } from './attach.js';
import { type BundleNetwork, writeBundle } from './bundle.js';
import { readStats } from './cgroup-stats.js';
import { commandOf, mergeConfig, planMounts } from './config.js';
import { type ContainerRecord, ContainerStore, newContainerId, validName } from './container-store.js';
import { execInContainer, type ExecOptions } from './exec.js';
import { type ContainerFilter, type FilterLookups, matchesContainerFilters } from './filters.js';
import type { ContainerNetworking } from './networking.js';
import { withFileLock } from './locks.js';
import { type LogEntry, readLogs, type ReadLogsOptions } from './log-file.js';
import type { ContainerPaths } from './paths.js';
import { mountRootfs, unmountRootfs } from '../snapshots/overlay-mount.js';
import { restartDecision, signalName, startFailureExitCode, validateHostConfig } from './rules.js';
import { dirSize } from '../core/dir-size.js';
import { removeNetns, sweepExitFiles } from './run-files.js';
import { top, type TopResult } from './top.js';
import { inspectView, summaryView } from './views.js';

export type { ExecOptions } from './exec.js';

/** What the service needs from the rest of the engine. */
export interface ContainerServiceDeps {
  db: Db;
  paths: ContainerPaths;
  volumes: VolumeService;
  /** Resolves an image name or ID to its record's ID, config and layer chain (bottom first). */
  image(input: string): Promise<{ id: Digest; config: ImageConfig; chainIds: string[] }>;
  /** The ID of the image a name or ID (prefix) stands for, if any. */
  imageId(input: string): string | undefined;
  /** Host directory of a layer snapshot, and the directory holding them all. */
  snapshotDir(chainId: string): string;
  snapshotsRoot: string;
  /** The argv conmon runs when a container exits (gantry's exit hook), given ID and run number. */
  exitCommand(id: string, gen: number): string[];
  /** OCI runtimes by name, the first the default (looked up when first needed). */
  runtimes(): Record<string, string>;
  /** Bridge networks (the engine's network service); without it, containers get only `lo`. */
  networking?: ContainerNetworking;
}

/** Options of {@link ContainerService.start}. */
export interface StartOptions {
  /** Called once the container exists and before its process runs (to attach first). */
  onCreated?: (rec: ContainerRecord) => Promise<void>;
  /**
   * The caller stays attached and records the exit itself (a foreground `run`): the monitor
   * then needs no exit command unless a restart policy must act. Should the caller die, the
   * next gantry command finds the exit file and finishes the run.
   */
  attached?: boolean;
}

/** `rm` options. */
export interface RemoveOptions {
  force?: boolean;
  /** Also remove the container's anonymous volumes. */
  volumes?: boolean;
}

/** `ps` options. */
export interface ListOptions {
  all?: boolean;
  /** Show the n last created (all states). */
  limit?: number;
  size?: boolean;
  filters?: ContainerFilter[];
}

/** The container service. */
export class ContainerService {
  readonly store: ContainerStore;

  constructor(private readonly deps: ContainerServiceDeps) {
    this.store = new ContainerStore(deps.db);
  }

  private runtimeFor(rec: ContainerRecord): OciRuntime {
    const runtimes = this.deps.runtimes();
    const binary = runtimes[rec.spec.runtime] ?? (Object.values(runtimes)[0] as string);
    return new OciRuntime(binary, this.deps.paths.runtimeState);
  }

  // ---------------------------------------------------------------- create

  /** `create`: records a container from an image; nothing runs yet. */
  async create(req: ContainerCreateRequest): Promise<{ Id: string; Warnings: string[] }> {
    const host = { ...req.hostConfig };
    validateHostConfig(host);
    // Docker's daemon: swap defaults to as much as the memory limit (limit + swap = twice it).
    if (host.Memory && host.Memory > 0 && !host.MemorySwap) host.MemorySwap = host.Memory * 2;
    const runtimes = this.deps.runtimes();
    const runtime = host.Runtime || (Object.keys(runtimes)[0] as string);
    if (!runtimes[runtime]) throw errors.invalid(`unknown or invalid runtime name: ${runtime}`);
    const name = req.name ? validName(req.name) : undefined;
    // Checked again inside the insert's transaction; this early check avoids creating volumes.
    if (name) this.store.assertNameFree(name);
    effectiveCapabilities(host.CapAdd ?? [], host.CapDrop ?? [], host.Privileged ?? false);
    const image = await this.deps.image(req.config.Image);
    const id = newContainerId();
    const config = mergeConfig(req.config, image.config.config, id);
    config.Image = req.config.Image;
    const { path, args } = commandOf(config);
    const mounts = planMounts(config, host);
    for (const m of mounts) {
      if (m.Type === 'bind' && !m.createSource && !existsSync(m.Source)) {
        throw errors.invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
      }
    }
    const networks = this.deps.networking?.plan(req) ?? [];
    const mode = host.NetworkMode ?? '';
    if (mode.startsWith('container:')) this.store.resolve(mode.slice('container:'.length));
    const created = new Date().toISOString();
    // One transaction: a concurrent `volume prune` never sees a new anonymous volume unattached.
    writeTx(this.deps.db, () => {
      for (const m of mounts) {
        if (m.Type !== 'volume') continue;
        m.anonymous = !m.Name;
        const v = this.deps.volumes.create(m.Name || undefined, { anonymous: m.anonymous });
        m.Name = v.Name;
        m.Source = v.Mountpoint;
      }
      const rec = this.store.insert({
        ...placeholder(),
        id,
        name,
        imageId: image.id,
        created,
        spec: { request: req.config, hostConfig: host, config, path, args, layers: image.chainIds, mounts, runtime },
      });
      for (const m of mounts) if (m.Type === 'volume' && m.Name) this.deps.volumes.attach(rec.id, m.Name);
      this.deps.networking?.record(rec.id, networks);
    });
    mkdirSync(this.deps.paths.dir(id), { recursive: true, mode: 0o710 });
    return { Id: id, Warnings: [] };
  }

  // ---------------------------------------------------------------- read

  /** Finds a container by ID, name or ID prefix, with its state brought up to date. */
  async get(input: string): Promise<ContainerRecord> {
    return this.refresh(this.store.resolve(input));
  }

  /** `ps`. */
  async list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    let records = await Promise.all(this.store.list().map((r) => this.refresh(r)));
    if (options.limit !== undefined && options.limit > 0) records = records.slice(0, options.limit);
    else if (!options.all) records = records.filter((r) => r.status === 'running' || r.status === 'paused' || r.status === 'restarting');
    const filters = options.filters ?? [];
    if (filters.length > 0) {
      records = records.filter((r) => matchesContainerFilters(r, filters, this.lookups()));
    }
    const layerSizes = options.size ? this.layerSizes() : undefined;
    const network = this.deps.networking?.settingsOfMany(records);
    return records.map((r, i) => summaryView(r, layerSizes && this.sizes(r, layerSizes), network?.[i]?.Ports));
  }

  /** Runs `fn` under the container's lock (whose file goes with the container). */
  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.deps.paths.lock(id), fn, () => !this.store.get(id));
  }

  /**
   * The record once no start, finish or removal of the container is under way (they hold its
   * lock): a run is recorded as running before `runc start` returns, and a signal sent in
   * between would kill a process that has not started, failing the start.
   */
  private async settled(input: string): Promise<ContainerRecord> {
    const rec = await this.get(input);
    await this.locked(rec.id, async () => undefined);
    return this.get(rec.id);
  }

  private lookups(): FilterLookups {
    return { container: (i) => this.store.tryResolve(i), image: (i) => this.deps.imageId(i) };
  }

  /** `inspect`. */
  async inspect(input: string, size = false): Promise<ContainerInspect> {
    const rec = await this.get(input);
    return inspectView(rec, this.deps.paths, size ? this.sizes(rec, this.layerSizes()) : undefined, this.deps.networking?.settings(rec));
  }

  /** Unpacked bytes of each layer snapshot, by chain ID. */
  private layerSizes(): Map<string, number> {
    const rows = this.deps.db.prepare(`SELECT chain_id, size FROM snapshots`).all() as { chain_id: string; size: number }[];
    return new Map(rows.map((r) => [r.chain_id, r.size]));
  }

  /** Bytes in the writable layer, and that plus the image's layers. */
  private sizes(rec: ContainerRecord, layerSizes: Map<string, number>): { rw: number; rootFs: number } {
    const rw = dirSize(this.deps.paths.upper(rec.id));
    const base = rec.spec.layers.reduce((sum, c) => sum + (layerSizes.get(c) ?? 0), 0);
    return { rw, rootFs: rw + base };
  }

  // ---------------------------------------------------------------- start

  /** `start`: runs the container's process; no-op when it already runs. */
  async start(input: string, opts: StartOptions = {}): Promise<ContainerRecord> {
    let rec = await this.get(input);
    if (rec.status === 'paused') throw errors.conflict(`cannot start a paused container, try unpause instead`);
    if (rec.status === 'running' || rec.status === 'restarting') return rec;
    return this.locked(rec.id, async () => {
      rec = await this.get(rec.id);
      if (rec.status === 'running' || rec.status === 'paused' || rec.status === 'restarting') return rec;
      return this.startLocked(rec, opts);
    });
  }

  private async startLocked(prev: ContainerRecord, opts: StartOptions): Promise<ContainerRecord> {
    const gen = prev.runGen + 1;
    const startedAt = new Date().toISOString();
    // Claim the run first: if this process dies before conmon takes over, the next reader
    // finds a dead owner and tears the half-started run down.
    const claimed = this.store.update(prev.id, prev.runGen, {
      status: 'running',
      runGen: gen,
      pid: 0,
      monitorPid: process.pid,
      monitorStart: processStartTime(process.pid) ?? 0,
      bootId: bootId(),
      startedAt,
      error: '',
      exitCode: 0,
      oomKilled: false,
      stoppedByUser: false,
    });
    if (!claimed) throw errors.conflict(`container ${prev.id} changed while starting; try again`);
    let rec: ContainerRecord = { ...prev, status: 'running', runGen: gen, startedAt };
    let network: Promise<void> | undefined;
    try {
      const run = await this.prepareRun(rec, opts.attached ?? false);
      network = run.network;
      const started = await launchConmon(run.conmon);
      const owner = { pid: started.pid, monitorPid: started.monitorPid, monitorStart: processStartTime(started.monitorPid) ?? 0 };
      this.store.update(rec.id, gen, owner);
      rec = { ...rec, ...owner };
      if (opts.onCreated) await opts.onCreated(rec);
      await network;
      await this.runtimeFor(rec).start(rec.id);
      return rec;
    } catch (err) {
      const message = err instanceof RuntimeCreateError || err instanceof GantryError ? err.message : String(err);
      const code = err instanceof RuntimeCreateError ? startFailureExitCode(message) : 125;
      // A network attachment still under way finishes before the teardown detaches it.
      await network?.catch(() => undefined);
      await this.teardown(rec);
      this.store.update(rec.id, gen, {
        status: prev.startedAt ? 'exited' : 'created',
        pid: 0,
        monitorPid: 0,
        exitCode: code === 125 ? 128 : code,
        error: message,
        startedAt: prev.startedAt,
        finishedAt: prev.startedAt ? new Date().toISOString() : prev.finishedAt,
      });
      if (err instanceof RuntimeCreateError) {
        throw new GantryError('FAILED_PRECONDITION', `failed to create task for container ${rec.id}: OCI runtime create failed: ${message}`);
      }
      throw err;
    }
  }

  /**
   * Mounts the root filesystem and writes the bundle; returns conmon's options, and the
   * network attachment, which may still be under way (see writeBundle).
   */
  private async prepareRun(rec: ContainerRecord, attached: boolean): Promise<{ conmon: ConmonOptions; network: Promise<void> }> {
    const p = this.deps.paths;
    const { id } = rec;
    for (const d of [p.dir(id), p.runtimeState, p.exitDir, p.socketDir, p.netnsDir]) mkdirSync(d, { recursive: true, mode: 0o711 });
    for (const f of ['exit', 'oom', 'pidfile', 'conmon.pid'] as const) rmSync(p.file(id, f), { force: true });
    rmSync(p.exitFile(id), { force: true });
    const { network } = await writeBundle(rec, this.mountLayers(rec), p, this.deps.volumes, await this.bundleNetwork(rec));
    const runtime = this.runtimeFor(rec);
    const policy = rec.spec.hostConfig.RestartPolicy?.Name ?? 'no';
    const conmon: ConmonOptions = {
      id,
      name: rec.name,
      runtime: runtime.binary,
      runtimeArgs: runtime.globalArgs(),
      bundle: p.dir(id),
      pidFile: p.file(id, 'pidfile'),
      conmonPidFile: p.file(id, 'conmon.pid'),
      logPath: p.file(id, 'ctr.log'),
      persistDir: p.dir(id),
      exitDir: p.exitDir,
      socketDir: p.socketDir,
      terminal: rec.spec.config.Tty ?? false,
      stdin: rec.spec.config.OpenStdin ?? false,
      exitCommand: attached && policy === 'no' ? undefined : this.deps.exitCommand(id, rec.runGen),
    };
    return { conmon, network };
  }

  /** How a starting container's namespace is set up: attached to its networks, or another's joined. */
  private async bundleNetwork(rec: ContainerRecord): Promise<BundleNetwork> {
    const mode = rec.spec.hostConfig.NetworkMode ?? '';
    if (mode.startsWith('container:')) {
      const input = mode.slice('container:'.length);
      const other = await this.get(input);
      if (other.status !== 'running' && other.status !== 'paused') {
        throw errors.conflict(`cannot join network namespace of a non running container: container ${other.id} is ${other.status}`);
      }
      const p = this.deps.paths;
      const otherMode = other.spec.hostConfig.NetworkMode ?? '';
      if (otherMode === 'host' || otherMode.startsWith('container:')) {
        throw errors.conflict(`cannot join the network namespace of container ${other.id}: it has none of its own (${otherMode})`);
      }
      return { join: { netns: p.netns(other.id), hostname: other.spec.config.Hostname ?? '', hostsFile: p.file(other.id, 'hosts'), resolvFile: p.file(other.id, 'resolv.conf') } };
    }
    const networking = this.deps.networking;
    if (!networking || mode === 'none' || mode === 'host') return {};
    return { attach: (netns) => networking.attach(rec, netns) };
  }

  /** Mounts the container's root filesystem (image layers under its writable layer); returns it. */
  private mountLayers(rec: ContainerRecord): string {
    const p = this.deps.paths;
    const lowers = [...rec.spec.layers].reverse().map((c) => this.deps.snapshotDir(c));
    if (lowers.length === 0) {
      const empty = join(p.dir(rec.id), 'empty');
      mkdirSync(empty, { recursive: true });
      lowers.push(empty);
    }
    mountRootfs(lowers, p.upper(rec.id), p.work(rec.id), p.rootfs(rec.id), this.deps.snapshotsRoot);
    return p.rootfs(rec.id);
  }

  // ---------------------------------------------------------------- end of a run

  /** True while the process that owns the current run (conmon, or a starter) lives. */
  private ownerAlive(rec: ContainerRecord): boolean {
    if (rec.monitorPid <= 0 || rec.bootId !== bootId()) return false;
    return processStartTime(rec.monitorPid) === rec.monitorStart;
  }

  /**
   * Brings a record up to date: records the end of a run whose owner is gone or whose exit
   * file is written. A run that ended and that the restart policy restarts is left to the
   * monitor's exit command, which is running at that moment.
   */
  async refresh(rec: ContainerRecord): Promise<ContainerRecord> {
    if (!isActive(rec)) return rec;
    const alive = this.ownerAlive(rec);
    if (alive) {
      if (rec.status === 'restarting') return rec;
      if (!existsSync(this.deps.paths.file(rec.id, 'exit'))) return rec;
      if (restartDecision(rec, this.exitOf(rec).exitCode) !== undefined) return rec;
    }
    await this.finishRun(rec.id, rec.runGen, { restart: false });
    return this.store.get(rec.id) ?? { ...rec, status: 'removing' };
  }

  /** The monitor's exit command: records the run's end and applies the restart policy. */
  monitorExit(id: string, gen: number): Promise<void> {
    return this.finishRun(id, gen, { restart: true });
  }

  /**
   * Records how run `gen` ended and tears it down (runtime state, mounts, namespace), then
   * applies the restart policy and `--rm`. Idempotent: later calls for the same run do nothing.
   */
  async finishRun(id: string, gen: number, opts: { restart: boolean }): Promise<void> {
    let restartDelay: number | undefined;
    await this.locked(id, async () => {
      const rec = this.store.get(id);
      if (!rec || rec.runGen !== gen || !isActive(rec)) return;
      // Still running (nothing ended yet), or waiting to restart in a live exit hook (which
      // owns the record until it starts the next run): a caller with an older view backs off.
      if (this.ownerAlive(rec) && (rec.status === 'restarting' || !existsSync(this.deps.paths.file(id, 'exit')))) return;
      const ended = this.exitOf(rec);
      const restart = opts.restart && rec.status !== 'restarting' ? restartDecision(rec, ended.exitCode) : undefined;
      const autoRemove = restart === undefined && (rec.spec.hostConfig.AutoRemove ?? false);
      // `--rm`: the container's files go while the runtime deletes its state.
      await this.teardown(rec, autoRemove ? () => this.removeFiles(id) : undefined);
      const finishedAt = new Date().toISOString();
      if (restart !== undefined) {
        this.store.update(id, gen, {
          status: 'restarting',
          pid: 0,
          exitCode: ended.exitCode,
          oomKilled: ended.oomKilled,
          error: ended.error,
          finishedAt,
          restartCount: rec.restartCount + 1,
          monitorPid: process.pid,
          monitorStart: processStartTime(process.pid) ?? 0,
          bootId: bootId(),
        });
        restartDelay = restart;
        return;
      }
      this.store.update(id, gen, {
        status: 'exited',
        pid: 0,
        monitorPid: 0,
        exitCode: ended.exitCode,
        oomKilled: ended.oomKilled,
        error: ended.error,
        finishedAt,
      });
      // `--rm`. Removed by the exit hook, the exit file in the run directory stays for `wait`
      // to read (swept a minute later); an attached `run` has read it already.
      if (autoRemove) await this.removeLocked(id, { volumes: true }, opts.restart);
    });
    if (restartDelay !== undefined) await this.restartAfter(id, gen, restartDelay);
  }

  /** Waits out the restart back-off, then starts the container again unless it was stopped. */
  private async restartAfter(id: string, gen: number, delayMs: number): Promise<void> {
    await sleep(delayMs);
    await this.locked(id, async () => {
      const rec = this.store.get(id);
      if (!rec || rec.runGen !== gen || rec.status !== 'restarting') return;
      try {
        await this.startLocked(rec, {});
      } catch {
        // recorded on the container by startLocked
      }
    });
  }

  /** How the current run ended, from conmon's files. */
  private exitOf(rec: ContainerRecord): { exitCode: number; oomKilled: boolean; error: string } {
    const p = this.deps.paths;
    const oomKilled = existsSync(p.file(rec.id, 'oom'));
    try {
      const code = Number(readFileSync(p.file(rec.id, 'exit'), 'utf8').trim());
      if (Number.isInteger(code) && code >= 0) return { exitCode: code, oomKilled, error: '' };
    } catch {
      // no exit file: the monitor (or the starter) died first
    }
    if (rec.status === 'restarting') return { exitCode: rec.exitCode, oomKilled: rec.oomKilled, error: rec.error };
    const error = rec.pid > 0 ? 'container monitor exited unexpectedly' : 'container start was interrupted';
    return { exitCode: 255, oomKilled, error };
  }

  /**
   * Removes what a run set up; safe to repeat. `alongside` runs while the runtime deletes its
   * state, which takes a process start.
   */
  private async teardown(rec: ContainerRecord, alongside?: () => void): Promise<void> {
    const p = this.deps.paths;
    // `runc delete` (state and cgroups) runs while the rest is undone here: it does not touch
    // the root file system or the network namespace of a container that has exited.
    const deleting = existsSync(join(p.runtimeState, rec.id)) ? this.runtimeFor(rec).delete(rec.id) : undefined;
    try {
      unmountRootfs(p.rootfs(rec.id));
      if (this.namespaceShared(rec)) {
        // CNI DEL first: the plugins remove the veth through the namespace, which lives on.
        await this.deps.networking?.detach(rec, p.netns(rec.id)).catch(() => undefined);
        removeNetns(p.netns(rec.id));
      } else {
        // NOTE: the namespace first. Its last reference gone, the kernel destroys it with the
        // container's end of the veth pair, and so the pair, in the background; CNI DEL then
        // finds no namespace (the spec's case of resources already gone) and only releases the
        // address and port mappings. Deleting the veth in the foreground instead, as DEL does
        // when the namespace exists, waits for the kernel to unregister the device (20-30 ms).
        removeNetns(p.netns(rec.id));
        await this.deps.networking?.detach(rec, p.netns(rec.id)).catch(() => undefined);
      }
      rmSync(join(p.socketDir, rec.id), { force: true });
      alongside?.();
    } finally {
      await deleting;
    }
    // conmon may still be finishing (it exits right after its exit files): stop it for good.
    if (rec.monitorPid > 0 && rec.monitorPid !== process.pid && processStartTime(rec.monitorPid) === rec.monitorStart) {
      try {
        process.kill(rec.monitorPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  /** True when a running container joined the network namespace of `rec` (`--network container:`). */
  private namespaceShared(rec: ContainerRecord): boolean {
    return this.store.namespaceJoiners().some((j) => j.id !== rec.id && this.store.tryResolve((j.spec.hostConfig.NetworkMode ?? '').slice('container:'.length))?.id === rec.id);
  }

  // ---------------------------------------------------------------- stop, kill, pause

  /**
   * `stop`: the stop signal, then SIGKILL after `timeout` seconds (the container's
   * StopTimeout, else 10); waits until the run has ended and been recorded.
   */
  async stop(input: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = await this.settled(input);
    if (rec.status === 'restarting') {
      this.store.update(rec.id, rec.runGen, { status: 'exited', stoppedByUser: true, monitorPid: 0 });
      return;
    }
    if (!isActive(rec)) return;
    this.store.update(rec.id, rec.runGen, { stoppedByUser: true });
    const runtime = this.runtimeFor(rec);
    if (rec.status === 'paused') await runtime.resume(rec.id).catch(() => undefined);
    const timeout = opts.timeout ?? rec.spec.config.StopTimeout ?? 10;
    const signal = opts.signal || rec.spec.config.StopSignal || 'SIGTERM';
    await runtime.kill(rec.id, signalName(signal));
    // A negative timeout waits for as long as it takes (Docker's `stop -t -1`).
    if (!(await this.waitExit(rec, timeout < 0 ? Infinity : timeout * 1000))) {
      await runtime.kill(rec.id, 'KILL', true);
      await this.waitExit(rec, 10_000);
    }
    await this.finishRun(rec.id, rec.runGen, { restart: false });
  }

  /** `kill`. */
  async kill(input: string, signal = 'KILL'): Promise<void> {
    const rec = await this.settled(input);
    if (rec.status !== 'running' && rec.status !== 'paused') {
      throw errors.conflict(`Cannot kill container: ${input}: container ${rec.id} is not running`);
    }
    const sig = signalName(signal);
    this.store.update(rec.id, rec.runGen, { stoppedByUser: true });
    const sent = await this.runtimeFor(rec).kill(rec.id, sig, sig === 'KILL');
    if (!sent) throw errors.conflict(`Cannot kill container: ${input}: container ${rec.id} is not running`);
    if (sig === 'KILL') {
      await this.waitExit(rec, 10_000);
      await this.finishRun(rec.id, rec.runGen, { restart: false });
    }
  }

  /** `pause`. */
  async pause(input: string): Promise<void> {
    const rec = await this.get(input);
    if (rec.status === 'paused') throw errors.conflict(`Container ${rec.id} is already paused`);
    if (rec.status !== 'running') throw errors.conflict(`Container ${rec.id} is not running`);
    await this.runtimeFor(rec).pause(rec.id);
    this.store.update(rec.id, rec.runGen, { status: 'paused' });
  }

  /** `unpause`. */
  async unpause(input: string): Promise<void> {
    const rec = await this.get(input);
    if (rec.status !== 'paused') throw errors.conflict(`Container ${rec.id} is not paused`);
    await this.runtimeFor(rec).resume(rec.id);
    this.store.update(rec.id, rec.runGen, { status: 'running' });
  }

  /** `restart`: stop (if running) and start. */
  async restart(input: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.stop(input, opts);
    await this.start(input);
  }

  /** `rename`. */
  async rename(input: string, newName: string): Promise<void> {
    const rec = await this.get(input);
    const name = validName(newName);
    if (name === rec.name) throw errors.invalid(`Renaming a container with the same name as its current name`);
    this.store.rename(rec.id, name);
  }

  // ---------------------------------------------------------------- wait

  /**
   * Resolves when the current run's exit file appears (true), or after `timeoutMs` (false).
   * Also returns when the run's owner is gone without one.
   */
  async waitExit(rec: ContainerRecord, timeoutMs = Infinity): Promise<boolean> {
    const exitFile = this.deps.paths.file(rec.id, 'exit');
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      if (existsSync(exitFile)) return true;
      const cur = this.store.get(rec.id);
      if (!cur || cur.runGen !== rec.runGen || !isActive(cur)) return true;
      if (cur.status !== 'restarting' && !this.ownerAlive(cur)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 100);
    }
  }

  /**
   * `wait`: blocks until the container is not running (`condition` "not-running", the
   * default), its next exit ("next-exit"), or its removal ("removed"); returns the exit code.
   */
  async wait(input: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<number> {
    const first = await this.get(input);
    let last = first;
    for (;;) {
      const cur = this.store.get(first.id);
      // Removed (e.g. by --rm): the run directory still has the last exit code.
      if (!cur) return this.exitFileCode(first.id) ?? last.exitCode;
      last = await this.refresh(cur);
      if (isActive(last)) {
        await this.waitExit(last);
        await this.refresh(this.store.get(first.id) ?? last);
        continue;
      }
      if (condition === 'not-running') return last.exitCode;
      if (condition === 'next-exit' && last.runGen > first.runGen) return last.exitCode;
      await sleep(50);
    }
  }

  // ---------------------------------------------------------------- remove

  /** `rm`. */
  async remove(input: string, opts: RemoveOptions = {}): Promise<void> {
    const rec = await this.get(input);
    if (isActive(rec)) {
      if (!opts.force) {
        throw errors.conflict(
          `cannot remove container "/${rec.name}": container is ${rec.status}: stop the container before removing or force remove`,
        );
      }
      if (rec.status !== 'restarting') {
        this.store.update(rec.id, rec.runGen, { stoppedByUser: true });
        await this.runtimeFor(rec).kill(rec.id, 'KILL', true);
        await this.waitExit(rec, 10_000);
      }
    }
    await this.locked(rec.id, async () => {
      const cur = this.store.get(rec.id);
      if (!cur) return;
      await this.teardown(cur);
      await this.removeLocked(rec.id, opts);
    });
  }

  private async removeLocked(id: string, opts: RemoveOptions, keepExitFile = false): Promise<void> {
    const rec = this.store.get(id);
    if (!rec) return;
    const p = this.deps.paths;
    this.removeFiles(id);
    const anonymous = rec.spec.mounts.filter((m) => m.Type === 'volume' && m.anonymous && m.Name);
    this.deps.volumes.detachAll(id);
    this.store.delete(id);
    if (opts.volumes) {
      for (const m of anonymous) {
        try {
          this.deps.volumes.remove(m.Name as string, false);
        } catch {
          // in use by another container, or gone: Docker keeps it too
        }
      }
    }
    if (!keepExitFile) rmSync(p.exitFile(id), { force: true });
    sweepExitFiles(p.exitDir, (other: string) => this.store.get(other) !== undefined);
  }

  /** Removes the container's directory: its root file system's layer, bundle, logs. */
  private removeFiles(id: string): void {
    const p = this.deps.paths;
    unmountRootfs(p.rootfs(id));
    rmSync(p.dir(id), { recursive: true, force: true });
  }

  /** `container prune`: removes every stopped container; returns IDs and bytes freed. */
  async prune(filters: ContainerFilter[] = []): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let space = 0;
    for (const rec of await Promise.all(this.store.list().map((r) => this.refresh(r)))) {
      if (isActive(rec)) continue;
      if (!matchesContainerFilters(rec, filters, this.lookups())) continue;
      space += dirSize(this.deps.paths.upper(rec.id));
      await this.remove(rec.id);
      deleted.push(rec.id);
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }

  /**
   * `system boot`: after a reboot (or whenever), starts the containers whose restart policy
   * says they should run: `always`, and `unless-stopped` unless a user stopped them.
   */
  async boot(): Promise<string[]> {
    const started: string[] = [];
    for (const rec of await Promise.all(this.store.list().map((r) => this.refresh(r)))) {
      const policy = rec.spec.hostConfig.RestartPolicy?.Name ?? 'no';
      const wanted = policy === 'always' || (policy === 'unless-stopped' && !rec.stoppedByUser);
      if (!wanted || isActive(rec)) continue;
      try {
        await this.start(rec.id);
        started.push(rec.id);
      } catch {
        // recorded on the container; the others still start
      }
    }
    return started;
  }

  // ---------------------------------------------------------------- I/O

  /** Connects to a running (or created) container's stdio. */
  openAttach(rec: ContainerRecord): AttachSession {
    return AttachSession.connect(this.deps.paths.dir(rec.id));
  }

  /**
   * The exit code of run `rec.runGen`, once conmon has written it. Read from the run
   * directory, which outlives `--rm`'s removal of the container's own files.
   */
  async runExitCode(rec: ContainerRecord): Promise<number> {
    let delay = 2;
    for (let waited = 0; ; waited += delay) {
      const code = this.exitFileCode(rec.id);
      if (code !== undefined) return code;
      const cur = this.store.get(rec.id);
      if (cur && cur.runGen === rec.runGen && !isActive(cur)) return cur.exitCode;
      if (cur && cur.runGen === rec.runGen && !this.ownerAlive(cur) && cur.status !== 'restarting') {
        return (await this.refresh(cur)).exitCode;
      }
      if (!cur && waited > 2000) return 255;
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  /** The code in conmon's exit file in the run directory, if written. */
  private exitFileCode(id: string): number | undefined {
    try {
      const code = Number(readFileSync(this.deps.paths.exitFile(id), 'utf8').trim());
      return Number.isInteger(code) ? code : undefined;
    } catch {
      return undefined;
    }
  }

  /** `logs`: the container's output entries, optionally following it. */
  async logs(input: string, opts: Omit<ReadLogsOptions, 'isRunning'>, onEntry: (e: LogEntry) => void | Promise<void>): Promise<void> {
    const rec = await this.get(input);
    const isRunning = () => {
      const cur = this.store.get(rec.id);
      if (!cur || !isActive(cur)) return false;
      if (cur.status === 'restarting') return true;
      return this.ownerAlive(cur) && !existsSync(this.deps.paths.file(rec.id, 'exit'));
    };
    await readLogs(this.deps.paths.file(rec.id, 'ctr.log'), { ...opts, isRunning }, onEntry);
  }

  /**
   * `exec`: runs a command in a running container (see exec.ts); resolves to its exit code.
   */
  async exec(input: string, opts: ExecOptions, stdio: StdioOptions): Promise<number> {
    const rec = await this.get(input);
    return execInContainer(rec, this.deps.paths, this.runtimeFor(rec), opts, stdio);
  }

  /** `top`: the container's processes as the host's `ps` shows them. */
  async top(input: string, psArgs: string[]): Promise<TopResult> {
    const rec = await this.get(input);
    if (rec.status !== 'running' && rec.status !== 'paused') throw errors.conflict(`Container ${rec.id} is not running`);
    return top(await this.runtimeFor(rec).pids(rec.id), psArgs);
  }

  /**
   * `stats --no-stream`: one row per container from two samples 500 ms apart (CPU use is
   * a rate). Containers that do not run get a row of zeros with `running` false.
   */
  async statsRows(inputs: string[]): Promise<(StatsRow & { id: string; name: string; input: string; running: boolean })[]> {
    const recs = await Promise.all(inputs.map((i) => this.get(i)));
    const sample = (r: ContainerRecord, prev?: ContainerStatsSample) => {
      if (r.status !== 'running' && r.status !== 'paused') return undefined;
      try {
        return readStats(`/gantry/${r.id}`, r.pid, prev);
      } catch {
        return undefined;
      }
    };
    const first = recs.map((r) => sample(r));
    await sleep(500);
    return recs.map((r, i) => {
      const prev = first[i];
      const cur = prev && sample(r, prev);
      const base = { id: r.id, name: r.name, input: inputs[i] as string };
      if (!cur) return { ...base, running: false, cpuPercent: 0, memUsage: 0, memLimit: 0, memPercent: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0 };
      return { ...base, running: true, ...statsRow(cur, prev) };
    });
  }

  /**
   * Runs `fn` with a host directory showing the container's filesystem: for a running
   * container its mount namespace's root (volumes included), otherwise the root filesystem
   * mounted for the duration of `fn`.
   */
  async withRootfs<T>(input: string, fn: (root: string) => Promise<T>): Promise<T> {
    const rec = await this.get(input);
    if (rec.status === 'running' || rec.status === 'paused') return fn(`/proc/${rec.pid}/root`);
    return this.locked(rec.id, async () => {
      const cur = await this.get(rec.id);
      if (cur.status === 'running' || cur.status === 'paused') return fn(`/proc/${cur.pid}/root`);
      const root = this.mountLayers(rec);
      try {
        return await fn(root);
      } finally {
        unmountRootfs(root);
      }
    });
  }

  // ---------------------------------------------------------------- cp (see copy.ts)

  /** What is at `path` in the container (Docker's HEAD /containers/{id}/archive). */
  async statPath(input: string, path: string) {
    const copy = await import('./copy.js');
    return this.withRootfs(input, async (root) => copy.inContainerPath(input, path, () => copy.statInRoot(root, path)));
  }

  /**
   * A tar of `path` in the container and its stat (Docker's GET /containers/{id}/archive).
   * NOTE: the archive is spooled to an unlinked file in the container's directory: a stopped
   * container's root filesystem is unmounted as soon as withRootfs returns.
   */
  async copyFrom(input: string, path: string, opts: { rebaseName?: string } = {}) {
    const copy = await import('./copy.js');
    const { id } = await this.get(input);
    return this.withRootfs(id, (root) =>
      copy.inContainerPath(input, path, async () => ({
        stat: copy.statInRoot(root, path),
        stream: await copy.spoolArchive(copy.archiveFromRoot(root, path, opts), this.deps.paths.dir(id)),
      })),
    );
  }

  /**
   * Extracts tar `tar` into directory `destPath` of the container (Docker's PUT
   * /containers/{id}/archive). What it creates belongs to the container's root user, as
   * Docker documents, unless `copyUIDGID` keeps the archive's owners.
   */
  async copyTo(input: string, destPath: string, tar: AsyncIterable<Uint8Array>, opts: { copyUIDGID?: boolean; allowOverwriteDirWithFile?: boolean } = {}): Promise<void> {
    const copy = await import('./copy.js');
    const rec = await this.get(input);
    await this.withRootfs(rec.id, (root) =>
      copy.inContainerPath(input, destPath, () =>
        copy.extractToRoot(root, destPath, tar, {
          noOverwriteDirNonDir: !opts.allowOverwriteDirWithFile,
          chown: opts.copyUIDGID ? undefined : { uid: 0, gid: 0 },
          checkWritable: copy.writableCheck(rec.spec.mounts, rec.spec.hostConfig.ReadonlyRootfs ?? false),
        }),
      ),
    );
  }

  /** `system df`: containers, running ones, bytes in writable layers, and those of stopped ones. */
  async diskUsage(): Promise<{ total: number; active: number; size: number; reclaimable: number }> {
    const recs = await Promise.all(this.store.list().map((r) => this.refresh(r)));
    let size = 0;
    let reclaimable = 0;
    for (const r of recs) {
      const rw = dirSize(this.deps.paths.upper(r.id));
      size += rw;
      if (!isActive(r)) reclaimable += rw;
    }
    return { total: recs.length, active: recs.filter(isActive).length, size, reclaimable };
  }

  /** Image IDs used by containers (images cannot be removed under them). */
  imagesInUse(): Map<Digest, number> {
    return this.store.imagesInUse();
  }

  /** Layer snapshots containers stand on (GC keeps them even when their image is gone). */
  snapshotRoots(): string[] {
    return this.store.list().flatMap((r) => r.spec.layers.slice(-1));
  }
}

/** Running, paused or restarting: a run is in progress. */
export function isActive(rec: ContainerRecord): boolean {
  return rec.status === 'running' || rec.status === 'paused' || rec.status === 'restarting';
}

/** A record's defaults before create fills it in. */
function placeholder(): ContainerRecord {
  return {
    id: '',
    name: '',
    imageId: '' as Digest,
    created: '',
    spec: { request: { Image: '' }, hostConfig: {}, config: { Image: '' }, path: '', args: [], layers: [], mounts: [], runtime: '' },
    status: 'created',
    pid: 0,
    monitorPid: 0,
    monitorStart: 0,
    bootId: '',
    runGen: 0,
    exitCode: 0,
    oomKilled: false,
    error: '',
    startedAt: '',
    finishedAt: '',
    restartCount: 0,
    stoppedByUser: false,
  };
}
