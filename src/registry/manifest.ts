/**
 * Validation of a pushed manifest: what the hub checks before it stores one, and what it
 * learns from it (the blobs and child manifests it references, its subject and artifact type).
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/image-index.md
 * https://distribution.github.io/distribution/spec/manifest-v2-2/
 */
import { type Digest, isDigest } from '../core/digest.js';
import { MediaType } from '../core/media-types.js';
import { HubError } from './errors.js';

/** What a valid manifest tells the hub. */
export interface ManifestFacts {
  mediaType: string;
  /** Config and layers (image manifests); must be in the repository. */
  blobs: Digest[];
  /** Child manifests (indexes); must be in the repository. */
  manifests: Digest[];
  subject?: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Manifest media types the hub stores. */
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList]);

interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  urls?: unknown;
  artifactType?: unknown;
}

/**
 * Parses and checks manifest bytes pushed with `contentType`; MANIFEST_INVALID with the reason
 * when they are not a manifest the hub can store.
 */
export function inspectManifest(bytes: Buffer, contentType: string | undefined): ManifestFacts {
  let doc: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    doc = parsed as Record<string, unknown>;
  } catch (err) {
    throw invalid(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (doc.schemaVersion !== 2) throw invalid('unsupported schemaVersion (only 2 is supported)');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.mediaType !== undefined && declared === undefined) throw invalid('mediaType must be a string');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // NOTE: the body's mediaType wins when present; a Content-Type that disagrees with it is an
  // error (the spec: "the mediaType field ... MUST match the Content-Type"). Without either
  // the kind of document is inferred, as clients of old registries relied on.
  if (declared !== undefined && type !== '' && type !== 'application/json' && type !== declared) {
    throw invalid(`manifest mediaType ${declared} does not match Content-Type ${type}`);
  }
  const mediaType = declared ?? (MANIFEST_TYPES.has(type) ? type : Array.isArray(doc.manifests) ? MediaType.OciIndex : MediaType.OciManifest);
  if (!MANIFEST_TYPES.has(mediaType)) throw invalid(`unsupported manifest media type ${mediaType}`);

  const facts: ManifestFacts = { mediaType, blobs: [], manifests: [] };
  if (mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList) {
    if (!Array.isArray(doc.manifests)) throw invalid('an index needs a manifests array');
    for (const d of doc.manifests) facts.manifests.push(descriptor(d, 'manifests[]'));
    if (doc.config !== undefined || doc.layers !== undefined) throw invalid('an index has no config or layers');
  } else {
    if (doc.manifests !== undefined) throw invalid('an image manifest has no manifests array');
    const config = doc.config as Descriptor | undefined;
    facts.blobs.push(descriptor(config, 'config'));
    if (!Array.isArray(doc.layers)) throw invalid('an image manifest needs a layers array');
    for (const layer of doc.layers as Descriptor[]) {
      const digest = descriptor(layer, 'layers[]');
      // Foreign (non-distributable) layers with URLs live elsewhere; distribution does not require them.
      if (Array.isArray(layer.urls) && layer.urls.length > 0) continue;
      facts.blobs.push(digest);
    }
    if (mediaType === MediaType.OciManifest) {
      const configType = typeof config?.mediaType === 'string' ? config.mediaType : undefined;
      facts.artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : configType;
      if (configType === MediaType.OciEmpty && typeof doc.artifactType !== 'string') {
        throw invalid('an artifact with an empty config needs an artifactType');
      }
    }
  }
  if (mediaType === MediaType.OciIndex && typeof doc.artifactType === 'string') facts.artifactType = doc.artifactType;
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') throw invalid('artifactType must be a string');
  if (doc.subject !== undefined) facts.subject = descriptor(doc.subject, 'subject');
  if (doc.annotations !== undefined) {
    if (typeof doc.annotations !== 'object' || doc.annotations === null || Object.values(doc.annotations).some((v) => typeof v !== 'string')) {
      throw invalid('annotations must map strings to strings');
    }
    facts.annotations = doc.annotations as Record<string, string>;
  }
  facts.blobs = [...new Set(facts.blobs)];
  facts.manifests = [...new Set(facts.manifests)];
  return facts;
}

/** Checks one descriptor and returns its digest. */
function descriptor(value: unknown, where: string): Digest {
  if (typeof value !== 'object' || value === null) throw invalid(`${where} must be a descriptor`);
  const d = value as Descriptor;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(`${where} has no mediaType`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw invalid(`${where} has an invalid digest ${JSON.stringify(d.digest)}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where} has an invalid size`);
  return d.digest;
}

function invalid(reason: string): HubError {
  return new HubError('MANIFEST_INVALID', 'manifest invalid', { detail: { reason } });
}
