import { z } from "zod";
import { fail, ok, type Labels, type Result } from "../core/index.js";

/** How long a query may take unless the caller says otherwise (ms). */
export const DEFAULT_PROMQL_CLIENT_TIMEOUT_MS = 10_000;

const sampleValue = z.tuple([z.number(), z.string()]);
const responseSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("success"),
    data: z.discriminatedUnion("resultType", [
      z.object({
        resultType: z.literal("vector"),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleValue })),
      }),
      z.object({
        resultType: z.literal("matrix"),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sampleValue) })),
      }),
      z.object({ resultType: z.literal("scalar"), result: sampleValue }),
      z.object({ resultType: z.literal("string"), result: sampleValue }),
    ]),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ status: z.literal("error"), errorType: z.string(), error: z.string() }),
]);

/** One series of a query result; times in ms since the epoch. Scalars come back as one series with no labels. */
export interface QuerySeries {
  labels: Labels;
  times: number[];
  values: number[];
}

export interface QueryResult {
  resultType: "vector" | "matrix" | "scalar" | "string";
  series: QuerySeries[];
  warnings: string[];
}

/** Prometheus writes sample values as strings so NaN and ±Inf survive JSON. */
function value(s: string): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

export interface PromQLClientOptions {
  timeoutMs?: number;
  /** Extra request headers, e.g. Authorization for a hosted Prometheus-compatible store. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/**
 * The Prometheus HTTP API's query endpoints (/api/v1/query, /api/v1/query_range), for Prometheus and the
 * stores that speak it (Thanos, Mimir, VictoriaMetrics). Queries are POSTed as forms so long ones fit.
 * Failures are values: retryable for timeouts, 429 and 5xx; not for bad queries (400, 422).
 */
export class PromQLClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly opts: PromQLClientOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PROMQL_CLIENT_TIMEOUT_MS;
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** Instant query at `timeMs` (default: the server's now). */
  instant(query: string, timeMs?: number): Promise<Result<QueryResult>> {
    const p: Record<string, string> = { query };
    if (timeMs !== undefined) p["time"] = String(timeMs / 1000);
    return this.call("/api/v1/query", p);
  }

  /** Range query over [startMs, endMs] at `stepMs` resolution. */
  range(query: string, startMs: number, endMs: number, stepMs: number): Promise<Result<QueryResult>> {
    return this.call("/api/v1/query_range", {
      query,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: String(stepMs / 1000),
    });
  }

  private async call(path: string, params: Record<string, string>): Promise<Result<QueryResult>> {
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          ...this.opts.headers,
        },
        body: new URLSearchParams({
          ...params,
          timeout: `${Math.max(1, Math.floor(this.timeoutMs / 1000))}s`,
        }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error;
      return fail(
        err.name === "TimeoutError"
          ? `query timed out after ${this.timeoutMs} ms`
          : `request failed: ${err.message}`,
        true,
      );
    }
    const retryable = res.status === 429 || res.status >= 500;
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      return fail(`HTTP ${res.status} with a body that is not JSON`, retryable);
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) return fail(`HTTP ${res.status}: unexpected response shape`, retryable);
    const body = parsed.data;
    if (body.status === "error") {
      const ra = Number(res.headers.get("retry-after"));
      return fail(
        `${body.errorType}: ${body.error}`,
        retryable || body.errorType === "timeout",
        Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined,
      );
    }
    const d = body.data;
    const series: QuerySeries[] =
      d.resultType === "vector"
        ? d.result.map((r) => ({ labels: r.metric, times: [r.value[0] * 1000], values: [value(r.value[1])] }))
        : d.resultType === "matrix"
          ? d.result.map((r) => ({
              labels: r.metric,
              times: r.values.map((x) => x[0] * 1000),
              values: r.values.map((x) => value(x[1])),
            }))
          : d.resultType === "scalar"
            ? [{ labels: {}, times: [d.result[0] * 1000], values: [value(d.result[1])] }]
            : [];
    return ok({ resultType: d.resultType, series, warnings: body.warnings ?? [] });
  }
}
