/**
 * Sizes, durations and times written the way Docker writes them: ports of docker/go-units
 * (size.go, duration.go) and Go's `time.Time.String()`.
 */
import { GantryError } from '../../core/errors.js';
import { formatFloat } from './go-strconv.js';

/** Go's time.Time.String() (`{{.CreatedAt}}`) and RFC3339Nano forms, in UTC. */
export { formatGoTime, formatRFC3339Nano } from './go-strconv.js';

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i] as string];
}

/** go-units HumanSizeWithPrecision: decimal units, `precision` significant digits (`%.*g`), e.g. `4.26MB`, `1e+03kB`. */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  const [size, unit] = sizeAndUnit(bytes, 1000, DECIMAL_ABBRS);
  return formatFloat(size, 'g', precision) + unit;
}

/** A size as Docker lists it (`docker images` SIZE): HumanSizeWithPrecision(bytes, 3), e.g. `0B`, `1.5kB`, `4.26MB`. */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 3);
}

/** go-units BytesSize: binary units with 4 significant digits, e.g. `1KiB`, `3.42GiB`. */
export function bytesSize(bytes: number): string {
  const [size, unit] = sizeAndUnit(bytes, 1024, BINARY_ABBRS);
  return formatFloat(size, 'g', 4) + unit;
}

export { humanDuration } from '../../core/human-duration.js';
import { humanDuration } from '../../core/human-duration.js';

/** How long ago `date` was, as Docker's CREATED column prints it: `2 hours ago`. */
export function timeAgo(date: Date, now: Date = new Date()): string {
  return humanDuration(now.getTime() - date.getTime()) + ' ago';
}

const DECIMAL_MAP: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BINARY_MAP: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Go's strconv.ParseFloat for decimal input (hex floats and underscores are not needed here). */
function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const m = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (!m) return undefined;
  if ((m[2] as string).toLowerCase() === 'nan') return NaN;
  return m[1] === '-' ? -Infinity : Infinity;
}

/** Go's int64(float64) conversion: truncates toward zero (and has no negative zero). */
function toInt64(x: number): number {
  return Math.trunc(x) || 0;
}

function invalid(message: string): GantryError {
  return new GantryError('INVALID_ARGUMENT', message);
}

/** go-units parseSize: a number with an optional unit suffix from `map` (b, k, kb, kib, …; case-insensitive). */
function parseSize(sizeStr: string, map: Record<string, number>): number {
  let num: string;
  let sfx: string;
  const space = sizeStr.indexOf(' ');
  if (space >= 0) {
    num = sizeStr.slice(0, space);
    sfx = sizeStr.slice(space + 1);
  } else {
    let sep = -1;
    for (let i = sizeStr.length - 1; i >= 0; i--) {
      if ('0123456789.'.includes(sizeStr[i] as string)) {
        sep = i;
        break;
      }
    }
    if (sep === -1) throw invalid(`invalid size: '${sizeStr}'`);
    num = sizeStr.slice(0, sep + 1);
    sfx = sizeStr.slice(sep + 1);
  }
  let size = parseGoFloat(num);
  if (size === undefined) throw invalid(`strconv.ParseFloat: parsing "${num}": invalid syntax`);
  if (size < 0) throw invalid(`invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return toInt64(size);
  const badSuffix = (): GantryError => invalid(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw badSuffix();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw badSuffix();
    return toInt64(size);
  }
  const mul = map[sfx[0] as string];
  if (mul === undefined) throw badSuffix();
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw badSuffix();
  return toInt64(size);
}

/** go-units FromHumanSize: `"10MB"` → 10000000 (decimal units). Throws GantryError INVALID_ARGUMENT with go-units' message. */
export function parseHumanSize(size: string): number {
  return parseSize(size, DECIMAL_MAP);
}

/** go-units RAMInBytes: `"512m"` → 536870912 (binary units, as `--memory` takes). Throws GantryError INVALID_ARGUMENT. */
export function parseRAMInBytes(size: string): number {
  return parseSize(size, BINARY_MAP);
}
