import { gunzipSync } from "node:zlib";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "../core/index.js";
import { OtlpJsonError, decodeTraceRequestJson } from "./otlp-json.js";
import {
  ProtoDecodeError,
  ShortStringCache,
  decodeTraceRequest,
  encodeRpcStatus,
  encodeTraceResponse,
} from "./otlp-proto.js";
import type { DecodedExport, DecodedSpan } from "./otlp-span.js";

/** Spans decoded and waiting for the service graph; beyond it requests get 503 (about 1 KiB each). */
export const DEFAULT_OTLP_MAX_QUEUE_SPANS = 200_000;
/** Export requests being read and decoded at once; beyond it requests get 429. */
export const DEFAULT_OTLP_MAX_CONCURRENT_REQUESTS = 64;
/** Largest request body after gzip decompression (bytes): a gzip bomb stops here. */
export const DEFAULT_OTLP_MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;
/** Seconds sent in Retry-After with 429 and 503: a client backs off at least this long. */
export const DEFAULT_OTLP_RETRY_AFTER_SECONDS = 2;
/** Spans handed to the consumer per event-loop turn, so a deep queue does not starve request handling. */
export const DEFAULT_OTLP_DRAIN_BATCH_SPANS = 4_096;

/** gRPC status codes used in google.rpc.Status bodies (OTLP/HTTP error responses). */
const RPC_INVALID_ARGUMENT = 3;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_UNAVAILABLE = 14;

export const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";
export const JSON_CONTENT_TYPE = "application/json";

export interface OtlpReceiverOptions {
  /** Receives decoded spans off the request path, in arrival order. */
  consume(spans: readonly DecodedSpan[]): void;
  logger: Logger;
  registry?: Registry;
  maxQueueSpans?: number;
  maxConcurrentRequests?: number;
  maxDecompressedBytes?: number;
  retryAfterSeconds?: number;
  drainBatchSpans?: number;
}

export interface OtlpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

type Encoding = "protobuf" | "json";

function mediaType(contentType: string | undefined): Encoding | undefined {
  const t = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (t === "application/x-protobuf" || t === "application/protobuf") return "protobuf";
  if (t === "application/json") return "json";
  return undefined;
}

/**
 * The OTLP/HTTP trace receiver, independent of the web framework: admission (429 when too many requests
 * are in flight, 503 when the span queue is full, both with Retry-After), gzip, protobuf or JSON decoding,
 * partial success for spans refused one by one, and a bounded queue drained to the consumer.
 */
export class OtlpReceiver {
  private readonly maxQueue: number;
  private readonly maxConcurrent: number;
  private readonly maxBytes: number;
  private readonly retryAfter: string;
  private readonly drainBatch: number;
  private queue: DecodedSpan[][] = [];
  private queued = 0;
  private inFlight = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  /** Strings decoded by earlier requests, so the attribute keys and names every span repeats are made once. */
  private readonly strings = new ShortStringCache(4096);
  private readonly m: { spans: Counter<"result">; refused: Counter<"status">; queue: Gauge } | undefined;

  constructor(private readonly opts: OtlpReceiverOptions) {
    this.maxQueue = opts.maxQueueSpans ?? DEFAULT_OTLP_MAX_QUEUE_SPANS;
    this.maxConcurrent = opts.maxConcurrentRequests ?? DEFAULT_OTLP_MAX_CONCURRENT_REQUESTS;
    this.maxBytes = opts.maxDecompressedBytes ?? DEFAULT_OTLP_MAX_DECOMPRESSED_BYTES;
    this.retryAfter = String(opts.retryAfterSeconds ?? DEFAULT_OTLP_RETRY_AFTER_SECONDS);
    this.drainBatch = opts.drainBatchSpans ?? DEFAULT_OTLP_DRAIN_BATCH_SPANS;
    if (opts.registry) {
      const registers = [opts.registry];
      this.m = {
        spans: new Counter({
          name: "otlp_spans_total",
          help: "Spans received over OTLP, by result (accepted, rejected)",
          labelNames: ["result"],
          registers,
        }),
        refused: new Counter({
          name: "otlp_requests_refused_total",
          help: "OTLP export requests refused whole, by HTTP status",
          labelNames: ["status"],
          registers,
        }),
        queue: new Gauge({
          name: "otlp_queue_spans",
          help: "Decoded spans waiting for the service graph",
          registers,
        }),
      };
    }
  }

  /** Spans waiting in the queue. */
  get queuedSpans(): number {
    return this.queued;
  }

  /**
   * Asks to start a request before its body is read. Returns a refusal to send as is, or undefined and
   * the caller must then call `handle` (which releases the slot).
   */
  admit(contentType: string | undefined): OtlpResponse | undefined {
    const enc = mediaType(contentType);
    if (!enc)
      return this.plain(
        415,
        `unsupported content type ${JSON.stringify(contentType ?? "")}; use ${PROTOBUF_CONTENT_TYPE} or ${JSON_CONTENT_TYPE}`,
      );
    if (this.inFlight >= this.maxConcurrent)
      return this.refuse(enc, 429, RPC_RESOURCE_EXHAUSTED, "too many export requests in flight");
    if (this.queued >= this.maxQueue) return this.refuse(enc, 503, RPC_UNAVAILABLE, "span queue is full");
    this.inFlight++;
    return undefined;
  }

  /** Decodes an admitted request and queues its spans. Releases the slot taken by `admit`. */
  handle(contentType: string | undefined, contentEncoding: string | undefined, raw: Buffer): OtlpResponse {
    try {
      return this.decodeAndQueue(mediaType(contentType) ?? "json", contentEncoding, raw);
    } finally {
      this.inFlight--;
    }
  }

  private decodeAndQueue(enc: Encoding, contentEncoding: string | undefined, raw: Buffer): OtlpResponse {
    let body = raw;
    const ce = (contentEncoding ?? "").trim().toLowerCase();
    if (ce === "gzip") {
      try {
        body = gunzipSync(raw, { maxOutputLength: this.maxBytes });
      } catch (e) {
        const tooBig = e instanceof RangeError || (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
        return tooBig
          ? this.refuse(enc, 413, RPC_INVALID_ARGUMENT, `decompressed body exceeds ${this.maxBytes} bytes`)
          : this.refuse(enc, 400, RPC_INVALID_ARGUMENT, "body is not valid gzip");
      }
    } else if (ce !== "" && ce !== "identity") {
      return this.plain(415, `unsupported Content-Encoding ${JSON.stringify(ce)}; use gzip or none`);
    }
    let decoded: DecodedExport;
    try {
      decoded =
        enc === "protobuf"
          ? decodeTraceRequest(body, this.strings)
          : decodeTraceRequestJson(JSON.parse(body.toString("utf8")));
    } catch (e) {
      if (e instanceof ProtoDecodeError || e instanceof OtlpJsonError || e instanceof SyntaxError)
        return this.refuse(
          enc,
          400,
          RPC_INVALID_ARGUMENT,
          `malformed ExportTraceServiceRequest: ${e.message}`,
        );
      throw e;
    }
    const n = decoded.spans.length;
    if (n > 0 && this.queued + n > this.maxQueue)
      return this.refuse(enc, 503, RPC_UNAVAILABLE, "span queue is full");
    if (n > 0) {
      this.queue.push(decoded.spans);
      this.queued += n;
      this.m?.queue.set(this.queued);
      this.scheduleDrain();
    }
    this.m?.spans.inc({ result: "accepted" }, n);
    if (decoded.rejected) this.m?.spans.inc({ result: "rejected" }, decoded.rejected);
    const message = decoded.rejected
      ? `${decoded.rejected} spans rejected: ${decoded.errors.join("; ")}`
      : "";
    if (enc === "protobuf")
      return {
        status: 200,
        headers: { "content-type": PROTOBUF_CONTENT_TYPE },
        body: encodeTraceResponse(decoded.rejected, message),
      };
    const json = decoded.rejected
      ? { partialSuccess: { rejectedSpans: String(decoded.rejected), errorMessage: message } }
      : {};
    return { status: 200, headers: { "content-type": JSON_CONTENT_TYPE }, body: JSON.stringify(json) };
  }

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => this.drainSome());
  }

  private drainSome(): void {
    let budget = this.drainBatch;
    try {
      while (budget > 0 && this.queue.length) {
        const batch = this.queue[0] as DecodedSpan[];
        if (batch.length <= budget) {
          this.queue.shift();
          budget -= batch.length;
          this.queued -= batch.length;
          this.opts.consume(batch);
        } else {
          const part = batch.splice(0, budget);
          this.queued -= part.length;
          budget = 0;
          this.opts.consume(part);
        }
      }
    } catch (e) {
      this.opts.logger.error({ err: e }, "span consumer failed; batch dropped");
    }
    this.m?.queue.set(this.queued);
    if (this.queue.length) setImmediate(() => this.drainSome());
    else {
      this.draining = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when the queue is empty (for shutdown and tests). */
  drained(): Promise<void> {
    return this.queued === 0 && !this.draining
      ? Promise.resolve()
      : new Promise((r) => this.idleWaiters.push(r));
  }

  private refuse(enc: Encoding, status: number, rpcCode: number, message: string): OtlpResponse {
    this.m?.refused.inc({ status: String(status) });
    const headers: Record<string, string> = {
      "content-type": enc === "protobuf" ? PROTOBUF_CONTENT_TYPE : JSON_CONTENT_TYPE,
    };
    if (status === 429 || status === 503) headers["retry-after"] = this.retryAfter;
    return {
      status,
      headers,
      body:
        enc === "protobuf" ? encodeRpcStatus(rpcCode, message) : JSON.stringify({ code: rpcCode, message }),
    };
  }

  private plain(status: number, message: string): OtlpResponse {
    this.m?.refused.inc({ status: String(status) });
    return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body: message };
  }
}
