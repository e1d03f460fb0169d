import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ManualClock, silentLogger } from "../core/index.js";
import { createChannels } from "./channels/factory.js";
import { notifyConfigSchema } from "./config.js";
import type { DispatcherSnapshot } from "./dispatcher.js";
import { InMemoryOutboxStore } from "./outbox.js";
import { InMemoryRefStore } from "./ref-store.js";
import { NotifyService } from "./service.js";
import { FAKE_PD_ROUTING_KEY, startFakeVendor, type FakeVendor } from "./testing/fake-vendors.js";
import type { IncidentRef, NotifyAlert } from "./types.js";

let pd: FakeVendor;
let slack: FakeVendor;
beforeAll(async () => {
  [pd, slack] = await Promise.all([startFakeVendor("pagerduty"), startFakeVendor("slack")]);
});
afterAll(async () => {
  await Promise.all([pd.close(), slack.close()]);
});

const T0 = Date.UTC(2026, 0, 1);

function setup(clock: ManualClock, store: InMemoryOutboxStore, snapshots: { s?: DispatcherSnapshot }) {
  const config = notifyConfigSchema.parse({
    receiver: "slack",
    group_wait: "30s",
    channels: [
      { name: "slack", type: "slack", url_env: "SLACK_URL" },
      { name: "pd", type: "pagerduty", routing_key_env: "PD_KEY", url: pd.url },
    ],
    // continue: the alert goes on to the next sibling (Slack) after PagerDuty.
    routes: [
      { matchers: ['incident_severity=~"P0|P1"'], receiver: "pd", continue: true },
      { receiver: "slack" },
    ],
  });
  const ch = createChannels(config, {
    env: { SLACK_URL: slack.url, PD_KEY: FAKE_PD_ROUTING_KEY },
    refs: new InMemoryRefStore(),
  });
  if (ch.status !== "ok") throw new Error(ch.error.join());
  return new NotifyService({
    config,
    store,
    channels: ch.value,
    clock,
    logger: silentLogger(),
    loadSnapshot: () => Promise.resolve(snapshots.s),
    saveSnapshot: (s) => {
      snapshots.s = JSON.parse(JSON.stringify(s)) as DispatcherSnapshot;
      return Promise.resolve();
    },
  });
}

// The machine may be busy with other suites; give delivery time without slowing the passing case.
const WAIT = { timeout: 15_000, interval: 20 };

describe("NotifyService end to end", () => {
  it("pages once per incident: a joining alert updates the PagerDuty incident, ack and resolve follow", async () => {
    const clock = new ManualClock(T0);
    const store = new InMemoryOutboxStore();
    const snaps: { s?: DispatcherSnapshot } = {};
    const svc = setup(clock, store, snaps);
    const inc: IncidentRef = {
      id: "inc-e2e",
      key: "e2e-key",
      title: "Checkout down",
      severity: "P0",
      status: "triggered",
      services: ["checkout"],
    };
    const a = (fp: string, status: "firing" | "resolved" = "firing"): NotifyAlert => ({
      fingerprint: fp,
      labels: { alertname: fp, service: "checkout" },
      annotations: { summary: `${fp} on checkout` },
      status,
      startsAt: T0,
      incident: inc,
    });

    await svc.ingest([a("Down")]);
    clock.advance(30_000);
    await svc.tick();
    await svc.worker.runOnce();
    expect(pd.state.get("e2e-key")).toMatchObject({ status: "triggered", events: 1 });
    expect(slack.received).toHaveLength(1);

    // Restart: a new service restored from the saved snapshot keeps the group's history.
    const svc2 = setup(clock, store, snaps);
    await svc2.start();
    await svc2.ingest([a("Errors")]);
    clock.advance(5 * 60_000);
    await svc2.tick();
    // From here the started service's own worker loop delivers.
    await vi.waitFor(
      () => expect(pd.state.get("e2e-key")).toMatchObject({ status: "triggered", events: 2 }),
      WAIT,
    );
    expect(pd.received.filter((r) => (r.body as { dedup_key: string }).dedup_key === "e2e-key")).toHaveLength(
      2,
    );

    await svc2.incidentEvent({ ...inc, status: "acknowledged" }, "acknowledge");
    await vi.waitFor(() => expect(pd.state.get("e2e-key")?.status).toBe("acknowledged"), WAIT);

    await svc2.incidentEvent({ ...inc, status: "resolved" }, "resolve");
    await vi.waitFor(() => expect(pd.state.get("e2e-key")?.status).toBe("resolved"), WAIT);
    await vi.waitFor(() => expect(slack.received).toHaveLength(4), WAIT);
    expect(slack.received.map((r) => (r.body as { text: string }).text)).toEqual([
      "[TRIGGERED] P0 Checkout down",
      "[UPDATED] P0 Checkout down",
      "[ACKNOWLEDGED] P0 Checkout down",
      "[RESOLVED] P0 Checkout down",
    ]);
    // The vendor answers before the worker marks the item sent: wait for the bookkeeping too.
    await vi.waitFor(async () => expect(await store.stats()).toEqual({ pending: 0, sent: 8, dead: 0 }), WAIT);
    expect(await store.stats()).toEqual({ pending: 0, sent: 8, dead: 0 });
    await svc2.stop();
  });
});
