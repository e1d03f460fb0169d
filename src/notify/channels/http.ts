import { fail, ok, type Result } from "../../core/index.js";

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Vendor error bodies go into logs and the outbox: keep them short. */
const MAX_ERROR_BODY_CHARS = 300;

/**
 * Retry-After in either form RFC 9110 allows: delay-seconds or an HTTP-date. Milliseconds from now,
 * undefined if absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * One HTTP exchange with a vendor, failures classified for the outbox: network errors, timeouts,
 * 408, 429 and 5xx are retryable (429 carries Retry-After); other non-2xx are not.
 * `what` names the call in errors; URLs are never included since some carry secrets (Slack).
 */
export async function vendorRequest(
  what: string,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<Result<HttpResponse>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: init.headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      redirect: "error",
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const reason =
      err.name === "TimeoutError"
        ? `timed out after ${timeoutMs}ms`
        : err.name === "AbortError"
          ? "aborted"
          : (err.cause?.code ?? err.message);
    return fail(`${what}: ${reason}`, true);
  }
  let body = "";
  try {
    body = await res.text();
  } catch (e) {
    if (res.ok) return fail(`${what}: reading response: ${(e as Error).message}`, true);
  }
  if (res.status >= 200 && res.status < 300) return ok({ status: res.status, headers: res.headers, body });
  const detail = `${what}: HTTP ${res.status} ${body.slice(0, MAX_ERROR_BODY_CHARS)}`.trim();
  if (res.status === 429) return fail(detail, true, parseRetryAfter(res.headers.get("retry-after"), now()));
  if (res.status === 408 || res.status >= 500) {
    const ra = parseRetryAfter(res.headers.get("retry-after"), now());
    return fail(detail, true, ra);
  }
  return fail(detail, false);
}
