import { describe, expect, it } from "vitest";
import { ManualClock, parseMatcher, type Labels, type Matcher } from "../core/index.js";
import { notifyConfigSchema, type NotifyConfigInput } from "./config.js";
import { Dispatcher } from "./dispatcher.js";
import type { IncidentRef, NotifyAlert } from "./types.js";

const S = 1000;
const M = 60 * S;

function config(extra: Partial<NotifyConfigInput> = {}) {
  return notifyConfigSchema.parse({
    channels: [
      { name: "slack-main", type: "slack", url: "http://127.0.0.1:1/hook" },
      { name: "pd", type: "pagerduty", routing_key_env: "PD_KEY" },
      { name: "db-team", type: "slack", url: "http://127.0.0.1:1/db" },
    ],
    receiver: "slack-main",
    group_wait: "30s",
    group_interval: "5m",
    repeat_interval: "12m",
    ...extra,
  });
}

function incident(id: string, severity: IncidentRef["severity"] = "P1"): IncidentRef {
  return {
    id,
    key: `key-${id}`,
    title: `Incident ${id}`,
    severity,
    status: "triggered",
    services: ["checkout"],
  };
}

function alert(
  fp: string,
  labels: Labels,
  inc: IncidentRef,
  status: "firing" | "resolved" = "firing",
  startsAt = 0,
): NotifyAlert {
  return {
    fingerprint: fp,
    labels,
    annotations: { summary: `alert ${fp}` },
    status,
    startsAt,
    incident: inc,
  };
}

function m(s: string): Matcher {
  const r = parseMatcher(s);
  if (r.status !== "ok") throw new Error(r.error);
  return r.value;
}

describe("Dispatcher timing", () => {
  it("waits group_wait before the first notification, then batches changes per group_interval", () => {
    const clock = new ManualClock(10 * M);
    const d = new Dispatcher(config());
    const inc = incident("i1");
    d.ingest([alert("a", { alertname: "HighLatency" }, inc, "firing", clock.now())], clock.now());
    expect(d.tick(clock.advance(29 * S))).toEqual([]);
    const first = d.tick(clock.advance(1 * S));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: "trigger", channel: "slack-main", route: "root" });
    expect(first[0]?.alerts.map((a) => a.fingerprint)).toEqual(["a"]);

    // A new alert joins: it goes out at the next group_interval boundary, not before.
    d.ingest([alert("b", { alertname: "Errors" }, inc, "firing", clock.now())], clock.advance(10 * S));
    expect(d.tick(clock.advance(2 * M))).toEqual([]);
    const second = d.tick(clock.advance(3 * M - 10 * S));
    expect(second).toHaveLength(1);
    expect(second[0]?.kind).toBe("update");
    expect(second[0]?.alerts.map((a) => a.fingerprint)).toEqual(["a", "b"]);
    expect(second[0]?.idempotencyKey).not.toBe(first[0]?.idempotencyKey);
  });

  it("never sends a group whose alerts all resolved inside group_wait", () => {
    const clock = new ManualClock(10 * M);
    const d = new Dispatcher(config());
    const inc = incident("i1");
    d.ingest([alert("a", { alertname: "Blip" }, inc, "firing", clock.now())], clock.now());
    d.ingest([alert("a", { alertname: "Blip" }, inc, "resolved", clock.now())], clock.advance(10 * S));
    expect(d.tick(clock.advance(20 * S))).toEqual([]);
    expect(d.groupCount()).toBe(0);
    expect(d.tick(clock.advance(10 * M))).toEqual([]);
  });

  it("sends the resolution once, as a resolve", () => {
    const clock = new ManualClock(10 * M);
    const d = new Dispatcher(config());
    const inc = incident("i1");
    d.ingest([alert("a", { alertname: "X" }, inc, "firing", clock.now())], clock.now());
    expect(d.tick(clock.advance(30 * S))).toHaveLength(1);
    d.ingest([alert("a", { alertname: "X" }, inc, "resolved", 10 * M)], clock.advance(1 * M));
    const out = d.tick(clock.advance(4 * M));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: "resolve" });
    expect(out[0]?.alerts[0]?.status).toBe("resolved");
    expect(d.tick(clock.advance(5 * M))).toEqual([]);
    expect(d.tick(clock.advance(60 * M))).toEqual([]);
  });

  it("repeats while firing at repeat_interval rounded up to a multiple of group_interval", () => {
    // repeat 12m with group_interval 5m -> repeats every 15m.
    const clock = new ManualClock(0);
    const d = new Dispatcher(config());
    d.ingest([alert("a", { alertname: "X" }, incident("i1"), "firing", 0)], 0);
    const sentAt: number[] = [];
    for (let t = 0; t <= 50 * M; t += 30 * S) {
      clock.set(t);
      for (const _ of d.tick(t)) sentAt.push(t);
    }
    expect(sentAt).toEqual([30 * S, 30 * S + 15 * M, 30 * S + 30 * M, 30 * S + 45 * M]);
  });

  it("flushes at once an alert that has been firing for longer than group_wait", () => {
    const d = new Dispatcher(config());
    d.ingest([alert("a", { alertname: "Old" }, incident("i1"), "firing", 0)], 10 * M);
    expect(d.tick(10 * M)).toHaveLength(1);
  });
});

describe("Dispatcher routing", () => {
  const routed = config({
    routes: [
      { matchers: ['service="db"'], receiver: "db-team", group_wait: "10s", continue: true },
      {
        matchers: ['severity=~"critical|page"'],
        receiver: "pd",
        group_by: ["alertname"],
        routes: [{ matchers: ['team="payments"'], group_wait: "1s" }],
      },
    ],
  });

  it("follows first match, continue, and inherits receiver and timing down nested routes", () => {
    const d = new Dispatcher(routed);
    const inc = incident("i1");
    d.ingest(
      [
        alert("db-crit", { alertname: "DiskFull", service: "db", severity: "critical" }, inc),
        alert("pay", { alertname: "Latency", team: "payments", severity: "page" }, inc),
        alert("web", { alertname: "Latency", service: "web", severity: "warning" }, inc),
      ],
      0,
    );
    // t=1s: nested payments route (inherits receiver pd, overrides group_wait 1s).
    const t1 = d.tick(1 * S);
    expect(t1.map((n) => [n.channel, n.route, n.alerts.map((a) => a.fingerprint)])).toEqual([
      ["pd", "root.routes[1].routes[0]", ["pay"]],
    ]);
    expect(t1[0]?.groupLabels).toEqual({ alertname: "Latency" });
    // t=10s: db route; with continue the db alert also reaches the severity route (group_wait inherited 30s).
    expect(d.tick(10 * S).map((n) => [n.channel, n.alerts.map((a) => a.fingerprint)])).toEqual([
      ["db-team", ["db-crit"]],
    ]);
    const t30 = d.tick(30 * S);
    expect(t30.map((n) => [n.channel, n.route, n.alerts.map((a) => a.fingerprint)]).sort()).toEqual([
      ["pd", "root.routes[1]", ["db-crit"]],
      ["slack-main", "root", ["web"]],
    ]);
  });

  it("splits groups by incident so one notification concerns one incident", () => {
    const d = new Dispatcher(config());
    d.ingest(
      [alert("a", { alertname: "X" }, incident("i1")), alert("b", { alertname: "X" }, incident("i2"))],
      0,
    );
    const out = d.tick(30 * S);
    expect(out.map((n) => n.incident.id).sort()).toEqual(["i1", "i2"]);
    expect(out.every((n) => n.alerts.length === 1)).toBe(true);
  });
});

describe("Dispatcher silences and inhibition", () => {
  it("does not send silenced alerts, and records the silence's expiry", () => {
    const d = new Dispatcher(config());
    const inc = incident("i1");
    d.setSilences([
      {
        id: "s1",
        matchers: [m('alertname="Noisy"')],
        startsAt: 0,
        endsAt: 10 * M,
        createdBy: "ana",
        comment: "maintenance",
      },
    ]);
    d.ingest([alert("n", { alertname: "Noisy" }, inc), alert("q", { alertname: "Real" }, inc)], 0);
    const first = d.tick(30 * S);
    expect(first.map((n) => n.alerts.map((a) => a.fingerprint))).toEqual([["q"]]);
    expect(d.drainEvents()).toContainEqual(
      expect.objectContaining({
        kind: "alerts_muted",
        reason: "silenced",
        silenceId: "s1",
        fingerprints: ["n"],
      }),
    );

    expect(d.tick(5 * M + 30 * S)).toEqual([]);
    // The silence ends at 10m: the expiry is recorded, and the next flush reports the now-unmuted alert.
    const after = d.tick(10 * M + 30 * S);
    expect(after.map((n) => n.alerts.map((a) => a.fingerprint))).toEqual([["n", "q"]]);
    expect(d.drainEvents()).toContainEqual({
      kind: "silence_expired",
      silence: expect.objectContaining({ id: "s1" }) as unknown,
      at: 10 * M,
      incidentIds: ["i1"],
    });
  });

  it("a firing P0 mutes P2 alerts of the same service only", () => {
    const d = new Dispatcher(
      config({
        inhibit_rules: [
          {
            source_matchers: ['incident_severity="P0"'],
            target_matchers: ['incident_severity="P2"'],
            equal: ["service"],
          },
        ],
      }),
    );
    const p0 = incident("big", "P0");
    const p2 = incident("small", "P2");
    const p2other = incident("other", "P2");
    d.ingest(
      [
        alert("src", { alertname: "Down", service: "checkout" }, p0),
        alert("tgt", { alertname: "Slow", service: "checkout" }, p2),
        alert("elsewhere", { alertname: "Slow", service: "search" }, p2other),
      ],
      0,
    );
    const out = d.tick(30 * S);
    expect(out.map((n) => n.incident.id).sort()).toEqual(["big", "other"]);
    // Once the P0's alert resolves, the P2 is no longer muted.
    d.ingest([alert("src", { alertname: "Down", service: "checkout" }, p0, "resolved")], 1 * M);
    const later = d.tick(5 * M + 30 * S);
    expect(later.map((n) => [n.incident.id, n.kind]).sort()).toEqual([
      ["big", "resolve"],
      ["small", "trigger"],
    ]);
  });
});

describe("Dispatcher persistence and lifecycle", () => {
  it("re-flushing the same content after restoring a snapshot yields the same idempotency key", () => {
    const d = new Dispatcher(config());
    d.ingest([alert("a", { alertname: "X" }, incident("i1"))], 0);
    const saved = JSON.parse(JSON.stringify(d.snapshot())) as ReturnType<Dispatcher["snapshot"]>;
    const sent = d.tick(30 * S);
    // Crash after enqueue but before the new snapshot was saved: restart from `saved`.
    const d2 = new Dispatcher(config());
    d2.restore(saved);
    const again = d2.tick(30 * S);
    expect(again.map((n) => n.idempotencyKey)).toEqual(sent.map((n) => n.idempotencyKey));
    // A restored dispatcher continues the group's timing: the next repeat is 15m later.
    expect(d2.tick(5 * M + 30 * S)).toEqual([]);
    expect(d2.tick(10 * M + 30 * S)).toEqual([]);
    expect(d2.tick(15 * M + 30 * S)).toHaveLength(1);
  });

  it("sends acknowledge and resolve to each channel the incident was notified on, once", () => {
    const d = new Dispatcher(
      config({
        routes: [
          { matchers: ['severity="critical"'], receiver: "pd", continue: true },
          { matchers: [], receiver: "db-team" },
        ],
      }),
    );
    const inc = incident("i1");
    d.ingest(
      [
        alert("a", { alertname: "X", severity: "critical" }, inc),
        alert("b", { alertname: "Y", severity: "critical" }, inc),
      ],
      0,
    );
    expect(d.tick(30 * S)).toHaveLength(2);
    const ack = d.incidentEvent({ ...inc, status: "acknowledged" }, "acknowledge", 1 * M);
    expect(ack.map((n) => [n.channel, n.kind]).sort()).toEqual([
      ["db-team", "acknowledge"],
      ["pd", "acknowledge"],
    ]);
    expect(ack[0]?.alerts).toHaveLength(2);
    const res = d.incidentEvent({ ...inc, status: "resolved" }, "resolve", 2 * M);
    expect(res).toHaveLength(2);
    expect(d.incidentEvent({ ...inc, status: "resolved" }, "resolve", 3 * M)).toEqual([]);
    expect(d.incidentEvent(incident("never-notified"), "acknowledge", 3 * M)).toEqual([]);
  });
});

describe("Dispatcher notification kinds", () => {
  it("a second group of an already-notified incident is an update; a re-fire after resolve is a trigger", () => {
    const d = new Dispatcher(config({ group_by: ["alertname"] }));
    const inc = incident("i1");
    d.ingest([alert("a", { alertname: "A" }, inc)], 0);
    expect(d.tick(30 * S).map((n) => n.kind)).toEqual(["trigger"]);
    d.ingest([alert("b", { alertname: "B" }, inc)], 1 * M);
    expect(d.tick(1 * M + 30 * S).map((n) => n.kind)).toEqual(["update"]);
    // A resolves while B still fires: the channel's incident stays open, so this is an update.
    d.ingest([alert("a", { alertname: "A" }, inc, "resolved")], 2 * M);
    expect(d.tick(5 * M + 30 * S).map((n) => n.kind)).toEqual(["update"]);
    d.ingest([alert("b", { alertname: "B" }, inc, "resolved")], 6 * M);
    expect(d.tick(6 * M + 30 * S).map((n) => n.kind)).toEqual(["resolve"]);
    d.ingest([alert("a", { alertname: "A" }, inc, "firing", 20 * M)], 20 * M);
    expect(d.tick(20 * M + 30 * S).map((n) => n.kind)).toEqual(["trigger"]);
  });

  it("records a muting on the timeline once, not at every flush", () => {
    const d = new Dispatcher(config());
    d.setSilences([
      {
        id: "s1",
        matchers: [m('alertname="Noisy"')],
        startsAt: 0,
        endsAt: 24 * 60 * M,
        createdBy: "ana",
        comment: "known",
      },
    ]);
    d.ingest(
      [alert("n", { alertname: "Noisy" }, incident("i1")), alert("q", { alertname: "Real" }, incident("i1"))],
      0,
    );
    for (let t = 30 * S; t < 60 * M; t += 5 * M) d.tick(t);
    expect(d.drainEvents().filter((e) => e.kind === "alerts_muted")).toHaveLength(1);
  });
});

describe("Dispatcher resolution routing", () => {
  it("sends a resolution to where the alert fired even if it would now route elsewhere", () => {
    const d = new Dispatcher(
      config({ routes: [{ matchers: ['incident_status="triggered"'], receiver: "pd" }] }),
    );
    const inc = incident("i1");
    d.ingest([alert("a", { alertname: "X" }, inc)], 0);
    expect(d.tick(30 * S).map((n) => n.channel)).toEqual(["pd"]);
    d.ingest([alert("a", { alertname: "X" }, { ...inc, status: "mitigated" }, "resolved")], 1 * M);
    expect(d.tick(5 * M + 30 * S).map((n) => [n.channel, n.kind])).toEqual([["pd", "resolve"]]);
  });
});

describe("Dispatcher repeated resolutions", () => {
  it("reports a resolution once even if the source sends it again, and ignores unknown ones", () => {
    const d = new Dispatcher(config());
    const inc = incident("i1");
    d.ingest([alert("a", { alertname: "A" }, inc), alert("b", { alertname: "B" }, inc)], 0);
    expect(d.tick(30 * S)).toHaveLength(1);
    d.ingest([alert("a", { alertname: "A" }, inc, "resolved")], 1 * M);
    expect(d.tick(5 * M + 30 * S)[0]?.alerts.map((x) => `${x.fingerprint}:${x.status}`)).toEqual([
      "a:resolved",
      "b:firing",
    ]);
    d.ingest(
      [alert("a", { alertname: "A" }, inc, "resolved"), alert("zz", { alertname: "Z" }, inc, "resolved")],
      6 * M,
    );
    expect(d.tick(10 * M + 30 * S)).toEqual([]);
  });
});
