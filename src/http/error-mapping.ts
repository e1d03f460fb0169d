import { ErrorCode, isNovaError, type ErrorDetail } from "../core/index.js";

/** The one mapping from error codes to HTTP statuses. */
const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.ConfigInvalid]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.InvalidTransition]: 409,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[] };
}

/** Maps anything thrown to a status and a JSON body. Unknown errors are bugs: their text is not shown. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody; bug: boolean } {
  if (isNovaError(err)) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details.length) body.error.details = err.details;
    return { status: STATUS[err.code], body, bug: false };
  }
  return {
    status: 500,
    body: { error: { code: ErrorCode.Internal, message: "internal error; see the server log" } },
    bug: true,
  };
}
