/**
 * The host side of `cp`, as the Docker CLI does it with go-archive's copy.go: which local path
 * is meant, where an archive goes and under which name (CopyInfoSourcePath,
 * CopyInfoDestinationPath, PrepareArchiveCopy, RebaseArchiveEntries). Paths here use Go's
 * path rules (filepath.Clean, Base, Dir), whose corner cases (`/`, trailing `/` and `/.`)
 * decide what gets copied where.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { errors, GantryError, isErrno } from '../../core/errors.js';

/** What is known of one end of a copy (go-archive's CopyInfo). */
export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  /** The name the source goes by in the archive, when not its base name. */
  rebaseName: string;
}

/** Go's filepath.Clean. */
export function clean(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Go's filepath.Base: `.` for '', `/` for '/'. */
export function base(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1);
}

/** Go's filepath.Dir. */
function dir(p: string): string {
  return clean(p.slice(0, p.lastIndexOf('/') + 1) || '.');
}

const hasTrailingSeparator = (p: string) => p.endsWith('/');
const specifiesCurrentDir = (p: string) => base(p) === '.';
/** True when `p` ends in `/` or `/.`: it must be a directory. */
export const assertsDirectory = (p: string) => hasTrailingSeparator(p) || specifiesCurrentDir(p);

/** Puts back the trailing `/.` or `/` of `original` that cleaning took from `cleaned`. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  if (!specifiesCurrentDir(cleaned) && specifiesCurrentDir(original)) cleaned = `${hasTrailingSeparator(cleaned) ? cleaned : `${cleaned}/`}.`;
  if (!hasTrailingSeparator(cleaned) && hasTrailingSeparator(original)) cleaned += '/';
  return cleaned;
}

/** Directory and base name of `p`, keeping a trailing `.` (go-archive's SplitPathDirEntry). */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = clean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [dir(cleaned), base(cleaned)];
}

/**
 * Splits a `cp` argument into container and path: `CONTAINER:PATH`, else a local path (an
 * absolute path, or one starting with `.`, may contain `:`), as docker/cli's splitCpArg.
 */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** The absolute form of local path `p`, keeping its trailing `/` or `/.`. */
export function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(path.resolve(p), p);
}

/** The resolved path with `p`'s trailing `/.` or `/`, and the name to archive it under when the resolution changed it. */
export function getRebaseName(p: string, resolved: string): [string, string] {
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(resolved)) resolved += '/.';
  if (hasTrailingSeparator(p) && !hasTrailingSeparator(resolved)) resolved += '/';
  return [resolved, base(p) !== base(resolved) ? base(p) : ''];
}

/** A Node fs error as Go words it (`lstat /x: no such file or directory`), for Docker's messages. */
export function goError(err: unknown, op: string, p: string): unknown {
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'not a directory',
    EACCES: 'permission denied',
    ELOOP: 'too many levels of symbolic links',
  };
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const text = words[code];
  if (!text) return err;
  return new GantryError(code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `${op} ${p}: ${text}`, { cause: err });
}

function fsCall<T>(op: string, p: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw goError(err, op, p);
  }
}

/**
 * The local source of a copy into a container: symlinks before the last `/` are resolved, the
 * last component too with `followLink` (go-archive's CopyInfoSourcePath).
 */
export function copyInfoSourcePath(p: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    [resolved, rebaseName] = getRebaseName(p, fsCall('lstat', p, () => realpathSync(p)));
  } else {
    const slash = p.lastIndexOf('/');
    const [dirPart, basePart] = [p.slice(0, slash + 1), p.slice(slash + 1)];
    const realDir = fsCall('lstat', dirPart || '.', () => realpathSync(dirPart || '.'));
    resolved = `${realDir === '/' ? '' : realDir}/${basePart}`;
    if (hasTrailingSeparator(p) && base(p) !== base(resolved)) rebaseName = base(p);
  }
  const st = fsCall('lstat', resolved, () => lstatSync(resolved));
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/**
 * The local destination of a copy out of a container: a symlink at the end is followed (a
 * dangling one names what to create); when nothing is there, its parent must be a directory
 * (go-archive's CopyInfoDestinationPath).
 */
export function copyInfoDestinationPath(p: string): CopyInfo {
  let st = lstatOrUndefined(p);
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw errors.invalid(`too many symlinks in ${p}`);
    const target = readlinkSync(p);
    p = target.startsWith('/') ? target : path.join(splitPathDirEntry(p)[0], target);
    st = lstatOrUndefined(p);
  }
  if (st) return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  const parent = splitPathDirEntry(p)[0];
  if (!fsCall('stat', parent, () => statSync(parent)).isDirectory()) throw errors.invalid('not a directory');
  return { path: p, exists: false, isDir: false, rebaseName: '' };
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw goError(err, 'lstat', p);
  }
}

/**
 * Where an archive of `src` is extracted to land at `dst`, and the rename of its top entry
 * that this needs (go-archive's PrepareArchiveCopy): into an existing directory as is;
 * otherwise as the destination's base name in the destination's parent.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rename?: [from: string, to: string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  const srcBase = src.rebaseName || splitPathDirEntry(src.path)[1];
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw errors.invalid('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw errors.notFound('no such directory');
  return { dstDir, rename: [srcBase, dstBase] };
}

/**
 * Renames archive entries whose first component is `oldBase` to start with `newBase` instead
 * (go-archive's newNameRebaser): with `oldBase` `/` or '', every name gets `newBase/` in front.
 */
export function nameRebaser(oldBase: string, newBase: string): (name: string) => string {
  const from = oldBase.replace(/\/+$/, '');
  const to = newBase.replace(/\/+$/, '');
  if (from === '') return (name) => (to === '' ? name.replace(/^\/+/, '') : `${to}/${name.replace(/^\/+/, '')}`);
  return (name) => {
    if (!name.startsWith(from)) return name;
    const suffix = name.slice(from.length);
    return suffix === '' || suffix.startsWith('/') ? to + suffix : name;
  };
}

/** Total size of the regular files at `p` (the file itself, or all below a directory), as docker/cli's localContentSize. */
export function localContentSize(p: string): number {
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  for (const entry of readdirSync(p, { withFileTypes: true })) {
    const child = path.join(p, entry.name);
    if (entry.isDirectory()) total += localContentSize(child);
    else if (entry.isFile()) total += lstatSync(child).size;
  }
  return total;
}

/** docker/cli's ValidateOutputPath: the parent of a copy's local destination must exist, and the destination must not be a device. */
export function validateOutputPath(p: string): void {
  const parent = dir(clean(p));
  if (parent !== '.' && !statOrUndefined(parent)) throw errors.invalid(`invalid output path: directory ${JSON.stringify(parent)} does not exist`);
  const st = statOrUndefined(p);
  if (st?.isBlockDevice() || st?.isCharacterDevice()) {
    throw errors.invalid(`invalid output path: ${JSON.stringify(p)} must be a directory or a regular file: got a device`);
  }
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw goError(err, 'stat', p);
  }
}
