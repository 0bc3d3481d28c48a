/**
 * Where the hub keeps bytes: blobs (layers, configs, and manifests, which are blobs too)
 * addressed by digest and shared by every repository, and uploads under way.
 *
 * Lifecycle of a blob: an upload is *started* (an ID), bytes are *appended* to it in order —
 * each append digests as it writes, so the upload's digest is known the moment its last byte
 * lands — and it is *completed* with the digest the client claims: on a match the bytes become
 * the blob, atomically; on a mismatch the upload is dropped and nothing is stored. Upload state
 * lives in the store, not in memory, so an upload survives a restart of the hub (and, with an
 * object-store driver, a move to another replica). Small blobs (manifests) are `put` whole.
 *
 * Which blobs a repository may see, and which are still used, is the metadata store's
 * business (metadata-store.ts). Garbage collection relies on one rule of the drivers: a blob's
 * modification time moves forward whenever it is written again or `touch`ed, and
 * `removeIfUnusedSince` keeps a blob touched after its cutoff, even when the touch races with it.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Digest } from '../../core/digest.js';

/** A stored blob. */
export interface BlobStat {
  digest: Digest;
  size: number;
}

/** A stored blob as garbage collection lists it. */
export interface BlobEntry {
  digest: Digest;
  size: number;
  /** Last write or touch, ms since the epoch. */
  modifiedMs: number;
}

/** An upload under way. */
export interface UploadInfo {
  /** The upload's ID (a UUID), the last segment of its URL. */
  id: string;
  /** The repository it was started in; it completes there only. */
  repository: string;
  /** Bytes received so far. */
  size: number;
  /** When it was started, ms since the epoch. */
  startedMs: number;
  /** Last activity (start or append), ms since the epoch. */
  modifiedMs: number;
}

/** Options of one append to an upload. */
export interface AppendOptions {
  /** Where the chunk starts (Content-Range); it must be the upload's current size (else 416). */
  offset?: number;
  /** The chunk's announced length (Content-Length / Content-Range); fewer bytes fail the append. */
  length?: number;
  /** The largest the whole blob may grow (0 or undefined: no limit): beyond it, SIZE_INVALID (413). */
  maxSize?: number;
}

/** The blob store interface; drivers: FsBlobStore (an S3 driver would implement the same). */
export interface BlobStore {
  /** Size of a stored blob, or undefined when absent. */
  stat(digest: Digest): Promise<BlobStat | undefined>;
  /**
   * Marks a blob as in use now (a manifest that references it is being stored, a mount): GC
   * keeps it for its grace period. Undefined when absent.
   */
  touch(digest: Digest): Promise<BlobStat | undefined>;
  /** A stream over a stored blob, or over bytes `start`..`end` (inclusive). BLOB_UNKNOWN when absent. */
  read(digest: Digest, range?: { start: number; end: number }): Promise<Readable>;
  /**
   * Drivers whose blobs are files on a local file system: the open file of a stored blob, which
   * the hub sends to plain-HTTP clients with sendfile(2), from the page cache to the socket.
   * BLOB_UNKNOWN when absent. The caller closes it.
   */
  openFile?(digest: Digest): Promise<FileHandle>;
  /** A stored blob's whole content (manifests). BLOB_UNKNOWN when absent. */
  readBytes(digest: Digest): Promise<Buffer>;
  /** Stores bytes already in memory under their digest (verified). */
  put(digest: Digest, bytes: Uint8Array): Promise<BlobStat>;
  /**
   * Streams `source` into the blob `digest`, verifying it (DIGEST_INVALID, nothing stored, on a
   * mismatch; SIZE_INVALID when `size` is given and differs, or over `maxSize`).
   */
  write(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, digest: Digest, options?: { size?: number; maxSize?: number }): Promise<BlobStat>;
  /** Every stored blob, for garbage collection. */
  list(): AsyncIterable<BlobEntry>;
  /** Removes a blob unless it was written or touched at or after `cutoffMs`; true when removed. */
  removeIfUnusedSince(digest: Digest, cutoffMs: number): Promise<boolean>;

  /** Starts an upload in `repository`. */
  startUpload(repository: string): Promise<UploadInfo>;
  /** An upload's state, or undefined when there is no such upload. */
  upload(id: string): Promise<UploadInfo | undefined>;
  /** Appends a chunk; resolves the new state. The upload is unchanged when it fails. */
  appendUpload(id: string, source: AsyncIterable<Uint8Array>, options?: AppendOptions): Promise<UploadInfo>;
  /**
   * Completes an upload as the blob `digest`. On a mismatch (DIGEST_INVALID) the upload is
   * removed and nothing is stored.
   */
  completeUpload(id: string, digest: Digest): Promise<BlobStat>;
  /** Removes an upload; false when there was none. */
  cancelUpload(id: string): Promise<boolean>;
  /** Every upload, for purging. */
  listUploads(): Promise<UploadInfo[]>;
}
