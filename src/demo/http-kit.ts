import type { IncomingMessage, ServerResponse } from "node:http";
import {
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Context,
  type Span,
} from "@opentelemetry/api";
import { fail, ok, type Logger, type Result } from "../core/index.js";
import { SpanKind, trace, ROOT_CONTEXT, type ServiceMetrics, type ServiceTracing } from "./telemetry.js";

/** Request bodies in the shop are small JSON documents; anything bigger is a mistake or an attack. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface Reply {
  status: number;
  body?: unknown;
  /** Already-rendered text (e.g. /metrics); sent as is instead of JSON. */
  text?: string;
  contentType?: string;
}

export interface RequestInfo {
  method: string;
  route: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** The request's trace context: pass it to every call made on behalf of this request. */
  ctx: Context;
  span: Span;
}

export type Handler = (req: RequestInfo) => Promise<Reply> | Reply;

interface Route {
  method: string;
  template: string;
  parts: string[];
  handler: Handler;
  /** Operational routes (/metrics, /healthz, /admin/...) bypass faults and readiness gating. */
  operational: boolean;
}

export const json = (status: number, body: unknown): Reply => ({ status, body });
export const problem = (status: number, error: string, extra: Record<string, unknown> = {}): Reply => ({
  status,
  body: { error, ...extra },
});

export interface GateState {
  /** Why the service refuses work right now (bad config, missing upstreams); undefined when it serves. */
  notReadyReason(): string | undefined;
  extraLatencyMs(): number;
  errorRate(): number;
  random(): number;
}

/** A tiny router with the instrumentation every shop service shares: metrics, spans, logs, faults. */
export class ServiceRouter {
  private readonly routes: Route[] = [];

  constructor(
    private readonly deps: {
      metrics: ServiceMetrics;
      tracing: ServiceTracing;
      logger: Logger;
      gate: GateState;
    },
  ) {}

  on(method: string, template: string, handler: Handler, opts: { operational?: boolean } = {}): this {
    this.routes.push({
      method,
      template,
      parts: template.split("/").filter(Boolean),
      handler,
      operational: opts.operational ?? false,
    });
    return this;
  }

  private match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | "405" | undefined {
    const segs = path.split("/").filter(Boolean);
    let wrongMethod = false;
    for (const r of this.routes) {
      if (r.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let okMatch = true;
      for (let i = 0; i < segs.length; i++) {
        const p = r.parts[i]!;
        const s = segs[i]!;
        if (p.startsWith(":")) params[p.slice(1)] = decodeURIComponent(s);
        else if (p !== s) {
          okMatch = false;
          break;
        }
      }
      if (!okMatch) continue;
      if (r.method !== method) {
        wrongMethod = true;
        continue;
      }
      return { route: r, params };
    }
    return wrongMethod ? "405" : undefined;
  }

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serve(req, res);
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://shop.local");
    const found = this.match(method, url.pathname);
    const routeName = found && found !== "405" ? found.route.template : "unmatched";
    const { tracer, propagator } = this.deps.tracing;
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const operational = found !== undefined && found !== "405" && found.route.operational;
    // Scrapes and probes would drown the traces of real work; they get no span.
    const span = operational
      ? trace.wrapSpanContext({ traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 })
      : tracer.startSpan(
          `${method} ${routeName}`,
          {
            kind: SpanKind.SERVER,
            attributes: { "http.request.method": method, "http.route": routeName, "url.path": url.pathname },
          },
          parent,
        );
    const ctx = trace.setSpan(parent, span);
    let reply: Reply;
    try {
      if (found === undefined) reply = problem(404, "no such route");
      else if (found === "405") reply = problem(405, "method not allowed");
      else reply = await this.run(found.route, found.params, req, url, ctx, span);
    } catch (e) {
      this.deps.logger.error({ err: e, route: routeName }, "handler failed");
      reply = problem(500, "internal error");
    }
    const code = String(reply.status);
    const labels = { route: routeName, method, code };
    this.deps.metrics.httpRequests.inc(labels);
    this.deps.metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    if (!operational) {
      span.setAttribute("http.response.status_code", reply.status);
      if (reply.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      const line = { method, route: routeName, code: reply.status, trace_id: span.spanContext().traceId };
      if (reply.status >= 500) this.deps.logger.warn(line, "request failed");
      else this.deps.logger.debug(line, "request");
    }
    const payload = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
    res.writeHead(reply.status, {
      "content-type": reply.contentType ?? (reply.text !== undefined ? "text/plain" : "application/json"),
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);
  }

  private async run(
    route: Route,
    params: Record<string, string>,
    req: IncomingMessage,
    url: URL,
    ctx: Context,
    span: Span,
  ): Promise<Reply> {
    const raw = await readBody(req);
    if (raw === undefined) return problem(413, `body over ${MAX_BODY_BYTES} bytes`);
    let body: unknown = undefined;
    if (raw.length) {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        return problem(400, "body is not JSON");
      }
    }
    if (!route.operational) {
      const gate = this.deps.gate;
      const reason = gate.notReadyReason();
      if (reason) return problem(503, "not ready", { reason });
      const extra = gate.extraLatencyMs();
      if (extra > 0) await sleep(extra);
      if (gate.errorRate() > 0 && gate.random() < gate.errorRate()) return problem(500, "injected fault");
    }
    return route.handler({
      method: route.method,
      route: route.template,
      path: url.pathname,
      params,
      query: url.searchParams,
      body,
      ctx,
      span,
    });
  }
}

/** The body as text, or undefined when it is over MAX_BODY_BYTES. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) over = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface UpstreamReply {
  status: number;
  body: unknown;
  instance: string;
}

export interface UpstreamFailure {
  kind: "unavailable" | "timeout";
  message: string;
  /** The connection was refused: nothing was sent, so another instance may be tried. */
  refused?: boolean;
}

/**
 * Calls another shop service: round-robin over its instances, a client span with W3C trace context,
 * a timeout, and `retries` extra attempts on other instances when the connection itself fails (the
 * request never reached a handler, so repeating it is safe even for a checkout).
 */
export class UpstreamClient {
  private upstreams: Record<string, string[]> = {};
  private readonly next = new Map<string, number>();

  constructor(
    private readonly deps: {
      metrics: ServiceMetrics;
      tracing: ServiceTracing;
      timeoutMs: () => number;
      retries: () => number;
    },
  ) {}

  setUpstreams(u: Record<string, string[]>): void {
    this.upstreams = Object.fromEntries(Object.entries(u).map(([k, v]) => [k, [...v]]));
  }

  list(): Record<string, string[]> {
    return Object.fromEntries(Object.entries(this.upstreams).map(([k, v]) => [k, [...v]]));
  }

  has(service: string): boolean {
    return (this.upstreams[service]?.length ?? 0) > 0;
  }

  private pick(service: string): string | undefined {
    const list = this.upstreams[service];
    if (!list?.length) return undefined;
    const i = this.next.get(service) ?? 0;
    this.next.set(service, (i + 1) % list.length);
    return list[i % list.length];
  }

  async call(
    ctx: Context,
    service: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Result<UpstreamReply, UpstreamFailure>> {
    const attempts = 1 + this.deps.retries();
    let last: UpstreamFailure = { kind: "unavailable", message: `no instances of ${service}` };
    for (let a = 0; a < attempts; a++) {
      const base = this.pick(service);
      if (!base) break;
      const r = await this.once(ctx, service, base, method, path, body);
      last = r.status === "error" ? r.error : last;
      // A refused connection proves the request never reached a handler, and a GET changes nothing;
      // anything else (a reset mid-checkout, a timeout) might have charged a card, so it is not repeated.
      const again =
        r.status === "error" && (r.error.refused || (method === "GET" && r.error.kind !== "timeout"));
      if (!again) return r;
    }
    return fail(last, true);
  }

  private async once(
    ctx: Context,
    service: string,
    base: string,
    method: string,
    path: string,
    body: unknown,
  ): Promise<Result<UpstreamReply, UpstreamFailure>> {
    const { tracer, propagator } = this.deps.tracing;
    const span = tracer.startSpan(
      `${method} ${service}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { "http.request.method": method, "server.address": base, "peer.service": service },
      },
      ctx,
    );
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    propagator.inject(trace.setSpan(ctx, span), headers, defaultTextMapSetter);
    const count = (code: string) => this.deps.metrics.upstreamRequests.inc({ upstream: service, code });
    try {
      const res = await fetch(base + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.deps.timeoutMs()),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        // not JSON: keep the text, the caller only passes it on
      }
      span.setAttribute("http.response.status_code", res.status);
      if (res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      count(String(res.status));
      return ok({ status: res.status, body: parsed, instance: base });
    } catch (e) {
      const timeout = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
      const code = describeFetchError(e);
      const message = timeout
        ? `${service} did not answer within ${this.deps.timeoutMs()} ms`
        : `${service} at ${base}: ${code}`;
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      count(timeout ? "timeout" : "error");
      return fail(
        { kind: timeout ? "timeout" : "unavailable", message, refused: code === "ECONNREFUSED" },
        true,
      );
    } finally {
      span.end();
    }
  }
}

function describeFetchError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/** How a failed upstream call looks to this service's own caller. */
export function upstreamProblem(f: UpstreamFailure): Reply {
  return problem(f.kind === "timeout" ? 504 : 502, f.message);
}
