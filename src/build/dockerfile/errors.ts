/**
 * Errors of the Dockerfile parser: BuildKit's messages, prefixed with the file and line
 * (`Dockerfile:3: unknown instruction: RUNN (did you mean RUN?)`), and BuildKit's "did you
 * mean" suggestions by edit distance.
 */
import { errors, type GantryError } from '../../core/errors.js';

const HINT = 'see https://docs.docker.com/reference/dockerfile/';

/** An INVALID_ARGUMENT error located at `file:line` (no line when `line` is 0). */
export function dockerfileError(file: string, line: number, message: string, cause?: unknown): GantryError {
  const where = line > 0 ? `${file}:${line}` : file;
  return errors.invalid(`${where}: ${message}`, { hint: HINT, cause });
}

/** Levenshtein distance between two strings (by code point). */
export function editDistance(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = row;
  }
  return prev[y.length] as number;
}

/**
 * The option closest to `value` within an edit distance of 2, as BuildKit's suggest package picks
 * it; undefined when `value` is itself an option or nothing is close. Options are tried in order,
 * so ties go to the first.
 */
export function suggest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let min = 3;
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return undefined;
    const d = editDistance(v, o);
    if (d < min) {
      min = d;
      best = caseSensitive ? o : matchCase(o, value);
    }
  }
  return best;
}

function matchCase(option: string, original: string): string {
  if (original === original.toLowerCase()) return option.toLowerCase();
  if (original === original.toUpperCase()) return option.toUpperCase();
  return option;
}

/** `message (did you mean X?)` when a suggestion exists. */
export function withSuggestion(message: string, value: string, options: readonly string[], caseSensitive: boolean): string {
  const s = suggest(value, options, caseSensitive);
  return s === undefined ? message : `${message} (did you mean ${s}?)`;
}
