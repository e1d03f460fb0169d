import { createHmac, timingSafeEqual } from "node:crypto";
import { fail, ok, type Result } from "../../core/index.js";
import type { RenderedMessage } from "../render.js";
import type { Notification } from "../types.js";
import type { Channel } from "./channel.js";
import { vendorRequest } from "./http.js";

export const SIGNATURE_HEADER = "X-NovaSRE-Signature";
export const TIMESTAMP_HEADER = "X-NovaSRE-Timestamp";
/** Signed requests older or newer than this are rejected as replays. */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** `sha256=<hex HMAC-SHA256 of "<unix seconds>.<body>">` */
export function signWebhook(secret: string, timestampSeconds: number, body: string | Buffer): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(body);
  return `sha256=${mac.digest("hex")}`;
}

/**
 * Checks a signed request (ours outbound, or senders to our inbound receivers): the timestamp must be
 * within tolerance of `now` and the signature must match in constant time.
 */
export function verifyWebhookSignature(args: {
  secret: string;
  body: string | Buffer;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  now: number;
  toleranceMs?: number;
}): Result<void> {
  if (!args.signature || !args.timestamp) return fail("missing signature or timestamp header", false);
  if (!/^\d{1,12}$/.test(args.timestamp)) return fail("malformed timestamp", false);
  const ts = Number(args.timestamp);
  if (Math.abs(args.now - ts * 1000) > (args.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS))
    return fail("timestamp outside tolerance", false);
  const expected = Buffer.from(signWebhook(args.secret, ts, args.body));
  const given = Buffer.from(args.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return fail("signature mismatch", false);
  return ok(undefined);
}

export function webhookBody(n: Notification, msg: RenderedMessage) {
  return {
    version: "1",
    idempotencyKey: n.idempotencyKey,
    kind: n.kind,
    channel: n.channel,
    route: n.route,
    title: msg.title,
    text: msg.text,
    incident: n.incident,
    alerts: n.alerts,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    createdAt: new Date(n.createdAt).toISOString(),
  };
}

export interface WebhookChannelOptions {
  name: string;
  url: string;
  secret: string;
  timeoutMs: number;
  render: (n: Notification) => RenderedMessage;
  now?: () => number;
}

/** Generic JSON webhook, HMAC-signed, with an Idempotency-Key header the receiver can dedup on. */
export class WebhookChannel implements Channel {
  readonly type = "webhook" as const;
  readonly name: string;
  constructor(private readonly opts: WebhookChannelOptions) {
    this.name = opts.name;
  }

  async send(n: Notification, signal: AbortSignal): Promise<Result<{ ref?: string }>> {
    const body = JSON.stringify(webhookBody(n, this.opts.render(n)));
    const ts = Math.floor((this.opts.now ?? Date.now)() / 1000);
    const r = await vendorRequest(
      `webhook ${this.name}`,
      this.opts.url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [TIMESTAMP_HEADER]: String(ts),
          [SIGNATURE_HEADER]: signWebhook(this.opts.secret, ts, body),
          "Idempotency-Key": n.idempotencyKey,
        },
        body,
      },
      this.opts.timeoutMs,
      signal,
    );
    return r.status === "error" ? r : ok({});
  }
}
