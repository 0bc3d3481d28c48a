/**
 * What the hub knows about its content beyond the bytes: repositories, the manifests each
 * holds, their tags, which blobs each repository may serve, what every manifest references
 * (for garbage collection and for refusing manifests whose content is missing) and which
 * manifests refer to which subject (the referrers API).
 *
 * Every mutation is one transaction, so concurrent pushes of the same tag end with one of
 * them, whole. Drivers: SqliteMetadataStore (one file in the data directory); a PostgreSQL
 * driver would let several stateless hub replicas share one store.
 */
import type { Digest } from '../../core/digest.js';

/** A manifest stored in a repository. */
export interface ManifestRecord {
  repository: string;
  digest: Digest;
  mediaType: string;
  size: number;
  /** The artifact type the referrers API reports (artifactType, else the config's media type). */
  artifactType?: string;
  /** The manifest's `subject` digest, when it has one. */
  subject?: Digest;
  /** The manifest's annotations (the referrers API reports them). */
  annotations?: Record<string, string>;
  /** When it was first stored in this repository, ms since the epoch. */
  createdMs: number;
}

/** A manifest to store, with what it references. */
export interface ManifestInput extends Omit<ManifestRecord, 'createdMs'> {
  /** Blobs (config, layers) it references. */
  blobs: Digest[];
  /** Child manifests (of an index) it references; they must exist in the repository. */
  manifests: Digest[];
  /** The tag to point at it, when pushed by tag. */
  tag?: string;
}

/** One page of a sorted list: entries after `last`, at most `n`. */
export interface PageQuery {
  n?: number;
  last?: string;
}

/** A reference from a manifest, for garbage collection. */
export interface ManifestEdge {
  repository: string;
  manifest: Digest;
  digest: Digest;
}

/** The metadata store interface. */
export interface MetadataStore {
  /** Records that `repository` may serve the blob (it was uploaded or mounted there). */
  linkBlob(repository: string, digest: Digest): Promise<void>;
  /** Removes that record; false when there was none. */
  unlinkBlob(repository: string, digest: Digest): Promise<boolean>;
  /** True when `repository` may serve the blob: linked, or a manifest of it. */
  isBlobLinked(repository: string, digest: Digest): Promise<boolean>;
  /** The digests of `digests` not linked to `repository`. */
  unlinkedBlobs(repository: string, digests: readonly Digest[]): Promise<Digest[]>;

  /**
   * Stores a manifest (and its tag) in one transaction. Fails with MANIFEST_BLOB_UNKNOWN when a
   * child manifest is not in the repository at that moment.
   */
  putManifest(input: ManifestInput): Promise<void>;
  /** A manifest of the repository, or undefined. */
  manifest(repository: string, digest: Digest): Promise<ManifestRecord | undefined>;
  /** The digest a tag points at, or undefined. */
  resolveTag(repository: string, tag: string): Promise<Digest | undefined>;
  /** Removes a manifest, its references and the tags pointing at it; false when absent. */
  deleteManifest(repository: string, digest: Digest): Promise<boolean>;
  /** Removes a tag (not the manifest); false when absent. */
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** A page of the repository's tags, sorted; undefined when the repository does not exist. */
  tags(repository: string, page: PageQuery): Promise<string[] | undefined>;
  /** A page of the repositories, sorted. */
  repositories(page: PageQuery): Promise<string[]>;
  /** Manifests of the repository whose subject is `subject`, optionally of one artifact type. */
  referrers(repository: string, subject: Digest, artifactType?: string): Promise<ManifestRecord[]>;

  /** Every manifest with whether a tag points at it (garbage collection's roots). */
  allManifests(): Promise<(ManifestRecord & { tagged: boolean })[]>;
  /** Every reference from a manifest to a blob or child manifest. */
  allEdges(): Promise<ManifestEdge[]>;
  /**
   * Removes, in one transaction, the given manifests — unless a tag or a manifest references
   * one of them by then — and the repository links of the given blobs; resolves the manifests removed.
   */
  sweep(manifests: readonly { repository: string; digest: Digest }[], blobs: readonly Digest[]): Promise<{ repository: string; digest: Digest }[]>;

  close(): void;
}
