import { fail, ok, type Result } from "../../core/index.js";
import { truncate, type RenderedMessage } from "../render.js";
import type { Notification } from "../types.js";
import type { Channel } from "./channel.js";
import { vendorRequest } from "./http.js";

/** Block Kit limits: header text 150 chars, section text 3000 chars. */
const SLACK_HEADER_MAX_CHARS = 150;
const SLACK_SECTION_MAX_CHARS = 3000;
const SEVERITY_EMOJI = {
  P0: ":red_circle:",
  P1: ":large_orange_circle:",
  P2: ":large_yellow_circle:",
  P3: ":white_circle:",
} as const;

export function slackPayload(n: Notification, msg: RenderedMessage) {
  const emoji = n.kind === "resolve" ? ":white_check_mark:" : SEVERITY_EMOJI[n.incident.severity];
  const blocks: unknown[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: truncate(msg.title || n.incident.title, SLACK_HEADER_MAX_CHARS),
        emoji: true,
      },
    },
    { type: "section", text: { type: "mrkdwn", text: truncate(msg.text || " ", SLACK_SECTION_MAX_CHARS) } },
  ];
  if (n.incident.url)
    blocks.push({
      type: "actions",
      elements: [
        { type: "button", text: { type: "plain_text", text: "Open incident" }, url: n.incident.url },
      ],
    });
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `${emoji} ${n.incident.severity} · ${n.incident.status} · incident ${n.incident.key}`,
      },
    ],
  });
  // `text` is the fallback shown in notifications and by clients that cannot render blocks.
  return { text: truncate(msg.title, SLACK_SECTION_MAX_CHARS), blocks };
}

export interface SlackChannelOptions {
  name: string;
  url: string;
  timeoutMs: number;
  render: (n: Notification) => RenderedMessage;
}

/** Slack incoming webhook: POST JSON, 200 "ok" on success. */
export class SlackChannel implements Channel {
  readonly type = "slack" as const;
  readonly name: string;
  constructor(private readonly opts: SlackChannelOptions) {
    this.name = opts.name;
  }

  async send(n: Notification, signal: AbortSignal): Promise<Result<{ ref?: string }>> {
    const body = JSON.stringify(slackPayload(n, this.opts.render(n)));
    const r = await vendorRequest(
      `slack ${this.name}`,
      this.opts.url,
      { method: "POST", headers: { "content-type": "application/json" }, body },
      this.opts.timeoutMs,
      signal,
    );
    if (r.status === "error") return r;
    if (r.value.body.trim() !== "ok")
      return fail(`slack ${this.name}: unexpected response ${r.value.body.slice(0, 100)}`, false);
    return ok({});
  }
}
