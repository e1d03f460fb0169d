// Contract of the notify module: routing tree, dispatcher, channels, templates, rate limits, outbox.
export {
  notifyConfigSchema,
  channelConfigSchema,
  routeConfigSchema,
  inhibitRuleSchema,
  outboxConfigSchema,
  rateLimitSchema,
  DEFAULT_GROUP_WAIT_MS,
  DEFAULT_GROUP_INTERVAL_MS,
  DEFAULT_REPEAT_INTERVAL_MS,
  DEFAULT_CHANNEL_TIMEOUT_MS,
  DEFAULT_OUTBOX_POLL_INTERVAL_MS,
  DEFAULT_OUTBOX_MAX_ATTEMPTS,
  DEFAULT_OUTBOX_BACKOFF_INITIAL_MS,
  DEFAULT_OUTBOX_BACKOFF_MAX_MS,
  DEFAULT_OUTBOX_LEASE_MS,
} from "./config.js";
export type {
  NotifyConfig,
  NotifyConfigInput,
  ChannelConfig,
  RouteConfig,
  InhibitRule,
  OutboxConfig,
  RateLimitConfig,
} from "./config.js";
export type {
  NotifyAlert,
  IncidentRef,
  Notification,
  NotificationKind,
  ChannelType,
  Severity,
  IncidentStatus,
} from "./types.js";
export { CHANNEL_TYPES } from "./types.js";

export { Dispatcher } from "./dispatcher.js";
export type { DispatcherSnapshot, DispatcherEvent } from "./dispatcher.js";
export { compileRoutes, matchRoutes, routingLabels, effectiveRepeatMs, ROOT_ROUTE_PATH } from "./routing.js";
export type { CompiledRoute } from "./routing.js";
export { silenceInputSchema, silenceActive, findSilence } from "./silences.js";
export type { Silence, SilenceInput, SilenceStore } from "./silences.js";
export { isInhibited } from "./inhibit.js";

export { parseTemplate, renderTemplate, htmlEscape, slackEscape, noEscape } from "./template.js";
export type { Template, Escaper } from "./template.js";
export { DEFAULT_TEMPLATES, templateContext, compileChannelTemplates, renderMessage } from "./render.js";
export type { RenderedMessage } from "./render.js";
export { sampleNotification } from "./sample.js";

export type { Channel, ChannelPreview } from "./channels/channel.js";
export { createChannels, previewChannel } from "./channels/factory.js";
export type { ChannelDeps } from "./channels/factory.js";
export {
  signWebhook,
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  DEFAULT_SIGNATURE_TOLERANCE_MS,
} from "./channels/webhook.js";
export { parseRetryAfter } from "./channels/http.js";
export { InMemoryRefStore } from "./ref-store.js";
export type { RefStore } from "./ref-store.js";

export { TokenBucket, RateLimiters } from "./rate-limit.js";
export { InMemoryOutboxStore } from "./outbox.js";
export type { OutboxStore, OutboxItem, OutboxItemInput } from "./outbox.js";
export { OutboxWorker, outboxWorkerOptions, backoffMs, DEFAULT_OUTBOX_BATCH_SIZE } from "./outbox-worker.js";
export type { OutboxWorkerOptions, RunResult } from "./outbox-worker.js";
export { createNotifyMetrics, noopNotifyMetrics } from "./metrics.js";
export type { NotifyMetrics } from "./metrics.js";
export { NotifyService } from "./service.js";
export type { NotifyServiceDeps } from "./service.js";

// Loopback vendor fakes for end-to-end tests and benches (no I/O until called).
export {
  startFakeVendor,
  FAKE_PD_ROUTING_KEY,
  FAKE_OPSGENIE_KEY,
  FAKE_JIRA_USER,
  FAKE_JIRA_TOKEN,
  FAKE_WEBHOOK_SECRET,
} from "./testing/fake-vendors.js";
export type { FakeVendor, FakeVendorKind, FakeVendorMode, ReceivedRequest } from "./testing/fake-vendors.js";
export { startFakeSmtp } from "./testing/fake-smtp.js";
export type { FakeSmtp, ReceivedMail } from "./testing/fake-smtp.js";
