/**
 * Rendering progress events. On a terminal: one live line per item (a layer), redrawn in
 * place with a bar and byte counts, as Docker draws pulls and pushes. On a pipe (or with
 * `--progress plain`): with `plain`, one line each time an item changes step, never the byte
 * counts; without it, nothing but the results the command prints.
 */
import type { ProgressEvent } from '../core/op-context.js';
import { humanSize } from './format/units.js';

/** How progress is shown. */
export interface ProgressStyle {
  /** Print nothing. */
  quiet?: boolean;
  /** On a pipe, print step changes as plain lines (pull, push); else stay silent there (load). */
  plain?: boolean;
  /** Force plain lines even on a terminal (`--progress plain`). */
  forcePlain?: boolean;
}

const BAR_WIDTH = 50;

/** Returns a progress sink for stream `out`, or undefined when nothing is to be shown. */
export function progressRenderer(out: NodeJS.WriteStream, style: ProgressStyle = {}): ((e: ProgressEvent) => void) | undefined {
  if (style.quiet) return undefined;
  if (!out.isTTY || style.forcePlain) return style.plain ? plainRenderer(out) : undefined;
  const lines: string[] = [];
  const draw = (id: string, line: string) => {
    const i = lines.indexOf(id);
    if (i < 0) {
      lines.push(id);
      out.write(`${line}\n`);
      return;
    }
    // Move up to the item's line, rewrite it, move back down.
    const up = lines.length - i;
    out.write(`\x1b[${up}A\r\x1b[2K${line}\x1b[${up}B\r`);
  };
  return (e) => {
    if (e.kind === 'message') {
      // A line no item owns: counted, so moving up to an item's line stays right.
      lines.push(`\n${lines.length}`);
      out.write(`${e.text}\n`);
      return;
    }
    if (e.kind === 'done') {
      draw(e.id, `${e.id}: ${doneText(e.action)}`);
      return;
    }
    draw(e.id, e.total ? `${e.id}: ${e.action} ${bar(e.current ?? 0, e.total)} ${humanSize(e.current ?? 0)}/${humanSize(e.total)}` : `${e.id}: ${e.action}`);
  };
}

function plainRenderer(out: NodeJS.WriteStream): (e: ProgressEvent) => void {
  const last = new Map<string, string>();
  return (e) => {
    if (e.kind === 'message') {
      out.write(`${e.text}\n`);
      return;
    }
    const text = e.kind === 'done' ? doneText(e.action) : e.action;
    if (last.get(e.id) === text) return;
    last.set(e.id, text);
    out.write(`${e.id}: ${text}\n`);
  };
}

function doneText(action: string): string {
  return action === 'Loading layer' ? 'Loaded' : action;
}

function bar(current: number, total: number): string {
  const filled = Math.min(BAR_WIDTH, Math.floor((current / total) * BAR_WIDTH));
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(BAR_WIDTH - filled)}]`;
}
