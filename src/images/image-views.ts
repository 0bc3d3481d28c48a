/**
 * The shapes images are shown in: Docker's `image inspect` JSON, `images` rows and `history`
 * rows. Plain data derived from records and configs; the CLI only formats them.
 */
import type { Digest } from '../core/digest.js';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../core/oci.js';
import { familiarString, normalizeReference } from '../core/reference.js';
import type { ImageRecord } from './image-store.js';

/** One image as `images` lists it (before splitting into one row per tag). */
export interface ImageSummary {
  Id: Digest;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  /** Seconds since the epoch, as the Engine API reports it. */
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

/** Docker's `image inspect` object. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: DockerContainerConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Data: Record<string, string> | null; Name: string };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** The `Config` of an inspect object: Docker fills every field, with nulls where unset. */
export interface DockerContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: ContainerConfig['Healthcheck'];
  ArgsEscaped?: boolean;
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
}

/** Familiar forms of an image's tags and digests (`busybox:latest`, `busybox@sha256:...`). */
export function familiarNames(rec: ImageRecord): { tags: string[]; digests: string[] } {
  const tags: string[] = [];
  const digests: string[] = [];
  for (const n of rec.names) {
    const familiar = familiarString(normalizeReference(n.name));
    (n.kind === 'tag' ? tags : digests).push(familiar);
  }
  return { tags, digests };
}

/** Seconds since the epoch of an RFC 3339 time, or 0. */
export function epochSeconds(time: string | undefined): number {
  const t = time ? Date.parse(time) : NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Docker's inspect view of an image. `dirs` are the snapshot directories, top layer first. */
export function inspectView(rec: ImageRecord, config: ImageConfig, dirs: string[]): ImageInspect {
  const { tags, digests } = familiarNames(rec);
  const c = config.config ?? {};
  const view: ImageInspect = {
    Id: rec.id,
    RepoTags: tags,
    RepoDigests: digests,
    Parent: rec.parent,
    Comment: config.comment ?? historyComment(config),
    Created: config.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: c.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: c.Env ?? null,
      Cmd: c.Cmd ?? null,
      ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
      ...(c.ArgsEscaped ? { ArgsEscaped: true } : {}),
      Image: '',
      Volumes: c.Volumes ?? null,
      WorkingDir: c.WorkingDir ?? '',
      Entrypoint: c.Entrypoint ?? null,
      OnBuild: c.OnBuild ?? null,
      Labels: c.Labels ?? null,
      ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
      ...(c.Shell ? { Shell: c.Shell } : {}),
    },
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    Size: rec.size,
    GraphDriver: overlayData(dirs),
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: rec.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
  return view;
}

function historyComment(config: ImageConfig): string {
  const h = config.history;
  return h && h.length > 0 ? (h[h.length - 1]?.comment ?? '') : '';
}

function overlayData(dirs: string[]): ImageInspect['GraphDriver'] {
  if (dirs.length === 0) return { Data: null, Name: 'overlay2' };
  const [top, ...lower] = dirs;
  const data: Record<string, string> = { MergedDir: '', UpperDir: top as string, WorkDir: '' };
  if (lower.length > 0) data.LowerDir = lower.join(':');
  return { Data: data, Name: 'overlay2' };
}

/** One row of `history`. */
export interface HistoryRow {
  /** The image ID for the top entry, `<missing>` otherwise (as Docker shows it). */
  Id: string;
  Created: number;
  CreatedBy: string;
  Size: number;
  Comment: string;
  Tags: string[];
}

/** Docker's history view: newest entry first, each non-empty entry paired with its layer. */
export function historyView(rec: ImageRecord, config: ImageConfig, layerSizes: number[]): HistoryRow[] {
  const entries: HistoryEntry[] =
    config.history && config.history.length > 0 ? config.history : config.rootfs.diff_ids.map(() => ({}));
  let layer = 0;
  const rows: HistoryRow[] = entries.map((h) => ({
    Id: '<missing>',
    Created: epochSeconds(h.created),
    CreatedBy: h.created_by ?? '',
    Size: h.empty_layer === true ? 0 : (layerSizes[layer++] ?? 0),
    Comment: h.comment ?? '',
    Tags: [],
  }));
  rows.reverse();
  if (rows[0]) {
    rows[0].Id = rec.id;
    rows[0].Tags = familiarNames(rec).tags;
  }
  return rows;
}
