/**
 * Create-time decisions, as Docker's daemon makes them: the image's config merged with the
 * request, the command to run, and the mounts the container will get.
 */
import { isAbsolute, posix } from 'node:path';
import type { ContainerCreateConfig, HostConfig, MountPoint, MountSpec } from '../core/container-types.js';
import { errors } from '../core/errors.js';
import type { ContainerConfig as ImageRunConfig } from '../core/oci.js';

/** Docker's PATH for images that set none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** KEY of KEY=VALUE. */
const envKey = (e: string) => e.split('=', 1)[0] as string;

/** Replaces or appends each of `over` in `base` by key (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: readonly string[], over: readonly string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const i = out.findIndex((b) => envKey(b) === envKey(e));
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** The effective config: the request over the image's defaults (Docker's daemon `merge`). */
export function mergeConfig(req: ContainerCreateConfig, image: ImageRunConfig | undefined, id: string): ContainerCreateConfig {
  const img = image ?? {};
  const out: ContainerCreateConfig = { ...req };
  out.Hostname = req.Hostname || id.slice(0, 12);
  out.Domainname = req.Domainname ?? '';
  out.User = req.User || img.User || '';
  let env = mergeEnv(img.Env ?? [], req.Env ?? []);
  if (!env.some((e) => envKey(e) === 'PATH')) env = [`PATH=${DEFAULT_PATH}`, ...env];
  out.Env = env;
  const entrypointGiven = (req.Entrypoint?.length ?? 0) > 0;
  if (!entrypointGiven) {
    out.Cmd = req.Cmd && req.Cmd.length > 0 ? req.Cmd : (img.Cmd ?? null);
    out.Entrypoint = req.Entrypoint === undefined || req.Entrypoint === null ? (img.Entrypoint ?? null) : req.Entrypoint;
  } else if (req.Entrypoint?.length === 1 && req.Entrypoint[0] === '') {
    // `--entrypoint ""`: no entrypoint at all, and only the request's command.
    out.Entrypoint = null;
    out.Cmd = req.Cmd && req.Cmd.length > 0 ? req.Cmd : null;
  } else {
    out.Cmd = req.Cmd && req.Cmd.length > 0 ? req.Cmd : null;
  }
  out.WorkingDir = req.WorkingDir || img.WorkingDir || '';
  out.Labels = { ...(img.Labels ?? {}), ...(req.Labels ?? {}) };
  out.ExposedPorts = { ...(img.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) };
  out.Volumes = { ...(img.Volumes ?? {}), ...(req.Volumes ?? {}) };
  out.StopSignal = req.StopSignal || img.StopSignal || 'SIGTERM';
  out.Tty = req.Tty ?? false;
  out.OpenStdin = req.OpenStdin ?? false;
  out.StdinOnce = req.StdinOnce ?? false;
  out.AttachStdin = req.AttachStdin ?? false;
  out.AttachStdout = req.AttachStdout ?? false;
  out.AttachStderr = req.AttachStderr ?? false;
  return out;
}

/** Entrypoint + command as path and args; Docker's "No command specified" when empty. */
export function commandOf(config: ContainerCreateConfig): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0 || argv[0] === '') throw errors.invalid('No command specified');
  return { path: argv[0] as string, args: argv.slice(1) };
}

/** A mount decided at create time (what inspect lists; volumes resolved at start). */
export interface PlannedMount extends MountPoint {
  /** For volumes: whether to copy the image's files at the target into a new empty volume. */
  copyUp?: boolean;
  /** tmpfs options (size=, mode=, plus flags). */
  tmpfsOptions?: string[];
  /** An anonymous volume, made for this container (removed by `rm -v` and `--rm`). */
  anonymous?: boolean;
  /** A bind's source must exist (`--mount`); `-v` creates a missing directory as Docker does. */
  createSource?: boolean;
}

const BIND_MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'consistent', 'cached', 'delegated']);

/** Parses one `-v` value (already validated by the CLI; validated again for API callers). */
export function parseBind(spec: string): PlannedMount {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw errors.invalid(`invalid volume specification: '${spec}'`);
  const [src, dst, mode = ''] = parts as [string, string, string?];
  if (!isAbsolute(dst)) throw errors.invalid(`invalid volume specification: '${spec}': invalid mount config for type "${isAbsolute(src) ? 'bind' : 'volume'}": invalid mount path: '${dst}' mount path must be absolute`);
  const modes = mode ? mode.split(',') : [];
  for (const m of modes) if (!BIND_MODES.has(m)) throw errors.invalid(`invalid mode: ${m}`);
  const rw = !modes.includes('ro');
  const propagation = modes.find((m) => /^r?(private|shared|slave)$/.test(m)) ?? 'rprivate';
  if (isAbsolute(src)) {
    return { Type: 'bind', Source: posix.normalize(src), Destination: posix.normalize(dst), Mode: mode, RW: rw, Propagation: propagation, createSource: true };
  }
  return { Type: 'volume', Name: src, Source: '', Destination: posix.normalize(dst), Driver: 'local', Mode: mode || 'z', RW: rw, Propagation: '', copyUp: !modes.includes('nocopy') };
}

/** Converts one `--mount`. */
export function fromMountSpec(m: MountSpec): PlannedMount {
  if (!m.Target || !isAbsolute(m.Target)) throw errors.invalid(`invalid mount config for type "${m.Type}": invalid mount path: '${m.Target}' mount path must be absolute`);
  const dst = posix.normalize(m.Target);
  const rw = !m.ReadOnly;
  switch (m.Type) {
    case 'bind':
      if (!m.Source || !isAbsolute(m.Source)) throw errors.invalid(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      return { Type: 'bind', Source: posix.normalize(m.Source), Destination: dst, Mode: '', RW: rw, Propagation: m.BindOptions?.Propagation || 'rprivate', createSource: false };
    case 'volume':
      return { Type: 'volume', Name: m.Source ?? '', Source: '', Destination: dst, Driver: 'local', Mode: 'z', RW: rw, Propagation: '', copyUp: !m.VolumeOptions?.NoCopy };
    case 'tmpfs': {
      const opts: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      return { Type: 'tmpfs', Source: '', Destination: dst, Mode: '', RW: rw, Propagation: '', tmpfsOptions: opts };
    }
    default:
      throw errors.invalid(`invalid mount config: mount type unknown: "${String((m as MountSpec).Type)}"`);
  }
}

/**
 * Every mount of a new container: `-v`, `--mount`, `--tmpfs`, then an anonymous volume for
 * each VOLUME of the image (and `-v /path`) that nothing else covers. Two mounts on one
 * target are Docker's "Duplicate mount point" error.
 */
export function planMounts(config: ContainerCreateConfig, host: HostConfig): PlannedMount[] {
  const out: PlannedMount[] = [];
  const add = (m: PlannedMount) => {
    if (out.some((o) => o.Destination === m.Destination)) throw errors.invalid(`Duplicate mount point: ${m.Destination}`);
    out.push(m);
  };
  for (const b of host.Binds ?? []) add(parseBind(b));
  for (const m of host.Mounts ?? []) add(fromMountSpec(m));
  for (const [target, options] of Object.entries(host.Tmpfs ?? {})) {
    if (!isAbsolute(target)) throw errors.invalid(`invalid mount config for type "tmpfs": invalid mount path: '${target}' mount path must be absolute`);
    const opts = options ? options.split(',') : [];
    const rw = !opts.includes('ro');
    add({ Type: 'tmpfs', Source: '', Destination: posix.normalize(target), Mode: '', RW: rw, Propagation: '', tmpfsOptions: opts.filter((o) => o !== 'ro' && o !== 'rw') });
  }
  for (const target of Object.keys(config.Volumes ?? {})) {
    const dst = posix.normalize(target);
    if (out.some((o) => o.Destination === dst)) continue;
    out.push({ Type: 'volume', Name: '', Source: '', Destination: dst, Driver: 'local', Mode: '', RW: true, Propagation: '', copyUp: true });
  }
  return out;
}
