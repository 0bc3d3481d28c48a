/**
 * The file system of one build step: the stage's layer snapshots mounted as overlay lowers
 * under a fresh upper directory, on the snapshots' file system. A RUN runs in it, a COPY writes
 * into it; then `commit` turns the upper directory into the step's layer — a deterministic tar
 * (snapshots/diff.ts), gzip-compressed into the content store — and adopts the very same
 * directory as the layer's committed snapshot, so a built layer is never unpacked again.
 *
 *   <snapshots>/tmp/<pid>-<rand>/fs       the upper directory (becomes <chain>/fs)
 *                                 /work     overlayfs's work directory
 *                                 /rootfs   the merged mount
 *                                 /empty    an empty lower for a stage with no layers yet
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import type { ContentStore } from '../content/content-store.js';
import { chainIds, type Digest } from '../core/digest.js';
import { dirSize } from '../core/dir-size.js';
import { MediaType } from '../core/media-types.js';
import type { Lease } from '../metadata/leases.js';
import { layerDiffStream } from '../snapshots/diff.js';
import { mountReadOnly, mountRootfs, unmountRootfs } from '../snapshots/overlay-mount.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';

/** One layer of a stage, as the image record and the build cache keep it. */
export interface LayerRef {
  diffId: Digest;
  chainId: Digest;
  blobDigest: Digest;
  mediaType: string;
  blobSize: number;
}

/** Mounts a writable file system over `layers` (bottom first) for one step. */
export async function openStepFs(snapshots: Snapshotter, layers: readonly LayerRef[]): Promise<StepFs> {
  const dir = await snapshots.workDir();
  const fs = new StepFs(snapshots, dir, layers);
  try {
    const lowers = layers.map((l) => snapshots.dir(l.chainId)).reverse();
    if (lowers.length === 0) {
      lowers.push(join(dir, 'empty'));
      mkdirSync(join(dir, 'empty'));
    }
    mountRootfs(lowers, fs.upper, join(dir, 'work'), fs.rootfs, snapshots.root);
  } catch (err) {
    await fs.discard();
    throw err;
  }
  return fs;
}

/**
 * Mounts a read-only view of `layers` (bottom first) at a private directory: the file system
 * of a finished stage or image that a COPY --from or RUN --mount reads. `release` unmounts it.
 */
export async function mountLayersReadOnly(
  snapshots: Snapshotter,
  layers: readonly LayerRef[],
): Promise<{ path: string; release: () => Promise<void> }> {
  const dir = await snapshots.workDir();
  const path = join(dir, 'rootfs');
  const release = async () => {
    unmountRootfs(path);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    mountReadOnly(layers.map((l) => snapshots.dir(l.chainId)).reverse(), path, snapshots.root, join(dir, 'empty'));
  } catch (err) {
    await release();
    throw err;
  }
  return { path, release };
}

/** A mounted step file system. */
export class StepFs {
  readonly upper: string;
  readonly rootfs: string;
  private mounted = true;

  constructor(
    private readonly snapshots: Snapshotter,
    readonly dir: string,
    private readonly layers: readonly LayerRef[],
  ) {
    this.upper = join(dir, 'fs');
    this.rootfs = join(dir, 'rootfs');
  }

  /** A private directory for the step's own files (its OCI bundle), removed with the rest. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Unmounts the merged view (idempotent). */
  unmount(): void {
    if (!this.mounted) return;
    unmountRootfs(this.rootfs);
    this.mounted = false;
  }

  /** Unmounts and removes everything. */
  async discard(): Promise<void> {
    this.unmount();
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Unmounts, exports the changes as a layer blob and adopts them as its snapshot. Returns
   * undefined (and discards the directory) when the step changed nothing: BuildKit then adds
   * no layer, only a history entry marked empty.
   */
  async commit(content: ContentStore, lease: Lease, signal?: AbortSignal): Promise<{ layer: LayerRef; size: number } | undefined> {
    this.unmount();
    if (readdirSync(this.upper).length === 0) {
      await this.discard();
      return undefined;
    }
    try {
      const { stream, result } = layerDiffStream(this.upper, { signal });
      // Level 1: build layers are compressed on the critical path of every build; the ratio
      // on typical trees is within a few per cent of the default level at a third of the time.
      const gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
      const piping = pipeline(stream, gzip, { signal });
      const [blob] = await Promise.all([content.write(gzip, {}, signal), piping]);
      lease.add('blob', blob.digest);
      const { diffId } = await result;
      const parent = this.layers[this.layers.length - 1]?.chainId ?? '';
      const chainId = chainIds([...this.layers.map((l) => l.diffId), diffId]).pop() as Digest;
      const size = dirSize(this.upper);
      await this.snapshots.adopt(this.dir, { chainId, parent, diffId, size }, lease);
      this.mounted = false;
      return { layer: { diffId, chainId, blobDigest: blob.digest, mediaType: MediaType.OciLayerGzip, blobSize: blob.size }, size };
    } catch (err) {
      await this.discard();
      throw err;
    }
  }
}
