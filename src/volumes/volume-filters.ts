/**
 * Docker's volume filters, with the semantics of its `filters.Args` (moby api/types/filters)
 * and the volume service's `filtersToBy` / `withPrune` (moby volume/service/convert.go):
 *
 * - `name=`: exact name or an unanchored regular expression; several values are alternatives.
 * - `driver=`: exact driver name; alternatives.
 * - `label=key` / `label=key=value`: every value must match (AND); `label!=` (prune only)
 *   excludes the volumes that match every `label!` value.
 * - `dangling=true|false|1|0`: not / only referenced by a container.
 * - `all=<bool>` (prune only): consider named volumes too, not only anonymous ones.
 *
 * https://docs.docker.com/reference/cli/docker/volume/ls/#filter
 */
import { errors } from '../core/errors.js';

/**
 * Filters as the Engine API carries them (`{"label": ["a=b"], "dangling": ["true"]}`): a key
 * with its values. Keys are lower-case; duplicate values count once.
 */
export type VolumeFilters = Readonly<Record<string, readonly string[]>>;

/** The label Docker 23+ sets on volumes created without a name; prune without `all` removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** Keys `volume ls` accepts. */
export const LIST_FILTER_KEYS: readonly string[] = ['dangling', 'name', 'driver', 'label'];
/** Keys `volume prune` accepts. */
export const PRUNE_FILTER_KEYS: readonly string[] = ['label', 'label!', 'all'];

/** What a filter looks at. */
export interface FilterSubject {
  name: string;
  driver: string;
  labels: Record<string, string>;
  /** Containers using the volume. */
  refCount: number;
}

/** Docker's invalidFilter error text: `invalid filter 'key'` or `invalid filter 'key=[v1 v2]'`. */
function invalidFilter(key: string, values?: readonly string[]) {
  return errors.invalid(`invalid filter '${key}${values ? `=[${values.join(' ')}]` : ''}'`);
}

/** filters.Args.GetBoolOrDefault: exactly one of true/1 and false/0 must be present. */
function boolFilter(key: string, values: readonly string[]): boolean {
  const isTrue = values.includes('true') || values.includes('1');
  const isFalse = values.includes('false') || values.includes('0');
  if (isTrue === isFalse) throw invalidFilter(key, values.length > 0 ? values : undefined);
  return isTrue;
}

/** filters.Args.MatchKVList: true when every `key` or `key=value` is among `labels`. */
function matchKVList(values: readonly string[], labels: Record<string, string>): boolean {
  if (values.length === 0) return true;
  if (Object.keys(labels).length === 0) return false;
  return values.every((v) => {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!Object.hasOwn(labels, key)) return false;
    return eq < 0 || labels[key] === v.slice(eq + 1);
  });
}

/** filters.Args.Match: an exact value or an unanchored regular expression (invalid ones never match). */
function matchName(values: readonly string[], name: string): boolean {
  return values.some((v) => {
    if (v === name) return true;
    try {
      return new RegExp(v).test(name);
    } catch {
      return false;
    }
  });
}

/**
 * Validates `filters` against the accepted keys and returns the predicate they describe.
 * Throws INVALID_ARGUMENT with Docker's wording for an unknown key or a bad boolean.
 */
export function volumeMatcher(filters: VolumeFilters, accepted: readonly string[]): (v: FilterSubject) => boolean {
  for (const key of Object.keys(filters)) if (!accepted.includes(key)) throw invalidFilter(key);
  const get = (key: string): readonly string[] => filters[key] ?? [];
  const drivers = get('driver');
  const names = get('name');
  const labels = get('label');
  const notLabels = get('label!');
  const dangling = 'dangling' in filters ? boolFilter('dangling', get('dangling')) : undefined;
  return (v) =>
    (drivers.length === 0 || drivers.includes(v.driver)) &&
    (!('name' in filters) || matchName(names, v.name)) &&
    matchKVList(labels, v.labels) &&
    (!('label!' in filters) || !matchKVList(notLabels, v.labels)) &&
    (dangling === undefined || (v.refCount === 0) === dangling);
}

/**
 * moby's withPrune: returns the filters a prune runs with. Unless `all` is true, only
 * anonymous volumes are candidates (Docker 23+, API 1.42).
 */
export function pruneFilters(filters: VolumeFilters, all: boolean): VolumeFilters {
  const out: Record<string, readonly string[]> = { ...filters };
  if (all) out.all = [...new Set([...(out.all ?? []), 'true'])];
  const values = out.all ?? [];
  if (values.length > 1) throw errors.invalid(`invalid filter 'all=[${values.join(' ')}]': only one value is expected`);
  if (values.length === 1) {
    const v = values[0] as string;
    const parsed = parseGoBool(v);
    if (parsed === undefined) throw errors.invalid(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
    if (parsed) return out;
  }
  out.label = [...(out.label ?? []), ANONYMOUS_LABEL];
  return out;
}

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/**
 * The order `volume ls` prints names in: fvbommel/sortorder's NaturalLess, which the Docker
 * CLI sorts by (runs of digits compare as numbers, so `v2` comes before `v10`).
 */
export function naturalCompare(a: string, b: string): number {
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c1 = a[i] as string;
    const c2 = b[j] as string;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1 ? -1 : 1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2 ? -1 : 1;
      i++;
      j++;
      continue;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    const nz1 = i;
    const nz2 = j;
    while (isDigit(a[i])) i++;
    while (isDigit(b[j])) j++;
    if (i - nz1 !== j - nz2) return i - nz1 < j - nz2 ? -1 : 1;
    const n1 = a.slice(nz1, i);
    const n2 = b.slice(nz2, j);
    if (n1 !== n2) return n1 < n2 ? -1 : 1;
    // Equal numbers: the one with fewer leading zeros first.
    if (nz1 !== nz2) return nz1 < nz2 ? -1 : 1;
  }
  // Identical so far: the shorter string first.
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
