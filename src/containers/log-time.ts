/**
 * The times of `docker logs`: the `--since`/`--until` values a user types, and the timestamps
 * `logs -t` prints.
 *
 * `parseTimeArg` is a port of the Docker client's `GetTimestamp`
 * (moby client/internal/timestamp/timestamp.go) together with the bits of Go's `time.Parse`
 * and `time.ParseDuration` it relies on, so that the accepted forms, the rounding and the
 * error messages are Docker's.
 */
import { errors } from '../core/errors.js';

const NS_PER_SEC = 1_000_000_000n;

/**
 * A unix time in nanoseconds as Docker's `logs -t` prints it: RFC 3339 in UTC with exactly nine
 * fractional digits (Docker's `RFC3339NanoFixed`), e.g. `2024-01-02T03:04:05.123456789Z`.
 */
export function formatLogTimestamp(ns: bigint): string {
  let sec = ns / NS_PER_SEC;
  let frac = ns % NS_PER_SEC;
  if (frac < 0n) {
    frac += NS_PER_SEC;
    sec -= 1n;
  }
  const day = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${day}.${frac.toString().padStart(9, '0')}Z`;
}

/**
 * A `--since`/`--until` value as a unix time in nanoseconds, the way `docker logs` reads it
 * (the client's `GetTimestamp`, then the daemon's `ParseUnixTimestamp`):
 * - a Go duration (`10m`, `1h30m`, `1.5h`, `300ms`): `now` minus it, truncated to whole
 *   seconds as Docker sends it;
 * - RFC 3339 with or without fractional seconds, with `Z` or an offset; without a zone
 *   (`2006-01-02T15:04:05`, `2006-01-02T15:04`, `2006-01-02T15`, `2006-01-02`) the time is
 *   read in the zone offset `now` has, like Docker's `time.FixedZone(reference.Zone())`;
 * - a unix timestamp `1700000000` or `1700000000.123456789`.
 *
 * `"0"` is the epoch; Docker treats `--until 0` as "no limit" (readLogs does too).
 * Throws INVALID_ARGUMENT `invalid value for "since": …` with Docker's wording.
 */
export function parseTimeArg(value: string, now: Date, name: 'since' | 'until' = 'since'): bigint {
  try {
    return getTimestamp(value, now);
  } catch (err) {
    if (!(err instanceof GoError)) throw err;
    throw errors.invalid(`invalid value for "${name}": ${err.message}`);
  }
}

/** An error carrying a Go error's text, before it gets the `invalid value for` prefix. */
class GoError extends Error {}

function getTimestamp(value: string, now: Date): bigint {
  const d = parseGoDuration(value);
  if (value !== '0' && d !== undefined) {
    // NOTE: Docker's client sends `reference.Add(-d).Unix()`: whole seconds, floored.
    const ns = BigInt(now.getTime()) * 1_000_000n - d;
    return floorDiv(ns, NS_PER_SEC) * NS_PER_SEC;
  }
  const inLocation = !/[zZ+]/.test(value) && value.split('-').length - 1 !== 3;
  let layout: string;
  if (value.includes('.')) {
    layout = inLocation ? '2006-01-02T15:04:05.999999999' : '2006-01-02T15:04:05.999999999Z07:00';
  } else if (value.includes('T')) {
    let colons = value.split(':').length - 1;
    if (!inLocation && !/[zZ]/.test(value) && colons > 0) colons--;
    const base = ['2006-01-02T15', '2006-01-02T15:04', '2006-01-02T15:04:05'][Math.min(colons, 2)] as string;
    layout = inLocation ? base : base + 'Z07:00';
  } else {
    layout = inLocation ? '2006-01-02' : '2006-01-02Z07:00';
  }
  const localOffset = -now.getTimezoneOffset() * 60;
  const parsed = goParse(layout, value, inLocation ? localOffset : 0);
  if (typeof parsed === 'bigint') return parsed;
  if (value.includes('-')) throw new GoError(parsed);
  const unix = parseUnixTimestamp(value);
  if (unix === undefined) throw new GoError(`failed to parse value as time or duration: ${goQuote(value)}`);
  return unix;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Go's strconv.ParseInt(s, 10, 64), or undefined. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v < 2n ** 63n ? v : undefined;
}

/** Docker's `parseTimestamp`: `sec[.frac]`, the fraction scaled to nanoseconds. */
function parseUnixTimestamp(value: string): bigint | undefined {
  const dot = value.indexOf('.');
  const sec = parseInt64(dot < 0 ? value : value.slice(0, dot));
  if (sec === undefined) return undefined;
  if (dot < 0) return sec * NS_PER_SEC;
  const fracText = value.slice(dot + 1);
  const frac = parseInt64(fracText);
  if (frac === undefined) return undefined;
  const digits = fracText.replace(/^[+-]/, '').length;
  const nsec = digits <= 9 ? frac * 10n ** BigInt(9 - digits) : frac / 10n ** BigInt(digits - 9);
  return sec * NS_PER_SEC + nsec;
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: NS_PER_SEC,
  m: 60n * NS_PER_SEC,
  h: 3600n * NS_PER_SEC,
};
const MAX_DURATION = 2n ** 63n;

/** Go's time.ParseDuration in nanoseconds, or undefined when Go would return an error. */
export function parseGoDuration(s: string): bigint | undefined {
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    const [all, intPart = '', fracPart] = m;
    if (intPart === '' && !fracPart) return undefined;
    s = s.slice(all.length);
    let i = 0;
    while (i < s.length && !/[.0-9]/.test(s[i] as string)) i++;
    const unit = DURATION_UNITS[s.slice(0, i)];
    if (unit === undefined) return undefined;
    s = s.slice(i);
    let v = BigInt(intPart || '0');
    if (v > MAX_DURATION / unit) return undefined;
    v *= unit;
    if (fracPart) {
      // NOTE: Go computes the fraction in float64 (`float64(f) * (float64(unit) / scale)`);
      // doing the same keeps `1.1h`-style values bit-identical to Docker's.
      const digits = fracPart.slice(0, 18);
      v += BigInt(Math.trunc(Number(digits) * (Number(unit) / 10 ** digits.length)));
      if (v > MAX_DURATION) return undefined;
    }
    total += v;
    if (total > MAX_DURATION) return undefined;
  }
  if (!neg && total > MAX_DURATION - 1n) return undefined;
  return neg ? -total : total;
}

/** Go's time-package `quote`: ASCII printable as is, everything else as `\xNN` bytes. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch)) out += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
    }
  }
  return out + '"';
}

const STD_CHUNKS = ['2006', '01', '02', '15', '04', '05', '.999999999', 'Z07:00'] as const;
type StdChunk = (typeof STD_CHUNKS)[number];

/** Splits a layout into (literal prefix, std chunk) pairs, as Go's nextStdChunk walks it. */
function layoutChunks(layout: string): { prefix: string; std: StdChunk | undefined }[] {
  const out: { prefix: string; std: StdChunk | undefined }[] = [];
  let prefix = '';
  let i = 0;
  while (i < layout.length) {
    const std = STD_CHUNKS.find((c) => layout.startsWith(c, i));
    if (std === undefined) {
      prefix += layout[i];
      i++;
      continue;
    }
    out.push({ prefix, std });
    prefix = '';
    i += std.length;
  }
  out.push({ prefix, std: undefined });
  return out;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** Go's getnum: one or two digits (exactly two when `fixed`). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : [Number(s[0]), s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(month: number, year: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 31;
}

/**
 * Go's time.Parse/ParseInLocation for the layouts GetTimestamp uses: the unix time in
 * nanoseconds, or Go's error text. `defaultOffset` (seconds east of UTC) applies when the
 * value carries no zone.
 */
function goParse(layout: string, value: string, defaultOffset: number): bigint | string {
  const q = (s: string): string => goQuote(s);
  const cannot = (layoutElem: string, valueElem: string): string =>
    `parsing time ${q(value)} as ${q(layout)}: cannot parse ${q(valueElem)} as ${q(layoutElem)}`;
  const outOfRange = (what: string): string => `parsing time ${q(value)}: ${what} out of range`;
  let rest = value;
  let [year, month, day, hour, min, sec, nsec] = [0, 1, 1, 0, 0, 0, 0];
  let offset: number | undefined;
  const chunks = layoutChunks(layout);
  for (let ci = 0; ci < chunks.length; ci++) {
    const { prefix, std } = chunks[ci] as (typeof chunks)[number];
    for (const ch of prefix) {
      if (rest[0] !== ch) return cannot(prefix, rest);
      rest = rest.slice(1);
    }
    if (std === undefined) {
      if (rest.length > 0) return `parsing time ${q(value)}: extra text: ${q(rest)}`;
      break;
    }
    const hold = rest;
    let ok = true;
    let range = '';
    switch (std) {
      case '2006':
        if (rest.length < 4 || !isDigit(rest, 0) || !/^\d{4}$/.test(rest.slice(0, 4))) ok = false;
        else [year, rest] = [Number(rest.slice(0, 4)), rest.slice(4)];
        break;
      case '01': {
        const r = getnum(rest, true);
        if (!r) ok = false;
        else {
          [month, rest] = r;
          if (month <= 0 || month > 12) range = 'month';
        }
        break;
      }
      case '02': {
        const r = getnum(rest, true);
        if (!r) ok = false;
        else [day, rest] = r;
        break;
      }
      case '15': {
        const r = getnum(rest, false);
        if (!r) ok = false;
        else {
          [hour, rest] = r;
          if (hour >= 24) range = 'hour';
        }
        break;
      }
      case '04': {
        const r = getnum(rest, true);
        if (!r) ok = false;
        else {
          [min, rest] = r;
          if (min >= 60) range = 'minute';
        }
        break;
      }
      case '05': {
        const r = getnum(rest, true);
        if (!r) {
          ok = false;
          break;
        }
        [sec, rest] = r;
        if (sec >= 60) {
          range = 'second';
          break;
        }
        // A fractional second in the value but none in the layout is still read (Go does).
        if (rest.length >= 2 && rest[0] === '.' && isDigit(rest, 1) && chunks[ci + 1]?.std !== '.999999999') {
          let n = 2;
          while (isDigit(rest, n)) n++;
          nsec = Number(rest.slice(1, Math.min(n, 10)).padEnd(9, '0'));
          rest = rest.slice(n);
        }
        break;
      }
      case '.999999999': {
        if (rest.length < 2 || rest[0] !== '.' || !isDigit(rest, 1)) break;
        let n = 1;
        while (isDigit(rest, n)) n++;
        nsec = Number(rest.slice(1, Math.min(n, 10)).padEnd(9, '0'));
        rest = rest.slice(n);
        break;
      }
      case 'Z07:00': {
        if (rest[0] === 'Z') {
          rest = rest.slice(1);
          offset = 0;
          break;
        }
        if (rest.length < 6 || rest[3] !== ':') {
          ok = false;
          break;
        }
        const hh = getnum(rest.slice(1, 3), true);
        const mm = getnum(rest.slice(4, 6), true);
        const sign = rest[0];
        rest = rest.slice(6);
        if (!hh || !mm || (sign !== '+' && sign !== '-')) {
          ok = false;
          break;
        }
        if (hh[0] > 24) range = 'time zone offset hour';
        if (mm[0] > 60) range = 'time zone offset minute';
        offset = (hh[0] * 60 + mm[0]) * 60 * (sign === '-' ? -1 : 1);
        break;
      }
    }
    if (range !== '') return outOfRange(range);
    if (!ok) return cannot(std, hold);
  }
  if (day < 1 || day > daysIn(month, year)) return outOfRange('day');
  const naive = Date.UTC(year, month - 1, day, hour, min, sec);
  // NOTE: Date.UTC maps years 0–99 to 1900–1999; Go does not. setUTCFullYear undoes that.
  const fixed = year < 100 ? new Date(naive).setUTCFullYear(year) : naive;
  const secs = BigInt(fixed / 1000) - BigInt(offset ?? defaultOffset);
  return secs * NS_PER_SEC + BigInt(nsec);
}
