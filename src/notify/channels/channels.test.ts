import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notifyConfigSchema } from "../config.js";
import { InMemoryRefStore } from "../ref-store.js";
import { sampleNotification } from "../sample.js";
import { startFakeSmtp, type FakeSmtp } from "../testing/fake-smtp.js";
import {
  FAKE_JIRA_TOKEN,
  FAKE_JIRA_USER,
  FAKE_OPSGENIE_KEY,
  FAKE_PD_ROUTING_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeVendor,
  type FakeVendor,
} from "../testing/fake-vendors.js";
import type { Notification } from "../types.js";
import type { Channel } from "./channel.js";
import { createChannels } from "./factory.js";
import { parseRetryAfter } from "./http.js";
import { signWebhook, verifyWebhookSignature } from "./webhook.js";

const never = new AbortController().signal;

let slack: FakeVendor, pd: FakeVendor, og: FakeVendor, jira: FakeVendor, hook: FakeVendor, smtp: FakeSmtp;
let channels: Map<string, Channel>;
const refs = new InMemoryRefStore();

beforeAll(async () => {
  [slack, pd, og, jira, hook, smtp] = await Promise.all([
    startFakeVendor("slack"),
    startFakeVendor("pagerduty"),
    startFakeVendor("opsgenie"),
    startFakeVendor("jira"),
    startFakeVendor("webhook"),
    startFakeSmtp({ user: "alerts", pass: "smtp-pass" }),
  ]);
  const cfg = notifyConfigSchema.parse({
    receiver: "slack",
    channels: [
      { name: "slack", type: "slack", url_env: "SLACK_URL", timeout: "2s" },
      { name: "pd", type: "pagerduty", routing_key_env: "PD_KEY", url: pd.url, timeout: "2s" },
      { name: "og", type: "opsgenie", api_key_env: "OG_KEY", url: og.url, timeout: "2s" },
      {
        name: "jira",
        type: "jira",
        timeout: "2s",
        jira: { url: jira.url, project: "OPS", user: FAKE_JIRA_USER, token_env: "JIRA_TOKEN" },
      },
      {
        name: "mail",
        type: "email",
        timeout: "3s",
        smtp: {
          host: smtp.host,
          port: smtp.port,
          user: "alerts",
          pass_env: "SMTP_PASS",
          from: "novasre@example.com",
          to: ["oncall@example.com"],
        },
      },
      { name: "hook", type: "webhook", timeout: "2s", webhook: { url: hook.url, secret_env: "HOOK_SECRET" } },
    ],
  });
  const r = createChannels(cfg, {
    refs,
    env: {
      SLACK_URL: slack.url,
      PD_KEY: FAKE_PD_ROUTING_KEY,
      OG_KEY: FAKE_OPSGENIE_KEY,
      JIRA_TOKEN: FAKE_JIRA_TOKEN,
      SMTP_PASS: "smtp-pass",
      HOOK_SECRET: FAKE_WEBHOOK_SECRET,
    },
  });
  if (r.status !== "ok") throw new Error(r.error.join("; "));
  channels = r.value;
});

afterAll(async () => {
  for (const c of channels.values()) await c.close?.();
  await Promise.all([slack, pd, og, jira, hook].map((v) => v.close()));
  await smtp.close();
});

function ch(name: string): Channel {
  const c = channels.get(name);
  if (!c) throw new Error(name);
  return c;
}

function note(kind: Notification["kind"], incidentKey = "inc-key-1"): Notification {
  const n = sampleNotification(kind);
  const incident = { ...n.incident, key: incidentKey };
  return {
    ...n,
    incident,
    alerts: n.alerts.map((a) => ({ ...a, incident })),
    idempotencyKey: `${kind}-${incidentKey}`,
  };
}

describe("createChannels", () => {
  it("lists every missing secret with its config path", () => {
    const cfg = notifyConfigSchema.parse({
      receiver: "pd",
      channels: [
        { name: "pd", type: "pagerduty", routing_key_env: "NOPE_PD" },
        { name: "og", type: "opsgenie", api_key_env: "NOPE_OG" },
      ],
    });
    const r = createChannels(cfg, { env: {}, refs });
    expect(r.status).toBe("error");
    if (r.status === "error")
      expect(r.error).toEqual([
        "notify.channels[0].routing_key_env: environment variable NOPE_PD is not set",
        "notify.channels[1].api_key_env: environment variable NOPE_OG is not set",
      ]);
  });
});

describe("Slack", () => {
  it("posts a Block Kit message the webhook accepts", async () => {
    const r = await ch("slack").send(note("trigger"), never);
    expect(r.status).toBe("ok");
    const req = slack.received.at(-1);
    const body = req?.body as { text: string; blocks: { type: string; text?: { text: string } }[] };
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "actions", "context"]);
    expect(body.blocks[0]?.text?.text).toBe("[TRIGGERED] P1 Checkout p99 latency above 2s");
    expect(body.blocks[1]?.text?.text).toContain("checkout p99 latency 2.4s");
  });

  it("escapes mrkdwn control characters from alert text", async () => {
    const n = note("trigger");
    n.alerts[0]!.annotations["summary"] = "<!channel> a & b";
    await ch("slack").send(n, never);
    const body = slack.received.at(-1)?.body as { blocks: { text?: { text: string } }[] };
    expect(body.blocks[1]?.text?.text).toContain("&lt;!channel&gt; a &amp; b");
  });

  it("classifies 429 (with Retry-After), 500 and network failure as retryable", async () => {
    slack.setMode("429", { retryAfter: "7" });
    expect(await ch("slack").send(note("trigger"), never)).toMatchObject({
      status: "error",
      retryable: true,
      retryAfterMs: 7000,
    });
    slack.setMode("500");
    expect(await ch("slack").send(note("trigger"), never)).toMatchObject({
      status: "error",
      retryable: true,
    });
    slack.setMode("down");
    expect(await ch("slack").send(note("trigger"), never)).toMatchObject({
      status: "error",
      retryable: true,
    });
    slack.setMode("ok");
  });
});

describe("PagerDuty Events v2", () => {
  it("triggers, updates under one dedup key, acknowledges and resolves", async () => {
    expect(await ch("pd").send(note("trigger", "pd-inc"), never)).toMatchObject({
      status: "ok",
      value: { ref: "pd-inc" },
    });
    const trig = pd.received.at(-1)?.body as {
      event_action: string;
      dedup_key: string;
      payload: Record<string, unknown>;
    };
    expect(trig).toMatchObject({ event_action: "trigger", dedup_key: "pd-inc" });
    expect(trig.payload).toMatchObject({
      severity: "error",
      source: "checkout",
      summary: "P1 Checkout p99 latency above 2s",
    });
    await ch("pd").send(note("update", "pd-inc"), never);
    expect(pd.state.get("pd-inc")).toMatchObject({ status: "triggered", events: 2 });
    await ch("pd").send(note("acknowledge", "pd-inc"), never);
    expect(pd.state.get("pd-inc")?.status).toBe("acknowledged");
    await ch("pd").send(note("resolve", "pd-inc"), never);
    expect(pd.state.get("pd-inc")?.status).toBe("resolved");
    expect(pd.received.at(-1)?.body).toEqual({
      routing_key: FAKE_PD_ROUTING_KEY,
      event_action: "resolve",
      dedup_key: "pd-inc",
    });
  });

  it("treats a 400 invalid event as permanent", async () => {
    const bad = createChannels(
      notifyConfigSchema.parse({
        receiver: "pd",
        channels: [{ name: "pd", type: "pagerduty", routing_key: "wrong-key", url: pd.url }],
      }),
      { env: {}, refs },
    );
    if (bad.status !== "ok") throw new Error("setup");
    const r = await bad.value.get("pd")!.send(note("trigger"), never);
    expect(r).toMatchObject({ status: "error", retryable: false });
    expect(pd.requests.at(-1)?.status).toBe(400);
  });
});

describe("Opsgenie", () => {
  it("creates with alias = incident key, dedups updates, acknowledges and closes by alias", async () => {
    expect((await ch("og").send(note("trigger", "og-inc"), never)).status).toBe("ok");
    const created = og.received.at(-1);
    expect(created?.headers["authorization"]).toBe(`GenieKey ${FAKE_OPSGENIE_KEY}`);
    expect(created?.body).toMatchObject({
      alias: "og-inc",
      priority: "P2",
      message: "P1 Checkout p99 latency above 2s",
    });
    await ch("og").send(note("update", "og-inc"), never);
    expect(og.state.get("og-inc")).toMatchObject({ status: "open", events: 2 });
    await ch("og").send(note("acknowledge", "og-inc"), never);
    expect(og.received.at(-1)?.path).toBe("/v2/alerts/og-inc/acknowledge");
    await ch("og").send(note("resolve", "og-inc"), never);
    expect(og.received.at(-1)).toMatchObject({
      path: "/v2/alerts/og-inc/close",
      query: { identifierType: "alias" },
    });
    expect(og.state.get("og-inc")?.status).toBe("closed");
  });

  it("keeps the message within 130 characters", async () => {
    const n = note("trigger", "og-long");
    n.incident = { ...n.incident, title: "x".repeat(400) };
    expect((await ch("og").send(n, never)).status).toBe("ok");
    expect((og.received.at(-1)?.body as { message: string }).message.length).toBeLessThanOrEqual(130);
  });
});

describe("Jira REST v3", () => {
  it("creates an ADF issue, comments on updates, and transitions it to Done on resolve", async () => {
    const r = await ch("jira").send(note("trigger", "jira-inc"), never);
    expect(r).toMatchObject({ status: "ok", value: { ref: expect.stringMatching(/^OPS-\d+$/) as unknown } });
    const key = r.status === "ok" ? (r.value.ref as string) : "";
    expect(await refs.get("jira", "jira-inc")).toBe(key);
    await ch("jira").send(note("update", "jira-inc"), never);
    expect(jira.state.get(key)?.comments).toBe(1);
    await ch("jira").send(note("resolve", "jira-inc"), never);
    expect(jira.state.get(key)?.status).toBe("Done");
    expect(jira.requests.filter((q) => q.status >= 400)).toEqual([]);
  });

  it("finds an issue created by an attempt whose reply was lost instead of creating another", async () => {
    const first = await ch("jira").send(note("trigger", "jira-lost"), never);
    const key = first.status === "ok" ? (first.value.ref as string) : "";
    // The ref was never stored (say the process died before it could): the retry must reuse the issue.
    const fresh = createChannels(
      notifyConfigSchema.parse({
        receiver: "jira",
        channels: [
          {
            name: "jira",
            type: "jira",
            jira: { url: jira.url, project: "OPS", user: FAKE_JIRA_USER, token_env: "T" },
          },
        ],
      }),
      { env: { T: FAKE_JIRA_TOKEN }, refs: new InMemoryRefStore() },
    );
    if (fresh.status !== "ok") throw new Error("setup");
    const again = await fresh.value.get("jira")!.send(note("trigger", "jira-lost"), never);
    expect(again).toMatchObject({ status: "ok", value: { ref: key } });
    const created = jira.received.filter((q) => q.method === "POST" && q.path === "/rest/api/3/issue");
    expect(created.filter((q) => JSON.stringify(q.body).includes("novasre-jira-lost"))).toHaveLength(1);
    expect(jira.state.get(key)?.comments).toBe(1);
  });

  it("reports a missing transition as a permanent error naming the available ones", async () => {
    const r = await ch("jira").send(note("trigger", "jira-2"), never);
    const key = r.status === "ok" ? (r.value.ref as string) : "";
    jira.state.get(key)!.status = "Done";
    const res = await ch("jira").send(note("resolve", "jira-2"), never);
    expect(res).toMatchObject({ status: "error", retryable: false });
    if (res.status === "error") expect(res.error).toContain("available: To Do, In Progress");
  });
});

describe("Email over SMTP", () => {
  it("delivers to the SMTP server with subject, recipients and a deterministic Message-ID", async () => {
    const n = note("trigger", "mail-inc");
    expect((await ch("mail").send(n, never)).status).toBe("ok");
    const mail = smtp.received.at(-1);
    expect(mail).toMatchObject({
      from: "novasre@example.com",
      to: ["oncall@example.com"],
      subject: "[TRIGGERED] P1 Checkout p99 latency above 2s",
    });
    expect(mail?.messageId).toBe(`<${n.idempotencyKey}@novasre>`);
    expect(mail?.raw).toContain("checkout p99 latency 2.4s");
  });

  it("retries on a 4xx SMTP reply and gives up on 5xx", async () => {
    smtp.setMode("451");
    expect(await ch("mail").send(note("trigger", "m2"), never)).toMatchObject({
      status: "error",
      retryable: true,
    });
    smtp.setMode("550");
    expect(await ch("mail").send(note("trigger", "m3"), never)).toMatchObject({
      status: "error",
      retryable: false,
    });
    smtp.setMode("ok");
  });
});

describe("Signed webhook", () => {
  it("signs the body so the receiver verifies it, and sends an Idempotency-Key", async () => {
    const n = note("trigger", "hook-inc");
    expect((await ch("hook").send(n, never)).status).toBe("ok");
    const req = hook.received.at(-1);
    expect(req?.headers["idempotency-key"]).toBe(n.idempotencyKey);
    expect(req?.body).toMatchObject({ kind: "trigger", incident: { key: "hook-inc" } });
  });

  it("verifies signatures: right secret within tolerance only", () => {
    const now = Date.UTC(2026, 0, 1);
    const ts = Math.floor(now / 1000);
    const sig = signWebhook("s3cret", ts, '{"a":1}');
    const base = { secret: "s3cret", body: '{"a":1}', timestamp: String(ts), signature: sig, now };
    expect(verifyWebhookSignature(base).status).toBe("ok");
    expect(verifyWebhookSignature({ ...base, body: '{"a":2}' })).toMatchObject({
      status: "error",
      error: "signature mismatch",
    });
    expect(verifyWebhookSignature({ ...base, secret: "other" }).status).toBe("error");
    expect(verifyWebhookSignature({ ...base, now: now + 10 * 60_000 })).toMatchObject({
      error: "timestamp outside tolerance",
    });
    expect(verifyWebhookSignature({ ...base, signature: undefined }).status).toBe("error");
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP-dates", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
