import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, fingerprint, silentLogger } from "../src/core/index.js";
import { IncidentService, incidentsConfigSchema, type Alert } from "../src/incidents/index.js";
import {
  createIncidentStore,
  createSettingsStore,
  createTokenStore,
  type Database,
} from "../src/storage/index.js";
import { backends, dispose } from "./support/databases.js";

function alert(
  labels: Record<string, string>,
  status: "firing" | "resolved" = "firing",
  startsAt = 1000,
): Alert {
  return {
    fingerprint: fingerprint(labels),
    source: "test",
    labels,
    annotations: { summary: `${labels["alertname"] ?? "x"} on ${labels["service"] ?? "?"}` },
    status,
    startsAt,
    endsAt: status === "resolved" ? startsAt + 60_000 : null,
    generatorURL: null,
  };
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`incident storage on ${backend.name}`, () => {
    let database: Database;
    let clock: ManualClock;
    let svc: IncidentService;

    beforeEach(async () => {
      database = await backend.open();
      clock = new ManualClock(Date.UTC(2026, 5, 1));
      svc = new IncidentService({
        store: createIncidentStore(database.db),
        config: incidentsConfigSchema.parse({
          group_by: ["service"],
          reopen_window: "10m",
          flap: { threshold: 4, window: "1h" },
        }),
        clock,
        logger: silentLogger(),
      });
    });
    afterEach(async () => {
      await dispose(database);
    });

    it("groups alerts of one service into one incident and keeps each alert", async () => {
      const a = alert({ alertname: "HighLatency", service: "api", severity: "warning" });
      const b = alert({ alertname: "HighErrors", service: "api", severity: "critical" });
      const c = alert({ alertname: "HighErrors", service: "db" });
      const first = await svc.ingest([a], "alertmanager");
      expect(first.incidentsOpened).toHaveLength(1);
      clock.advance(30_000);
      const second = await svc.ingest([b, c], "alertmanager");
      expect(second.incidentsOpened).toHaveLength(1);

      const open = await svc.list({ limit: 10 });
      expect(open).toHaveLength(2);
      const api = open.find((i) => i.services.includes("api"));
      expect(api?.severity).toBe("P1"); // raised by the critical alert that joined
      const members = await svc.alerts(api!.id);
      expect(members.map((m) => m.labels["alertname"]).sort()).toEqual(["HighErrors", "HighLatency"]);
      const kinds = (await svc.timeline(api!.id)).map((e) => e.kind);
      expect(kinds).toEqual(["opened", "alert_fired", "severity_changed", "alert_joined"]);
    });

    it("is idempotent: the same batch twice changes nothing", async () => {
      const batch = [alert({ alertname: "A", service: "s1" }), alert({ alertname: "B", service: "s2" })];
      await svc.ingest(batch, "alertmanager");
      const before = await svc.list({ limit: 10 });
      const tl = await svc.timeline(before[0]!.id);
      clock.advance(5000);
      const again = await svc.ingest(batch, "alertmanager");
      expect(again.unchanged).toBe(2);
      expect(again.incidentsOpened).toEqual([]);
      expect(await svc.list({ limit: 10 })).toEqual(before);
      expect(await svc.timeline(before[0]!.id)).toEqual(tl);
    });

    it("auto-resolves when every alert resolved, and reopens on a re-fire within the window", async () => {
      const a = alert({ alertname: "Down", service: "web" });
      const { incidentsOpened } = await svc.ingest([a], "am");
      const id = incidentsOpened[0]!;
      clock.advance(60_000);
      await svc.ingest([{ ...a, status: "resolved", endsAt: clock.now() }], "am");
      expect((await svc.get(id)).status).toBe("resolved");
      clock.advance(5 * 60_000);
      const re = await svc.ingest([{ ...a, startsAt: clock.now(), endsAt: null }], "am");
      expect(re.incidentsOpened).toEqual([]);
      const inc = await svc.get(id);
      expect(inc.status).toBe("triggered");
      expect(inc.reopenCount).toBe(1);
      // Past the reopen window a re-fire opens a new incident.
      clock.advance(60_000);
      await svc.ingest([{ ...a, status: "resolved", endsAt: clock.now() }], "am");
      clock.advance(11 * 60_000);
      const fresh = await svc.ingest([{ ...a, startsAt: clock.now(), endsAt: null }], "am");
      expect(fresh.incidentsOpened).toHaveLength(1);
      expect(fresh.incidentsOpened[0]).not.toBe(id);
    });

    it("marks a flapping alert and stops passing its changes on", async () => {
      const changes: number[] = [];
      svc = new IncidentService({
        store: createIncidentStore(database.db),
        config: incidentsConfigSchema.parse({ flap: { threshold: 4, window: "1h" } }),
        clock,
        logger: silentLogger(),
        events: {
          alertsChanged: (c) => {
            changes.push(c.length);
          },
        },
      });
      const a = alert({ alertname: "Flappy", service: "q" });
      for (let i = 0; i < 6; i++) {
        clock.advance(60_000);
        await svc.ingest([{ ...a, status: i % 2 === 0 ? "firing" : "resolved", startsAt: 1000 + i }], "am");
      }
      // flips 1..3 pass on; from the 4th flip on the alert is flapping and silent
      expect(changes).toEqual([1, 1, 1]);
      const [inc] = await svc.list({ limit: 1 });
      const kinds = (await svc.timeline(inc!.id)).map((e) => e.kind);
      expect(kinds.filter((k) => k === "alert_flapping")).toHaveLength(1);
    });

    it("runs the lifecycle and refuses to move backwards", async () => {
      const { incidentsOpened } = await svc.ingest([alert({ alertname: "X", service: "y" })], "am");
      const id = incidentsOpened[0]!;
      clock.advance(120_000);
      expect((await svc.act(id, { type: "acknowledge" }, "user:alice")).status).toBe("acknowledged");
      expect((await svc.act(id, { type: "acknowledge" }, "user:alice")).acknowledgedAt).toBe(clock.now());
      await svc.act(id, { type: "assign", assignee: "bob" }, "user:alice");
      await svc.act(id, { type: "note", text: "restarted the pod" }, "user:bob");
      clock.advance(60_000);
      await svc.act(id, { type: "mitigate" }, "user:bob");
      await svc.act(id, { type: "resolve" }, "user:bob");
      await expect(svc.act(id, { type: "acknowledge" }, "user:bob")).rejects.toMatchObject({
        code: "INVALID_TRANSITION",
      });
      await svc.act(id, { type: "close" }, "user:bob");
      const inc = await svc.get(id);
      expect(inc.status).toBe("closed");
      expect(inc.assignee).toBe("bob");
      const tl = await svc.timeline(id);
      expect(tl.filter((e) => e.kind === "note")[0]?.data).toEqual({ text: "restarted the pod" });
      expect(tl.filter((e) => e.kind === "status_changed").map((e) => e.data["to"])).toEqual([
        "acknowledged",
        "mitigated",
        "resolved",
        "closed",
      ]);
      await expect(svc.get("inc_nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("filters lists by status, severity and service", async () => {
      await svc.ingest(
        [
          alert({ alertname: "A", service: "pay", severity: "critical" }),
          alert({ alertname: "B", service: "cart", severity: "warning" }),
        ],
        "am",
      );
      expect((await svc.list({ limit: 10, severity: ["P1"] })).map((i) => i.services)).toEqual([["pay"]]);
      expect((await svc.list({ limit: 10, service: "cart" })).map((i) => i.severity)).toEqual(["P3"]);
      expect(await svc.list({ limit: 10, status: ["resolved"] })).toEqual([]);
    });

    it("stores tokens by hash and settings by key", async () => {
      const tokens = createTokenStore(database.db);
      await tokens.insert(
        { id: "tok_1", name: "ci", role: "operator", createdAt: 1, lastUsedAt: null, revokedAt: null },
        "h1",
      );
      expect((await tokens.findByHash("h1"))?.role).toBe("operator");
      expect(await tokens.revoke("tok_1", 5)).toBe(true);
      expect(await tokens.revoke("tok_1", 6)).toBe(false);
      expect((await tokens.findByHash("h1"))?.revokedAt).toBe(5);

      const settings = createSettingsStore(database.db);
      await settings.set("kill", { on: true }, 1);
      await settings.set("kill", { on: false }, 2);
      expect(await settings.get("kill")).toEqual({ on: false });
      expect(await settings.get("missing")).toBeUndefined();
    });
  });
}
