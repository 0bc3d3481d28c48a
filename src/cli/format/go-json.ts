/**
 * JSON the way Go's encoding/json writes it, for the `json` template function and
 * `--format json`: struct fields in declaration order, map keys sorted, U+2028/U+2029
 * always escaped, `<`, `>` and `&` escaped only when asked (Docker's `json` function turns
 * HTML escaping off, but its list-row contexts marshal themselves with it on).
 */
import { formatRFC3339Nano } from './go-strconv.js';
import { kindOf, mapEntries, structFields } from './go-values.js';

/** Options for {@link goJSON}. */
export interface GoJSONOptions {
  /** Escape `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026` (json.Marshal's default). */
  escapeHTML: boolean;
  /**
   * Encode the top-level object like Docker's formatter contexts do (formatter.MarshalJSON):
   * keys sorted, and zero-argument methods (functions) called and included as fields.
   */
  formatterContext?: boolean;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A JSON string literal as Go writes it. */
export function quoteJSON(s: string, escapeHTML: boolean): string {
  let out = JSON.stringify(s.replace(LONE_SURROGATE, '\ufffd')).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (escapeHTML) out = out.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return out;
}

function encodeNumber(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'}`);
  if (Object.is(v, -0)) return '-0';
  if (Number.isInteger(v) && Math.abs(v) >= 1e21) return BigInt(v).toString();
  return String(v);
}

function encodeObject(entries: [string, unknown][], opts: GoJSONOptions, seen: Set<object>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${quoteJSON(k, opts.escapeHTML)}:${encode(v, opts, seen)}`);
  }
  return '{' + parts.join(',') + '}';
}

function encode(v: unknown, opts: GoJSONOptions, seen: Set<object>): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
    case 'func':
      return 'null';
    case 'string':
      return quoteJSON(v as string, opts.escapeHTML);
    case 'bool':
      return String(v);
    case 'int':
    case 'float':
      return typeof v === 'bigint' ? v.toString() : encodeNumber(v as number);
    case 'time':
      return quoteJSON(formatRFC3339Nano(v as Date), opts.escapeHTML);
    default:
      break;
  }
  const obj = v as object;
  if (seen.has(obj)) throw new Error('json: unsupported value: encountered a cycle');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return '[' + obj.map((x) => encode(x, opts, seen)).join(',') + ']';
    if (kindOf(obj) === 'map') {
      return encodeObject(
        mapEntries(obj).map(([k, x]) => [String(k), x]),
        opts,
        seen,
      );
    }
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return encode(toJSON.call(obj), opts, seen);
    return encodeObject(structFields(obj), opts, seen);
  } finally {
    seen.delete(obj);
  }
}

/** Collects the fields and zero-argument methods of a formatter context, sorted by name. */
function contextEntries(obj: object): [string, unknown][] {
  const entries: [string, unknown][] = [];
  const names = new Set<string>();
  for (let p: object | null = obj; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (names.has(name) || name === 'constructor' || !/^\p{Lu}/u.test(name)) continue;
      names.add(name);
      const desc = Object.getOwnPropertyDescriptor(p, name);
      if (p !== obj && desc && !desc.get && typeof desc.value !== 'function') continue;
      if (p === obj && desc && !desc.enumerable) continue;
      const value = (obj as Record<string, unknown>)[name];
      if (typeof value === 'function') {
        if (value.length === 0) entries.push([name, (value as () => unknown).call(obj)]);
      } else {
        entries.push([name, value]);
      }
    }
  }
  return entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Encodes `v` as one line of JSON exactly as Go's encoding/json would. Throws on NaN, infinities and cycles. */
export function goJSON(v: unknown, opts: GoJSONOptions): string {
  if (opts.formatterContext && kindOf(v) === 'struct') {
    return encodeObject(contextEntries(v as object), opts, new Set([v as object]));
  }
  return encode(v, opts, new Set());
}
