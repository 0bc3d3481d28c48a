/**
 * A port of the elastic-tabstop writer Docker formats tables with (docker/cli
 * cli/command/formatter/tabwriter, itself Go's text/tabwriter measuring cells with
 * go-runewidth). Cells are terminated by `\t`; a column is as wide as its widest cell plus
 * padding, at least `minwidth`; the last cell of a line is not a column and is not padded.
 * A line without tabs ends the block of lines whose columns align.
 */

/** Writer settings, as passed to Go's tabwriter.NewWriter. */
export interface TabwriterOptions {
  minwidth: number;
  tabwidth: number;
  padding: number;
  padchar: string;
}

/** Docker's table settings: `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`. */
export const DOCKER_TABWRITER: TabwriterOptions = { minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ' };

/** Terminal width of one code point, like go-runewidth: 0 for combining marks and controls, 2 for wide East Asian and emoji. */
function runeWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0x200b || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (/\p{Mn}|\p{Me}/u.test(String.fromCodePoint(cp))) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** The terminal width of `s` in columns. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Display width of a string (see runeWidth). */
export function stringWidth(s: string): number {
  // Printable ASCII, nearly every cell: one column per character.
  if (PRINTABLE_ASCII.test(s)) return s.length;
  let w = 0;
  for (const ch of s) w += runeWidth(ch.codePointAt(0) as number);
  return w;
}

interface Cell {
  /** Length of the cell's text in `buf` (UTF-16 units). */
  size: number;
  /** Display width of the text. */
  width: number;
  /** Terminated by a tab (as opposed to a line break). */
  htab: boolean;
}

class Writer {
  private buf = '';
  private out = '';
  private cell: Cell = { size: 0, width: 0, htab: false };
  private lines: Cell[][] = [[]];
  private widths: number[] = [];

  constructor(private readonly opts: TabwriterOptions) {}

  private append(text: string): void {
    this.buf += text;
    this.cell.size += text.length;
    this.cell.width += stringWidth(text);
  }

  private terminateCell(htab: boolean): number {
    this.cell.htab = htab;
    const line = this.lines[this.lines.length - 1] as Cell[];
    line.push(this.cell);
    this.cell = { size: 0, width: 0, htab: false };
    return line.length;
  }

  write(text: string): void {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') continue;
      this.append(text.slice(n, i));
      n = i + 1;
      const ncells = this.terminateCell(ch === '\t');
      if (ch === '\n' || ch === '\f') {
        this.lines.push([]);
        if (ch === '\f' || ncells === 1) this.flush();
      }
    }
    this.append(text.slice(n));
  }

  flush(): string {
    if (this.cell.size > 0) this.terminateCell(false);
    this.format(0, 0, this.lines.length);
    this.buf = '';
    this.cell = { size: 0, width: 0, htab: false };
    this.lines = [[]];
    this.widths = [];
    return this.out;
  }

  private writePadding(textw: number, cellw: number): void {
    if (this.opts.padchar === '\t') {
      if (this.opts.tabwidth === 0) return;
      const tw = this.opts.tabwidth;
      cellw = Math.ceil(cellw / tw) * tw;
      this.out += '\t'.repeat(Math.ceil((cellw - textw) / tw));
      return;
    }
    this.out += this.opts.padchar.repeat(Math.max(cellw - textw, 0));
  }

  private writeLines(pos: number, line0: number, line1: number): number {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i] as Cell[];
      line.forEach((c, j) => {
        if (c.size > 0) {
          this.out += this.buf.slice(pos, pos + c.size);
          pos += c.size;
        }
        if (j < this.widths.length) this.writePadding(c.width, this.widths[j] as number);
      });
      if (i + 1 === this.lines.length) {
        this.out += this.buf.slice(pos, pos + this.cell.size);
        pos += this.cell.size;
      } else {
        this.out += '\n';
      }
    }
    return pos;
  }

  private format(pos: number, line0: number, line1: number): number {
    const column = this.widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= (this.lines[t] as Cell[]).length - 1) continue;
      pos = this.writeLines(pos, line0, t);
      line0 = t;
      let width = this.opts.minwidth;
      for (; t < line1; t++) {
        const line = this.lines[t] as Cell[];
        if (column >= line.length - 1) break;
        width = Math.max(width, (line[column] as Cell).width + this.opts.padding);
      }
      this.widths.push(width);
      pos = this.format(pos, line0, t);
      this.widths.pop();
      line0 = t;
    }
    return this.writeLines(pos, line0, line1);
  }
}

/** Aligns tab-separated cells in `text` into columns exactly as Docker's tables are aligned. */
export function tabwrite(text: string, opts: TabwriterOptions = DOCKER_TABWRITER): string {
  const w = new Writer(opts);
  w.write(text);
  return w.flush();
}
