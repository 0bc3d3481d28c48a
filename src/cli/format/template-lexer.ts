/**
 * The scanner for Go text/template syntax (text/template/parse/lex.go, Go 1.22+): text,
 * `{{ }}` actions with `{{-`/`-}}` trim markers, comments, and the tokens inside actions.
 * Errors become an `error` token, after which scanning stops, exactly as Go's lexer does.
 */
import { goQuote } from './go-strconv.js';

/** Kinds of token. `keyword` covers `.`, `nil`, `if`, `else`, `end`, `range`, `with`, … */
export type TokenType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  | 'keyword';

/** One scanned token; `pos` is an index into the source string. */
export interface Token {
  type: TokenType;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(['.', 'block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with']);

/** How Go's parser names a token in "unexpected …" messages. */
export function tokenString(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'error') return t.val;
  if (t.type === 'keyword') return `<${t.val}>`;
  const chars = Array.from(t.val);
  if (chars.length > 10) return goQuote(chars.slice(0, 10).join('')) + '...';
  return goQuote(t.val);
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));
const hasLeftTrimMarker = (s: string): boolean => s.length >= 2 && s[0] === '-' && isSpace(s[1]);
const hasRightTrimMarker = (s: string): boolean => s.length >= 2 && isSpace(s[0]) && s[1] === '-';

/** Go's `%#U` of a character: `U+0078 'x'`. */
function describeRune(c: string | undefined): string {
  if (c === undefined) return 'U+FFFFFFFF';
  const hex = 'U+' + (c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c) ? `${hex} '${c}'` : hex;
}

class Lexer {
  private pos = 0;
  private start = 0;
  private parenDepth = 0;
  readonly tokens: Token[] = [];

  constructor(private readonly input: string) {}

  private lineAt(pos: number): number {
    let n = 1;
    for (let i = this.input.indexOf('\n'); i !== -1 && i < pos; i = this.input.indexOf('\n', i + 1)) n++;
    return n;
  }

  private emit(type: TokenType, val = this.input.slice(this.start, this.pos), pos = this.start): void {
    this.tokens.push({ type, val, pos, line: this.lineAt(pos) });
    this.start = this.pos;
  }

  /** Emits an error token; returns false so callers can `return this.error(...)` to stop. */
  private error(msg: string): false {
    this.tokens.push({ type: 'error', val: msg, pos: this.start, line: this.lineAt(this.start) });
    return false;
  }

  private next(): string | undefined {
    const cp = this.input.codePointAt(this.pos);
    if (cp === undefined) return undefined;
    const c = String.fromCodePoint(cp);
    this.pos += c.length;
    return c;
  }

  private peek(): string | undefined {
    const cp = this.input.codePointAt(this.pos);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private accept(valid: string): boolean {
    const c = this.peek();
    if (c !== undefined && valid.includes(c)) {
      this.pos += c.length;
      return true;
    }
    return false;
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  private atRightDelim(): { delim: boolean; trim: boolean } {
    const rest = this.input.slice(this.pos);
    if (hasRightTrimMarker(rest) && rest.startsWith('}}', 2)) return { delim: true, trim: true };
    return { delim: rest.startsWith('}}'), trim: false };
  }

  private atTerminator(): boolean {
    const c = this.peek();
    if (c === undefined || isSpace(c) || '.,|:)('.includes(c)) return true;
    return this.input.startsWith('}}', this.pos);
  }

  private skipSpaces(): void {
    while (isSpace(this.input[this.pos])) this.pos++;
  }

  run(): Token[] {
    for (;;) {
      const x = this.input.indexOf('{{', this.pos);
      if (x < 0) {
        this.pos = this.input.length;
        if (this.pos > this.start) this.emit('text');
        this.emit('eof');
        return this.tokens;
      }
      const trimLeft = hasLeftTrimMarker(this.input.slice(x + 2));
      let textEnd = x;
      if (trimLeft) while (textEnd > this.start && isSpace(this.input[textEnd - 1])) textEnd--;
      if (textEnd > this.start) this.emit('text', this.input.slice(this.start, textEnd));
      this.pos = x + 2;
      this.start = x;
      const afterMarker = trimLeft ? 2 : 0;
      if (this.input.startsWith('/*', this.pos + afterMarker)) {
        this.pos += afterMarker;
        this.start = this.pos;
        if (!this.lexComment()) return this.tokens;
        continue;
      }
      this.emit('leftDelim', '{{', x);
      this.pos += afterMarker;
      this.start = this.pos;
      this.parenDepth = 0;
      if (!this.lexInsideAction()) return this.tokens;
    }
  }

  private lexComment(): boolean {
    this.pos += 2;
    const x = this.input.indexOf('*/', this.pos);
    if (x < 0) return this.error('unclosed comment');
    this.pos = x + 2;
    const { delim, trim } = this.atRightDelim();
    if (!delim) return this.error('comment ends before closing delimiter');
    this.pos += (trim ? 2 : 0) + 2;
    if (trim) this.skipSpaces();
    this.start = this.pos;
    return true;
  }

  private lexRightDelim(trim: boolean): void {
    if (trim) this.pos += 2;
    this.start = this.pos;
    this.pos += 2;
    this.emit('rightDelim');
    if (trim) this.skipSpaces();
    this.start = this.pos;
  }

  /** Scans inside an action up to and including its right delimiter; false after an error. */
  private lexInsideAction(): boolean {
    for (;;) {
      const { delim, trim } = this.atRightDelim();
      if (delim) {
        if (this.parenDepth === 0) {
          this.lexRightDelim(trim);
          return true;
        }
        return this.error('unclosed left paren');
      }
      const c = this.next();
      if (c === undefined) return this.error('unclosed action');
      if (isSpace(c)) {
        this.pos--;
        if (this.lexSpace()) continue;
        return true;
      }
      let ok = true;
      if (c === '=') this.emit('assign');
      else if (c === ':') {
        if (this.next() !== '=') return this.error('expected :=');
        this.emit('declare');
      } else if (c === '|') this.emit('pipe');
      else if (c === '"') ok = this.lexQuote('"', 'string', 'unterminated quoted string');
      else if (c === "'") ok = this.lexQuote("'", 'charConstant', 'unterminated character constant');
      else if (c === '`') ok = this.lexRawQuote();
      else if (c === '$') ok = this.lexFieldOrVariable('variable');
      else if (c === '.' && this.pos < this.input.length && !/[0-9]/.test(this.input[this.pos] as string)) ok = this.lexFieldOrVariable('field');
      else if (c === '.' || c === '+' || c === '-' || /[0-9]/.test(c)) {
        this.pos--;
        ok = this.lexNumber();
      } else if (isAlphaNumeric(c)) {
        this.pos -= c.length;
        ok = this.lexIdentifier();
      } else if (c === '(') {
        this.emit('leftParen');
        this.parenDepth++;
      } else if (c === ')') {
        this.emit('rightParen');
        this.parenDepth--;
        if (this.parenDepth < 0) return this.error('unexpected right paren');
      } else if (c.length === 1 && c >= ' ' && c <= '~') this.emit('char');
      else return this.error(`unrecognized character in action: ${describeRune(c)}`);
      if (!ok) return false;
    }
  }

  /** Scans a run of spaces; returns false when it ran straight into a trim-marked right delimiter. */
  private lexSpace(): boolean {
    let n = 0;
    while (isSpace(this.peek())) {
      this.pos++;
      n++;
    }
    const rest = this.input.slice(this.pos - 1);
    if (hasRightTrimMarker(rest) && rest.startsWith('}}', 2)) {
      this.pos--;
      if (n === 1) {
        this.lexRightDelim(true);
        return false;
      }
    }
    this.emit('space');
    return true;
  }

  private lexIdentifier(): boolean {
    while (isAlphaNumeric(this.peek())) this.next();
    if (!this.atTerminator()) return this.error(`bad character ${describeRune(this.peek())}`);
    const word = this.input.slice(this.start, this.pos);
    if (KEYWORDS.has(word)) this.emit('keyword');
    else if (word === 'true' || word === 'false') this.emit('bool');
    else this.emit('identifier');
    return true;
  }

  private lexFieldOrVariable(type: 'field' | 'variable'): boolean {
    if (this.atTerminator()) {
      if (type === 'variable') this.emit('variable');
      else this.emit('keyword');
      return true;
    }
    while (isAlphaNumeric(this.peek())) this.next();
    if (!this.atTerminator()) return this.error(`bad character ${describeRune(this.peek())}`);
    this.emit(type);
    return true;
  }

  private lexQuote(quote: string, type: TokenType, unterminated: string): boolean {
    for (;;) {
      const c = this.next();
      if (c === '\\') {
        const r = this.next();
        if (r !== undefined && r !== '\n') continue;
        return this.error(unterminated);
      }
      if (c === undefined || c === '\n') return this.error(unterminated);
      if (c === quote) break;
    }
    this.emit(type);
    return true;
  }

  private lexRawQuote(): boolean {
    const end = this.input.indexOf('`', this.pos);
    if (end < 0) return this.error('unterminated raw quoted string');
    this.pos = end + 1;
    this.emit('rawString');
    return true;
  }

  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }

  private lexNumber(): boolean {
    if (!this.scanNumber()) return this.error(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
    const sign = this.peek();
    if (sign === '+' || sign === '-') {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') {
        return this.error(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
      }
      this.emit('complex');
    } else this.emit('number');
    return true;
  }
}

/** Scans a whole template source into tokens, ending with an `eof` or `error` token. */
export function lex(input: string): Token[] {
  return new Lexer(input).run();
}
