import { createServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import { ROOT_CONTEXT, SpanKind, context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { Registry } from "prom-client";
import { AdaptiveSampler } from "./adaptive-sampler.js";
import { createTracing } from "./tracing.js";

/** A deterministic stream of random-looking trace ids. */
function ids(seed: number) {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const a = s.toString(16).padStart(8, "0");
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return `${a}${"0".repeat(16)}${s.toString(16).padStart(8, "0")}`;
  };
}

/** Runs `n` requests through the sampler with a cost model, 0.1 ms apart on a fake clock. */
function drive(s: AdaptiveSampler, clock: { t: number }, n: number, sampledUs: number, unsampledUs: number) {
  const next = ids(7);
  let sampled = 0;
  for (let i = 0; i < n; i++) {
    clock.t += 0.1;
    const d = s.shouldSample(ROOT_CONTEXT, next(), "x", SpanKind.SERVER, {}, []).decision;
    const on = d === SamplingDecision.RECORD_AND_SAMPLED;
    if (on) sampled++;
    s.recordRequest(on, on ? sampledUs : unsampledUs);
  }
  return sampled / n;
}

describe("AdaptiveSampler", () => {
  it("settles at the rate that spends its target share of the budget", () => {
    const clock = { t: 0 };
    const s = new AdaptiveSampler({ budgetUs: 100, floor: 0.001, ceiling: 1, now: () => clock.t });
    drive(s, clock, 200_000, 300, 2); // 20 s of 10,000 req/s
    // Sampled requests cost 298 us more: 70 us (70% of 100) allows (70 - 2) / 298 of them.
    expect(s.rate).toBeGreaterThan(0.2);
    expect(s.rate).toBeLessThan(0.26);
    expect(s.lastOverheadUs).toBeLessThan(100);
    // The realised share of sampled requests follows the rate.
    expect(drive(s, clock, 50_000, 300, 2)).toBeCloseTo(s.rate, 1);
  });

  it("samples everything when tracing is cheap, and stays at the floor when it is very dear", () => {
    const clock = { t: 0 };
    const cheap = new AdaptiveSampler({ budgetUs: 100, now: () => clock.t });
    drive(cheap, clock, 100_000, 20, 1);
    expect(cheap.rate).toBe(1);
    const dear = new AdaptiveSampler({ budgetUs: 100, floor: 0.05, now: () => clock.t });
    drive(dear, clock, 100_000, 1_000_000, 1);
    expect(dear.rate).toBe(0.05);
  });

  it("follows a change in cost: falls at once, climbs back gradually", () => {
    const clock = { t: 0 };
    const s = new AdaptiveSampler({ budgetUs: 100, now: () => clock.t });
    drive(s, clock, 100_000, 50, 1);
    expect(s.rate).toBe(1);
    drive(s, clock, 30_000, 500, 1);
    expect(s.rate).toBeLessThan(0.2);
  });

  it("exports tracing_sampling_rate and tracing_overhead_seconds", async () => {
    const registry = new Registry();
    const clock = { t: 0 };
    const s = new AdaptiveSampler({ budgetUs: 100, registry, now: () => clock.t });
    drive(s, clock, 30_000, 300, 2);
    const text = await registry.metrics();
    const rate = Number(/^tracing_sampling_rate (\S+)$/m.exec(text)?.[1]);
    const overhead = Number(/^tracing_overhead_seconds (\S+)$/m.exec(text)?.[1]);
    expect(rate).toBeCloseTo(s.rate, 6);
    expect(overhead).toBeCloseTo(s.lastOverheadUs / 1e6, 9);
    expect(() => new AdaptiveSampler({ floor: 0.5, ceiling: 0.1 })).toThrow(RangeError);
  });
});

describe("createTracing", () => {
  it("continues W3C trace context from callers and propagates it onwards", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing({ serviceName: "carts", exporter, initialRate: 1, floor: 1, ceiling: 1 });
    let outgoing: Record<string, string> = {};
    const server: Server = createServer(
      tracing.traced(
        (_req, res, span) => {
          // Without the global context manager, the span's context is passed explicitly.
          outgoing = tracing.inject({}, trace.setSpan(ROOT_CONTEXT, span));
          res.writeHead(503).end("no");
        },
        () => "/cart",
      ),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    await fetch(`http://127.0.0.1:${port}/cart`, {
      headers: { traceparent: `00-${parentTrace}-00f067aa0ba902b7-01` },
    });
    await tracing.provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const s = spans[0]!;
    expect(s.spanContext().traceId).toBe(parentTrace);
    expect(s.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(s.name).toBe("GET /cart");
    expect(s.kind).toBe(SpanKind.SERVER);
    expect(s.attributes["http.response.status_code"]).toBe(503);
    expect(s.status.code).toBe(2);
    expect(outgoing["traceparent"]).toBe(`00-${parentTrace}-${s.spanContext().spanId}-01`);
    await new Promise<void>((r) => server.close(() => r()));
    await tracing.shutdown();
  });
});

describe("createTracing with register: true", () => {
  it("makes the request's span active inside the handler, so inject() needs no context", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing({
      serviceName: "orders",
      exporter,
      register: true,
      initialRate: 1,
      floor: 1,
    });
    let outgoing: Record<string, string> = {};
    const server: Server = createServer(
      tracing.traced((_req, res) => {
        const child = tracing.tracer.startSpan("db");
        child.end();
        outgoing = tracing.inject({});
        res.end("ok");
      }),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      await tracing.provider.forceFlush();
      const spans = exporter.getFinishedSpans();
      const root = spans.find((s) => s.kind === SpanKind.SERVER);
      const child = spans.find((s) => s.name === "db");
      expect(child?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
      expect(outgoing["traceparent"]).toBe(
        `00-${root?.spanContext().traceId}-${root?.spanContext().spanId}-01`,
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await tracing.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
});
