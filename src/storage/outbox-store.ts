import { sql, type Selectable } from "kysely";
import { newId } from "../core/index.js";
import type { Notification, OutboxItem, OutboxItemInput, OutboxStore, RefStore } from "../notify/index.js";
import type { Db } from "./database.js";
import { parseJson } from "./json.js";
import type { SqlDialect } from "./migrations.js";
import type { Tables } from "./schema.js";

function toItem(r: Selectable<Tables["outbox"]>): OutboxItem {
  const item: OutboxItem = {
    id: r.id,
    idempotencyKey: r.idempotency_key,
    channel: r.channel,
    payload: parseJson<Notification>(r.payload),
    createdAt: Number(r.created_at),
    attempts: r.attempts,
    nextAttemptAt: Number(r.next_attempt_at),
  };
  if (r.last_error !== null) item.lastError = r.last_error;
  return item;
}

/**
 * The durable notification outbox. Claiming leases rows so that a crashed worker's items come back
 * when the lease ends; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several replicas claim without
 * taking each other's rows.
 */
export function createOutboxStore(db: Db, dialect: SqlDialect): OutboxStore {
  return {
    async enqueue(items: OutboxItemInput[]) {
      if (!items.length) return 0;
      let inserted = 0;
      for (const it of items) {
        const r = await db
          .insertInto("outbox")
          .values({
            id: newId("obx", it.createdAt),
            idempotency_key: it.idempotencyKey,
            channel: it.channel,
            payload: JSON.stringify(it.payload),
            status: "pending",
            attempts: 0,
            next_attempt_at: it.createdAt,
            lease_until: 0,
            created_at: it.createdAt,
            sent_at: null,
            last_error: null,
            ref: null,
          })
          .onConflict((oc) => oc.column("idempotency_key").doNothing())
          .executeTakeFirst();
        inserted += Number(r.numInsertedOrUpdatedRows ?? 0n);
      }
      return inserted;
    },

    async claimDue(now, limit, leaseMs) {
      return db.transaction().execute(async (tx) => {
        let q = tx
          .selectFrom("outbox")
          .selectAll()
          .where("status", "=", "pending")
          .where("next_attempt_at", "<=", now)
          .where("lease_until", "<=", now)
          .orderBy("created_at", "asc")
          .orderBy("id", "asc")
          .limit(limit);
        if (dialect === "postgres") q = q.modifyEnd(sql`for update skip locked`);
        const rows = await q.execute();
        if (!rows.length) return [];
        await tx
          .updateTable("outbox")
          .set({ lease_until: now + leaseMs })
          .where(
            "id",
            "in",
            rows.map((r) => r.id),
          )
          .execute();
        return rows.map(toItem);
      });
    },

    async markSent(id, now, ref) {
      await db
        .updateTable("outbox")
        .set({ status: "sent", sent_at: now, lease_until: 0, ref: ref ?? null })
        .where("id", "=", id)
        .execute();
    },

    async markRetry(id, attempts, nextAttemptAt, error) {
      await db
        .updateTable("outbox")
        .set({
          status: "pending",
          attempts,
          next_attempt_at: nextAttemptAt,
          lease_until: 0,
          last_error: error,
        })
        .where("id", "=", id)
        .execute();
    },

    async markDead(id, _now, error) {
      await db
        .updateTable("outbox")
        .set({ status: "dead", lease_until: 0, last_error: error })
        .where("id", "=", id)
        .execute();
    },

    async stats() {
      const rows = await db
        .selectFrom("outbox")
        .select(["status"])
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .groupBy("status")
        .execute();
      const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
      return { pending: n("pending"), sent: n("sent"), dead: n("dead") };
    },
  };
}

export function createChannelRefStore(db: Db, now: () => number): RefStore {
  return {
    async get(channel, incidentKey) {
      const r = await db
        .selectFrom("channel_refs")
        .select("ref")
        .where("channel", "=", channel)
        .where("incident_key", "=", incidentKey)
        .executeTakeFirst();
      return r?.ref;
    },
    async set(channel, incidentKey, ref) {
      const t = now();
      await db
        .insertInto("channel_refs")
        .values({ channel, incident_key: incidentKey, ref, updated_at: t })
        .onConflict((oc) => oc.columns(["channel", "incident_key"]).doUpdateSet({ ref, updated_at: t }))
        .execute();
    },
  };
}
