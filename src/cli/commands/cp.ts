/**
 * `cp` / `container cp`: copies files and directories between a container and the local
 * filesystem as tar streams, with docker/cli's rules (cli/command/container/cp.go): which
 * end is the container, where the copy lands and under which name, `-` for a tar on stdin or
 * stdout, and the "Successfully copied" summary on stderr when not quiet.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors } from '../../core/errors.js';
import { archiveFromRoot, extractToRoot, FileMode, hasMode, type PathStat } from '../../engine/engine.js';
import type { CliContext } from '../context.js';
import { humanSizeWithPrecision } from '../format/units.js';
import {
  type CopyInfo, copyInfoDestinationPath, copyInfoSourcePath, getRebaseName, localContentSize, nameRebaser, prepareArchiveCopy,
  resolveLocalPath, splitCpArg, splitPathDirEntry, validateOutputPath,
} from './cp-archive.js';

interface CpFlags {
  archive?: boolean;
  followLink?: boolean;
  quiet?: boolean;
}

/** Adds `cp` and `container cp`. */
export function registerCpCommand(program: Command, container: Command, getCtx: () => CliContext): void {
  for (const parent of [program, container]) {
    parent
      .command('cp')
      .description('Copy files/folders between a container and the local filesystem')
      .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       gantry cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
      .argument('<SRC_PATH>')
      .argument('<DEST_PATH>')
      .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
      .option('-L, --follow-link', 'Always follow symlinks in SRC_PATH')
      .option('-q, --quiet', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached')
      .action(async (src: string, dest: string, o: CpFlags) => cpCommand(getCtx(), src, dest, o));
  }
}

async function cpCommand(ctx: CliContext, source: string, destination: string, o: CpFlags): Promise<void> {
  if (source === '') throw errors.invalid('source can not be empty');
  if (destination === '') throw errors.invalid('destination can not be empty');
  // As Docker: without -q, quiet when stdout is not a terminal.
  const flags = { ...o, quiet: o.quiet ?? !ctx.stdout.isTTY };
  const src = splitCpArg(source);
  const dst = splitCpArg(destination);
  if (src.container && dst.container) throw errors.invalid('copying between containers is not supported');
  if (src.container) return copyFromContainer(ctx, src.container, src.path, dst.path, flags);
  if (dst.container) return copyToContainer(ctx, dst.container, src.path, dst.path, flags);
  throw errors.invalid('must specify at least one container source');
}

/** `cp CONTAINER:SRC DEST|-`. */
async function copyFromContainer(ctx: CliContext, container: string, srcPath: string, dest: string, o: CpFlags): Promise<void> {
  const dstPath = dest === '-' ? dest : resolveLocalPath(dest);
  validateOutputPath(dstPath);
  const engine = ctx.engine();
  let rebaseName = '';
  if (o.followLink) {
    // Copy what the link points to, under the link's name.
    const link = await engine.containers.statPath(container, srcPath).catch(() => undefined);
    if (link && hasMode(link.mode, FileMode.symlink)) {
      [srcPath, rebaseName] = getRebaseName(srcPath, linkTargetOf(srcPath, link));
    }
  }
  const { stat, stream } = await engine.containers.copyFrom(container, srcPath);
  if (dstPath === '-') return pipeline(stream, ctx.stdout);
  const counted = new ByteCounter();
  try {
    const src: CopyInfo = { path: srcPath, exists: true, isDir: hasMode(stat.mode, FileMode.dir), rebaseName };
    const { dstDir, rename } = prepareArchiveCopy(src, copyInfoDestinationPath(dstPath));
    const renames = [
      ...(rebaseName ? [nameRebaser(splitPathDirEntry(srcPath)[1], rebaseName)] : []),
      ...(rename ? [nameRebaser(...rename)] : []),
    ];
    await withProgress(ctx, o, 'Copying from container - ', counted, () =>
      extractToRoot(dstDir, '/', counted.from(stream), {
        noOverwriteDirNonDir: true,
        // NOTE: Docker leaves owners to the user who copies; -a keeps the container's, as its documentation says.
        noLchown: !o.archive,
        chown: undefined,
        rename: (name) => renames.reduce((n, f) => f(n), name),
      }),
    );
  } finally {
    stream.destroy();
  }
  if (!o.quiet) ctx.stderr.write(copySummary(reportedSize(stat, counted.bytes), counted.bytes, dstPath));
}

/** `cp SRC|- CONTAINER:DEST`. */
async function copyToContainer(ctx: CliContext, container: string, source: string, dstPath: string, o: CpFlags): Promise<void> {
  const srcPath = source === '-' ? source : resolveLocalPath(source);
  const engine = ctx.engine();
  // What the destination is decides where the archive is extracted and under which name.
  // NOTE: errors are ignored, as by Docker: the extraction reports a missing container or parent.
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let st = await engine.containers.statPath(container, dstPath).catch(() => undefined);
  if (st && hasMode(st.mode, FileMode.symlink)) {
    dst.path = linkTargetOf(dstPath, st);
    st = await engine.containers.statPath(container, dst.path).catch(() => undefined);
  }
  if (st) {
    if (hasMode(st.mode, FileMode.device) || hasMode(st.mode, FileMode.irregular)) {
      const what = hasMode(st.mode, FileMode.device) ? 'got a device' : 'got an irregular file';
      throw errors.invalid(`destination "${container}:${dstPath}" must be a directory or a regular file: ${what}`);
    }
    dst.exists = true;
    dst.isDir = hasMode(st.mode, FileMode.dir);
  }

  let content: Readable;
  let destDir: string;
  let contentSize: number | undefined;
  if (srcPath === '-') {
    if (!dst.isDir) throw errors.invalid(`destination "${container}:${dstPath}" must be a directory`);
    content = ctx.stdin;
    destDir = dst.path;
  } else {
    const src = copyInfoSourcePath(srcPath, o.followLink ?? false);
    try {
      contentSize = localContentSize(src.path);
    } catch {
      contentSize = undefined;
    }
    const { dstDir, rename } = prepareArchiveCopy(src, dst);
    // The archive is made with its final names, which Docker gets by rebasing it.
    content = archiveFromRoot('/', src.path, { rebaseName: rename ? rename[1] : src.rebaseName || undefined });
    destDir = dstDir;
  }
  const counted = new ByteCounter();
  try {
    await withProgress(ctx, o, 'Copying to container - ', counted, () =>
      engine.containers.copyTo(container, destDir, counted.from(content), { copyUIDGID: o.archive ?? false }),
    );
  } finally {
    content.destroy();
  }
  // NOTE: for stdin Docker reports 0B (it does not count what it reads); this reports what was read.
  if (!o.quiet) ctx.stderr.write(copySummary(contentSize ?? counted.bytes, counted.bytes, `${container}:${dst.path}`));
}

/** Where a symlink found by stat points, as a container path. */
function linkTargetOf(linkPath: string, st: PathStat): string {
  return st.linkTarget.startsWith('/') ? st.linkTarget : path.posix.join(splitPathDirEntry(linkPath)[0], st.linkTarget);
}

/** What Docker reports as copied out: a directory's archive size, a file's own size. */
function reportedSize(stat: PathStat, transferred: number): number {
  return hasMode(stat.mode, FileMode.dir) ? transferred : stat.size;
}

/** docker/cli's copySummary (Docker 29.4+): content size, and the tar stream's size when it differs. */
export function copySummary(contentSize: number, transferred: number, dest: string): string {
  const size = (n: number) => humanSizeWithPrecision(n, 3);
  if (contentSize !== transferred) return `Successfully copied ${size(contentSize)} (transferred ${size(transferred)}) to ${dest}\n`;
  return `Successfully copied ${size(contentSize)} to ${dest}\n`;
}

/** Passes bytes through and counts them. */
class ByteCounter extends Transform {
  bytes = 0;

  /** Pipes `source` through this counter (passing on its error); returns the counter. */
  from(source: Readable): this {
    source.once('error', (err) => this.destroy(err));
    return source.pipe(this);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

const ESC = '\x1b[';
/** aec's Save and Restore: both the SCO and the DEC sequences. */
const SAVE = `${ESC}s\x1b7`;
const RESTORE = `${ESC}u\x1b8`;

/**
 * Runs `fn` while, unless quiet and when stderr is a terminal, a line on stderr shows how many
 * bytes went through `counter` (docker/cli's copyProgress).
 */
async function withProgress<T>(ctx: CliContext, o: CpFlags, header: string, counter: ByteCounter, fn: () => Promise<T>): Promise<T> {
  const err = ctx.stderr;
  if (o.quiet || !err.isTTY) return fn();
  const size = (n: number) => humanSizeWithPrecision(n, 3);
  err.write(`${SAVE}Preparing to copy...`);
  err.write(`${ESC}?25l${RESTORE}${ESC}2K${header}${size(0)}`);
  let last = 0;
  const timer = setInterval(() => {
    if (counter.bytes === last) return;
    last = counter.bytes;
    err.write(`${ESC}${header.length + 1}G${ESC}0K${size(last)}`);
  }, 75);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    err.write(`${ESC}?25h${RESTORE}${ESC}2K`);
  }
}
