import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../channels/webhook.js";
import {
  FAKE_JIRA_TOKEN,
  FAKE_JIRA_USER,
  FAKE_OPSGENIE_KEY,
  FAKE_PD_ROUTING_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeVendor,
  type FakeVendor,
} from "./fake-vendors.js";

// The fakes are only worth something if they reject what the vendors reject.
let slack: FakeVendor, pd: FakeVendor, og: FakeVendor, jira: FakeVendor, hook: FakeVendor;
beforeAll(async () => {
  [slack, pd, og, jira, hook] = await Promise.all([
    startFakeVendor("slack"),
    startFakeVendor("pagerduty"),
    startFakeVendor("opsgenie"),
    startFakeVendor("jira"),
    startFakeVendor("webhook"),
  ]);
});
afterAll(async () => {
  await Promise.all([slack, pd, og, jira, hook].map((v) => v.close()));
});

const json = { "content-type": "application/json" };
async function post(url: string, body: unknown, headers: Record<string, string> = json) {
  const r = await fetch(url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: r.status, text: await r.text(), retryAfter: r.headers.get("retry-after") };
}

describe("fake vendors reject malformed requests like the vendors", () => {
  it("Slack: bad blocks are invalid_blocks, no text is no_text", async () => {
    expect(
      await post(slack.url, { blocks: [{ type: "header", text: { type: "mrkdwn", text: "x" } }] }),
    ).toMatchObject({ status: 400, text: "invalid_blocks" });
    expect(await post(slack.url, {})).toMatchObject({ status: 400, text: "no_text" });
    expect(await post(slack.url, { text: "hi" })).toMatchObject({ status: 200, text: "ok" });
    slack.setMode("429", { retryAfter: "30" });
    expect(await post(slack.url, { text: "hi" })).toMatchObject({ status: 429, retryAfter: "30" });
    slack.setMode("ok");
  });

  it("PagerDuty: wrong key, missing payload fields and bad severity are 400 invalid event", async () => {
    const base = {
      routing_key: FAKE_PD_ROUTING_KEY,
      event_action: "trigger",
      payload: { summary: "s", source: "h", severity: "critical" },
    };
    expect((await post(`${pd.url}/v2/enqueue`, base)).status).toBe(202);
    expect((await post(`${pd.url}/v2/enqueue`, { ...base, routing_key: "x" })).status).toBe(400);
    expect(
      (await post(`${pd.url}/v2/enqueue`, { ...base, payload: { summary: "s", severity: "critical" } }))
        .status,
    ).toBe(400);
    expect(
      (await post(`${pd.url}/v2/enqueue`, { ...base, payload: { ...base.payload, severity: "P1" } })).status,
    ).toBe(400);
    expect(
      (await post(`${pd.url}/v2/enqueue`, { routing_key: FAKE_PD_ROUTING_KEY, event_action: "resolve" }))
        .status,
    ).toBe(400);
  });

  it("Opsgenie: missing GenieKey is 401, long message 422", async () => {
    expect((await post(`${og.url}/v2/alerts`, { message: "m" })).status).toBe(401);
    const auth = { ...json, authorization: `GenieKey ${FAKE_OPSGENIE_KEY}` };
    expect((await post(`${og.url}/v2/alerts`, { message: "m".repeat(131) }, auth)).status).toBe(422);
    expect((await post(`${og.url}/v2/alerts`, { message: "m" }, auth)).status).toBe(202);
  });

  it("Jira: plain-text description (v2 style) is rejected by v3", async () => {
    const auth = {
      ...json,
      authorization: `Basic ${Buffer.from(`${FAKE_JIRA_USER}:${FAKE_JIRA_TOKEN}`).toString("base64")}`,
    };
    const fields = { project: { key: "OPS" }, issuetype: { name: "Task" }, summary: "s" };
    const r = await post(
      `${jira.url}/rest/api/3/issue`,
      { fields: { ...fields, description: "plain" } },
      auth,
    );
    expect(r.status).toBe(400);
    expect(r.text).toContain("Atlassian Document");
    expect(
      (await post(`${jira.url}/rest/api/3/issue`, { fields }, { ...json, authorization: "Basic eDp5" }))
        .status,
    ).toBe(401);
  });

  it("Webhook: a tampered body fails the signature check", async () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ a: 1 });
    const headers = {
      ...json,
      "X-NovaSRE-Timestamp": String(ts),
      "X-NovaSRE-Signature": signWebhook(FAKE_WEBHOOK_SECRET, ts, body),
      "Idempotency-Key": "k1",
    };
    expect((await post(hook.url, body, headers)).status).toBe(200);
    expect((await post(hook.url, JSON.stringify({ a: 2 }), headers)).status).toBe(401);
  });
});
