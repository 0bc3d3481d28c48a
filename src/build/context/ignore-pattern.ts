/**
 * One `.dockerignore` pattern, compiled the way moby/patternmatcher compiles it, so that a
 * context gantry sends holds exactly the files Docker's would.
 * https://docs.docker.com/build/concepts/context/#dockerignore-files
 *
 * Syntax (Go's `filepath.Match`, extended): `*` any run of characters but `/`, `?` one
 * character but `/`, `[a-z]` / `[^a-z]` a character class, `\x` the character x, and `**`
 * any number of directories (zero included). The pattern is trimmed and cleaned like Go's
 * `path.Clean` (`a//b/../c/` is `a/c`), a leading `/` is dropped and a leading `!` makes it
 * an exception.
 *
 * Like patternmatcher, a pattern is matched one of four ways: `exact` text, `prefix` (`dir/**`),
 * `suffix` (`**` + literal text, which keeps patternmatcher's quirk that `**foo` matches
 * `barfoo`) or a regular expression. Where we differ: patternmatcher hands `[...]` and `\x`
 * to Go's regexp engine unchanged, so `[*]` or `\b` mean odd things and a bad range such as
 * `[z-a]` fails only at match time; here a class holds exactly the characters
 * `filepath.Match` would give it, an escape is always the literal character, and every syntax
 * error is reported when the pattern is compiled.
 */
import { errors } from '../../core/errors.js';

/** How a compiled pattern is tested (patternmatcher's match types). */
export type MatchKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

/**
 * One `/`-separated segment of a pattern, for the question "can this pattern match anything
 * below a directory": a literal name, a single-segment expression (`*`, `?` only), or
 * `opaque` when it may span segments (`**`, or a class, which like Docker's may match `/`).
 */
export interface PatternSegment {
  readonly literal?: string;
  readonly re?: RegExp;
  readonly opaque: boolean;
}

/** A compiled `.dockerignore` line. */
export interface IgnorePattern {
  /** The text after the `!`, cleaned: what patternmatcher calls the cleaned pattern. */
  readonly cleaned: string;
  /** True for a `!` line, which re-includes what it matches. */
  readonly exception: boolean;
  readonly kind: MatchKind;
  readonly segments: readonly PatternSegment[];
  /** True when the pattern itself (not a parent) matches the cleaned relative `path`. */
  test(path: string): boolean;
}

/** Go's `path.Clean`: the shortest path naming the same file, by lexical processing only. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

/** Escapes `text` so that a pattern matches it literally (for paths gantry always sends). */
export function escapePattern(text: string): string {
  return text.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

const syntaxError = (source: string, why: string) =>
  errors.invalid(`invalid .dockerignore pattern ${JSON.stringify(source)}: syntax error in pattern (${why})`, {
    hint: 'fix the line in .dockerignore; write a literal *, ?, [, ] or \\ as \\*, \\?, \\[, \\] or \\\\',
  });

/** A regular-expression atom matching exactly the code point `ch`. */
function lit(ch: string): string {
  return /^[A-Za-z0-9_]$/.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}

/**
 * Compiles one pattern line. Throws INVALID_ARGUMENT for `!` alone or a pattern Go's
 * `filepath.Match` rejects (unclosed or empty class, bad range, trailing `\`). Returns
 * undefined for a blank line.
 */
export function compilePattern(line: string): IgnorePattern | undefined {
  let text = line.trim();
  if (text === '') return undefined;
  let exception = false;
  if (text.startsWith('!')) {
    exception = true;
    text = text.slice(1).trim();
    if (text === '') throw errors.invalid('illegal exclusion pattern: "!"', { hint: 'a "!" line needs a pattern after it' });
  }
  let cleaned = cleanPath(text);
  if (cleaned.length > 1 && cleaned.startsWith('/')) cleaned = cleaned.slice(1);

  const chars = Array.from(cleaned);
  let re = '^';
  let kind: MatchKind = 'exact';
  const segments: PatternSegment[] = [];
  let seg = { text: '', src: '', wild: false, opaque: false };
  const closeSegment = () => {
    segments.push(
      seg.opaque ? { opaque: true } : seg.wild ? { re: new RegExp(`^${seg.src}$`, 'u'), opaque: false } : { literal: seg.text, opaque: false },
    );
    seg = { text: '', src: '', wild: false, opaque: false };
  };
  const addLiteral = (ch: string) => {
    re += lit(ch);
    if (ch === '/') return closeSegment();
    seg.text += ch;
    seg.src += lit(ch);
  };

  let i = 0;
  for (let iteration = 0; i < chars.length; iteration++) {
    const ch = chars[i++]!;
    if (ch === '*' && chars[i] === '*') {
      i++;
      const slash = chars[i] === '/';
      if (slash) i++; // NOTE: "**/" is "**": the slash is part of the optional directory run.
      if (i >= chars.length) {
        if (kind === 'exact') kind = 'prefix';
        else {
          re += '.*';
          kind = 'regexp';
        }
      } else {
        re += '(?:.*/)?';
        kind = 'regexp';
      }
      if (iteration === 0) kind = 'suffix';
      seg.opaque = true;
      if (slash) closeSegment();
    } else if (ch === '*' || ch === '?') {
      const atom = ch === '*' ? '[^/]*' : '[^/]';
      re += atom;
      seg.src += atom;
      seg.wild = true;
      kind = 'regexp';
    } else if (ch === '\\') {
      if (i >= chars.length) throw syntaxError(line, 'trailing backslash');
      addLiteral(chars[i++]!);
      kind = 'regexp';
    } else if (ch === '[') {
      const [cls, next] = parseClass(chars, i, line);
      re += cls;
      i = next;
      seg.opaque = true;
      kind = 'regexp';
    } else {
      addLiteral(ch);
      if (ch === ']') kind = 'regexp';
    }
  }
  closeSegment();

  const regexp = kind === 'regexp' ? new RegExp(`${re}$`, 'u') : undefined;
  const prefix = cleaned.slice(0, -2);
  const suffix = cleaned.slice(2);
  const test = (path: string): boolean => {
    switch (kind) {
      case 'exact':
        return path === cleaned;
      case 'prefix':
        return path.startsWith(prefix);
      case 'suffix':
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      case 'regexp':
        return regexp!.test(path);
    }
  };
  return { cleaned, exception, kind, segments, test };
}

/**
 * Parses a character class whose `[` is just before `chars[start]`, with `filepath.Match`'s
 * grammar: optional `^`, then one or more `c` or `lo-hi` terms (`\` escapes; an unescaped
 * `-` or `]` where a character is expected is an error), then `]`. Returns the JavaScript
 * class and the index after `]`.
 */
function parseClass(chars: string[], start: number, source: string): [string, number] {
  let i = start;
  let out = '[';
  if (chars[i] === '^') {
    out += '^';
    i++;
  }
  const next = (): string => {
    const c = chars[i];
    if (c === undefined) throw syntaxError(source, 'unclosed character class');
    if (c === '-' || c === ']') throw syntaxError(source, `unexpected "${c}" in character class`);
    i++;
    if (c !== '\\') return c;
    const e = chars[i++];
    if (e === undefined) throw syntaxError(source, 'unclosed character class');
    return e;
  };
  for (let terms = 0; ; terms++) {
    if (chars[i] === undefined) throw syntaxError(source, 'unclosed character class');
    if (chars[i] === ']' && terms > 0) return [`${out}]`, i + 1];
    const lo = next();
    let hi = lo;
    if (chars[i] === '-') {
      i++;
      hi = next();
      if (hi.codePointAt(0)! < lo.codePointAt(0)!) throw syntaxError(source, `invalid range ${lo}-${hi}`);
    }
    out += lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`;
  }
}
