/**
 * Docker's formatter.Ellipsis: shortens a column value to a display width, the last cell
 * being "…". Display width, not characters, so that CJK text lines up in tables the way
 * Docker's does (`search` descriptions, and any column Docker truncates the same way).
 */
import { stringWidth } from './tabwriter.js';

/** `s` cut to at most `max` columns, ending in "…" when it was cut. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const chars = [...s];
  if (max === 1) return chars[0] ?? '';
  // ASCII text: one column per character (Go compares byte and rune counts for this).
  if (chars.every((c) => c.charCodeAt(0) < 0x80)) return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
  if (stringWidth(s) <= max) return s;
  let used = 0;
  for (let i = 0; i < chars.length; i++) {
    used += stringWidth(chars[i] as string);
    // NOTE: as in Go, a first character wider than max-1 leaves the text uncut.
    if (used > max - 1) return i === 0 ? s : `${chars.slice(0, i).join('')}…`;
  }
  return s;
}
