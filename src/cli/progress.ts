/**
 * Rendering progress events: on a terminal one live line per item (as Docker draws layer
 * progress), elsewhere nothing but the results the command prints.
 */
import type { ProgressEvent } from '../core/op-context.js';
import { humanSize } from './format/units.js';

/** Returns a progress sink for stream `out` (undefined when `quiet` or not a terminal). */
export function progressRenderer(out: NodeJS.WriteStream, quiet = false): ((e: ProgressEvent) => void) | undefined {
  if (quiet || !out.isTTY) return undefined;
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
      out.write(`${e.text}\n`);
      return;
    }
    const label = `${e.id}: ${e.action}`;
    if (e.kind === 'done') draw(e.id, `${e.id}: ${e.action === 'Loading layer' ? 'Loaded' : 'Done'}`);
    else draw(e.id, e.total ? `${label} ${humanSize(e.current ?? 0)}/${humanSize(e.total)}` : label);
  };
}
