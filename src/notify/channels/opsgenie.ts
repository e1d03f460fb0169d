import { ok, type Result } from "../../core/index.js";
import { truncate, type RenderedMessage } from "../render.js";
import type { Notification, Severity } from "../types.js";
import type { Channel } from "./channel.js";
import { vendorRequest } from "./http.js";

/** Alert API limits: message 130, alias 512, description 15000, tags 20 of 50 chars each. */
const OG_MESSAGE_MAX_CHARS = 130;
const OG_ALIAS_MAX_CHARS = 512;
const OG_DESCRIPTION_MAX_CHARS = 15_000;
const OG_MAX_TAGS = 20;
const OG_TAG_MAX_CHARS = 50;
export const OG_PRIORITY: Record<Severity, "P1" | "P2" | "P3" | "P4"> = {
  P0: "P1",
  P1: "P2",
  P2: "P3",
  P3: "P4",
};

export function opsgenieCreatePayload(n: Notification, msg: RenderedMessage) {
  const details: Record<string, string> = { incident_id: n.incident.id, incident_status: n.incident.status };
  if (n.incident.url) details["incident_url"] = n.incident.url;
  for (const [k, v] of Object.entries(n.commonLabels)) details[`label_${k}`] = v;
  const tags = [n.incident.severity, ...n.incident.services]
    .map((t) => t.slice(0, OG_TAG_MAX_CHARS))
    .slice(0, OG_MAX_TAGS);
  return {
    message: truncate(msg.title || n.incident.title, OG_MESSAGE_MAX_CHARS),
    alias: opsgenieAlias(n),
    description: truncate(msg.text, OG_DESCRIPTION_MAX_CHARS),
    tags,
    details,
    entity: n.incident.services.join(", "),
    source: "NovaCron SRE",
    priority: OG_PRIORITY[n.incident.severity],
  };
}

export function opsgenieAlias(n: Notification): string {
  return n.incident.key.slice(0, OG_ALIAS_MAX_CHARS);
}

export interface OpsgenieChannelOptions {
  name: string;
  url: string;
  apiKey: string;
  timeoutMs: number;
  render: (n: Notification) => RenderedMessage;
}

/**
 * Opsgenie Alert API v2. alias = incident key: creating again with the same alias while the alert is
 * open only bumps its count, so updates never page twice. Acknowledge and close address the alias.
 */
export class OpsgenieChannel implements Channel {
  readonly type = "opsgenie" as const;
  readonly name: string;
  constructor(private readonly opts: OpsgenieChannelOptions) {
    this.name = opts.name;
  }

  async send(n: Notification, signal: AbortSignal): Promise<Result<{ ref?: string }>> {
    const base = `${this.opts.url.replace(/\/$/, "")}/v2/alerts`;
    const headers = { "content-type": "application/json", authorization: `GenieKey ${this.opts.apiKey}` };
    let url = base;
    let body: unknown;
    if (n.kind === "acknowledge" || n.kind === "resolve") {
      const action = n.kind === "acknowledge" ? "acknowledge" : "close";
      url = `${base}/${encodeURIComponent(opsgenieAlias(n))}/${action}?identifierType=alias`;
      body = { source: "NovaCron SRE", note: truncate(this.opts.render(n).title, 25_000) };
    } else {
      body = opsgenieCreatePayload(n, this.opts.render(n));
    }
    const r = await vendorRequest(
      `opsgenie ${this.name}`,
      url,
      { method: "POST", headers, body: JSON.stringify(body) },
      this.opts.timeoutMs,
      signal,
    );
    if (r.status === "error") return r;
    try {
      const parsed = JSON.parse(r.value.body) as { requestId?: string };
      return ok(parsed.requestId ? { ref: parsed.requestId } : {});
    } catch {
      return ok({});
    }
  }
}
