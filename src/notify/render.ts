import { fail, ok, type Labels, type Result } from "../core/index.js";
import type { NotifyConfig } from "./config.js";
import {
  htmlEscape,
  noEscape,
  parseTemplate,
  renderTemplate,
  slackEscape,
  type Escaper,
  type Template,
} from "./template.js";
import type { ChannelType, Notification, NotifyAlert } from "./types.js";

export interface RenderedMessage {
  title: string;
  text: string;
}

export interface TemplateSource {
  title: string;
  text: string;
}

const KIND_LABEL = {
  trigger: "TRIGGERED",
  update: "UPDATED",
  acknowledge: "ACKNOWLEDGED",
  resolve: "RESOLVED",
} as const;

const PLAIN_TEXT = `{{incident.title}}
Severity: {{incident.severity}}  Status: {{incident.status}}  Services: {{incident.servicesText}}
{{#incident.url}}Incident: {{incident.url}}
{{/incident.url}}{{#firingCount}}
Firing ({{firingCount}}):
{{#firing}}- {{summary}}{{#labelsText}} [{{labelsText}}]{{/labelsText}}
{{/firing}}{{/firingCount}}{{#resolvedCount}}
Resolved ({{resolvedCount}}):
{{#resolved}}- {{summary}}
{{/resolved}}{{/resolvedCount}}`;

/** Built-in templates: short titles fit every vendor's summary field; texts suit each medium. */
export const DEFAULT_TEMPLATES: Record<ChannelType, TemplateSource> = {
  slack: {
    title: "[{{kindLabel}}] {{incident.severity}} {{incident.title}}",
    text: `*{{incident.title}}*
*Severity:* {{incident.severity}}   *Status:* {{incident.status}}   *Services:* {{incident.servicesText}}
{{#firingCount}}
*Firing ({{firingCount}})*
{{#firing}}• {{summary}}{{#description}} — {{description}}{{/description}}
{{/firing}}{{/firingCount}}{{#resolvedCount}}
*Resolved ({{resolvedCount}})*
{{#resolved}}• ~{{summary}}~
{{/resolved}}{{/resolvedCount}}`,
  },
  pagerduty: { title: "{{incident.severity}} {{incident.title}}", text: PLAIN_TEXT },
  opsgenie: { title: "{{incident.severity}} {{incident.title}}", text: PLAIN_TEXT },
  jira: { title: "[{{incident.severity}}] {{incident.title}}", text: PLAIN_TEXT },
  email: { title: "[{{kindLabel}}] {{incident.severity}} {{incident.title}}", text: PLAIN_TEXT },
  webhook: { title: "[{{kindLabel}}] {{incident.severity}} {{incident.title}}", text: PLAIN_TEXT },
};

/** How a channel's text is escaped: Slack mrkdwn treats &, <, > as markup; the others take plain text. */
export const TEXT_ESCAPER: Record<ChannelType, Escaper> = {
  slack: slackEscape,
  pagerduty: noEscape,
  opsgenie: noEscape,
  jira: noEscape,
  email: noEscape,
  webhook: noEscape,
};

function pairs(l: Labels): { name: string; value: string }[] {
  return Object.keys(l)
    .sort()
    .map((name) => ({ name, value: l[name] as string }));
}

function labelsText(l: Labels): string {
  return pairs(l)
    .filter((p) => p.name !== "alertname")
    .map((p) => `${p.name}=${p.value}`)
    .join(", ");
}

function alertView(a: NotifyAlert) {
  return {
    fingerprint: a.fingerprint,
    status: a.status,
    firing: a.status === "firing",
    resolved: a.status === "resolved",
    summary: a.annotations["summary"] ?? a.labels["alertname"] ?? a.fingerprint,
    description: a.annotations["description"] ?? "",
    runbook: a.annotations["runbook_url"] ?? "",
    labels: a.labels,
    labelList: pairs(a.labels),
    labelsText: labelsText(a.labels),
    annotations: a.annotations,
    annotationList: pairs(a.annotations),
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: a.endsAt !== undefined ? new Date(a.endsAt).toISOString() : "",
  };
}

/** The data templates see. Documented in docs/notifications.md; adding fields is fine, renaming is not. */
export function templateContext(n: Notification) {
  const alerts = n.alerts.map(alertView);
  const firing = alerts.filter((a) => a.firing);
  const resolved = alerts.filter((a) => a.resolved);
  return {
    kind: n.kind,
    kindLabel: KIND_LABEL[n.kind],
    isTrigger: n.kind === "trigger",
    isUpdate: n.kind === "update",
    isAcknowledge: n.kind === "acknowledge",
    isResolve: n.kind === "resolve",
    channel: n.channel,
    route: n.route,
    incident: { ...n.incident, servicesText: n.incident.services.join(", ") || "-" },
    alerts,
    firing,
    resolved,
    firingCount: firing.length,
    resolvedCount: resolved.length,
    groupLabels: n.groupLabels,
    groupLabelList: pairs(n.groupLabels),
    commonLabels: n.commonLabels,
    commonLabelList: pairs(n.commonLabels),
    commonAnnotations: n.commonAnnotations,
    createdAt: new Date(n.createdAt).toISOString(),
  };
}

export interface CompiledTemplates {
  title: Template;
  text: Template;
}

/** Config override by channel name, then by channel type, then the built-in default; per field. */
export function compileChannelTemplates(
  cfg: Pick<NotifyConfig, "templates">,
  channel: { name: string; type: ChannelType },
): Result<CompiledTemplates> {
  const byName = cfg.templates[channel.name];
  const byType = cfg.templates[channel.type];
  const def = DEFAULT_TEMPLATES[channel.type];
  const title = parseTemplate(byName?.title ?? byType?.title ?? def.title);
  if (title.status === "error") return fail(`templates for ${channel.name}: title: ${title.error}`, false);
  const text = parseTemplate(byName?.text ?? byType?.text ?? def.text);
  if (text.status === "error") return fail(`templates for ${channel.name}: text: ${text.error}`, false);
  return ok({ title: title.value, text: text.value });
}

export function renderMessage(
  t: CompiledTemplates,
  type: ChannelType,
  n: Notification,
  escaper: Escaper = TEXT_ESCAPER[type],
): RenderedMessage {
  const ctx = templateContext(n);
  // Titles go into plain-text fields (Slack header, subjects, summaries), never markup.
  const title = renderTemplate(t.title, ctx, noEscape).replace(/\s+/g, " ").trim();
  const text = renderTemplate(t.text, ctx, escaper)
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return { title, text };
}

export function renderHtml(t: CompiledTemplates, n: Notification): string {
  const body = renderTemplate(t.text, templateContext(n), htmlEscape).trim();
  return `<!doctype html><html><body><pre style="font-family:monospace;white-space:pre-wrap">${body}</pre></body></html>`;
}

export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, Math.max(0, max - 1))}…`;
}
