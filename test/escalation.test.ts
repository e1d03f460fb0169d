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

  it("pages when a run fails, except a run of the closed loop, which tries the next cause itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "novasre-esc-"));
    writeFileSync(
      join(dir, "broken.yaml"),
      'name: broken\ntarget: "{{ params.service }}"\nparams: { service: { required: true } }\nsteps:\n  - { id: no, kind: command, argv: ["false"] }\n',
    );
    const t = await testApp({ runbooks: { builtin: false, dirs: [dir] }, loop: { enabled: false } });
    try {
      const run = async (service: string, actor: string) => {
        const e = await t.app.runbooks.startNamed({
          runbook: "broken",
          params: { service },
          actor,
          reason: "test",
        });
        await waitFor(
          `${actor}'s run to fail`,
          async () => ((await t.app.executions.get(e.id))?.status === "failed" ? true : undefined),
          10_000,
        );
        return e.id;
      };
      // The loop's run first: its page, were there one, would be ingested before the other's.
      const byLoop = await run("a", "healing:loop");
      const byPerson = await run("b", "user:alice");
      const pagesOf = async (id: string) => {
        const out = [];
        for (const i of await t.app.incidents.list({ limit: 50 }))
          for (const a of await t.app.incidents.alerts(i.id))
            if (a.labels["alertname"] === ESCALATION_ALERTNAME && a.annotations["execution"] === id)
              out.push(a);
        return out;
      };
      const page = await waitFor(
        "the page for the failed run",
        async () => (await pagesOf(byPerson))[0],
        10_000,
      );
      expect(page.labels).toMatchObject({ escalation: "execution_failed", runbook: "broken" });
      expect(await pagesOf(byLoop)).toEqual([]);
    } finally {
      await t.app.close();
    }
  });
});
