import { ROOT_CONTEXT, SpanKind, trace, type Context, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type Sampler,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Request latency buckets (seconds): a shop answers in milliseconds, a sick one in seconds. */
export const HTTP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** How long spans wait in the batch before export: short, so a demo shows traces within seconds. */
export const DEFAULT_TRACE_EXPORT_DELAY_MS = 2_000;

export interface ServiceMetrics {
  registry: Registry;
  httpRequests: Counter<"route" | "method" | "code">;
  httpDuration: Histogram<"route" | "method" | "code">;
  upstreamRequests: Counter<"upstream" | "code">;
}

/** One registry per process, every series labelled with the service so a scraper can tell them apart. */
export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests served, by route template and status code",
      labelNames: ["route", "method", "code"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "Time to serve an HTTP request",
      labelNames: ["route", "method", "code"],
      buckets: HTTP_DURATION_BUCKETS_S,
      registers: [registry],
    }),
    upstreamRequests: new Counter({
      name: "upstream_requests_total",
      help: "Calls to other shop services; code is the HTTP status, or error/timeout when none came back",
      labelNames: ["upstream", "code"],
      registers: [registry],
    }),
  };
}

export interface TracingOptions {
  service: string;
  instance: string;
  /** Full OTLP/HTTP URL, e.g. http://127.0.0.1:8480/v1/traces. Without it spans are made and dropped. */
  otlpUrl?: string;
  exportDelayMs?: number;
  /** Seam for src/tracing (a sampler with an overhead budget); default: record everything. */
  sampler?: Sampler;
  /** Seam for tests and for other exporters. */
  spanProcessors?: SpanProcessor[];
}

export interface ServiceTracing {
  tracer: Tracer;
  propagator: W3CTraceContextPropagator;
  /** Flushes what is batched and stops exporting; call on shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Tracing without globals: no registered provider or context manager. The request's Context is passed
 * by hand from the server span to the client spans, which is all a six-endpoint service needs and
 * keeps several services (or tests) in one process from stepping on each other.
 */
export function createServiceTracing(opts: TracingOptions): ServiceTracing {
  const processors: SpanProcessor[] = [...(opts.spanProcessors ?? [])];
  if (opts.otlpUrl)
    processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.otlpUrl }), {
        scheduledDelayMillis: opts.exportDelayMs ?? DEFAULT_TRACE_EXPORT_DELAY_MS,
      }),
    );
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: opts.service,
      "service.namespace": "novacron-demo-shop",
      "service.instance.id": opts.instance,
    }),
    spanProcessors: processors,
    ...(opts.sampler ? { sampler: opts.sampler } : {}),
  });
  return {
    tracer: provider.getTracer("novacron-demo-shop"),
    propagator: new W3CTraceContextPropagator(),
    shutdown: () => provider.shutdown(),
  };
}

export { ROOT_CONTEXT, SpanKind, trace };
export type { Context };
