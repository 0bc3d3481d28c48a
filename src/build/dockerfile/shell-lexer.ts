/**
 * Word expansion of Dockerfile arguments, the way BuildKit's shell lexer
 * (frontend/dockerfile/shell/lex.go) does it: quotes, the escape token, `$VAR`, `${VAR}` and the
 * `${VAR<modifier>word}` forms, and optional splitting into words.
 *
 * This is not a shell: there is no command substitution, no globbing and no field splitting of
 * unquoted text other than on white space. Instructions that run a shell (shell-form RUN, CMD,
 * ENTRYPOINT) are never expanded here; the shell does it.
 */
import { errors } from '../../core/errors.js';
import { goTemplate, patternOrThrow, trimPrefix, trimSuffix } from './shell-pattern.js';

/** Variables visible to an expansion: a Map or a plain record (undefined = unset). */
export type ExpansionEnv = ReadonlyMap<string, string> | Readonly<Record<string, string | undefined>>;

/** Switches of the lexer; the defaults are what instruction arguments use. */
export interface ShellLexOptions {
  /** The Dockerfile's escape token, `\` (default) or `` ` ``. */
  escapeToken?: string;
  /** Keep quote characters in the result (used to detect quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (used for expanding `RUN --mount` values raw). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to "". */
  skipUnsetEnv?: boolean;
}

/** What one expansion produced, with the variable names it used. */
export interface ExpansionResult {
  /** The expanded text as one word (ProcessWord). */
  result: string;
  /** The expanded text split into words (ProcessWords). */
  words: string[];
  /** Names that were referenced and set. */
  matched: Set<string>;
  /** Names that were referenced but unset. */
  unmatched: Set<string>;
}

const EOF = -1;
const isSpace = (ch: number): boolean => ch !== EOF && /^\p{White_Space}$/u.test(String.fromCodePoint(ch));
const isLetter = (ch: number): boolean => ch !== EOF && /^\p{L}$/u.test(String.fromCodePoint(ch));
const isDigit = (ch: number): boolean => ch !== EOF && /^\p{Nd}$/u.test(String.fromCodePoint(ch));
const cp = (s: string): number => s.codePointAt(0) ?? EOF;

/** POSIX special parameters (`$@ $* $# $? $- $$ $! $0`), which are one character long. */
const SPECIAL_PARAMS = new Set([...'@*#?-$!0'].map(cp));

function lookup(env: ExpansionEnv, name: string): string | undefined {
  if (env instanceof Map) return env.get(name);
  const rec = env as Readonly<Record<string, string | undefined>>;
  return Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined;
}

/** Accumulates characters into words, splitting on unquoted white space. */
class WordSplitter {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: number): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRawChar(ch);
  }
  addRawChar(ch: number): void {
    this.buf += String.fromCodePoint(ch);
    this.inWord = true;
  }
  addString(s: string): void {
    for (const c of s) this.addChar(cp(c));
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** One pass of the lexer over one input; not reusable. */
class ShellWord {
  private readonly chars: number[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    input: string,
    private readonly env: ExpansionEnv,
    private readonly opts: Required<ShellLexOptions>,
  ) {
    this.chars = Array.from(input, cp);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): number {
    return this.pos < this.chars.length ? (this.chars[this.pos] as number) : EOF;
  }
  private next(): number {
    const ch = this.peek();
    if (ch !== EOF) this.pos++;
    return ch;
  }
  private get escape(): number {
    return cp(this.opts.escapeToken);
  }

  /** Reads up to `stop` (consumed) or the end; returns the text and its words. */
  processStopOn(stop: number, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let text = '';
      const words = new WordSplitter();
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { text, words: words.finish() };
        }
        const special = this.special(ch);
        if (special) {
          const piece = special();
          text += piece;
          if (ch === cp('$')) words.addString(piece);
          else words.addRawString(piece);
          continue;
        }
        ch = this.next();
        if (ch === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            text += String.fromCodePoint(ch);
          }
          // The escape token escapes the next character; at the end of input it vanishes.
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else words.addChar(ch);
        text += String.fromCodePoint(ch);
      }
      if (stop !== EOF) {
        throw new Error(`unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
      }
      return { text, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private special(ch: number): (() => string) | undefined {
    if (ch === cp('$')) return () => this.processDollar();
    if (ch === cp('<')) return () => this.processPossibleHeredoc();
    if (!this.opts.skipProcessQuotes) {
      if (ch === cp("'")) return () => this.processSingleQuote();
      if (ch === cp('"')) return () => this.processDoubleQuote();
    }
    return undefined;
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a single quote cannot be escaped inside.
    let out = '';
    const open = this.next();
    if (this.opts.rawQuotes) out += String.fromCodePoint(open);
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new Error('unexpected end of statement while looking for matching single-quote');
      if (ch === cp("'")) {
        if (this.opts.rawQuotes) out += "'";
        return out;
      }
      out += String.fromCodePoint(ch);
    }
  }

  private processDoubleQuote(): string {
    // Literal except $ (expanded) and the escape token, which escapes only " $ and itself.
    let out = '';
    const open = this.next();
    if (this.opts.rawQuotes) out += String.fromCodePoint(open);
    for (;;) {
      const peek = this.peek();
      if (peek === EOF) throw new Error('unexpected end of statement while looking for matching double-quote');
      if (peek === cp('"')) {
        this.next();
        if (this.opts.rawQuotes) out += '"';
        return out;
      }
      if (peek === cp('$')) {
        out += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) out += String.fromCodePoint(ch);
        const after = this.peek();
        if (after === EOF) continue;
        if (after === cp('"') || after === cp('$') || after === this.escape) ch = this.next();
      }
      out += String.fromCodePoint(ch);
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        // Positional parameters: all the digits that follow.
        while (isDigit(this.peek())) name += String.fromCodePoint(this.next());
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return String.fromCodePoint(this.next());
      if (!isLetter(ch) && !isDigit(ch) && ch !== cp('_')) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    const v = lookup(this.env, name);
    (v === undefined ? this.unmatched : this.matched).add(name);
    return v;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== cp('{')) {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new Error("syntax error: missing '}'");
    if (first === cp('{') || first === cp('}') || first === cp(':')) throw new Error('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // NOTE: BuildKit reports "unsupported modifier (\uFFFD)" here; the missing brace is the cause.
    if (ch === EOF) throw new Error("syntax error: missing '}'");
    let mod = ch === EOF ? '' : String.fromCodePoint(ch);
    if (ch === cp('}')) {
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === cp('/')) return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === cp(':')) {
      nullIsUnset = true;
      ch = this.next();
      mod += ch === EOF ? '' : String.fromCodePoint(ch);
    }
    if (!'+-?#%'.includes(ch === EOF ? '' : String.fromCodePoint(ch)) || ch === EOF) {
      throw new Error(`unsupported modifier (${mod}) in substitution`);
    }
    const trims = ch === cp('#') || ch === cp('%');
    if (nullIsUnset && trims) throw new Error(`unsupported modifier (${mod}) in substitution`);
    const word = this.stopOnBrace(trims);
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}${mod}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (String.fromCodePoint(ch)) {
      case '-':
        return unset ? word : (value as string);
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new Error(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new Error(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        // # and % remove the shortest match, ## and %% the longest.
        let pattern = word;
        const greedy = pattern.startsWith(String.fromCodePoint(ch));
        if (greedy) pattern = pattern.slice(1);
        return ch === cp('%') ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
    }
  }

  private stopOnBrace(rawEscapes: boolean): string {
    try {
      return this.processStopOn(cp('}'), rawEscapes).text;
    } catch (err) {
      if (this.peek() === EOF) throw new Error("syntax error: missing '}'", { cause: err });
      throw err;
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === cp('/');
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn(cp('/'), true).text;
    } catch (err) {
      if (this.peek() === EOF) throw new Error("syntax error: missing '/' in ${}", { cause: err });
      throw err;
    }
    const replacement = this.stopOnBrace(true);
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
    const re = patternOrThrow(pattern, true, false, all);
    const subject = value ?? '';
    if (!all) {
      const m = re.exec(subject);
      return m ? subject.slice(0, m.index) + replacement + subject.slice(m.index + m[0].length) : subject;
    }
    // NOTE: Go's ReplaceAllString expands `$name` templates in the replacement; the patterns have
    // no groups, so only `$0` (the match) and `$$` (a dollar) produce text.
    return subject.replace(re, (match) => goTemplate(replacement, match));
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== cp('<')) return '<';
    this.next();
    let space = '';
    while ([' ', '\t', '\r'].map(cp).includes(this.peek())) space += String.fromCodePoint(this.next());
    return '<<' + space;
  }
}

const DEFAULTS: Required<ShellLexOptions> = {
  escapeToken: '\\',
  rawQuotes: false,
  rawEscapes: false,
  skipProcessQuotes: false,
  skipUnsetEnv: false,
};

/**
 * Expands `input` once. Throws INVALID_ARGUMENT worded as BuildKit does
 * (`failed to process "<input>": <reason>`).
 */
export function processWord(input: string, env: ExpansionEnv, options: ShellLexOptions = {}): ExpansionResult {
  const sw = new ShellWord(input, env, { ...DEFAULTS, ...options });
  try {
    const { text, words } = sw.processStopOn(EOF, options.rawEscapes ?? false);
    return { result: text, words, matched: sw.matched, unmatched: sw.unmatched };
  } catch (err) {
    throw errors.invalid(`failed to process ${JSON.stringify(input)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Expands `word` as one word: quotes removed, variables substituted, spaces kept. */
export function expand(word: string, env: ExpansionEnv, options: ShellLexOptions = {}): string {
  return processWord(word, env, options).result;
}

/** Expands `text` and splits it into words on unquoted white space (BuildKit's ProcessWords). */
export function expandWords(text: string, env: ExpansionEnv, options: ShellLexOptions = {}): string[] {
  return processWord(text, env, options).words;
}
