/**
 * The image service: the images on this machine, their names, and the operations Docker's
 * image commands perform on them (list, inspect, tag, remove, prune, history, disk usage).
 * Getting images in and out (import, load, save, bootstrap) lives in files of their own and
 * goes through {@link commitImage}.
 *
 * Vocabulary: an image is identified by its ID (the config digest); names are tags
 * (`repo:tag`) and digests (`repo@sha256:...`); an image with no name and no child is
 * *dangling*.
 */
import type { LocalContentStore } from '../content/local-content-store.js';
import { type Digest, shortId } from '../core/digest.js';
import { errors } from '../core/errors.js';
import type { ImageConfig } from '../core/oci.js';
import { familiarString, formatReference, normalizeReference, parseRepository, repositoryName } from '../core/reference.js';
import { type Db, writeTx } from '../metadata/database.js';
import type { OverlaySnapshotter } from '../snapshots/overlay-snapshotter.js';
import { collectGarbage } from './gc.js';
import { parseConfig } from './commit.js';
import type { ImageRecord, ImageStore } from './image-store.js';
import {
  epochSeconds,
  familiarNames,
  type HistoryRow,
  historyView,
  type ImageInspect,
  type ImageSummary,
  inspectView,
} from './image-views.js';
import { displayName, resolveImage, tryResolve } from './resolve.js';
import { type ImageFilter, matchesFilters, referenceMatch } from './filters.js';

/** One line of what `rmi` did: `Untagged: busybox:latest` or `Deleted: sha256:...`. */
export interface RemoveEvent {
  Untagged?: string;
  Deleted?: string;
}

/** Options of {@link ImageService.remove}. */
export interface RemoveOptions {
  force?: boolean;
}

/** Result of a prune. */
export interface PruneReport {
  ImagesDeleted: RemoveEvent[];
  SpaceReclaimed: number;
}

/** Docker's `system df` figures for images. */
export interface ImageUsage {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** Services the image service stands on. */
export interface ImageServiceDeps {
  db: Db;
  content: LocalContentStore;
  snapshots: OverlaySnapshotter;
  store: ImageStore;
  /** Image IDs used by containers (the container service provides this later). */
  imagesInUse?: () => Map<Digest, number>;
  /** Snapshots containers stand on (kept by GC even when their image is gone). */
  snapshotRoots?: () => Iterable<string>;
}

/** The image service. */
export class ImageService {
  constructor(private readonly deps: ImageServiceDeps) {}

  /** Resolves a name or ID (NOT_FOUND when missing). */
  resolve(input: string): ImageRecord {
    const { id } = resolveImage(this.deps.store, input);
    const rec = this.deps.store.get(id);
    if (!rec) throw errors.notFound(`No such image: ${displayName(input)}`);
    return rec;
  }

  /** True when `input` names an image here. */
  exists(input: string): boolean {
    return this.idOf(input) !== undefined;
  }

  /** The ID of the image `input` names, or undefined. */
  idOf(input: string): Digest | undefined {
    return tryResolve(this.deps.store, input)?.id;
  }

  /** The tags of a repository here (`docker.io/library/busybox`), as full references, sorted. */
  localTags(repository: string): string[] {
    return this.deps.store
      .list()
      .flatMap((r) => r.names)
      .filter((n) => n.kind === 'tag' && n.name.startsWith(`${repository}:`))
      .map((n) => n.name)
      .sort();
  }

  /** The parsed config of an image. */
  async config(rec: ImageRecord): Promise<ImageConfig> {
    return parseConfig(await this.deps.content.readBytes(rec.id));
  }

  /** Images as `images` lists them; `all` includes intermediate (untagged parent) images. */
  async list(options: { all?: boolean; filters?: ImageFilter[] } = {}): Promise<ImageSummary[]> {
    const records = this.deps.store.list();
    const inUse = this.deps.imagesInUse?.() ?? new Map<Digest, number>();
    const hasChildren = new Set(records.map((r) => r.parent).filter(Boolean));
    const chainUse = new Map<string, number>();
    for (const r of records) for (const l of r.layers) chainUse.set(l.chainId, (chainUse.get(l.chainId) ?? 0) + 1);
    const sizes = this.snapshotSizes();
    const needLabels = options.filters?.some((f) => f.key === 'label') ?? false;
    const out: ImageSummary[] = [];
    for (const rec of records) {
      const summary = summaryOf(rec);
      const untagged = summary.RepoTags.length === 0 && summary.RepoDigests.length === 0;
      if (!options.all && untagged && hasChildren.has(rec.id)) continue;
      if (needLabels) summary.Labels = (await this.config(rec)).config?.Labels ?? {};
      summary.SharedSize = rec.layers.reduce(
        (a, l) => a + ((chainUse.get(l.chainId) ?? 0) > 1 ? (sizes.get(l.chainId) ?? 0) : 0),
        0,
      );
      summary.Containers = inUse.get(rec.id) ?? 0;
      if (options.filters && !matchesFilters(summary, options.filters, (i) => this.resolve(i))) continue;
      // As Docker: with a reference filter, an image shows only the names that matched.
      const patterns = options.filters?.filter((f) => f.key === 'reference').map((f) => f.value) ?? [];
      if (patterns.length > 0) {
        summary.RepoTags = summary.RepoTags.filter((t) => patterns.some((p) => referenceMatch(p, t)));
        summary.RepoDigests = summary.RepoDigests.filter((d) => patterns.some((p) => referenceMatch(p, d)));
      }
      out.push(summary);
    }
    out.sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id));
    return out;
  }

  /** Docker's inspect view. */
  async inspect(input: string): Promise<ImageInspect> {
    const rec = this.resolve(input);
    const dirs = rec.layers.map((l) => this.deps.snapshots.dir(l.chainId)).reverse();
    return inspectView(rec, await this.config(rec), dirs);
  }

  /** Docker's history view. */
  async history(input: string): Promise<HistoryRow[]> {
    const rec = this.resolve(input);
    const sizes = this.snapshotSizes();
    return historyView(rec, await this.config(rec), rec.layers.map((l) => sizes.get(l.chainId) ?? 0));
  }

  /** Points `target` (a repository with optional tag) at the image `source` names. */
  tag(source: string, target: string): void {
    const rec = this.resolve(source);
    const ref = parseRepository(target);
    if (!ref.tag) ref.tag = 'latest';
    this.deps.store.setName({ name: formatReference(ref), kind: 'tag' }, rec.id);
  }

  /**
   * Removes a name or an image, as `docker rmi` does: a name is untagged, and the image is
   * deleted when no name is left; an ID deletes the image, which needs `force` when names in
   * more than one repository point at it. Images with children, or used by containers, are
   * refused with Docker's conflict messages.
   */
  async remove(input: string, options: RemoveOptions = {}): Promise<RemoveEvent[]> {
    const { id, ref } = resolveImage(this.deps.store, input);
    const layersTopDown = (this.deps.store.get(id)?.layers ?? []).map((l) => l.chainId).reverse();
    const events: RemoveEvent[] = [];
    const deleted = writeTx(this.deps.db, () => {
      const rec = this.deps.store.get(id);
      if (!rec) throw errors.notFound(`No such image: ${displayName(input)}`);
      const inUse = this.deps.imagesInUse?.().get(id) ?? 0;
      const byName = ref !== undefined && !input.startsWith('sha256:');
      if (byName && ref) {
        // Untag the name; the image goes only when no name is left.
        const name = formatReference(ref.digest ? { ...ref, tag: undefined } : ref);
        this.deps.store.removeName(name);
        events.push({ Untagged: familiarString(ref.digest ? { ...ref, tag: undefined } : ref) });
        const left = rec.names.filter((n) => n.name !== name);
        // Docker also drops digest names of the same repository once its last tag is gone.
        const repo = repositoryName(ref);
        if (!left.some((n) => n.kind === 'tag' && n.name.startsWith(`${repo}:`))) {
          for (const n of left.filter((n) => n.kind === 'digest' && n.name.startsWith(`${repo}@`))) {
            this.deps.store.removeName(n.name);
            events.push({ Untagged: familiarString(normalizeReference(n.name)) });
          }
        }
        if (this.deps.store.get(id)?.names.length) return false;
        if (inUse > 0) return false;
      } else {
        const repos = new Set(rec.names.map((n) => repositoryName(normalizeReference(n.name))));
        if (inUse > 0 && !options.force) {
          throw errors.conflict(
            `conflict: unable to delete ${shortId(id)} (must be forced) - image is being used by ${inUse} container(s)`,
          );
        }
        if (repos.size > 1 && !options.force) {
          throw errors.conflict(
            `conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`,
          );
        }
        for (const n of rec.names) {
          this.deps.store.removeName(n.name);
          events.push({ Untagged: familiarString(normalizeReference(n.name)) });
        }
      }
      if (this.deps.store.children(id).length > 0) {
        if (events.length > 0) return false; // untagged; the image stays as an intermediate
        throw errors.conflict(
          `conflict: unable to delete ${shortId(id)} (cannot be forced) - image has dependent child images`,
        );
      }
      this.deps.store.delete(id);
      events.push({ Deleted: id });
      return true;
    });
    if (deleted) {
      const gc = await collectGarbage(this.deps.db, this.deps.content, this.deps.snapshots);
      const removed = new Set<string>(gc.snapshots);
      for (const c of layersTopDown) if (removed.has(c)) events.push({ Deleted: c });
    }
    return events;
  }

  /** Removes dangling images (with `all`, every image no container uses). */
  async prune(options: { all?: boolean; filters?: ImageFilter[] } = {}): Promise<PruneReport> {
    const inUse = this.deps.imagesInUse?.() ?? new Map<Digest, number>();
    const sizesBefore = this.snapshotSizes();
    const records = this.deps.store.list();
    const report: PruneReport = { ImagesDeleted: [], SpaceReclaimed: 0 };
    const parents = new Set(records.map((r) => r.parent).filter(Boolean));
    const victims: ImageRecord[] = [];
    for (const r of records) {
      if (inUse.has(r.id) || (!options.all && (r.names.length > 0 || parents.has(r.id)))) continue;
      if (options.filters) {
        const summary = { ...summaryOf(r), Labels: (await this.config(r)).config?.Labels ?? {} };
        if (!matchesFilters(summary, options.filters, (i) => this.resolve(i))) continue;
      }
      victims.push(r);
    }
    writeTx(this.deps.db, () => {
      for (const r of victims) {
        for (const n of r.names) report.ImagesDeleted.push({ Untagged: familiarString(normalizeReference(n.name)) });
        this.deps.store.delete(r.id);
        report.ImagesDeleted.push({ Deleted: r.id });
      }
    });
    if (victims.length > 0) {
      const gc = await collectGarbage(this.deps.db, this.deps.content, this.deps.snapshots);
      for (const c of gc.snapshots) {
        report.ImagesDeleted.push({ Deleted: c });
        report.SpaceReclaimed += sizesBefore.get(c) ?? 0;
      }
    }
    return report;
  }

  /** Image figures for `system df`. */
  diskUsage(): ImageUsage {
    const records = this.deps.store.list();
    const inUse = this.deps.imagesInUse?.() ?? new Map<Digest, number>();
    const sizes = this.snapshotSizes();
    const all = new Set<string>();
    const active = new Set<string>();
    for (const r of records) {
      for (const l of r.layers) {
        all.add(l.chainId);
        if (inUse.has(r.id)) active.add(l.chainId);
      }
    }
    const sum = (set: Set<string>) => [...set].reduce((a, c) => a + (sizes.get(c) ?? 0), 0);
    const size = sum(all);
    return { total: records.length, active: records.filter((r) => inUse.has(r.id)).length, size, reclaimable: size - sum(active) };
  }

  /** Runs garbage collection now. */
  gc() {
    return collectGarbage(this.deps.db, this.deps.content, this.deps.snapshots, this.deps.snapshotRoots);
  }

  private snapshotSizes(): Map<string, number> {
    return new Map(this.deps.snapshots.list().map((s) => [s.chainId, s.size]));
  }
}

function summaryOf(r: ImageRecord): ImageSummary {
  const { tags, digests } = familiarNames(r);
  return {
    Id: r.id,
    ParentId: r.parent,
    RepoTags: tags,
    RepoDigests: digests,
    Created: epochSeconds(r.created),
    Size: r.size,
    SharedSize: 0,
    Labels: {},
    Containers: 0,
  };
}
