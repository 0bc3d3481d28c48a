/**
 * Snapshots are the unpacked, mountable form of layers (containerd's vocabulary).
 *
 * A *committed* snapshot holds the filesystem changes of one layer in overlayfs format
 * (whiteouts as 0/0 character devices, opaque directories as `trusted.overlay.opaque=y`) and is
 * keyed by the layer's chain ID, so every image that shares a layer stack shares its
 * snapshots and a layer is unpacked once per machine. Committed snapshots are immutable;
 * a chain is mounted by listing the snapshot directories of its chain IDs as overlay
 * lowerdirs, top first.
 *
 * Lifecycle: `unpack` creates a committed snapshot from a layer tar (in a temporary directory,
 * renamed into place when complete and verified, then recorded); `remove` deletes one that
 * nothing uses (the garbage collector decides that).
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.js';
import type { Lease } from '../metadata/leases.js';

/** A committed snapshot. */
export interface SnapshotInfo {
  chainId: Digest;
  /** Chain ID of the snapshot below, or '' for a base layer. */
  parent: string;
  diffId: Digest;
  /** Unpacked size in bytes (Docker's layer size). */
  size: number;
}

/** What `unpack` needs to know about one layer. */
export interface UnpackRequest {
  chainId: Digest;
  parent: string;
  /** The digest of the uncompressed layer tar; the stream is verified against it. */
  diffId: Digest;
  /** Opens the layer as an uncompressed tar stream. Called only when the snapshot is missing. */
  open: () => Promise<Readable>;
}

/** The snapshotter interface. */
export interface Snapshotter {
  /** The directory committed snapshots live in. */
  readonly root: string;
  stat(chainId: Digest): SnapshotInfo | undefined;
  list(): SnapshotInfo[];
  /** Ensures the committed snapshot of `req.chainId` exists, unpacking the layer when missing. */
  unpack(req: UnpackRequest, lease: Lease, signal?: AbortSignal): Promise<SnapshotInfo>;
  /** The directory holding a committed snapshot's files. */
  dir(chainId: Digest): string;
  /**
   * A fresh private directory for work that may become a snapshot (a build step's overlay
   * upper directory and its siblings), on the snapshots' file system so that `adopt` is a
   * rename. Swept with the process's other leftovers when it dies.
   */
  workDir(): Promise<string>;
  /**
   * Makes `<workDir>/fs` the committed snapshot of `info.chainId`: the files must already be
   * in snapshot format (an overlay upper directory is) and their layer tar must have
   * `info.diffId`. Everything else in `workDir` is removed. When the snapshot already exists
   * (the same step made the same files before) `workDir` is removed instead.
   */
  adopt(workDir: string, info: SnapshotInfo, lease: Lease): Promise<SnapshotInfo>;
  /** Deletes a committed snapshot (record first, then files). */
  remove(chainId: Digest): Promise<void>;
  /**
   * Synchronously deletes the record and moves the files aside, returning the directory to
   * delete afterwards; for use inside a metadata transaction.
   */
  detach(chainId: Digest): string | undefined;
  /** Removes leftovers of unpacks whose process died; returns how many. */
  sweep(): Promise<number>;
}
