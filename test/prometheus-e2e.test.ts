import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, silentLogger } from "../src/core/index.js";
import {
  PromQLClient,
  PromQLSource,
  Scraper,
  SeriesStore,
  resolveTargets,
  telemetryConfigSchema,
} from "../src/ingest/index.js";
import { waitFor } from "./support/ports.js";
import { prometheusBinary, startPrometheus, type RunningPrometheus } from "./support/prometheus.js";

describe.skipIf(!prometheusBinary)("PromQL source against a real Prometheus", () => {
  let target: Server;
  let targetHost = "";
  let prom: RunningPrometheus;
  let client: PromQLClient;
  let scrapes = 0;

  beforeAll(async () => {
    target = createServer((_req, res) => {
      scrapes++;
      res
        .writeHead(200, { "content-type": "text/plain; version=0.0.4" })
        .end(
          [
            "# TYPE e2e_queue_depth gauge",
            'e2e_queue_depth{service="carts",queue="orders"} 42.5',
            "# TYPE e2e_requests_total counter",
            `e2e_requests_total{service="carts"} ${scrapes * 10}`,
            "",
          ].join("\n"),
        );
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    targetHost = `127.0.0.1:${(target.address() as { port: number }).port}`;
    prom = await startPrometheus(
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: e2e",
        "    static_configs:",
        `      - targets: ["${targetHost}"]`,
        "",
      ].join("\n"),
    );
    client = new PromQLClient(prom.url, { timeoutMs: 5_000 });
    await waitFor(
      "Prometheus to scrape the target",
      async () => {
        const r = await client.instant('e2e_requests_total{job="e2e"}');
        return r.status === "ok" && r.value.series.length === 1 ? true : undefined;
      },
      30_000,
      250,
    );
  });

  afterAll(async () => {
    await prom?.stop();
    await new Promise<void>((r) => target.close(() => r()));
  });

  it("runs instant queries and returns labelled vectors", async () => {
    const r = await client.instant("e2e_queue_depth");
    if (r.status !== "ok") throw new Error(r.error);
    expect(r.value.resultType).toBe("vector");
    expect(r.value.series).toHaveLength(1);
    const s = r.value.series[0];
    expect(s?.labels).toMatchObject({
      __name__: "e2e_queue_depth",
      job: "e2e",
      instance: targetHost,
      queue: "orders",
    });
    expect(s?.values).toEqual([42.5]);
    const scalar = await client.instant("1 + 2");
    expect(scalar.status === "ok" && scalar.value.series[0]?.values).toEqual([3]);
  });

  it("runs range queries whose samples follow the target", async () => {
    // Wait until a few more scrapes are stored, then read them back.
    await waitFor("three scrapes", () => (scrapes >= 4 ? true : undefined), 20_000, 200);
    const end = Date.now();
    const r = await client.range("e2e_requests_total", end - 10_000, end, 1_000);
    if (r.status !== "ok") throw new Error(r.error);
    expect(r.value.resultType).toBe("matrix");
    const vals = r.value.series[0]?.values ?? [];
    expect(vals.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < vals.length; i++) expect(vals[i]).toBeGreaterThanOrEqual(vals[i - 1] as number);
    expect(vals.every((v) => v % 10 === 0)).toBe(true);
  });

  it("reports a bad query as a non-retryable failure and an unreachable server as retryable", async () => {
    const bad = await client.instant("sum(");
    expect(bad.status).toBe("error");
    if (bad.status === "error") {
      expect(bad.retryable).toBe(false);
      expect(bad.error).toMatch(/bad_data/);
    }
    const down = await new PromQLClient("http://127.0.0.1:1", { timeoutMs: 1_000 }).instant("up");
    expect(down.status === "error" && down.retryable).toBe(true);
  });

  it("feeds query results into the series store, labelled like our own scraper's series", async () => {
    const clock = new ManualClock(Date.now());
    const store = new SeriesStore();
    const source = new PromQLSource({
      client,
      queries: [{ name: "queue_depth", query: "e2e_queue_depth", service_label: "service" }],
      intervalMs: 60_000,
      store,
      clock,
      logger: silentLogger(),
    });
    await source.runOnce();
    const [s] = store.select({ __name__: "queue_depth" });
    expect(s?.labels).toMatchObject({ service: "carts", job: "e2e", instance: targetHost });
    expect(s?.last()?.v).toBe(42.5);
    expect(source.status()[0]?.lastError).toBeNull();

    const cfg = telemetryConfigSchema.parse({
      scrape: { targets: [{ url: `http://${targetHost}/metrics`, job: "e2e" }] },
    });
    const own = new SeriesStore();
    const scraper = new Scraper({
      targets: resolveTargets(cfg.scrape),
      store: own,
      clock,
      logger: silentLogger(),
      maxBodyBytes: 1 << 20,
    });
    await scraper.scrapeOnce(0);
    await scraper.stop();
    const mine = own.select({ __name__: "e2e_queue_depth" })[0]?.labels;
    // Same target, same job: Prometheus and our scraper agree on every label of the series.
    const { __name__: _ours, ...mineRest } = mine ?? {};
    const { __name__: _theirs, ...theirsRest } = s?.labels ?? {};
    expect(mineRest).toEqual(theirsRest);
  });
});
