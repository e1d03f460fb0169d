import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isNovaError } from "../core/index.js";
import { loadScenarioFile, parseScenarios } from "./scenario.js";

function problems(doc: unknown): string[] {
  try {
    parseScenarios(doc);
  } catch (e) {
    if (isNovaError(e)) return e.details.map((d) => `${d.path}: ${d.message}`);
    throw e;
  }
  return [];
}

describe("scenario files", () => {
  it("fills defaults per fault and takes the target as the expected cause", () => {
    const [s] = parseScenarios([{ name: "slow", target: "catalog", fault: "latency" }]);
    expect(s).toMatchObject({
      target: "catalog",
      fault: "latency",
      params: { ms: 800 },
      durationMs: 90_000,
      expect: { rootCause: "catalog", severity: "P1" },
    });
  });

  it("accepts a {scenarios: [...]} document and durations as text", () => {
    const out = parseScenarios({
      scenarios: [
        { name: "cut", target: "orders", fault: "partition", params: { peer: "payments" }, duration: "2m" },
      ],
    });
    expect(out[0]?.durationMs).toBe(120_000);
    expect(out[0]?.params).toEqual({ peer: "payments" });
  });

  it("names every problem with its path", () => {
    expect(problems([{ name: "x", target: "nope", fault: "latency" }]).join("\n")).toMatch(/\[0\]\.target/);
    expect(problems([{ name: "x", target: "orders", fault: "partition" }]).join("\n")).toMatch(
      /\[0\]\.params\.peer/,
    );
    expect(
      problems([{ name: "x", target: "orders", fault: "partition", params: { peer: "orders" } }]).join("\n"),
    ).toMatch(/itself/);
    expect(
      problems([{ name: "x", target: "cart", fault: "latency", params: { msec: 5 } }]).join("\n"),
    ).toMatch(/msec/);
    expect(
      problems([
        { name: "a", target: "cart", fault: "cpu-hog" },
        { name: "a", target: "cart", fault: "cpu-hog" },
      ]).join("\n"),
    ).toMatch(/used twice/);
    expect(problems([]).length).toBeGreaterThan(0);
  });

  it("reads YAML files and reports unreadable ones as user errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scn-"));
    const file = join(dir, "s.yaml");
    await writeFile(
      file,
      "- { name: down, target: payments, fault: process-kill, expect: { severity: P0 } }\n",
    );
    expect((await loadScenarioFile(file))[0]?.expect.severity).toBe("P0");
    await expect(loadScenarioFile(join(dir, "missing.yaml"))).rejects.toThrow(/cannot read/);
    await writeFile(file, "- [unclosed\n");
    await expect(loadScenarioFile(file)).rejects.toThrow(/not valid YAML/);
  });
});
