/**
 * `pull`: an image from a registry into the local store.
 *
 * The manifest (or index, from which the wanted platform's manifest is picked) comes first;
 * then the config, then the layers, three at a time, each streamed into the content store
 * (which verifies digest and size before a blob becomes visible) and at the same time into
 * its unpack (layer-tee.ts). A dropped connection resumes where it stopped with an HTTP Range
 * request; blobs already here are not fetched again. The image — the registry's manifest kept
 * byte for byte, so its digest stays the image's RepoDigest — is recorded and named in one
 * transaction once every blob is stored. Everything runs under a lease: a failed or
 * interrupted pull leaves no tagged image and no blob behind.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Digest } from '../core/digest.js';
import { shortId } from '../core/digest.js';
import { errors, GantryError, isGantryError } from '../core/errors.js';
import { isIndexType, isManifestType } from '../core/media-types.js';
import type { ImageIndex, ImageManifest, Platform } from '../core/oci.js';
import type { OpContext } from '../core/op-context.js';
import { formatPlatform, hostPlatform, platformMatches } from '../core/platform.js';
import { formatReference, type Reference, repositoryName } from '../core/reference.js';
import { type CommitResult, commitImage, mapLimit, parseConfig, withLease } from '../images/commit.js';
import type { NameRecord } from '../images/image-store.js';
import type { ImportDeps } from '../images/import.js';
import type { Lease } from '../metadata/leases.js';
import { type FetchedManifest, RegistryError, type RegistryClient } from './registry-client.js';
import { LayerTee, PullProgress } from './layer-tee.js';
import type { Registries } from './registries.js';
import { networkErrno } from './transport.js';

/** Options of a pull. */
export interface PullOptions {
  /** The platform to pick from an index (default: this machine's). */
  platform?: Platform;
}

/** What a pull did. */
export interface PullResult {
  /** The full reference pulled ("docker.io/library/busybox:latest"). */
  reference: string;
  /** The digest of the manifest or index the reference resolved to. */
  digest: Digest;
  id: Digest;
  /** False when the image was already here. */
  downloaded: boolean;
}

/** Services a pull uses. */
export interface PullDeps extends ImportDeps {
  registries: Registries;
}

// Three blobs download at once, as Docker's default max-concurrent-downloads.
const DOWNLOADS = 3;
const RESUMES = 5;

/** Pulls `ref` (normalized, with a tag or digest). */
export async function pullImage(deps: PullDeps, ref: Reference, options: PullOptions = {}, ctx: OpContext = {}): Promise<PullResult> {
  const reference = ref.digest ?? ref.tag ?? 'latest';
  // `client`: the registry that served the manifest (a mirror, or the reference's own).
  const { top, client } = await fetchTop(deps, ref, reference, ctx.signal);
  const repo = repositoryName({ ...ref, tag: undefined, digest: undefined });
  const names: NameRecord[] = [{ name: `${repo}@${top.digest}`, kind: 'digest' }];
  if (ref.tag !== undefined && ref.digest === undefined) names.unshift({ name: formatReference({ ...ref, digest: undefined }), kind: 'tag' });
  const shown = formatReference(ref);

  const wanted = options.platform ?? hostPlatform();
  const manifest = isIndexType(top.mediaType) ? await pickPlatform(client, ref.path, top, wanted, shown, ctx.signal) : top;
  if (!isManifestType(manifest.mediaType)) {
    throw errors.invalid(`unsupported manifest media type ${manifest.mediaType || '(none)'} for ${shown}`, {
      hint: 'gantry pulls OCI and Docker schema 2 images',
    });
  }
  const parsed = JSON.parse(manifest.bytes.toString('utf8')) as ImageManifest;
  if (!parsed.config?.digest || !Array.isArray(parsed.layers)) throw errors.invalid(`invalid manifest for ${shown}: no config or layers`);

  ctx.progress?.({ kind: 'message', text: `${ref.tag ?? ref.digest}: Pulling from ${ref.path}` });

  // The image (its ID is the config's digest) is already here: only (re)apply the names.
  if (deps.images.get(parsed.config.digest)) {
    for (const n of names) deps.images.setName(n, parsed.config.digest);
    return { reference: shown, digest: top.digest, id: parsed.config.digest, downloaded: false };
  }

  return withLease(deps.db, deps.gc, async (lease) => {
    const configBytes = await fetchSmallBlob(deps, client, ref.path, parsed.config.digest, parsed.config.size, lease, ctx.signal);
    const config = parseConfig(configBytes);
    if (options.platform && config.os && !platformMatches({ os: config.os, architecture: config.architecture ?? '', variant: config.variant }, wanted)) {
      throw errors.notFound(
        `image with reference ${shown} was found but does not match the specified platform: wanted ${formatPlatform(wanted)}, actual: ${formatPlatform({ os: config.os, architecture: config.architecture ?? '', variant: config.variant })}`,
      );
    }
    // Downloads and unpacking overlap: the commit starts at once, and each layer unpacks from
    // its download's bytes as they arrive (see layer-tee.ts). A failure on either side aborts
    // the other.
    const abort = new AbortController();
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, abort.signal]) : abort.signal;
    const progress = ctx.progress && new PullProgress(ctx.progress);
    const downloads = parsed.layers.map(() => deferred());
    const tees = await Promise.all(parsed.layers.map(async (l) => ((await deps.content.info(l.digest)) ? undefined : new LayerTee())));
    let stopping = false;
    let downloadError: unknown; // the first download failure not caused by an abort
    const downloading = mapLimit(parsed.layers, DOWNLOADS, async (layer, i) => {
      if (stopping) throw errors.canceled(); // its deferred is rejected already
      const done = downloads[i] as Deferred;
      try {
        const id = shortId(layer.digest);
        lease.add('blob', layer.digest);
        const tee = tees[i];
        if (!tee) {
          progress?.download({ kind: 'done', id, action: 'Already exists' });
        } else {
          progress?.download({ kind: 'progress', id, action: 'Pulling fs layer' });
          const bytes = resumable((start) => client.openBlob(ref.path, layer.digest, start, signal), layer.size, { progress: progress?.download, signal }, id);
          await deps.content.write(tee.feed(bytes, signal), { digest: layer.digest, size: layer.size }, signal);
          progress?.downloaded(id);
        }
        done.resolve();
      } catch (err) {
        if (!abort.signal.aborted) downloadError ??= err;
        done.reject(err);
        throw err;
      }
    });
    const committing = commitImage(
      deps,
      {
        configBytes,
        layers: parsed.layers.map((l, i) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, ready: downloads[i]?.promise, incoming: tees[i] })),
        names,
        manifest: { bytes: manifest.bytes, mediaType: manifest.mediaType },
      },
      lease,
      { signal, progress: progress?.commit },
    );
    let result: CommitResult;
    try {
      [, result] = await Promise.all([downloading, committing]);
    } catch (err) {
      stopping = true; // no download starts any more
      for (const tee of tees) tee?.release(err); // none waits for an unpack, none is read on
      for (const d of downloads) d.reject(err); // nor an unpack for a download
      // Corrupt data: the downloads in flight finish first, because a blob failing its digest
      // explains a layer that fails to unpack better than the unpack's own error does.
      const corrupt = isGantryError(err, 'DATA_LOSS') || isGantryError(err, 'INVALID_ARGUMENT');
      if (!corrupt) abort.abort(err);
      // Both sides must have stopped before the lease is dropped and its garbage collected.
      await Promise.allSettled([downloading, committing]);
      abort.abort(err);
      throw downloadError ?? err;
    }
    return { reference: shown, digest: top.digest, id: result.id, downloaded: true };
  });
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A promise settled from outside; its rejection counts as handled until someone awaits it. */
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The tags of a repository, for `pull --all-tags`. */
export async function remoteTags(deps: PullDeps, ref: Reference, signal?: AbortSignal): Promise<string[]> {
  const client = await deps.registries.client(ref.domain);
  try {
    return await client.listTags(ref.path, signal);
  } catch (err) {
    throw pullError(err, ref, formatReference(ref));
  }
}

async function fetchTop(
  deps: PullDeps,
  ref: Reference,
  reference: string,
  signal?: AbortSignal,
): Promise<{ top: FetchedManifest; client: RegistryClient }> {
  // Docker Hub pulls go to a configured mirror first, and to the Hub when no mirror has it;
  // the blobs then come from where the manifest came from.
  for (const mirror of await deps.registries.mirrors(ref.domain)) {
    try {
      return { top: await mirror.getManifest(ref.path, reference, signal), client: mirror };
    } catch (err) {
      if (signal?.aborted) throw err;
    }
  }
  const client = await deps.registries.client(ref.domain);
  try {
    return { top: await client.getManifest(ref.path, reference, signal), client };
  } catch (err) {
    throw pullError(err, ref, formatReference(ref));
  }
}

async function pickPlatform(
  client: RegistryClient,
  repo: string,
  index: FetchedManifest,
  wanted: Platform,
  shown: string,
  signal?: AbortSignal,
): Promise<FetchedManifest> {
  const parsed = JSON.parse(index.bytes.toString('utf8')) as ImageIndex;
  const candidates = (parsed.manifests ?? []).filter((m) => m.platform && platformMatches(m.platform as Platform, wanted));
  // An exact variant beats a variant-less entry.
  const best = candidates.find((m) => m.platform?.variant === wanted.variant) ?? candidates[0];
  if (!best) {
    throw errors.notFound(`no matching manifest for ${formatPlatform(wanted)} in the manifest list entries`, {
      hint: `${shown} has ${(parsed.manifests ?? []).map((m) => (m.platform ? formatPlatform(m.platform as Platform) : '?')).join(', ') || 'no platforms'}`,
    });
  }
  const child = await client.getManifest(repo, best.digest, signal);
  return { ...child, mediaType: best.mediaType || child.mediaType };
}

async function fetchSmallBlob(
  deps: PullDeps,
  client: RegistryClient,
  repo: string,
  digest: Digest,
  size: number,
  lease: Lease,
  signal?: AbortSignal,
): Promise<Buffer> {
  lease.add('blob', digest);
  if (!(await deps.content.info(digest))) {
    await deps.content.write(resumable((start) => client.openBlob(repo, digest, start, signal), size, { signal }), { digest, size }, signal);
  }
  return deps.content.readBytes(digest);
}

/**
 * A blob download that survives dropped connections: when the stream fails (or ends short)
 * it reopens with a Range from the byte it reached, up to {@link RESUMES} times.
 */
async function* resumable(open: (start: number) => Promise<Readable>, size: number, ctx: OpContext, id?: string): AsyncGenerator<Buffer> {
  let got = 0;
  let failures = 0;
  let lastReport = 0;
  for (;;) {
    try {
      const stream = await open(got);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        got += chunk.length;
        if (id && (got - lastReport >= 256 << 10 || got === size)) {
          lastReport = got;
          ctx.progress?.({ kind: 'progress', id, action: 'Downloading', current: got, total: size });
        }
        yield chunk;
      }
      if (got >= size) return;
      throw errors.unavailable(`the connection closed after ${got} of ${size} bytes`);
    } catch (err) {
      if (ctx.signal?.aborted || ++failures > RESUMES || !resumableError(err) || got > size) throw err;
      await sleep(100 * 2 ** failures, undefined, { signal: ctx.signal });
    }
  }
}

function resumableError(err: unknown): boolean {
  if (err instanceof RegistryError) return false;
  if (isGantryError(err, 'UNAVAILABLE')) return true;
  const code = networkErrno(err) ?? (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || (err as Error).message === 'aborted';
}

/** A registry failure worded as Docker words a failed pull. */
function pullError(err: unknown, ref: Reference, shown: string): unknown {
  if (!(err instanceof RegistryError)) return err;
  const repo = repositoryName({ ...ref, tag: undefined, digest: undefined });
  if (err.status === 401 || err.status === 403 || err.has('NAME_UNKNOWN')) {
    return new GantryError(
      err.status === 403 ? 'FORBIDDEN' : err.status === 401 ? 'UNAUTHORIZED' : 'NOT_FOUND',
      `pull access denied for ${repo}, repository does not exist or may require 'docker login': ${err.message}`,
      { hint: `log in with: gantry login ${ref.domain}` },
    );
  }
  if (err.status === 404) return errors.notFound(`manifest for ${shown} not found: ${err.message}`);
  if (err.status === 429) {
    return errors.unavailable(`toomanyrequests: ${err.message.replace(/^toomanyrequests: /, '')}`, {
      hint: 'the registry limits the rate of pulls; try again later or log in',
    });
  }
  return err;
}
