import nodemailer from "nodemailer";
import type { Transporter } from "nodemailer";
import { fail, ok, type Result } from "../../core/index.js";
import type { RenderedMessage } from "../render.js";
import type { Notification } from "../types.js";
import type { Channel } from "./channel.js";

/** A page must not wait on a dead mail relay: fail fast and let the outbox retry. */
export const SMTP_CONNECTION_TIMEOUT_MS = 5_000;
export const SMTP_GREETING_TIMEOUT_MS = 5_000;
export const SMTP_SOCKET_TIMEOUT_MS = 10_000;
/** Few connections: alert mail is bursty but small. */
export const SMTP_MAX_CONNECTIONS = 2;

export interface EmailChannelOptions {
  name: string;
  host: string;
  port: number;
  secure: boolean;
  user?: string | undefined;
  pass?: string | undefined;
  from: string;
  to: string[];
  timeoutMs: number;
  /** Accept self-signed relays (tests only). */
  allowInsecureTls?: boolean;
  render: (n: Notification) => RenderedMessage;
  renderHtml: (n: Notification) => string;
}

export function emailMessage(
  n: Notification,
  msg: RenderedMessage,
  html: string,
  from: string,
  to: string[],
) {
  return {
    from,
    to,
    subject: msg.title,
    text: msg.text,
    html,
    // Deterministic Message-ID: a retried send after a lost reply is recognisable as the same mail.
    messageId: `<${n.idempotencyKey}@novasre>`,
    headers: {
      "X-NovaSRE-Incident": n.incident.key,
      "X-NovaSRE-Kind": n.kind,
      "X-NovaSRE-Idempotency-Key": n.idempotencyKey,
    },
  };
}

/** Email over SMTP with a pooled nodemailer transport. */
export class EmailChannel implements Channel {
  readonly type = "email" as const;
  readonly name: string;
  private readonly transport: Transporter;
  constructor(private readonly opts: EmailChannelOptions) {
    this.name = opts.name;
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: SMTP_MAX_CONNECTIONS,
      host: opts.host,
      port: opts.port,
      secure: opts.secure,
      ...(opts.user !== undefined ? { auth: { user: opts.user, pass: opts.pass ?? "" } } : {}),
      connectionTimeout: Math.min(SMTP_CONNECTION_TIMEOUT_MS, opts.timeoutMs),
      greetingTimeout: Math.min(SMTP_GREETING_TIMEOUT_MS, opts.timeoutMs),
      socketTimeout: Math.min(SMTP_SOCKET_TIMEOUT_MS, opts.timeoutMs),
      ...(opts.allowInsecureTls ? { tls: { rejectUnauthorized: false } } : {}),
    });
  }

  async send(n: Notification, signal: AbortSignal): Promise<Result<{ ref?: string }>> {
    const mail = emailMessage(n, this.opts.render(n), this.opts.renderHtml(n), this.opts.from, this.opts.to);
    const abort = new Promise<"aborted">((resolve) => {
      if (signal.aborted) resolve("aborted");
      signal.addEventListener("abort", () => resolve("aborted"), { once: true });
    });
    try {
      const r = await Promise.race([this.transport.sendMail(mail), abort]);
      if (r === "aborted") return fail(`email ${this.name}: aborted`, true);
      return ok({ ref: String((r as { messageId?: string }).messageId ?? mail.messageId) });
    } catch (e) {
      return classifySmtpError(this.name, e);
    }
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}

/** SMTP 4xx replies are transient by definition (RFC 5321); 5xx are permanent; socket trouble is transient. */
export function classifySmtpError(name: string, e: unknown): Result<never> {
  const err = e as { responseCode?: number; code?: string; message?: string };
  const msg = `email ${name}: ${err.code ?? "error"} ${err.responseCode ?? ""} ${err.message ?? String(e)}`
    .replace(/\s+/g, " ")
    .trim();
  if (typeof err.responseCode === "number") return fail(msg, err.responseCode < 500);
  // EAUTH / EENVELOPE / EMESSAGE are problems with what we send or how we log in: retrying will not help.
  if (err.code === "EAUTH" || err.code === "EENVELOPE" || err.code === "EMESSAGE") return fail(msg, false);
  return fail(msg, true);
}
