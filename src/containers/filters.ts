/**
 * `ps --filter` (and `container prune --filter`): Docker's keys, with Docker's rules for
 * combining them — values of one key are ORed, different keys are ANDed.
 */
import { errors } from '../core/errors.js';
import type { ContainerRecord } from './container-store.js';

/** One `key=value` filter. */
export interface ContainerFilter {
  key: 'id' | 'name' | 'label' | 'status' | 'ancestor' | 'exited' | 'before' | 'since' | 'volume' | 'network' | 'until';
  value: string;
}

const KEYS = new Set(['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'volume', 'network', 'until']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

/** Parses `--filter` values. */
export function parseContainerFilters(values: readonly string[]): ContainerFilter[] {
  return values.map((v) => {
    const i = v.indexOf('=');
    if (i <= 0) throw errors.invalid(`bad format of filter (expected name=value)`);
    const key = v.slice(0, i).trim().toLowerCase();
    const value = v.slice(i + 1);
    if (!KEYS.has(key)) throw errors.invalid(`invalid filter '${key}'`);
    if (key === 'status' && !STATUSES.has(value)) {
      throw errors.invalid(`invalid filter 'status=${value}'`, {
        hint: 'valid statuses are created, restarting, running, removing, paused, exited and dead',
      });
    }
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw errors.invalid(`invalid filter 'exited=${value}'`);
    return { key: key as ContainerFilter['key'], value };
  });
}

/** How filters find other objects by what the user typed. */
export interface FilterLookups {
  container(input: string): ContainerRecord | undefined;
  /** The ID of the image a name or ID prefix stands for. */
  image(input: string): string | undefined;
}

/** True when the record passes every filter key. */
export function matchesContainerFilters(rec: ContainerRecord, filters: readonly ContainerFilter[], lookup: FilterLookups): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  for (const [key, values] of byKey) {
    if (!values.some((v) => matchOne(rec, key as ContainerFilter['key'], v, lookup))) return false;
  }
  return true;
}

function matchOne(rec: ContainerRecord, key: ContainerFilter['key'], value: string, lookup: FilterLookups): boolean {
  switch (key) {
    case 'id':
      return rec.id.startsWith(value);
    case 'name':
      // Docker matches names as an unanchored regular expression.
      try {
        return new RegExp(value).test(rec.name) || new RegExp(value).test(`/${rec.name}`);
      } catch {
        return rec.name.includes(value);
      }
    case 'label': {
      const i = value.indexOf('=');
      const labels = rec.spec.config.Labels ?? {};
      if (i < 0) return value in labels;
      return labels[value.slice(0, i)] === value.slice(i + 1);
    }
    case 'status':
      return rec.status === value;
    case 'exited':
      return rec.status === 'exited' && rec.exitCode === Number(value);
    case 'ancestor': {
      // Docker resolves the value to an image (busybox, busybox:latest, an ID prefix...).
      const id = lookup.image(value);
      return id !== undefined ? rec.imageId === id : rec.spec.config.Image === value;
    }
    case 'before':
    case 'since': {
      const other = lookup.container(value);
      if (!other) throw errors.notFound(`No such container: ${value}`);
      return key === 'before' ? rec.created < other.created : rec.created > other.created;
    }
    case 'until':
      return Date.parse(rec.created) < Date.parse(value);
    case 'volume':
      return rec.spec.mounts.some((m) => m.Name === value || m.Destination === value || m.Source === value);
    case 'network':
      return (rec.spec.hostConfig.NetworkMode || 'default') === value;
  }
}
