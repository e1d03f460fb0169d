import { fail, ok, type Result } from "../../core/index.js";
import type { ChannelConfig, NotifyConfig } from "../config.js";
import type { RefStore } from "../ref-store.js";
import { compileChannelTemplates, renderHtml, renderMessage, type CompiledTemplates } from "../render.js";
import type { Notification } from "../types.js";
import type { Channel, ChannelPreview } from "./channel.js";
import { EmailChannel, emailMessage } from "./email.js";
import { JiraChannel, jiraCreatePayload, adfDocument } from "./jira.js";
import { OpsgenieChannel, opsgenieCreatePayload, opsgenieAlias } from "./opsgenie.js";
import { PagerDutyChannel, pagerdutyPayload } from "./pagerduty.js";
import { SlackChannel, slackPayload } from "./slack.js";
import { WebhookChannel, webhookBody } from "./webhook.js";

export interface ChannelDeps {
  /** Where `*_env` secrets are read from (process.env in production). */
  env: Record<string, string | undefined>;
  refs: RefStore;
  now?: () => number;
  /** Accept self-signed SMTP certificates; for tests against a local relay only. */
  allowInsecureSmtpTls?: boolean;
}

/**
 * Builds every configured channel. Missing secrets are reported all at once, each with its config
 * path, e.g. `notify.channels[1].routing_key_env: environment variable PD_KEY is not set`.
 */
export function createChannels(cfg: NotifyConfig, deps: ChannelDeps): Result<Map<string, Channel>, string[]> {
  const errors: string[] = [];
  const out = new Map<string, Channel>();
  cfg.channels.forEach((c, i) => {
    const secret = (field: string, envName: string | undefined): string | undefined => {
      if (envName === undefined) return undefined;
      const v = deps.env[envName];
      if (v === undefined || v === "")
        errors.push(`notify.channels[${i}].${field}: environment variable ${envName} is not set`);
      return v;
    };
    const tpl = compileChannelTemplates(cfg, c);
    if (tpl.status === "error") {
      errors.push(`notify.templates: ${tpl.error}`);
      return;
    }
    const render = (n: Notification) => renderMessage(tpl.value, c.type, n);
    const ch = build(c, tpl.value, render, secret, deps);
    if (ch) out.set(c.name, ch);
  });
  if (errors.length > 0) {
    for (const ch of out.values()) void ch.close?.();
    return fail(errors, false);
  }
  return ok(out);
}

function build(
  c: ChannelConfig,
  tpl: CompiledTemplates,
  render: (n: Notification) => ReturnType<typeof renderMessage>,
  secret: (field: string, env: string | undefined) => string | undefined,
  deps: ChannelDeps,
): Channel | undefined {
  const timeoutMs = c.timeout;
  switch (c.type) {
    case "slack": {
      const url = c.url ?? secret("url_env", c.url_env);
      return url ? new SlackChannel({ name: c.name, url, timeoutMs, render }) : undefined;
    }
    case "pagerduty": {
      const routingKey = c.routing_key ?? secret("routing_key_env", c.routing_key_env);
      return routingKey
        ? new PagerDutyChannel({ name: c.name, url: c.url, routingKey, timeoutMs, render })
        : undefined;
    }
    case "opsgenie": {
      const apiKey = secret("api_key_env", c.api_key_env);
      return apiKey
        ? new OpsgenieChannel({ name: c.name, url: c.url, apiKey, timeoutMs, render })
        : undefined;
    }
    case "jira": {
      const token = secret("jira.token_env", c.jira.token_env);
      return token
        ? new JiraChannel({
            name: c.name,
            url: c.jira.url,
            project: c.jira.project,
            issueType: c.jira.issue_type,
            user: c.jira.user,
            token,
            resolveTransition: c.jira.resolve_transition,
            timeoutMs,
            refs: deps.refs,
            render,
          })
        : undefined;
    }
    case "email": {
      const pass = secret("smtp.pass_env", c.smtp.pass_env);
      if (c.smtp.pass_env !== undefined && !pass) return undefined;
      return new EmailChannel({
        name: c.name,
        host: c.smtp.host,
        port: c.smtp.port,
        secure: c.smtp.secure,
        user: c.smtp.user,
        pass,
        from: c.smtp.from,
        to: c.smtp.to,
        timeoutMs,
        allowInsecureTls: deps.allowInsecureSmtpTls ?? false,
        render,
        renderHtml: (n) => renderHtml(tpl, n),
      });
    }
    case "webhook": {
      const s = secret("webhook.secret_env", c.webhook.secret_env);
      return s
        ? new WebhookChannel({
            name: c.name,
            url: c.webhook.url,
            secret: s,
            timeoutMs,
            render,
            ...(deps.now ? { now: deps.now } : {}),
          })
        : undefined;
    }
  }
}

/**
 * What a channel would send for a notification, without sending and without secrets (placeholders
 * name the env var instead). Used by `novasre notify preview`.
 */
export function previewChannel(
  cfg: Pick<NotifyConfig, "channels" | "templates">,
  channelName: string,
  n: Notification,
): Result<ChannelPreview> {
  const c = cfg.channels.find((x) => x.name === channelName);
  if (!c)
    return fail(
      `unknown channel ${JSON.stringify(channelName)} (declared: ${cfg.channels.map((x) => x.name).join(", ") || "none"})`,
      false,
    );
  const tpl = compileChannelTemplates(cfg, c);
  if (tpl.status === "error") return tpl;
  const msg = renderMessage(tpl.value, c.type, n);
  const placeholder = (env: string | undefined) => `<from $${env ?? "?"}>`;
  let payload: unknown;
  switch (c.type) {
    case "slack":
      payload = slackPayload(n, msg);
      break;
    case "pagerduty":
      payload = pagerdutyPayload(n, msg, c.routing_key ?? placeholder(c.routing_key_env));
      break;
    case "opsgenie":
      payload =
        n.kind === "acknowledge" || n.kind === "resolve"
          ? {
              path: `/v2/alerts/${opsgenieAlias(n)}/${n.kind === "resolve" ? "close" : "acknowledge"}?identifierType=alias`,
              body: { source: "NovaCron SRE", note: msg.title },
            }
          : opsgenieCreatePayload(n, msg);
      break;
    case "jira":
      payload =
        n.kind === "trigger"
          ? jiraCreatePayload(n, msg, c.jira.project, c.jira.issue_type)
          : { comment: { body: adfDocument(msg.text) } };
      break;
    case "email":
      payload = emailMessage(n, msg, renderHtml(tpl.value, n), c.smtp.from, c.smtp.to);
      break;
    case "webhook":
      payload = webhookBody(n, msg);
      break;
  }
  return ok({ title: msg.title, text: msg.text, payload });
}
