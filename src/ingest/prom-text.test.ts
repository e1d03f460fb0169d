import { describe, expect, it } from "vitest";
import { parseExposition, scanExposition } from "./prom-text.js";

const TEXT = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
nan_metric NaN
neg{a="1",} -Inf
`;

describe("Prometheus text format", () => {
  it("parses samples, labels with escapes, special values and timestamps", () => {
    const r = parseExposition(TEXT);
    if (r.status !== "ok") throw new Error(r.error);
    const s = r.value;
    expect(s).toHaveLength(7);
    expect(s[0]).toEqual({
      name: "http_requests_total",
      labels: { method: "post", code: "200" },
      value: 1027,
      timestampMs: 1395066363000,
    });
    expect(s[2]?.labels).toEqual({ path: "C:\\DIR\\FILE.TXT", error: 'Cannot find file:\n"FILE.TXT"' });
    expect(s[2]?.value).toBe(1.458255915e9);
    expect(s[3]).toEqual({
      name: "metric_without_timestamp_and_labels",
      labels: {},
      value: 12.47,
      timestampMs: undefined,
    });
    expect(s[4]?.value).toBe(Infinity);
    expect(s[4]?.timestampMs).toBe(-3982045);
    expect(Number.isNaN(s[5]?.value)).toBe(true);
    expect(s[6]).toMatchObject({ labels: { a: "1" }, value: -Infinity });
  });

  it("reports the first malformed line", () => {
    const bad = 'ok 1\nbroken{a="x" 2\n';
    const r = parseExposition(bad);
    expect(r.status).toBe("error");
    if (r.status === "error") expect(r.error).toMatch(/^line 2:/);
    expect(parseExposition("x notanumber\n").status).toBe("error");
    expect(parseExposition('x{a="1",a="2"} 1\n').status).toBe("error");
    expect(parseExposition("x 1 1.5\n").status).toBe("error");
    expect(parseExposition("# TYPE x bogus\n").status).toBe("error");
  });

  it("gives each sample's series text, so repeats can skip label parsing", () => {
    const keys: string[] = [];
    scanExposition('a{x="1"} 1\na{x="1"} 2\nb 3\n', "prometheus", { sample: (k) => keys.push(k) });
    expect(keys).toEqual(['a{x="1"}', 'a{x="1"}', "b"]);
  });
});

describe("OpenMetrics", () => {
  const OM = `# TYPE foo counter
# HELP foo Things.
# UNIT foo seconds
foo_total{a="b"} 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
foo_created{a="b"} 1520430000.123
# TYPE g gauge
g 1.5
# EOF
`;
  it("parses seconds timestamps, drops _created and exemplars, requires # EOF", () => {
    const r = parseExposition(OM, "openmetrics");
    if (r.status !== "ok") throw new Error(r.error);
    expect(r.value).toEqual([
      { name: "foo_total", labels: { a: "b" }, value: 17, timestampMs: 1520879607789 },
      { name: "g", labels: {}, value: 1.5, timestampMs: undefined },
    ]);
    expect(parseExposition("g 1\n", "openmetrics").status).toBe("error");
    expect(parseExposition("# EOF\ng 1\n", "openmetrics").status).toBe("error");
  });
});

describe("real expositions", () => {
  it("parses prom-client's output, both formats", async () => {
    const { Registry, Counter, Histogram, collectDefaultMetrics } = await import("prom-client");
    for (const type of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
      const registry = new Registry<typeof type>();
      registry.setContentType(type);
      collectDefaultMetrics({ register: registry });
      new Counter({ name: "jobs_total", help: "jobs", labelNames: ["queue"], registers: [registry] }).inc(
        { queue: 'a"b\\c' },
        3,
      );
      const h = new Histogram({
        name: "latency_seconds",
        help: "latency",
        buckets: [0.1, 1],
        registers: [registry],
      });
      h.observe(0.5);
      const r = parseExposition(
        await registry.metrics(),
        type === Registry.OPENMETRICS_CONTENT_TYPE ? "openmetrics" : "prometheus",
      );
      if (r.status !== "ok") throw new Error(r.error);
      expect(r.value.find((s) => s.name === "jobs_total")).toMatchObject({
        labels: { queue: 'a"b\\c' },
        value: 3,
      });
      expect(
        r.value.find((s) => s.name === "latency_seconds_bucket" && s.labels["le"] === "+Inf")?.value,
      ).toBe(1);
      expect(r.value.filter((s) => s.name === "process_cpu_seconds_total").length).toBeGreaterThan(0);
    }
  });
});
