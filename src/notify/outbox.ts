import type { Notification } from "./types.js";

export interface OutboxItemInput {
  /** Unique in the store: enqueueing the same key again is a no-op. */
  idempotencyKey: string;
  channel: string;
  payload: Notification;
  createdAt: number;
}

export interface OutboxItem extends OutboxItemInput {
  id: string;
  /** Failed attempts so far. */
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
}

/**
 * The durable outbox. A notification is stored before it is sent; workers claim due items under a
 * lease, so a crashed worker's items become claimable again when the lease runs out.
 */
export interface OutboxStore {
  /** Inserts new items, silently skipping idempotency keys already present; returns how many were inserted. */
  enqueue(items: OutboxItemInput[]): Promise<number>;
  /** Pending items with nextAttemptAt <= now and no live lease, oldest createdAt first; leases them. */
  claimDue(now: number, limit: number, leaseMs: number): Promise<OutboxItem[]>;
  markSent(id: string, now: number, ref?: string): Promise<void>;
  /** Back to pending, not claimable before nextAttemptAt; releases the lease. */
  markRetry(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  markDead(id: string, now: number, error: string): Promise<void>;
  stats(): Promise<{ pending: number; sent: number; dead: number }>;
}

interface Row extends OutboxItem {
  seq: number;
  state: "pending" | "sent" | "dead";
  leaseUntil: number;
  sentAt?: number;
  ref?: string;
}

/** In-memory OutboxStore for tests and benches; same contract as the SQL stores. */
export class InMemoryOutboxStore implements OutboxStore {
  private rows = new Map<string, Row>();
  private byKey = new Map<string, string>();
  private seq = 0;

  enqueue(items: OutboxItemInput[]): Promise<number> {
    let inserted = 0;
    for (const it of items) {
      if (this.byKey.has(it.idempotencyKey)) continue;
      this.seq += 1;
      const id = `obx_${String(this.seq).padStart(10, "0")}`;
      this.rows.set(id, {
        ...structuredClone(it),
        id,
        attempts: 0,
        nextAttemptAt: it.createdAt,
        seq: this.seq,
        state: "pending",
        leaseUntil: 0,
      });
      this.byKey.set(it.idempotencyKey, id);
      inserted += 1;
    }
    return Promise.resolve(inserted);
  }

  claimDue(now: number, limit: number, leaseMs: number): Promise<OutboxItem[]> {
    const due = [...this.rows.values()]
      .filter((r) => r.state === "pending" && r.nextAttemptAt <= now && r.leaseUntil <= now)
      .sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq)
      .slice(0, limit);
    for (const r of due) r.leaseUntil = now + leaseMs;
    return Promise.resolve(
      due.map((r) => {
        const item: OutboxItem = {
          id: r.id,
          idempotencyKey: r.idempotencyKey,
          channel: r.channel,
          payload: structuredClone(r.payload),
          createdAt: r.createdAt,
          attempts: r.attempts,
          nextAttemptAt: r.nextAttemptAt,
        };
        if (r.lastError !== undefined) item.lastError = r.lastError;
        return item;
      }),
    );
  }

  markSent(id: string, now: number, ref?: string): Promise<void> {
    const r = this.rows.get(id);
    if (r) {
      r.state = "sent";
      r.sentAt = now;
      r.leaseUntil = 0;
      if (ref !== undefined) r.ref = ref;
    }
    return Promise.resolve();
  }

  markRetry(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    const r = this.rows.get(id);
    if (r && r.state === "pending") {
      r.attempts = attempts;
      r.nextAttemptAt = nextAttemptAt;
      r.lastError = error;
      r.leaseUntil = 0;
    }
    return Promise.resolve();
  }

  markDead(id: string, _now: number, error: string): Promise<void> {
    const r = this.rows.get(id);
    if (r) {
      r.state = "dead";
      r.lastError = error;
      r.leaseUntil = 0;
    }
    return Promise.resolve();
  }

  stats(): Promise<{ pending: number; sent: number; dead: number }> {
    const s = { pending: 0, sent: 0, dead: 0 };
    for (const r of this.rows.values()) s[r.state] += 1;
    return Promise.resolve(s);
  }

  /** Every row with its state, oldest first (tests and benches). */
  dump(): (OutboxItem & { state: "pending" | "sent" | "dead"; ref?: string })[] {
    return [...this.rows.values()].sort((a, b) => a.seq - b.seq).map((r) => structuredClone(r));
  }
}
