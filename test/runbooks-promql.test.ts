// A validate step's metric probe asks the configured Prometheus, for real.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp, type TestApp } from "./support/app.js";
import { prometheusBinary, startPrometheus, type RunningPrometheus } from "./support/prometheus.js";

describe.skipIf(!prometheusBinary)("metric probes against a real Prometheus", () => {
  let prom: RunningPrometheus;
  let t: TestApp;
  beforeAll(async () => {
    prom = await startPrometheus("global:\n  evaluation_interval: 1s\n");
    const dir = mkdtempSync(join(tmpdir(), "novasre-promql-"));
    const rb = (name: string, expect: string) =>
      [
        `name: ${name}`,
        "steps:",
        "  - id: check",
        "    kind: validate",
        "    probe:",
        // vector(7): a constant PromQL answers without any scraped data.
        `      metric: { query: "vector(7)", expect: "${expect}" }`,
        "    deadline: 2s",
        "    interval: 500ms",
        "",
      ].join("\n");
    writeFileSync(join(dir, "ok.yaml"), rb("metric-ok", "value >= 5"));
    writeFileSync(join(dir, "bad.yaml"), rb("metric-bad", "value > 10"));
    t = await testApp({
      runbooks: { builtin: false, dirs: [dir] },
      telemetry: { prometheus: { url: prom.url } },
      loop: { enabled: false },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.app.close();
    await prom?.stop();
  });

  async function run(runbook: string) {
    const e = await t.app.runbooks.startNamed({ runbook, params: {}, actor: "test", reason: "test" });
    await t.app.executor.idle();
    return t.app.executions.get(e.id);
  }

  it("passes when the queried value meets the expectation", async () => {
    expect((await run("metric-ok"))?.status).toBe("succeeded");
  });

  it("fails at the deadline when it does not, saying what the value was", async () => {
    const e = await run("metric-bad");
    expect(e?.status).not.toBe("succeeded");
    expect(JSON.stringify(e?.results)).toMatch(/value 7 does not satisfy/);
  });
});
