import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadGenerator, Shop, type ShopEvent } from "../src/demo/index.js";
import { waitFor } from "./support/ports.js";

// --- a tiny OTLP/HTTP protobuf receiver: counts POSTs and reads service.name and span ids -------------

interface SeenSpan {
  service: string;
  traceId: string;
  name: string;
}

/** Reads protobuf fields (tag, wire type, value) of one message; enough for the OTLP trace request. */
function* fields(buf: Buffer): Generator<[number, number, Buffer | bigint]> {
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[p++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield [field, wire, varint()];
    else if (wire === 2) {
      const len = Number(varint());
      yield [field, wire, buf.subarray(p, p + len)];
      p += len;
    } else if (wire === 1) {
      yield [field, wire, buf.subarray(p, p + 8)];
      p += 8;
    } else if (wire === 5) {
      yield [field, wire, buf.subarray(p, p + 4)];
      p += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}
const sub = (buf: Buffer, n: number): Buffer[] =>
  [...fields(buf)].filter(([f, w]) => f === n && w === 2).map(([, , v]) => v as Buffer);

/** ExportTraceServiceRequest{1: ResourceSpans{1: Resource{1: KeyValue}, 2: ScopeSpans{2: Span}}}. */
function decodeSpans(body: Buffer): SeenSpan[] {
  const out: SeenSpan[] = [];
  for (const rs of sub(body, 1)) {
    let service = "?";
    for (const res of sub(rs, 1))
      for (const kv of sub(res, 1)) {
        const key = sub(kv, 1)[0]?.toString("utf8");
        const strVal = sub(sub(kv, 2)[0] ?? Buffer.alloc(0), 1)[0]?.toString("utf8");
        if (key === "service.name" && strVal) service = strVal;
      }
    for (const ss of sub(rs, 2))
      for (const span of sub(ss, 2))
        out.push({
          service,
          traceId: sub(span, 1)[0]!.toString("hex"),
          name: sub(span, 5)[0]?.toString("utf8") ?? "",
        });
  }
  return out;
}

// --- helpers ------------------------------------------------------------------------------------------

async function call(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    ...(body !== undefined
      ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Sum of a metric's samples whose labels include all of `labels`. */
async function metric(
  metricsUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

function metricsUrl(shop: Shop, id: string): string {
  const i = shop.instances().find((x) => x.id === id);
  if (!i?.metricsUrl) throw new Error(`no instance ${id}`);
  return i.metricsUrl;
}

async function checkout(
  shop: Shop,
  user: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const add = await call("POST", `${shop.gatewayUrl}/api/cart/${user}/items`, {
    productId: "p-kettle",
    qty: 2,
  });
  expect(add.status).toBe(200);
  return call("POST", `${shop.gatewayUrl}/api/checkout`, { user });
}

// --- the shop, for real: six processes on loopback ------------------------------------------------------

describe("demo shop (real processes)", () => {
  let shop: Shop;
  let otlp: Server;
  let otlpPosts = 0;
  const spans: SeenSpan[] = [];
  const events: ShopEvent[] = [];

  beforeAll(async () => {
    otlp = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (
          req.method === "POST" &&
          req.url === "/v1/traces" &&
          req.headers["content-type"] === "application/x-protobuf"
        ) {
          otlpPosts++;
          spans.push(...decodeSpans(Buffer.concat(chunks)));
        }
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((r) => otlp.listen(0, "127.0.0.1", r));
    shop = await Shop.start({
      otlpUrl: `http://127.0.0.1:${(otlp.address() as AddressInfo).port}/v1/traces`,
      traceExportDelayMs: 500,
      // Declines are realistic but would make single checkouts in tests flaky.
      configs: { payments: { failure_rate: 0 } },
    });
    shop.onEvent((e) => events.push(e));
  }, 120_000);

  afterAll(async () => {
    await shop?.stop();
    await new Promise((r) => otlp?.close(r));
  });

  it("every service is up, healthy and ready, each its own process", async () => {
    const h = await shop.health();
    expect(h.map((i) => i.id).sort()).toEqual([
      "cart-0",
      "catalog-0",
      "gateway-0",
      "orders-0",
      "payments-0",
      "store-0",
    ]);
    for (const i of h)
      expect({ id: i.id, healthy: i.healthy, ready: i.ready }).toEqual({
        id: i.id,
        healthy: true,
        ready: true,
      });
    expect(new Set(h.map((i) => i.pid)).size).toBe(6);
    expect(h.map((i) => i.pid)).not.toContain(process.pid);
    expect(shop.scrapeTargets()).toHaveLength(6);
  });

  it("checks out end to end: cart -> orders -> payments -> store, and the counters move", async () => {
    const placedBefore = await metric(metricsUrl(shop, "orders-0"), "orders_total", { result: "placed" });
    const r = await checkout(shop, "alice");
    expect(r.status).toBe(201);
    expect(r.body["total"]).toBe(2 * 5900);
    const stored = await call("GET", `${shop.gatewayUrl}/api/orders/${String(r.body["id"])}`);
    expect(stored).toMatchObject({ status: 200, body: { user: "alice", status: "paid", total: 11800 } });
    expect((await call("GET", `${shop.gatewayUrl}/api/cart/alice`)).body["items"]).toEqual([]);
    expect(await metric(metricsUrl(shop, "orders-0"), "orders_total", { result: "placed" })).toBe(
      placedBefore + 1,
    );
    expect(
      await metric(metricsUrl(shop, "payments-0"), "payments_total", { result: "approved" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metric(metricsUrl(shop, "gateway-0"), "http_requests_total", {
        route: "/api/checkout",
        code: "201",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metric(metricsUrl(shop, "store-0"), "store_operations_total", { op: "put", table: "orders" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("counts each request on the gateway, with the service label and process metrics", async () => {
    const url = metricsUrl(shop, "gateway-0");
    const labels = { service: "gateway", route: "/api/catalog", code: "200" };
    const before = await metric(url, "http_requests_total", labels);
    for (let k = 0; k < 5; k++) {
      const r = await call("GET", `${shop.gatewayUrl}/api/catalog`);
      expect(r.status).toBe(200);
      expect((r.body["products"] as unknown[]).length).toBeGreaterThan(5);
    }
    expect(await metric(url, "http_requests_total", labels)).toBe(before + 5);
    expect(await metric(url, "http_request_duration_seconds_count", labels)).toBe(before + 5);
    expect(await metric(url, "process_resident_memory_bytes", { service: "gateway" })).toBeGreaterThan(0);
  });

  it("exports spans over OTLP/HTTP, one trace spanning gateway, orders, payments and store", async () => {
    const r = await checkout(shop, "trace-user");
    expect(r.status).toBe(201);
    const trace = await waitFor("a checkout trace across services", () => {
      const byTrace = new Map<string, Set<string>>();
      for (const s of spans) {
        if (!byTrace.has(s.traceId)) byTrace.set(s.traceId, new Set());
        byTrace.get(s.traceId)!.add(s.service);
      }
      return [...byTrace.entries()].find(([, svcs]) =>
        ["gateway", "orders", "cart", "payments", "store"].every((s) => svcs.has(s)),
      );
    });
    expect(otlpPosts).toBeGreaterThan(0);
    const names = spans.filter((s) => s.traceId === trace[0]).map((s) => `${s.service} ${s.name}`);
    expect(names).toContain("gateway POST /api/checkout");
    expect(names).toContain("payments POST /charges");
  });

  it("a killed service makes checkout fail with a 5xx, stays down until told, and a restart recovers", async () => {
    expect(shop.kill("payments")).toBe(1);
    await waitFor("payments to be seen crashed", () => shop.instances("payments")[0]!.state === "crashed");
    expect(events).toContainEqual(
      expect.objectContaining({ kind: "exited", instance: "payments-0", expected: false }),
    );
    const failed = await checkout(shop, "bob");
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(
      await metric(metricsUrl(shop, "orders-0"), "orders_total", { result: "failed" }),
    ).toBeGreaterThanOrEqual(1);
    // No auto-healing: healing is the platform's job.
    expect(shop.instances("payments")[0]!.state).toBe("crashed");
    const port = shop.instances("payments")[0]!.port;

    const r = await shop.restart("payments");
    expect(r).toEqual({ ready: true, reasons: {} });
    expect(shop.instances("payments")[0]).toMatchObject({ state: "running", port, restarts: 1 });
    expect((await call("POST", `${shop.gatewayUrl}/api/checkout`, { user: "bob" })).status).toBe(201);
  });

  it("scaling to two instances spreads traffic, and the gateway retries past a dead one", async () => {
    const out = await shop.scale("catalog", 2);
    expect(out.ready).toBe(true);
    const ids = shop.instances("catalog").map((i) => i.id);
    expect(ids).toEqual(["catalog-0", "catalog-1"]);
    const count = (id: string) => metric(metricsUrl(shop, id), "http_requests_total", { route: "/products" });
    const before = await Promise.all(ids.map(count));
    for (let k = 0; k < 10; k++)
      expect((await call("GET", `${shop.gatewayUrl}/api/catalog`)).status).toBe(200);
    const after = await Promise.all(ids.map(count));
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
    expect(after[0]! - before[0]! + (after[1]! - before[1]!)).toBe(10);

    shop.kill("catalog-1");
    await waitFor("catalog-1 crashed", () => shop.instances("catalog")[1]!.state === "crashed");
    for (let k = 0; k < 6; k++)
      expect((await call("GET", `${shop.gatewayUrl}/api/catalog`)).status).toBe(200);
    expect(
      await metric(metricsUrl(shop, "gateway-0"), "upstream_requests_total", {
        upstream: "catalog",
        code: "error",
      }),
    ).toBeGreaterThan(0);

    await shop.scale("catalog", 1);
    expect(shop.instances("catalog").map((i) => i.id)).toEqual(["catalog-0"]);
    expect((await call("GET", `${shop.gatewayUrl}/admin/upstreams`)).body["upstreams"]).toMatchObject({
      catalog: [shop.instances("catalog")[0]!.url],
    });
    await expect(shop.scale("store", 2)).rejects.toThrow(/cannot be scaled/);
  });

  it("a config that breaks payments is rolled back and the shop keeps selling", async () => {
    const before = shop.config("payments");
    const from = events.length;
    const r = await shop.applyConfig("payments", { ...before, timeout_ms: 1 }, { readyTimeoutMs: 5_000 });
    expect(r.outcome).toBe("rolled_back");
    if (r.outcome !== "rolled_back") return;
    expect(r.reason).toMatch(/timeout_ms/);
    expect(r.recovered).toBe(true);
    expect(shop.config("payments")).toEqual(before);
    // The push is announced when it begins, before the restart and the wait for readiness: the first
    // event of the change, before the new process starts.
    const mine = events.slice(from);
    expect(mine[0]).toMatchObject({ kind: "config_pushed", service: "payments" });
    expect(mine.findIndex((e) => e.kind === "started")).toBeGreaterThan(0);
    expect(mine).toContainEqual(expect.objectContaining({ kind: "config_rolled_back", service: "payments" }));
    expect((await checkout(shop, "carol")).status).toBe(201);
  });

  it("a good config change is applied and takes effect", async () => {
    const r = await shop.applyConfig("payments", { failure_rate: 1 });
    expect(r.outcome).toBe("applied");
    const declined = await checkout(shop, "dave");
    expect(declined.status).toBe(402);
    expect(
      await metric(metricsUrl(shop, "payments-0"), "payments_failed_total", { reason: "declined" }),
    ).toBeGreaterThanOrEqual(1);
    expect((await shop.applyConfig("payments", { failure_rate: 0 })).outcome).toBe("applied");
  });

  it("run-time faults take effect without a restart and can be lifted", async () => {
    const pid = shop.instances("catalog")[0]!.pid;
    expect(await shop.setFaults("catalog", { error_rate: 1 })).toEqual(["catalog-0"]);
    const r = await call("GET", `${shop.gatewayUrl}/api/catalog`);
    expect(r).toEqual({ status: 500, body: { error: "injected fault" } });
    await shop.setFaults("catalog", { error_rate: 0 });
    expect((await call("GET", `${shop.gatewayUrl}/api/catalog`)).status).toBe(200);
    expect(shop.instances("catalog")[0]!.pid).toBe(pid);
    await expect(shop.setFaults("catalog", { error_rate: 2 })).rejects.toThrow(/error_rate/);
  });

  it("the load generator sends a realistic mix and keeps its own statistics", async () => {
    const load = new LoadGenerator({ gatewayUrl: shop.gatewayUrl, ratePerS: 20, users: 5 });
    load.start();
    await waitFor("load to make checkouts", () => load.snapshot().byAction.checkout.ok >= 2, 60_000);
    const s = await load.stop();
    expect(s.running).toBe(false);
    expect(s.inFlight).toBe(0);
    expect(s.sent).toBe(s.ok + s.rejected + s.errors);
    expect(s.byAction.browse.sent + s.byAction.product.sent).toBeGreaterThan(0);
    expect(s.latencyMs.p50).not.toBeNull();
    expect(s.latencyMs.p50!).toBeLessThanOrEqual(s.latencyMs.p99!);
    const sent = s.sent;
    await new Promise((r) => setTimeout(r, 300));
    expect(load.snapshot().sent).toBe(sent);
  });

  it("stop ends every process", async () => {
    const pids = shop.instances().map((i) => i.pid!);
    await shop.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(shop.instances().every((i) => i.state === "stopped")).toBe(true);
  });
});
