/**
 * The engine: the composition root that opens the state under one directory and builds the
 * services on it. Front ends (the CLI, later the Engine API) call only this.
 *
 * gantry is daemonless: each process opens the engine, works and closes it; several may
 * run at once on one root (see metadata/database.ts for how they stay consistent).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LocalContentStore } from '../content/local-content-store.js';
import { type Digest } from '../core/digest.js';
import { errors } from '../core/errors.js';
import type { OpContext } from '../core/op-context.js';
import { formatReference, normalizeReference, parseReference, repositoryName } from '../core/reference.js';
import { type Db, openDatabase } from '../metadata/database.js';
import { OverlaySnapshotter } from '../snapshots/overlay-snapshotter.js';
import { saveArchive, type SaveItem } from '../images/archive-save.js';
import { type LoadedImage, loadArchive } from '../images/archive-load.js';
import { bootstrapBusybox } from '../images/bootstrap.js';
import type { CommitResult } from '../images/commit.js';
import { ImageService, type ImageUsage } from '../images/image-service.js';
import { ImageStore } from '../images/image-store.js';
import { type ImportDeps, type ImportOptions, importRootfs } from '../images/import.js';

/** The default state root, as Docker's /var/lib/docker. */
export const DEFAULT_ROOT = '/var/lib/gantry';

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** The state root; defaults to {@link DEFAULT_ROOT}. */
  root?: string;
}

/** `system df` figures. */
export interface DiskUsage {
  images: ImageUsage;
}

/** The engine. */
export class Engine {
  /** The image service: list, inspect, tag, remove, prune, history. */
  readonly images: ImageService;
  private readonly importDeps: ImportDeps;

  private constructor(
    readonly root: string,
    private readonly db: Db,
    private readonly content: LocalContentStore,
    snapshots: OverlaySnapshotter,
  ) {
    const store = new ImageStore(db);
    this.images = new ImageService({ db, content, snapshots, store });
    this.importDeps = { db, content, snapshots, images: store, gc: () => this.images.gc() };
  }

  /** Opens the engine on a state root, creating it when missing. */
  static open(options: EngineOptions = {}): Engine {
    const root = resolve(options.root ?? DEFAULT_ROOT);
    try {
      mkdirSync(root, { recursive: true, mode: 0o711 });
      const db = openDatabase(join(root, 'gantry.db'));
      return new Engine(root, db, new LocalContentStore(join(root, 'content')), new OverlaySnapshotter(db, join(root, 'snapshots')));
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

  /** `image bootstrap busybox`. */
  bootstrapBusybox(reference?: string, ctx: OpContext = {}): Promise<CommitResult> {
    return bootstrapBusybox(this.importDeps, reference, ctx);
  }

  /** `system df`. */
  diskUsage(): DiskUsage {
    return { images: this.images.diskUsage() };
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
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
