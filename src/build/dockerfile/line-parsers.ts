/**
 * How each instruction's text after the keyword and flags becomes a list of arguments, before
 * any variable expansion (BuildKit's parser/line_parsers.go and split_command.go). Quotes are
 * kept here; they are removed later by the shell lexer when the argument is expanded.
 */

/** White space that separates words in whitespace-delimited forms (not \n: lines are joined). */
const WHITESPACE = /[\t\v\f\r ]+/;
const isSpace = (ch: string): boolean => /^\p{White_Space}$/u.test(ch);

/** The arguments of one instruction and whether they came from a JSON array. */
export interface ParsedArgs {
  args: string[];
  json: boolean;
}

/** Splits a logical line into keyword, `--flags` and the remaining text. */
export function splitCommand(line: string, escapeToken: string): { keyword: string; flags: string[]; rest: string } {
  const trimmed = line.trim();
  const m = WHITESPACE.exec(trimmed);
  if (!m) return { keyword: trimmed, flags: [], rest: '' };
  const keyword = trimmed.slice(0, m.index);
  const { rest, flags } = extractFlags(trimmed.slice(m.index + m[0].length), escapeToken);
  return { keyword, flags, rest: rest.trim() };
}

/**
 * Takes the leading `--name[=value]` words off `line`. Flags may be quoted and use the escape
 * token; a bare `--` ends them. Returns the flags without quotes and the untouched rest.
 */
export function extractFlags(line: string, escapeToken: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && isSpace(line[pos] as string)) pos++;
    if (pos >= line.length) return { rest: '', flags };
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), flags };
    let word = '';
    let quote = '';
    let blankOk = false;
    for (; pos < line.length; pos++) {
      let ch = line[pos] as string;
      if (quote) {
        if (ch === quote) {
          quote = '';
          continue;
        }
      } else {
        if (isSpace(ch)) break;
        if (ch === "'" || ch === '"') {
          quote = ch;
          blankOk = true;
          continue;
        }
      }
      if (ch === escapeToken) {
        if (pos + 1 === line.length) {
          quote = '';
          continue;
        }
        ch = line[++pos] as string;
      }
      word += ch;
    }
    if (word === '--') return { rest: pos >= line.length ? '' : line.slice(pos), flags };
    if (blankOk || word.length > 0) flags.push(word);
  }
}

/**
 * Splits on white space but keeps quoted strings and escaped characters (with their quotes and
 * escapes) inside one word; used for ENV, LABEL and ARG.
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  const flush = (): void => {
    if (blankOk || word.length > 0) words.push(word);
    word = '';
    blankOk = false;
    inWord = false;
  };
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i] as string;
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (!quote) {
      if (isSpace(ch)) {
        flush();
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      } else if (ch === escapeToken) {
        if (i + 1 === chars.length) continue; // an escape at the very end is dropped
        word += ch;
        ch = chars[++i] as string;
      }
      word += ch;
      continue;
    }
    const closes = ch === quote;
    // Inside double quotes the escape token keeps the next character (even a quote) in place.
    if (ch === escapeToken && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      word += ch;
      ch = chars[++i] as string;
    } else if (closes) quote = '';
    word += ch;
  }
  if (inWord) flush();
  return words;
}

/** `ENV a=b c=d` or legacy `ENV a b c` into [key, value, separator] triples. */
export function parseNameVal(rest: string, keyword: string, escapeToken: string): string[] {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return [];
  if (!(words[0] as string).includes('=')) {
    const m = WHITESPACE.exec(rest);
    if (!m) throw new Error(`${keyword} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    out.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return out;
}

/** Go's %q for the common (printable) case. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Whitespace-separated words, without quote handling (FROM, EXPOSE, non-JSON COPY/ADD/VOLUME). */
export function parseWhitespaceDelimited(rest: string): string[] {
  return rest === '' ? [] : rest.split(WHITESPACE);
}

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** The JSON array form, or undefined when `rest` is not valid JSON (shell form then applies). */
export function parseJSON(rest: string): string[] | undefined {
  const text = rest.replace(/^\p{White_Space}+/u, '');
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) throw new Error(NOT_STRINGS);
  return value;
}

/** JSON array or the whole text as one argument (RUN, CMD, ENTRYPOINT, SHELL). */
export function parseMaybeJSON(rest: string): ParsedArgs {
  if (rest === '') return { args: [], json: false };
  const json = parseJSON(rest);
  return json ? { args: json, json: true } : { args: [rest], json: false };
}

/** JSON array or whitespace-separated words (ADD, COPY, VOLUME). */
export function parseMaybeJSONToList(rest: string): ParsedArgs {
  const json = parseJSON(rest);
  return json ? { args: json, json: true } : { args: parseWhitespaceDelimited(rest), json: false };
}

/** `HEALTHCHECK CMD ...` / `HEALTHCHECK NONE`: the type word, then the command. */
export function parseHealthConfig(rest: string): ParsedArgs {
  const m = /^(\S+)\s*/u.exec(rest);
  if (!m) return { args: [], json: false };
  const cmd = parseMaybeJSON(rest.slice(m[0].length));
  return { args: [m[1] as string, ...cmd.args], json: cmd.json };
}
