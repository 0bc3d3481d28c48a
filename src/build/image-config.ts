/**
 * How instructions change a stage's image config, as BuildKit's dockerfile2llb dispatch does:
 * the config fields each instruction sets, and the history entry it adds (`created_by` in
 * BuildKit's words, `comment: buildkit.dockerfile.v0`, `empty_layer` when no layer).
 * Everything here is pure: the builder passes already-expanded instructions.
 */
import { errors } from '../core/errors.js';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../core/oci.js';
import type { Platform } from '../core/oci.js';
import type {
  CommandLine,
  CopyInstruction,
  AddInstruction,
  HealthcheckInstruction,
  Instruction,
} from './dockerfile/instructions.js';

/** BuildKit's comment on every history entry it writes. */
export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';
/** The PATH an image gets when its base has none (BuildKit's system.DefaultPathEnv). */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The shell of shell-form commands when no SHELL was given. */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** The config of a stage built `FROM scratch`. */
export function scratchConfig(platform: Platform): ImageConfig {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: [DEFAULT_PATH] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

/** A base image's config prepared for a stage: a copy, with PATH set and ONBUILD triggers taken out. */
export function stageBaseConfig(base: ImageConfig): { config: ImageConfig; onBuild: string[] } {
  const config = structuredClone(base);
  config.config ??= {};
  const env = config.config.Env ?? [];
  if (!env.some((e) => e.startsWith('PATH='))) config.config.Env = [...env, DEFAULT_PATH];
  const onBuild = config.config.OnBuild ?? [];
  delete config.config.OnBuild;
  config.history ??= [];
  return { config, onBuild };
}

/** `KEY` → value of a KEY=VALUE list. */
export function envMap(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

/** Sets KEY=VALUE in an env list, in place of an existing KEY or at the end. */
export function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = env.filter((e) => !(e === key || e.startsWith(`${key}=`)));
  const i = env.findIndex((e) => e === key || e.startsWith(`${key}=`));
  if (i >= 0 && i <= out.length) out.splice(i, 0, `${key}=${value}`);
  else out.push(`${key}=${value}`);
  return out;
}

/** The argv of a RUN, CMD or ENTRYPOINT: exec form as is, shell form under the stage's shell. */
export function commandArgs(cmd: CommandLine, shell: readonly string[] | undefined): string[] {
  if (!cmd.shell) return [...cmd.args];
  let script = cmd.args.join(' ');
  if (cmd.files.length > 0) {
    const [only] = cmd.files;
    if (cmd.files.length === 1 && only && /^\s*\d*<<-?\s*["']?[A-Za-z0-9_]+["']?\s*$/.test(script)) {
      // `RUN <<EOF` alone: the document is the script.
      script = only.content;
    } else {
      // The document is the standard input of a command on the line: the shell reads it.
      script = [script, ...cmd.files.map((f) => `${f.content.replace(/\n$/, '')}\n${f.name}`)].join('\n');
    }
  }
  return [...(shell ?? DEFAULT_SHELL), script];
}

/** Go's %q of a string slice: `["a" "b"]`. */
function goQuoted(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** What a metadata instruction (no file system change) does to the config. */
export interface MetadataContext {
  /** Whether CMD was set earlier in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** The Dockerfile's name and line, for errors. */
  where: string;
}

/**
 * Applies ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER, WORKDIR (the config part),
 * STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD and MAINTAINER to `config` (in place) and returns
 * the history text. Throws INVALID_ARGUMENT for values Docker refuses (a bad port).
 */
export function applyMetadata(config: ImageConfig, ins: Instruction, ctx: MetadataContext): string {
  const c: ContainerConfig = (config.config ??= {});
  switch (ins.kind) {
    case 'ENV': {
      let env = c.Env ?? [];
      for (const kv of ins.env) env = setEnv(env, kv.key, kv.value);
      c.Env = env;
      return `ENV ${ins.env.map((kv) => `${kv.key}=${kv.value}`).join(' ')}`;
    }
    case 'LABEL': {
      c.Labels = { ...(c.Labels ?? {}) };
      for (const kv of ins.labels) c.Labels[kv.key] = kv.value;
      return `LABEL ${ins.labels.map((kv) => `${kv.key}=${kv.value}`).join(' ')}`;
    }
    case 'CMD':
      c.Cmd = commandArgs(ins.command, c.Shell);
      if (ins.command.shell) c.ArgsEscaped = true;
      else delete c.ArgsEscaped;
      return `CMD ${goQuoted(c.Cmd)}`;
    case 'ENTRYPOINT':
      c.Entrypoint = commandArgs(ins.command, c.Shell);
      if (!ctx.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${goQuoted(c.Entrypoint)}`;
    case 'EXPOSE': {
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of ins.ports) for (const port of exposedPorts(p, ctx.where)) c.ExposedPorts[port] = {};
      const sorted = Object.keys(c.ExposedPorts).sort();
      return `EXPOSE map[${sorted.filter((k) => ins.ports.some((p) => exposedPorts(p, ctx.where).includes(k))).map((k) => `${k}:{}`).join(' ')}]`;
    }
    case 'VOLUME': {
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of ins.volumes) {
        if (v.trim() === '') throw errors.invalid(`${ctx.where}: VOLUME specified can not be an empty string`);
        c.Volumes[v] = {};
      }
      return `VOLUME [${ins.volumes.join(' ')}]`;
    }
    case 'USER':
      c.User = ins.user;
      return `USER ${ins.user}`;
    case 'WORKDIR':
      c.WorkingDir = resolveWorkdir(c.WorkingDir, ins.path);
      return `WORKDIR ${c.WorkingDir}`;
    case 'STOPSIGNAL':
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(ins.signal)) throw errors.invalid(`${ctx.where}: Invalid signal: ${ins.signal}`);
      c.StopSignal = ins.signal;
      return `STOPSIGNAL ${ins.signal}`;
    case 'HEALTHCHECK':
      c.Healthcheck = healthConfig(ins);
      return `HEALTHCHECK ${healthText(ins)}`;
    case 'SHELL':
      c.Shell = [...ins.shell];
      return `SHELL ${goQuoted(ins.shell).replace(/"/g, '')}`;
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
      return `ONBUILD ${ins.expression}`;
    case 'MAINTAINER':
      config.author = ins.maintainer;
      return `MAINTAINER ${ins.maintainer}`;
    default:
      throw errors.internal(`${ins.kind} is not a metadata instruction`);
  }
}

/** WORKDIR's path against the previous one (relative paths join it). */
export function resolveWorkdir(current: string | undefined, path: string): string {
  const joined = path.startsWith('/') ? path : `${current || '/'}/${path}`;
  const parts: string[] = [];
  for (const p of joined.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/** `80`, `53/udp`, `8000-8002/tcp` → Docker's `port/proto` keys. */
function exposedPorts(spec: string, where: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec.trim());
  if (!m) throw errors.invalid(`${where}: invalid containerPort: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from > 65535 || to > 65535 || to < from) throw errors.invalid(`${where}: invalid containerPort: ${spec}`);
  const out: string[] = [];
  for (let p = from; p <= to; p++) out.push(`${p}/${proto}`);
  return out;
}

function healthConfig(ins: HealthcheckInstruction): ContainerConfig['Healthcheck'] {
  if (ins.test[0] === 'NONE') return { Test: ['NONE'] };
  return {
    Test: [...ins.test],
    ...(ins.interval ? { Interval: ins.interval } : {}),
    ...(ins.timeout ? { Timeout: ins.timeout } : {}),
    ...(ins.startPeriod ? { StartPeriod: ins.startPeriod } : {}),
    ...(ins.startInterval ? { StartInterval: ins.startInterval } : {}),
    ...(ins.retries ? { Retries: ins.retries } : {}),
  };
}

function healthText(ins: HealthcheckInstruction): string {
  const secs = (ns: number) => `${ns / 1e9}s`;
  return `&{${goQuoted(ins.test)} "${secs(ins.interval)}" "${secs(ins.timeout)}" "${secs(ins.startPeriod)}" "${secs(ins.startInterval)}" '\\x${ins.retries.toString(16).padStart(2, '0')}'}`;
}

/** The history text of a COPY or ADD, as BuildKit writes it. */
export function copyHistoryText(ins: CopyInstruction | AddInstruction): string {
  const flags: string[] = [];
  if (ins.kind === 'COPY' && ins.from !== undefined) flags.push(`--from=${ins.from}`);
  if (ins.chown) flags.push(`--chown=${ins.chown}`);
  if (ins.chmod) flags.push(`--chmod=${ins.chmod}`);
  if (ins.link) flags.push('--link');
  const sources = [...ins.sources, ...ins.contents.map((c) => `<<${c.path}`)];
  return `${ins.kind} ${[...flags, ...sources, ins.dest].join(' ')} # buildkit`;
}

/** The history text of a RUN: BuildKit's `RUN |N K=V... argv # buildkit`. */
export function runHistoryText(args: readonly string[], buildArgs: readonly string[]): string {
  const prefix = buildArgs.length > 0 ? `|${buildArgs.length} ${buildArgs.join(' ')} ` : '';
  return `RUN ${prefix}${args.join(' ')} # buildkit`;
}

/** Appends a history entry; `created` also becomes the config's. */
export function addHistory(config: ImageConfig, createdBy: string, created: string, emptyLayer: boolean): void {
  const entry: HistoryEntry = { created, created_by: createdBy, comment: HISTORY_COMMENT };
  if (emptyLayer) entry.empty_layer = true;
  (config.history ??= []).push(entry);
  config.created = created;
}
