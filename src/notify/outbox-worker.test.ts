import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { createLogger, ManualClock, ok, silentLogger, systemClock, type Result } from "../core/index.js";
import type { Channel } from "./channels/channel.js";
import { createChannels } from "./channels/factory.js";
import { notifyConfigSchema } from "./config.js";
import { createNotifyMetrics } from "./metrics.js";
import { InMemoryOutboxStore, type OutboxItemInput } from "./outbox.js";
import { backoffMs, OutboxWorker, type OutboxWorkerOptions } from "./outbox-worker.js";
import { RateLimiters } from "./rate-limit.js";
import { InMemoryRefStore } from "./ref-store.js";
import { sampleNotification } from "./sample.js";
import { FAKE_WEBHOOK_SECRET, startFakeVendor, type FakeVendor } from "./testing/fake-vendors.js";
import type { Notification } from "./types.js";

const T0 = Date.UTC(2026, 0, 1);
const opts: OutboxWorkerOptions = {
  pollIntervalMs: 20,
  maxAttempts: 0,
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  leaseMs: 60_000,
  random: () => 0.5,
};

let hook: FakeVendor;
let pd: FakeVendor;
let channels: Map<string, Channel>;

beforeAll(async () => {
  [hook, pd] = await Promise.all([startFakeVendor("webhook"), startFakeVendor("pagerduty")]);
  const cfg = notifyConfigSchema.parse({
    receiver: "hook",
    channels: [
      { name: "hook", type: "webhook", timeout: "2s", webhook: { url: hook.url, secret_env: "S" } },
      { name: "pd-bad", type: "pagerduty", routing_key: "not-the-right-key", url: pd.url, timeout: "2s" },
    ],
  });
  const r = createChannels(cfg, { env: { S: FAKE_WEBHOOK_SECRET }, refs: new InMemoryRefStore() });
  if (r.status !== "ok") throw new Error(r.error.join());
  channels = r.value;
});
afterAll(async () => {
  await Promise.all([hook.close(), pd.close()]);
});

function items(n: number, channel: string, prefix: string, at = T0): OutboxItemInput[] {
  return Array.from({ length: n }, (_, i) => {
    const base = sampleNotification(i % 3 === 2 ? "update" : "trigger", channel, at + i);
    const payload: Notification = {
      ...base,
      idempotencyKey: `${prefix}-${i}`,
      incident: { ...base.incident, key: `${prefix}-inc-${i % 4}` },
    };
    return { idempotencyKey: payload.idempotencyKey, channel, payload, createdAt: at + i };
  });
}

async function drain(
  worker: OutboxWorker,
  store: InMemoryOutboxStore,
  clock: ManualClock,
  stepMs: number,
  maxRuns = 200,
) {
  for (let i = 0; i < maxRuns; i++) {
    await worker.runOnce(clock.now());
    if ((await store.stats()).pending === 0) return;
    clock.advance(stepMs);
  }
  throw new Error("outbox did not drain");
}

describe("OutboxWorker", () => {
  it("delivers every notification exactly once, in order, across an outage (down, 500, 429 then up)", async () => {
    const store = new InMemoryOutboxStore();
    const clock = new ManualClock(T0 + 100);
    const worker = new OutboxWorker(store, channels, new RateLimiters({}, T0), clock, silentLogger(), opts);
    const batch = items(12, "hook", "outage");
    expect(await store.enqueue(batch)).toBe(12);
    expect(await store.enqueue(batch.slice(0, 5))).toBe(0);

    hook.setMode("down");
    const r1 = await worker.runOnce(clock.now());
    // The channel is probed by one item; the rest wait instead of hammering a dead endpoint.
    expect(r1).toEqual({ sent: 0, retried: 1, dead: 0, deferred: 11 });
    clock.advance(5_000);
    hook.setMode("500");
    expect((await worker.runOnce(clock.now())).retried).toBe(1);
    clock.advance(5_000);
    hook.setMode("429", { retryAfter: "20" });
    expect((await worker.runOnce(clock.now())).retried).toBe(1);
    // Retry-After is honoured: nothing is tried for 20 s.
    clock.advance(19_000);
    const during = hook.requests.length;
    await worker.runOnce(clock.now());
    expect(hook.requests.length).toBe(during);

    hook.setMode("ok");
    clock.advance(1_000);
    await drain(worker, store, clock, 1_000);
    const keys = hook.received
      .map((q) => q.headers["idempotency-key"])
      .filter((k): k is string => typeof k === "string" && k.startsWith("outage-"));
    expect(keys).toEqual(batch.map((b) => b.idempotencyKey));
    expect(await store.stats()).toEqual({ pending: 0, sent: 12, dead: 0 });
    const first = store.dump()[0];
    expect(first?.attempts).toBe(3);
  });

  it("marks a 4xx as dead at once, and gives up on retryable errors after max_attempts", async () => {
    const store = new InMemoryOutboxStore();
    const clock = new ManualClock(T0 + 100);
    const logs: string[] = [];
    const logger = createLogger("error", { write: (line: string) => void logs.push(line) });
    const worker = new OutboxWorker(store, channels, new RateLimiters({}, T0), clock, logger, {
      ...opts,
      maxAttempts: 3,
    });
    await store.enqueue(items(1, "pd-bad", "bad"));
    expect(await worker.runOnce(clock.now())).toMatchObject({ dead: 1 });
    expect(store.dump()[0]).toMatchObject({ state: "dead", attempts: 0 });
    expect(logs[0]).toContain("notification dead");

    hook.setMode("500");
    await store.enqueue(items(1, "hook", "doomed", T0 + 100));
    for (let i = 0; i < 3; i++) {
      await worker.runOnce(clock.now());
      clock.advance(60_000);
    }
    hook.setMode("ok");
    expect(store.dump()[1]).toMatchObject({
      state: "dead",
      lastError: expect.stringContaining("gave up after 3 attempts") as unknown,
    });
  });

  it("respects per-channel and per-route token buckets", async () => {
    const store = new InMemoryOutboxStore();
    const clock = new ManualClock(T0 + 100);
    const limiters = new RateLimiters({ channels: { hook: { per_second: 1, burst: 2 } } }, clock.now());
    const worker = new OutboxWorker(store, channels, limiters, clock, silentLogger(), opts);
    await store.enqueue(items(5, "hook", "limited"));
    expect(await worker.runOnce(clock.now())).toEqual({ sent: 2, retried: 0, dead: 0, deferred: 3 });
    clock.advance(1_000);
    expect((await worker.runOnce(clock.now())).sent).toBe(1);

    const routeLimited = new RateLimiters({ routes: { root: { per_second: 0.5, burst: 1 } } }, clock.now());
    expect(routeLimited.acquire("hook", "root", clock.now()).ok).toBe(true);
    expect(routeLimited.acquire("other", "root", clock.now())).toMatchObject({
      ok: false,
      retryAt: clock.now() + 2000,
    });
    expect(routeLimited.acquire("hook", "root.routes[0]", clock.now()).ok).toBe(true);
  });

  it("re-sends an item whose worker crashed mid-claim once the lease expires", async () => {
    const store = new InMemoryOutboxStore();
    await store.enqueue(items(1, "hook", "crash"));
    // A worker claimed it and died before sending or marking.
    await store.claimDue(T0 + 100, 10, opts.leaseMs);
    const clock = new ManualClock(T0 + 100);
    const worker = new OutboxWorker(store, channels, new RateLimiters({}, T0), clock, silentLogger(), opts);
    expect((await worker.runOnce(clock.now())).sent).toBe(0);
    clock.advance(opts.leaseMs);
    expect((await worker.runOnce(clock.now())).sent).toBe(1);
  });

  it("stop() waits for the send in flight, and counts metrics", async () => {
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const startedP = new Promise<void>((r) => (started = r));
    const slow: Channel = {
      name: "slow",
      type: "webhook",
      send: (): Promise<Result<{ ref?: string }>> =>
        new Promise((resolve) => {
          started();
          release = () => resolve(ok({ ref: "r1" }));
        }),
    };
    const store = new InMemoryOutboxStore();
    const registry = new Registry();
    const worker = new OutboxWorker(
      store,
      new Map([["slow", slow]]),
      new RateLimiters({}, 0),
      systemClock,
      silentLogger(),
      {
        ...opts,
        metrics: createNotifyMetrics(registry, store),
      },
    );
    await store.enqueue(items(1, "slow", "graceful", Date.now() - 10));
    worker.start();
    await startedP;
    const stopped = worker.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    release();
    await stopped;
    expect(await store.stats()).toEqual({ pending: 0, sent: 1, dead: 0 });
    const text = await registry.metrics();
    expect(text).toContain('notifications_sent_total{channel="slow"} 1');
    expect(text).toContain("notification_outbox_pending 0");
  });
});

describe("backoffMs", () => {
  it("doubles per attempt with jitter in [d/2, d], capped", () => {
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, 60_000, () => 0.999999)).toBe(1000);
    expect(backoffMs(4, 1000, 60_000, () => 0)).toBe(4000);
    expect(backoffMs(40, 1000, 60_000, () => 0.5)).toBe(45_000);
  });
});
