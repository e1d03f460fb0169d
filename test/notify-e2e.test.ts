import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type App } from "../src/app.js";
import { validateConfig, type ConfigInput } from "../src/config/index.js";
import { silentLogger } from "../src/core/index.js";
import { createToken } from "../src/http/index.js";
import {
  FAKE_PD_ROUTING_KEY,
  startFakeSmtp,
  startFakeVendor,
  type FakeSmtp,
  type FakeVendor,
} from "../src/notify/index.js";
import { createTokenStore } from "../src/storage/index.js";
import { amPayload } from "./support/app.js";
import { waitFor } from "./support/ports.js";

/** The whole loop on loopback: webhook in, incident, routing, outbox, vendor fakes and a real SMTP server out. */
describe("alerts to people, end to end", () => {
  let dir: string;
  let pd: FakeVendor;
  let slack: FakeVendor;
  let smtp: FakeSmtp;
  let app: App;
  let token: string;
  let config: ConfigInput;
  const env = { PD_KEY: FAKE_PD_ROUTING_KEY };

  const open = async () => {
    app = await createApp(validateConfig(config), { logger: silentLogger(), env });
    token = (await createToken(createTokenStore(app.database.db), "t", "operator", Date.now())).token;
  };
  const req = async (method: string, path: string, body?: unknown) =>
    app.api.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "novasre-e2e-"));
    [pd, slack, smtp] = await Promise.all([
      startFakeVendor("pagerduty"),
      startFakeVendor("slack"),
      startFakeSmtp(),
    ]);
    config = {
      storage: { url: `sqlite:${join(dir, "db.sqlite")}` },
      notify: {
        receiver: "team-slack",
        group_by: ["service"],
        group_wait: "0s",
        group_interval: "1s",
        repeat_interval: "1h",
        outbox: { poll_interval: "50ms", backoff_initial: "100ms", backoff_max: "300ms" },
        channels: [
          { name: "team-slack", type: "slack", url: slack.url },
          { name: "pager", type: "pagerduty", routing_key_env: "PD_KEY", url: pd.url },
          {
            name: "mail",
            type: "email",
            smtp: {
              host: smtp.host,
              port: smtp.port,
              secure: false,
              from: "novasre@example.com",
              to: ["oncall@example.com"],
            },
          },
        ],
        routes: [
          { matchers: ['incident_severity=~"P0|P1"'], receiver: "pager", continue: true },
          { matchers: ['incident_severity=~"P0|P1"'], receiver: "mail", continue: true },
          // A route with no matchers takes everything; without it, matching a child above would keep P1s
          // from the root's receiver (Alertmanager semantics).
          { receiver: "team-slack" },
        ],
      },
    };
    await open();
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([pd.close(), slack.close(), smtp.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("pages once per incident, updates on a joining alert, and follows ack and resolve", async () => {
    const first = await req(
      "POST",
      "/api/v1/alerts/alertmanager",
      amPayload([{ labels: { alertname: "Latency", service: "checkout", severity: "critical" } }]),
    );
    const id = ((await first.json()) as { incidentsOpened: string[] }).incidentsOpened[0]!;
    await waitFor("page", () => pd.state.get(id));
    await waitFor("mail", () => smtp.received.length === 1 || undefined);
    await waitFor("slack", () => slack.received.length === 1 || undefined);

    await req(
      "POST",
      "/api/v1/alerts/alertmanager",
      amPayload([{ labels: { alertname: "Errors", service: "checkout", severity: "critical" } }]),
    );
    await waitFor("PD update", () => (pd.state.get(id)?.events === 2 ? true : undefined));
    expect(pd.state.size).toBe(1); // the same dedup_key: updated, not paged again

    await req("POST", `/api/v1/incidents/${id}/acknowledge`);
    await waitFor("PD ack", () => (pd.state.get(id)?.status === "acknowledged" ? true : undefined));
    await req("POST", `/api/v1/incidents/${id}/resolve`);
    await waitFor("PD resolve", () => (pd.state.get(id)?.status === "resolved" ? true : undefined));

    const timeline = (
      (await (await req("GET", `/api/v1/incidents/${id}`)).json()) as {
        timeline: { kind: string; data: { channel?: string } }[];
      }
    ).timeline;
    const notified = timeline.filter((e) => e.kind === "notified").map((e) => e.data.channel);
    expect(new Set(notified)).toEqual(new Set(["team-slack", "pager", "mail"]));
    expect(smtp.received[0]?.headers["subject"] ?? "").toMatch(/Latency|checkout/);
  });

  it("mutes silenced alerts and records the muting on the timeline", async () => {
    const created = await req("POST", "/api/v1/silences", {
      matchers: ['service="search"'],
      duration: "1h",
      comment: "reindexing",
    });
    expect(created.status).toBe(201);
    const slackBefore = slack.received.length;
    const r = await req(
      "POST",
      "/api/v1/alerts/alertmanager",
      amPayload([{ labels: { alertname: "Slow", service: "search" } }]),
    );
    const id = ((await r.json()) as { incidentsOpened: string[] }).incidentsOpened[0]!;
    const muted = await waitFor("muted entry", async () => {
      const tl = (
        (await (await req("GET", `/api/v1/incidents/${id}`)).json()) as { timeline: { kind: string }[] }
      ).timeline;
      return tl.find((e) => e.kind === "muted");
    });
    expect(muted).toBeDefined();
    await new Promise((res) => setTimeout(res, 300));
    expect(slack.received.length).toBe(slackBefore);

    const bad = await req("POST", "/api/v1/silences", { matchers: ["service=~~x"], comment: "x" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^matchers\[0\]: /);
    const list = (await (await req("GET", "/api/v1/silences")).json()) as {
      silences: { id: string; state: string }[];
    };
    expect(list.silences.map((s) => s.state)).toEqual(["active"]);
    expect((await req("DELETE", `/api/v1/silences/${list.silences[0]!.id}`)).status).toBe(200);
    const expired = await waitFor("expiry on the timeline", async () => {
      const tl = (
        (await (await req("GET", `/api/v1/incidents/${id}`)).json()) as {
          timeline: { kind: string; data: { silenceId?: string } }[];
        }
      ).timeline;
      return tl.find((e) => e.kind === "silence_expired");
    });
    expect(expired.data.silenceId).toBe(list.silences[0]!.id);
    expect((await req("DELETE", `/api/v1/silences/${list.silences[0]!.id}`)).status).toBe(404);
  });

  it("loses nothing while a channel is down across a restart, and sends nothing twice", async () => {
    pd.setMode("down");
    const before = pd.received.length;
    const r = await req(
      "POST",
      "/api/v1/alerts/alertmanager",
      amPayload([{ labels: { alertname: "Down", service: "payments", severity: "critical" } }]),
    );
    const id = ((await r.json()) as { incidentsOpened: string[] }).incidentsOpened[0]!;
    await waitFor("a failed attempt", () =>
      pd.requests.some((q) => JSON.stringify(q.body).includes(id)) ? true : undefined,
    );
    await app.close();
    pd.setMode("ok");
    await open();
    await waitFor("delivery after restart", () => pd.state.get(id));
    await new Promise((res) => setTimeout(res, 500));
    const forIncident = pd.received.slice(before).filter((q) => JSON.stringify(q.body).includes(id));
    expect(forIncident).toHaveLength(1);
  });
});
