/**
 * Expected failures are values. `retryable` tells the caller whether trying again later can help
 * (a 503 from a vendor) or not (a 400 for a payload we built wrong).
 */
export type Result<T, E = string> =
  { status: "ok"; value: T } | { status: "error"; error: E; retryable: boolean; retryAfterMs?: number };

export function ok<T>(value: T): Result<T, never> {
  return { status: "ok", value };
}

export function fail<E = string>(error: E, retryable: boolean, retryAfterMs?: number): Result<never, E> {
  return retryAfterMs === undefined
    ? { status: "error", error, retryable }
    : { status: "error", error, retryable, retryAfterMs };
}
