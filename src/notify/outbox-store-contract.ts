import { beforeEach, describe, expect, it } from "vitest";
import type { OutboxItemInput, OutboxStore } from "./outbox.js";
import type { Notification } from "./types.js";

const T0 = Date.UTC(2026, 0, 1);

function item(key: string, createdAt: number, channel = "slack-main"): OutboxItemInput {
  const payload: Notification = {
    idempotencyKey: key,
    channel,
    route: "root",
    kind: "trigger",
    incident: {
      id: `inc-${key}`,
      key: `key-${key}`,
      title: "Checkout latency",
      severity: "P1",
      status: "triggered",
      services: ["checkout"],
    },
    alerts: [],
    groupLabels: {},
    commonLabels: { service: "checkout" },
    commonAnnotations: {},
    createdAt,
  };
  return { idempotencyKey: key, channel, payload, createdAt };
}

/**
 * The behaviour every OutboxStore must have. Use from a test file of the implementation:
 * `describeOutboxStoreContract("sqlite", async () => new SqliteOutboxStore(db))`.
 */
export function describeOutboxStoreContract(
  name: string,
  makeStore: () => Promise<OutboxStore> | OutboxStore,
): void {
  describe(`OutboxStore contract: ${name}`, () => {
    let store: OutboxStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("ignores a duplicate idempotency key", async () => {
      expect(await store.enqueue([item("a", T0), item("b", T0)])).toBe(2);
      expect(await store.enqueue([item("a", T0 + 5), item("c", T0)])).toBe(1);
      expect(await store.stats()).toEqual({ pending: 3, sent: 0, dead: 0 });
    });

    it("makes a new item due at its createdAt", async () => {
      await store.enqueue([item("future", T0 + 500)]);
      expect(await store.claimDue(T0 + 499, 10, 1_000)).toHaveLength(0);
      expect(await store.claimDue(T0 + 500, 10, 1_000)).toHaveLength(1);
    });

    it("claims oldest first and returns the payload intact", async () => {
      await store.enqueue([item("late", T0 + 200), item("early", T0 + 100), item("middle", T0 + 150)]);
      const claimed = await store.claimDue(T0 + 1000, 2, 60_000);
      expect(claimed.map((c) => c.idempotencyKey)).toEqual(["early", "middle"]);
      expect(claimed[0]?.payload).toEqual(item("early", T0 + 100).payload);
      expect(claimed[0]?.attempts).toBe(0);
      expect(claimed[0]?.channel).toBe("slack-main");
    });

    it("does not hand out a leased item again until the lease runs out", async () => {
      await store.enqueue([item("a", T0)]);
      expect(await store.claimDue(T0, 10, 30_000)).toHaveLength(1);
      expect(await store.claimDue(T0 + 29_999, 10, 30_000)).toHaveLength(0);
      // The worker died without marking: the item comes back.
      const again = await store.claimDue(T0 + 30_000, 10, 30_000);
      expect(again.map((c) => c.idempotencyKey)).toEqual(["a"]);
    });

    it("respects nextAttemptAt after markRetry and keeps the attempt count", async () => {
      await store.enqueue([item("a", T0)]);
      const [c] = await store.claimDue(T0, 10, 30_000);
      await store.markRetry(c!.id, 1, T0 + 5_000, "HTTP 503");
      expect(await store.claimDue(T0 + 4_999, 10, 30_000)).toHaveLength(0);
      const [again] = await store.claimDue(T0 + 5_000, 10, 30_000);
      expect(again?.attempts).toBe(1);
      expect(await store.stats()).toEqual({ pending: 1, sent: 0, dead: 0 });
    });

    it("never hands out a sent or dead item again", async () => {
      await store.enqueue([item("a", T0), item("b", T0 + 1)]);
      const [a, b] = await store.claimDue(T0 + 1, 10, 1_000);
      await store.markSent(a!.id, T0 + 10, "ref-1");
      await store.markDead(b!.id, T0 + 10, "HTTP 400");
      expect(await store.claimDue(T0 + 10 * 86_400_000, 10, 1_000)).toHaveLength(0);
      expect(await store.stats()).toEqual({ pending: 0, sent: 1, dead: 1 });
      // Still deduplicated after being sent.
      expect(await store.enqueue([item("a", T0 + 20)])).toBe(0);
    });
  });
}
