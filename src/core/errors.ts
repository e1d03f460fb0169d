/**
 * Stable error codes. They are part of the API: clients and tests match on them, so a code is never
 * renamed, only added. The HTTP mapping lives in one place (http/error-mapping.ts).
 */
export const ErrorCode = {
  ValidationFailed: "VALIDATION_FAILED",
  ConfigInvalid: "CONFIG_INVALID",
  NotFound: "NOT_FOUND",
  Conflict: "CONFLICT",
  InvalidTransition: "INVALID_TRANSITION",
  Unauthenticated: "UNAUTHENTICATED",
  Forbidden: "FORBIDDEN",
  PayloadTooLarge: "PAYLOAD_TOO_LARGE",
  UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
  RateLimited: "RATE_LIMITED",
  Unavailable: "UNAVAILABLE",
  Internal: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `alerts[3].labels`. Empty for the whole input. */
  path: string;
  message: string;
}

/** The one base class for errors we raise on purpose. Anything else reaching the top is a bug. */
export class NovaError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: ErrorDetail[]; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "NovaError";
    this.code = code;
    this.details = opts.details ?? [];
    this.retryable = opts.retryable ?? false;
  }
  /** The message and one line per detail, as a person reads them. */
  format(): string {
    return [this.message, ...this.details.map((d) => `  ${d.path ? `${d.path}: ` : ""}${d.message}`)].join(
      "\n",
    );
  }
}

export class ValidationError extends NovaError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super(ErrorCode.ValidationFailed, message, { details });
    this.name = "ValidationError";
  }
}

export class NotFoundError extends NovaError {
  constructor(what: string, id: string) {
    super(ErrorCode.NotFound, `${what} ${JSON.stringify(id)} not found`);
    this.name = "NotFoundError";
  }
}

export class ConflictError extends NovaError {
  constructor(message: string) {
    super(ErrorCode.Conflict, message);
    this.name = "ConflictError";
  }
}

export class AuthError extends NovaError {
  constructor(code: typeof ErrorCode.Unauthenticated | typeof ErrorCode.Forbidden, message: string) {
    super(code, message);
    this.name = "AuthError";
  }
}

export function isNovaError(e: unknown): e is NovaError {
  return e instanceof NovaError;
}
