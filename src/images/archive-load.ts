/**
 * `load`: images from an archive in either format Docker reads:
 *  - the Docker archive (`manifest.json` listing Config and Layers paths, as `docker save`
 *    writes; classic archives use `<id>/layer.tar` and symlinks for repeated layers), and
 *  - the OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).
 * Docker 25+ writes both at once; either is enough here, `manifest.json` wins.
 *
 * The archive is read once as a stream: files larger than {@link SMALL} go straight into the
 * content store (digested as they stream), smaller ones are kept in memory until the
 * manifests say what they are. Nothing becomes visible until every image of the archive has
 * been verified and unpacked; then each is committed. On failure the lease is dropped and
 * garbage collection removes whatever was written.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { BlobInfo } from '../content/content-store.js';
import { type Digest, isDigest, parseDigest } from '../core/digest.js';
import { errors, isGantryError } from '../core/errors.js';
import { isIndexType, isManifestType, MediaType } from '../core/media-types.js';
import type { ImageIndex, ImageManifest } from '../core/oci.js';
import type { OpContext } from '../core/op-context.js';
import { hostPlatform, platformMatches } from '../core/platform.js';
import { formatReference, normalizeReference } from '../core/reference.js';
import type { Lease } from '../metadata/leases.js';
import { sniffCompression } from '../snapshots/tar-apply.js';
import { commitImage, type LayerBlob, withLease } from './commit.js';
import type { NameRecord } from './image-store.js';
import { type ImportDeps, maybeGunzip } from './import.js';

/** Archive members up to this size are held in memory while the archive is read. */
const SMALL = 4 << 20;

/** One image found in an archive and loaded. */
export interface LoadedImage {
  id: Digest;
  /** Familiar names given to it (`busybox:latest`); empty when the archive named none. */
  names: string[];
  /** Names that were taken from another image: `{ name, from }`. */
  moved: { name: string; from: Digest }[];
}

type Member = { kind: 'small'; data: Buffer } | { kind: 'blob'; blob: BlobInfo } | { kind: 'link'; target: string };

interface PendingImage {
  configBytes: Buffer;
  layers: LayerBlob[];
  names: NameRecord[];
}

/** Loads every image of an archive stream. */
export async function loadArchive(deps: ImportDeps, source: Readable, ctx: OpContext = {}): Promise<LoadedImage[]> {
  try {
    return await withLease(deps.db, deps.gc, async (lease) => {
      const members = await readMembers(deps, await maybeGunzip(source), lease, ctx);
      const archive = new ArchiveFiles(deps, members, lease);
      const pending = members.has('manifest.json') ? await dockerImages(archive) : await ociImages(archive);
      if (pending.length === 0) throw errors.invalid('invalid archive: it contains no images');
      const loaded: LoadedImage[] = [];
      for (const img of pending) {
        const result = await commitImage(deps, img, lease, ctx);
        loaded.push({ id: result.id, names: img.names.map((n) => n.name), moved: result.moved });
      }
      return loaded;
    });
  } catch (err) {
    if (isGantryError(err) || (err as Error).name === 'AbortError') throw err;
    throw errors.invalid(`invalid archive: ${(err as Error).message}`, { cause: err });
  }
}

async function readMembers(deps: ImportDeps, tar: Readable, lease: Lease, ctx: OpContext): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  const ex = extract();
  tar.on('error', (e) => ex.destroy(e));
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const h = entry.header;
    const name = posix.normalize(h.name).replace(/^(\.\/)+/, '').replace(/\/$/, '');
    if (h.type === 'symlink' || h.type === 'link') {
      const target = h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname ?? '') : posix.normalize(h.linkname ?? '');
      members.set(name, { kind: 'link', target });
    } else if (h.type === 'file' || h.type === 'contiguous-file') {
      if ((h.size ?? 0) <= SMALL) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        members.set(name, { kind: 'small', data: Buffer.concat(chunks) });
      } else {
        ctx.progress?.({ kind: 'progress', id: name, action: 'Reading', total: h.size ?? 0 });
        const expected = blobPathDigest(name);
        const blob = await deps.content.write(entry as AsyncIterable<Uint8Array>, expected ? { digest: expected } : {}, ctx.signal);
        lease.add('blob', blob.digest);
        members.set(name, { kind: 'blob', blob });
      }
      continue;
    }
    entry.resume();
  }
  return members;
}

/** `blobs/sha256/<hex>` names carry the digest their content must have. */
function blobPathDigest(name: string): Digest | undefined {
  const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(name);
  return m && isDigest(`${m[1]}:${m[2]}`) ? (`${m[1]}:${m[2]}` as Digest) : undefined;
}

/** Access to an archive's members by path, following links and storing blobs on demand. */
class ArchiveFiles {
  constructor(
    private readonly deps: ImportDeps,
    private readonly members: Map<string, Member>,
    private readonly lease: Lease,
  ) {}

  private member(path: string): Member {
    let name = posix.normalize(path).replace(/^(\.\/)+/, '');
    for (let hops = 0; hops < 16; hops++) {
      if (name.startsWith('../') || name.startsWith('/')) throw errors.invalid(`invalid archive: path ${JSON.stringify(path)} leaves the archive`);
      const m = this.members.get(name);
      if (!m) throw errors.invalid(`invalid archive: ${JSON.stringify(path)} is missing`);
      if (m.kind !== 'link') return m;
      name = m.target;
    }
    throw errors.invalid(`invalid archive: too many links at ${JSON.stringify(path)}`);
  }

  async json<T>(path: string): Promise<{ bytes: Buffer; value: T }> {
    const m = this.member(path);
    const bytes = m.kind === 'small' ? m.data : await this.deps.content.readBytes((m as { blob: BlobInfo }).blob.digest);
    try {
      return { bytes, value: JSON.parse(bytes.toString('utf8')) as T };
    } catch (err) {
      throw errors.invalid(`invalid archive: ${path} is not valid JSON`, { cause: err });
    }
  }

  has(path: string): boolean {
    return this.members.has(path);
  }

  /** Stores the member in the content store (verifying `expected` when given). */
  async blob(path: string, expected?: Digest): Promise<BlobInfo> {
    const m = this.member(path);
    const info =
      m.kind === 'small'
        ? await this.deps.content.writeBytes(m.data, expected ? { digest: expected } : {})
        : (m as { blob: BlobInfo }).blob;
    if (expected && info.digest !== expected) {
      throw errors.dataLoss(`digest mismatch for ${path}: expected ${expected}, got ${info.digest}`);
    }
    this.lease.add('blob', info.digest);
    return info;
  }

  /** The first bytes of a member, to sniff its compression. */
  async head(path: string): Promise<Buffer> {
    const m = this.member(path);
    if (m.kind === 'small') return m.data.subarray(0, 8);
    const stream = await this.deps.content.read((m as { blob: BlobInfo }).blob.digest);
    for await (const chunk of stream) {
      stream.destroy();
      return (chunk as Buffer).subarray(0, 8);
    }
    return Buffer.alloc(0);
  }
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function dockerImages(files: ArchiveFiles): Promise<PendingImage[]> {
  const { value: entries } = await files.json<DockerManifestEntry[]>('manifest.json');
  if (!Array.isArray(entries)) throw errors.invalid('invalid archive: manifest.json is not a list');
  const out: PendingImage[] = [];
  for (const e of entries) {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) {
      throw errors.invalid('invalid archive: a manifest.json entry lacks Config or Layers');
    }
    const { bytes } = await files.json<unknown>(e.Config);
    const layers: LayerBlob[] = [];
    for (const path of e.Layers) {
      const compression = sniffCompression(await files.head(path));
      if (compression !== 'none' && compression !== 'gzip') {
        throw errors.invalid(`invalid archive: layer ${path} is ${compression}-compressed`, {
          hint: 'gantry reads uncompressed and gzip layers',
        });
      }
      const blob = await files.blob(path);
      layers.push({
        digest: blob.digest,
        size: blob.size,
        mediaType: compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer,
        compression,
      });
    }
    const names = (e.RepoTags ?? []).map((t) => ({ name: formatReference(normalizeReference(t)), kind: 'tag' as const }));
    out.push({ configBytes: bytes, layers, names });
  }
  return out;
}

async function ociImages(files: ArchiveFiles): Promise<PendingImage[]> {
  if (!files.has('index.json')) {
    throw errors.invalid('invalid archive: found neither manifest.json (Docker) nor index.json (OCI layout)', {
      hint: 'pass a file written by `docker save`, `gantry save` or an OCI image layout as a tar',
    });
  }
  if (files.has('oci-layout')) {
    const { value } = await files.json<{ imageLayoutVersion?: string }>('oci-layout');
    if (value.imageLayoutVersion !== '1.0.0') {
      throw errors.invalid(`unsupported OCI layout version ${JSON.stringify(value.imageLayoutVersion)}`);
    }
  }
  const { value: index } = await files.json<ImageIndex>('index.json');
  const out: PendingImage[] = [];
  for (const desc of index.manifests ?? []) {
    const name = desc.annotations?.['io.containerd.image.name'] ?? desc.annotations?.['org.opencontainers.image.ref.name'];
    const names: NameRecord[] = [];
    if (name) {
      try {
        names.push({ name: formatReference(normalizeReference(name)), kind: 'tag' });
      } catch {
        // a bare tag such as "latest" names no repository: the image loads untagged
      }
    }
    const manifest = await resolveManifest(files, parseDigest(desc.digest), desc.mediaType);
    const configPath = blobPath(manifest.config.digest);
    const { bytes } = await files.json<unknown>(configPath);
    await files.blob(configPath, manifest.config.digest);
    const layers: LayerBlob[] = [];
    for (const l of manifest.layers) {
      const blob = await files.blob(blobPath(l.digest), parseDigest(l.digest));
      layers.push({ digest: blob.digest, size: blob.size, mediaType: l.mediaType });
    }
    out.push({ configBytes: bytes, layers, names });
  }
  return out;
}

/** Follows an index down to the manifest for the host's platform. */
async function resolveManifest(files: ArchiveFiles, digest: Digest, mediaType: string | undefined): Promise<ImageManifest> {
  await files.blob(blobPath(digest), digest);
  const { value } = await files.json<ImageManifest & ImageIndex>(blobPath(digest));
  const type = value.mediaType ?? mediaType;
  if (isIndexType(type) || Array.isArray(value.manifests)) {
    const want = hostPlatform();
    const pick = value.manifests.find((m) => m.platform && platformMatches(m.platform, want)) ?? value.manifests.find((m) => !m.platform);
    if (!pick) throw errors.notFound(`no image for platform ${want.os}/${want.architecture} in the archive's index`);
    return resolveManifest(files, parseDigest(pick.digest), pick.mediaType);
  }
  if (!isManifestType(type) && !value.config) throw errors.invalid(`invalid archive: unsupported manifest type ${type}`);
  return value;
}

function blobPath(digest: string): string {
  const d = parseDigest(digest);
  return `blobs/${d.replace(':', '/')}`;
}
