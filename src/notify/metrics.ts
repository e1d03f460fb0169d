import { Counter, Gauge, type Registry } from "prom-client";
import type { OutboxStore } from "./outbox.js";

export interface NotifyMetrics {
  sent(channel: string): void;
  failed(channel: string, retryable: boolean): void;
}

export const noopNotifyMetrics: NotifyMetrics = { sent: () => undefined, failed: () => undefined };

/**
 * Registers notifications_sent_total{channel}, notifications_failed_total{channel,retryable} and
 * notification_outbox_pending (read from the store at scrape time) on the given registry.
 */
export function createNotifyMetrics(registry: Registry, store: OutboxStore): NotifyMetrics {
  const sent = new Counter({
    name: "notifications_sent_total",
    help: "Notifications accepted by a channel.",
    labelNames: ["channel"],
    registers: [registry],
  });
  const failed = new Counter({
    name: "notifications_failed_total",
    help: "Failed notification send attempts.",
    labelNames: ["channel", "retryable"],
    registers: [registry],
  });
  new Gauge({
    name: "notification_outbox_pending",
    help: "Notifications stored in the outbox and not yet sent or dead.",
    registers: [registry],
    async collect() {
      this.set((await store.stats()).pending);
    },
  });
  return {
    sent: (channel) => sent.inc({ channel }),
    failed: (channel, retryable) => failed.inc({ channel, retryable: String(retryable) }),
  };
}
