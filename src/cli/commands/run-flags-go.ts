/**
 * Go's parsing functions and the error wording the `run`/`create` flag modules share
 * (run-flags.ts and its run-flags-*.ts siblings): pflag's `invalid argument` errors, strconv's
 * ParseInt/ParseBool, strings.Cut, path.Clean and encoding/csv, as docker/cli relies on them.
 */
import { parseCsvRecord as parseCsv } from '../../core/csv.js';
import { errors, type GantryError } from '../../core/errors.js';

/**
 * An INVALID_ARGUMENT error. Docker exits 125 when `run`/`create` reject their input; the
 * `usage` mark is how cli/errors.ts exitCodeOf() gives an INVALID_ARGUMENT that exit code.
 */
export function invalid(message: string, options?: { hint?: string }): GantryError {
  return Object.assign(errors.invalid(message, options), { usage: true });
}

/** pflag's error for a value a flag rejects. */
export function flagError(flag: string, value: string, cause: string): GantryError {
  return invalid(`invalid argument ${goQuote(value)} for ${goQuote(flag)} flag: ${cause}`);
}

/** Go's %q for the strings that appear here. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's strings.Cut. */
export function cut(s: string, sep: string): [string, string, boolean] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, '', false] : [s.slice(0, i), s.slice(i + sep.length), true];
}

/** The bounds of Go's int64, which pflag's int flags and Docker's counts are held to. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 0, 64), as pflag's int flags read their values. */
export function parseGoInt(s: string): number {
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?\d)*)$/.exec(s);
  if (!m) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  let digits = (m[2] as string).replace(/_/g, '');
  if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`;
  const n = (m[1] === '-' ? -1n : 1n) * BigInt(digits);
  if (n < INT64_MIN || n > INT64_MAX) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/** The spellings Go's strconv.ParseBool accepts. */
export const GO_BOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
export const GO_BOOL_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** A boolean flag's `--x=VALUE` (strconv.ParseBool), with pflag's error for any other spelling. */
export function parseGoBool(value: string, flag: string): boolean {
  if (GO_BOOL_TRUE.includes(value)) return true;
  if (GO_BOOL_FALSE.includes(value)) return false;
  throw flagError(flag, value, `strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`);
}

/** Go's path.Clean for absolute paths. */
export function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/** A flag's value as one CSV record (core/csv.ts), its parse error worded as the flag's. */
export function parseCsvRecord(value: string, flag: string): string[] {
  try {
    return parseCsv(value);
  } catch (err) {
    throw flagError(flag, value, (err as Error).message);
  }
}
