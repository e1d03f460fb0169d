/**
 * Sustained alerts/s through the Alertmanager webhook: batches of 100 alerts over 10,000 distinct
 * fingerprints, dedup and grouping on, on SQLite and PostgreSQL; the same load to a real Alertmanager.
 *   npm run bench:ingest -- [--alerts 1000000] [--pg-alerts 200000] [--am-alerts 200000] [--concurrency 4]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { finish, flag, percentile, progress, rssMb, startServer } from "./lib.js";
import { alertmanagerBinary, startAlertmanager } from "../test/support/alertmanager.js";

const BATCH = 100;
const FINGERPRINTS = 10_000;
const SERVICES = 50;
const PG_URL = flag(
  "pg-url",
  process.env["NOVASRE_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test",
);

/** A deterministic stream: mostly repeats of firing alerts, ~2% flipping state, as Alertmanager re-sends. */
function makeBatches(total: number, seed: number) {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const status = new Array<"firing" | "resolved">(FINGERPRINTS).fill("firing");
  const started = new Array<number>(FINGERPRINTS).fill(Date.now() - 60_000);
  const ended = new Array<number>(FINGERPRINTS).fill(0);
  let sent = 0;
  return {
    next(): { amBody: unknown[]; webhookBody: unknown } | undefined {
      if (sent >= total) return undefined;
      const n = Math.min(BATCH, total - sent);
      sent += n;
      const alerts = [];
      for (let i = 0; i < n; i++) {
        const k = Math.floor(rnd() * FINGERPRINTS);
        if (rnd() < 0.02) {
          status[k] = status[k] === "firing" ? "resolved" : "firing";
          if (status[k] === "firing") started[k] = Date.now();
          else ended[k] = Date.now();
        }
        const st = status[k] as "firing" | "resolved";
        alerts.push({
          status: st,
          labels: {
            alertname: `Alert${k % 97}`,
            service: `svc-${k % SERVICES}`,
            instance: `host-${k}`,
            severity: k % 10 === 0 ? "critical" : "warning",
          },
          annotations: { summary: `alert ${k}` },
          startsAt: new Date(started[k] as number).toISOString(),
          endsAt: st === "resolved" ? new Date(ended[k] as number).toISOString() : "0001-01-01T00:00:00Z",
        });
      }
      return {
        amBody: alerts.map((a) => ({
          labels: a.labels,
          annotations: a.annotations,
          startsAt: a.startsAt,
          ...(a.status === "resolved" ? { endsAt: a.endsAt } : {}),
        })),
        webhookBody: {
          version: "4",
          status: "firing",
          receiver: "bench",
          groupLabels: {},
          commonLabels: {},
          commonAnnotations: {},
          externalURL: "",
          alerts,
        },
      };
    },
  };
}

async function drive(
  label: string,
  url: string,
  total: number,
  concurrency: number,
  body: (b: { amBody: unknown[]; webhookBody: unknown }) => unknown,
  pid?: number,
) {
  const batches = makeBatches(total, 42);
  const latencies: number[] = [];
  let done = 0;
  let failed = 0;
  let peakRss = 0;
  const t0 = performance.now();
  let lastReport = t0;
  const worker = async () => {
    for (let b = batches.next(); b; b = batches.next()) {
      const start = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body(b)),
      });
      await res.arrayBuffer();
      if (!res.ok) failed++;
      latencies.push(performance.now() - start);
      done += BATCH;
      const now = performance.now();
      if (now - lastReport > 5000) {
        lastReport = now;
        if (pid) peakRss = Math.max(peakRss, rssMb(pid));
        progress(`${label}: ${done}/${total} alerts, ${Math.round(done / ((now - t0) / 1000))}/s`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  if (pid) peakRss = Math.max(peakRss, rssMb(pid));
  if (failed) throw new Error(`${label}: ${failed} requests failed`);
  return {
    perSecond: Math.round(total / seconds),
    p99: Number(percentile(latencies, 99).toFixed(2)),
    rss: Math.round(peakRss),
  };
}

async function runNovasre(label: string, storageUrl: string, total: number, concurrency: number) {
  const dir = await mkdtemp(join(tmpdir(), "novasre-bench-"));
  const cfg = join(dir, "novasre.yaml");
  await writeFile(
    cfg,
    `server: { host: 127.0.0.1, port: 0, body_limit_bytes: 4194304 }\nlog: { level: warn }\nstorage: { url: "${storageUrl.replace("DIR", dir)}" }\nauth: { receivers: { require_auth: false } }\n`,
  );
  const server = await startServer(cfg);
  try {
    progress(`${label}: server at ${server.url}`);
    return await drive(
      label,
      `${server.url}/api/v1/alerts/alertmanager`,
      total,
      concurrency,
      (b) => b.webhookBody,
      server.child.pid,
    );
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function freshPgDatabase(): Promise<string | undefined> {
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query("drop database if exists novasre_bench");
    await admin.query("create database novasre_bench");
    const u = new URL(PG_URL);
    u.pathname = "/novasre_bench";
    return u.toString();
  } catch (e) {
    progress(`PostgreSQL unavailable (${(e as Error).message}); skipping it`);
    return undefined;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

const total = Number(flag("alerts", "1000000"));
const pgTotal = Number(flag("pg-alerts", "200000"));
const amTotal = Number(flag("am-alerts", "200000"));
const concurrency = Number(flag("concurrency", "4"));

const sqlite = await runNovasre("sqlite", "sqlite:DIR/bench.db", total, concurrency);
progress(`sqlite: ${sqlite.perSecond} alerts/s, p99 ${sqlite.p99} ms, peak RSS ${sqlite.rss} MB`);

let postgres: Awaited<ReturnType<typeof runNovasre>> | undefined;
const pgUrl = await freshPgDatabase();
if (pgUrl) {
  postgres = await runNovasre("postgres", pgUrl, pgTotal, concurrency);
  progress(`postgres: ${postgres.perSecond} alerts/s, p99 ${postgres.p99} ms`);
}

let am: Awaited<ReturnType<typeof drive>> | undefined;
if (alertmanagerBinary) {
  const running = await startAlertmanager("route: { receiver: none }\nreceivers: [{ name: none }]\n");
  try {
    am = await drive("alertmanager", `${running.url}/api/v2/alerts`, amTotal, concurrency, (b) => b.amBody);
    progress(`alertmanager: ${am.perSecond} alerts/s, p99 ${am.p99} ms`);
  } finally {
    await running.stop();
  }
} else progress("no alertmanager binary; skipping the comparison");

finish("ingest", {
  alerts_per_s_sqlite: sqlite.perSecond,
  alerts_per_s_postgres: postgres?.perSecond ?? null,
  p99_ms_sqlite: sqlite.p99,
  p99_ms_postgres: postgres?.p99 ?? null,
  alertmanager_alerts_per_s: am?.perSecond ?? null,
  rss_mb: sqlite.rss,
  alerts_sqlite: total,
  alerts_postgres: pgUrl ? pgTotal : 0,
  alerts_alertmanager: am ? amTotal : 0,
  batch: BATCH,
  fingerprints: FINGERPRINTS,
  concurrency,
});
