import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { experimentSchema, httpWatcher } from "../src/chaos/index.js";
import { validateConfig } from "../src/config/index.js";
import { silentLogger } from "../src/core/index.js";
import { createToken } from "../src/http/index.js";
import { createTokenStore } from "../src/storage/index.js";
import { amPayload, testApp, type TestApp } from "./support/app.js";

describe("chaos routes on the API", () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "novasre-chaos-http-"));
    t = await testApp({ chaos: { state_dir: dir, level: "dev", watchdog: false } });
  });
  afterAll(async () => {
    await t.app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("emergency stop is admin-only, reverts every ledger entry and blocks runs until cleared", async () => {
    const marker = join(dir, "reverted");
    t.app.chaos.state.ledger.record({
      id: "flt_1",
      runId: "run_x",
      fault: "left-over",
      target: "disk",
      revert: [{ kind: "write-file", path: marker, content: "yes" }],
      appliedAt: 1,
      pid: 1,
    });
    const viewer = await t.token("viewer");
    const admin = await t.token("admin");
    const status = await t.req("GET", "/api/v1/chaos/status", { token: viewer });
    expect(((await status.json()) as { active: unknown[] }).active).toHaveLength(1);
    expect((await t.req("POST", "/api/v1/chaos/stop", { token: viewer, body: {} })).status).toBe(403);
    const stop = await t.req("POST", "/api/v1/chaos/stop", { token: admin, body: { reason: "drill" } });
    expect(stop.status).toBe(200);
    const body = (await stop.json()) as { reverted: { fault: string }[] };
    expect(body.reverted.map((r) => r.fault)).toEqual(["left-over"]);
    expect(readFileSync(marker, "utf8")).toBe("yes");
    const after = (await (await t.req("GET", "/api/v1/chaos/status", { token: viewer })).json()) as {
      stop: { by: string; reason: string } | null;
      active: unknown[];
    };
    expect(after.active).toEqual([]);
    expect(after.stop).toMatchObject({ by: "user:test-admin", reason: "drill" });
    const exp = experimentSchema.parse({ title: "blocked", method: [{ wait: "1ms" }] });
    expect((await t.app.chaos.run(exp)).status).toBe("refused");
    expect((await t.req("DELETE", "/api/v1/chaos/stop", { token: admin })).status).toBe(200);
    expect((await t.app.chaos.run(exp)).status).toBe("completed");
    const metrics = await (await t.req("GET", "/metrics")).text();
    expect(metrics).toMatch(/chaos_experiments_total\{status="refused",level="dev"\} 1/);
    expect(metrics).toMatch(/chaos_experiments_total\{status="completed",level="dev"\} 1/);
    expect(metrics).toMatch(/safety_violations_total\{kind="emergency_stop"\} 1/);
  });
});

describe("chaos engine watched by the platform in the same app", () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "novasre-chaos-watch-"));
    t = await testApp({ chaos: { state_dir: dir, level: "dev", watchdog: false } });
  });
  afterAll(async () => {
    await t.app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("journals the incident the platform opened for the fault and when it was resolved", async () => {
    const token = await t.token("admin");
    const run = t.app.chaos.run(
      experimentSchema.parse({
        title: "watched disk fill",
        method: [{ fault: { name: "fill", type: "disk-fill", path: dir, mb: 1 } }, { wait: "1500ms" }],
        platform_wait: "5s",
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    t.clock.advance(5_000);
    const sent = await t.req("POST", "/api/v1/alerts/alertmanager", {
      token,
      body: amPayload([
        {
          labels: { alertname: "DiskFilling", service: "shop", severity: "warning" },
          startsAt: new Date(t.clock.now() - 2_000).toISOString(),
        },
      ]),
    });
    expect(sent.status).toBeLessThan(300);
    const list = (await (await t.req("GET", "/api/v1/incidents", { token })).json()) as {
      incidents: { id: string }[];
    };
    const id = list.incidents[0]?.id as string;
    await new Promise((r) => setTimeout(r, 1500));
    t.clock.advance(10_000);
    expect((await t.req("POST", `/api/v1/incidents/${id}/resolve`, { token })).status).toBe(200);
    const j = await run;
    expect(j.platform?.incident_id).toBe(id);
    expect(j.platform?.time_to_detect_s).toBe(3);
    expect(j.platform?.time_to_open_s).toBe(5);
    expect(j.platform?.time_to_recover_s).toBe(15);
  });
});

describe("HTTP platform watcher against a running server", () => {
  it("reads incidents opened since a time, and open incidents by severity", async () => {
    const app = await createApp(
      validateConfig({ storage: { url: "sqlite::memory:" }, server: { port: 0 } }),
      {
        logger: silentLogger(),
      },
    );
    try {
      const url = await app.listen();
      const token = (await createToken(createTokenStore(app.database.db), "w", "admin", Date.now())).token;
      const since = Date.now() - 1000;
      const res = await fetch(`${url}/api/v1/alerts/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(amPayload([{ labels: { alertname: "Down", service: "shop" } }])),
      });
      expect(res.status).toBeLessThan(300);
      const w = httpWatcher(url, token);
      const seen = await w.incidentsSince(since);
      expect(seen).toHaveLength(1);
      expect(await w.incidentsSince(Date.now() + 60_000)).toEqual([]);
      const sev = seen[0]?.severity as string;
      expect(await w.openIncidents([sev])).toHaveLength(1);
      expect(await w.openIncidents(["P0", "P1", "P2", "P3"].filter((s) => s !== sev))).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
