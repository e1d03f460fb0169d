import { z } from "zod";
import { durationSchema, matcherSchema, type Matcher } from "../core/index.js";
import { parseTemplate } from "./template.js";
import { CHANNEL_TYPES } from "./types.js";

/** Alertmanager's defaults. */
export const DEFAULT_GROUP_WAIT_MS = 30_000;
export const DEFAULT_GROUP_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 3_600_000;
/** Paging must not hang on a slow vendor: a send that takes longer is retried from the outbox. */
export const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000;
export const DEFAULT_OUTBOX_POLL_INTERVAL_MS = 1_000;
/** About 16 hours of retries at the 5-minute cap before an item is declared dead. */
export const DEFAULT_OUTBOX_MAX_ATTEMPTS = 200;
export const DEFAULT_OUTBOX_BACKOFF_INITIAL_MS = 1_000;
export const DEFAULT_OUTBOX_BACKOFF_MAX_MS = 5 * 60_000;
/** Longer than any channel timeout, so a live worker never loses its claim mid-send. */
export const DEFAULT_OUTBOX_LEASE_MS = 60_000;

const positiveDuration = (def: number) =>
  durationSchema()
    .refine((v) => v > 0, "must be greater than 0")
    .default(def);

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");
const httpUrl = z.url({ protocol: /^https?$/ });

export const rateLimitSchema = z.strictObject({
  per_second: z.number().positive(),
  burst: z.number().int().positive(),
});
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;

const channelBase = {
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '_', '.', '-'"),
  rate_limit: rateLimitSchema.optional(),
  timeout: positiveDuration(DEFAULT_CHANNEL_TIMEOUT_MS),
};

const slackChannel = z.strictObject({
  ...channelBase,
  type: z.literal("slack"),
  /** The incoming-webhook URL is itself a secret: prefer url_env. */
  url: httpUrl.optional(),
  url_env: envName.optional(),
});

const pagerdutyChannel = z.strictObject({
  ...channelBase,
  type: z.literal("pagerduty"),
  routing_key: z.string().min(1).optional(),
  routing_key_env: envName.optional(),
  /** Events API base; the EU service region uses https://events.eu.pagerduty.com. */
  url: httpUrl.default("https://events.pagerduty.com"),
});

const opsgenieChannel = z.strictObject({
  ...channelBase,
  type: z.literal("opsgenie"),
  api_key_env: envName,
  url: httpUrl.default("https://api.opsgenie.com"),
});

const jiraChannel = z.strictObject({
  ...channelBase,
  type: z.literal("jira"),
  jira: z.strictObject({
    url: httpUrl,
    project: z.string().min(1),
    issue_type: z.string().min(1).default("Task"),
    user: z.string().min(1),
    token_env: envName,
    resolve_transition: z.string().min(1).default("Done"),
  }),
});

const emailChannel = z.strictObject({
  ...channelBase,
  type: z.literal("email"),
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** true = implicit TLS (port 465); false = STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    user: z.string().optional(),
    pass_env: envName.optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
  }),
});

const webhookChannel = z.strictObject({
  ...channelBase,
  type: z.literal("webhook"),
  webhook: z.strictObject({ url: httpUrl, secret_env: envName }),
});

export const channelConfigSchema = z
  .discriminatedUnion("type", [
    slackChannel,
    pagerdutyChannel,
    opsgenieChannel,
    jiraChannel,
    emailChannel,
    webhookChannel,
  ])
  .superRefine((c, ctx) => {
    if (c.type === "slack" && (c.url === undefined) === (c.url_env === undefined))
      ctx.addIssue({ code: "custom", path: ["url"], message: "set exactly one of url, url_env" });
    if (c.type === "pagerduty" && (c.routing_key === undefined) === (c.routing_key_env === undefined))
      ctx.addIssue({
        code: "custom",
        path: ["routing_key"],
        message: "set exactly one of routing_key, routing_key_env",
      });
    if (c.type === "email" && c.smtp.user !== undefined && c.smtp.pass_env === undefined)
      ctx.addIssue({ code: "custom", path: ["smtp", "pass_env"], message: "required when smtp.user is set" });
  });
export type ChannelConfig = z.output<typeof channelConfigSchema>;

/** A route as written; timing fields left undefined inherit from the parent route. */
export interface RouteConfig {
  matchers: Matcher[];
  receiver?: string | undefined;
  continue: boolean;
  group_by?: string[] | undefined;
  group_wait?: number | undefined;
  group_interval?: number | undefined;
  repeat_interval?: number | undefined;
  rate_limit?: RateLimitConfig | undefined;
  routes: RouteConfig[];
}

const groupBySchema = z.array(z.string().min(1));

export const routeConfigSchema: z.ZodType<RouteConfig, unknown> = z.lazy(() =>
  z.strictObject({
    matchers: z.array(matcherSchema).default([]),
    receiver: z.string().optional(),
    continue: z.boolean().default(false),
    group_by: groupBySchema.optional(),
    group_wait: durationSchema().optional(),
    group_interval: durationSchema().optional(),
    repeat_interval: durationSchema().optional(),
    rate_limit: rateLimitSchema.optional(),
    routes: z.array(routeConfigSchema).default([]),
  }),
);

export const inhibitRuleSchema = z.strictObject({
  source_matchers: z.array(matcherSchema).min(1),
  target_matchers: z.array(matcherSchema).min(1),
  equal: z.array(z.string().min(1)).default([]),
});
export type InhibitRule = z.output<typeof inhibitRuleSchema>;

const templateSourceSchema = z.string().superRefine((s, ctx) => {
  const r = parseTemplate(s);
  if (r.status === "error") ctx.addIssue({ code: "custom", message: r.error });
});
export const channelTemplateSchema = z.strictObject({
  title: templateSourceSchema.optional(),
  text: templateSourceSchema.optional(),
});

export const outboxConfigSchema = z.strictObject({
  poll_interval: positiveDuration(DEFAULT_OUTBOX_POLL_INTERVAL_MS),
  /** 0 = never give up on retryable errors. */
  max_attempts: z.number().int().nonnegative().default(DEFAULT_OUTBOX_MAX_ATTEMPTS),
  backoff_initial: positiveDuration(DEFAULT_OUTBOX_BACKOFF_INITIAL_MS),
  backoff_max: durationSchema().default(DEFAULT_OUTBOX_BACKOFF_MAX_MS),
  lease: positiveDuration(DEFAULT_OUTBOX_LEASE_MS),
});
export type OutboxConfig = z.output<typeof outboxConfigSchema>;

/** The `notify` key of the config file: the root route plus channels, inhibition, templates, outbox. */
export const notifyConfigSchema = z
  .strictObject({
    channels: z.array(channelConfigSchema).default([]),
    receiver: z.string().optional(),
    group_by: groupBySchema.default([]),
    group_wait: durationSchema().default(DEFAULT_GROUP_WAIT_MS),
    group_interval: durationSchema().default(DEFAULT_GROUP_INTERVAL_MS),
    repeat_interval: durationSchema().default(DEFAULT_REPEAT_INTERVAL_MS),
    rate_limit: rateLimitSchema.optional(),
    routes: z.array(routeConfigSchema).default([]),
    inhibit_rules: z.array(inhibitRuleSchema).default([]),
    templates: z.record(z.string(), channelTemplateSchema).default({}),
    outbox: outboxConfigSchema.default(() => outboxConfigSchema.parse({})),
  })
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    cfg.channels.forEach((c, i) => {
      if (names.has(c.name))
        ctx.addIssue({
          code: "custom",
          path: ["channels", i, "name"],
          message: `duplicate channel name ${JSON.stringify(c.name)}`,
        });
      names.add(c.name);
    });
    const checkReceiver = (r: string | undefined, path: (string | number)[]) => {
      if (r !== undefined && !names.has(r))
        ctx.addIssue({
          code: "custom",
          path,
          message: `unknown receiver ${JSON.stringify(r)} (declared channels: ${[...names].join(", ") || "none"})`,
        });
    };
    if (cfg.receiver === undefined && (cfg.channels.length > 0 || cfg.routes.length > 0))
      ctx.addIssue({
        code: "custom",
        path: ["receiver"],
        message: "the root route needs a receiver (a channel name)",
      });
    checkReceiver(cfg.receiver, ["receiver"]);
    const walk = (routes: RouteConfig[], path: (string | number)[]) => {
      routes.forEach((r, i) => {
        checkReceiver(r.receiver, [...path, i, "receiver"]);
        if (r.group_interval === 0)
          ctx.addIssue({
            code: "custom",
            path: [...path, i, "group_interval"],
            message: "must be greater than 0",
          });
        walk(r.routes, [...path, i, "routes"]);
      });
    };
    walk(cfg.routes, ["routes"]);
    if (cfg.group_interval === 0)
      ctx.addIssue({ code: "custom", path: ["group_interval"], message: "must be greater than 0" });
    for (const key of Object.keys(cfg.templates)) {
      if (!names.has(key) && !(CHANNEL_TYPES as readonly string[]).includes(key))
        ctx.addIssue({
          code: "custom",
          path: ["templates", key],
          message: `not a channel name or channel type`,
        });
    }
  });

export type NotifyConfig = z.output<typeof notifyConfigSchema>;
export type NotifyConfigInput = z.input<typeof notifyConfigSchema>;
