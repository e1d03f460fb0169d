import { fail, ok, type Result } from "../../core/index.js";
import { truncate, type RenderedMessage } from "../render.js";
import type { Notification, Severity } from "../types.js";
import type { Channel } from "./channel.js";
import { vendorRequest } from "./http.js";

/** Events API v2 limits: summary 1024 chars, dedup_key 255 chars. */
const PD_SUMMARY_MAX_CHARS = 1024;
const PD_DEDUP_KEY_MAX_CHARS = 255;
export const PD_SEVERITY: Record<Severity, "critical" | "error" | "warning" | "info"> = {
  P0: "critical",
  P1: "error",
  P2: "warning",
  P3: "info",
};

export function pagerdutyPayload(n: Notification, msg: RenderedMessage, routingKey: string) {
  const dedup_key = n.incident.key.slice(0, PD_DEDUP_KEY_MAX_CHARS);
  if (n.kind === "acknowledge" || n.kind === "resolve")
    return { routing_key: routingKey, event_action: n.kind, dedup_key };
  const common = n.commonLabels;
  const payload: Record<string, unknown> = {
    summary: truncate(msg.title || n.incident.title, PD_SUMMARY_MAX_CHARS),
    source: common["instance"] ?? n.incident.services[0] ?? "novasre",
    severity: PD_SEVERITY[n.incident.severity],
    timestamp: new Date(n.createdAt).toISOString(),
    custom_details: {
      text: msg.text,
      incident_id: n.incident.id,
      incident_status: n.incident.status,
      services: n.incident.services,
      alerts: n.alerts.map((a) => ({
        fingerprint: a.fingerprint,
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
      })),
    },
  };
  const component =
    common["service"] ?? (n.incident.services.length > 0 ? n.incident.services.join(",") : undefined);
  if (component) payload["component"] = component;
  const group = common["team"] ?? common["job"];
  if (group) payload["group"] = group;
  if (common["alertname"]) payload["class"] = common["alertname"];
  return {
    routing_key: routingKey,
    event_action: "trigger" as const,
    dedup_key,
    payload,
    client: "NovaCron SRE",
    ...(n.incident.url
      ? { client_url: n.incident.url, links: [{ href: n.incident.url, text: "Incident" }] }
      : {}),
  };
}

export interface PagerDutyChannelOptions {
  name: string;
  /** Events API base URL, e.g. https://events.pagerduty.com */
  url: string;
  routingKey: string;
  timeoutMs: number;
  render: (n: Notification) => RenderedMessage;
}

/**
 * PagerDuty Events API v2. Every event for one incident carries the incident's key as dedup_key, so
 * an alert joining the incident updates the PagerDuty incident instead of paging again.
 */
export class PagerDutyChannel implements Channel {
  readonly type = "pagerduty" as const;
  readonly name: string;
  constructor(private readonly opts: PagerDutyChannelOptions) {
    this.name = opts.name;
  }

  async send(n: Notification, signal: AbortSignal): Promise<Result<{ ref?: string }>> {
    const body = JSON.stringify(pagerdutyPayload(n, this.opts.render(n), this.opts.routingKey));
    const r = await vendorRequest(
      `pagerduty ${this.name}`,
      `${this.opts.url.replace(/\/$/, "")}/v2/enqueue`,
      { method: "POST", headers: { "content-type": "application/json" }, body },
      this.opts.timeoutMs,
      signal,
    );
    if (r.status === "error") return r;
    let parsed: { status?: string; dedup_key?: string };
    try {
      parsed = JSON.parse(r.value.body) as typeof parsed;
    } catch {
      return fail(`pagerduty ${this.name}: response is not JSON`, true);
    }
    return ok(parsed.dedup_key ? { ref: parsed.dedup_key } : {});
  }
}
