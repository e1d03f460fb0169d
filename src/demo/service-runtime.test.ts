import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../core/index.js";
import type { ShopService } from "./config.js";
import { startService, type RunningService, type ServiceFactory } from "./service-runtime.js";
import { SERVICE_FACTORIES } from "./services.js";

let dir: string;
const running: RunningService[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shop-svc-"));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(
  service: ShopService,
  config: unknown,
  upstreams: Record<string, string[]> = {},
  extra: { spans?: InMemorySpanExporter; random?: () => number } = {},
): Promise<RunningService> {
  const configPath = join(dir, `${service}-${running.length}.json`);
  await writeFile(configPath, JSON.stringify(config));
  const r = await startService(
    {
      service,
      instance: `${service}-t`,
      port: 0,
      configPath,
      upstreams,
      dataDir: join(dir, `data-${running.length}`),
      logger: silentLogger(),
      ...(extra.random ? { random: extra.random } : {}),
      ...(extra.spans ? { tracing: { spanProcessors: [new SimpleSpanProcessor(extra.spans)] } } : {}),
    },
    SERVICE_FACTORIES[service] as ServiceFactory,
  );
  running.push(r);
  return r;
}

async function req(
  url: string,
  method = "GET",
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    ...(body !== undefined
      ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  const t = await res.text();
  return { status: res.status, body: (t ? JSON.parse(t) : {}) as Record<string, unknown> };
}

const charge = { orderId: "o1", amount: 1000 };

describe("a shop service in process", () => {
  it("with a config the schema rejects: alive, not ready, says why, refuses work with 503", async () => {
    const p = await start("payments", { failure_rate: 2, timout_ms: 50 });
    expect((await req(`${p.url}/healthz`)).status).toBe(200);
    const ready = await req(`${p.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(String(ready.body["reason"])).toMatch(/failure_rate/);
    expect(String(ready.body["reason"])).toMatch(/did you mean "timeout_ms"/);
    expect((await req(`${p.url}/charges`, "POST", charge)).status).toBe(503);
    expect((await fetch(`${p.url}/metrics`)).status).toBe(200);
  });

  it("with a valid config that breaks it (payments.timeout_ms: 1): not ready, and charges time out with 504", async () => {
    const p = await start("payments", { timeout_ms: 1 });
    const ready = await req(`${p.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(String(ready.body["reason"])).toMatch(/timeout_ms/);
    expect((await req(`${p.url}/charges`, "POST", charge)).status).toBe(504);
    const m = await (await fetch(`${p.url}/metrics`)).text();
    expect(m).toMatch(/payments_failed_total\{reason="timeout",service="payments"\} 1/);
  });

  it("payments approves and declines by its failure rate", async () => {
    let x = 0.5;
    const p = await start(
      "payments",
      { failure_rate: 0.2, latency_ms: 1, jitter_ms: 0 },
      {},
      { random: () => x },
    );
    expect((await req(`${p.url}/readyz`)).status).toBe(200);
    expect((await req(`${p.url}/charges`, "POST", charge)).status).toBe(201);
    x = 0.1;
    expect((await req(`${p.url}/charges`, "POST", charge)).status).toBe(402);
    expect((await req(`${p.url}/charges`, "POST", { amount: -1 })).status).toBe(400);
  });

  it("fault knobs: error_rate answers work with 500 but never the probes", async () => {
    const p = await start("payments", { error_rate: 1 });
    expect((await req(`${p.url}/charges`, "POST", charge)).body).toEqual({ error: "injected fault" });
    expect((await req(`${p.url}/readyz`)).status).toBe(200);
  });

  it("is not ready without its upstreams, and becomes ready when they are pushed", async () => {
    const store = await start("store", {});
    const catalog = await start("catalog", {});
    expect((await req(`${catalog.url}/readyz`)).body["reason"]).toMatch(/no upstream instances for store/);
    expect((await req(`${catalog.url}/products`)).status).toBe(503);
    expect(
      (await req(`${catalog.url}/admin/upstreams`, "PUT", { upstreams: { store: ["not a url"] } })).status,
    ).toBe(400);
    await req(`${catalog.url}/admin/upstreams`, "PUT", { upstreams: { store: [store.url] } });
    expect((await req(`${catalog.url}/readyz`)).status).toBe(200);
    expect((await req(`${catalog.url}/products`)).body["products"]).toHaveLength(12);
  });

  it("catalog serves repeated reads from its cache, and not when cache_size is 0", async () => {
    const store = await start("store", {});
    const cached = await start("catalog", {}, { store: [store.url] });
    const uncached = await start("catalog", { cache_size: 0 }, { store: [store.url] });
    for (const c of [cached, uncached]) {
      expect((await req(`${c.url}/products/p-mug`)).body).toMatchObject({ id: "p-mug", price: 1490 });
      await req(`${c.url}/products/p-mug`);
      expect((await req(`${c.url}/products/p-nothing`)).status).toBe(404);
    }
    const hits = async (c: RunningService) =>
      /catalog_cache_requests_total\{result="hit",service="catalog"\} (\d+)/.exec(
        await (await fetch(`${c.url}/metrics`)).text(),
      )?.[1];
    expect(await hits(cached)).toBe("1");
    expect(await hits(uncached)).toBeUndefined();
  });

  it("propagates W3C trace context: the store's server span is a child of the catalog's client span", async () => {
    const spans = new InMemorySpanExporter();
    const store = await start("store", {}, {}, { spans });
    const catalog = await start("catalog", { cache_size: 0 }, { store: [store.url] }, { spans });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await fetch(`${catalog.url}/products`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);
    const all = spans.getFinishedSpans();
    const server = all.find((s) => s.name === "GET /products")!;
    const client = all.find((s) => s.name === "GET store")!;
    const storeServer = all.find((s) => s.name === "GET /kv/:table")!;
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(storeServer.spanContext().traceId).toBe(traceId);
    expect(storeServer.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    expect(storeServer.resource.attributes["service.name"]).toBe("store");
    // Probes and scrapes make no spans.
    await fetch(`${catalog.url}/metrics`);
    expect(spans.getFinishedSpans().filter((s) => s.name.includes("metrics"))).toEqual([]);
  });

  it("rejects bodies that are not JSON and routes that do not exist", async () => {
    const p = await start("payments", {});
    expect((await fetch(`${p.url}/charges`, { method: "POST", body: "{nope" })).status).toBe(400);
    expect((await fetch(`${p.url}/nothing`)).status).toBe(404);
    expect((await fetch(`${p.url}/charges`)).status).toBe(405);
  });

  it("the gateway moves a refused call to the next instance, but never repeats a POST that may have landed", async () => {
    const hits = { reset: 0, live: 0 };
    const servers: Server[] = [];
    const listen = async (handler: Parameters<typeof createServer>[1]) => {
      const srv = createServer(handler);
      servers.push(srv);
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
      return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    };
    try {
      const resetting = await listen((req) => {
        hits.reset++;
        req.socket.destroy();
      });
      const live = await listen((req, res) => {
        hits.live++;
        req.resume();
        res.writeHead(201, { "content-type": "application/json" }).end('{"id":"o1"}');
      });
      const closed = await listen(() => undefined);
      await new Promise((r) => servers.pop()!.close(r));
      const others = { catalog: [live], cart: [live] };
      const checkout = (g: RunningService) => req(`${g.url}/api/checkout`, "POST", { user: "u" });

      const refusedFirst = await start("gateway", { retries: 1 }, { ...others, orders: [closed, live] });
      expect(await checkout(refusedFirst)).toEqual({ status: 201, body: { id: "o1" } });
      expect(hits.live).toBe(1);

      const resetFirst = await start("gateway", { retries: 1 }, { ...others, orders: [resetting, live] });
      expect((await checkout(resetFirst)).status).toBe(502);
      expect(hits).toEqual({ reset: 1, live: 1 });
      expect((await checkout(resetFirst)).status).toBe(201);
    } finally {
      for (const srv of servers) srv.close();
    }
  });
});
