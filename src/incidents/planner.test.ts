import { describe, expect, it } from "vitest";
import { fingerprint } from "../core/index.js";
import { incidentsConfigSchema } from "./config.js";
import type { Alert } from "./model.js";
import { planAlerts, type IngestState, groupKeyOf } from "./planner.js";
import { applyAction } from "./lifecycle.js";
import { severityOf } from "./severity.js";

const cfg = incidentsConfigSchema.parse({ group_by: ["service"], group_window: "5m" });
const T0 = Date.UTC(2026, 0, 1);

function alert(labels: Record<string, string>, status: "firing" | "resolved" = "firing"): Alert {
  return {
    fingerprint: fingerprint(labels),
    source: "t",
    labels,
    annotations: {},
    status,
    startsAt: T0,
    endsAt: null,
    generatorURL: null,
  };
}

function empty(): IngestState {
  return { alerts: new Map(), incidents: new Map(), openByGroup: new Map(), firing: new Map() };
}

/** Applies a plan to an in-memory state, as the store would, for multi-step scenarios. */
function commit(state: IngestState, plan: ReturnType<typeof planAlerts>): IngestState {
  for (const [k, v] of plan.alerts) state.alerts.set(k, v);
  for (const [k, v] of plan.incidents) state.incidents.set(k, v);
  state.firing = new Map();
  for (const a of state.alerts.values()) {
    if (a.status === "firing" && a.incidentId) {
      const s = state.firing.get(a.incidentId) ?? new Set<string>();
      s.add(a.fingerprint);
      state.firing.set(a.incidentId, s);
    }
  }
  return state;
}

describe("planAlerts", () => {
  it("ignores a resolved alert it never saw firing", () => {
    const plan = planAlerts([alert({ service: "a" }, "resolved")], empty(), cfg, T0, "t");
    expect(plan.unchanged).toBe(1);
    expect(plan.incidents.size).toBe(0);
  });

  it("opens a new incident once the group's incident has been quiet longer than the group window", () => {
    const state = empty();
    const p1 = planAlerts([alert({ service: "a", alertname: "x" })], state, cfg, T0, "t");
    commit(state, p1);
    const p2 = planAlerts([alert({ service: "a", alertname: "y" })], state, cfg, T0 + 4 * 60_000, "t");
    expect(p2.createdIncidents.size).toBe(0);
    commit(state, p2);
    const p3 = planAlerts([alert({ service: "a", alertname: "z" })], state, cfg, T0 + 10 * 60_000, "t");
    expect(p3.createdIncidents.size).toBe(1);
  });

  it("does not resolve an incident when one alert fires and resolves within a batch while another still fires", () => {
    const state = empty();
    const a = alert({ service: "a", alertname: "x" });
    const b = alert({ service: "a", alertname: "y" });
    commit(state, planAlerts([a], state, cfg, T0, "t"));
    const id = [...state.incidents.keys()][0] as string;
    const plan = planAlerts([b, { ...b, status: "resolved", endsAt: T0 + 2 }], state, cfg, T0 + 1000, "t");
    expect(plan.incidents.get(id)?.status).toBe("triggered");
    const both = planAlerts(
      [{ ...a, status: "resolved", endsAt: T0 + 3 }],
      commit(state, plan),
      cfg,
      T0 + 2000,
      "t",
    );
    expect(both.incidents.get(id)?.status).toBe("resolved");
    expect(both.resolved.map((i) => i.id)).toEqual([id]);
  });

  it("keeps auto-resolve off when configured", () => {
    const manual = incidentsConfigSchema.parse({ auto_resolve: false });
    const state = empty();
    const a = alert({ service: "a" });
    commit(state, planAlerts([a], state, manual, T0, "t"));
    const p = planAlerts([{ ...a, status: "resolved", endsAt: T0 + 1 }], state, manual, T0 + 1, "t");
    expect([...p.incidents.values()][0]?.status).toBe("triggered");
  });

  it("keys groups by the configured labels only", () => {
    expect(groupKeyOf(alert({ service: "a", pod: "1" }), cfg)).toBe(
      groupKeyOf(alert({ service: "a", pod: "2" }), cfg),
    );
    expect(groupKeyOf(alert({ service: "a" }), cfg)).not.toBe(groupKeyOf(alert({ service: "b" }), cfg));
  });
});

describe("severity and lifecycle", () => {
  it("maps labels to severities", () => {
    expect(severityOf({ severity: "critical" }, cfg.severity)).toBe("P1");
    expect(severityOf({ severity: "p0" }, cfg.severity)).toBe("P0");
    expect(severityOf({ severity: "WARNING" }, cfg.severity)).toBe("P3");
    expect(severityOf({}, cfg.severity)).toBe("P3");
    expect(severityOf({ severity: "weird" }, cfg.severity)).toBe("P3");
    const ruled = incidentsConfigSchema.parse({
      severity: { rules: [{ matchers: ['service="payments"', 'severity=~"crit.*"'], severity: "P0" }] },
    });
    expect(severityOf({ service: "payments", severity: "critical" }, ruled.severity)).toBe("P0");
    expect(severityOf({ service: "cart", severity: "critical" }, ruled.severity)).toBe("P1");
    expect(() =>
      incidentsConfigSchema.parse({ severity: { rules: [{ matchers: ["service=~~x"], severity: "P0" }] } }),
    ).toThrow(/unknown operator/);
  });

  it("stamps milestones and refuses backwards moves", () => {
    const state = empty();
    commit(state, planAlerts([alert({ service: "a" })], state, cfg, T0, "t"));
    const inc = [...state.incidents.values()][0]!;
    const resolved = applyAction(inc, { type: "resolve" }, "user:x", T0 + 5000);
    expect(resolved.incident.acknowledgedAt).toBe(T0 + 5000);
    expect(resolved.incident.resolvedAt).toBe(T0 + 5000);
    expect(() => applyAction(resolved.incident, { type: "mitigate" }, "user:x", T0 + 6000)).toThrow(
      /cannot mitigate an incident that is resolved/,
    );
    expect(applyAction(resolved.incident, { type: "resolve" }, "user:x", T0 + 7000).changed).toBe(false);
  });
});
