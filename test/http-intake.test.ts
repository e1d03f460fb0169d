import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signBody } from "../src/http/index.js";
import { amPayload, testApp, type TestApp } from "./support/app.js";

describe("intake and incident API (no ports)", () => {
  let t: TestApp;
  let op: string;
  beforeEach(async () => {
    t = await testApp({ auth: { receivers: { hmac_secret_env: "HMAC" } } }, { HMAC: "s3cret" });
    op = await t.token("operator");
  });
  afterEach(async () => {
    await t.app.close();
  });

  const post = (body: unknown, token = op) => t.req("POST", "/api/v1/alerts/alertmanager", { token, body });

  it("turns an Alertmanager notification into an incident, and a repeat changes nothing", async () => {
    const payload = amPayload([
      {
        labels: { alertname: "HighLatency", service: "checkout", severity: "critical" },
        annotations: { summary: "p99 above 2s" },
      },
      {
        labels: { alertname: "HighErrors", service: "checkout", severity: "warning" },
        annotations: { unknown_field_ok: "yes" },
      },
    ]);
    const first = await post({ ...payload, someFutureField: { x: 1 } });
    expect(first.status).toBe(200);
    const b1 = (await first.json()) as { incidentsOpened: string[] };
    expect(b1.incidentsOpened).toHaveLength(1);
    const id = b1.incidentsOpened[0]!;

    const snapshot = await (await t.req("GET", `/api/v1/incidents/${id}`, { token: op })).json();
    t.clock.advance(30_000);
    const again = (await (await post(payload)).json()) as { unchanged: number };
    expect(again.unchanged).toBe(2);
    expect(await (await t.req("GET", `/api/v1/incidents/${id}`, { token: op })).json()).toEqual(snapshot);

    const inc = (snapshot as { incident: { severity: string; title: string; services: string[] } }).incident;
    expect(inc.severity).toBe("P1");
    expect(inc.title).toBe("p99 above 2s");
    expect(inc.services).toEqual(["checkout"]);
  });

  it("rejects bad input with a 4xx naming the field, and writes nothing", async () => {
    const cases: [unknown, string | RegExp][] = [
      [{ ...amPayload([{ labels: { a: "b" } }]), version: "3" }, /^version: unsupported payload version/],
      [{ ...amPayload([{ labels: { a: "b" } }]), status: "burning" }, /^status: expected one of/],
      [
        amPayload([{ labels: { a: "b" } }, { labels: {} }]),
        /^alerts\[1\]\.labels: an alert needs at least one label/,
      ],
      [
        { ...amPayload([{ labels: { a: "b" }, startsAt: "yesterday" }]) },
        /^alerts\[0\]\.startsAt: expected an RFC 3339 timestamp/,
      ],
      [{ version: "4", status: "firing" }, /^alerts: required/],
      [
        {
          ...amPayload([{ labels: { a: "b" } }]),
          alerts: [{ status: "firing", labels: { a: 1 }, startsAt: "2026-06-01T00:00:00Z" }],
        },
        /^alerts\[0\]\.labels\.a: /,
      ],
    ];
    for (const [body, msg] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      const b = (await res.json()) as { error: { code: string; message: string } };
      expect(b.error.code).toBe("VALIDATION_FAILED");
      expect(b.error.message).toMatch(msg);
    }
    const malformed = await t.req("POST", "/api/v1/alerts/alertmanager", {
      token: op,
      raw: '{"version": "4",',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toMatch(
      /^malformed JSON/,
    );

    const big = await post(amPayload([{ labels: { a: "x".repeat(1_100_000) } }]));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");

    const list = (await (await t.req("GET", "/api/v1/incidents", { token: op })).json()) as {
      incidents: unknown[];
    };
    expect(list.incidents).toEqual([]);
  });

  it("authenticates receivers by bearer token or HMAC signature, and roles gate actions", async () => {
    const payload = amPayload([{ labels: { alertname: "A", service: "s" } }]);
    expect((await t.req("POST", "/api/v1/alerts/alertmanager", { body: payload })).status).toBe(401);
    const viewer = await t.token("viewer");
    expect((await post(payload, viewer)).status).toBe(403);
    expect((await post(payload, "nsre_forged")).status).toBe(401);

    const raw = JSON.stringify(payload);
    const ts = String(Math.floor(t.clock.now() / 1000));
    const signed = await t.req("POST", "/api/v1/alerts/alertmanager", {
      raw,
      headers: {
        "content-type": "application/json",
        "x-novasre-timestamp": ts,
        "x-novasre-signature": signBody("s3cret", ts, raw),
      },
    });
    expect(signed.status).toBe(200);
    const tampered = await t.req("POST", "/api/v1/alerts/alertmanager", {
      raw: raw.replace('"A"', '"B"'),
      headers: { "x-novasre-timestamp": ts, "x-novasre-signature": signBody("s3cret", ts, raw) },
    });
    expect(tampered.status).toBe(401);
    const oldTs = String(Math.floor(t.clock.now() / 1000) - 3600);
    const replayed = await t.req("POST", "/api/v1/alerts/alertmanager", {
      raw,
      headers: { "x-novasre-timestamp": oldTs, "x-novasre-signature": signBody("s3cret", oldTs, raw) },
    });
    expect(replayed.status).toBe(401);

    const { incidents } = (await (await t.req("GET", "/api/v1/incidents", { token: viewer })).json()) as {
      incidents: { id: string }[];
    };
    const id = incidents[0]!.id;
    const denied = await t.req("POST", `/api/v1/incidents/${id}/acknowledge`, { token: viewer });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
  });

  it("runs acknowledge, note, assign, resolve through the API and drafts a postmortem", async () => {
    const r = (await (
      await post(amPayload([{ labels: { alertname: "DiskFull", service: "db", severity: "critical" } }]))
    ).json()) as { incidentsOpened: string[] };
    const id = r.incidentsOpened[0]!;
    t.clock.advance(90_000);
    expect((await t.req("POST", `/api/v1/incidents/${id}/acknowledge`, { token: op })).status).toBe(200);
    expect(
      (await t.req("POST", `/api/v1/incidents/${id}/notes`, { token: op, body: { text: "rotating logs" } }))
        .status,
    ).toBe(200);
    const bad = await t.req("POST", `/api/v1/incidents/${id}/assign`, { token: op, body: { who: "x" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /^assignee: required/,
    );
    expect(
      (await t.req("POST", `/api/v1/incidents/${id}/assign`, { token: op, body: { assignee: "dana" } }))
        .status,
    ).toBe(200);
    t.clock.advance(60_000);
    const resolved = (await (
      await t.req("POST", `/api/v1/incidents/${id}/resolve`, { token: op })
    ).json()) as {
      incident: { status: string; timings: { timeToAcknowledge: number; timeToResolve: number } };
    };
    expect(resolved.incident.status).toBe("resolved");
    expect(resolved.incident.timings.timeToAcknowledge).toBe(90);
    // The alert started 60 s before it reached us.
    expect(resolved.incident.timings.timeToResolve).toBe(60 + 150);
    const conflict = await t.req("POST", `/api/v1/incidents/${id}/acknowledge`, { token: op });
    expect(conflict.status).toBe(409);
    expect((await t.req("POST", `/api/v1/incidents/inc_missing/acknowledge`, { token: op })).status).toBe(
      404,
    );

    const pm = await t.req("GET", `/api/v1/incidents/${id}/postmortem`, { token: op });
    expect(pm.headers.get("content-type")).toMatch(/markdown/);
    const md = await pm.text();
    expect(md).toContain("# Postmortem: DiskFull");
    expect(md).toContain("Note: rotating logs");
    expect(md).toContain("Assigned to dana");
    expect(md).toContain("| Time to acknowledge | 1m30s |");

    const metrics = await (await t.req("GET", "/metrics")).text();
    expect(metrics).toMatch(/incident_mttr_seconds_count\{severity="P1"\} 1/);
    expect(metrics).toMatch(/incident_mtta_seconds_count\{severity="P1"\} 1/);
  });

  it("takes PagerDuty-v2-shaped events: trigger, acknowledge, resolve by dedup_key", async () => {
    const trig = await t.req("POST", "/v2/enqueue", {
      token: op,
      body: {
        routing_key: "R0UT1NGKEY",
        event_action: "trigger",
        dedup_key: "disk-db1",
        payload: {
          summary: "Disk 95% on db1",
          source: "db1",
          severity: "error",
          component: "postgres",
          custom_details: { free_gb: 3 },
        },
      },
    });
    expect(trig.status).toBe(202);
    expect(await trig.json()).toEqual({
      status: "success",
      message: "Event processed",
      dedup_key: "disk-db1",
    });
    const list = async () =>
      (
        (await (await t.req("GET", "/api/v1/incidents", { token: op })).json()) as {
          incidents: { id: string; status: string; severity: string; services: string[] }[];
        }
      ).incidents;
    expect((await list()).map((i) => [i.status, i.severity, i.services])).toEqual([
      ["triggered", "P2", ["postgres"]],
    ]);

    await t.req("POST", "/v2/enqueue", {
      token: op,
      body: { routing_key: "R", event_action: "acknowledge", dedup_key: "disk-db1" },
    });
    expect((await list())[0]?.status).toBe("acknowledged");
    await t.req("POST", "/v2/enqueue", {
      token: op,
      body: { routing_key: "R", event_action: "resolve", dedup_key: "disk-db1" },
    });
    expect((await list())[0]?.status).toBe("resolved");

    const noKey = await t.req("POST", "/v2/enqueue", {
      token: op,
      body: {
        routing_key: "R",
        event_action: "trigger",
        payload: { summary: "x", source: "y", severity: "info" },
      },
    });
    expect(((await noKey.json()) as { dedup_key: string }).dedup_key).toMatch(/^[0-9a-f-]{36}$/);

    const badSev = await t.req("POST", "/v2/enqueue", {
      token: op,
      body: {
        routing_key: "R",
        event_action: "trigger",
        payload: { summary: "x", source: "y", severity: "urgent" },
      },
    });
    expect(badSev.status).toBe(400);
    expect(((await badSev.json()) as { error: { message: string } }).error.message).toMatch(
      /^payload\.severity: expected one of "critical", "error", "warning", "info"/,
    );
    const badAction = await t.req("POST", "/v2/enqueue", {
      token: op,
      body: { routing_key: "R", event_action: "explode", dedup_key: "k" },
    });
    expect(badAction.status).toBe(400);
    expect(((await badAction.json()) as { error: { message: string } }).error.message).toMatch(
      /^event_action: /,
    );
  });

  it("serves health, readiness, metrics and an OpenAPI document listing every route", async () => {
    expect((await t.req("GET", "/healthz")).status).toBe(200);
    const ready = await t.req("GET", "/readyz");
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: true, accepting: true } });
    const doc = (await (await t.req("GET", "/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    const registered = t.app.api.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`);
    expect(registered.length).toBeGreaterThan(10);
    for (const r of registered) expect(documented).toContain(r);
    const unknown = await t.req("GET", "/nope");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});
