import { AuthError, ErrorCode } from "../core/index.js";
import type {
  OtlpReceiver,
  PromQLSource,
  Scraper,
  SeriesStore,
  ServiceGraphBuilder,
} from "../ingest/index.js";
import type { Api } from "./http-app.js";
import { roleAtLeast } from "./auth.js";

export interface TelemetryRouteDeps {
  /** Absent when OTLP intake is disabled in the config. */
  receiver: OtlpReceiver | undefined;
  graph: ServiceGraphBuilder;
  scraper?: Scraper;
  promql?: PromQLSource | undefined;
  store?: SeriesStore;
  /** Same switch as the other receivers: when false, anonymous exports are accepted. */
  requireAuth: boolean;
}

/** OTLP/HTTP trace intake, and the services and call graph learned from it. */
export function registerTelemetryRoutes(api: Api, deps: TelemetryRouteDeps): void {
  const { receiver, graph } = deps;
  if (receiver) {
    // The body is binary (protobuf, maybe gzip), so this route reads it itself instead of through
    // Api.route, which reads text; it is still described in the OpenAPI document.
    api.docs.push({
      method: "post",
      path: "/v1/traces",
      summary: "OTLP/HTTP trace receiver (application/x-protobuf or application/json, optional gzip)",
      tag: "intake",
      auth: "receiver",
      responses: {
        200: "accepted (may carry partialSuccess)",
        400: "malformed request",
        401: "no credentials",
        413: "body too large",
        415: "unsupported content type or encoding",
        429: "too many requests in flight; see Retry-After",
        503: "span queue full; see Retry-After",
      },
    });
    api.app.post("/v1/traces", async (c) => {
      const header = c.req.header("authorization");
      if (header) {
        const m = /^Bearer\s+(\S+)$/i.exec(header);
        const p = m ? await api.tokenPrincipal(m[1] as string) : undefined;
        if (!p) throw new AuthError(ErrorCode.Unauthenticated, "unknown, revoked or malformed bearer token");
        if (!roleAtLeast(p.role, "operator"))
          throw new AuthError(ErrorCode.Forbidden, `this needs the operator role; the token has ${p.role}`);
      } else if (deps.requireAuth) {
        throw new AuthError(ErrorCode.Unauthenticated, "a bearer token is required");
      }
      const contentType = c.req.header("content-type");
      const refused = receiver.admit(contentType);
      const res =
        refused ??
        receiver.handle(
          contentType,
          c.req.header("content-encoding"),
          Buffer.from(await c.req.arrayBuffer()),
        );
      return c.body(
        typeof res.body === "string" ? res.body : new Uint8Array(res.body),
        res.status as 200,
        res.headers,
      );
    });
  }

  api.route(
    {
      method: "get",
      path: "/api/v1/services",
      summary:
        "Services seen in traces, with RED metrics over the window (rate, errors, latency percentiles)",
      tag: "telemetry",
      auth: "viewer",
      responses: { 200: "services" },
    },
    (c) => c.json({ services: graph.serviceViews() }),
  );
  api.route(
    {
      method: "get",
      path: "/api/v1/service-graph",
      summary: "Who calls whom, learned from traces, with RED metrics per edge",
      tag: "telemetry",
      auth: "viewer",
      responses: { 200: "graph" },
    },
    (c) => {
      const edges = graph.edgeViews();
      const nodes = graph.serviceViews().map((s) => s.name);
      for (const e of edges) for (const n of [e.caller, e.callee]) if (!nodes.includes(n)) nodes.push(n);
      return c.json({ nodes: nodes.sort(), edges, stats: graph.getStats() });
    },
  );
  api.route(
    {
      method: "get",
      path: "/api/v1/telemetry/targets",
      summary: "Scrape targets and PromQL queries with their last result; series held in memory",
      tag: "telemetry",
      auth: "viewer",
      responses: { 200: "status" },
    },
    (c) =>
      c.json({
        targets: deps.scraper?.status() ?? [],
        queries: deps.promql?.status() ?? [],
        series: deps.store
          ? {
              held: deps.store.size,
              max: deps.store.maxSeries,
              dropped: deps.store.dropped,
              ended: deps.store.ended,
              memoryBoundBytes: deps.store.memoryBoundBytes,
            }
          : null,
      }),
  );
}
