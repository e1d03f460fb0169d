/**
 * The service under load for bench:tracing (not a bench itself): a plain node:http service, untraced, traced
 * with the OpenTelemetry SDK defaults, or traced with our helpers and adaptive sampler.
 *   node --import tsx bench/tracing-service.ts <none|otel|adaptive> <otlp sink url> <budget us>
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { ROOT_CONTEXT, SpanKind, context, trace, type TextMapGetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { createTracing } from "../src/tracing/index.js";

const [mode = "none", sink = "http://127.0.0.1:4318/v1/traces", budget = "100"] = process.argv.slice(2);

/** The request's own work: a small JSON answer, as a typical API handler gives. */
function work(res: ServerResponse): void {
  const body = JSON.stringify({
    ok: true,
    items: [
      { id: 1, qty: 2 },
      { id: 7, qty: 1 },
    ],
    at: Date.now(),
  });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => work(res);
let stats = (): Record<string, number> => ({});

if (mode === "otel") {
  // The SDK's defaults: ParentBased(AlwaysOn) sampler, BatchSpanProcessor, OTLP/protobuf exporter; the same
  // instrumentation as our `traced()` helper so that only the sampling differs.
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": "bench-otel" }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: sink }))],
  });
  const tracer = provider.getTracer("bench");
  const propagator = new W3CTraceContextPropagator();
  const getter: TextMapGetter<IncomingMessage["headers"]> = {
    keys: (c) => Object.keys(c),
    get: (c, k) => c[k],
  };
  handler = (req, res) => {
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, getter);
    const span = tracer.startSpan(
      "GET /",
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": req.method ?? "GET", "http.route": "/" },
      },
      parent,
    );
    res.once("finish", () => {
      span.setAttribute("http.response.status_code", res.statusCode);
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => work(res));
  };
} else if (mode === "adaptive") {
  const tracing = createTracing({ serviceName: "bench-adaptive", otlpUrl: sink, budgetUs: Number(budget) });
  handler = tracing.traced(
    (_req, res) => work(res),
    () => "/",
  );
  stats = () => ({ rate: tracing.sampler.rate, measured_overhead_us: tracing.sampler.lastOverheadUs });
}

const server = createServer((req, res) => {
  if (req.url === "/__stats") {
    const c = process.cpuUsage();
    const body = JSON.stringify({ cpu_us: c.user + c.system, ...stats() });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
    return;
  }
  handler(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`port ${(server.address() as { port: number }).port}\n`);
});
