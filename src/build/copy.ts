/**
 * The file system half of COPY and ADD: sources matched in the context (or in another stage's
 * or image's files) copied into a step's mounted root file system, with BuildKit's rules:
 *
 * - a source directory copies its *contents*; a file goes to `dest` itself, or into it when
 *   `dest` ends in `/` or is an existing directory; several sources need a `dest/`;
 * - sources may use Go `filepath.Match` wildcards per path component; `..` may not leave the
 *   context; a source that is a symlink is followed inside its root, and refused when its
 *   target leaves the context; symlinks below a copied directory are copied as symlinks;
 * - files from the context become 0:0, files from another stage keep their owners; `--chown`
 *   (names looked up in the destination's /etc/passwd and /etc/group) and `--chmod` override;
 *   modes and modification times are kept;
 * - `.dockerignore` and `--exclude` patterns leave paths out; a source that matches nothing
 *   (or only excluded paths) is NOT_FOUND;
 * - ADD unpacks local tar archives (plain, gzip, bzip2, xz, zstd; recognized by their bytes,
 *   not their names) into `dest`, and downloads http(s) URLs (downloadAddSources).
 *
 * Writes never leave the root: the destination is resolved with every symlink taken inside
 * the root, and below it an existing entry in the way of a copied one is replaced, never
 * followed. File system calls are synchronous (a COPY of thousands of small files is bound by
 * system calls, and copyFileSync uses copy_file_range).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  type Stats,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { errors } from '../core/errors.js';
import { mknod } from '../native/native.js';
import { resolveInRoot } from '../runtime/secure-path.js';
import { IgnoreMatcher, parseDockerignore } from './context/dockerignore.js';
import { extractContextTar } from './context/tar-source.js';

/** Where COPY reads from. */
export interface CopySource {
  /**
   * `context`: paths relative to the build context `root`; `ignore` applies; owners become 0:0.
   * `rootfs`: paths inside another stage's or image's files mounted at `root`; owners kept.
   */
  kind: 'context' | 'rootfs';
  root: string;
  ignore?: IgnoreMatcher;
}

/** One COPY or ADD, its values expanded. */
export interface CopyRequest {
  instruction: 'COPY' | 'ADD';
  sources: string[];
  /** Here-document sources: files named `path` (mode 0644). */
  contents: { path: string; data: string }[];
  dest: string;
  /** The stage's WORKDIR, against which a relative `dest` is taken. */
  workdir: string;
  chown?: string;
  chmod?: string;
  exclude: string[];
  parents: boolean;
  /** ADD: unpack local archives (default true for ADD); false for downloaded files. */
  unpack?: boolean;
}

/** A matched source: its path relative to the source root, and its host path (links followed). */
interface Matched {
  rel: string;
  host: string;
  st: Stats;
}

const q = (s: string) => JSON.stringify(s);
const WILDCARD = /[*?[\\]/;

/** Paths (relative to the context) the sources match, for cache keys. */
export async function matchSources(source: CopySource, sources: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of sources) for (const m of matchOne(source, s)) if (!out.includes(m.rel)) out.push(m.rel);
  return out;
}

/** Copies the sources of `req` into the root file system mounted at `rootfs`. */
export async function copyInto(rootfs: string, source: CopySource, req: CopyRequest, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const matched = req.sources.flatMap((s) => matchOne(source, s));
  const count = matched.length + req.contents.length;
  let dest = req.dest.startsWith('/') ? req.dest : posix.join(req.workdir || '/', req.dest) + (req.dest.endsWith('/') ? '/' : '');
  if (req.dest === '.' || req.dest.endsWith('/.')) dest = `${posix.join(req.workdir || '/', req.dest)}/`;
  const destIsDir = dest.endsWith('/');
  if (count > 1 && !destIsDir) {
    throw errors.invalid(`When using ${req.instruction} with more than one source file, the destination must be a directory and end with a /`);
  }
  const owner = req.chown === undefined ? undefined : resolveChown(rootfs, req.chown);
  const mode = req.chmod === undefined ? undefined : parseChmod(req.chmod);
  const exclude = req.exclude.length > 0 ? new IgnoreMatcher(parseDockerignore(req.exclude.join('\n'))) : undefined;
  const writer = new TreeWriter(rootfs, {
    owner: (st) => owner ?? (source.kind === 'context' ? { uid: 0, gid: 0 } : { uid: st.uid, gid: st.gid }),
    mode,
    chownCreated: owner,
    signal,
  });
  const unpack = req.instruction === 'ADD' && req.unpack !== false;
  for (const m of matched) {
    signal?.throwIfAborted();
    const base = req.parents ? posix.join(dest, posix.dirname(m.rel)) : dest.replace(/\/+$/, '') || '/';
    if (m.st.isDirectory()) {
      const target = req.parents ? posix.join(dest, m.rel) : base;
      const ignoreBase = source.kind === 'context' ? m.rel : undefined;
      writer.copyTree(m.host, target, source.kind === 'context' ? source.ignore : undefined, ignoreBase, exclude);
      continue;
    }
    if (exclude?.matches(basename(m.rel))) continue;
    const intoDir = destIsDir || req.parents || writer.isDir(base);
    if (unpack && m.st.isFile() && archiveKind(m.host) !== undefined) {
      await unpackArchive(m.host, base, writer, signal);
      continue;
    }
    writer.copyEntry(m.host, intoDir ? posix.join(base, basename(m.rel)) : base, m.st);
  }
  for (const c of req.contents) {
    const target = destIsDir || writer.isDir(dest) ? posix.join(dest, c.path) : dest;
    writer.writeFile(target, Buffer.from(c.data), 0o644);
  }
  writer.finish();
}

/** Matches one source pattern. Throws NOT_FOUND when nothing matches. */
function matchOne(source: CopySource, pattern: string): Matched[] {
  const clean = posix.normalize(`/${pattern}`).slice(1) || '.';
  if (source.kind === 'context' && (pattern.startsWith('../') || pattern === '..' || posix.normalize(pattern).startsWith('../'))) {
    throw errors.invalid(`forbidden path outside the build context: ${pattern} ()`);
  }
  const notFound = () =>
    errors.notFound(`failed to compute cache key: ${q(`/${clean === '.' ? '' : clean}`)}: not found`, {
      hint: source.kind === 'context' ? 'check that the path exists in the build context and is not excluded by .dockerignore' : undefined,
    });
  const ignored = (rel: string) => source.kind === 'context' && rel !== '.' && (source.ignore?.matches(rel) ?? false);
  const paths = WILDCARD.test(clean) ? glob(source.root, clean).filter((p) => !ignored(p)) : [clean];
  const out: Matched[] = [];
  for (const rel of paths) {
    if (ignored(rel) && !(source.ignore?.mayContainIncluded(rel) ?? false)) continue;
    const host = followInRoot(source, rel, pattern);
    const st = host === undefined ? undefined : statSync(host, { throwIfNoEntry: false });
    if (!st || host === undefined) continue;
    out.push({ rel, host, st });
  }
  if (out.length === 0) throw notFound();
  return out;
}

/** The host path of `rel`, its symlinks followed inside the root; refused when a context link leaves the context. */
function followInRoot(source: CopySource, rel: string, pattern: string): string | undefined {
  let current = '';
  for (const part of rel === '.' ? [] : rel.split('/')) {
    const next = current === '' ? part : `${current}/${part}`;
    const host = join(source.root, next);
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isSymbolicLink() && source.kind === 'context') {
      const target = readlinkSync(host);
      const resolved = target.startsWith('/') ? posix.normalize(target) : posix.normalize(`/${current}/${target}`);
      if (target.startsWith('/') || resolved.startsWith('/..') || posix.normalize(`${current}/${target}`).startsWith('..')) {
        throw errors.invalid(`forbidden path outside the build context: ${pattern} (${target})`, {
          hint: 'a COPY source may be a symlink only to a path inside the context',
        });
      }
    }
    current = next;
  }
  return resolveInRoot(source.root, current || '/');
}

/** Paths under `root` matching a pattern with wildcards, component by component, sorted. */
function glob(root: string, pattern: string): string[] {
  let found = [''];
  for (const part of pattern.split('/')) {
    const next: string[] = [];
    for (const dir of found) {
      if (!WILDCARD.test(part)) {
        const p = dir === '' ? part : `${dir}/${part}`;
        if (lstatSync(join(root, p), { throwIfNoEntry: false })) next.push(p);
        continue;
      }
      const re = matchRegExp(part);
      let names: string[];
      try {
        names = readdirSync(join(root, dir)).sort();
      } catch {
        continue;
      }
      for (const n of names) if (re.test(n)) next.push(dir === '' ? n : `${dir}/${n}`);
    }
    found = next;
  }
  return found;
}

/** Go's filepath.Match for one component as a regular expression. */
function matchRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i] as string);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw errors.invalid(`syntax error in pattern ${q(pattern)}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `!${cls.slice(1)}`;
      re += `[${cls.startsWith('!') ? `^${cls.slice(1)}` : cls}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `--chmod`: octal (BuildKit also takes symbolic modes; we take octal only). */
function parseChmod(value: string): number {
  if (!/^[0-7]{3,4}$/.test(value)) throw errors.invalid(`invalid chmod parameter: ${q(value)}`, { hint: 'give an octal mode such as 0755' });
  return parseInt(value, 8);
}

/** `--chown user[:group]`: numbers as they are, names from the destination's passwd and group files. */
export function resolveChown(rootfs: string, spec: string): { uid: number; gid: number } {
  const [user = '', group] = spec.split(':');
  const lookup = (file: string, name: string, what: 'uid' | 'gid'): number => {
    if (/^\d+$/.test(name)) return Number(name);
    let text = '';
    try {
      text = readSmall(resolveInRoot(rootfs, file));
    } catch {
      // no such file: the name cannot be found
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
    }
    throw errors.invalid(`unable to convert uid/gid chown string to host mapping: can't find ${what} for ${what === 'uid' ? 'user' : 'group'} ${name}: no such ${what === 'uid' ? 'user' : 'group'}: ${name}`);
  };
  const uid = lookup('/etc/passwd', user, 'uid');
  const gid = group === undefined || group === '' ? uid : lookup('/etc/group', group, 'gid');
  return { uid, gid };
}

function readSmall(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

interface WriterOptions {
  owner: (st: Stats) => { uid: number; gid: number };
  mode?: number;
  /** Owner of the destination directories the copy creates (else 0:0). */
  chownCreated?: { uid: number; gid: number };
  signal?: AbortSignal;
}

/** Writes entries below container paths of one root file system. */
class TreeWriter {
  /** Directory times to restore once their children are written (deepest last written first). */
  private readonly dirTimes: { path: string; st: Stats }[] = [];

  constructor(
    private readonly rootfs: string,
    private readonly o: WriterOptions,
  ) {}

  /** Whether the container path is an existing directory (symlinks followed inside the root). */
  isDir(containerPath: string): boolean {
    return statSync(resolveInRoot(this.rootfs, containerPath), { throwIfNoEntry: false })?.isDirectory() ?? false;
  }

  /** Makes the container directory and its missing parents; returns its host path. */
  private mkdirs(containerPath: string): string {
    let current = '/';
    let host = this.rootfs;
    for (const part of containerPath.split('/').filter(Boolean)) {
      current = posix.join(current, part);
      host = resolveInRoot(this.rootfs, current);
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (st?.isDirectory()) continue;
      if (st) throw errors.invalid(`cannot copy to ${q(containerPath)}: ${q(current)} exists and is not a directory`);
      mkdirSync(host, 0o755);
      chmodSync(host, 0o755);
      const owner = this.o.chownCreated ?? { uid: 0, gid: 0 };
      lchownSync(host, owner.uid, owner.gid);
    }
    return host;
  }

  /** Copies the contents of directory `src` into container directory `dest`. */
  copyTree(src: string, dest: string, ignore: IgnoreMatcher | undefined, ignoreBase: string | undefined, exclude: IgnoreMatcher | undefined): void {
    const host = this.mkdirs(dest);
    this.copyChildren(src, host, ignore, ignoreBase, exclude, '');
  }

  private copyChildren(
    src: string,
    hostDir: string,
    ignore: IgnoreMatcher | undefined,
    ignoreBase: string | undefined,
    exclude: IgnoreMatcher | undefined,
    rel: string,
  ): void {
    this.o.signal?.throwIfAborted();
    for (const name of readdirSync(src).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const s = join(src, name);
      const st = lstatSync(s);
      const ctxRel = ignoreBase === undefined ? undefined : ignoreBase === '.' ? childRel : `${ignoreBase}/${childRel}`;
      const excluded = (ctxRel !== undefined && (ignore?.matches(ctxRel) ?? false)) || (exclude?.matches(childRel) ?? false);
      if (excluded) {
        const descend =
          st.isDirectory() &&
          ((ctxRel !== undefined && ignore?.matches(ctxRel) && ignore.mayContainIncluded(ctxRel)) ||
            (exclude?.matches(childRel) && exclude.mayContainIncluded(childRel)));
        if (!descend) continue;
      }
      const target = join(hostDir, name);
      if (st.isDirectory()) {
        this.makeDir(target, st);
        this.copyChildren(s, target, ignore, ignoreBase, exclude, childRel);
        this.dirTimes.push({ path: target, st });
      } else {
        this.place(s, target, st);
      }
    }
  }

  /** Copies one non-directory entry (or a directory's contents) to a container path. */
  copyEntry(src: string, dest: string, st: Stats): void {
    const parent = this.mkdirs(posix.dirname(dest));
    this.place(src, join(parent, posix.basename(dest)), st);
  }

  /** Writes a file with the given bytes (a here-document source). */
  writeFile(dest: string, data: Buffer, mode: number): void {
    const parent = this.mkdirs(posix.dirname(dest));
    const target = join(parent, posix.basename(dest));
    this.clear(target, false);
    writeFileSync(target, data, { mode });
    chmodSync(target, this.o.mode ?? mode);
    const owner = this.o.chownCreated ?? { uid: 0, gid: 0 };
    lchownSync(target, owner.uid, owner.gid);
  }

  private makeDir(target: string, st: Stats): void {
    const existing = lstatSync(target, { throwIfNoEntry: false });
    if (existing && !existing.isDirectory()) this.clear(target, true);
    if (!existing?.isDirectory()) mkdirSync(target);
    chmodSync(target, this.o.mode ?? st.mode & 0o7777);
    const owner = this.o.owner(st);
    lchownSync(target, owner.uid, owner.gid);
  }

  /** Puts a file, symlink or special file at host path `target`, replacing what is there. */
  private place(src: string, target: string, st: Stats): void {
    this.clear(target, false);
    const owner = this.o.owner(st);
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), target);
      lchownSync(target, owner.uid, owner.gid);
      lutimesSync(target, st.atime, st.mtime);
      return;
    }
    if (st.isFile()) {
      copyFileSync(src, target);
    } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      mknod(target, st.mode, Math.floor(st.rdev / 256), st.rdev % 256);
    } else {
      return; // sockets are not copied
    }
    lchownSync(target, owner.uid, owner.gid);
    // chmod after chown: chown clears the set-id bits.
    chmodSync(target, this.o.mode ?? st.mode & 0o7777);
    utimesSync(target, st.atime, st.mtime);
  }

  /** Removes what is in the way at `target` (a directory only when `dirsToo`, or when a file must replace it). */
  private clear(target: string, dirsToo: boolean): void {
    const st = lstatSync(target, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      void dirsToo;
      rmSync(target, { recursive: true, force: true });
    } else unlinkSync(target);
  }

  /** Restores the copied directories' modification times. */
  finish(): void {
    for (const { path, st } of this.dirTimes.reverse()) utimesSync(path, st.atime, st.mtime);
  }
}

type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** What kind of archive a file is, by its first bytes; undefined when it is none. */
function archiveKind(path: string): ArchiveKind | undefined {
  const head = Buffer.alloc(512);
  let n: number;
  const fd = openSync(path, 'r');
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (n >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (n === 512 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

/** ADD of a local archive: unpacked into a private directory, then copied into `dest` with the archive's owners. */
async function unpackArchive(file: string, dest: string, writer: TreeWriter, signal?: AbortSignal): Promise<void> {
  const kind = archiveKind(file) as ArchiveKind;
  const tmp = await mkdtemp(join(tmpdir(), 'gantry-add-'));
  try {
    let stream: Readable = createReadStream(file);
    let child;
    if (kind === 'gzip') stream = stream.pipe(createGunzip());
    else if (kind !== 'tar') {
      const program = kind === 'bzip2' ? 'bzip2' : kind === 'xz' ? 'xz' : 'zstd';
      child = spawn(program, ['-dc', file], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.on('error', () => undefined);
      stream.destroy();
      stream = child.stdout;
    }
    await extractContextTar(stream, tmp, { signal });
    writer.copyTree(tmp, dest, undefined, undefined, undefined);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A downloaded ADD source. */
export interface DownloadedSource {
  url: string;
  /** The file it was saved to (in `tmpDir`). */
  file: string;
  /** The name it gets in the image. */
  name: string;
  digest: string;
}

/**
 * ADD's http(s) sources: each downloaded (streamed) into its own directory under `tmpDir`,
 * named after the URL's last path segment, mode 0600 and the Last-Modified time, as Docker
 * does. With `checksum` (ADD --checksum=sha256:...) a mismatch is refused.
 */
export async function downloadAddSources(
  urls: readonly string[],
  tmpDir: string,
  opts: { checksum?: string; signal?: AbortSignal },
): Promise<DownloadedSource[]> {
  const out: DownloadedSource[] = [];
  for (const [i, url] of urls.entries()) {
    let res: Response;
    try {
      res = await fetch(url, { signal: opts.signal, redirect: 'follow' });
    } catch (err) {
      if (opts.signal?.aborted) throw errors.canceled();
      throw errors.unavailable(`failed to load cache key: ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, { cause: err });
    }
    if (!res.ok || !res.body) throw errors.notFound(`failed to load cache key: invalid response status ${res.status} from ${url}`);
    const name = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '') || '__unnamed__';
    const dir = join(tmpDir, String(i));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, name);
    const hash = createHash('sha256');
    const body = Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
    body.on('data', (b: Buffer) => hash.update(b));
    await pipeline(body, createWriteStream(file, { mode: 0o600 }), { signal: opts.signal });
    const digest = `sha256:${hash.digest('hex')}`;
    if (opts.checksum && opts.checksum !== digest) {
      throw errors.invalid(`digest mismatch ${digest}: ${opts.checksum}`, { hint: `the content of ${url} is not what --checksum says` });
    }
    const modified = res.headers.get('last-modified');
    if (modified && !Number.isNaN(Date.parse(modified))) utimesSync(file, new Date(modified), new Date(modified));
    chmodSync(file, 0o600);
    out.push({ url, file, name, digest });
  }
  return out;
}
