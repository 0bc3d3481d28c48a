/**
 * Parser directives: `# syntax=...`, `# escape=...` and `# check=...` comments at the very top of
 * a Dockerfile. They end at the first line that is not such a comment (an empty line, an
 * instruction, any other comment or an unknown directive), as BuildKit's DirectiveParser does.
 *
 * @see https://docs.docker.com/reference/dockerfile/#parser-directives
 */

/** One parser directive as written (name lower-cased). */
export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  /** 1-based line number. */
  line: number;
}

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN = new Set(['syntax', 'escape', 'check']);

/** Reads directives one line at a time; stops for good at the first non-directive line. */
export class DirectiveParser {
  private done = false;
  private readonly seen = new Set<string>();

  /** Returns the directive on `line` (without its line ending), or undefined. Throws on a repeat. */
  parseLine(line: string, lineNumber: number): Directive | undefined {
    if (this.done) return undefined;
    if (!line.startsWith('#')) {
      this.done = true;
      return undefined;
    }
    const m = DIRECTIVE.exec(line.slice(1).replace(/^\s+/, ''));
    const name = m?.[1]?.toLowerCase();
    if (!m || name === undefined || !KNOWN.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new Error(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    return { name: name as Directive['name'], value: m[2] as string, line: lineNumber };
  }
}
