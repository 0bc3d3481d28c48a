/**
 * A port of the parts of Go's fmt package that templates reach: how `{{.X}}` prints a value
 * (`%v`), and `print`, `println` and `printf` with the common verbs, flags, widths and
 * precisions, including Go's `%!verb(type=value)` complaints.
 */
import { formatFloat, formatGoTime, goQuote } from './go-strconv.js';
import { goTypeName, kindOf, mapEntries, stringer, structFields } from './go-values.js';

/** Parsed flags, width and precision of one printf directive. */
interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

const NO_SPEC: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined };

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Pads `s` to the spec's width with spaces (or zeros when asked), counting runes like Go. */
function pad(s: string, spec: Spec, zeroOk = false): string {
  if (spec.width === undefined) return s;
  const n = spec.width - runeCount(s);
  if (n <= 0) return s;
  if (spec.minus) return s + ' '.repeat(n);
  return (spec.zero && zeroOk ? '0' : ' ').repeat(n) + s;
}

/** Pads a signed number, putting zero padding after the sign. */
function padNumber(sign: string, digits: string, spec: Spec, zeroOk: boolean): string {
  if (spec.zero && zeroOk && !spec.minus && spec.width !== undefined) {
    const n = spec.width - sign.length - digits.length;
    return sign + (n > 0 ? '0'.repeat(n) : '') + digits;
  }
  return pad(sign + digits, spec);
}

/** Prints any value the way `fmt.Sprint` (verb `%v`) does. */
export function formatValue(v: unknown): string {
  return formatArg(v, 'v', NO_SPEC, 0);
}

function formatInt(v: number | bigint, verb: string, spec: Spec): string {
  const big = typeof v === 'bigint' ? v : BigInt(v);
  const neg = big < 0n;
  const abs = neg ? -big : big;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'b':
      digits = abs.toString(2);
      if (spec.sharp) prefix = '0b';
      break;
    case 'o':
    case 'O':
      digits = abs.toString(8);
      if (verb === 'O') prefix = '0o';
      else if (spec.sharp && digits !== '0') prefix = '0';
      break;
    case 'x':
    case 'X':
      digits = abs.toString(16);
      if (verb === 'X') digits = digits.toUpperCase();
      if (spec.sharp) prefix = verb === 'x' ? '0x' : '0X';
      break;
    default:
      digits = abs.toString(10);
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && abs === 0n) digits = '';
    else digits = digits.padStart(spec.prec, '0');
  }
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return padNumber(sign + prefix, digits, spec, spec.prec === undefined);
}

function formatFloatVerb(v: number, verb: string, spec: Spec): string {
  const fmt = verb === 'v' ? 'g' : verb === 'F' ? 'f' : (verb as 'e' | 'E' | 'f' | 'g' | 'G');
  const prec = spec.prec ?? (fmt === 'g' || fmt === 'G' ? -1 : 6);
  let num = formatFloat(v, fmt, prec);
  let sign = '';
  if (num.startsWith('-') || num.startsWith('+')) {
    sign = num[0] as string;
    num = num.slice(1);
  }
  if (num === 'Inf' || num === 'NaN') {
    if (num === 'NaN' && !spec.plus && !spec.space) sign = '';
    else if (sign === '+' && !spec.plus) sign = spec.space ? ' ' : sign;
    return pad(sign + num, { ...spec, zero: false });
  }
  if (sign === '' && spec.plus) sign = '+';
  else if (sign === '' && spec.space) sign = ' ';
  return padNumber(sign, num, spec, true);
}

/** True when `s` has a control character other than tab (Go's strconv.CanBackquote fails). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x7f) return true;
  }
  return false;
}

function formatString(s: string, verb: string, spec: Spec): string {
  if (spec.prec !== undefined && (verb === 's' || verb === 'v' || verb === 'q')) {
    s = Array.from(s).slice(0, spec.prec).join('');
  }
  switch (verb) {
    case 'q':
      return pad(spec.sharp && !s.includes('`') && !hasControl(s) ? '`' + s + '`' : goQuote(s), spec);
    case 'x':
    case 'X': {
      const hex = Buffer.from(s, 'utf8').toString('hex');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec);
    }
    default:
      return pad(s, spec);
  }
}

function badVerb(v: unknown, verb: string, depth: number): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatArg(v, 'v', NO_SPEC, depth + 1)})`;
}

/** Formats one operand for one verb, recursing into slices, maps and structs like Go's printValue. */
function formatArg(v: unknown, verb: string, spec: Spec, depth: number): string {
  if (verb === 'T') return pad(goTypeName(v), spec);
  const kind = kindOf(v);
  if (kind === 'invalid' || kind === 'nil') return verb === 'v' ? pad('<nil>', spec) : badVerb(v, verb, depth);
  switch (kind) {
    case 'bool':
      return verb === 'v' || verb === 't' ? pad(String(v), spec) : badVerb(v, verb, depth);
    case 'int':
      if ('vdboOxX'.includes(verb)) return formatInt(v as number | bigint, verb === 'v' ? 'd' : verb, spec);
      if (verb === 'c') return pad(String.fromCodePoint(Number(v)), spec);
      if (verb === 'q') return pad(goQuote(String.fromCodePoint(Number(v)), "'"), spec);
      if (verb === 'U') return pad('U+' + Number(v).toString(16).toUpperCase().padStart(4, '0'), spec);
      // A JavaScript number may have been a Go float that happens to be integral.
      if ('eEfFgG'.includes(verb)) return formatFloatVerb(Number(v), verb, spec);
      return badVerb(v, verb, depth);
    case 'float':
      return 'veEfFgG'.includes(verb) ? formatFloatVerb(v as number, verb, spec) : badVerb(v, verb, depth);
    case 'string':
      return 'vsqxX'.includes(verb) ? formatString(v as string, verb, spec) : badVerb(v, verb, depth);
    case 'time':
      return 'vsq'.includes(verb) ? formatString(formatGoTime(v as Date), verb, spec) : badVerb(v, verb, depth);
    case 'func':
      return verb === 'v' || verb === 'p' ? pad('0x0', spec) : badVerb(v, verb, depth);
    default:
      break;
  }
  if (depth > 20) return '<...>';
  if (kind === 'slice') {
    return '[' + (v as unknown[]).map((x) => formatArg(x, verb, spec, depth + 1)).join(' ') + ']';
  }
  if (kind === 'map') {
    const parts = mapEntries(v as object).map(
      ([k, x]) => `${formatArg(k, verb, spec, depth + 1)}:${formatArg(x, verb, spec, depth + 1)}`,
    );
    return 'map[' + parts.join(' ') + ']';
  }
  const str = 'vsqxX'.includes(verb) ? stringer(v as object) : undefined;
  if (str) return formatArg(String(str()), verb, spec, depth + 1);
  if (v instanceof Error && 'vsqxX'.includes(verb)) return formatArg(v.message, verb, spec, depth + 1);
  const fields = structFields(v as object).map(
    ([k, x]) => (spec.plus && verb === 'v' ? k + ':' : '') + formatArg(x, verb, spec, depth + 1),
  );
  return '{' + fields.join(' ') + '}';
}

/** Go's `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(arg);
  });
  return out;
}

/** Go's `fmt.Sprintln`: operands printed with `%v`, separated by spaces, then a newline. */
export function sprintln(args: unknown[]): string {
  return args.map(formatValue).join(' ') + '\n';
}

/** Go's `fmt.Sprintf` for the verbs v s d q t x X o O b c U e E f F g G T and %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let i = 0;
  const end = format.length;
  const intArg = (): number | undefined => {
    const a = args[argNum++];
    return typeof a === 'number' && Number.isInteger(a) ? a : undefined;
  };
  while (i < end) {
    const next = format.indexOf('%', i);
    if (next < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, next);
    i = next + 1;
    const spec: Spec = { ...NO_SPEC };
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') spec.sharp = true;
      else if (c === '0') spec.zero = true;
      else if (c === '+') spec.plus = true;
      else if (c === '-') spec.minus = true;
      else if (c === ' ') spec.space = true;
      else break;
    }
    if (format[i] === '*') {
      i++;
      spec.width = intArg();
      if (spec.width === undefined) out += '%!(BADWIDTH)';
      else if (spec.width < 0) {
        spec.minus = true;
        spec.width = -spec.width;
      }
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        spec.width = Number(m[0]);
        i += m[0].length;
      }
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        spec.prec = intArg();
        if (spec.prec === undefined || spec.prec < 0) {
          if (spec.prec === undefined) out += '%!(BADPREC)';
          spec.prec = undefined;
        }
      } else {
        const m = /^\d*/.exec(format.slice(i)) as RegExpExecArray;
        spec.prec = m[0] === '' ? 0 : Number(m[0]);
        i += m[0].length;
      }
    }
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (verb === '%') out += '%';
    else if (argNum >= args.length) out += `%!${verb}(MISSING)`;
    else out += formatArg(args[argNum++], verb, spec, 0);
  }
  if (argNum < args.length) {
    const extra = args.slice(argNum).map((a) => (a == null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
