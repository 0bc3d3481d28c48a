/**
 * The registry's operations — what the routes of the HTTP API do, without HTTP: manifests by
 * tag or digest, blobs as one repository sees them, uploads, tags, the catalog and referrers,
 * on top of a {@link BlobStore} (bytes) and a {@link MetadataStore} (everything else).
 *
 * A repository sees a blob only when the blob was uploaded or mounted into it, or is one of
 * its manifests (distribution's rule): knowing a digest never reveals another repository's
 * content. A manifest is stored only when every blob and child manifest it references is
 * already in the repository; the referenced blobs are touched on the way, so a concurrent
 * `gantry hub gc` keeps them (see gc.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type Digest, Digester } from '../core/digest.js';
import { HubError } from './errors.js';
import { inspectManifest } from './manifest.js';
import type { ManifestReference } from './names.js';
import type { AppendOptions, BlobStat, BlobStore, UploadInfo } from './storage/blob-store.js';
import type { ManifestRecord, MetadataStore, PageQuery } from './storage/metadata-store.js';

/** A manifest as served: its record and exact bytes. */
export interface ServedManifest {
  record: ManifestRecord;
  bytes: Buffer;
}

/** Where a pull looks when the hub itself lacks content (the pull-through cache, proxy.ts). */
export interface ContentSource {
  /** The manifest `ref` of `repository`, fetched, stored locally and returned; undefined when upstream lacks it. */
  manifest(repository: string, ref: ManifestReference): Promise<ServedManifest | undefined>;
  /** The blob's size upstream, or undefined when upstream lacks it. */
  blobStat(repository: string, digest: Digest): Promise<BlobStat | undefined>;
  /** The blob from upstream (cached as it passes), or undefined when upstream lacks it. */
  blob(repository: string, digest: Digest): Promise<{ stat: BlobStat; stream: Readable } | undefined>;
}

/** Options of a {@link Registry}. */
export interface RegistryOptions {
  blobs: BlobStore;
  metadata: MetadataStore;
  /** Whether manifests, tags and blobs may be deleted. */
  deleteEnabled: boolean;
  /** Largest manifest accepted, in bytes. */
  maxManifestBytes: number;
  /** Largest blob accepted, in bytes (0: no limit). */
  maxBlobBytes: number;
}

/** The registry's operations. */
export class Registry {
  /** Set by the pull-through cache: where misses are looked up. Pushes are refused then. */
  upstream: ContentSource | undefined;

  constructor(readonly options: RegistryOptions) {}

  get blobs(): BlobStore {
    return this.options.blobs;
  }

  get metadata(): MetadataStore {
    return this.options.metadata;
  }

  /** The manifest `ref` of `repository`; MANIFEST_UNKNOWN when absent. */
  async manifest(repository: string, ref: ManifestReference): Promise<ServedManifest> {
    const local = await this.localManifest(repository, ref);
    if (local && !(this.upstream && ref.tag !== undefined)) return local;
    if (this.upstream) {
      // NOTE: a tag may move upstream, so a cache asks upstream for it every time and falls
      // back to its own copy only when upstream cannot answer (distribution's proxy does too).
      try {
        const fetched = await this.upstream.manifest(repository, ref);
        if (fetched) return fetched;
      } catch (err) {
        if (!local) throw err;
      }
    }
    if (local) return local;
    throw new HubError('MANIFEST_UNKNOWN', 'manifest unknown to registry', { detail: ref.tag !== undefined ? { tag: ref.tag } : { digest: ref.digest } });
  }

  private async localManifest(repository: string, ref: ManifestReference): Promise<ServedManifest | undefined> {
    const digest = ref.digest ?? (await this.metadata.resolveTag(repository, ref.tag));
    if (!digest) return undefined;
    const record = await this.metadata.manifest(repository, digest);
    if (!record) return undefined;
    try {
      return { record, bytes: await this.blobs.readBytes(digest) };
    } catch (err) {
      if (err instanceof HubError && err.ociCode === 'BLOB_UNKNOWN') return undefined;
      throw err;
    }
  }

  /**
   * Stores a manifest under `ref` (a tag, or the digest it must have); resolves its digest and
   * subject. MANIFEST_INVALID, DIGEST_INVALID, MANIFEST_BLOB_UNKNOWN leave nothing stored.
   */
  async putManifest(repository: string, ref: ManifestReference, bytes: Buffer, contentType: string | undefined, options: { trusted?: boolean } = {}): Promise<ManifestRecord> {
    // `trusted`: the cache storing what upstream served (its blobs come when pulled).
    if (!options.trusted) this.checkWritable();
    if (bytes.length > this.options.maxManifestBytes) {
      throw new HubError('SIZE_INVALID', `manifest is larger than ${this.options.maxManifestBytes} bytes`, { status: 413, detail: { limit: this.options.maxManifestBytes } });
    }
    const facts = inspectManifest(bytes, contentType);
    const digest = digestOf(bytes, ref.digest);
    if (ref.digest !== undefined && ref.digest !== digest) {
      throw new HubError('DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { expected: ref.digest, actual: digest } });
    }
    if (!options.trusted) {
      const missing = new Set(await this.metadata.unlinkedBlobs(repository, facts.blobs));
      for (const d of facts.blobs) if (!missing.has(d) && !(await this.blobs.touch(d))) missing.add(d);
      if (missing.size > 0) {
        throw new HubError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digests: [...missing] } });
      }
    }
    await this.blobs.put(digest, bytes);
    const record: ManifestRecord = { repository, digest, mediaType: facts.mediaType, size: bytes.length, createdMs: Date.now() };
    if (facts.artifactType !== undefined) record.artifactType = facts.artifactType;
    if (facts.subject !== undefined) record.subject = facts.subject;
    if (facts.annotations !== undefined) record.annotations = facts.annotations;
    await this.metadata.putManifest({
      ...record,
      blobs: facts.blobs,
      // A cache stores an index before its children (they come when pulled).
      manifests: options.trusted ? [] : facts.manifests,
      tag: ref.tag,
    });
    return record;
  }

  /** Deletes a manifest (by digest: it and its tags) or a tag (by tag); MANIFEST_UNKNOWN when absent. */
  async deleteManifest(repository: string, ref: ManifestReference): Promise<void> {
    this.checkDeletable();
    const gone = ref.tag !== undefined ? await this.metadata.deleteTag(repository, ref.tag) : await this.metadata.deleteManifest(repository, ref.digest);
    if (!gone) throw new HubError('MANIFEST_UNKNOWN', 'manifest unknown to registry', { detail: ref.tag !== undefined ? { tag: ref.tag } : { digest: ref.digest } });
  }

  /** A blob as `repository` sees it; undefined when it may not or the hub lacks it. */
  async blobStat(repository: string, digest: Digest): Promise<BlobStat | undefined> {
    if (!(await this.metadata.isBlobLinked(repository, digest))) return undefined;
    return this.blobs.stat(digest);
  }

  /** A blob as `repository` sees it (or upstream has it); BLOB_UNKNOWN when absent. */
  async statBlob(repository: string, digest: Digest): Promise<BlobStat> {
    const stat = (await this.blobStat(repository, digest)) ?? (await this.upstream?.blobStat(repository, digest));
    if (!stat) throw new HubError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
    return stat;
  }

  /**
   * The blob's bytes, or the range `range` picks once the size is known (local blobs only: a
   * blob coming from upstream is sent whole), as a stream — or, with `preferFile` and a store
   * that keeps files, as the open file (the caller closes it) for a zero-copy send;
   * BLOB_UNKNOWN when `repository` lacks it.
   */
  async openBlob(
    repository: string,
    digest: Digest,
    range?: (size: number) => { start: number; end: number } | undefined,
    options: { preferFile?: boolean } = {},
  ): Promise<{ stat: BlobStat; range?: { start: number; end: number }; stream?: Readable; file?: FileHandle }> {
    const stat = await this.blobStat(repository, digest);
    if (stat) {
      const r = range?.(stat.size);
      if (options.preferFile && this.blobs.openFile) return { stat, range: r, file: await this.blobs.openFile(digest) };
      return { stat, range: r, stream: await this.blobs.read(digest, r) };
    }
    const fetched = await this.upstream?.blob(repository, digest);
    if (fetched) return fetched;
    throw new HubError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
  }

  /** Removes the blob from `repository` (its bytes go at the next gc); BLOB_UNKNOWN when absent. */
  async deleteBlob(repository: string, digest: Digest): Promise<void> {
    this.checkDeletable();
    if (!(await this.metadata.unlinkBlob(repository, digest))) throw new HubError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
  }

  /** Makes a blob of `from` one of `repository`'s; undefined when `from` lacks it. */
  async mount(repository: string, digest: Digest, from: string): Promise<BlobStat | undefined> {
    this.checkWritable();
    if (!(await this.metadata.isBlobLinked(from, digest))) return undefined;
    const stat = await this.blobs.touch(digest);
    if (!stat) return undefined;
    await this.metadata.linkBlob(repository, digest);
    return stat;
  }

  /** Starts an upload. */
  async startUpload(repository: string): Promise<UploadInfo> {
    this.checkWritable();
    return this.blobs.startUpload(repository);
  }

  /** An upload of `repository`; BLOB_UPLOAD_UNKNOWN when there is none. */
  async upload(repository: string, id: string): Promise<UploadInfo> {
    const info = await this.blobs.upload(id);
    if (!info || info.repository !== repository) throw new HubError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { detail: { uuid: id } });
    return info;
  }

  /** Appends a chunk to an upload of `repository`. */
  async appendUpload(repository: string, id: string, source: AsyncIterable<Uint8Array>, options: AppendOptions): Promise<UploadInfo> {
    await this.upload(repository, id);
    return this.blobs.appendUpload(id, source, { ...options, maxSize: this.options.maxBlobBytes });
  }

  /** Completes an upload as blob `digest` and links it into `repository`. */
  async completeUpload(repository: string, id: string, digest: Digest): Promise<BlobStat> {
    await this.upload(repository, id);
    const stat = await this.blobs.completeUpload(id, digest);
    await this.metadata.linkBlob(repository, digest);
    return stat;
  }

  /** Cancels an upload of `repository`; BLOB_UPLOAD_UNKNOWN when there is none. */
  async cancelUpload(repository: string, id: string): Promise<void> {
    await this.upload(repository, id);
    await this.blobs.cancelUpload(id);
  }

  /** Stores a blob sent whole (single POST, and the cache), verified, and links it into `repository`. */
  async writeBlob(repository: string, digest: Digest, source: AsyncIterable<Uint8Array>, size?: number, options: { trusted?: boolean } = {}): Promise<BlobStat> {
    if (!options.trusted) this.checkWritable();
    const stat = await this.blobs.write(source, digest, { size, maxSize: this.options.maxBlobBytes });
    await this.metadata.linkBlob(repository, digest);
    return stat;
  }

  /** A page of the repository's tags; NAME_UNKNOWN when there is no such repository. */
  async tags(repository: string, page: PageQuery): Promise<string[]> {
    const tags = await this.metadata.tags(repository, page);
    if (!tags) throw new HubError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: repository } });
    return tags;
  }

  /** Removes uploads with no activity since `cutoffMs`; resolves how many. */
  async purgeUploads(cutoffMs: number): Promise<number> {
    let n = 0;
    for (const u of await this.blobs.listUploads()) {
      if (u.modifiedMs < cutoffMs && (await this.blobs.cancelUpload(u.id))) n++;
    }
    return n;
  }

  /** Pushes are refused by a pull-through cache. */
  checkWritable(): void {
    if (this.upstream) throw new HubError('UNSUPPORTED', 'the hub is a pull-through cache: pushes are not supported');
  }

  private checkDeletable(): void {
    if (!this.options.deleteEnabled) throw new HubError('UNSUPPORTED', 'deletes are disabled on this hub');
    this.checkWritable();
  }
}

/** The digest of `bytes` with the algorithm of `like` (sha256 by default). */
function digestOf(bytes: Buffer, like: Digest | undefined): Digest {
  const d = new Digester(like?.startsWith('sha512:') ? 'sha512' : 'sha256');
  d.update(bytes);
  return d.digest();
}
