/**
 * Here-documents in RUN, COPY and ADD (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`), found the way
 * BuildKit finds them: the line is split into shell words and each word that looks like `<<NAME`
 * starts a here-document, read in order from the following lines.
 *
 * @see https://docs.docker.com/reference/dockerfile/#here-documents
 */
import { processWord } from './shell-lexer.js';

/** One here-document attached to an instruction. */
export interface Heredoc {
  /** The delimiter word, quotes removed. */
  name: string;
  /** The file descriptor written before `<<` (0 when none). */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the content is then not expanded. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the content (and the terminator line). */
  chomp: boolean;
  /** The lines between the instruction and the terminator, each with its line ending. */
  content: string;
}

const HEREDOC = /^(\d*)<<(-?)\s*([^<]*)$/;
const NO_ENV = new Map<string, string>();

/** Parses one word such as `<<-"EOF"`; undefined when it is not a here-document. */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC.exec(word);
  if (!m || m[3] === '') return undefined;
  const rest = m[3] as string;
  const words = processWord(rest, NO_ENV, { skipUnsetEnv: true }).words;
  if (words.length !== 1) return undefined;
  const raw = processWord(rest, NO_ENV, { skipUnsetEnv: true, rawQuotes: true }).words;
  if (raw.length !== 1) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string): number => s.replace(/[^'"]/g, '').length;
  const name = words[0] as string;
  return { name, fileDescriptor: Number(m[1] || '0'), chomp: m[2] === '-', expand: quotes(name) === quotes(raw[0] as string) };
}

/** The here-documents a logical line opens, in order (quotes and escapes kept while splitting). */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = processWord(line, NO_ENV, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    return []; // BuildKit ignores lexing errors here: such a line opens no here-document
  }
  return words.flatMap((w) => parseHeredoc(w) ?? []);
}

/** Removes leading tabs from every line (the `<<-` form). */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}
