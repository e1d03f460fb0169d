/**
 * Notify figures: dispatcher throughput (pure, simulated clock), outbox delivery through an outage
 * (exactly-once check against a loopback webhook that goes down, 500s and 429s), and sustained
 * sends/s to one loopback channel in real time.
 *   npx tsx bench/notify-outbox.ts [--alerts 200000] [--outage-items 2000] [--live-items 2000]
 */
import { ManualClock, silentLogger, systemClock } from "../src/core/index.js";
import {
  createChannels,
  Dispatcher,
  FAKE_WEBHOOK_SECRET,
  InMemoryOutboxStore,
  InMemoryRefStore,
  notifyConfigSchema,
  OutboxWorker,
  RateLimiters,
  sampleNotification,
  startFakeVendor,
  type IncidentRef,
  type NotifyAlert,
  type OutboxItemInput,
} from "../src/notify/index.js";
import { finish, flag as flagText, progress } from "./lib.js";

const flag = (name: string, fallback: number): number => Number(flagText(name, String(fallback)));

const ALERTS = flag("alerts", 200_000);
const OUTAGE_ITEMS = flag("outage-items", 2_000);
const LIVE_ITEMS = flag("live-items", 2_000);
const FINGERPRINTS = 20_000;
const INCIDENTS = 2_000;

function dispatcherBench() {
  const cfg = notifyConfigSchema.parse({
    receiver: "slack",
    group_by: ["alertname"],
    channels: [
      { name: "slack", type: "slack", url: "http://127.0.0.1:9/x" },
      { name: "pd", type: "pagerduty", routing_key: "k" },
    ],
    routes: [
      { matchers: ['incident_severity=~"P0|P1"'], receiver: "pd", continue: true },
      { matchers: ['service=~"svc-1.*"'], receiver: "slack" },
    ],
    inhibit_rules: [
      {
        source_matchers: ['incident_severity="P0"'],
        target_matchers: ['incident_severity="P2"'],
        equal: ["service"],
      },
    ],
  });
  const d = new Dispatcher(cfg);
  const incidents: IncidentRef[] = Array.from({ length: INCIDENTS }, (_, i) => ({
    id: `inc-${i}`,
    key: `key-${i}`,
    title: `incident ${i}`,
    severity: (["P0", "P1", "P2", "P3"] as const)[i % 4] as IncidentRef["severity"],
    status: "triggered",
    services: [`svc-${i % 50}`],
  }));
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const status = new Array<"firing" | "resolved">(FINGERPRINTS).fill("resolved");
  let t = Date.UTC(2026, 0, 1);
  let notifications = 0;
  const start = performance.now();
  const BATCH = 100;
  for (let sent = 0; sent < ALERTS; sent += BATCH) {
    const batch: NotifyAlert[] = [];
    for (let i = 0; i < BATCH; i++) {
      const k = Math.floor(rnd() * FINGERPRINTS);
      if (rnd() < 0.05) status[k] = status[k] === "firing" ? "resolved" : "firing";
      batch.push({
        fingerprint: `fp-${k}`,
        labels: { alertname: `Alert${k % 37}`, service: `svc-${k % 50}`, instance: `host-${k}` },
        annotations: { summary: `alert ${k}` },
        status: status[k] as "firing" | "resolved",
        startsAt: t,
        incident: incidents[k % INCIDENTS] as IncidentRef,
      });
    }
    d.ingest(batch, t);
    t += 1_000;
    notifications += d.tick(t).length;
  }
  // Let every pending group flush.
  for (let i = 0; i < 20; i++) notifications += d.tick((t += 60_000)).length;
  const ms = performance.now() - start;
  return {
    alerts: ALERTS,
    notifications,
    groups_left: d.groupCount(),
    wall_ms: Math.round(ms),
    alerts_per_s: Math.round(ALERTS / (ms / 1000)),
  };
}

async function outageBench() {
  const hook = await startFakeVendor("webhook");
  try {
    const cfg = notifyConfigSchema.parse({
      receiver: "hook",
      channels: [
        { name: "hook", type: "webhook", timeout: "2s", webhook: { url: hook.url, secret_env: "S" } },
      ],
    });
    const ch = createChannels(cfg, { env: { S: FAKE_WEBHOOK_SECRET }, refs: new InMemoryRefStore() });
    if (ch.status !== "ok") throw new Error(ch.error.join());
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = new InMemoryOutboxStore();
    const worker = new OutboxWorker(
      store,
      ch.value,
      new RateLimiters({}, clock.now()),
      clock,
      silentLogger(),
      {
        pollIntervalMs: 1000,
        maxAttempts: 0,
        backoffInitialMs: 1000,
        backoffMaxMs: 30_000,
        leaseMs: 60_000,
      },
    );
    const items: OutboxItemInput[] = [];
    for (let i = 0; i < OUTAGE_ITEMS; i++) {
      const n = { ...sampleNotification("trigger", "hook", clock.now() + i), idempotencyKey: `outage-${i}` };
      items.push({ idempotencyKey: n.idempotencyKey, channel: "hook", payload: n, createdAt: n.createdAt });
    }
    // Enqueue in chunks while the vendor cycles through failure modes; each chunk twice (duplicates must be ignored).
    const modes = ["ok", "down", "ok", "500", "ok", "429", "ok"] as const;
    let runs = 0;
    const start = performance.now();
    for (let c = 0; c < items.length; c += 200) {
      const chunk = items.slice(c, c + 200);
      await store.enqueue(chunk);
      await store.enqueue(chunk);
      const mode = modes[(c / 200) % modes.length] as (typeof modes)[number];
      hook.setMode(mode, { retryAfter: "3" });
      for (let r = 0; r < 5; r++) {
        await worker.runOnce(clock.now());
        runs += 1;
        clock.advance(1_000);
      }
    }
    hook.setMode("ok");
    while ((await store.stats()).pending > 0) {
      await worker.runOnce(clock.now());
      runs += 1;
      clock.advance(1_000);
    }
    const ms = performance.now() - start;
    const keys = hook.received.map((r) => String(r.headers["idempotency-key"]));
    const unique = new Set(keys);
    const inOrder = keys.every(
      (k, i) => i === 0 || Number(k.split("-")[1]) > Number((keys[i - 1] as string).split("-")[1]),
    );
    const stats = await store.stats();
    return {
      items: OUTAGE_ITEMS,
      delivered_unique: unique.size,
      duplicates: keys.length - unique.size,
      lost: OUTAGE_ITEMS - unique.size,
      in_order: inOrder,
      dead: stats.dead,
      vendor_requests: hook.requests.length,
      worker_runs: runs,
      wall_ms: Math.round(ms),
    };
  } finally {
    await hook.close();
  }
}

async function liveBench() {
  const hook = await startFakeVendor("webhook");
  try {
    const cfg = notifyConfigSchema.parse({
      receiver: "hook",
      channels: [{ name: "hook", type: "webhook", webhook: { url: hook.url, secret_env: "S" } }],
    });
    const ch = createChannels(cfg, { env: { S: FAKE_WEBHOOK_SECRET }, refs: new InMemoryRefStore() });
    if (ch.status !== "ok") throw new Error(ch.error.join());
    const store = new InMemoryOutboxStore();
    const worker = new OutboxWorker(
      store,
      ch.value,
      new RateLimiters({}, Date.now()),
      systemClock,
      silentLogger(),
      {
        pollIntervalMs: 50,
        maxAttempts: 0,
        backoffInitialMs: 1000,
        backoffMaxMs: 30_000,
        leaseMs: 60_000,
      },
    );
    const now = Date.now() - 1;
    const items: OutboxItemInput[] = [];
    for (let i = 0; i < LIVE_ITEMS; i++) {
      const n = { ...sampleNotification("trigger", "hook", now), idempotencyKey: `live-${i}` };
      items.push({ idempotencyKey: n.idempotencyKey, channel: "hook", payload: n, createdAt: now });
    }
    await store.enqueue(items);
    const start = performance.now();
    worker.start();
    while ((await store.stats()).sent < LIVE_ITEMS) await new Promise((r) => setTimeout(r, 20));
    const ms = performance.now() - start;
    await worker.stop();
    return {
      items: LIVE_ITEMS,
      wall_ms: Math.round(ms),
      sends_per_s_one_channel: Math.round(LIVE_ITEMS / (ms / 1000)),
    };
  } finally {
    await hook.close();
  }
}

progress(`dispatcher: ${ALERTS} alerts over ${FINGERPRINTS} fingerprints, ${INCIDENTS} incidents`);
const dispatcher = dispatcherBench();
progress(`dispatcher: ${dispatcher.alerts_per_s} alerts/s`);
progress(`outbox outage: ${OUTAGE_ITEMS} items, vendor cycling ok/down/500/429`);
const outage = await outageBench();
progress(
  `outbox outage: ${outage.delivered_unique} delivered, ${outage.duplicates} duplicates, ${outage.lost} lost`,
);
progress(`outbox live: ${LIVE_ITEMS} items to one loopback webhook`);
const live = await liveBench();
progress(`outbox live: ${live.sends_per_s_one_channel} sends/s`);

const result = {
  bench: "notify-outbox",
  node: process.version,
  dispatcher,
  outbox_outage: outage,
  outbox_live: live,
};
finish("notify-outbox", result);
