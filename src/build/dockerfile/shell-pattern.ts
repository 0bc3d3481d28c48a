/**
 * Shell wildcard patterns of `${VAR#pattern}`, `${VAR%pattern}` and `${VAR/pattern/repl}`,
 * converted to regular expressions the way BuildKit does: `*` is any string, `?` one character,
 * `\` escapes `*`, `?` or `\`; bracket expressions are not supported (matched literally).
 *
 * @see https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_18_13
 */

/** Characters that are literal in a pattern but special in a regular expression. */
const REGEXP_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/**
 * Returns the regular expression for `pattern`. `greedy` makes `*` match the longest string,
 * `anchored` matches only at the start. Throws on an invalid escape (`\x`, or `\` at the end).
 */
export function shellPatternRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') out += greedy ? '.*' : '.*?';
    else if (c === '?') out += '.';
    else if (c === '\\') {
      const next = chars[i + 1];
      // } and / must be escaped inside ${}, but the escape is not part of the pattern.
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') throw new Error(`invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
      i++;
    } else if (REGEXP_SPECIAL.has(c)) out += '\\' + c;
    else out += c;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}
