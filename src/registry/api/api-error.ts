/**
 * Errors of the hub's web API (`/api/`): `{"message", "code"}` with the HTTP status the
 * contract gives each code (docs/dev/hub-api.md). Any {@link GantryError} thrown below the API
 * (the account store's CONFLICT, a name's INVALID_ARGUMENT) maps to one of them.
 */
import { GantryError, isGantryError } from '../../core/errors.js';

/** The API's error codes. */
export type ApiErrorCode = 'NOT_FOUND' | 'DENIED' | 'UNAUTHORIZED' | 'INVALID' | 'CONFLICT' | 'TOOMANYREQUESTS';

const STATUS: Record<ApiErrorCode, number> = { NOT_FOUND: 404, DENIED: 403, UNAUTHORIZED: 401, INVALID: 400, CONFLICT: 409, TOOMANYREQUESTS: 429 };

/** An API refusal with its status. */
export class ApiError extends GantryError {
  readonly status: number;
  constructor(
    readonly apiCode: ApiErrorCode,
    message: string,
  ) {
    super(apiCode === 'NOT_FOUND' ? 'NOT_FOUND' : apiCode === 'CONFLICT' ? 'CONFLICT' : apiCode === 'INVALID' ? 'INVALID_ARGUMENT' : apiCode === 'UNAUTHORIZED' ? 'UNAUTHORIZED' : apiCode === 'TOOMANYREQUESTS' ? 'UNAVAILABLE' : 'FORBIDDEN', message);
    this.status = STATUS[apiCode];
  }
}

export const notFound = (what = 'not found') => new ApiError('NOT_FOUND', what);
export const denied = (what = 'requested access to the resource is denied') => new ApiError('DENIED', what);
export const invalid = (what: string) => new ApiError('INVALID', what);

/** The API error for anything thrown; undefined for an unexpected error (a 500). */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (!isGantryError(err)) return undefined;
  switch (err.code) {
    case 'NOT_FOUND':
      return new ApiError('NOT_FOUND', err.message);
    case 'CONFLICT':
    case 'ALREADY_EXISTS':
      return new ApiError('CONFLICT', err.message);
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
      return new ApiError('INVALID', err.message);
    case 'UNAUTHORIZED':
      return new ApiError('UNAUTHORIZED', err.message);
    case 'FORBIDDEN':
      return new ApiError('DENIED', err.message);
    case 'NOT_IMPLEMENTED':
      return new ApiError('INVALID', err.message);
    case 'UNAVAILABLE':
      return (err as { status?: number }).status === 429 ? new ApiError('TOOMANYREQUESTS', err.message) : undefined;
    default:
      return undefined;
  }
}
