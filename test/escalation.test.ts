// When automation gives up it pages a human: the page is a critical alert the incident pipeline (and so
// notify) carries, not a log line.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ESCALATION_ALERTNAME } from "../src/runbooks/index.js";
import { testApp } from "./support/app.js";
import { waitFor } from "./support/ports.js";

describe("escalations", () => {
  it("turns a tripped storm breaker into a critical incident", async () => {
    const dir = mkdtempSync(join(tmpdir(), "novasre-esc-"));
    writeFileSync(
      join(dir, "noop.yaml"),
      'name: noop\ntarget: "{{ params.service }}"\nparams: { service: { required: true } }\nsteps:\n  - { id: ok, kind: command, argv: ["true"] }\n',
    );
    const t = await testApp({
      runbooks: { builtin: false, dirs: [dir], storm: { max: 1, window: "10m" } },
      loop: { enabled: false },
    });
    try {
      const start = (service: string) =>
        t.app.runbooks.startNamed({ runbook: "noop", params: { service }, actor: "test", reason: "test" });
      await start("a");
      await expect(start("b")).rejects.toThrow(/storm breaker/);
      const inc = await waitFor(
        "the escalation incident",
        async () =>
          (await t.app.incidents.list({ limit: 10 })).find((i) => i.title.includes("storm breaker")),
        10_000,
      );
      expect(inc.severity).toBe("P1");
      const alerts = await t.app.incidents.alerts(inc.id);
      expect(alerts[0]?.labels).toMatchObject({
        alertname: ESCALATION_ALERTNAME,
        escalation: "storm_breaker",
      });
    } finally {
      await t.app.close();
    }
  });
});
