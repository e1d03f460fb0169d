import type { Result } from "../../core/index.js";
import type { ChannelType, Notification } from "../types.js";

/**
 * A destination. `send` never throws for expected failures: it returns a Result whose `retryable`
 * tells the outbox whether to try again (5xx, timeouts, network, 429 with retryAfterMs) or give up.
 */
export interface Channel {
  readonly name: string;
  readonly type: ChannelType;
  send(n: Notification, signal: AbortSignal): Promise<Result<{ ref?: string }>>;
  /** Release pooled connections (SMTP). */
  close?(): Promise<void>;
}

/** What a channel renders before it sends; also what `notify preview` prints. */
export interface ChannelPreview {
  title: string;
  text: string;
  /** The request body exactly as it would be sent (secrets replaced by placeholders). */
  payload: unknown;
}
