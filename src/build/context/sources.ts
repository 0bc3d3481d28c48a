/**
 * Turns the context argument of `gantry build` into a directory that `walkContext` reads,
 * and removes whatever was made for it when the build ends.
 *
 * The argument reads as docker/cli's `runBuild` reads it, in this order:
 * - `-`: stdin is an archive (plain tar, or compressed) to unpack, or else a Dockerfile, and the
 *   context is then empty (docker/cli `GetContextFromReader`, buildx `LoadInputs`);
 * - a path that exists: a directory used in place, or a local archive (plain tar, or
 *   compressed) unpacked as one on stdin would be — docker/cli refuses a local tarball, which
 *   only makes users type `gantry build - < ctx.tar`; any other file is refused with
 *   "context must be a directory", as docker/cli does;
 * - a git URL ({@link isGitUrl}): a shallow clone in a temporary directory;
 * - another http(s) URL: a remote tarball or Dockerfile (not supported yet);
 * - anything else: `unable to prepare context: path "x" not found`.
 */
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors, GantryError, isErrno } from '../../core/errors.js';
import { isTarHeader, sniffCompression } from '../../snapshots/tar-apply.js';
import { cloneGitContext, isGitUrl, parseGitUrl } from './git-source.js';
import { extractContextTar } from './tar-source.js';

/** Where a context came from. */
export type ContextKind = 'local' | 'local-archive' | 'stdin-archive' | 'stdin-dockerfile' | 'git';

/** A context ready to walk. */
export interface ContextSource {
  kind: ContextKind;
  /** The context directory, absolute. */
  dir: string;
  /** The Dockerfile, when stdin held one instead of an archive (the context is then empty). */
  dockerfileFromStdin?: Buffer;
  /** Removes what was made for this context (nothing for a local directory). Idempotent. */
  cleanup(): Promise<void>;
}

/** Options of {@link prepareContext}. */
export interface PrepareContextOptions {
  /** The `-f` value as given, if any; `-` means the Dockerfile is read from stdin. */
  dockerfile?: string;
  /** Read for a `-` context; process.stdin by default. */
  stdin?: Readable;
  /** Where temporary directories are made; the system's by default (gantry passes its state root's). */
  tempDir?: string;
  signal?: AbortSignal;
}

/** What the argument names, before anything is read or fetched. */
export type ContextArgKind = 'stdin' | 'local' | 'git' | 'url' | 'missing';

/** How many bytes of stdin are looked at to tell an archive from a Dockerfile (buildx reads 2 × 512). */
const PEEK_SIZE = 1024;

/** Classifies `arg` in docker/cli's order: `-`, an existing path (any type), git URL, URL, nothing. */
export async function contextArgKind(arg: string): Promise<ContextArgKind> {
  if (arg === '-') return 'stdin';
  try {
    await stat(arg);
    return 'local';
  } catch {
    // docker/cli's isLocalDir: any stat error means "not a local path"
  }
  if (isGitUrl(arg)) return 'git';
  if (/^https?:\/\//.test(arg)) return 'url';
  return 'missing';
}

/**
 * Docker's test for "stdin is an archive" (docker/cli build.IsArchive): a compression magic
 * number (gzip, bzip2, xz, zstd), or a first block that reads as a tar header. Anything else,
 * an empty stream and an all-zero block included, is a Dockerfile.
 */
export function isArchive(head: Uint8Array): boolean {
  return sniffCompression(head) !== 'none' || isTarHeader(head);
}

/** Prepares the context named by `arg`; see the module comment for the rules. */
export async function prepareContext(arg: string, options: PrepareContextOptions = {}): Promise<ContextSource> {
  if (options.signal?.aborted) throw errors.canceled();
  switch (await contextArgKind(arg)) {
    case 'stdin':
      return fromStdin(options);
    case 'local':
      return fromLocal(arg, options);
    case 'git': {
      const { root, dir } = await cloneGitContext(parseGitUrl(arg), { tempDir: resolve(options.tempDir ?? tmpdir()), signal: options.signal });
      return { kind: 'git', dir, cleanup: () => rm(root, { recursive: true, force: true }) };
    }
    case 'url':
      throw new GantryError('NOT_IMPLEMENTED', `unable to prepare context: remote URL contexts are not supported yet: ${arg}`, {
        hint: `download it and send it on stdin: curl -fsSL ${arg} | gantry build -`,
      });
    case 'missing':
      throw errors.notFound(`unable to prepare context: path ${JSON.stringify(arg)} not found`);
  }
}

async function fromLocal(arg: string, options: PrepareContextOptions): Promise<ContextSource> {
  const dir = resolve(arg);
  const st = await stat(dir);
  if (st.isFile()) {
    const { head, all } = await peek(createReadStream(dir), PEEK_SIZE);
    if (isArchive(head)) return fromArchive('local-archive', head, all, options);
    all.destroy();
  }
  if (!st.isDirectory()) {
    throw errors.invalid(`unable to prepare context: context must be a directory: ${dir}`, {
      hint: `pass a directory; to build from an archive, send it on stdin: gantry build - < ${arg}`,
    });
  }
  return { kind: 'local', dir, cleanup: async () => undefined };
}

/** Reads up to `size` bytes; returns them and the whole stream again (them first, then the rest), unbuffered. */
async function peek(stream: Readable, size: number): Promise<{ head: Buffer; all: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < size) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      while (!ended) {
        const r = await it.next();
        if (r.done) return;
        yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  return { head, all: Readable.from(rest(), { objectMode: false }) };
}

async function fromStdin(options: PrepareContextOptions): Promise<ContextSource> {
  if (options.dockerfile === '-') {
    throw errors.invalid(`invalid argument: can't use stdin for both build context and dockerfile`);
  }
  let head: Buffer;
  let all: Readable;
  try {
    ({ head, all } = await peek(options.stdin ?? process.stdin, PEEK_SIZE));
  } catch (err) {
    throw errors.unavailable(`unable to prepare context: failed to peek context header from STDIN: ${(err as Error).message}`, { cause: err });
  }
  if (!isArchive(head)) {
    const tempDir = resolve(options.tempDir ?? tmpdir());
    if (options.dockerfile !== undefined && options.dockerfile !== '') {
      all.destroy();
      // NOTE: buildx's wording; docker/cli's classic builder silently ignored -f here.
      throw errors.invalid('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles');
    }
    const chunks: Buffer[] = [];
    for await (const chunk of all) chunks.push(chunk as Buffer);
    const dir = await mkdtemp(join(tempDir, 'gantry-build-empty-'));
    return { kind: 'stdin-dockerfile', dir, dockerfileFromStdin: Buffer.concat(chunks), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  return fromArchive('stdin-archive', head, all, options);
}

/** Unpacks an archive context (`head` its first bytes, `all` the whole stream) into a temporary directory. */
async function fromArchive(kind: ContextKind, head: Buffer, all: Readable, options: PrepareContextOptions): Promise<ContextSource> {
  const { signal } = options;
  const tempDir = resolve(options.tempDir ?? tmpdir());
  const compression = sniffCompression(head);
  if (compression === 'bzip2' || compression === 'xz') {
    all.destroy();
    throw errors.invalid(`unable to prepare context: ${compression}-compressed build contexts are not supported`, {
      hint: `decompress it first: ${compression === 'xz' ? 'xz' : 'bzip2'} -dc FILE | gantry build -`,
    });
  }
  const source = compression === 'gzip' ? gunzip(all) : compression === 'zstd' ? zstdDecompress(all) : all;
  const dir = await mkdtemp(join(tempDir, 'gantry-build-context-'));
  try {
    await extractContextTar(source, dir, { signal });
  } catch (err) {
    source.destroy();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { kind, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function gunzip(input: Readable): Readable {
  const out = createGunzip();
  pipeline(input, out).catch(() => undefined); // an error of either side reaches the reader of `out`
  return out;
}

/**
 * Decompresses with the `zstd` program (Node 20 has no zstd). Its exit status decides: the
 * output ends only once zstd exited 0, so a truncated or corrupt stream is an error.
 */
function zstdDecompress(input: Readable): Readable {
  const out = new PassThrough();
  // NOTE: zstd may fail before the unpack reads `out`; the error is kept in the stream's
  // state (its reader sees it) instead of being emitted to no listener, which would crash.
  out.on('error', () => undefined);
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => {
    out.destroy(
      isErrno(err, 'ENOENT')
        ? errors.precondition('unable to prepare context: the context archive is zstd-compressed and the zstd program was not found', {
            hint: 'install zstd, or decompress it first: zstd -dc FILE | gantry build -',
          })
        : err,
    );
  });
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(errors.invalid(`unable to prepare context: invalid context archive: zstd: ${stderr.trim().split('\n').pop() ?? `exit status ${code}`}`));
  });
  // EPIPE when zstd stops reading early: its exit status says why.
  pipeline(input, child.stdin).catch(() => undefined);
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return out;
}
