import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as contextApi,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ParentBasedSampler, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { Registry } from "prom-client";
import { AdaptiveSampler, type AdaptiveSamplerOptions } from "./adaptive-sampler.js";
import { MeteredExporter } from "./metered.js";

export interface TracingOptions extends AdaptiveSamplerOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint (protobuf), e.g. http://novasre:8480/v1/traces. Ignored if `exporter` is given. */
  otlpUrl?: string;
  /** Headers for the OTLP endpoint, e.g. { authorization: "Bearer ..." }. */
  otlpHeaders?: Record<string, string>;
  exporter?: SpanExporter;
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Follow the sampled flag of an incoming traceparent (W3C); default true. */
  respectParent?: boolean;
  /**
   * Register the provider as the global OTel tracer provider, with the AsyncLocalStorage context manager and
   * the W3C propagator, so spans started inside handlers become children of the request's span. Default false:
   * nothing global changes unless asked.
   */
  register?: boolean;
  registry?: Registry;
}

export interface Tracing {
  readonly provider: NodeTracerProvider;
  readonly tracer: Tracer;
  readonly sampler: AdaptiveSampler;
  readonly propagator: W3CTraceContextPropagator;
  /**
   * Wraps a node:http request handler: a SERVER span per request, continuing the caller's trace from the
   * `traceparent`/`tracestate` headers, with the HTTP method, route and status; and the tracing work on the
   * request measured for the sampler. The handler runs with the span active.
   */
  traced(
    handler: (req: IncomingMessage, res: ServerResponse, span: Span) => void,
    route?: (req: IncomingMessage) => string,
  ): (req: IncomingMessage, res: ServerResponse) => void;
  /** Writes `traceparent` (and `tracestate`) for an outgoing request from `ctx` (default: the active context). */
  inject(headers: Record<string, string>, ctx?: Context): Record<string, string>;
  /** The context carried by incoming headers. */
  extract(headers: IncomingMessage["headers"]): Context;
  shutdown(): Promise<void>;
}

const headerGetter: TextMapGetter<IncomingMessage["headers"]> = {
  keys: (c) => Object.keys(c),
  get: (c, k) => c[k],
};
const headerSetter: TextMapSetter<Record<string, string>> = {
  set: (c, k, v) => {
    c[k] = v;
  },
};

/** Tracing for a service that reports to us, on the OpenTelemetry SDK, with the adaptive sampler. */
export function createTracing(opts: TracingOptions): Tracing {
  const sampler = new AdaptiveSampler(opts);
  const propagator = new W3CTraceContextPropagator();
  const exporter =
    opts.exporter ??
    new OTLPTraceExporter({
      url: opts.otlpUrl ?? "http://127.0.0.1:8480/v1/traces",
      headers: opts.otlpHeaders ?? {},
    });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ ...opts.resourceAttributes, "service.name": opts.serviceName }),
    sampler: opts.respectParent === false ? sampler : new ParentBasedSampler({ root: sampler }),
    spanProcessors: [new BatchSpanProcessor(new MeteredExporter(exporter, sampler))],
  });
  if (opts.register) provider.register({ propagator });
  const tracer = provider.getTracer("novasre-tracing");

  return {
    provider,
    tracer,
    sampler,
    propagator,
    traced(handler, route) {
      return (req, res) => {
        const t0 = performance.now();
        // Most requests at an edge carry no trace context: skip the propagator's parsing for them.
        const parent =
          req.headers["traceparent"] === undefined
            ? ROOT_CONTEXT
            : propagator.extract(ROOT_CONTEXT, req.headers, headerGetter);
        const method = req.method ?? "GET";
        const r = route ? route(req) : undefined;
        const span = tracer.startSpan(
          r ? `${method} ${r}` : method,
          {
            kind: SpanKind.SERVER,
            attributes: r
              ? { "http.request.method": method, "http.route": r }
              : { "http.request.method": method },
          },
          parent,
        );
        const sampled = span.isRecording();
        let spent = performance.now() - t0;
        res.once("finish", () => {
          const t1 = performance.now();
          if (sampled) {
            span.setAttribute("http.response.status_code", res.statusCode);
            if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
          spent += performance.now() - t1;
          sampler.recordRequest(sampled, spent * 1000);
        });
        contextApi.with(trace.setSpan(parent, span), () => handler(req, res, span));
      };
    },
    inject(headers, ctx) {
      propagator.inject(ctx ?? contextApi.active(), headers, headerSetter);
      return headers;
    },
    extract(headers) {
      return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
