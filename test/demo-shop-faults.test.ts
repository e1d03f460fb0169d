import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFaketime } from "../src/chaos/index.js";
import { LocalProcessProvider } from "../src/providers/index.js";
import type { ActionRequest } from "../src/providers/index.js";
import { PARTITION_BLACKHOLE_URL, Shop, ShopProvider } from "../src/demo/index.js";
import { waitFor } from "./support/ports.js";

async function call(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    signal: AbortSignal.timeout(10_000),
    ...(body !== undefined
      ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

const MB = 1024 * 1024;

describe("demo shop faults and repairs (real processes)", () => {
  let shop: Shop;
  let provider: ShopProvider;
  const url = (id: string) => shop.instances().find((i) => i.id === id)!.url!;
  const metricsOf = (id: string) => `${url(id)}/metrics`;
  const act = (verb: ActionRequest["verb"], target: string, args: ActionRequest["args"] = {}) =>
    provider.run({ verb, target, args, signal: new AbortController().signal });
  const checkout = async (user: string) => {
    expect(
      (await call("POST", `${shop.gatewayUrl}/api/cart/${user}/items`, { productId: "p-mug", qty: 1 }))
        .status,
    ).toBe(200);
    return call("POST", `${shop.gatewayUrl}/api/checkout`, { user });
  };

  beforeAll(async () => {
    shop = await Shop.start({
      configs: { payments: { failure_rate: 0 }, store: { disk_quota_mb: 16 } },
      // A paused process never answers SIGTERM; keep any graceful stop short on a busy machine.
      stopGraceMs: 3_000,
    });
    provider = new ShopProvider(shop);
  }, 120_000);

  afterAll(async () => {
    await shop?.stop();
  });

  it("/healthz tells the process's wall time, so a probe can measure skew", async () => {
    const before = Date.now();
    const h = await call("GET", `${url("catalog-0")}/healthz`);
    expect(h.body["now"]).toBeGreaterThanOrEqual(before - 1_000);
    expect(h.body["now"]).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it("cpu_hog burns CPU in the service's own process until lifted", async () => {
    const m = metricsOf("catalog-0");
    const before = await metric(m, "process_cpu_seconds_total");
    expect(await shop.setFaults("catalog", { cpu_hog: 0.8 })).toEqual(["catalog-0"]);
    expect((await call("GET", `${url("catalog-0")}/admin/faults`)).body["faults"]).toMatchObject({
      cpu_hog: 0.8,
    });
    await waitFor("catalog to burn a CPU second", async () =>
      (await metric(m, "process_cpu_seconds_total")) - before > 1 ? true : undefined,
    );
    await shop.setFaults("catalog", { cpu_hog: 0 });
    await expect(shop.setFaults("catalog", { cpu_hog: 2 })).rejects.toThrow(/cpu_hog/);
  });

  it("leak_mb_per_s grows RSS, and a restart gives the memory back and clears the fault", async () => {
    const m = metricsOf("cart-0");
    const before = await metric(m, "process_resident_memory_bytes");
    await shop.setFaults("cart", { leak_mb_per_s: 40 });
    await waitFor("cart's RSS to grow by 80 MB", async () =>
      (await metric(m, "process_resident_memory_bytes")) - before > 80 * MB ? true : undefined,
    );
    const f = await call("GET", `${url("cart-0")}/admin/faults`);
    expect(f.body["leaked_mb"]).toBeGreaterThan(40);
    expect((await shop.restart("cart")).ready).toBe(true);
    expect((await call("GET", `${url("cart-0")}/admin/faults`)).body).toMatchObject({
      faults: { cpu_hog: 0, leak_mb_per_s: 0 },
      leaked_mb: 0,
    });
    expect(await metric(metricsOf("cart-0"), "process_resident_memory_bytes")).toBeLessThan(before + 80 * MB);
    expect(shop.lastChange("cart")).toMatchObject({ kind: "restart" });
  });

  it("a full disk makes the store not ready and refuse writes; purging rotated logs brings it back", async () => {
    const store = url("store-0");
    const path = await shop.fillDisk(20);
    expect(path).toBe(join(shop.directory, "logs", "store-0.log.1"));
    expect(await shop.fillDisk(1)).toBe(join(shop.directory, "logs", "store-0.log.2"));
    const r = await waitFor("store not ready", async () => {
      const x = await call("GET", `${store}/readyz`);
      return x.status === 503 ? x : undefined;
    });
    expect(r.body["reason"]).toMatch(/^disk full: \d+\.\d MB used of 16 MB quota$/);
    // The store measures its disk once a second: "not ready" can come from a measurement taken while the
    // 20 MB file was still being written, so the gauge is awaited rather than read once.
    await waitFor("disk_used_bytes above 21 MB", async () =>
      (await metric(`${store}/metrics`, "disk_used_bytes", { service: "store" })) > 21 * MB
        ? true
        : undefined,
    );
    expect((await call("PUT", `${store}/kv/carts/disk-user`, { items: [] })).status).toBe(507);
    expect((await call("GET", `${store}/kv/products/p-mug`)).status).toBe(200);
    expect((await call("GET", `${shop.gatewayUrl}/api/catalog`)).status).toBe(200);
    const add = await call("POST", `${shop.gatewayUrl}/api/cart/disk-user/items`, {
      productId: "p-mug",
      qty: 1,
    });
    expect(add.status).toBeGreaterThanOrEqual(500);

    const purged = await shop.purgeLogs();
    expect(purged).toEqual({ removed: 2, bytes: 21 * MB });
    const left = readdirSync(join(shop.directory, "logs"));
    expect(left).toContain("store-0.log");
    expect(left.filter((n) => /\.log\.\d+$/.test(n))).toEqual([]);
    await waitFor("store ready again", async () =>
      (await call("GET", `${store}/readyz`)).status === 200 ? true : undefined,
    );
    expect((await call("PUT", `${store}/kv/carts/disk-user`, { items: [] })).status).toBe(200);
  });

  it("a paused service answers nothing until resumed or restarted", async () => {
    expect(shop.pause("catalog")).toBe(1);
    expect(shop.instances("catalog")[0]).toMatchObject({ state: "running", paused: true });
    await expect(
      fetch(`${url("catalog-0")}/healthz`, { signal: AbortSignal.timeout(1_000) }),
    ).rejects.toThrow();
    expect(shop.resume("catalog")).toBe(1);
    expect((await call("GET", `${url("catalog-0")}/healthz`)).status).toBe(200);

    const pid = shop.instances("payments")[0]!.pid;
    expect(shop.pause("payments-0")).toBe(1);
    const r = await shop.restart("payments");
    expect(r).toEqual({ ready: true, reasons: {} });
    expect(shop.instances("payments")[0]).toMatchObject({ state: "running", paused: false });
    expect(shop.instances("payments")[0]!.pid).not.toBe(pid);
    expect(() => process.kill(pid!, 0)).toThrow();
    expect((await checkout("after-pause")).status).toBe(201);
  });

  it("a bad config pushed without rollback sticks, and rollbackConfig returns to the last good one", async () => {
    const good = shop.config("payments");
    const r = await shop.applyConfig(
      "payments",
      { ...good, timeout_ms: 1 },
      { rollback: false, readyTimeoutMs: 3_000 },
    );
    expect(r).toMatchObject({ outcome: "applied_not_ready", service: "payments" });
    if (r.outcome !== "applied_not_ready") return;
    expect(r.reason).toMatch(/timeout_ms/);
    expect(shop.config("payments")["timeout_ms"]).toBe(1);
    expect(shop.lastChange("payments")).toMatchObject({ kind: "config" });
    expect((await shop.health("payments"))[0]!.ready).toBe(false);

    const back = await shop.rollbackConfig("payments");
    expect(back).toMatchObject({ outcome: "rolled_back", recovered: true, restored: good });
    expect(shop.config("payments")).toEqual(good);
    expect((await checkout("after-rollback")).status).toBe(201);

    const again = await shop.rollbackConfig("payments");
    expect(again).toMatchObject({ outcome: "rolled_back", recovered: true });
    if (again.outcome === "rolled_back") expect(again.reason).toMatch(/already on the last known-good/);
  });

  it("a partition makes calls fail with refused connections; healing or restarting the caller ends it", async () => {
    const orders = metricsOf("orders-0");
    const errorsBefore = await metric(orders, "upstream_requests_total", {
      upstream: "payments",
      code: "error",
    });
    await shop.partition("orders", "payments");
    expect((await call("GET", `${url("orders-0")}/admin/upstreams`)).body["upstreams"]).toMatchObject({
      payments: [PARTITION_BLACKHOLE_URL],
    });
    expect((await checkout("partitioned")).status).toBe(502);
    expect(
      await metric(orders, "upstream_requests_total", { upstream: "payments", code: "error" }),
    ).toBeGreaterThan(errorsBefore);
    await shop.healPartition("orders", "payments");
    expect((await call("POST", `${shop.gatewayUrl}/api/checkout`, { user: "partitioned" })).status).toBe(201);

    await shop.partition("orders", "payments");
    expect((await checkout("partitioned-2")).status).toBe(502);
    expect((await shop.restart("orders")).ready).toBe(true);
    expect((await call("GET", `${url("orders-0")}/admin/upstreams`)).body["upstreams"]).toMatchObject({
      payments: [url("payments-0")],
    });
    expect((await call("POST", `${shop.gatewayUrl}/api/checkout`, { user: "partitioned-2" })).status).toBe(
      201,
    );
    await expect(shop.partition("payments", "orders")).rejects.toThrow(/cannot partition/);
  });

  it("a restart can carry extra environment for that process only", async () => {
    const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    expect((await shop.restart("catalog", { env: { NOVA_GAMEDAY_MARK: "skew" } })).ready).toBe(true);
    const i = shop.instances("catalog")[0]!;
    expect(i.env).toEqual({ NOVA_GAMEDAY_MARK: "skew" });
    if (existsSync(`/proc/${i.pid}/environ`)) expect(environ(i.pid!)).toContain("NOVA_GAMEDAY_MARK=skew");
    expect((await shop.restart("catalog")).ready).toBe(true);
    const j = shop.instances("catalog")[0]!;
    expect(j.env).toBeUndefined();
    if (existsSync(`/proc/${j.pid}/environ`)) expect(environ(j.pid!)).not.toContain("NOVA_GAMEDAY_MARK=skew");
  });

  it.runIf(!!findFaketime())(
    "skewClock moves a service's wall clock; a plain restart puts it right",
    async () => {
      expect((await shop.skewClock("catalog", 120)).ready).toBe(true);
      const skewed = (await call("GET", `${url("catalog-0")}/healthz`)).body["now"] as number;
      expect(skewed - Date.now()).toBeGreaterThan(100_000);
      expect((await shop.restart("catalog")).ready).toBe(true);
      const fixed = (await call("GET", `${url("catalog-0")}/healthz`)).body["now"] as number;
      expect(Math.abs(fixed - Date.now())).toBeLessThan(10_000);
    },
  );

  it.runIf(!findFaketime())("skewClock without libfaketime says what is missing", async () => {
    await expect(shop.skewClock("catalog", 120)).rejects.toThrow(/libfaketime/);
  });

  it("ShopProvider: status, restart of crashed and paused instances, stop and start", async () => {
    const st = await act("status", "payments");
    expect(st).toMatchObject({
      status: "ok",
      value: { data: { instances: [{ id: "payments-0", state: "running", ready: true }] } },
    });

    shop.kill("payments");
    await waitFor("payments crashed", () => shop.instances("payments")[0]!.state === "crashed");
    const crashed = await act("status", "payments-0");
    expect(crashed).toMatchObject({ value: { data: { instances: [{ state: "crashed", ready: false }] } } });
    expect(await act("restart", "payments")).toMatchObject({
      status: "ok",
      value: { data: { instances: [{ state: "running", ready: true }] } },
    });

    shop.pause("catalog-0");
    expect(await act("status", "catalog")).toMatchObject({
      value: { data: { instances: [{ state: "paused", healthy: false }] } },
    });
    expect(await act("restart", "catalog-0")).toMatchObject({ status: "ok" });

    expect(await act("stop", "cart")).toMatchObject({
      status: "ok",
      value: { data: { instances: [{ state: "stopped" }] } },
    });
    expect(await act("start", "cart")).toMatchObject({
      status: "ok",
      value: { data: { instances: [{ state: "running", ready: true }] } },
    });
    expect(await act("start", "cart")).toMatchObject({ status: "ok", value: { message: /already running/ } });
    expect((await checkout("provider-user")).status).toBe(201);
  });

  it("ShopProvider: scale, rollback and cleanup; bad requests are error values", async () => {
    expect(await act("scale", "catalog", { replicas: 2 })).toMatchObject({ status: "ok" });
    expect(shop.instances("catalog")).toHaveLength(2);
    expect(shop.lastChange("catalog")).toMatchObject({ kind: "scale" });
    expect(await act("scale", "catalog", { replicas: 1 })).toMatchObject({ status: "ok" });

    const good = shop.config("payments");
    await shop.applyConfig(
      "payments",
      { ...good, timeout_ms: 1 },
      { rollback: false, readyTimeoutMs: 3_000 },
    );
    const rb = await act("rollback", "payments");
    expect(rb).toMatchObject({ status: "ok", value: { data: { restored: good, recovered: true } } });
    expect(shop.config("payments")).toEqual(good);

    await shop.fillDisk(2);
    expect(await act("cleanup", "store")).toMatchObject({
      status: "ok",
      value: { data: { removed: 1, bytes: 2 * MB } },
    });
    expect(await act("cleanup", "shop")).toMatchObject({ status: "ok", value: { data: { removed: 0 } } });

    expect(await act("restart", "nope")).toMatchObject({ status: "error", retryable: false });
    expect(await act("scale", "store", { replicas: 2 })).toMatchObject({ status: "error", retryable: false });
    expect(await act("scale", "catalog", { replicas: 0 })).toMatchObject({ status: "error" });
    expect(await act("rollback", "catalog-0")).toMatchObject({ status: "error", retryable: false });
    const aborted = new AbortController();
    aborted.abort();
    expect(
      await provider.run({ verb: "restart", target: "catalog", args: {}, signal: aborted.signal }),
    ).toMatchObject({ status: "error" });
  });

  it("the local provider answers an error value for verbs it does not support", async () => {
    const local = new LocalProcessProvider([{ name: "sleeper", argv: ["sleep", "30"] }]);
    const signal = new AbortController().signal;
    for (const verb of ["rollback", "cleanup"] as const) {
      const r = await local.run({ verb, target: "sleeper", args: {}, signal });
      expect(r).toMatchObject({ status: "error", retryable: false });
      if (r.status === "error") expect(r.error).toMatch(/not supported/);
    }
    await local.close();
  });
});
