import { afterEach, describe, expect, it } from "vitest";
import { testApp, type TestApp } from "./support/app.js";

describe("metric series through detection", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.app.close();
    t = undefined;
  });

  it("watches the series the config selects (by default the RED series from traces) and no others", async () => {
    t = await testApp();
    const { store, analyzer } = t.app.telemetry;
    const red = store.upsert({ __name__: "trace_error_ratio", service: "cart", job: "traces" })!;
    const other = store.upsert({ __name__: "node_cpu_seconds_total", service: "cart", job: "node" })!;
    analyzer.observe(red, 1000, 0);
    analyzer.observe(other, 1000, 0);
    expect(red.state).toMatchObject({ detector: expect.any(Object) as unknown });
    expect(other.state).toBeNull();
  });

  it("opens an incident when a watched series jumps far from its normal level", async () => {
    t = await testApp({
      detection: { detector: "robust", watch: [{ matchers: ['__name__="queue_depth"'] }] },
    });
    const { store, analyzer } = t.app.telemetry;
    const s = store.upsert({ __name__: "queue_depth", service: "orders" })!;
    let now = Date.UTC(2026, 5, 1);
    for (let i = 0; i < 600; i++) analyzer.observe(s, (now += 15_000), 10 + (i % 5) * 0.1);
    for (let i = 0; i < 5; i++) analyzer.observe(s, (now += 15_000), 500);
    const alerts = analyzer.flush();
    expect(alerts.map((a) => a.labels["alertname"])).toContain("AnomalyDetected");
    await t.app.incidents.ingest(alerts, "anomaly");
    const [inc] = await t.app.incidents.list({ limit: 5 });
    expect(inc?.services).toEqual(["orders"]);
  });

  it("alerts once for an event that grows, unless detection.quiet_after_alert is 0", async () => {
    const alertsFor = async (quiet?: number) => {
      t = await testApp({
        detection: {
          detector: "robust",
          watch: [{ matchers: ['__name__="queue_depth"'] }],
          ...(quiet === undefined ? {} : { quiet_after_alert: quiet }),
        },
      });
      const { store, analyzer } = t.app.telemetry;
      const s = store.upsert({ __name__: "queue_depth", service: "orders" })!;
      let now = Date.UTC(2026, 5, 1);
      const feed = (v: number) => analyzer.observe(s, (now += 15_000), v);
      for (let i = 0; i < 600; i++) feed(10 + (i % 5) * 0.1);
      // A spike, long enough a calm for its alert to resolve, then a far larger one: the same event.
      feed(500);
      for (let i = 0; i < 10; i++) feed(10 + (i % 5) * 0.1);
      feed(50_000);
      const fired = analyzer
        .flush()
        .filter((a) => a.labels["alertname"] === "AnomalyDetected" && a.status === "firing");
      await t.app.close();
      t = undefined;
      return fired.length;
    };
    expect(await alertsFor()).toBe(1);
    expect(await alertsFor(0)).toBe(2);
  });

  it("gives a series the detector of the first selector that matches it", async () => {
    const alertsFor = async (watch: { matchers: string[]; detector?: "stuck" }[]) => {
      t = await testApp({ detection: { detector: "robust", watch } });
      const { store, analyzer } = t.app.telemetry;
      const s = store.upsert({ __name__: "disk_writes", service: "store" })!;
      let now = Date.UTC(2026, 5, 1);
      // Short runs of changing values, then the value stops changing: a stuck exporter.
      for (let i = 0; i < 600; i++) analyzer.observe(s, (now += 15_000), Math.floor(i / 3) % 7);
      for (let i = 0; i < 60; i++) analyzer.observe(s, (now += 15_000), 4);
      const fired = analyzer.flush().filter((a) => a.labels["alertname"] === "AnomalyDetected");
      await t.app.close();
      t = undefined;
      return fired.length;
    };
    const disk = 'service="store"';
    // The robust baseline sees nothing odd in a value it has seen every few samples.
    expect(await alertsFor([{ matchers: [disk] }])).toBe(0);
    expect(await alertsFor([{ matchers: [disk], detector: "stuck" }])).toBeGreaterThan(0);
    // The first selector that matches decides.
    expect(await alertsFor([{ matchers: [disk] }, { matchers: [disk], detector: "stuck" }])).toBe(0);
  });
});
