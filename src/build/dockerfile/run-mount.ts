/**
 * `RUN --mount=type=cache,target=/root/.cache,...`: the CSV field list parsed into a typed mount
 * with BuildKit's keys, defaults and messages (instructions/commands_runmount.go).
 *
 * @see https://docs.docker.com/reference/dockerfile/#run---mount
 */
import { parseCsvRecord } from '../../core/csv.js';
import { withSuggestion } from './errors.js';

/** Mount types RUN accepts. */
export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
/** How concurrent builds share a cache mount. */
export type CacheSharing = 'shared' | 'private' | 'locked';

/** One `--mount` of a RUN instruction. */
export interface RunMount {
  type: MountType;
  /** Stage, image or context to mount from (bind, cache). */
  from?: string;
  /** Path inside `from`; for secret and ssh, the ID of the secret or socket (`source`, `src`). */
  source?: string;
  /** Mount point (`target`, `dst`, `destination`). */
  target?: string;
  /** Read-only; defaults to false for cache and tmpfs, true otherwise. */
  readOnly: boolean;
  /** tmpfs size limit in bytes. */
  size?: number;
  /** Cache or secret ID. */
  id?: string;
  sharing?: CacheSharing;
  /** Fail when the secret or ssh socket is not provided. */
  required: boolean;
  /** Secret exposed as this environment variable. */
  env?: string;
  /** File mode (given in octal), owner and group for cache, secret and ssh mounts. */
  mode?: number;
  uid?: number;
  gid?: number;
}

const TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
const KEYS = ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env'];

/** Splits a `--mount` value into its fields (Go's CSV, as BuildKit reads it). */
export function csvFields(record: string): string[] {
  try {
    return parseCsvRecord(record);
  } catch (err) {
    throw new Error(`failed to parse csv mounts: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses a size such as `64m`, `1.5GiB` or `1024` into bytes (binary units, docker/go-units). */
export function ramInBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(size);
  if (!m) throw new Error(`invalid size: '${size}'`);
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.trunc(parseFloat(m[1] as string) * 1024 ** power);
}

function parseBool(key: string, value: string): boolean {
  // Go's strconv.ParseBool.
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new Error(`invalid value for ${key}: ${value}`);
}

function parseUint(value: string, radix: 8 | 10, what: string): number {
  const digits = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  const n = digits.test(value) ? parseInt(value, radix) : NaN;
  if (!Number.isFinite(n) || n > 0xffffffff) throw new Error(`invalid value ${value} for ${what}`);
  return n;
}

/**
 * Parses one `--mount` value. `expand` is applied to every value first (the builder passes
 * the stage's ARG/ENV expansion); by default values are taken as written.
 */
export function parseMount(spec: string, expand: (value: string) => string = (v) => v): RunMount {
  const m: RunMount = { type: 'bind', readOnly: true, required: false };
  let roAuto = true;
  const needsType = (key: string, ...types: MountType[]): void => {
    if (!types.includes(m.type)) throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
  };
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro' || key === 'readwrite' || key === 'rw') {
        m.readOnly = key === 'readonly' || key === 'ro';
        roAuto = false;
      } else if (key === 'required') {
        needsType(key, 'secret', 'ssh');
        m.required = true;
      } else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const value = expand(field.slice(eq + 1));
    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType;
        if (!TYPES.includes(t)) throw new Error(withSuggestion(`unsupported mount type ${JSON.stringify(value)}`, value, TYPES, true));
        m.type = t;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = parseBool(key, value);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !parseBool(key, value);
        roAuto = false;
        break;
      case 'required':
        needsType(key, 'secret', 'ssh');
        m.required = parseBool(key, value);
        break;
      case 'size':
        needsType(key, 'tmpfs');
        try {
          m.size = ramInBytes(value);
        } catch (err) {
          throw new Error(`invalid value for ${key}: ${value}`, { cause: err });
        }
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase() as CacheSharing;
        if (!SHARING.includes(s)) throw new Error(withSuggestion(`unsupported sharing value ${JSON.stringify(value)}`, value, SHARING, true));
        m.sharing = s;
        break;
      }
      case 'mode':
        m.mode = parseUint(value, 8, 'mode');
        break;
      case 'uid':
        m.uid = parseUint(value, 10, 'uid');
        break;
      case 'gid':
        m.gid = parseUint(value, 10, 'gid');
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new Error(withSuggestion(`unexpected key '${key}' in '${field}'`, key, KEYS, true));
    }
  }
  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new Error(`${k} not allowed for ${JSON.stringify(m.type)} type mounts`);
    }
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from) throw new Error('secret mount should not have a from');
    if (m.sharing) throw new Error('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw new Error('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new Error('both source and id can\'t be set');
  }
  if (m.sharing && m.type !== 'cache') throw new Error(`invalid cache sharing set for ${m.type} mount`);
  return m;
}
