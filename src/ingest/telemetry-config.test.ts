import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { validateConfig } from "../config/index.js";
import { testApp } from "../../test/support/app.js";
import { DEFAULT_MAX_SERIES, DEFAULT_SCRAPE_INTERVAL_MS, telemetryConfigSchema } from "./telemetry-config.js";
import { resolveTargets } from "./scraper.js";

describe("telemetry config", () => {
  it("fills in named defaults and parses durations", () => {
    const c = validateConfig({
      telemetry: { scrape: { targets: [{ url: "http://h:9100/metrics", job: "node", interval: "30s" }] } },
    }).telemetry;
    expect(c.scrape.interval).toBe(DEFAULT_SCRAPE_INTERVAL_MS);
    expect(c.series.max_series).toBe(DEFAULT_MAX_SERIES);
    const [t] = resolveTargets(c.scrape);
    expect(t).toMatchObject({
      job: "node",
      instance: "h:9100",
      service: "node",
      intervalMs: 30_000,
      timeoutMs: 10_000,
    });
    // A timeout longer than the interval is cut to the interval.
    const [short] = resolveTargets(
      telemetryConfigSchema.parse({ scrape: { targets: [{ url: "http://h/m", job: "j", interval: "5s" }] } })
        .scrape,
    );
    expect(short?.timeoutMs).toBe(5_000);
  });

  it("lists every problem", () => {
    const r = telemetryConfigSchema.safeParse({
      scrape: { targets: [{ url: "not a url", job: "" }] },
      predictive: { rules: [{ name: "r", match: {}, threshold: 1 }] },
      otlp: { max_queue_spans: 0 },
    });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join(".")).sort();
    expect(paths).toEqual([
      "otlp.max_queue_spans",
      "predictive.rules.0.match",
      "scrape.targets.0.job",
      "scrape.targets.0.url",
    ]);
  });
});

describe("telemetry in the app", () => {
  it("scrapes configured targets and reports them over the API", async () => {
    const server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/plain" }).end("queue_depth 4\n"),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
    const t = await testApp({ telemetry: { scrape: { targets: [{ url, job: "orders" }] } } });
    try {
      expect((await t.app.telemetry.scraper.scrapeOnce(0)).status).toBe("ok");
      const res = await t.req("GET", "/api/v1/telemetry/targets", { token: await t.token("viewer") });
      const body = (await res.json()) as {
        targets: { job: string; health: string; series: number }[];
        series: { held: number };
      };
      expect(body.targets).toMatchObject([{ job: "orders", health: "up", series: 1 }]);
      // queue_depth, up and scrape_duration_seconds.
      expect(body.series.held).toBe(3);
      expect(t.app.telemetry.store.select({ __name__: "queue_depth" })[0]?.labels).toMatchObject({
        job: "orders",
        service: "orders",
      });
    } finally {
      await t.app.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
