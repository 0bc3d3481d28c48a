/**
 * {@link Snapshotter} for overlayfs:
 *   <dir>/<chain-hex>/fs          a committed snapshot's files (an overlay lowerdir)
 *   <dir>/tmp/<pid>-<rand>/fs     an unpack in progress by process <pid>
 * Records live in the `snapshots` table.
 *
 * `tmp` carries the ext4 "top directory" flag (`chattr +T`), so each unpack's tree starts in a
 * block group of its own instead of next to the previous ones. Without it, a pull right after
 * an `rmi` creates its files among the inodes just freed, and ext4 without a journal skips
 * every recently deleted inode one by one on each create (its `recently_deleted` check): with
 * a few thousand files per layer, creating files took most of a pull's time.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Transform } from 'node:stream';
import { type Digest, Digester, digestHex } from '../core/digest.js';
import { errors, isErrno } from '../core/errors.js';
import { abandoned } from '../core/process-alive.js';
import type { Db } from '../metadata/database.js';
import type { Lease } from '../metadata/leases.js';
import { markTopdir, MNT_DETACH, umount2 } from '../native/native.js';
import type { SnapshotInfo, Snapshotter, UnpackRequest } from './snapshotter.js';
import { applyLayer } from './tar-apply.js';
import { readdirOrEmpty } from '../core/readdir-or-empty.js';

interface Row {
  chain_id: string;
  parent: string;
  diff_id: string;
  size: number;
}

const toInfo = (r: Row): SnapshotInfo => ({
  chainId: r.chain_id as Digest,
  parent: r.parent,
  diffId: r.diff_id as Digest,
  size: r.size,
});

/** Snapshots as overlayfs layer directories. */
export class OverlaySnapshotter implements Snapshotter {
  /** Unpacks in flight in this process, so concurrent requests for one layer share the work. */
  private readonly inflight = new Map<string, Promise<SnapshotInfo>>();
  private tmpReady = false;

  constructor(
    private readonly db: Db,
    readonly root: string,
  ) {}

  stat(chainId: Digest): SnapshotInfo | undefined {
    const row = this.db.prepare('SELECT * FROM snapshots WHERE chain_id = ?').get(chainId) as Row | undefined;
    return row && toInfo(row);
  }

  list(): SnapshotInfo[] {
    return (this.db.prepare('SELECT * FROM snapshots').all() as Row[]).map(toInfo);
  }

  dir(chainId: Digest): string {
    return join(this.root, digestHex(chainId), 'fs');
  }

  unpack(req: UnpackRequest, lease: Lease, signal?: AbortSignal): Promise<SnapshotInfo> {
    lease.add('snapshot', req.chainId);
    const existing = this.stat(req.chainId);
    if (existing) return Promise.resolve(existing);
    let p = this.inflight.get(req.chainId);
    if (!p) {
      p = this.doUnpack(req, signal).finally(() => this.inflight.delete(req.chainId));
      this.inflight.set(req.chainId, p);
    }
    return p;
  }

  private async doUnpack(req: UnpackRequest, signal?: AbortSignal): Promise<SnapshotInfo> {
    const work = join(this.tmpDir(), `${process.pid}-${randomBytes(6).toString('hex')}`);
    const fs = join(work, 'fs');
    await mkdir(work, { mode: 0o700 });
    await mkdir(fs, { mode: 0o755 });
    try {
      const digester = new Digester();
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          digester.update(chunk);
          cb(null, chunk);
        },
      });
      const source = await req.open();
      // pipeline rather than pipe: it also passes on an error the source had before anyone
      // listened (a pull's download that failed while this unpack was starting).
      pipeline(source, hashing, () => undefined);
      const { size } = await applyLayer(hashing, fs, { signal });
      // Hash what the tar reader left unread (end-of-archive padding is part of the diff ID).
      hashing.unpipe();
      for await (const chunk of hashing) void chunk;
      const diffId = digester.digest();
      if (diffId !== req.diffId) {
        throw errors.dataLoss(`layer content does not match its diff ID: expected ${req.diffId}, got ${diffId}`, {
          hint: 'the image archive or blob is corrupt',
        });
      }
      const target = join(this.root, digestHex(req.chainId));
      try {
        await rename(work, target);
      } catch (err) {
        // Another process committed the same snapshot first: its files are identical.
        if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
        await rm(work, { recursive: true, force: true });
      }
      const info: SnapshotInfo = { chainId: req.chainId, parent: req.parent, diffId: req.diffId, size };
      this.db
        .prepare(
          'INSERT OR IGNORE INTO snapshots (chain_id, parent, diff_id, size, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(info.chainId, info.parent, info.diffId, info.size, new Date().toISOString());
      return this.stat(req.chainId) ?? info;
    } catch (err) {
      await rm(work, { recursive: true, force: true });
      throw err;
    }
  }

  async workDir(): Promise<string> {
    const dir = join(this.tmpDir(), `${process.pid}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  async adopt(workDir: string, info: SnapshotInfo, lease: Lease): Promise<SnapshotInfo> {
    lease.add('snapshot', info.chainId);
    const existing = this.stat(info.chainId);
    if (existing) {
      await rm(workDir, { recursive: true, force: true });
      return existing;
    }
    for (const name of await readdir(workDir)) {
      if (name !== 'fs') await rm(join(workDir, name), { recursive: true, force: true });
    }
    try {
      await rename(workDir, join(this.root, digestHex(info.chainId)));
    } catch (err) {
      if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
      await rm(workDir, { recursive: true, force: true });
    }
    this.db
      .prepare('INSERT OR IGNORE INTO snapshots (chain_id, parent, diff_id, size, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(info.chainId, info.parent, info.diffId, info.size, new Date().toISOString());
    return this.stat(info.chainId) ?? info;
  }

  async remove(chainId: Digest): Promise<void> {
    const trash = this.detach(chainId);
    if (trash) await rm(trash, { recursive: true, force: true });
  }

  /**
   * Deletes the record and moves the directory out of the way, returning where it went (or
   * undefined when there was none). The garbage collector calls this inside its write
   * (synchronous) transaction: a concurrent unpack of the same chain ID then finds neither the record nor
   * the directory, and unpacks afresh instead of trusting files that are about to go.
   */
  detach(chainId: Digest): string | undefined {
    this.db.prepare('DELETE FROM snapshots WHERE chain_id = ?').run(chainId);
    const trash = join(this.tmpDir(), `${process.pid}-trash-${randomBytes(6).toString('hex')}`);
    try {
      renameSync(join(this.root, digestHex(chainId)), trash);
      return trash;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** The directory of unpacks in progress and of trash: created and flagged once per process. */
  private tmpDir(): string {
    const tmp = join(this.root, 'tmp');
    if (!this.tmpReady) {
      mkdirSync(tmp, { recursive: true, mode: 0o700 });
      try {
        markTopdir(tmp); // false on file systems without the flag
      } catch {
        // Not permitted (or no addon): only the placement of new files is left to the file system.
      }
      this.tmpReady = true;
    }
    return tmp;
  }

  async sweep(): Promise<number> {
    let n = 0;
    const tmp = join(this.root, 'tmp');
    for (const name of await readdirOrEmpty(tmp)) {
      if (abandoned(name)) {
        // A build that died may have left its step's file systems mounted in there.
        unmountBelow(join(tmp, name));
        await rm(join(tmp, name), { recursive: true, force: true });
        n++;
      }
    }
    return n;
  }

  /** Directory names of committed snapshots on disk (chain ID hex), for orphan collection. */
  async listDirs(): Promise<string[]> {
    return (await readdirOrEmpty(this.root)).filter((n) => /^[a-f0-9]{64}$/.test(n));
  }
}

/** Detaches every mount at or below `dir`, deepest first. */
function unmountBelow(dir: string): void {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return;
  }
  const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const points = table
    .split('\n')
    .map((line) => unescape(line.split(' ')[1] ?? ''))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try {
      umount2(p, MNT_DETACH);
    } catch {
      // already gone
    }
  }
}

