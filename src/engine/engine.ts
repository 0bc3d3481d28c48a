/**
 * The engine: the composition root that opens the state under one directory and builds the
 * services on it. Front ends (the CLI, later the Engine API) call only this.
 *
 * gantry is daemonless: each process opens the engine, works and closes it; several may
 * run at once on one root (see metadata/database.ts for how they stay consistent).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LocalContentStore } from '../content/local-content-store.js';
import { type Digest } from '../core/digest.js';
import { errors, isGantryError } from '../core/errors.js';
import { dirSize } from '../core/dir-size.js';
import { packageRoot } from '../core/package-root.js';
import type { OpContext } from '../core/op-context.js';
import { familiarName, formatReference, normalizeReference, parseReference, type Reference, repositoryName } from '../core/reference.js';
import { type PullOptions, type PullResult, pullImage, remoteTags } from '../distribution/pull.js';
import { type PushResult, pushImage } from '../distribution/push.js';
import { type Credentials, credentialKey } from '../distribution/credentials.js';
import { Registries } from '../distribution/registries.js';
import { type SearchOptions, type SearchResult, searchRegistry } from '../distribution/search.js';
import { type FetchedManifest, RegistryError } from '../distribution/registry-client.js';
import { type Db, openDatabase } from '../metadata/database.js';
import { OverlaySnapshotter } from '../snapshots/overlay-snapshotter.js';
import { saveArchive, type SaveItem } from '../images/archive-save.js';
import { type LoadedImage, loadArchive } from '../images/archive-load.js';
import { bootstrapBusybox } from '../images/bootstrap.js';
import type { CommitResult } from '../images/commit.js';
import { ImageService, type ImageUsage } from '../images/image-service.js';
import { ImageStore } from '../images/image-store.js';
import { type ImportDeps, type ImportOptions, importRootfs } from '../images/import.js';
import { VolumeService } from '../volumes/volume-service.js';
import { ContainerService } from '../containers/container-service.js';
import type { ContainerNetworking } from '../containers/networking.js';
import { NetworkService } from '../network/network-service.js';
import { parseEgressPolicy } from '../network/egress.js';
import { ContainerPaths, runDirFor } from '../containers/paths.js';
import { type BaseImage, Builder } from '../build/builder.js';
import { BuildCache, type CacheEntry } from '../build/cache.js';
import { OciRuntime } from '../runtime/runc.js';
import type { BuildEventSink } from '../core/build-events.js';
import type { Platform } from '../core/oci.js';
import type { HostConfig } from '../core/container-types.js';
import { buildImage, type BuildOptions, type BuildOutcome } from './build.js';

/** The default state root, as Docker's /var/lib/docker. */
export const DEFAULT_ROOT = '/var/lib/gantry';

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** The state root; defaults to {@link DEFAULT_ROOT}. */
  root?: string;
  /**
   * The environment the registry client reads (DOCKER_CONFIG for credentials,
   * GANTRY_DAEMON_CONFIG, GANTRY_EXTRA_CA_CERTS); process.env by default. The hub's automated
   * builds give each build an engine with credentials of its own this way.
   */
  env?: NodeJS.ProcessEnv;
}

/** `system df` figures. */
export interface DiskUsage {
  images: ImageUsage;
  containers: { total: number; active: number; size: number; reclaimable: number };
}

/** The engine. */
export class Engine {
  /** The image service: list, inspect, tag, remove, prune, history. */
  readonly images: ImageService;
  /** The volume service: create, inspect, list, remove, prune, disk usage. */
  readonly volumes: VolumeService;
  /** The container service: create, start, stop, remove, list, inspect, wait. */
  readonly containers: ContainerService;
  /** The network service: bridge networks, and the containers' endpoints on them. */
  readonly networks: NetworkService;
  private readonly importDeps: ImportDeps;
  private registriesInstance: Registries | undefined;
  private readonly buildCache: BuildCache;
  private readonly builder: Builder;
  private readonly containerPaths: ContainerPaths;

  private constructor(
    readonly root: string,
    private readonly db: Db,
    private readonly content: LocalContentStore,
    snapshots: OverlaySnapshotter,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const store = new ImageStore(db);
    this.images = new ImageService({
      db,
      content,
      snapshots,
      store,
      imagesInUse: () => this.containers.imagesInUse(),
      snapshotRoots: () => this.containers.snapshotRoots(),
    });
    this.importDeps = { db, content, snapshots, images: store, gc: () => this.images.gc() };
    this.volumes = new VolumeService({ db, root });
    let runtimes: Record<string, string> | undefined;
    const paths = new ContainerPaths(root, runDirFor(root, DEFAULT_ROOT));
    this.containerPaths = paths;
    this.networks = new NetworkService({
      db,
      root,
      runDir: paths.runDir,
      // One default bridge per state root: gantry0 for the default one.
      defaultBridge: root === DEFAULT_ROOT ? 'gantry0' : `gantry${paths.runDir.slice(-8)}`,
    });
    this.buildCache = new BuildCache(db);
    this.builder = new Builder({
      content,
      snapshots,
      cache: this.buildCache,
      runtime: () => new OciRuntime((runtimes ??= findRuntimes()).runc as string, paths.runtimeState),
      resolveImage: (ref, o) => this.baseImage(ref, o),
      cacheMountRoot: join(root, 'build', 'cache-mounts'),
    });
    this.containers = new ContainerService({
      db,
      paths,
      volumes: this.volumes,
      image: async (input) => {
        const rec = this.images.resolve(input);
        return { id: rec.id, config: await this.images.config(rec), chainIds: rec.layers.map((l) => l.chainId) };
      },
      imageId: (input) => this.images.idOf(input),
      snapshotDir: (chainId) => snapshots.dir(chainId as Digest),
      snapshotsRoot: join(root, 'snapshots'),
      exitCommand: (id, gen) => [process.execPath, exitHookPath(), root, id, String(gen)],
      runtimes: () => (runtimes ??= findRuntimes()),
      networking: containerNetworking(this.networks),
    });
  }

  /** Opens the engine on a state root, creating it when missing. */
  static open(options: EngineOptions = {}): Engine {
    const root = resolve(options.root ?? DEFAULT_ROOT);
    try {
      mkdirSync(root, { recursive: true, mode: 0o711 });
      const db = openDatabase(join(root, 'gantry.db'));
      return new Engine(root, db, new LocalContentStore(join(root, 'content')), new OverlaySnapshotter(db, join(root, 'snapshots')), options.env);
    } catch (err) {
      throw errors.precondition(`cannot open the state root ${root}: ${(err as Error).message}`, {
        cause: err,
        hint: 'gantry needs root, or --root/GANTRY_ROOT pointing at a writable directory',
      });
    }
  }

  /** `import`: a rootfs tarball as a one-layer image. */
  importImage(source: Readable, options: ImportOptions = {}, ctx: OpContext = {}): Promise<CommitResult> {
    return importRootfs(this.importDeps, source, options, ctx);
  }

  /** `load`: every image of a Docker or OCI archive. */
  loadImages(source: Readable, ctx: OpContext = {}): Promise<LoadedImage[]> {
    return loadArchive(this.importDeps, source, ctx);
  }

  /**
   * `save`: the named images as one archive. A name with a tag saves that tag; a repository
   * without a tag saves all its tags; an ID saves the image untagged.
   */
  async saveImages(inputs: readonly string[], out: Writable): Promise<void> {
    const items = new Map<Digest, SaveItem>();
    for (const input of inputs) {
      const rec = this.images.resolve(input);
      const item = items.get(rec.id) ?? { image: rec, names: [] };
      items.set(rec.id, item);
      let names: string[] = [];
      try {
        const ref = parseReference(input);
        names =
          ref.tag || ref.digest
            ? [formatReference(normalizeReference(input))]
            : rec.names.filter((n) => n.name.startsWith(`${repositoryName(ref)}:`)).map((n) => n.name);
      } catch {
        // an image ID: saved without a name
      }
      names = names.filter((n) => rec.names.some((r) => r.kind === 'tag' && r.name === n));
      for (const n of names) if (!item.names.includes(n)) item.names.push(n);
    }
    await saveArchive(this.content, [...items.values()], out);
  }

  /** Registries: endpoints, credentials, insecure and mirror settings (set up on first use). */
  private get registries(): Registries {
    return (this.registriesInstance ??= new Registries(this.env));
  }

  /** The credentials stored for a registry host ("docker.io" for Docker Hub), if any. */
  storedCredentials(host: string): Promise<Credentials | undefined> {
    return this.registries.credentials.get(host);
  }

  /**
   * `login`: checks the credentials against the registry, then stores them (in a credential
   * helper when one is configured for the host, else in the configuration file).
   */
  async login(host: string, creds: Credentials, signal?: AbortSignal): Promise<{ storedIn: string | undefined }> {
    const store = this.registries.credentials;
    await this.registries.loginClient(host, creds).checkLogin(signal);
    const viaHelper = await store.usesHelper(host);
    await store.store(host, creds);
    // `storedIn`: the file the password went into unencrypted (none with a helper).
    return { storedIn: viaHelper ? undefined : store.path };
  }

  /** `logout`: erases a host's credentials; `removed` is false when there were none. */
  async logout(host: string): Promise<{ key: string; removed: boolean }> {
    return { key: credentialKey(host), removed: await this.registries.credentials.erase(host) };
  }

  /** `pull`: an image (a tag or digest of a repository) from its registry. */
  pull(reference: string, options: PullOptions = {}, ctx: OpContext = {}): Promise<PullResult> {
    return pullImage({ ...this.importDeps, registries: this.registries }, normalizeReference(reference), options, ctx);
  }

  /** The tags of a repository in its registry (`pull --all-tags`). */
  remoteTags(repository: string, signal?: AbortSignal): Promise<string[]> {
    return remoteTags({ ...this.importDeps, registries: this.registries }, parseReference(repository), signal);
  }

  /** A manifest or index as the registry serves it (`manifest inspect`). */
  async remoteManifest(ref: Reference): Promise<FetchedManifest> {
    const client = await this.registries.client(ref.domain);
    try {
      return await client.getManifest(ref.path, ref.digest ?? ref.tag ?? 'latest');
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) throw errors.notFound(`no such manifest: ${formatReference(ref)}`);
      throw err;
    }
  }

  /** `search`: repositories matching `term` in the registry it names (Docker Hub by default). */
  search(term: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    return searchRegistry(this.registries, term, options);
  }

  /** `push`: the image a local name points at, to the registry of that name. */
  push(name: string, ctx: OpContext = {}): Promise<PushResult> {
    const ref = normalizeReference(name);
    const rec = this.importDeps.images.get(this.importDeps.images.idByName(formatReference(ref)) ?? ('' as Digest));
    if (!rec) throw errors.notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
    return pushImage({ content: this.content, images: this.importDeps.images, registries: this.registries }, rec, ref, ctx);
  }

  /** `image bootstrap busybox`. */
  bootstrapBusybox(reference?: string, ctx: OpContext = {}): Promise<CommitResult> {
    return bootstrapBusybox(this.importDeps, reference, ctx);
  }

  /**
   * `build`: a Dockerfile and its context into an image (or, with `output`, into files).
   * Progress goes to `events`; nothing is named unless the whole build succeeds.
   */
  build(options: BuildOptions, events: BuildEventSink, signal?: AbortSignal): Promise<BuildOutcome> {
    return buildImage(
      { ...this.importDeps, builder: this.builder, tempDir: join(this.root, 'tmp', 'build') },
      options,
      events,
      signal,
    );
  }

  /** `builder du`: the build cache's rows. */
  buildCacheEntries(): CacheEntry[] {
    return this.buildCache.list();
  }

  /**
   * `builder prune`: drops build cache rows (all with `all`, else those no image shares) and
   * the RUN --mount=type=cache directories, then collects what they held.
   */
  async pruneBuildCache(options: { all?: boolean; until?: Date } = {}): Promise<{ deleted: CacheEntry[]; reclaimed: number }> {
    const sizes = new Map(this.importDeps.snapshots.list().map((s) => [s.chainId, s.size]));
    const deleted = this.buildCache.prune(options);
    let reclaimed = 0;
    const mounts = join(this.root, 'build', 'cache-mounts');
    if (!options.until) {
      reclaimed += dirSize(mounts);
      await rm(mounts, { recursive: true, force: true });
    }
    const gc = await this.images.gc();
    for (const c of gc.snapshots) reclaimed += sizes.get(c) ?? 0;
    return { deleted, reclaimed };
  }

  /** A base image of a build: the local one, pulled when missing (or always with `pull`). */
  private async baseImage(ref: string, o: { pull: boolean; platform: Platform; signal?: AbortSignal }): Promise<BaseImage> {
    let rec;
    try {
      rec = o.pull ? undefined : this.images.resolve(ref);
    } catch (err) {
      if (!isGantryError(err, 'NOT_FOUND')) throw err;
    }
    if (!rec) {
      try {
        await this.pull(ref, { platform: o.platform }, { signal: o.signal });
      } catch (err) {
        if (isGantryError(err, 'CANCELED')) throw err;
        throw errors.notFound(`failed to resolve source metadata for ${formatReference(normalizeReference(ref))}: ${(err as Error).message}`, { cause: err });
      }
      rec = this.images.resolve(ref);
    }
    return { id: rec.id, name: ref, config: await this.images.config(rec), layers: rec.layers };
  }

  /** `network connect`: a container (running or not) to a network, with aliases and an address. */
  async connectNetwork(network: string, container: string, opts: { aliases?: string[]; ipv4?: string } = {}): Promise<void> {
    const rec = await this.containers.get(container);
    const host = rec.spec.hostConfig;
    await this.networks.connect(
      { network, aliases: opts.aliases ?? [], ipv4: opts.ipv4 ?? '' },
      {
        containerId: rec.id,
        name: rec.name,
        netns: this.containerPaths.netns(rec.id),
        ports: { bindings: {}, publishAll: [] },
        egress: host.Egress ? parseEgressPolicy(host.Egress.Mode, host.Egress.Allow) : undefined,
        dns: host.Dns ?? [],
        running: rec.status === 'running' || rec.status === 'paused',
        mode: host.NetworkMode ?? 'default',
      },
    );
  }

  /** `network disconnect`. */
  async disconnectNetwork(network: string, container: string, force = false): Promise<void> {
    let rec;
    try {
      rec = await this.containers.get(container);
    } catch (err) {
      if (force && isGantryError(err, 'NOT_FOUND')) return;
      throw err;
    }
    await this.networks.disconnect(network, { containerId: rec.id, name: rec.name, netns: this.containerPaths.netns(rec.id) }, force);
  }

  /** `system df`. */
  async diskUsage(): Promise<DiskUsage> {
    return { images: this.images.diskUsage(), containers: await this.containers.diskUsage() };
  }

  /** Closes the database. */
  close(): void {
    this.registriesInstance?.close();
    this.db.close();
  }
}

/** The container service's networking hooks, on the network service. */
function containerNetworking(networks: NetworkService): ContainerNetworking {
  const egressOf = (host: HostConfig) => (host.Egress ? parseEgressPolicy(host.Egress.Mode, host.Egress.Allow) : undefined);
  return {
    plan(req) {
      egressOf(req.hostConfig);
      const endpoints: Record<string, { aliases?: string[]; ipv4?: string }> = {};
      for (const [name, ep] of Object.entries(req.networkingConfig?.EndpointsConfig ?? {})) {
        endpoints[name] = { aliases: ep.Aliases ?? [], ipv4: ep.IPAMConfig?.IPv4Address ?? '' };
      }
      return networks.plan(req.hostConfig.NetworkMode ?? 'default', endpoints);
    },
    record: (id, plan) => networks.record(id, plan),
    attach(rec, netns) {
      const host = rec.spec.hostConfig;
      const mode = host.NetworkMode || 'default';
      if (networks.connections(rec.id).length === 0) {
        // Created before networks existed (schema 3): on the default bridge from now on.
        if (mode === 'default' || mode === 'bridge') networks.record(rec.id, networks.plan(mode, {}));
        // Its network was removed since create (the connection went with it), as Docker reports.
        else throw errors.notFound(`network ${mode} not found`);
      }
      const exposed = Object.keys(rec.spec.config.ExposedPorts ?? {});
      return networks.attach({
        containerId: rec.id,
        name: rec.name,
        netns,
        ports: { bindings: host.PortBindings ?? {}, publishAll: host.PublishAllPorts ? exposed : [] },
        egress: egressOf(host),
        dns: host.Dns ?? [],
      });
    },
    detach: (rec, netns) => networks.detach(rec.id, netns, rec.spec.hostConfig.Egress?.Mode === 'deny'),
    settings: (rec) => networks.settings(rec.id, Object.keys(rec.spec.config.ExposedPorts ?? {})),
    settingsOfMany: (recs) => networks.settingsOfMany(recs.map((r) => ({ id: r.id, exposed: Object.keys(r.spec.config.ExposedPorts ?? {}) }))),
  };
}

/** The monitor's exit hook: the bundled one when built, else the compiled module. */
function exitHookPath(): string {
  const bundled = join(packageRoot(), 'dist', 'exit-hook.mjs');
  return existsSync(bundled) ? bundled : join(packageRoot(), 'dist', 'src', 'engine', 'exit-hook.js');
}

/** The OCI runtimes installed on this host, runc first (the default). */
function findRuntimes(): Record<string, string> {
  const dirs = (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  const out: Record<string, string> = {};
  for (const name of ['runc', 'crun']) {
    for (const d of [...dirs, '/usr/sbin', '/usr/bin']) {
      const p = join(d, name);
      if (d && existsSync(p)) {
        out[name] = p;
        break;
      }
    }
  }
  if (!out.runc) out.runc = '/usr/sbin/runc'; // reported when used: "cannot run the OCI runtime"
  return out;
}

/** Opens the engine (the library's entry point). */
export function createEngine(options: EngineOptions = {}): Engine {
  return Engine.open(options);
}

// The vocabulary front ends use, so that they never reach past the engine.
export type { HistoryRow, ImageInspect, ImageSummary } from '../images/image-views.js';
export type { PruneReport, RemoveEvent } from '../images/image-service.js';
export type { LoadedImage } from '../images/archive-load.js';
export { parseImageFilters, type ImageFilter } from '../images/filters.js';
export type { SearchFilterArg, SearchOptions, SearchResult } from '../distribution/search.js';
export type { VolumeInfo } from '../core/container-types.js';
export type { BuildOptions, BuildOutcome } from './build.js';
export type { BuildSecret } from '../build/builder.js';
export type { CacheEntry } from '../build/cache.js';
export type { BuildEvent, BuildEventSink } from '../core/build-events.js';
export type { VolumePruneReport, VolumeUsage } from '../volumes/volume-service.js';
export type { NetworkCreateOptions } from '../network/network-service.js';
export type { NetworkInspect } from '../network/views.js';
export { parseEgressPolicy } from '../network/egress.js';
export type {
  EndpointConfig,
  ContainerCreateRequest,
  ContainerInspect,
  ContainerSummary,
  ContainerCreateConfig,
  HostConfig,
  MountSpec,
} from '../core/container-types.js';
export { parseContainerFilters, type ContainerFilter } from '../containers/filters.js';
export { startFailureExitCode } from '../containers/rules.js';
export type { ContainerRecord } from '../containers/container-store.js';
export { formatLogTimestamp, parseTimeArg } from '../containers/log-file.js';
export { type ArchiveOptions, type ExtractOptions, type PathStat, archiveFromRoot, extractToRoot, FileMode, hasMode } from '../containers/copy.js';
