/**
 * `docker top`: the host's `ps`, narrowed to a container's processes (a port of moby's
 * daemon/top_unix.go).
 *
 * ps runs on the host, so its PID column holds host PIDs: the rows kept are those whose PID is
 * one of the container's. Thread rows (`ps -L`/`m`, PID `-`) follow the process row above them.
 */
import { execFile } from 'node:child_process';
import { errors } from '../core/errors.js';

/** `GET /containers/{id}/top`. */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** Docker refuses a ps format that names another column PID (which would fool the PID filter). */
const RENAMED_PID = /\s+(\S*)=\s*(PID\S*)/g;

/** The ASCII-whitespace fields of a line (Docker's fieldsASCII: not Unicode spaces). */
function fields(line: string): string[] {
  return line.split(/[\t\n\f\r ]+/).filter((f) => f !== '');
}

function runPs(args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string; error: Error }> {
  return new Promise((resolve) => {
    execFile('ps', args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
      resolve(error ? { ok: false, stderr, error } : { ok: true, stdout });
    });
  });
}

/**
 * Parses ps output: the header gives the titles and the PID column; a row is kept when its PID
 * is in `pids`, and split into as many columns as there are titles, the last (the command)
 * keeping its spaces.
 */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw errors.invalid("Couldn't find PID field in ps output");
  const result: TopResult = { Titles: titles, Processes: [] };
  const add = (row: string[]): void => {
    const n = Math.max(titles.length - 1, 0);
    result.Processes.push([...row.slice(0, n), row.slice(n).join(' ')]);
  };
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const row = fields(line);
    const pidField = row[pidIndex] ?? '';
    if (pidField === '-') {
      if (previousKept) add(row);
      continue;
    }
    if (!/^[+-]?\d+$/.test(pidField)) throw errors.internal(`Unexpected pid '${pidField}'`);
    previousKept = pids.has(Number(pidField));
    if (previousKept) add(row);
  }
  return result;
}

/**
 * The processes among `pids` (host PIDs of a container) as `ps <psArgs>` lists them
 * (default `-ef`). Like Docker, the arguments are joined and split again at single spaces
 * (`docker top c "-o pid,comm"` works), ps is asked for just these PIDs with `-q` and, when
 * that combination fails (some options exclude it), run again on everything and filtered.
 * Throws INVALID_ARGUMENT for a format without a PID column, one renaming a column to PID,
 * or arguments ps rejects (with ps's first line of complaint).
 */
export async function top(pids: number[], psArgs: string[] = []): Promise<TopResult> {
  const joined = psArgs.length === 0 ? '-ef' : psArgs.join(' ');
  for (const m of joined.matchAll(RENAMED_PID)) {
    if (m[1] !== 'pid') throw errors.invalid(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
  const args = joined.split(' ');
  let run = pids.length > 0 ? await runPs([...args, `-q${pids.join(',')}`]) : undefined;
  if (!run?.ok) run = await runPs(args);
  if (!run.ok) {
    const first = run.stderr.split('\n')[0] ?? '';
    throw errors.invalid(`ps: ${first || run.error.message}`, { cause: run.error });
  }
  return parsePsOutput(run.stdout, new Set(pids));
}
