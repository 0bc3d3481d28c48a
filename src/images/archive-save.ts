/**
 * `save`: images to an archive that both Docker and OCI tools read, the same form Docker 25+
 * writes: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`) plus the
 * Docker `manifest.json` whose Config and Layers point at those blobs. Older `docker load`
 * reads `manifest.json`; skopeo, containerd and `docker load` 25+ read either.
 */
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import type { BlobReader } from '../content/content-store.js';
import { type Digest, digestHex } from '../core/digest.js';
import { MediaType } from '../core/media-types.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../core/oci.js';
import { familiarString, normalizeReference } from '../core/reference.js';
import type { ImageRecord } from './image-store.js';

/** One image to save and the full names it is saved under. */
export interface SaveItem {
  image: ImageRecord;
  names: string[];
}

/** Writes the archive of `items` to `out`. */
export async function saveArchive(content: BlobReader, items: SaveItem[], out: Writable): Promise<void> {
  const p = pack();
  const written = new Set<string>();
  const mtime = new Date(0);
  const docker: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };

  const addFile = (name: string, data: Buffer | string) =>
    new Promise<void>((resolve, reject) => p.entry({ name, mtime, mode: 0o644 }, data, (e) => (e ? reject(e) : resolve())));
  const addDir = (name: string) =>
    new Promise<void>((resolve, reject) =>
      p.entry({ name, type: 'directory', mtime, mode: 0o755 }, (e) => (e ? reject(e) : resolve())),
    );
  const addBlob = async (digest: Digest): Promise<string> => {
    const name = `blobs/sha256/${digestHex(digest)}`;
    if (written.has(digest)) return name;
    written.add(digest);
    const info = await content.info(digest);
    const src = await content.read(digest);
    await new Promise<void>((resolve, reject) => {
      const entry = p.entry({ name, mtime, mode: 0o644, size: info?.size ?? 0 }, (e) => (e ? reject(e) : resolve()));
      src.on('error', reject);
      src.pipe(entry as unknown as Writable);
    });
    return name;
  };

  const done = pipeline(p as unknown as Readable, out);
  try {
    await addDir('blobs/');
    await addDir('blobs/sha256/');
    for (const { image, names } of items) {
      const manifestBytes = await content.readBytes(image.manifestDigest);
      const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
      const layers: string[] = [];
      for (const l of manifest.layers) layers.push(await addBlob(l.digest));
      const config = await addBlob(manifest.config.digest);
      await addBlob(image.manifestDigest);
      const tags = names.map((n) => familiarString(normalizeReference(n)));
      docker.push({ Config: config, RepoTags: tags.length > 0 ? tags : null, Layers: layers });
      const desc: Descriptor = { mediaType: image.manifestType, digest: image.manifestDigest, size: manifestBytes.length };
      if (names.length === 0) index.manifests.push(desc);
      for (const n of names) {
        const ref = normalizeReference(n);
        index.manifests.push({
          ...desc,
          annotations: { 'io.containerd.image.name': n, 'org.opencontainers.image.ref.name': ref.tag ?? 'latest' },
        });
      }
    }
    await addFile('index.json', JSON.stringify(index));
    await addFile('manifest.json', JSON.stringify(docker));
    await addFile('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    p.finalize();
  } catch (err) {
    p.destroy(err as Error);
  }
  await done;
}
