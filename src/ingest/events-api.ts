import { z } from "zod";
import { fingerprint as labelFingerprint } from "../core/index.js";
import type { Alert } from "../incidents/index.js";

/** PagerDuty Events v2 limits: summary is cut at 1024 characters, dedup_key at 255. */
export const MAX_SUMMARY_CHARS = 1024;
export const MAX_DEDUP_KEY_CHARS = 255;

export const EVENT_SEVERITIES = ["critical", "error", "warning", "info"] as const;

const payloadSchema = z.object({
  summary: z.string().min(1).max(MAX_SUMMARY_CHARS),
  source: z.string().min(1),
  severity: z.enum(EVENT_SEVERITIES),
  timestamp: z.iso.datetime({ offset: true }).optional(),
  component: z.string().optional(),
  group: z.string().optional(),
  class: z.string().optional(),
  custom_details: z.unknown().optional(),
});

/**
 * An event shaped like PagerDuty Events API v2 (POST /v2/enqueue). `routing_key` is required by that
 * format; here it may also carry an API token, so PagerDuty clients need no extra header.
 */
export const eventSchema = z.discriminatedUnion("event_action", [
  z.object({
    routing_key: z.string().min(1),
    event_action: z.literal("trigger"),
    dedup_key: z.string().min(1).max(MAX_DEDUP_KEY_CHARS).optional(),
    payload: payloadSchema,
    client: z.string().optional(),
    client_url: z.string().optional(),
    links: z.array(z.object({ href: z.string(), text: z.string().optional() })).optional(),
  }),
  z.object({
    routing_key: z.string().min(1),
    event_action: z.literal("acknowledge"),
    dedup_key: z.string().min(1).max(MAX_DEDUP_KEY_CHARS),
  }),
  z.object({
    routing_key: z.string().min(1),
    event_action: z.literal("resolve"),
    dedup_key: z.string().min(1).max(MAX_DEDUP_KEY_CHARS),
  }),
]);

export type IncomingEvent = z.output<typeof eventSchema>;

export function eventFingerprint(dedupKey: string): string {
  return labelFingerprint({ __dedup_key__: dedupKey });
}

function stringify(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The alert a trigger event stands for. Its fingerprint comes from the dedup key, as in PagerDuty. */
export function alertFromTrigger(
  ev: Extract<IncomingEvent, { event_action: "trigger" }>,
  dedupKey: string,
  now: number,
): Alert {
  const p = ev.payload;
  const labels: Record<string, string> = {
    alertname: p.class ?? p.summary.slice(0, 80),
    source: p.source,
    severity: p.severity,
    dedup_key: dedupKey,
  };
  if (p.component) labels["service"] = p.component;
  if (p.group) labels["group"] = p.group;
  if (p.class) labels["class"] = p.class;
  const annotations: Record<string, string> = { summary: p.summary };
  if (p.custom_details !== undefined) {
    if (
      p.custom_details !== null &&
      typeof p.custom_details === "object" &&
      !Array.isArray(p.custom_details)
    ) {
      for (const [k, v] of Object.entries(p.custom_details)) annotations[k] = stringify(v);
    } else annotations["custom_details"] = stringify(p.custom_details);
  }
  return {
    fingerprint: eventFingerprint(dedupKey),
    source: "events-api",
    labels,
    annotations,
    status: "firing",
    startsAt: p.timestamp ? new Date(p.timestamp).getTime() : now,
    endsAt: null,
    generatorURL: ev.client_url ?? null,
  };
}
