/**
 * Ports of the bits of Go's strconv and time packages that Docker's output depends on:
 * float formatting with Go's exact rounding (`%e`, `%f`, `%g`, shortest), `strconv.Quote`,
 * and the `time.Time` text forms.
 */

/** A non-negative decimal 0.d₁d₂…dₙ × 10^dp with no trailing zeros in `d` (Go's strconv decimal). */
interface Decimal {
  d: string;
  dp: number;
}

/** The exact decimal expansion of the finite, non-negative double `x`. */
function exactDecimal(x: number): Decimal {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = -1074;
  if (expBits !== 0) {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  if (mant === 0n) return { d: '', dp: 0 };
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  return { d: digits.replace(/0+$/, ''), dp };
}

/** The shortest decimal that reads back as `x` (what Go uses for precision -1). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [mant = '', exp = '0'] = x.toExponential().split('e');
  const d = mant.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exp) + 1 };
}

/** Rounds `dec` to `nd` digits, half to even on exact ties (Go's decimal.Round). */
function roundDecimal(dec: Decimal, nd: number): Decimal {
  const { d, dp } = dec;
  if (nd < 0 || nd >= d.length) return dec;
  const c = d[nd] as string;
  const up = c === '5' && nd + 1 === d.length ? nd > 0 && Number(d[nd - 1]) % 2 === 1 : c >= '5';
  if (!up) return { d: d.slice(0, nd).replace(/0+$/, ''), dp };
  for (let i = nd - 1; i >= 0; i--) {
    if (d[i] !== '9') return { d: d.slice(0, i) + String(Number(d[i]) + 1), dp };
  }
  return { d: '1', dp: dp + 1 };
}

function fmtE(dec: Decimal, prec: number, upper: boolean): string {
  let s = dec.d[0] ?? '0';
  if (prec > 0) s += '.' + dec.d.slice(1, prec + 1).padEnd(prec, '0');
  const exp = dec.d.length === 0 ? 0 : dec.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${upper ? 'E' : 'e'}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(dec: Decimal, prec: number): string {
  const { d, dp } = dec;
  let s = dp > 0 ? d.slice(0, dp).padEnd(dp, '0') : '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = dp + i - 1;
      s += j >= 0 && j < d.length ? d[j] : '0';
    }
  }
  return s;
}

/**
 * Go's `strconv.FormatFloat(x, fmt, prec, 64)` for fmt `e`, `E`, `f`, `g`, `G`; `prec < 0`
 * means the shortest representation that reads back exactly.
 */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const shortest = prec < 0;
  const lower = fmt.toLowerCase() as 'e' | 'f' | 'g';
  let dec: Decimal;
  if (shortest) {
    dec = shortestDecimal(abs);
    prec = lower === 'e' ? dec.d.length - 1 : lower === 'f' ? Math.max(dec.d.length - dec.dp, 0) : dec.d.length;
  } else {
    dec = exactDecimal(abs);
    if (lower === 'g' && prec === 0) prec = 1;
    dec = roundDecimal(dec, lower === 'e' ? prec + 1 : lower === 'f' ? dec.dp + prec : prec);
  }
  let out: string;
  if (lower === 'e') out = fmtE(dec, prec, fmt === 'E');
  else if (lower === 'f') out = fmtF(dec, prec);
  else {
    let eprec = prec;
    if (eprec > dec.d.length && dec.d.length >= dec.dp) eprec = dec.d.length;
    if (shortest) eprec = 6;
    const exp = dec.dp - 1;
    if (exp < -4 || exp >= eprec) {
      out = fmtE(dec, Math.min(prec, dec.d.length) - 1, fmt === 'G');
    } else {
      out = fmtF(dec, Math.max((prec > dec.dp ? dec.d.length : prec) - dec.dp, 0));
    }
  }
  return neg ? '-' + out : out;
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isGoPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

const SHORT_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
};

/** Go's `strconv.Quote` (and `%q` of a string): a double-quoted Go string literal. */
export function goQuote(s: string, quote = '"'): string {
  let out = quote;
  for (const ch of s) {
    if (ch === quote) out += '\\' + ch;
    else if (SHORT_ESCAPES[ch] !== undefined) out += SHORT_ESCAPES[ch];
    else if (isGoPrintable(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0) as number;
      if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
      else if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
      else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    }
  }
  return out + quote;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Date and clock fields of `date` in UTC, plus the fractional second without trailing zeros. */
function utcParts(date: Date): { day: string; clock: string; frac: string } {
  const year = date.getUTCFullYear();
  const y = year < 0 ? '-' + String(-year).padStart(4, '0') : String(year).padStart(4, '0');
  const ms = date.getUTCMilliseconds();
  return {
    day: `${y}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}`,
    clock: `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}`,
    frac: ms === 0 ? '' : '.' + String(ms).padStart(3, '0').replace(/0+$/, ''),
  };
}

/**
 * Go's `time.Time.String()` for a UTC time, as `docker images`/`docker ps` print `{{.CreatedAt}}`:
 * `2024-01-02 15:04:05 +0000 UTC` (fractional seconds only when non-zero).
 */
export function formatGoTime(date: Date): string {
  const { day, clock, frac } = utcParts(date);
  return `${day} ${clock}${frac} +0000 UTC`;
}

/** Go's `time.RFC3339Nano` layout in UTC (`2024-01-02T15:04:05.5Z`), as `encoding/json` writes a time. */
export function formatRFC3339Nano(date: Date): string {
  const { day, clock, frac } = utcParts(date);
  return `${day}T${clock}${frac}Z`;
}
