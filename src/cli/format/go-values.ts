/**
 * How JavaScript values stand in for Go values when a `--format` template runs.
 *
 * Go's text/template tells a struct (missing field → error) from a map (missing key →
 * `<no value>`) by static type; JavaScript cannot, so gantry uses this convention:
 *
 * | JavaScript value                         | acts as Go…                                    |
 * | ---------------------------------------- | ---------------------------------------------- |
 * | `undefined`                              | an invalid value (missing key): `<no value>`   |
 * | `null`                                   | a nil pointer / interface: `<nil>`             |
 * | string, boolean                          | string, bool                                   |
 * | integral number (within int64), bigint   | int (also accepted by float verbs like `%.2f`) |
 * | other number                             | float64                                        |
 * | array                                    | slice                                          |
 * | `Map`, or an object marked with {@link MAP_LIKE} / {@link asMap} | map (keys iterate sorted) |
 * | `Date`                                   | time.Time (prints as `2024-01-02 15:04:05 +0000 UTC`) |
 * | function                                 | method: called with the action's arguments     |
 * | any other object                         | struct: its properties (own or inherited, even when `undefined`) are the fields |
 */

/** Mark an object with `[MAP_LIKE]: true` to have templates treat it as a Go map. */
export const MAP_LIKE: unique symbol = Symbol('gantry.goMap');

/** Set `[GO_TYPE]: '*formatter.ContainerContext'` on an object to name its type in error messages. */
export const GO_TYPE: unique symbol = Symbol('gantry.goType');

const marked = new WeakSet<object>();

/** Returns `obj` itself, marked (without mutating it) so templates treat it as a Go map. */
export function asMap<T extends object>(obj: T): T {
  marked.add(obj);
  return obj;
}

/** The Go kind a JavaScript value stands for (see the module comment). */
export type GoKind = 'invalid' | 'nil' | 'string' | 'int' | 'float' | 'bool' | 'slice' | 'map' | 'struct' | 'func' | 'time';

/** A plain record view of an object, for property access by name. */
type Props = Record<string | symbol, unknown>;

/** True when `v` acts as a Go map: a `Map`, or an object marked with {@link MAP_LIKE} or {@link asMap}. */
export function isMapLike(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  return v instanceof Map || marked.has(v) || (v as Props)[MAP_LIKE] === true;
}

/** Classifies `v` into the Go kind it stands for. */
export function kindOf(v: unknown): GoKind {
  switch (typeof v) {
    case 'undefined':
    case 'symbol':
      return 'invalid';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? 'int' : 'float';
    case 'function':
      return 'func';
    default:
      if (v === null) return 'nil';
      if (Array.isArray(v)) return 'slice';
      if (v instanceof Date) return 'time';
      if (isMapLike(v)) return 'map';
      return 'struct';
  }
}

/** Orders map keys like Go's fmtsort: numbers numerically, strings by code unit. */
function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The entries of a map-like value, sorted by key as Go sorts map keys when printing or ranging. */
export function mapEntries(m: object): [unknown, unknown][] {
  const entries: [unknown, unknown][] =
    m instanceof Map ? [...(m as Map<unknown, unknown>).entries()] : Object.entries(m).filter(([, v]) => typeof v !== 'function');
  return entries.sort((a, b) => compareKeys(a[0], b[0]));
}

/** Looks `key` up in a map-like value; `found` is false for a missing key. */
export function mapLookup(m: object, key: unknown): { found: boolean; value: unknown } {
  if (m instanceof Map) return { found: m.has(key), value: m.get(key) };
  const k = String(key);
  if (!Object.prototype.hasOwnProperty.call(m, k)) return { found: false, value: undefined };
  return { found: true, value: (m as Props)[k] };
}

/** The number of entries in a map-like value. */
export function mapSize(m: object): number {
  return mapEntries(m).length;
}

/** A function stored on a map-like object under `name` (Go: a method of the map type), if any. */
export function mapMethod(m: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  if (m instanceof Map) return undefined;
  const v = Object.prototype.hasOwnProperty.call(m, name) ? (m as Props)[name] : undefined;
  return typeof v === 'function' ? (v as (...args: unknown[]) => unknown) : undefined;
}

/** True when the struct-like `obj` declares a field or method `name` (own or inherited, not from Object.prototype). */
export function hasField(obj: object, name: string): boolean {
  for (let p: object | null = obj; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return true;
  }
  return false;
}

/** The data fields of a struct-like object, in declaration order (functions are methods, not fields). */
export function structFields(obj: object): [string, unknown][] {
  return Object.entries(obj).filter(([, v]) => typeof v !== 'function');
}

/** The zero-argument `String()` method of a struct-like object (Go's fmt.Stringer), if it has one. */
export function stringer(obj: object): (() => unknown) | undefined {
  if (!hasField(obj, 'String')) return undefined;
  const fn = (obj as Props)['String'];
  return typeof fn === 'function' && fn.length === 0 ? () => (fn as () => unknown).call(obj) : undefined;
}

/** True when every value in `values` is a string (used to guess a Go element type). */
function allStrings(values: unknown[]): boolean {
  return values.every((v) => typeof v === 'string');
}

/** The Go type name used in error messages (`string`, `int`, `[]string`, `map[string]string`, …). */
export function goTypeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'string':
      return 'string';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'bool':
      return 'bool';
    case 'func':
      return 'func()';
    case 'time':
      return 'time.Time';
    case 'slice': {
      const arr = v as unknown[];
      if (arr.length > 0 && allStrings(arr)) return '[]string';
      if (arr.length > 0 && arr.every((x) => kindOf(x) === 'int')) return '[]int';
      return '[]interface {}';
    }
    case 'map':
      return mapZeroValue(v as object) === '' ? 'map[string]string' : 'map[string]interface {}';
    case 'struct': {
      const named = (v as Props)[GO_TYPE];
      if (typeof named === 'string') return named;
      const ctor = (v as object).constructor;
      return typeof ctor === 'function' && ctor !== Object && ctor.name ? `*${ctor.name}` : 'struct';
    }
  }
}

/**
 * The zero value Go's `index` returns for a missing key: `""` when the map looks like a
 * `map[string]string` (every value is a string, or it is empty), otherwise nil (`undefined`).
 */
export function mapZeroValue(m: object): unknown {
  return allStrings(mapEntries(m).map(([, v]) => v)) ? '' : undefined;
}
