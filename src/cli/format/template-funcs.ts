/**
 * The functions a `--format` template can call: Go's text/template builtins (funcs.go) and
 * the ones Docker adds (docker/cli templates/templates.go), plus Docker's header variants
 * used to render a table's header row. Functions throw a plain Error with Go's message; the
 * executor wraps it as `error calling NAME: …`.
 */
import { sprint, sprintf, sprintln } from './go-fmt.js';
import { goJSON } from './go-json.js';
import { goTypeName, kindOf, mapEntries, mapLookup, mapSize, mapZeroValue } from './go-values.js';

/**
 * How an argument is checked before the call, like reflect's assignability in Go:
 * `string`/`int` must have that type, `any` turns a missing value into nil (`null`),
 * `value` passes the value through untouched (Go's reflect.Value parameters).
 */
export type ParamType = 'any' | 'value' | 'string' | 'int';

/** Per-render settings a function may consult. */
export interface FuncEnv {
  /** The data the template is rendering (`$`). */
  root: unknown;
  /** When set, `json` of the root uses Docker's formatter-context encoding (see go-json.ts). */
  rowContext: boolean;
}

/** A template function: its parameter types (with an optional variadic tail) and body. */
export interface FuncSpec {
  params: ParamType[];
  variadic?: ParamType;
  fn: (env: FuncEnv, ...args: never[]) => unknown;
}

/** Go's template truth: non-zero numbers, non-empty strings/slices/maps, true, structs and functions. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return mapSize(v as object) > 0;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return Number(v) !== 0;
    default:
      return true;
  }
}

type BasicKind = 'bool' | 'number' | 'string' | 'other';

function basicKind(v: unknown): BasicKind {
  const k = kindOf(v);
  return k === 'bool' || k === 'string' ? k : k === 'int' || k === 'float' ? 'number' : 'other';
}

const isNil = (v: unknown): boolean => v === undefined || v === null;

function eq(_env: FuncEnv, arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg2.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of arg2) {
    const k2 = basicKind(arg);
    let truth: boolean;
    if (k1 !== k2) {
      if (!isNil(arg1) && !isNil(arg)) throw new Error('incompatible types for comparison');
      truth = false;
    } else if (k1 === 'number') {
      truth = Number(arg1) === Number(arg);
    } else if (k1 !== 'other') {
      truth = arg1 === arg;
    } else if (isNil(arg1) || isNil(arg)) {
      truth = isNil(arg1) === isNil(arg);
    } else {
      for (const x of [arg1, arg]) {
        const kind = kindOf(x);
        if (kind === 'slice' || kind === 'map' || kind === 'func') throw new Error(`non-comparable type ${goTypeName(x)}`);
      }
      truth = arg1 === arg;
    }
    if (truth) return true;
  }
  return false;
}

function lt(_env: FuncEnv, a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'other' || kb === 'other') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  if (ka === 'bool') throw new Error('invalid type for comparison');
  return ka === 'number' ? Number(a) < Number(b) : (a as string) < (b as string);
}

/** Go's indexArg: an in-range int index for a sequence of length `len`. */
function indexArg(index: unknown, len: number): number {
  if (isNil(index)) throw new Error('cannot index slice/array with nil');
  if (kindOf(index) !== 'int') throw new Error(`cannot index slice/array with type ${goTypeName(index)}`);
  const x = Number(index);
  if (x < 0 || x > len) throw new Error(`index out of range: ${x}`);
  return x;
}

function index(_env: FuncEnv, item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new Error('index of untyped nil');
  for (const idx of indexes) {
    if (item === null || item === undefined) throw new Error('index of nil pointer');
    const kind = kindOf(item);
    if (kind === 'slice' || kind === 'string') {
      const seq = kind === 'string' ? Buffer.from(item as string, 'utf8') : (item as unknown[]);
      const x = indexArg(idx, seq.length);
      if (x === seq.length) throw new Error(`reflect: ${kind === 'string' ? 'string' : 'slice'} index out of range`);
      item = seq[x];
    } else if (kind === 'map') {
      if (isNil(idx)) throw new Error('value is nil; should be of type string');
      if (typeof idx !== 'string' && !(item instanceof Map)) throw new Error(`value has type ${goTypeName(idx)}; should be string`);
      const { found, value } = mapLookup(item as object, idx);
      item = found ? value : mapZeroValue(item as object);
    } else {
      throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(_env: FuncEnv, item: unknown, ...indexes: unknown[]): unknown {
  if (isNil(item)) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const kind = kindOf(item);
  if (kind === 'string' && indexes.length === 3) throw new Error('cannot 3-index slice a string');
  if (kind !== 'string' && kind !== 'slice') throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const seq = kind === 'string' ? Buffer.from(item as string, 'utf8') : (item as unknown[]);
  const idx = [0, seq.length, seq.length];
  indexes.forEach((x, i) => (idx[i] = indexArg(x, seq.length)));
  const [i, j, k] = idx as [number, number, number];
  if (i > j) throw new Error(`invalid slice index: ${i} > ${j}`);
  if (indexes.length === 3 && j > k) throw new Error(`invalid slice index: ${j} > ${k}`);
  return kind === 'string' ? (seq as Buffer).subarray(i, j).toString('utf8') : (seq as unknown[]).slice(i, j);
}

function length(_env: FuncEnv, item: unknown): number {
  if (isNil(item)) throw new Error('len of nil pointer');
  switch (kindOf(item)) {
    case 'string':
      return Buffer.byteLength(item as string, 'utf8');
    case 'slice':
      return (item as unknown[]).length;
    case 'map':
      return mapSize(item as object);
    default:
      throw new Error(`len of type ${goTypeName(item)}`);
  }
}

/** Go's evalArgs: the lone string argument as is, otherwise fmt.Sprint of all of them. */
function evalArgs(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

function htmlEscape(s: string): string {
  const map: Record<string, string> = { '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' };
  return s.replace(/["'&<>]/g, (c) => map[c] as string);
}

function jsEscape(s: string): string {
  let out = '';
  for (const c of s) {
    const cp = c.codePointAt(0) as number;
    if (c === '\\' || c === "'" || c === '"') out += '\\' + c;
    else if (c === '<' || c === '>') out += c === '<' ? '\\u003C' : '\\u003E';
    else if (c === '&' || c === '=') out += '\\u00' + cp.toString(16).toUpperCase();
    else if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else out += c;
  }
  return out;
}

/** Go's strings.Title separator test: ASCII non-alphanumerics, and non-ASCII spaces. */
function isSeparator(c: string): boolean {
  if (c.charCodeAt(0) < 0x80) return !/^[A-Za-z0-9_]$/.test(c);
  if (/^[\p{L}\p{Nd}]$/u.test(c)) return false;
  return /^\s$/u.test(c);
}

/** Go's strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const c of s) {
    out += isSeparator(prev) ? simpleCase(c, 'upper') : c;
    prev = c;
  }
  return out;
}

/** Per-character case mapping that, like Go's, never changes the number of characters. */
function simpleCase(s: string, to: 'upper' | 'lower'): string {
  let out = '';
  for (const c of s) {
    const m = to === 'upper' ? c.toUpperCase() : c.toLowerCase();
    out += Array.from(m).length === 1 ? m : c;
  }
  return out;
}

/** Docker's join: strings joined as is, other slice elements and map values printed with %v. */
function join(_env: FuncEnv, elems: unknown, sep: string): string {
  if (isNil(elems)) return '';
  const kind = kindOf(elems);
  if (kind === 'slice') return (elems as unknown[]).map((e) => (typeof e === 'string' ? e : sprint([e]))).join(sep);
  if (kind === 'map') return mapEntries(elems as object).map(([, v]) => sprint([v])).sort().join(sep);
  throw new Error(`expected slice, got ${goTypeName(elems)}`);
}

const f = (params: ParamType[], fn: FuncSpec['fn'], variadic?: ParamType): FuncSpec => ({ params, fn, variadic });

/** Go's text/template builtins. `and`/`or` short-circuit in the executor. */
export const BUILTIN_FUNCS: Readonly<Record<string, FuncSpec>> = {
  and: f(['value'], () => undefined, 'value'),
  or: f(['value'], () => undefined, 'value'),
  not: f(['value'], (_e, v: unknown) => !isTrue(v)),
  len: f(['value'], length),
  index: f(['value'], index, 'value'),
  slice: f(['value'], slice, 'value'),
  print: f([], (_e, ...a: unknown[]) => sprint(a), 'any'),
  printf: f(['string'], (_e, fmt: string, ...a: unknown[]) => sprintf(fmt, a), 'any'),
  println: f([], (_e, ...a: unknown[]) => sprintln(a), 'any'),
  eq: f(['value'], eq, 'value'),
  ne: f(['value', 'value'], (e, a: unknown, b: unknown) => !eq(e, a, b)),
  lt: f(['value', 'value'], lt),
  le: f(['value', 'value'], (e, a: unknown, b: unknown) => lt(e, a, b) || eq(e, a, b)),
  gt: f(['value', 'value'], (e, a: unknown, b: unknown) => !(lt(e, a, b) || eq(e, a, b))),
  ge: f(['value', 'value'], (e, a: unknown, b: unknown) => !lt(e, a, b)),
  html: f([], (_e, ...a: unknown[]) => htmlEscape(evalArgs(a)), 'any'),
  js: f([], (_e, ...a: unknown[]) => jsEscape(evalArgs(a)), 'any'),
  urlquery: f([], (_e, ...a: unknown[]) => encodeURIComponent(evalArgs(a)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()), 'any'),
  call: f(['value'], (_e, fn: unknown, ...a: unknown[]) => {
    if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeName(fn)}`);
    return (fn as (...x: unknown[]) => unknown)(...a);
  }, 'value'),
};

/** The functions Docker adds (templates.go basicFunctions). Docker has no `trim` or `padWithSpace`. */
export const DOCKER_FUNCS: Readonly<Record<string, FuncSpec>> = {
  json: f(['any'], (env, v: unknown) => {
    // A row context marshals itself with json.Marshal (HTML escaping on); other values go through
    // an encoder with SetEscapeHTML(false).
    const ctx = env.rowContext && v === env.root;
    return goJSON(v, { escapeHTML: ctx, formatterContext: ctx });
  }),
  split: f(['string', 'string'], (_e, s: string, sep: string) => (sep === '' ? Array.from(s) : s.split(sep))),
  join: f(['any', 'string'], join),
  title: f(['string'], (_e, s: string) => title(s)),
  lower: f(['string'], (_e, s: string) => simpleCase(s, 'lower')),
  upper: f(['string'], (_e, s: string) => simpleCase(s, 'upper')),
  pad: f(['string', 'int', 'int'], (_e, s: string, prefix: number, suffix: number) =>
    s === '' ? s : ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0)),
  ),
  truncate: f(['string', 'int'], (_e, s: string, n: number) => {
    const chars = Array.from(s);
    return chars.length < n ? s : chars.slice(0, Math.max(n, 0)).join('');
  }),
};

const identity = (_e: FuncEnv, v: string): string => v;

/** Docker's HeaderFunctions: while rendering a table header, these return the header text unchanged. */
export const HEADER_FUNCS: Readonly<Record<string, FuncSpec>> = {
  json: f(['string'], identity),
  split: f(['string', 'string'], identity),
  join: f(['string', 'string'], identity),
  title: f(['string'], identity),
  lower: f(['string'], identity),
  upper: f(['string'], identity),
  truncate: f(['string', 'int'], identity),
};

/** Every function name a template may use (checked at parse time, like Go). */
export const FUNC_NAMES: ReadonlySet<string> = new Set([...Object.keys(BUILTIN_FUNCS), ...Object.keys(DOCKER_FUNCS)]);
