/**
 * How errors reach the user: one line on stderr, `Error: <message>` with the hint after it,
 * and Docker's exit codes. The mapping from error codes to exit codes lives here and only
 * here.
 */
import { GantryError, isGantryError } from '../core/errors.js';

/** Docker's exit code for a CLI usage error (unknown flag, bad flag value). */
export const EXIT_USAGE = 125;
/** Docker's exit code for any other failure of a command. */
export const EXIT_FAILURE = 1;

/** A usage error: wrong flags or arguments. Printed with a "See '... --help'." line. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return err.exitCode;
  if (isGantryError(err, 'INVALID_ARGUMENT') && (err as GantryError & { usage?: boolean }).usage) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** The text to print for an error (without trailing newline). */
export function renderError(err: unknown, bin = 'gantry'): string {
  if (err instanceof UsageError) return `${err.message}\nSee '${bin} ${err.command} --help'.`;
  if (err instanceof GantryError) return `Error: ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}`;
  if (err instanceof Error && err.name === 'AbortError') return 'Error: operation canceled';
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.syscall) {
    return `Error: ${e.syscall} ${e.path ?? ''}: ${e.message}`.replace(/\s+:/, ':');
  }
  return `Error: ${err instanceof Error ? err.message : String(err)}`;
}
