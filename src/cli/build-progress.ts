/**
 * Build progress as `docker build` (BuildKit) draws it, from the builder's events
 * (core/build-events.ts):
 *
 * - plain (`--progress plain`, and on a pipe): `#N name`, `#N 0.215 output line`, `#N CACHED`,
 *   `#N DONE 0.3s`, `#N ERROR: ...`, a blank line after each vertex; when output of another
 *   vertex comes in between, the `#N name` line is repeated first (as BuildKit's printer does);
 * - tty (`auto` on a terminal): a live view redrawn in place at most every 100 ms —
 *   `[+] Building 1.2s (5/8)` then ` => [2/2] RUN make   0.3s` per vertex, ` => CACHED ...`,
 *   ` => ERROR ...`, and the last lines of a running vertex's output as ` => => # line`;
 * - quiet: nothing.
 * `failureSummary(id)` gives the block BuildKit prints after a failure: the vertex name and the
 * last lines of its output between `------` rules.
 */
import type { BuildEvent } from '../core/build-events.js';

/** `--progress` values. */
export type BuildProgressMode = 'auto' | 'plain' | 'tty' | 'quiet' | 'rawjson';

/** What a renderer gives the build command. */
export interface BuildProgressRenderer {
  sink(e: BuildEvent): void;
  /** Draws the final state and stops the redraw timer. */
  finish(): void;
  /** BuildKit's summary of a failed vertex: its name and last output lines. */
  failureSummary(id: number): string[];
}

interface Vertex {
  id: number;
  name: string;
  started: number;
  completed?: number;
  cached?: boolean;
  error?: string;
  canceled?: boolean;
  /** Output lines with the seconds since the start at which they came. */
  lines: { at: number; text: string }[];
  /** A partial line not yet ended. */
  partial: string;
  partialAt: number;
}

const SUMMARY_LINES = 10;
const TTY_LOG_LINES = 6;

type Out = { write(s: string): unknown; isTTY?: boolean; columns?: number };

/** Makes the renderer for `out` (the build command's stderr). */
export function buildProgressRenderer(out: Out, options: { mode: BuildProgressMode }): BuildProgressRenderer {
  const vertices = new Map<number, Vertex>();
  const warnings: string[] = [];
  const mode = options.mode === 'auto' ? (out.isTTY ? 'tty' : 'plain') : options.mode;
  const secs = (v: Vertex, at: number) => ((at - v.started) / 1000).toFixed(3);

  const record = (e: BuildEvent): Vertex | undefined => {
    if (e.type === 'warning') {
      warnings.push(e.message);
      return undefined;
    }
    if (e.type === 'start') {
      const v: Vertex = { id: e.id, name: e.name, started: e.at, lines: [], partial: '', partialAt: e.at };
      vertices.set(e.id, v);
      return v;
    }
    const v = vertices.get(e.id);
    if (!v) return undefined;
    if (e.type === 'cached') {
      v.cached = true;
      v.completed = e.at;
    } else if (e.type === 'done') {
      v.completed = e.at;
      v.error = e.error;
      v.canceled = e.canceled;
    }
    return v;
  };
  /** Splits new output into lines; returns the complete ones. */
  const addOutput = (v: Vertex, data: string, at: number): { at: number; text: string }[] => {
    const text = v.partial + data;
    const parts = text.split(/\r?\n/);
    const rest = parts.pop() as string;
    if (v.partial === '') v.partialAt = at;
    const done = parts.map((p, i) => ({ at: i === 0 ? v.partialAt : at, text: p }));
    v.partial = rest;
    if (rest !== '') v.partialAt = at;
    v.lines.push(...done);
    if (v.lines.length > 200) v.lines.splice(0, v.lines.length - 200);
    return done;
  };
  const flushPartial = (v: Vertex) => {
    if (v.partial === '') return [];
    const line = { at: v.partialAt, text: v.partial };
    v.partial = '';
    v.lines.push(line);
    return [line];
  };

  const failureSummary = (id: number): string[] => {
    const v = vertices.get(id);
    if (!v) return [];
    flushPartial(v);
    const lines = v.lines.slice(-SUMMARY_LINES).map((l) => `${secs(v, l.at)} ${l.text}`);
    return ['------', ` > ${v.name}:`, ...lines, '------'];
  };

  if (mode === 'quiet' || mode === 'rawjson') {
    return { sink: (e) => void record(e), finish: () => undefined, failureSummary };
  }

  if (mode === 'plain') {
    let current = 0;
    const header = (v: Vertex) => {
      if (current !== v.id) {
        if (current !== 0) out.write('\n');
        out.write(`#${v.id} ${v.name}\n`);
        current = v.id;
      }
    };
    const sink = (e: BuildEvent) => {
      const v = record(e);
      if (!v) return;
      switch (e.type) {
        case 'start':
          if (current !== 0) out.write('\n');
          out.write(`#${v.id} ${v.name}\n`);
          current = v.id;
          break;
        case 'log':
          for (const l of addOutput(v, e.data.toString('utf8'), e.at)) {
            header(v);
            out.write(`#${v.id} ${secs(v, l.at)} ${l.text}\n`);
          }
          break;
        case 'status':
          header(v);
          out.write(`#${v.id} ${e.text}\n`);
          break;
        case 'cached':
          header(v);
          out.write(`#${v.id} CACHED\n`);
          break;
        case 'done':
          for (const l of flushPartial(v)) {
            header(v);
            out.write(`#${v.id} ${secs(v, l.at)} ${l.text}\n`);
          }
          header(v);
          if (e.canceled) out.write(`#${v.id} CANCELED\n`);
          else if (e.error) out.write(`#${v.id} ERROR: ${e.error}\n`);
          else out.write(`#${v.id} DONE ${((e.at - v.started) / 1000).toFixed(1)}s\n`);
          break;
      }
    };
    const finish = () => {
      if (current !== 0) out.write('\n');
      current = 0;
      printWarnings(out, warnings);
    };
    return { sink, finish, failureSummary };
  }

  // tty
  const startedAt = Date.now();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const width = () => Math.max(40, out.columns ?? 80);
  const fit = (s: string, w: number) => (s.length > w ? `${s.slice(0, Math.max(0, w - 1))}…` : s);
  const draw = () => {
    const w = width();
    const now = Date.now();
    const all = [...vertices.values()];
    const done = all.filter((v) => v.completed !== undefined).length;
    const lines = [`[+] Building ${((now - startedAt) / 1000).toFixed(1)}s (${done}/${all.length})${finished ? ' FINISHED' : ''}`];
    for (const v of all) {
      const mark = v.cached ? 'CACHED ' : v.error ? 'ERROR ' : v.canceled ? 'CANCELED ' : '';
      const time = v.cached ? '0.0s' : `${(((v.completed ?? now) - v.started) / 1000).toFixed(1)}s`;
      const left = fit(` => ${mark}${v.name}`, w - time.length - 1);
      lines.push(`${left}${' '.repeat(Math.max(1, w - left.length - time.length))}${time}`);
      if (v.completed === undefined) {
        const tail = [...v.lines, ...(v.partial ? [{ at: v.partialAt, text: v.partial }] : [])].slice(-TTY_LOG_LINES);
        for (const l of tail) lines.push(fit(` => => # ${l.text}`, w));
      }
    }
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines) s += `\r\x1b[2K${l}\n`;
    // Lines left over from a taller frame are cleared.
    for (let i = lines.length; i < drawn; i++) s += '\r\x1b[2K\n';
    if (drawn > lines.length) s += `\x1b[${drawn - lines.length}A`;
    out.write(s);
    drawn = lines.length;
  };
  const schedule = () => {
    if (timer || finished) return;
    timer = setTimeout(() => {
      timer = undefined;
      draw();
    }, 100);
    timer.unref?.();
  };
  const sink = (e: BuildEvent) => {
    const v = record(e);
    if (v && e.type === 'log') addOutput(v, e.data.toString('utf8'), e.at);
    schedule();
  };
  const finish = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    finished = true;
    draw();
    printWarnings(out, warnings);
  };
  return { sink, finish, failureSummary };
}

function printWarnings(out: Out, warnings: string[]): void {
  if (warnings.length === 0) return;
  out.write(`\n ${warnings.length} warning${warnings.length === 1 ? '' : 's'} found:\n`);
  for (const w of warnings) out.write(` - ${w}\n`);
  warnings.length = 0;
}
