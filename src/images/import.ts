/**
 * `import`: a root filesystem tarball becomes a one-layer image, as `docker import` makes it.
 * The tarball may be uncompressed or gzip-compressed; the layer is stored uncompressed, so its
 * digest is its diff ID.
 */
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { errors } from '../core/errors.js';
import { hostPlatform } from '../core/platform.js';
import { MediaType } from '../core/media-types.js';
import type { ContainerConfig, ImageConfig, Platform } from '../core/oci.js';
import type { OpContext } from '../core/op-context.js';
import { formatReference, parseRepository } from '../core/reference.js';
import type { Db } from '../metadata/database.js';
import { applyChanges } from './changes.js';
import { type CommitDeps, type CommitResult, commitImage, withLease } from './commit.js';
import type { NameRecord } from './image-store.js';

/** Options of an import. */
export interface ImportOptions {
  /** Repository[:tag] to name the image. */
  reference?: string;
  /** `--change` instructions. */
  changes?: readonly string[];
  /** `--message`: the history comment. */
  message?: string;
  platform?: Platform;
  /** Creation time (defaults to now; bootstrap fixes it for reproducible IDs). */
  created?: string;
  /** Base container config the changes apply to. */
  baseConfig?: ContainerConfig;
  /** The history entry's created_by. */
  createdBy?: string;
}

/** Services an import needs. */
export interface ImportDeps extends CommitDeps {
  db: Db;
  /** Runs garbage collection (used to leave nothing behind after a failure). */
  gc: () => Promise<unknown>;
}

/** Parses `REPOSITORY[:TAG]` into the name record an image gets; `latest` when untagged. */
export function tagName(reference: string): NameRecord {
  const ref = parseRepository(reference);
  return { name: formatReference({ ...ref, tag: ref.tag ?? 'latest' }), kind: 'tag' };
}

/** Imports a rootfs tarball stream as a new image. */
export async function importRootfs(deps: ImportDeps, source: Readable, options: ImportOptions, ctx: OpContext = {}): Promise<CommitResult> {
  // Validate everything the user typed before reading a byte.
  const names = options.reference ? [tagName(options.reference)] : [];
  const containerConfig: ContainerConfig = { ...options.baseConfig };
  applyChanges(containerConfig, options.changes ?? []);
  const platform = options.platform ?? hostPlatform();

  return withLease(deps.db, deps.gc, async (lease) => {
    const tar = await maybeGunzip(source);
    const blob = await deps.content.write(tar, {}, ctx.signal);
    lease.add('blob', blob.digest);
    const created = options.created ?? new Date().toISOString();
    const comment = options.message || 'Imported from -';
    const config: ImageConfig = {
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: containerConfig,
      created,
      history: [{ created, ...(options.createdBy ? { created_by: options.createdBy } : {}), comment }],
      os: platform.os,
      rootfs: { type: 'layers', diff_ids: [blob.digest] },
    };
    return commitImage(
      deps,
      {
        configBytes: Buffer.from(JSON.stringify(config)),
        layers: [{ digest: blob.digest, size: blob.size, mediaType: MediaType.OciLayer }],
        names,
      },
      lease,
      ctx,
    );
  });
}

/** Returns the stream decompressed when it starts with the gzip magic. */
export async function maybeGunzip(source: Readable): Promise<Readable> {
  const head = await peek(source, 2);
  if (head.length === 0) throw errors.invalid('invalid tar archive: the input is empty');
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  source.unshift(head);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    source.on('error', (e) => out.destroy(e));
    gunzip.on('error', (e) => out.destroy(errors.invalid(`invalid gzip data: ${e.message}`, { cause: e })));
    return source.pipe(gunzip).pipe(out);
  }
  source.on('error', (e) => out.destroy(e));
  return source.pipe(out);
}

/** Reads the first `n` bytes of a stream (fewer at its end) without losing them. */
async function peek(source: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const chunk = await new Promise<Buffer | null>((resolve, reject) => {
      const c = source.read() as Buffer | null;
      if (c !== null) return resolve(c);
      if (source.readableEnded) return resolve(null);
      const onReadable = () => {
        cleanup();
        resolve(source.read() as Buffer | null);
      };
      const onEnd = () => {
        cleanup();
        resolve(null);
      };
      const onError = (e: Error) => {
        cleanup();
        reject(e);
      };
      const cleanup = () => {
        source.off('readable', onReadable);
        source.off('end', onEnd);
        source.off('error', onError);
      };
      source.on('readable', onReadable);
      source.on('end', onEnd);
      source.on('error', onError);
    });
    if (chunk === null) break;
    chunks.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(chunks);
}
