/**
 * A notification channel down for 60 s under load, then back: every notification must arrive exactly
 * once. The real server (SQLite outbox) takes Alertmanager webhooks that open and resolve incidents at a
 * steady rate; a loopback webhook receiver is switched off for the outage.
 *   npm run bench:outbox -- [--down-s 60] [--rate 20] [--warmup-s 10]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app.js";
import { validateConfig } from "../src/config/index.js";
import { silentLogger } from "../src/core/index.js";
import { FAKE_WEBHOOK_SECRET, startFakeVendor } from "../src/notify/index.js";
import { finish, flag, progress } from "./lib.js";

const downS = Number(flag("down-s", "60"));
const rate = Number(flag("rate", "20"));
const warmupS = Number(flag("warmup-s", "10"));
const RESOLVE_AFTER_MS = 5000;
const DRAIN_TIMEOUT_MS = 120_000;

const dir = await mkdtemp(join(tmpdir(), "novasre-outbox-"));
const hook = await startFakeVendor("webhook");
const app = await createApp(
  validateConfig({
    storage: { url: `sqlite:${join(dir, "bench.db")}` },
    auth: { receivers: { require_auth: false } },
    notify: {
      receiver: "hook",
      group_by: ["service"],
      group_wait: "0s",
      group_interval: "1s",
      repeat_interval: "24h",
      outbox: { poll_interval: "200ms", backoff_initial: "500ms", backoff_max: "5s" },
      channels: [{ name: "hook", type: "webhook", webhook: { url: hook.url, secret_env: "HOOK_SECRET" } }],
    },
  }),
  { logger: silentLogger(), env: { HOOK_SECRET: FAKE_WEBHOOK_SECRET } },
);

const post = async (
  alerts: {
    labels: Record<string, string>;
    status: "firing" | "resolved";
    startsAt: string;
    endsAt: string;
  }[],
) => {
  const res = await app.api.app.request("/api/v1/alerts/alertmanager", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ version: "4", status: "firing", alerts }),
  });
  if (!res.ok) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
};

let n = 0;
const pendingResolves: { at: number; labels: Record<string, string>; startsAt: string }[] = [];
const totalS = warmupS + downS + warmupS;
const t0 = Date.now();
progress(
  `load: ${rate} new incidents/s for ${totalS}s, webhook down from ${warmupS}s to ${warmupS + downS}s`,
);
let down = false;
while (Date.now() - t0 < totalS * 1000) {
  const el = (Date.now() - t0) / 1000;
  if (!down && el >= warmupS && el < warmupS + downS) {
    hook.setMode("down");
    down = true;
    progress("webhook receiver down");
  }
  if (down && el >= warmupS + downS) {
    hook.setMode("ok");
    down = false;
    progress("webhook receiver back");
  }
  const now = Date.now();
  const batch = [];
  for (let i = 0; i < rate; i++) {
    const labels = { alertname: "BenchAlert", service: `svc-${n++}` };
    const startsAt = new Date(now).toISOString();
    batch.push({ labels, status: "firing" as const, startsAt, endsAt: "0001-01-01T00:00:00Z" });
    pendingResolves.push({ at: now + RESOLVE_AFTER_MS, labels, startsAt });
  }
  while (pendingResolves.length && (pendingResolves[0]?.at ?? Infinity) <= now) {
    const r = pendingResolves.shift()!;
    batch.push({
      labels: r.labels,
      status: "resolved" as const,
      startsAt: r.startsAt,
      endsAt: new Date(now).toISOString(),
    });
  }
  await post(batch);
  await new Promise((r) => setTimeout(r, 1000 - ((Date.now() - now) % 1000)));
}
if (down) hook.setMode("ok");
for (const r of pendingResolves.splice(0))
  await post([
    { labels: r.labels, status: "resolved", startsAt: r.startsAt, endsAt: new Date().toISOString() },
  ]);

progress("load done; draining the outbox");
const drainStart = Date.now();
// Resolutions posted last are flushed at the next group_interval (1 s): let that pass first.
await new Promise((r) => setTimeout(r, 2500));
let stats = await app.database.db
  .selectFrom("outbox")
  .select((eb) => eb.fn.countAll<number>().as("n"))
  .select("status")
  .groupBy("status")
  .execute();
for (;;) {
  await app.notify.tick();
  stats = await app.database.db
    .selectFrom("outbox")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .select("status")
    .groupBy("status")
    .execute();
  const pending = Number(stats.find((s) => s.status === "pending")?.n ?? 0);
  const delivered = new Set(hook.received.map((r) => String(r.headers["idempotency-key"] ?? ""))).size;
  if ((pending === 0 && delivered >= 2 * n) || Date.now() - drainStart > DRAIN_TIMEOUT_MS) break;
  await new Promise((r) => setTimeout(r, 250));
}
const drainS = (Date.now() - drainStart) / 1000;
const count = (s: string) => Number(stats.find((x) => x.status === s)?.n ?? 0);
const enqueued = count("pending") + count("sent") + count("dead");
const keys = hook.received.map((r) => String(r.headers["idempotency-key"] ?? ""));
const unique = new Set(keys);
await app.close();
await hook.close();
await rm(dir, { recursive: true, force: true });

progress(
  `enqueued ${enqueued}, sent ${count("sent")}, received ${keys.length} (${unique.size} distinct), drain ${drainS.toFixed(1)}s after the outage`,
);
finish("outbox", {
  sent: count("sent"),
  received: keys.length,
  duplicates: keys.length - unique.size,
  // Each incident owes two notifications: its trigger and its resolution.
  lost: Math.max(2 * n - unique.size, enqueued - unique.size),
  expected: 2 * n,
  dead: count("dead"),
  enqueued,
  incidents: n,
  down_s: downS,
  drain_s: Number(drainS.toFixed(1)),
  vendor_requests_refused: hook.requests.length - hook.received.length,
});
