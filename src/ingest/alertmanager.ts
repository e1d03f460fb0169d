import { z } from "zod";
import { fingerprint as labelFingerprint } from "../core/index.js";
import type { Alert } from "../incidents/index.js";

const labelMap = z.record(z.string(), z.string());
// Alertmanager writes the zero time for "not ended": 0001-01-01T00:00:00Z.
const ZERO_TIME_YEAR = 1;

const timestamp = z.iso.datetime({ offset: true, message: "expected an RFC 3339 timestamp" });

/** Alertmanager webhook payload, version 4. Unknown fields are ignored, as the format may grow. */
export const alertmanagerWebhookSchema = z.object({
  version: z.literal("4", { message: 'unsupported payload version (expected "4")' }),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().optional(),
  groupLabels: labelMap.optional(),
  commonLabels: labelMap.optional(),
  commonAnnotations: labelMap.optional(),
  externalURL: z.string().optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(["firing", "resolved"]),
        labels: labelMap.refine((l) => Object.keys(l).length > 0, {
          message: "an alert needs at least one label",
        }),
        annotations: labelMap.default({}),
        startsAt: timestamp,
        endsAt: timestamp.optional(),
        generatorURL: z.string().optional(),
        fingerprint: z.string().min(1).optional(),
      }),
    )
    .min(1, { message: "at least one alert is required" }),
});

export type AlertmanagerWebhook = z.output<typeof alertmanagerWebhookSchema>;

function time(text: string | undefined): number | null {
  if (text === undefined) return null;
  const d = new Date(text);
  return d.getUTCFullYear() <= ZERO_TIME_YEAR ? null : d.getTime();
}

export function alertsFromAlertmanager(payload: AlertmanagerWebhook): Alert[] {
  return payload.alerts.map((a) => ({
    // Alertmanager's own fingerprint is a hash of the labels too; ours keeps one scheme for every source.
    fingerprint: labelFingerprint(a.labels),
    source: "alertmanager",
    labels: a.labels,
    annotations: a.annotations,
    status: a.status,
    startsAt: time(a.startsAt) ?? 0,
    endsAt: a.status === "resolved" ? time(a.endsAt) : null,
    generatorURL: a.generatorURL ?? null,
  }));
}
