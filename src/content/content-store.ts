/**
 * The content store: immutable blobs addressed by their digest.
 *
 * Vocabulary (containerd's): a blob is *ingested* through a writer that digests it as it
 * streams to a temporary file under `ingest/`, and is *committed* by renaming it into
 * `blobs/<alg>/<hex>` only when its digest (and size, when known) match what was expected.
 * So a blob that is visible is always whole and correct; a crash leaves at most a temporary
 * file, which garbage collection removes once its writer process is gone. Two writers of the
 * same blob are safe: both verify, and the second rename replaces identical bytes.
 *
 * The store does not know what references a blob: images and leases do (see images/gc.ts).
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.js';

/** What the store knows about a committed blob. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What a writer must check before committing. */
export interface Expected {
  digest?: Digest;
  size?: number;
}

/** The content store interface. */
export interface ContentStore {
  /** Size of a committed blob, or undefined when absent. */
  info(digest: Digest): Promise<BlobInfo | undefined>;
  /** A stream over a committed blob (NOT_FOUND when absent). `start` skips bytes. */
  read(digest: Digest, start?: number): Promise<Readable>;
  /** A committed blob's whole content (for small blobs: manifests, configs). */
  readBytes(digest: Digest): Promise<Buffer>;
  /** Ingests `source`, verifies it against `expected`, commits it; returns its info. */
  write(source: AsyncIterable<Uint8Array>, expected?: Expected, signal?: AbortSignal): Promise<BlobInfo>;
  /** Ingests bytes already in memory. */
  writeBytes(data: Uint8Array | string, expected?: Expected): Promise<BlobInfo>;
  /** Removes a committed blob; absent blobs are ignored. */
  delete(digest: Digest): Promise<void>;
  /** Every committed blob's digest. */
  list(): Promise<Digest[]>;
}

/** The narrow view most readers need. */
export type BlobReader = Pick<ContentStore, 'info' | 'read' | 'readBytes'>;
