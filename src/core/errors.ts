/**
 * The one error type the engine throws. Callers match on `code`, never on message text.
 *
 * Messages say what failed and with which input, worded the way Docker words the same
 * failure; `hint` tells the user what to do next. Front ends map `code` once: the CLI to
 * exit codes (see cli/exit-codes.ts), later the Engine API to HTTP statuses and the hub to
 * OCI distribution error codes.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'CANCELED'
  | 'DATA_LOSS'
  | 'INTERNAL';

/** Extra detail carried by a {@link GantryError}. */
export interface GantryErrorOptions {
  /** What the user can do about it, shown after the message. */
  hint?: string;
  /** The lower-level error this one wraps. */
  cause?: unknown;
}

/** An error with a code from a closed set, a Docker-worded message and an optional hint. */
export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GantryError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** True when `err` is a {@link GantryError}, optionally of the given code. */
export function isGantryError(err: unknown, code?: ErrorCode): err is GantryError {
  return err instanceof GantryError && (code === undefined || err.code === code);
}

/** True when `err` is a Node system error with the given errno code (ENOENT, EEXIST, ...). */
export function isErrno(err: unknown, code: string): err is NodeJS.ErrnoException {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/** Shorthand constructors for the common cases. */
export const errors = {
  notFound: (message: string, options?: GantryErrorOptions) => new GantryError('NOT_FOUND', message, options),
  invalid: (message: string, options?: GantryErrorOptions) => new GantryError('INVALID_ARGUMENT', message, options),
  conflict: (message: string, options?: GantryErrorOptions) => new GantryError('CONFLICT', message, options),
  precondition: (message: string, options?: GantryErrorOptions) =>
    new GantryError('FAILED_PRECONDITION', message, options),
  unauthorized: (message: string, options?: GantryErrorOptions) => new GantryError('UNAUTHORIZED', message, options),
  unavailable: (message: string, options?: GantryErrorOptions) => new GantryError('UNAVAILABLE', message, options),
  dataLoss: (message: string, options?: GantryErrorOptions) => new GantryError('DATA_LOSS', message, options),
  internal: (message: string, options?: GantryErrorOptions) => new GantryError('INTERNAL', message, options),
  canceled: (message = 'operation canceled') => new GantryError('CANCELED', message),
};
