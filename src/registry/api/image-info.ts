/**
 * What the web API shows of a tag: its platforms and compressed size, and the layers and
 * history of one platform's image — read from the stored manifest and config blobs.
 *
 * Size is what a pull downloads: config plus layers (for an index, its largest child, since a
 * client pulls one platform). History entries come from the image config; each entry that made
 * a layer (`empty_layer` false) is matched, in order, with the manifest's next layer.
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/config.md
 */
import type { Digest } from '../../core/digest.js';
import type { Registry } from '../registry.js';
import { notFound } from './api-error.js';

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

interface ManifestDoc {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

interface ConfigDoc {
  os?: string;
  architecture?: string;
  variant?: string;
  history?: { created?: string; created_by?: string; empty_layer?: boolean }[];
}

/** A tag as listed. */
export interface TagSummary {
  platforms: string[];
  size: number;
}

/** The layers and history of one image. */
export interface ImageLayers {
  digest: string;
  platform: string;
  layers: { digest: string; size: number; media_type: string }[];
  history: { created: string | null; created_by: string; empty_layer: boolean; size: number | null }[];
}

const platformOf = (p: { os?: string; architecture?: string; variant?: string }) => `${p.os ?? 'unknown'}/${p.architecture ?? 'unknown'}${p.variant ? `/${p.variant}` : ''}`;

async function readJsonBlob<T>(registry: Registry, digest: string): Promise<T | undefined> {
  try {
    return JSON.parse((await registry.blobs.readBytes(digest as Digest)).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Platforms and size of the manifest `digest`. */
export async function summarize(registry: Registry, digest: string): Promise<TagSummary> {
  const doc = await readJsonBlob<ManifestDoc>(registry, digest);
  if (!doc) return { platforms: [], size: 0 };
  if (Array.isArray(doc.manifests)) {
    const children = doc.manifests.filter((m) => platformOf(m.platform ?? {}) !== 'unknown/unknown');
    let size = 0;
    for (const child of children) {
      const c = await readJsonBlob<ManifestDoc>(registry, child.digest);
      if (c) size = Math.max(size, imageSize(c));
    }
    return { platforms: children.map((m) => platformOf(m.platform ?? {})), size };
  }
  const config = doc.config ? await readJsonBlob<ConfigDoc>(registry, doc.config.digest) : undefined;
  return { platforms: config?.os ? [platformOf(config)] : [], size: imageSize(doc) };
}

function imageSize(doc: ManifestDoc): number {
  return (doc.config?.size ?? 0) + (doc.layers ?? []).reduce((n, l) => n + (Number(l.size) || 0), 0);
}

/** The layers and history of the image `digest` (for an index: its child for `platform`, else the first). */
export async function layersOf(registry: Registry, digest: string, platform?: string): Promise<ImageLayers> {
  let doc = await readJsonBlob<ManifestDoc>(registry, digest);
  let imageDigest = digest;
  if (doc && Array.isArray(doc.manifests)) {
    const children = doc.manifests.filter((m) => platformOf(m.platform ?? {}) !== 'unknown/unknown');
    const child = platform ? children.find((m) => platformOf(m.platform ?? {}) === platform) : children[0];
    if (!child) throw notFound(`no image for platform ${platform ?? '(any)'}`);
    imageDigest = child.digest;
    doc = await readJsonBlob<ManifestDoc>(registry, child.digest);
  }
  if (!doc?.config) throw notFound('the image manifest is not stored on this hub');
  const config = (await readJsonBlob<ConfigDoc>(registry, doc.config.digest)) ?? {};
  const plat = platformOf(config);
  if (platform && platform !== plat) throw notFound(`no image for platform ${platform}`);
  const layers = (doc.layers ?? []).map((l) => ({ digest: l.digest, size: Number(l.size) || 0, media_type: l.mediaType ?? '' }));
  let next = 0;
  const history = (config.history ?? []).map((h) => {
    const empty = h.empty_layer === true;
    const layer = empty ? undefined : layers[next++];
    return { created: h.created ?? null, created_by: h.created_by ?? '', empty_layer: empty, size: layer ? layer.size : null };
  });
  return { digest: imageDigest, platform: plat, layers, history };
}
