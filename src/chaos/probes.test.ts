import { describe, expect, it } from "vitest";
import { jsonPath } from "./jsonpath.js";
import { checkTolerance, findSample, runProbe } from "./probes.js";

describe("JSONPath subset", () => {
  const doc = { a: { b: [{ c: 1 }, { c: 2 }], "x-y": true }, list: [10, 20, 30] };
  it("selects members, indexes, wildcards and descendants", () => {
    expect(jsonPath(doc, "$.a.b[0].c")).toEqual([1]);
    expect(jsonPath(doc, "$.a.b[*].c")).toEqual([1, 2]);
    expect(jsonPath(doc, "$['a']['x-y']")).toEqual([true]);
    expect(jsonPath(doc, "$.list[-1]")).toEqual([30]);
    expect(jsonPath(doc, "$..c")).toEqual([1, 2]);
    expect(jsonPath(doc, "$.nope")).toEqual([]);
    expect(() => jsonPath(doc, "a.b")).toThrow(/start with \$/);
  });
});

describe("tolerances", () => {
  const http = {
    status: 200,
    body: '{"p99": 120, "state": "green"}',
    json: { p99: 120, state: "green" },
    time_ms: 12,
  };
  it("checks exact, one_of, range, regex and JSONPath, all of them together", () => {
    expect(checkTolerance(http, { equals: 200 }, "status").ok).toBe(true);
    expect(checkTolerance(http, { one_of: [500, 503] }, "status").ok).toBe(false);
    expect(checkTolerance(http, { jsonpath: "$.p99", range: [0, 100] }, "status").reason).toMatch(
      /outside \[0, 100\]/,
    );
    expect(checkTolerance(http, { jsonpath: "$.state", regex: "^gr" }, "status").ok).toBe(true);
    expect(checkTolerance(http, { target: "body", regex: "green", equals: "x" }, "status").ok).toBe(false);
  });
  it("compares to a baseline within a relative band", () => {
    const t = { target: "time_ms" as const, baseline: { max_increase_pct: 50 } };
    expect(checkTolerance({ ...http, time_ms: 14 }, t, "status", 10).ok).toBe(true);
    expect(checkTolerance({ ...http, time_ms: 16 }, t, "status", 10).reason).toMatch(/50% above baseline 10/);
    expect(checkTolerance(http, t, "status", undefined).ok).toBe(false);
  });
  it("without conditions, holds for 2xx/3xx and exit code 0; a probe error never holds", () => {
    expect(checkTolerance({ ...http, status: 503 }, undefined, "status").ok).toBe(false);
    expect(checkTolerance({ exit_code: 0, time_ms: 1 }, undefined, "exit_code").ok).toBe(true);
    expect(checkTolerance({ time_ms: 1, error: "ECONNREFUSED" }, { equals: 200 }, "status").reason).toBe(
      "ECONNREFUSED",
    );
  });
  it("reads samples from Prometheus text", () => {
    const text =
      '# HELP x\nhttp_requests_total{code="500",route="/a"} 7\nhttp_requests_total{code="200"} 3\nup 1\n';
    expect(findSample(text, "http_requests_total", { code: "500" })).toBe(7);
    expect(findSample(text, "up", {})).toBe(1);
    expect(findSample(text, "down", {})).toBeUndefined();
  });
  it("runs a process probe and captures exit code and output", async () => {
    const out = await runProbe({
      name: "p",
      process: { argv: ["sh", "-c", "echo hi; exit 3"], env: {}, timeout: 5000 },
    });
    expect(out.exit_code).toBe(3);
    expect(out.stdout).toBe("hi\n");
  });
});
