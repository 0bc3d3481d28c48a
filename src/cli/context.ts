/**
 * What every CLI command gets: the engine (opened on first use, so `--help` and usage errors
 * never touch the state root) and the process's streams.
 */
import { createEngine, DEFAULT_ROOT, type Engine } from '../engine/engine.js';

/** The context of one CLI invocation. */
export interface CliContext {
  /** The engine on the chosen state root. */
  engine(): Engine;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
  /** Sets the exit code without stopping (for commands that go on after a failure). */
  fail(code?: number): void;
  exitCode: number;
  /** Closes what was opened. */
  close(): void;
}

/** Makes the context; the root comes from `--root`, else GANTRY_ROOT, else the default. */
export function createContext(rootOption: string | undefined): CliContext {
  let engine: Engine | undefined;
  const ctx: CliContext = {
    engine: () => (engine ??= createEngine({ root: rootOption || process.env.GANTRY_ROOT || DEFAULT_ROOT })),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    fail: (code = 1) => {
      ctx.exitCode = code;
    },
    exitCode: 0,
    close: () => engine?.close(),
  };
  return ctx;
}
