/**
 * The build flow: context argument → context directory and Dockerfile → builder → image
 * (named with the tags) or exported files (`--output`). Spans the build service, the image
 * store and distribution (base images are pulled when missing), so it lives in the engine.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Builder, BuildSecret, StageResult } from '../build/builder.js';
import { loadIgnoreMatcher } from '../build/context/dockerignore.js';
import { prepareContext } from '../build/context/sources.js';
import { mountLayersReadOnly } from '../build/step-fs.js';
import type { BuildEvent, BuildEventSink } from '../core/build-events.js';
import type { Digest } from '../core/digest.js';
import { errors, isErrno } from '../core/errors.js';
import { familiarString, normalizeReference } from '../core/reference.js';
import type { Db } from '../metadata/database.js';
import type { Lease } from '../metadata/leases.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import { commitImage, type CommitDeps, withLease } from '../images/commit.js';
import { tagName } from '../images/import.js';

/** What `gantry build` asks for. */
export interface BuildOptions {
  /** The context argument: a directory, `-`, or a git URL. */
  context: string;
  /** `-f`: the Dockerfile (relative to the working directory; `-` for stdin). */
  file?: string;
  stdin?: Readable;
  tags?: string[];
  buildArgs?: ReadonlyMap<string, string>;
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  noCacheFilter?: string[];
  pull?: boolean;
  platform?: string;
  network?: 'default' | 'none' | 'host';
  secrets?: ReadonlyMap<string, BuildSecret>;
  /** `--output`: files instead of an image. `dest` `-` is stdout (tar only). */
  output?: { type: 'local' | 'tar'; dest: string; stdout?: Writable };
}

/** What a build produced. */
export interface BuildOutcome {
  /** The image ID (absent when the result was exported as files). */
  id?: Digest;
  names: string[];
}

/** What the flow needs from the engine. */
export interface BuildFlowDeps extends CommitDeps {
  db: Db;
  snapshots: Snapshotter;
  builder: Builder;
  gc: () => Promise<unknown>;
  tempDir: string;
}

/** Runs one build. */
export async function buildImage(deps: BuildFlowDeps, o: BuildOptions, sink: BuildEventSink, signal?: AbortSignal): Promise<BuildOutcome> {
  const names = (o.tags ?? []).map((t) => {
    try {
      return tagName(t);
    } catch (err) {
      throw errors.invalid(`invalid tag ${JSON.stringify(t)}: ${(err as Error).message}`, { cause: err });
    }
  });
  await mkdir(deps.tempDir, { recursive: true, mode: 0o700 });
  const source = await prepareContext(o.context, { dockerfile: o.file, stdin: o.stdin, tempDir: deps.tempDir, signal });
  try {
    let text: string;
    let dockerfilePath: string | undefined;
    let name = 'Dockerfile';
    if (source.dockerfileFromStdin) {
      text = source.dockerfileFromStdin.toString('utf8');
    } else if (o.file === '-') {
      text = (await readAll(o.stdin ?? process.stdin)).toString('utf8');
    } else {
      dockerfilePath = o.file
        ? source.kind === 'local' && !isAbsolute(o.file)
          ? resolve(o.file)
          : isAbsolute(o.file)
            ? o.file
            : join(source.dir, o.file)
        : join(source.dir, 'Dockerfile');
      name = o.file ? o.file : 'Dockerfile';
      try {
        text = await readFile(dockerfilePath, 'utf8');
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR')) {
          throw errors.notFound(`failed to read dockerfile: open ${dockerfilePath}: no such file or directory`, {
            hint: o.file ? undefined : 'name the Dockerfile with -f, or add one to the context',
          });
        }
        throw err;
      }
    }
    const ignore = await loadIgnoreMatcher({ contextDir: source.dir, dockerfile: dockerfilePath });
    let lastId = 0;
    const emit = (e: BuildEvent) => {
      if ('id' in e && e.id > lastId) lastId = e.id;
      sink(e);
    };
    return await withLease(deps.db, deps.gc, async (lease) => {
      const result = await deps.builder.build(
        {
          contextDir: source.dir,
          dockerfile: { text, name },
          ignore: ignore.file ? ignore.matcher : undefined,
          buildArgs: o.buildArgs ?? new Map(),
          target: o.target,
          noCache: o.noCache,
          noCacheFilter: o.noCacheFilter,
          pull: o.pull,
          platform: o.platform,
          network: o.network,
          secrets: o.secrets,
        },
        lease,
        emit,
        signal,
      );
      const vertex = lastId + 1;
      const at = () => Date.now();
      sink({ type: 'start', id: vertex, name: o.output ? `exporting to ${o.output.type === 'tar' ? 'client tarball' : 'client directory'}` : 'exporting to image', at: at() });
      try {
        if (o.output) {
          await exportFiles(deps.snapshots, result, o.output);
          sink({ type: 'status', id: vertex, text: `copying files done`, at: at() });
          sink({ type: 'done', id: vertex, at: at() });
          return { names: [] };
        }
        const outcome = await commitResult(deps, result, o.labels ?? {}, names, lease);
        sink({ type: 'status', id: vertex, text: 'exporting layers done', at: at() });
        sink({ type: 'status', id: vertex, text: `writing image ${outcome.id} done`, at: at() });
        for (const n of names) sink({ type: 'status', id: vertex, text: `naming to ${n.name} done`, at: at() });
        sink({ type: 'done', id: vertex, at: at() });
        return outcome;
      } catch (err) {
        sink({ type: 'done', id: vertex, at: at(), error: (err as Error).message });
        throw err;
      }
    });
  } finally {
    await source.cleanup();
  }
}

/** Records the built image under its names (`--label`s added to its config). */
async function commitResult(
  deps: BuildFlowDeps,
  result: StageResult,
  labels: Record<string, string>,
  names: ReturnType<typeof tagName>[],
  lease: Lease,
): Promise<BuildOutcome> {
  let configBytes = result.configBytes;
  if (Object.keys(labels).length > 0 || configBytes.length === 0) {
    const config = structuredClone(result.config);
    if (Object.keys(labels).length > 0) config.config = { ...(config.config ?? {}), Labels: { ...(config.config?.Labels ?? {}), ...labels } };
    configBytes = Buffer.from(JSON.stringify(config));
  }
  const committed = await commitImage(
    deps,
    {
      configBytes,
      layers: result.layers.map((l) => ({ digest: l.blobDigest, size: l.blobSize, mediaType: l.mediaType })),
      names,
    },
    lease,
  );
  return { id: committed.id, names: names.map((n) => familiarString(normalizeReference(n.name))) };
}

/** `--output type=local|tar`: the result's files, not an image. */
async function exportFiles(snapshots: Snapshotter, result: StageResult, output: NonNullable<BuildOptions['output']>): Promise<void> {
  const view = await mountLayersReadOnly(snapshots, result.layers);
  try {
    if (output.type === 'local') {
      await mkdir(output.dest, { recursive: true });
      await run('cp', ['-a', '--', `${view.path}/.`, output.dest]);
      return;
    }
    const child = spawn('tar', ['-C', view.path, '--numeric-owner', '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const failed = new Promise<never>((_, reject) => {
      child.on('error', reject);
      child.on('close', (code) => code !== 0 && reject(errors.internal(`cannot write the tar output: tar exited with ${code}`)));
    });
    failed.catch(() => undefined);
    if (output.dest === '-') {
      await Promise.race([pipeline(child.stdout, output.stdout ?? process.stdout, { end: false }), failed]);
    } else {
      const tmp = join(dirname(resolve(output.dest)), `.${Date.now()}.gantry-output.tmp`);
      try {
        await Promise.race([pipeline(child.stdout, createWriteStream(tmp)), failed]);
        await rename(tmp, output.dest);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
    await new Promise<void>((res) => (child.exitCode !== null ? res() : child.on('close', () => res())));
  } finally {
    await view.release();
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((res, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? res() : reject(errors.internal(`${cmd} failed: ${err.trim().split('\n').pop() ?? code}`))));
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
