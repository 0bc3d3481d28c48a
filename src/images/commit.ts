/**
 * Committing an image: the one path by which an image becomes visible, shared by import,
 * load and bootstrap (and later build and pull).
 *
 * Order matters for crash safety: every layer is unpacked into its snapshot and every blob
 * (config, manifest) is in the content store before the image row and its names are written
 * in one transaction. A crash before that transaction leaves only unreferenced files, which
 * the next garbage collection removes; a crash after it leaves a complete image.
 */
import type { Readable } from 'node:stream';
import type { ContentStore } from '../content/content-store.js';
import { chainIds, type Digest, shortId } from '../core/digest.js';
import { errors } from '../core/errors.js';
import { MediaType } from '../core/media-types.js';
import type { ImageConfig, ImageManifest } from '../core/oci.js';
import type { OpContext } from '../core/op-context.js';
import type { Db } from '../metadata/database.js';
import { createLease, type Lease } from '../metadata/leases.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import type { ImageStore, LayerRecord, MovedName, NameRecord } from './image-store.js';
import { type Compression, compressionOf, decompress, openLayer } from './layer-stream.js';

/** A layer blob that is already in the content store. */
export interface LayerBlob {
  digest: Digest;
  size: number;
  mediaType: string;
  /** Overrides the compression named by the media type (e.g. sniffed from a docker archive). */
  compression?: Compression;
  /**
   * Settles when the blob is in the content store, for a commit that starts while blobs still
   * arrive (pull). Absent: already there. The image is recorded only once every layer's is.
   */
  ready?: Promise<void>;
  /**
   * The blob's bytes as they arrive, to unpack from instead of waiting for `ready` and reading
   * the store. `release` is called when the unpack is over, whether it read them or not (a
   * snapshot that already exists needs none).
   */
  incoming?: { open(): Readable; release(): void };
}

/** What is needed to commit an image. */
export interface NewImage {
  /** The config exactly as its bytes must be kept: its digest is the image ID. */
  configBytes: Buffer;
  layers: LayerBlob[];
  names: NameRecord[];
  /** Parent image ID (the builder sets it), else ''. */
  parent?: string;
  /**
   * The manifest exactly as a registry served it (pull); without it an OCI manifest is
   * generated. Its layers must be `layers`, in order.
   */
  manifest?: { bytes: Buffer; mediaType: string };
}

/** The result of a commit. */
export interface CommitResult {
  id: Digest;
  config: ImageConfig;
  moved: MovedName[];
}

/** The services a commit uses. */
export interface CommitDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  images: ImageStore;
}

/**
 * Runs `fn` under a lease of this process. On failure the lease is dropped and garbage is
 * collected before the error propagates, so a failed import or load leaves the store as it was.
 */
export async function withLease<T>(db: Db, gc: () => Promise<unknown>, fn: (lease: Lease) => Promise<T>): Promise<T> {
  const lease = createLease(db);
  let result: T;
  try {
    result = await fn(lease);
  } catch (err) {
    lease.release();
    await gc();
    throw err;
  }
  lease.release();
  return result;
}

/** Parses and sanity-checks an image config. */
export function parseConfig(bytes: Buffer, what = 'image config'): ImageConfig {
  let config: ImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
  } catch (err) {
    throw errors.invalid(`invalid ${what}: not valid JSON`, { cause: err });
  }
  if (typeof config !== 'object' || config === null || !Array.isArray(config.rootfs?.diff_ids)) {
    throw errors.invalid(`invalid ${what}: missing rootfs.diff_ids`);
  }
  return config;
}

/** Unpacks, stores and records an image. The caller holds `lease` until this returns. */
export async function commitImage(deps: CommitDeps, img: NewImage, lease: Lease, ctx: OpContext = {}): Promise<CommitResult> {
  const config = parseConfig(img.configBytes);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== img.layers.length) {
    throw errors.invalid(
      `invalid image: the config lists ${diffIds.length} layers but the manifest has ${img.layers.length}`,
    );
  }
  const chains = chainIds(diffIds);
  const configInfo = await deps.content.writeBytes(img.configBytes);
  lease.add('blob', configInfo.digest);

  // NOTE: layers unpack concurrently: each snapshot holds only its own layer's changes, so
  // none depends on the files of another. Two at a time keeps both cores busy.
  const sizes = await mapLimit(img.layers, 2, async (layer, i) => {
    lease.add('blob', layer.digest);
    const compression = layer.compression ?? compressionOf(layer.mediaType);
    if (compression === undefined) throw errors.invalid(`unsupported layer media type ${layer.mediaType}`);
    const { incoming } = layer;
    if (!incoming) await layer.ready;
    const id = shortId(layer.digest);
    ctx.progress?.({ kind: 'progress', id, action: 'Loading layer', current: 0, total: layer.size });
    const info = await deps.snapshots
      .unpack(
        {
          chainId: chains[i] as Digest,
          parent: i === 0 ? '' : (chains[i - 1] as string),
          diffId: diffIds[i] as Digest,
          open: async () =>
            incoming ? decompress(incoming.open(), compression, `layer ${layer.digest}`) : openLayer(deps.content, layer.digest, compression),
        },
        lease,
        ctx.signal,
      )
      .finally(() => incoming?.release());
    ctx.progress?.({ kind: 'done', id, action: 'Loading layer' });
    return info.size;
  });

  await Promise.all(img.layers.map((l) => l.ready));

  const layerType = (l: LayerBlob) => (img.manifest ? l.mediaType : ociLayerType(l));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configInfo.digest, size: configInfo.size },
    layers: img.layers.map((l) => ({ mediaType: layerType(l), digest: l.digest, size: l.size })),
  };
  const manifestInfo = await deps.content.writeBytes(img.manifest?.bytes ?? JSON.stringify(manifest));
  lease.add('blob', manifestInfo.digest);

  const layers: LayerRecord[] = img.layers.map((l, i) => ({
    diffId: diffIds[i] as Digest,
    chainId: chains[i] as Digest,
    blobDigest: l.digest,
    mediaType: layerType(l),
    blobSize: l.size,
  }));
  const moved = deps.images.put(
    {
      id: configInfo.digest,
      manifestDigest: manifestInfo.digest,
      manifestType: img.manifest?.mediaType ?? MediaType.OciManifest,
      created: config.created,
      size: sizes.reduce((a, b) => a + b, 0),
      parent: img.parent ?? '',
      layers,
    },
    img.names,
  );
  return { id: configInfo.digest, config, moved };
}

function ociLayerType(layer: LayerBlob): string {
  const c = layer.compression ?? compressionOf(layer.mediaType);
  if (c === 'gzip') return MediaType.OciLayerGzip;
  if (c === 'zstd') return MediaType.OciLayerZstd;
  return MediaType.OciLayer;
}

/** Maps with at most `limit` calls in flight; rejects on the first failure after all settle. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
  return out;
}
