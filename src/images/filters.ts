/**
 * `--filter` for images, with Docker's keys: dangling, reference, before, since, label.
 * https://docs.docker.com/reference/cli/docker/image/ls/#filter
 */
import { errors } from '../core/errors.js';
import type { ImageRecord } from './image-store.js';
import type { ImageSummary } from './image-views.js';

/** One `key=value` filter. */
export interface ImageFilter {
  key: 'dangling' | 'reference' | 'before' | 'since' | 'label';
  value: string;
}

const KEYS = new Set(['dangling', 'reference', 'before', 'since', 'label']);

/** Parses `--filter` values; errors use Docker's wording. */
export function parseImageFilters(values: readonly string[]): ImageFilter[] {
  return values.map((raw) => {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw errors.invalid(`bad format of filter (expected name=value): ${raw}`);
    const key = raw.slice(0, eq).trim().toLowerCase();
    const value = raw.slice(eq + 1).trim();
    if (!KEYS.has(key)) throw errors.invalid(`invalid filter '${key}'`);
    if (key === 'dangling' && !['true', 'false', '1', '0'].includes(value.toLowerCase())) {
      throw errors.invalid(`invalid filter 'dangling=${value}'`);
    }
    return { key: key as ImageFilter['key'], value };
  });
}

/**
 * True when an image passes every filter. Filters of one key are alternatives (any may match),
 * different keys must all match, as in Docker.
 */
export function matchesFilters(
  s: ImageSummary,
  filters: readonly ImageFilter[],
  resolve: (input: string) => ImageRecord,
): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  for (const [key, values] of byKey) {
    const ok = values.some((v) => {
      switch (key) {
        case 'dangling': {
          const dangling = s.RepoTags.length === 0 && s.RepoDigests.length === 0;
          return dangling === (v === 'true' || v === '1');
        }
        case 'reference':
          return s.RepoTags.some((t) => referenceMatch(v, t)) || s.RepoDigests.some((d) => referenceMatch(v, d));
        case 'before':
          return s.Created < createdOf(resolve(v));
        case 'since':
          return s.Created > createdOf(resolve(v));
        case 'label': {
          const eq = v.indexOf('=');
          return eq < 0 ? v in s.Labels : s.Labels[v.slice(0, eq)] === v.slice(eq + 1);
        }
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}

function createdOf(rec: ImageRecord): number {
  const t = rec.created ? Date.parse(rec.created) : 0;
  return Math.floor((Number.isNaN(t) ? 0 : t) / 1000);
}

/**
 * Docker's FamiliarMatch: the pattern (shell glob, `*` not crossing `/`) is matched against the
 * familiar `name:tag`, and, when the pattern has no tag, against the familiar name alone.
 */
export function referenceMatch(pattern: string, familiar: string): boolean {
  const re = globToRegExp(pattern);
  if (re.test(familiar)) return true;
  const name = familiar.replace(/@.*$/, '').replace(/:[^:/]+$/, '');
  return re.test(name);
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) out += `\\${glob[++i]}`;
    else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
