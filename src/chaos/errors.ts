import { ErrorCode, type NovaError } from "../core/index.js";

/** Status codes for the chaos module's own small servers (the main API maps errors in http/). */
export function errorStatus(e: NovaError): number {
  switch (e.code) {
    case ErrorCode.ValidationFailed:
      return 400;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    default:
      return 500;
  }
}
