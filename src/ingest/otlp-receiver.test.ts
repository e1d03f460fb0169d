import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanKind as ApiSpanKind, SpanStatusCode, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { testApp, type TestApp } from "../../test/support/app.js";
import { decodeTraceRequest, encodeTraceResponse, ProtoDecodeError, ShortStringCache } from "./otlp-proto.js";
import { OtlpReceiver } from "./otlp-receiver.js";
import { silentLogger } from "../core/index.js";

const hex = (n: number, len: number) => n.toString(16).padStart(len, "0");

function jsonSpan(i: number, over: Record<string, unknown> = {}) {
  return {
    traceId: hex(1000 + i, 32),
    spanId: hex(2000 + i, 16),
    name: "GET /cart",
    kind: 2,
    startTimeUnixNano: "1780000000000000000",
    endTimeUnixNano: "1780000000012500000",
    attributes: [
      { key: "http.response.status_code", value: { intValue: "200" } },
      { key: "tags", value: { arrayValue: { values: [{ stringValue: "a" }, { boolValue: true }] } } },
    ],
    status: { code: 0 },
    ...over,
  };
}

const jsonBody = (service: string, spans: unknown[]) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: "test" }, spans }],
    },
  ],
});

describe("OTLP receiver over the app's HTTP API", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ auth: { receivers: { require_auth: false } } });
  });
  afterAll(async () => {
    await t.app.close();
  });

  it("accepts JSON, reports partial success for bad spans, and learns RED metrics", async () => {
    const bad = jsonSpan(99, { traceId: "zz" });
    const res = await t.req("POST", "/v1/traces", {
      body: jsonBody("carts", [jsonSpan(1), jsonSpan(2, { status: { code: 2 } }), bad]),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } };
    expect(body.partialSuccess?.rejectedSpans).toBe("1");
    expect(body.partialSuccess?.errorMessage).toMatch(/traceId/);
    await t.app.telemetry.receiver?.drained();
    const services = (await (
      await t.req("GET", "/api/v1/services", { token: await t.token("viewer") })
    ).json()) as {
      services: { name: string; requests: number; errors: number; latencyMs: { p50: number } }[];
    };
    const carts = services.services.find((s) => s.name === "carts");
    expect(carts?.requests).toBe(2);
    expect(carts?.errors).toBe(1);
    // Both took 12.5 ms: the interpolated median lies in the histogram bucket holding 12.5.
    expect(carts?.latencyMs.p50).toBeGreaterThan(8);
    expect(carts?.latencyMs.p50).toBeLessThan(20);
  });

  it("accepts enum names for kind and status code", async () => {
    const res = await t.req("POST", "/v1/traces", {
      body: jsonBody("names", [
        jsonSpan(5, { kind: "SPAN_KIND_SERVER", status: { code: "STATUS_CODE_ERROR" } }),
      ]),
    });
    expect(res.status).toBe(200);
    await t.app.telemetry.receiver?.drained();
    const svc = t.app.telemetry.graph.serviceViews().find((s) => s.name === "names");
    expect(svc).toMatchObject({ requests: 1, errors: 1 });
  });

  it("accepts gzip and refuses other encodings, media types and malformed bodies", async () => {
    const raw = Buffer.from(JSON.stringify(jsonBody("gz", [jsonSpan(3)])));
    const gz = await t.app.api.app.request("/v1/traces", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: new Uint8Array(gzipSync(raw)),
    });
    expect(gz.status).toBe(200);
    expect(await gz.json()).toEqual({});
    const br = await t.app.api.app.request("/v1/traces", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "br" },
      body: new Uint8Array(raw),
    });
    expect(br.status).toBe(415);
    const xml = await t.req("POST", "/v1/traces", { raw: "<x/>", headers: { "content-type": "text/xml" } });
    expect(xml.status).toBe(415);
    const junk = await t.app.api.app.request("/v1/traces", {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0x03]),
    });
    expect(junk.status).toBe(400);
    expect(junk.headers.get("content-type")).toBe("application/x-protobuf");
  });

  it("demands credentials when receivers require auth", async () => {
    const strict = await testApp();
    try {
      const res = await strict.req("POST", "/v1/traces", { body: jsonBody("x", [jsonSpan(1)]) });
      expect(res.status).toBe(401);
      const ok = await strict.req("POST", "/v1/traces", {
        body: jsonBody("x", [jsonSpan(1)]),
        token: await strict.token("operator"),
      });
      expect(ok.status).toBe(200);
      const viewer = await strict.req("POST", "/v1/traces", {
        body: jsonBody("x", [jsonSpan(1)]),
        token: await strict.token("viewer"),
      });
      expect(viewer.status).toBe(403);
    } finally {
      await strict.app.close();
    }
  });
});

describe("OtlpReceiver backpressure", () => {
  it("answers 503 with Retry-After when the queue would overflow, 429 when too many requests are in flight", async () => {
    const consumed: number[] = [];
    const r = new OtlpReceiver({
      consume: (s) => consumed.push(s.length),
      logger: silentLogger(),
      maxQueueSpans: 3,
      maxConcurrentRequests: 1,
      retryAfterSeconds: 7,
    });
    const body = Buffer.from(JSON.stringify(jsonBody("q", [jsonSpan(1), jsonSpan(2)])));
    expect(r.admit("application/json")).toBeUndefined();
    // A second request while the first is still being read: too many in flight.
    const busy = r.admit("application/json");
    expect(busy?.status).toBe(429);
    expect(busy?.headers["retry-after"]).toBe("7");
    expect(r.handle("application/json", undefined, body).status).toBe(200);
    expect(r.queuedSpans).toBe(2);
    expect(r.admit("application/json")).toBeUndefined();
    const full = r.handle("application/json", undefined, body);
    expect(full.status).toBe(503);
    expect(full.headers["retry-after"]).toBe("7");
    await r.drained();
    expect(consumed).toEqual([2]);
    expect(r.queuedSpans).toBe(0);
  });
});

describe("protobuf decoder", () => {
  it("refuses truncated input and encodes partial success", () => {
    expect(() => decodeTraceRequest(Buffer.from([0x0a, 0x05, 0x12, 0x03]))).toThrow(ProtoDecodeError);
    expect(encodeTraceResponse(0, "").length).toBe(0);
    // partial_success { rejected_spans: 2, error_message: "x" }
    expect([...encodeTraceResponse(2, "x")]).toEqual([0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, 0x78]);
  });
});

describe("OTLP from the real OpenTelemetry SDK exporter (protobuf over loopback)", () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await testApp({ server: { port: 0 }, auth: { receivers: { require_auth: false } } });
    base = await t.app.listen();
  });
  afterAll(async () => {
    await t.app.close();
  });

  function provider(service: string, compression: "gzip" | "none") {
    const exporter = new OTLPTraceExporter({ url: `${base}/v1/traces`, compression } as ConstructorParameters<
      typeof OTLPTraceExporter
    >[0]);
    return new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": service, "deployment.environment": "test" }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
  }

  it("decodes spans, pairs client and server spans across services and uses peer.service", async () => {
    const front = provider("frontend", "none");
    const cart = provider("carts", "gzip");
    const ft = front.getTracer("shop");
    const ct = cart.getTracer("shop");
    for (let i = 0; i < 5; i++) {
      const root = ft.startSpan("GET /checkout", {
        kind: ApiSpanKind.SERVER,
        attributes: { "http.route": "/checkout" },
      });
      const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
      const call = ft.startSpan("GET carts", { kind: ApiSpanKind.CLIENT }, rootCtx);
      const server = ct.startSpan(
        "GET /carts",
        { kind: ApiSpanKind.SERVER, attributes: { n: i, ok: true, ratio: 0.5 } },
        trace.setSpan(ROOT_CONTEXT, call),
      );
      if (i === 0) server.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
      const db = ct.startSpan(
        "SELECT",
        { kind: ApiSpanKind.CLIENT, attributes: { "peer.service": "carts-db" } },
        trace.setSpan(ROOT_CONTEXT, server),
      );
      db.end();
      server.end();
      call.end();
      root.end();
    }
    await front.forceFlush();
    await cart.forceFlush();
    await t.app.telemetry.receiver?.drained();
    // Client halves that only name their peer settle after the edge wait.
    t.clock.advance(t.app.config.telemetry.service_graph.edge_wait + 1);
    t.app.telemetry.graph.tick();

    const edges = t.app.telemetry.graph.edgeViews();
    const fc = edges.find((e) => e.caller === "frontend" && e.callee === "carts");
    expect(fc?.requests).toBe(5);
    expect(fc?.errors).toBe(1);
    expect(fc?.via).toBe("span");
    const db = edges.find((e) => e.caller === "carts" && e.callee === "carts-db");
    expect(db?.via).toBe("peer");
    expect(db?.requests).toBe(5);
    const services = t.app.telemetry.graph.serviceViews();
    expect(services.map((s) => s.name)).toEqual(["carts", "frontend"]);
    expect(services.find((s) => s.name === "carts")?.errors).toBe(1);
    expect(t.app.telemetry.graph.rcaGraph().edges.map((e) => `${e.caller}>${e.callee}`)).toEqual([
      "carts>carts-db",
      "frontend>carts",
    ]);
    const res = await fetch(`${base}/api/v1/service-graph`, {
      headers: { authorization: `Bearer ${await t.token("viewer")}` },
    });
    const g = (await res.json()) as { nodes: string[] };
    expect(g.nodes).toEqual(["carts", "carts-db", "frontend"]);
    await front.shutdown();
    await cart.shutdown();
  });

  it("keeps attributes, kinds, times and status from SDK payloads", async () => {
    let captured: Buffer | undefined;
    const { createServer } = await import("node:http");
    const srv = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (d: Buffer) => parts.push(d));
      req.on("end", () => {
        captured = Buffer.concat(parts);
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "payments" }),
      spanProcessors: [
        new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` })),
      ],
    });
    const start = Date.UTC(2026, 5, 1, 12, 0, 0);
    const s = p.getTracer("t").startSpan("charge", {
      kind: ApiSpanKind.CONSUMER,
      startTime: start,
      attributes: {
        amount: 12.5,
        count: 3,
        ok: false,
        currency: "EUR",
        tags: ["a", "b"],
        big: -7,
        "city.näme": "Zürich ☃",
        long: "x".repeat(60) + "é",
      },
    });
    s.setStatus({ code: SpanStatusCode.ERROR, message: "declined" });
    s.end(start + 250);
    await p.forceFlush();
    await p.shutdown();
    srv.close();
    const out = decodeTraceRequest(captured as Buffer);
    expect(out.rejected).toBe(0);
    expect(out.spans).toHaveLength(1);
    const d = out.spans[0]!;
    expect(d.resource.service).toBe("payments");
    expect(d.kind).toBe(5);
    expect(d.name).toBe("charge");
    expect(d.startMs).toBe(start);
    expect(d.durationMs).toBe(250);
    expect(d.statusCode).toBe(2);
    expect(d.statusMessage).toBe("declined");
    expect(d.attributes).toEqual({
      amount: 12.5,
      count: 3,
      ok: false,
      currency: "EUR",
      tags: ["a", "b"],
      big: -7,
      "city.näme": "Zürich ☃",
      long: "x".repeat(60) + "é",
    });
    expect(d.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(d.traceId).toBe(s.spanContext().traceId);
    expect(d.spanId).toBe(s.spanContext().spanId);
    // A shared string cache, even a one-slot one where every string evicts the last, decodes the same.
    for (const strings of [new ShortStringCache(1), new ShortStringCache(4096)])
      for (let k = 0; k < 3; k++) expect(decodeTraceRequest(captured as Buffer, strings)).toEqual(out);
  });
});

describe("ShortStringCache", () => {
  it("returns the string of the bytes asked for, whatever the slot held", () => {
    const strings = new ShortStringCache(2);
    const words = ["service.name", "a", "b", "ab", "ba", "", "http.route", "service.namf", "service.name"];
    const buf = Buffer.from(words.join(""), "latin1");
    for (let round = 0; round < 3; round++) {
      let p = 0;
      for (const w of words) {
        expect(strings.ascii(buf, p, p + w.length)).toBe(w);
        p += w.length;
      }
    }
    expect(strings.ascii(Buffer.from("Zürich"), 0, 7)).toBeUndefined();
  });
});

describe("protobuf decoding of many spans", () => {
  it("keeps each span's own ids when traces interleave and strings repeat", async () => {
    const { InMemorySpanExporter } = await import("@opentelemetry/sdk-trace-base");
    const { ProtobufTraceSerializer } = await import("@opentelemetry/otlp-transformer");
    const exporter = new InMemorySpanExporter();
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "carts" }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = p.getTracer("t");
    const roots = [0, 1, 2].map((i) => tracer.startSpan(`root ${i}`));
    for (let k = 0; k < 12; k++) {
      const parent = roots[k % 3 === 2 && k % 2 ? 0 : k % 3]!;
      tracer
        .startSpan(
          "GET",
          { attributes: { "http.route": `/r${k % 4}`, k } },
          trace.setSpan(ROOT_CONTEXT, parent),
        )
        .end();
    }
    for (const r of roots) r.end();
    const spans = exporter.getFinishedSpans();
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array);
    const strings = new ShortStringCache(8);
    for (let round = 0; round < 2; round++) {
      const out = decodeTraceRequest(body, strings);
      expect(out.spans.map((s) => [s.traceId, s.spanId, s.parentSpanId, s.name, s.attributes])).toEqual(
        spans.map((s) => [
          s.spanContext().traceId,
          s.spanContext().spanId,
          s.parentSpanContext?.spanId ?? "",
          s.name,
          s.attributes,
        ]),
      );
    }
    await p.shutdown();
  });
});
