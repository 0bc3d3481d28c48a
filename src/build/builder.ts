/**
 * The builder: a parsed Dockerfile and a context become an image.
 *
 * Stages form a graph (FROM another stage, COPY --from, RUN --mount from=); only the stages the
 * target needs run, each as soon as what it needs is there, so independent stages run in
 * parallel. Within a stage every instruction is a step with a cache key — the parent's key, the
 * expanded instruction, and what else its result depends on (build args in scope for RUN, the
 * content checksums of the files a COPY reads, the result of the stage it copies from); a key
 * found in the cache gives the step's result without running it (see cache.ts). RUN runs in a
 * container over the stage's layers (run-step.ts); COPY and ADD write into the same kind of
 * mount (copy.ts); both become layers whose snapshot is the step's own upper directory
 * (step-fs.ts). Metadata instructions change only the config.
 *
 * A failure in one stage cancels the others; every step cleans up after itself (no mounts,
 * containers or temporary files stay), and nothing is named until the image is complete.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore } from '../content/content-store.js';
import type { BuildEvent, BuildEventSink } from '../core/build-events.js';
import type { Digest } from '../core/digest.js';
import { errors, isGantryError } from '../core/errors.js';
import type { ImageConfig, Platform } from '../core/oci.js';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from '../core/platform.js';
import type { Lease } from '../metadata/leases.js';
import type { OciRuntime } from '../runtime/runc.js';
import { mkdirInRoot, resolveInRoot } from '../runtime/secure-path.js';
import { mountRootfs, unmountRootfs } from '../snapshots/overlay-mount.js';
import type { ResolvedMount } from '../runtime/spec-input.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import type { BuildCache } from './cache.js';
import { ContextChecksums } from './context/checksum.js';
import type { IgnoreMatcher } from './context/dockerignore.js';
import { copyInto, downloadAddSources, matchSources, type CopySource } from './copy.js';
import type { Dockerfile, Stage } from './dockerfile/dockerfile.js';
import { dockerfileError } from './dockerfile/errors.js';
import { expandInstruction } from './dockerfile/expansion.js';
import type { AddInstruction, CopyInstruction, Instruction, RunInstruction } from './dockerfile/instructions.js';
import { parseDockerfile } from './dockerfile/dockerfile.js';
import type { RunMount } from './dockerfile/run-mount.js';
import { processWord } from './dockerfile/shell-lexer.js';
import {
  addHistory,
  applyMetadata,
  commandArgs,
  copyHistoryText,
  envMap,
  resolveWorkdir,
  runHistoryText,
  scratchConfig,
  stageBaseConfig,
} from './image-config.js';
import { runStep } from './run-step.js';
import { mountLayersReadOnly, openStepFs, type LayerRef, type StepFs } from './step-fs.js';

/** A base image as the builder needs it. */
export interface BaseImage {
  id: Digest;
  /** The name it was found under, for progress (`docker.io/library/busybox:latest`). */
  name: string;
  config: ImageConfig;
  layers: LayerRef[];
}

/** What the builder uses; the engine passes it in. */
export interface BuilderDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  cache: BuildCache;
  runtime: () => OciRuntime;
  /** Finds an image locally, pulling it when missing (or always with `pull`). */
  resolveImage: (reference: string, options: { pull: boolean; platform: Platform; signal?: AbortSignal }) => Promise<BaseImage>;
  /** Where RUN --mount=type=cache directories live. */
  cacheMountRoot: string;
}

/** A secret for RUN --mount=type=secret (`--secret id=x,src=file` or `env=VAR`). */
export interface BuildSecret {
  file?: string;
  env?: string;
}

/** One build. */
export interface BuildRequest {
  contextDir: string;
  dockerfile: { text: string; name: string };
  ignore?: IgnoreMatcher;
  /** `--build-arg`s (a value of undefined: take it from the environment, already done by the caller). */
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  noCache?: boolean;
  /** Stages whose steps must not come from the cache. */
  noCacheFilter?: readonly string[];
  pull?: boolean;
  platform?: string;
  network?: 'default' | 'none' | 'host';
  secrets?: ReadonlyMap<string, BuildSecret>;
}

/** A finished stage: its config, layers and cache key. */
export interface StageResult {
  config: ImageConfig;
  configBytes: Buffer;
  layers: LayerRef[];
  key: string;
}

/** Build args every build knows without an ARG in the global scope (BuildKit's). */
const PROXY_ARGS = new Set(
  ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((n) => [n, n.toLowerCase()]),
);

const hash = (...parts: string[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return `sha256:${h.digest('hex')}`;
};

/** Runs builds. */
export class Builder {
  constructor(private readonly deps: BuilderDeps) {}

  /** Builds the target stage of `req`; the caller names or exports the result. */
  async build(req: BuildRequest, lease: Lease, emit: BuildEventSink, signal?: AbortSignal): Promise<StageResult> {
    return new BuildRun(this.deps, req, lease, emit, signal).run();
  }
}

interface StageRun {
  stage: Stage;
  index: number;
  /** `[name i/n]` prefix name: the stage name or `stage-<index>`. */
  display: string;
}

/** The state of one build. */
class BuildRun {
  private readonly dockerfile: Dockerfile;
  private readonly platform: Platform;
  private readonly stageResults = new Map<number, Promise<StageResult>>();
  private readonly abort = new AbortController();
  private readonly checksums: ContextChecksums;
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly usedArgs = new Set<string>();
  private nextVertex = 1;
  private readonly file: string;

  constructor(
    private readonly deps: BuilderDeps,
    private readonly req: BuildRequest,
    private readonly lease: Lease,
    private readonly sink: BuildEventSink,
    signal: AbortSignal | undefined,
  ) {
    this.file = req.dockerfile.name;
    if (signal) {
      if (signal.aborted) this.abort.abort(signal.reason);
      else signal.addEventListener('abort', () => this.abort.abort(signal.reason), { once: true });
    }
    const id = this.vertex('[internal] load build definition from ' + this.file);
    this.status(id, `transferring dockerfile: ${Buffer.byteLength(req.dockerfile.text)}B done`);
    try {
      this.dockerfile = parseDockerfile(req.dockerfile.text, { file: this.file });
    } catch (err) {
      this.done(id, err);
      throw err;
    }
    this.done(id);
    for (const w of this.dockerfile.warnings) this.emit({ type: 'warning', message: `${w.message}${w.line ? ` (line ${w.line})` : ''}` });
    this.platform = req.platform ? parsePlatform(req.platform) : hostPlatform();
    if (!platformMatches(hostPlatform(), this.platform)) {
      throw errors.invalid(`cannot build for platform ${formatPlatform(this.platform)} on this ${formatPlatform(hostPlatform())} host`, {
        hint: 'gantry builds for the host platform only',
      });
    }
    this.checksums = new ContextChecksums(req.contextDir, req.ignore);
    for (const [k, v] of Object.entries(this.platformArgs())) this.globalArgs.set(k, v);
    for (const ins of this.dockerfile.globalArgs) {
      for (const a of ins.args) {
        const given = req.buildArgs.get(a.key);
        this.usedArgs.add(a.key);
        const value = given ?? (a.value === undefined ? this.globalArgs.get(a.key) : this.expand(a.value, this.globalArgs, ins.startLine));
        this.globalArgs.set(a.key, value);
      }
    }
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  async run(): Promise<StageResult> {
    const stages = this.dockerfile.stages;
    if (stages.length === 0) throw dockerfileError(this.file, 0, 'the Dockerfile has no build stages', undefined);
    let target = stages.length - 1;
    if (this.req.target !== undefined) {
      target = stages.findIndex((s) => s.name === this.req.target?.toLowerCase());
      if (target < 0) throw errors.invalid(`target stage "${this.req.target}" could not be found`);
    }
    try {
      // Start every stage the target needs at once: independent stages build in parallel
      // rather than each when a later stage first asks for it.
      for (const i of this.neededStages(target)) void this.stageResult(i).catch(() => undefined);
      const result = await this.stageResult(target);
      const unused = [...this.req.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PROXY_ARGS.has(k));
      if (unused.length > 0) this.emit({ type: 'warning', message: `One or more build-args [${unused.sort().join(' ')}] were not consumed` });
      return result;
    } catch (err) {
      this.abort.abort(err);
      // Let every stage that is still running clean up before reporting.
      await Promise.allSettled(this.stageResults.values());
      throw err;
    }
  }

  /**
   * The stages `target` needs, found from the names written literally in FROM, COPY --from
   * and RUN --mount from= (names with variables are resolved, and their stages started, when
   * their step expands them).
   */
  private neededStages(target: number): number[] {
    const seen = new Set<number>();
    const visit = (i: number) => {
      if (i < 0 || seen.has(i)) return;
      seen.add(i);
      const stage = this.dockerfile.stages[i] as Stage;
      const refs = [stage.from];
      for (const ins of stage.instructions) {
        if (ins.kind === 'COPY' && ins.from !== undefined) refs.push(ins.from);
        if (ins.kind === 'RUN') for (const m of ins.mounts ?? []) if (m.from !== undefined) refs.push(m.from);
      }
      for (const r of refs) if (!r.includes('$')) visit(this.stageIndex(r, i));
    };
    visit(target);
    return [...seen];
  }

  /** The result of stage `index`, built once. */
  private stageResult(index: number): Promise<StageResult> {
    let p = this.stageResults.get(index);
    if (!p) {
      const stage = this.dockerfile.stages[index] as Stage;
      p = this.runStage({ stage, index, display: stage.name ?? `stage-${index}` });
      p.catch((err: unknown) => this.abort.abort(err));
      this.stageResults.set(index, p);
    }
    return p;
  }

  /** The index of the stage named `name` (a name or an index), or -1. */
  private stageIndex(name: string, before: number): number {
    const lower = name.toLowerCase();
    const i = this.dockerfile.stages.findIndex((s, j) => j < before && s.name === lower);
    if (i >= 0) return i;
    if (/^\d+$/.test(name) && Number(name) < before) return Number(name);
    return -1;
  }

  private async runStage(sr: StageRun): Promise<StageResult> {
    const { stage } = sr;
    const steps = stage.instructions.filter(isVertex).length + 1;
    let stepNo = 1;
    const label = () => `[${sr.display} ${stepNo}/${steps}]`;
    const fromLine = stage.source.startLine;
    const from = this.expand(stage.from, this.globalArgs, fromLine);
    if (from === '') throw dockerfileError(this.file, fromLine, `base name (${stage.from}) should not be blank`);
    if (stage.platform) {
      const p = parsePlatform(this.expand(stage.platform, this.globalArgs, fromLine));
      if (!platformMatches(hostPlatform(), p)) {
        throw dockerfileError(this.file, fromLine, `cannot build for platform ${formatPlatform(p)} on this ${formatPlatform(hostPlatform())} host`);
      }
    }

    // The base.
    let state: StageResult;
    let onBuild: string[] = [];
    const baseIndex = this.stageIndex(from, sr.index);
    const fromVertex = this.vertex(`${label()} FROM ${baseIndex >= 0 ? from : from === 'scratch' ? 'scratch' : from}`);
    try {
      if (baseIndex >= 0) {
        const base = await this.stageResult(baseIndex);
        const prepared = stageBaseConfig(base.config);
        state = { ...base, config: prepared.config };
        onBuild = prepared.onBuild;
      } else if (from === 'scratch') {
        const config = scratchConfig(this.platform);
        state = { config, configBytes: Buffer.from(JSON.stringify(config)), layers: [], key: hash('scratch', formatPlatform(this.platform)) };
      } else {
        const image = await this.deps.resolveImage(from, { pull: this.req.pull ?? false, platform: this.platform, signal: this.signal });
        for (const l of image.layers) this.lease.add('snapshot', l.chainId);
        const prepared = stageBaseConfig(image.config);
        state = { config: prepared.config, configBytes: Buffer.alloc(0), layers: image.layers, key: hash('image', image.id) };
        onBuild = prepared.onBuild;
      }
    } catch (err) {
      this.done(fromVertex, err);
      throw located(err, this.file, fromLine);
    }
    this.done(fromVertex);

    const scope = new StageScope();
    const noCache = this.req.noCache || (this.req.noCacheFilter ?? []).some((f) => f.toLowerCase() === (stage.name ?? String(sr.index)));
    const instructions: Instruction[] = [...onBuild.flatMap((t) => triggerInstructions(t, this.file, fromLine)), ...stage.instructions];
    for (const ins of instructions) {
      this.signal.throwIfAborted();
      if (isVertex(ins)) stepNo++;
      try {
        state = await this.step(sr, ins, state, scope, noCache, label());
      } catch (err) {
        throw located(err, this.file, ins.startLine);
      }
    }
    return state;
  }

  /** One instruction. */
  private async step(sr: StageRun, raw: Instruction, state: StageResult, scope: StageScope, noCache: boolean, label: string): Promise<StageResult> {
    if (raw.kind === 'ARG') {
      for (const a of raw.args) {
        this.usedArgs.add(a.key);
        const given = this.req.buildArgs.get(a.key);
        const platformValue = this.platformArgs()[a.key];
        const dflt = a.value === undefined ? (this.globalArgs.get(a.key) ?? platformValue) : this.expand(a.value, this.expansionEnv(state, scope), raw.startLine);
        scope.args.set(a.key, given ?? dflt);
      }
      return state;
    }
    const env = this.expansionEnv(state, scope);
    const ins = this.expandChecked(raw, env, scope);
    const parentKey = state.key;
    const keyOf = (...extra: string[]) => hash(parentKey, stripLocation(ins), ...extra);
    const now = () => new Date().toISOString();

    if (!isVertex(ins)) {
      // Metadata: no vertex; cached all the same, so that a rebuild gives the same config.
      const key = keyOf();
      const hit = noCache ? undefined : await this.fromCache(key);
      if (hit) {
        if (ins.kind === 'CMD') scope.cmdSet = true;
        return hit;
      }
      const config = structuredClone(state.config);
      const text = applyMetadata(config, ins, { cmdSet: scope.cmdSet, where: `${this.file}:${ins.startLine}` });
      if (ins.kind === 'CMD') scope.cmdSet = true;
      addHistory(config, text, now(), true);
      return this.store(key, config, state.layers, text, 0);
    }

    const name = `${label} ${ins.original.replace(/^\s+/, '')}`;
    switch (ins.kind) {
      case 'WORKDIR': {
        const workdir = resolveWorkdir(state.config.config?.WorkingDir, ins.path);
        return this.fsStep(
          name,
          keyOf(),
          state,
          noCache,
          async (fs) => {
            mkdirInRoot(fs.rootfs, workdir, 0o755);
            return `WORKDIR ${workdir}`;
          },
          (config) => {
            config.config = { ...(config.config ?? {}), WorkingDir: workdir };
          },
        );
      }
      case 'RUN':
        return this.runInstruction(name, ins, state, scope, noCache, keyOf);
      case 'COPY':
      case 'ADD':
        return this.copyInstruction(sr, name, ins, state, noCache, keyOf);
      default:
        throw errors.internal(`unexpected instruction ${ins.kind}`);
    }
  }

  private async runInstruction(
    name: string,
    ins: RunInstruction,
    state: StageResult,
    scope: StageScope,
    noCache: boolean,
    keyOf: (...extra: string[]) => string,
  ): Promise<StageResult> {
    const c = state.config.config ?? {};
    const args = commandArgs(ins.command, c.Shell);
    const envNames = new Set(envMap(c.Env ?? []).keys());
    // Build args in scope reach the command (not the image), ENV of the same name winning.
    const argEnv = [...scope.args].filter(([k, v]) => v !== undefined && !envNames.has(k)).map(([k, v]) => `${k}=${v as string}`);
    const proxyEnv = [...this.req.buildArgs].filter(([k]) => PROXY_ARGS.has(k) && !scope.args.has(k)).map(([k, v]) => `${k}=${v}`);
    const network = ins.network === 'default' ? (this.req.network ?? 'default') : ins.network;
    const mounts = ins.mounts ?? [];
    const mountKeys = await Promise.all(mounts.map((m) => this.mountKey(m, scope)));
    const key = keyOf(JSON.stringify(args), JSON.stringify(argEnv), network, ...mountKeys);
    const text = runHistoryText(args, argEnv);
    return this.fsStep(name, key, state, noCache, async (fs, vertex) => {
      const resolved: ResolvedMount[] = [];
      const releases: (() => Promise<void>)[] = [];
      try {
        for (const m of mounts) resolved.push(await this.resolveRunMount(m, fs, releases));
        await runStep({
          id: `build-${randomBytes(16).toString('hex')}`,
          fs,
          args,
          env: [...(c.Env ?? []), ...argEnv, ...proxyEnv],
          cwd: c.WorkingDir || '/',
          user: c.User ?? '',
          network: network === 'none' ? 'none' : 'host',
          mounts: resolved,
          runtime: this.deps.runtime(),
          output: (stream, data) => this.emit({ type: 'log', id: vertex, stream, data, at: Date.now() }),
          signal: this.signal,
        });
      } finally {
        for (const r of releases.reverse()) await r().catch(() => undefined);
      }
      return text;
    });
  }

  /** The part of a RUN's key a mount adds. */
  private async mountKey(m: RunMount, scope: StageScope): Promise<string> {
    void scope;
    if (m.type === 'bind' && m.from === undefined) {
      return `bind:${m.target}:${m.readOnly}:${await this.checksums.checksum(m.source ?? '.')}`;
    }
    if (m.type === 'bind' && m.from !== undefined) {
      const i = this.stageIndex(m.from, this.dockerfile.stages.length);
      const src = i >= 0 ? (await this.stageResult(i)).key : hash('image', m.from);
      return `bind:${m.target}:${m.source ?? '/'}:${m.readOnly}:${src}`;
    }
    // cache, tmpfs and secret mounts leave no trace in the result: only their shape counts.
    return JSON.stringify({ ...m, id: m.id, required: undefined });
  }

  /** A RUN --mount as the runtime takes it. */
  private async resolveRunMount(m: RunMount, fs: StepFs, releases: (() => Promise<void>)[]): Promise<ResolvedMount> {
    const target = m.target ?? '';
    if (m.type === 'ssh') throw errors.invalid('RUN --mount=type=ssh is not supported', { hint: 'use a secret mount instead' });
    if (m.type === 'tmpfs') {
      return { type: 'tmpfs', source: 'tmpfs', destination: target, readOnly: false, options: m.size ? [`size=${m.size}`] : [] };
    }
    if (m.type === 'secret') {
      const id = m.id ?? m.source ?? target.split('/').pop() ?? '';
      const secret = this.req.secrets?.get(id);
      const dest = target || `/run/secrets/${id}`;
      let value: Buffer | undefined;
      if (secret?.file) value = await readFile(secret.file);
      else if (secret?.env) value = process.env[secret.env] === undefined ? undefined : Buffer.from(process.env[secret.env] as string);
      if (value === undefined) {
        if (m.required) throw errors.notFound(`secret ${id} not found`, { hint: `pass it with --secret id=${id},src=FILE` });
        value = Buffer.alloc(0);
      }
      const file = fs.path(`secret-${randomBytes(4).toString('hex')}`);
      writeFileSync(file, value, { mode: m.mode ?? 0o400 });
      chownSync(file, m.uid ?? 0, m.gid ?? 0);
      return { type: 'bind', source: file, destination: dest, readOnly: true, options: ['rprivate'] };
    }
    if (m.type === 'cache') {
      const id = m.id ?? target;
      const dir = join(this.deps.cacheMountRoot, hash('cache', id).slice(7));
      if (m.from === undefined) {
        mkdirSync(dir, { recursive: true, mode: m.mode ?? 0o755 });
        try {
          const st = statSync(dir);
          if (st.uid !== (m.uid ?? 0) || st.gid !== (m.gid ?? 0)) chownSync(dir, m.uid ?? 0, m.gid ?? 0);
          if (m.mode !== undefined) chmodSync(dir, m.mode);
        } catch {
          // left as it is
        }
      }
      return { type: 'bind', source: dir, destination: target, readOnly: m.readOnly, options: ['rbind', 'rprivate'] };
    }
    // bind: from the context, or from a stage or image, read-only unless rw (writes are then thrown away).
    let root: string;
    if (m.from === undefined) {
      root = this.req.contextDir;
    } else {
      const layers = await this.layersOf(m.from);
      const view = await mountLayersReadOnly(this.deps.snapshots, layers);
      releases.push(view.release);
      root = view.path;
    }
    const source = resolveInRoot(root, m.source ?? '/');
    if (!m.readOnly) {
      // A writable bind: an overlay over the source, whose changes are dropped afterwards.
      const dir = await this.deps.snapshots.workDir();
      const merged = join(dir, 'merged');
      mountRootfs([source], join(dir, 'upper'), join(dir, 'work'), merged, this.deps.snapshots.root);
      releases.push(async () => {
        unmountRootfs(merged);
        rmSync(dir, { recursive: true, force: true });
      });
      return { type: 'bind', source: merged, destination: target, readOnly: false, options: ['rbind', 'rprivate'] };
    }
    return { type: 'bind', source, destination: target, readOnly: true, options: ['rbind', 'rprivate'] };
  }

  /** The layers of a stage (by name or index) or else of an image. */
  private async layersOf(from: string): Promise<LayerRef[]> {
    const i = this.stageIndex(from, this.dockerfile.stages.length);
    if (i >= 0) return (await this.stageResult(i)).layers;
    const image = await this.deps.resolveImage(from, { pull: this.req.pull ?? false, platform: this.platform, signal: this.signal });
    for (const l of image.layers) this.lease.add('snapshot', l.chainId);
    return image.layers;
  }

  private async copyInstruction(
    sr: StageRun,
    name: string,
    ins: CopyInstruction | AddInstruction,
    state: StageResult,
    noCache: boolean,
    keyOf: (...extra: string[]) => string,
  ): Promise<StageResult> {
    const releases: (() => Promise<void>)[] = [];
    try {
      let source: CopySource;
      let sources = ins.sources;
      const keyParts: string[] = [];
      const from = ins.kind === 'COPY' ? ins.from : undefined;
      let noUnpack = false;
      if (from !== undefined) {
        const i = this.stageIndex(from, sr.index);
        if (i < 0 && from.toLowerCase() === (sr.stage.name ?? '')) {
          throw errors.invalid(`circular dependency detected on stage: ${from}`);
        }
        let layers: LayerRef[];
        if (i >= 0) {
          const result = await this.stageResult(i);
          layers = result.layers;
          keyParts.push(result.key);
        } else {
          if (/^[a-z][a-z0-9-_.]*$/.test(from) && this.dockerfile.stages.some((s) => s.name === from)) {
            throw errors.invalid(`invalid from flag value ${from}: stage ${from} is defined after this one`);
          }
          const image = await this.deps.resolveImage(from, { pull: this.req.pull ?? false, platform: this.platform, signal: this.signal });
          for (const l of image.layers) this.lease.add('snapshot', l.chainId);
          layers = image.layers;
          keyParts.push(image.id);
        }
        const view = await mountLayersReadOnly(this.deps.snapshots, layers);
        releases.push(view.release);
        source = { kind: 'rootfs', root: view.path };
      } else {
        const urls = ins.kind === 'ADD' ? ins.sources.filter((s) => /^https?:\/\//i.test(s)) : [];
        if (urls.length > 0 && urls.length !== ins.sources.length) {
          throw errors.invalid('ADD cannot mix URL sources with local ones', { hint: 'use one ADD per kind of source' });
        }
        if (urls.length > 0) {
          const tmp = await this.deps.snapshots.workDir();
          releases.push(async () => rmSync(tmp, { recursive: true, force: true }));
          const downloaded = await downloadAddSources(urls, tmp, { checksum: (ins as AddInstruction).checksum, signal: this.signal });
          keyParts.push(...downloaded.map((d) => `${d.url} ${d.digest} ${d.name}`));
          source = { kind: 'rootfs', root: tmp };
          sources = downloaded.map((d) => d.file.slice(tmp.length + 1));
          noUnpack = true;
        } else {
          source = { kind: 'context', root: this.req.contextDir, ignore: this.req.ignore };
          if (sources.length > 0) {
            const matched = await matchSources(source, sources);
            for (const p of matched) keyParts.push(`${p} ${await this.checksums.checksum(p)}`);
          }
        }
      }
      const text = copyHistoryText(ins);
      const workdir = state.config.config?.WorkingDir || '/';
      return await this.fsStep(name, keyOf(...keyParts), state, noCache, async (fs) => {
        await copyInto(
          fs.rootfs,
          source,
          {
            instruction: ins.kind,
            sources,
            contents: ins.contents.map((c) => ({ path: c.path, data: c.data })),
            dest: ins.dest,
            workdir,
            chown: ins.chown,
            chmod: ins.chmod,
            exclude: ins.exclude,
            parents: ins.kind === 'COPY' ? ins.parents : false,
            unpack: noUnpack ? false : ins.kind === 'ADD' ? ins.unpack : false,
          },
          this.signal,
        );
        return text;
      });
    } finally {
      for (const r of releases.reverse()) await r().catch(() => undefined);
    }
  }

  /**
   * A step that changes files: a cache hit, or `work` in a fresh step file system whose
   * changes become a layer. `work` returns the history text.
   */
  private async fsStep(
    name: string,
    key: string,
    state: StageResult,
    noCache: boolean,
    work: (fs: StepFs, vertex: number) => Promise<string>,
    adjust?: (config: ImageConfig) => void,
  ): Promise<StageResult> {
    const vertex = this.vertex(name);
    try {
      const hit = noCache ? undefined : await this.fromCache(key);
      if (hit) {
        this.emit({ type: 'cached', id: vertex, at: Date.now() });
        return hit;
      }
      const fs = await openStepFs(this.deps.snapshots, state.layers);
      let text: string;
      let made: Awaited<ReturnType<StepFs['commit']>>;
      try {
        text = await work(fs, vertex);
        made = await fs.commit(this.deps.content, this.lease, this.signal);
      } catch (err) {
        await fs.discard();
        throw err;
      }
      const config = structuredClone(state.config);
      adjust?.(config);
      const layers = made ? [...state.layers, made.layer] : state.layers;
      if (made) config.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
      addHistory(config, text, new Date().toISOString(), !made);
      const result = await this.store(key, config, layers, name, made?.size ?? 0);
      this.done(vertex);
      return result;
    } catch (err) {
      this.done(vertex, err);
      throw err;
    }
  }

  /** A cached step's result, when everything it names is still there. */
  private async fromCache(key: string): Promise<StageResult | undefined> {
    const hit = this.deps.cache.get(key);
    if (!hit) return undefined;
    for (const l of hit.layers) {
      this.lease.add('snapshot', l.chainId);
      this.lease.add('blob', l.blobDigest);
    }
    this.lease.add('blob', hit.configDigest);
    if (hit.layers.some((l) => !this.deps.snapshots.stat(l.chainId))) return undefined;
    let bytes: Buffer;
    try {
      bytes = await this.deps.content.readBytes(hit.configDigest);
    } catch {
      return undefined;
    }
    return { config: JSON.parse(bytes.toString('utf8')) as ImageConfig, configBytes: bytes, layers: hit.layers, key };
  }

  /** Stores a step's result in the content store and the cache. */
  private async store(key: string, config: ImageConfig, layers: LayerRef[], description: string, size: number): Promise<StageResult> {
    const configBytes = Buffer.from(JSON.stringify(config));
    const blob = await this.deps.content.writeBytes(configBytes);
    this.lease.add('blob', blob.digest);
    this.deps.cache.put(key, { configDigest: blob.digest, layers }, description, size);
    return { config, configBytes, layers, key };
  }

  /** Expands an instruction, warning about variables that are not set (BuildKit's UndefinedVar). */
  private expandChecked<T extends Instruction>(ins: T, env: Map<string, string>, scope: StageScope): T {
    const escapeToken = this.dockerfile.escapeToken;
    const warned = new Set<string>();
    const onUndefined = (name: string) => {
      // An ARG declared without a value is unset, not undefined.
      if (warned.has(name) || scope.args.has(name)) return;
      warned.add(name);
      this.emit({ type: 'warning', message: `UndefinedVar: Usage of undefined variable '$${name}' (${this.file}:${ins.startLine})` });
    };
    return expandInstruction(ins, env, { escapeToken, onUndefined });
  }

  private expand(word: string, env: ReadonlyMap<string, string | undefined>, line: number): string {
    const defined = new Map<string, string>();
    for (const [k, v] of env) if (v !== undefined) defined.set(k, v);
    const r = processWord(word, defined, { escapeToken: this.dockerfile.escapeToken });
    for (const name of r.unmatched) {
      if (env.has(name)) continue;
      this.emit({ type: 'warning', message: `UndefinedVar: Usage of undefined variable '$${name}' (${this.file}:${line})` });
    }
    return r.result;
  }

  /** Variables for expansion: the stage's build args under its ENV. */
  private expansionEnv(state: StageResult, scope: StageScope): Map<string, string> {
    const env = new Map<string, string>();
    for (const [k, v] of scope.args) if (v !== undefined) env.set(k, v);
    for (const [k, v] of envMap(state.config.config?.Env ?? [])) env.set(k, v);
    return env;
  }

  private platformArgs(): Record<string, string> {
    const p = this.platform ?? hostPlatform();
    const h = hostPlatform();
    return {
      BUILDPLATFORM: formatPlatform(h),
      BUILDOS: h.os,
      BUILDARCH: h.architecture,
      BUILDVARIANT: h.variant ?? '',
      TARGETPLATFORM: formatPlatform(p),
      TARGETOS: p.os,
      TARGETARCH: p.architecture,
      TARGETVARIANT: p.variant ?? '',
    };
  }

  private vertex(name: string): number {
    const id = this.nextVertex++;
    this.emit({ type: 'start', id, name, at: Date.now() });
    return id;
  }

  private status(id: number, text: string): void {
    this.emit({ type: 'status', id, text, at: Date.now() });
  }

  private done(id: number, err?: unknown): void {
    if (err === undefined) this.emit({ type: 'done', id, at: Date.now() });
    else if (isCanceled(err)) this.emit({ type: 'done', id, at: Date.now(), canceled: true });
    else this.emit({ type: 'done', id, at: Date.now(), error: err instanceof Error ? err.message : String(err) });
  }

  private emit(e: BuildEvent): void {
    this.sink(e);
  }

  /** Vertex numbers continue in the export step, which the engine reports. */
  nextId(): number {
    return this.nextVertex++;
  }
}

/** ARG values and flags of one stage. */
class StageScope {
  readonly args = new Map<string, string | undefined>();
  cmdSet = false;
}

/** Instructions shown as steps (`[stage 2/5] RUN ...`); the others only change the config. */
function isVertex(ins: Instruction): boolean {
  return ins.kind === 'RUN' || ins.kind === 'COPY' || ins.kind === 'ADD' || ins.kind === 'WORKDIR';
}

/** The instruction without where it was written, for cache keys. */
function stripLocation(ins: Instruction): string {
  const { original: _o, startLine: _s, endLine: _e, ...rest } = ins as Instruction & Record<string, unknown>;
  void _o;
  void _s;
  void _e;
  return JSON.stringify(rest);
}

/** A base image's ONBUILD triggers, parsed as instructions. */
function triggerInstructions(trigger: string, file: string, line: number): Instruction[] {
  const parsed = parseDockerfile(`FROM scratch\n${trigger}\n`, { file: `${file} (ONBUILD)` });
  const ins = parsed.stages[0]?.instructions ?? [];
  for (const i of ins) {
    if (i.kind === 'ONBUILD' || i.kind === 'MAINTAINER') {
      throw dockerfileError(file, line, `${i.kind} isn't allowed as an ONBUILD trigger`);
    }
    i.startLine = line;
    i.endLine = line;
  }
  return ins;
}

function isCanceled(err: unknown): boolean {
  return isGantryError(err, 'CANCELED') || (err instanceof Error && err.name === 'AbortError');
}

/** Prefixes an error with the Dockerfile line it came from, unless it already names one. */
function located(err: unknown, file: string, line: number): unknown {
  if (!isGantryError(err) || isCanceled(err)) return err;
  if (err.message.startsWith(`${file}:`)) return err;
  const e = err as { message: string; line?: number };
  e.message = `${file}:${line}: ${err.message}`;
  e.line = line;
  return err;
}
