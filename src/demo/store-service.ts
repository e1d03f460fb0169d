import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Counter, Gauge } from "prom-client";
import { json, problem } from "./http-kit.js";
import type { ServiceFactory } from "./service-runtime.js";
import type { StoreConfig } from "./config.js";

/** A list call returns at most this many rows: the shop's tables are small, a runaway caller is not. */
export const STORE_LIST_LIMIT = 1_000;
export const STORE_FILE = "store.sqlite";
/** The folder, under the data folder, where the supervisor writes the services' logs. */
export const LOGS_DIR = "logs";
/** How often the store measures its disk use (ms): a stat per folder entry, never a walk per scrape. */
export const DISK_CHECK_INTERVAL_MS = 1_000;
const MB = 1024 * 1024;

/** Bytes of the store's own files (the SQLite file, its WAL and shm) plus every file in the logs folder. */
export function diskUsedBytes(dataDir: string): number {
  let total = 0;
  const add = (dir: string, keep: (name: string) => boolean) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // no logs folder (in-process tests): nothing used there
    }
    for (const n of names) {
      if (!keep(n)) continue;
      try {
        const st = statSync(join(dir, n));
        if (st.isFile()) total += st.size;
      } catch {
        // removed between readdir and stat (a purge): it no longer counts
      }
    }
  };
  add(dataDir, (n) => n.startsWith(STORE_FILE));
  add(join(dataDir, LOGS_DIR), () => true);
  return total;
}

/** What a fresh shop sells. Prices in cents. */
export const SEED_PRODUCTS = [
  { id: "p-espresso", name: "Espresso beans 1 kg", price: 2490 },
  { id: "p-grinder", name: "Burr grinder", price: 12900 },
  { id: "p-kettle", name: "Gooseneck kettle", price: 5900 },
  { id: "p-scale", name: "Coffee scale", price: 2990 },
  { id: "p-filter", name: "Paper filters (100)", price: 690 },
  { id: "p-dripper", name: "Ceramic dripper", price: 2490 },
  { id: "p-mug", name: "Stoneware mug", price: 1490 },
  { id: "p-tamper", name: "Tamper 58 mm", price: 3490 },
  { id: "p-decaf", name: "Decaf beans 500 g", price: 1390 },
  { id: "p-cleaner", name: "Machine cleaner tablets", price: 990 },
  { id: "p-milkjug", name: "Milk jug 600 ml", price: 1990 },
  { id: "p-giftcard", name: "Gift card", price: 5000 },
] as const;

const name = /^[a-z][a-z0-9_-]{0,63}$/;

/** The stateful part of the shop: a key-value table API over one SQLite file. */
export const storeService: ServiceFactory<"store"> = (rt) => {
  const cfg: StoreConfig = rt.config;
  mkdirSync(rt.dataDir, { recursive: true });
  const db = new Database(join(rt.dataDir, STORE_FILE));
  db.pragma("journal_mode = WAL");
  db.pragma(`busy_timeout = ${cfg.busy_timeout_ms}`);
  db.exec(
    "create table if not exists kv (tbl text not null, key text not null, value text not null, updated_at integer not null, primary key (tbl, key))",
  );
  const get = db.prepare<[string, string], { value: string }>(
    "select value from kv where tbl = ? and key = ?",
  );
  const list = db.prepare<[string, number], { key: string; value: string }>(
    "select key, value from kv where tbl = ? order by key limit ?",
  );
  const put = db.prepare<[string, string, string, number]>(
    "insert into kv (tbl, key, value, updated_at) values (?, ?, ?, ?) on conflict (tbl, key) do update set value = excluded.value, updated_at = excluded.updated_at",
  );
  const del = db.prepare<[string, string]>("delete from kv where tbl = ? and key = ?");
  const count = db.prepare<[string], { n: number }>("select count(*) as n from kv where tbl = ?");
  if (count.get("products")!.n === 0) {
    const now = Date.now();
    db.transaction(() => {
      for (const p of SEED_PRODUCTS) put.run("products", p.id, JSON.stringify({ ...p, stock: 1000 }), now);
    })();
    rt.logger.info({ products: SEED_PRODUCTS.length }, "seeded products");
  }
  const ops = new Counter({
    name: "store_operations_total",
    help: "Key-value operations on the store, by operation and table",
    labelNames: ["op", "table"],
    registers: [rt.metrics.registry],
  });
  const diskGauge = new Gauge({
    name: "disk_used_bytes",
    help: "Bytes used by the store's files and the shop's logs folder, measured every second",
    registers: [rt.metrics.registry],
  });
  let used = diskUsedBytes(rt.dataDir);
  diskGauge.set(used);
  const diskTimer = setInterval(() => {
    used = diskUsedBytes(rt.dataDir);
    diskGauge.set(used);
  }, DISK_CHECK_INTERVAL_MS);
  diskTimer.unref();
  const diskFull = (): string | undefined =>
    used > cfg.disk_quota_mb * MB
      ? `disk full: ${(used / MB).toFixed(1)} MB used of ${cfg.disk_quota_mb} MB quota`
      : undefined;
  let open = true;
  const bad = (t: string, k?: string) =>
    !name.test(t) || (k !== undefined && (k.length === 0 || k.length > 200));

  return {
    unavailable: () => (open ? undefined : "database closed"),
    // Reads still work on a full disk; only writes are refused, as with a real one.
    degraded: diskFull,
    close: () => {
      clearInterval(diskTimer);
      open = false;
      db.close();
    },
    routes: (r) => {
      r.on("GET", "/kv/:table", (req) => {
        const t = req.params["table"]!;
        if (bad(t)) return problem(400, "bad table name");
        ops.inc({ op: "list", table: t });
        const items = list
          .all(t, STORE_LIST_LIMIT)
          .map((row) => ({ key: row.key, value: JSON.parse(row.value) as unknown }));
        return json(200, { items });
      })
        .on("GET", "/kv/:table/:key", (req) => {
          const t = req.params["table"]!;
          const k = req.params["key"]!;
          if (bad(t, k)) return problem(400, "bad table or key");
          ops.inc({ op: "get", table: t });
          const row = get.get(t, k);
          return row
            ? json(200, { key: k, value: JSON.parse(row.value) as unknown })
            : problem(404, "not found");
        })
        .on("PUT", "/kv/:table/:key", (req) => {
          const t = req.params["table"]!;
          const k = req.params["key"]!;
          if (bad(t, k)) return problem(400, "bad table or key");
          if (req.body === undefined) return problem(400, "body required");
          const full = diskFull();
          if (full) return problem(507, full);
          ops.inc({ op: "put", table: t });
          put.run(t, k, JSON.stringify(req.body), Date.now());
          return json(200, { key: k });
        })
        .on("DELETE", "/kv/:table/:key", (req) => {
          const t = req.params["table"]!;
          const k = req.params["key"]!;
          if (bad(t, k)) return problem(400, "bad table or key");
          const full = diskFull();
          if (full) return problem(507, full);
          ops.inc({ op: "delete", table: t });
          return json(200, { deleted: del.run(t, k).changes });
        })
        .on("GET", "/stats", () =>
          json(200, { orders: count.get("orders")!.n, carts: count.get("carts")!.n }),
        );
    },
  };
};
