import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, silentLogger, type Labels } from "../core/index.js";
import type { Alert } from "../incidents/index.js";
import { testApp } from "../../test/support/app.js";
import { Scraper, relabel, resolveTargets } from "./scraper.js";
import { SeriesAnalyzer, type SeriesDetector } from "./series-analyzer.js";
import { SeriesStore } from "./series-store.js";
import { telemetryConfigSchema } from "./telemetry-config.js";

/** Stand-in for the detect module: flags a value more than 4 running standard deviations from the mean. */
class StandInDetector implements SeriesDetector {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  update(_t: number, v: number) {
    const sd = Math.sqrt(this.n > 1 ? this.m2 / (this.n - 1) : 0);
    const expected = this.mean;
    const score = sd > 0 ? Math.abs(v - this.mean) / sd : 0;
    const anomaly = this.n >= 5 && score > 4;
    if (!anomaly) {
      this.n++;
      const d = v - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (v - this.mean);
    }
    return { score, anomaly, expected };
  }
}

let body = "";
let contentType = "text/plain; version=0.0.4";
let status = 200;
let hang = false;
let server: Server;
let url = "";

beforeAll(async () => {
  server = createServer((_req, res) => {
    if (!hang) res.writeHead(status, { "content-type": contentType }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function setup(opts: { detector?: boolean; rules?: unknown[] } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const config = telemetryConfigSchema.parse({
    scrape: { targets: [{ url, job: "shop", service: "carts", labels: { team: "web" } }] },
    predictive: { rules: opts.rules ?? [], min_samples: 4 },
  });
  const alerts: Alert[] = [];
  const analyzer = new SeriesAnalyzer({
    clock,
    logger: silentLogger(),
    ...(opts.detector
      ? {
          detectorFactory: (l: Labels) =>
            l["__name__"] === "latency_seconds" ? new StandInDetector() : undefined,
        }
      : {}),
    rules: config.predictive.rules,
    minSamples: config.predictive.min_samples,
    emit: (a) => void alerts.push(...a),
  });
  const store = new SeriesStore({ onEnd: (s) => analyzer.ended(s) });
  const scraper = new Scraper({
    targets: resolveTargets(config.scrape),
    store,
    analyzer,
    clock,
    logger: silentLogger(),
    maxBodyBytes: 1 << 20,
  });
  return { clock, store, scraper, alerts };
}

describe("relabel", () => {
  it("keeps an exposed service label unless the target names one", () => {
    expect(relabel("m", { service: "carts" }, { job: "shop" }, { service: "shop" })["service"]).toBe("carts");
    expect(relabel("m", {}, { job: "shop" }, { service: "shop" })["service"]).toBe("shop");
    expect(
      relabel("m", { service: "carts" }, { job: "shop", service: "web" }, { service: "web" }),
    ).toMatchObject({
      service: "web",
      exported_service: "carts",
    });
  });

  it("lets target labels win and keeps exposed ones as exported_*", () => {
    expect(relabel("m", { job: "x", a: "1" }, { job: "shop", instance: "h:1" })).toEqual({
      exported_job: "x",
      a: "1",
      job: "shop",
      instance: "h:1",
      __name__: "m",
    });
  });
});

describe("Scraper", () => {
  it("scrapes, relabels, ends series that disappear or whose target is down", async () => {
    const { clock, store, scraper } = setup();
    status = 200;
    contentType = "text/plain; version=0.0.4";
    body = 'requests_total{path="/a",job="inner"} 10\nrequests_total{path="/b"} 5\n';
    expect((await scraper.scrapeOnce(0)).status).toBe("ok");
    const host = new URL(url).host;
    const a = store.select({ __name__: "requests_total", path: "/a" })[0];
    expect(a?.labels).toEqual({
      __name__: "requests_total",
      path: "/a",
      exported_job: "inner",
      job: "shop",
      instance: host,
      service: "carts",
      team: "web",
    });
    expect(store.select({ __name__: "up" })[0]?.last()?.v).toBe(1);

    clock.advance(15_000);
    body = 'requests_total{path="/a",job="inner"} 12\n';
    await scraper.scrapeOnce(0);
    expect(a?.count).toBe(2);
    expect(a?.last()?.v).toBe(12);
    expect(store.select({ __name__: "requests_total", path: "/b" })).toHaveLength(0);

    clock.advance(15_000);
    body = 'requests_total{path="/a" 13\n';
    const bad = await scraper.scrapeOnce(0);
    expect(bad.status).toBe("error");
    // A malformed scrape adds nothing and ends the target's series; `up` records the failure.
    expect(a?.ended).toBe(true);
    expect(store.select({ __name__: "up" })[0]?.last()?.v).toBe(0);
    expect(scraper.status()[0]?.health).toBe("down");

    clock.advance(15_000);
    status = 500;
    expect((await scraper.scrapeOnce(0)).status).toBe("error");
    status = 200;
    await scraper.stop();
  });

  it("keeps series identity when exporters reorder, rename in place, drop and bring back series", async () => {
    const { clock, store, scraper } = setup();
    status = 200;
    contentType = "text/plain; version=0.0.4";
    const series = () =>
      [...store.all()]
        .filter((s) => s.labels["__name__"] === "m")
        .map((s) => `${s.labels["k"]}=${s.last()?.v}`)
        .sort();
    const scrape = async (text: string) => {
      clock.advance(15_000);
      body = text;
      expect((await scraper.scrapeOnce(0)).status).toBe("ok");
    };
    await scrape('m{k="a"} 1\nm{k="b"} 2\nm{k="c"} 3\n');
    const b = store.select({ __name__: "m", k: "b" })[0];
    // Same positions, one text changed to another of the same length: a new series there, "b" ends.
    await scrape('m{k="a"} 4\nm{k="x"} 5\nm{k="c"} 6\n');
    expect(series()).toEqual(["a=4", "c=6", "x=5"]);
    expect(b?.ended).toBe(true);
    // Reordered, and a label set written differently for the same series.
    await scrape('m{k="c"} 7\nm{ k = "a" } 8\nm{k="x"} 9\n');
    expect(series()).toEqual(["a=8", "c=7", "x=9"]);
    // "b" comes back as a fresh series; "x" is dropped.
    await scrape('m{k="c"} 10\nm{k="a"} 11\nm{k="b"} 12\n');
    expect(series()).toEqual(["a=11", "b=12", "c=10"]);
    expect(store.select({ __name__: "m", k: "b" })[0]?.count).toBe(1);
    // Fewer samples than before, then the series of a failed scrape come back.
    await scrape('m{k="a"} 13\n');
    expect(series()).toEqual(["a=13"]);
    clock.advance(15_000);
    body = "m{k= 1\n";
    expect((await scraper.scrapeOnce(0)).status).toBe("error");
    expect(series()).toEqual([]);
    await scrape('m{k="a"} 14\nm{k="c"} 15\n');
    expect(series()).toEqual(["a=14", "c=15"]);
    expect(store.select({ __name__: "up" })[0]?.last()?.v).toBe(1);
    expect(store.select({ __name__: "scrape_duration_seconds" })[0]?.count).toBe(7);
    await scraper.stop();
  });

  it("fails a scrape that takes longer than the target's timeout", async () => {
    const clock = new ManualClock();
    const cfg = telemetryConfigSchema.parse({
      scrape: { targets: [{ url, job: "slow", timeout: "150ms" }] },
    });
    const scraper = new Scraper({
      targets: resolveTargets(cfg.scrape),
      store: new SeriesStore(),
      clock,
      logger: silentLogger(),
      maxBodyBytes: 1024,
    });
    hang = true;
    try {
      const r = await scraper.scrapeOnce(0);
      expect(r.status === "error" && r.error).toMatch(/timeout after 150 ms/);
      expect(r.status === "error" && r.retryable).toBe(true);
    } finally {
      hang = false;
      await scraper.stop();
    }
  });

  it("refuses a body larger than the limit", async () => {
    const clock = new ManualClock();
    const cfg = telemetryConfigSchema.parse({ scrape: { targets: [{ url, job: "big" }] } });
    const scraper = new Scraper({
      targets: resolveTargets(cfg.scrape),
      store: new SeriesStore(),
      clock,
      logger: silentLogger(),
      maxBodyBytes: 64,
    });
    body = `big_metric{label="${"x".repeat(100)}"} 1\n`;
    const r = await scraper.scrapeOnce(0);
    expect(r.status === "error" && r.error).toMatch(/exceeds 64 bytes/);
    await scraper.stop();
  });

  it("reads OpenMetrics when the target answers with it", async () => {
    const { store, scraper } = setup();
    contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    body = "# TYPE jobs counter\njobs_total 3\njobs_created 1.7e9\n# EOF\n";
    expect((await scraper.scrapeOnce(0)).status).toBe("ok");
    expect(store.select({ __name__: "jobs_total" })[0]?.last()?.v).toBe(3);
    expect(store.select({ __name__: "jobs_created" })).toHaveLength(0);
    contentType = "text/plain; version=0.0.4";
    await scraper.stop();
  });
});

describe("detection seam", () => {
  it("turns a stand-in detector's verdicts into AnomalyDetected alerts, firing once and resolving", async () => {
    const { clock, scraper, alerts } = setup({ detector: true });
    const values = [0.1, 0.11, 0.09, 0.1, 0.12, 0.1, 0.1, 2.5, 0.1, 0.11, 0.1];
    for (const v of values) {
      body = `latency_seconds{route="/cart"} ${v}\nother 1\n`;
      await scraper.scrapeOnce(0);
      clock.advance(15_000);
    }
    expect(alerts.map((a) => a.status)).toEqual(["firing", "resolved"]);
    const fired = alerts[0] as Alert;
    expect(fired.source).toBe("anomaly");
    expect(fired.labels).toMatchObject({
      alertname: "AnomalyDetected",
      metric: "latency_seconds",
      service: "carts",
      route: "/cart",
      job: "shop",
    });
    expect(Number(fired.annotations["score"])).toBeGreaterThan(4);
    expect(Number(fired.annotations["expected"])).toBeCloseTo(0.103, 2);
    expect(alerts[1]?.fingerprint).toBe(fired.fingerprint);
    await scraper.stop();
  });

  it("raises a predicted breach with the forecast time", async () => {
    const { clock, scraper, alerts } = setup({
      rules: [{ name: "disk-full", match: { __name__: "disk_used_ratio" }, threshold: 0.9, horizon: "1h" }],
    });
    const t0 = clock.now();
    // +0.01 per minute from 0.5: reaches 0.9 forty minutes after the start.
    for (let i = 0; i < 6; i++) {
      body = `disk_used_ratio{mount="/"} ${0.5 + i * 0.01}\n`;
      await scraper.scrapeOnce(0);
      clock.advance(60_000);
    }
    expect(alerts).toHaveLength(1);
    const a = alerts[0] as Alert;
    expect(a.source).toBe("prediction");
    expect(a.labels).toMatchObject({
      alertname: "PredictedThresholdBreach",
      rule: "disk-full",
      service: "carts",
    });
    const predicted = Date.parse(a.annotations["predicted_at"] as string);
    expect(Math.abs(predicted - (t0 + 40 * 60_000))).toBeLessThan(60_000);
    await scraper.stop();
  });

  it("feeds IncidentService.ingest through the callback, which opens an incident", async () => {
    const t = await testApp();
    try {
      const analyzer = new SeriesAnalyzer({
        clock: t.clock,
        logger: silentLogger(),
        detectorFactory: () => ({ update: (_t, v) => ({ score: v, anomaly: v > 10 }) }),
        emit: (a) => t.app.incidents.ingest(a, "anomaly"),
      });
      const store = new SeriesStore();
      const s = store.upsert({ __name__: "queue_depth", service: "orders" });
      if (!s) throw new Error("no series");
      s.push(t.clock.now(), 50);
      analyzer.observe(s, t.clock.now(), 50);
      const [alert] = analyzer.flush();
      await t.app.incidents.drain();
      const incidents = await t.app.incidents.list({ limit: 10 });
      expect(alert?.labels["alertname"]).toBe("AnomalyDetected");
      expect(incidents.map((i) => i.services)).toEqual([["orders"]]);
    } finally {
      await t.app.close();
    }
  });
});
