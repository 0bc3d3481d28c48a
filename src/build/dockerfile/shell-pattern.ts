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

/** Go's regexp template expansion (ReplaceAllString) for a pattern without groups. */
export function goTemplate(template: string, match: string): string {
  return template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (all, _x: string, braced?: string, bare?: string) => {
    if (all === '$$') return '$';
    const name = braced ?? bare ?? '';
    return name === '0' ? match : '';
  });
}

/** shellPatternRegExp with BuildKit's "invalid pattern" message. */
export function patternOrThrow(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  try {
    return shellPatternRegExp(pattern, greedy, anchored, global);
  } catch (err) {
    throw new Error(`invalid pattern (${pattern}) in substitution: ${(err as Error).message}`, { cause: err });
  }
}

/** `${V#p}` / `${V##p}`: removes the shortest (longest when greedy) prefix matching `pattern`. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternOrThrow(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverses a pattern but keeps each escape before the character it escapes. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const c = chars[i] as string;
    if (c === '\\' && i !== last) {
      out[last - i - 1] = c;
      out[last - i] = chars[i + 1] as string;
      i += 2;
    } else {
      out[last - i] = c;
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string): string => Array.from(s).reverse().join('');

/** `${V%p}` / `${V%%p}`: removes the shortest (longest when greedy) suffix matching `pattern`. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // NOTE: a regular expression finds leftmost matches only, so the shortest/longest suffix is
  // found as a prefix of the reversed value with the reversed pattern (as BuildKit does).
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}
