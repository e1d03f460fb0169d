import { describe, expect, it } from "vitest";
import { parseExposition, scanExposition, scanSamples, type ExpositionFormat } from "./prom-text.js";

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

describe("scanSamples (the scraper's fast path) against scanExposition", () => {
  const num = (v: number | undefined) => (v === undefined ? "none" : Object.is(v, -0) ? "-0" : String(v));
  function viaCursor(text: string, format: ExpositionFormat, hints?: (string | undefined)[]) {
    const out: unknown[] = [];
    const r = scanSamples(
      text,
      format,
      {
        sample(c) {
          let labels: unknown;
          try {
            labels = c.labels();
          } catch (e) {
            labels = (e as Error).message;
          }
          if (c.hinted) hintedSamples++;
          out.push([c.key(), c.name(), labels, num(c.value), num(c.timestampMs)]);
        },
      },
      hints,
    );
    return { r, out };
  }
  function viaLines(text: string, format: ExpositionFormat) {
    const out: unknown[] = [];
    const r = scanExposition(text, format, {
      sample(key, name, labels, value, ts) {
        let parsed: unknown;
        try {
          parsed = labels();
        } catch (e) {
          parsed = (e as Error).message;
        }
        out.push([key, name, parsed, num(value), num(ts)]);
      },
    });
    return { r, out };
  }
  let hintedSamples = 0;
  const keysOf = (text: string, format: ExpositionFormat) =>
    viaCursor(text, format).out.map((s) => (s as string[])[0]);
  /** Also with hints: the texts themselves (all hit), another input's (mostly miss), and shifted by one. */
  const same = (text: string, format: ExpositionFormat, other = "") => {
    const slow = viaLines(text, format);
    const fast = viaCursor(text, format);
    expect(fast).toEqual(slow);
    const own = keysOf(text, format);
    for (const hints of [own, keysOf(other, format), [undefined, ...own], own.slice(1), ["x", "", ...own]])
      expect(viaCursor(text, format, hints)).toEqual(slow);
    return fast;
  };

  const TRICKY = [
    TEXT,
    'esc{a="x\\\\y",b="q\\"uote",c="new\\nline",d="\\t-kept"} 1\n',
    'sp { a = "1" , b="2" }   7   123\n',
    "tabs\t1\t-5\r\ncrlf 2\r\n",
    "v 1.5e3\nv2 -0\nv3 +12.25\nv4 .5\nv5 5.\nv6 00.5\nv7 0.1\nv8 123456789012345\nv9 1234567890123456789\n",
    "i +Inf\nj -Inf\nk NaN\nl Inf\nm inf\nn nan\no +infinity\n",
    "ts_big 1 12345678901234567\nts_neg 1 -17\n",
    "# HELP x with \\\\ and \\n escapes\n#   TYPE x gauge\n#\tTYPE y counter\n# just a comment\nx 1\n",
    "#TYPE x bogus\nx 1\n",
    "  \n\t\nafter_blank 1\n",
    "bad 0x10\n",
    "bad 1_000\n",
    "bad 1.2.3\n",
    "bad .\n",
    "bad 1 1.5\n",
    "bad 1 2 3\n",
    'bad{a="1" 2\n',
    'bad{a="1",a="2"} 2\n',
    'bad{1a="x"} 2\n',
    "bad{} \n",
    " leading 1\n",
    "# TYPE x nonsense\n",
    "x 1\n\ny 2\n",
    // Texts that start with another sample's text: a hint must not match a prefix.
    'm 1\nm_total 2\nm{a="1"} 3\nm{a="1"}4\nm{a="1"} 5 6\nm{a="1"}\n',
  ];
  it("gives the same samples, labels, values, timestamps and errors (Prometheus text)", () => {
    hintedSamples = 0;
    TRICKY.forEach((text, i) => same(text, "prometheus", TRICKY[(i + 1) % TRICKY.length]));
    expect(hintedSamples).toBeGreaterThan(20);
  });

  const OM_TRICKY = [
    `# TYPE foo counter\n# HELP foo Things.\n# UNIT foo seconds\nfoo_total{a="b"} 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67\nfoo_created{a="b"} 1520430000.123\n# TYPE g gauge\ng 1.5\ng_created 3\n_created 4\n# EOF\n`,
    'h 1 # {a="1"} 2 3\n# EOF\n',
    "h 1 1.5e3\nk NaN\n# EOF",
    "h 1\n# EOF\n\n",
    "h 1\n\n# EOF\n",
    "h 1\n# EOF\nafter 2\n",
    "h 1\n",
    "h 1 notatime\n# EOF\n",
    "h 1 1 extra\n# EOF\n",
    "# EOF\r\n",
  ];
  it("gives the same results on OpenMetrics (EOF, exemplars, _created, seconds timestamps)", () => {
    OM_TRICKY.forEach((text, i) => same(text, "openmetrics", OM_TRICKY[(i + 1) % OM_TRICKY.length]));
    expect(viaCursor(OM_TRICKY[0] as string, "openmetrics").out.map((s) => (s as string[])[1])).toEqual([
      "foo_total",
      "g",
      "g_created",
      "_created",
    ]);
  });

  it("parses plain decimals to the same double as Number()", () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const intDigits = Array.from({ length: rnd(9) }, () => rnd(10)).join("");
      const fracDigits = Array.from({ length: rnd(10) }, () => rnd(10)).join("");
      const sign = ["", "-", "+"][rnd(3)] as string;
      const v = `${sign}${intDigits}${rnd(2) ? "." : ""}${fracDigits}`;
      lines.push(`m${i} ${/\d/.test(v) ? v : "0"}`);
    }
    const text = lines.join("\n") + "\n";
    const { r, out } = same(text, "prometheus");
    expect(r.status).toBe("ok");
    for (let i = 0; i < lines.length; i++) {
      const raw = (lines[i] as string).split(" ")[1] as string;
      expect((out[i] as string[])[3]).toBe(num(Number(raw)));
    }
  });
});
