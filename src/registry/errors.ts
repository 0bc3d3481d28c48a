/**
 * The hub's errors as the OCI Distribution Specification words them: a code from the spec's
 * closed list, the HTTP status the spec gives it, a message and an optional detail, sent as
 * `{"errors":[{"code","message","detail"}]}`.
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#error-codes
 *
 * `HubError` is a `GantryError` (core/errors.ts), so code below the routes (storage, gc, the
 * CLI) can throw and match it like any other error of gantry.
 */
import { type ErrorCode, GantryError } from '../core/errors.js';

/** The spec's error codes, plus distribution's for a bad `n` of a paginated list. */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'PAGINATION_NUMBER_INVALID';

/** Each code's usual status; a few answers override it (416 for an out-of-order chunk, 413). */
const STATUS: Record<OciErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  PAGINATION_NUMBER_INVALID: 400,
};

/** gantry's own code for each, so callers outside HTTP can match on GantryError codes. */
const GANTRY_CODE: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'NOT_IMPLEMENTED',
  413: 'INVALID_ARGUMENT',
  416: 'FAILED_PRECONDITION',
  429: 'UNAVAILABLE',
};

/** Options of a {@link HubError}. */
export interface HubErrorOptions {
  /** The HTTP status when it is not the code's usual one. */
  status?: number;
  /** The error's `detail` (any JSON). */
  detail?: unknown;
  /** Extra response headers (Range on a 416, Retry-After on a 429). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error the hub answers with the spec's error body. */
export class HubError extends GantryError {
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(
    readonly ociCode: OciErrorCode,
    message: string,
    options: HubErrorOptions = {},
  ) {
    const status = options.status ?? STATUS[ociCode];
    super(GANTRY_CODE[status] ?? 'INTERNAL', message, { cause: options.cause });
    this.name = 'HubError';
    this.status = status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/** True when `err` is a {@link HubError}, optionally of the given OCI code. */
export function isHubError(err: unknown, code?: OciErrorCode): err is HubError {
  return err instanceof HubError && (code === undefined || err.ociCode === code);
}

/** The JSON error body of the spec for one error. */
export function errorBody(code: string, message: string, detail?: unknown): string {
  const entry: Record<string, unknown> = { code, message };
  if (detail !== undefined) entry.detail = detail;
  return JSON.stringify({ errors: [entry] });
}
