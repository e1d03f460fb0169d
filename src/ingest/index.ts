export { alertmanagerWebhookSchema, alertsFromAlertmanager } from "./alertmanager.js";
export type { AlertmanagerWebhook } from "./alertmanager.js";
export {
  eventSchema,
  alertFromTrigger,
  eventFingerprint,
  EVENT_SEVERITIES,
  MAX_SUMMARY_CHARS,
  MAX_DEDUP_KEY_CHARS,
} from "./events-api.js";
export type { IncomingEvent } from "./events-api.js";
