/** OTLP attribute values as we keep them. int64 values beyond 2^53 lose precision (they become doubles). */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

/** SpanKind numbers of the OTLP protocol (opentelemetry/proto/trace/v1/trace.proto). */
export const SpanKind = {
  Unspecified: 0,
  Internal: 1,
  Server: 2,
  Client: 3,
  Producer: 4,
  Consumer: 5,
} as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** Status.code of the OTLP protocol. */
export const StatusCode = { Unset: 0, Ok: 1, Error: 2 } as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

/** What every span of a ResourceSpans shares. One object per resource, referenced by its spans. */
export interface SpanResource {
  /** `service.name`, or `unknown_service` as the OTel SDKs say when it is missing. */
  service: string;
  attributes: Attributes;
}

/** One span, decoded from OTLP protobuf or JSON. Ids are lower-case hex; a root span's parent is "". */
export interface DecodedSpan {
  resource: SpanResource;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  /** Start, milliseconds since the epoch (fractional). */
  startMs: number;
  /** End minus start, milliseconds (fractional; exact to the nanosecond below 104 days). */
  durationMs: number;
  statusCode: StatusCode;
  statusMessage: string;
  attributes: Attributes;
}

/** Result of decoding one export request: spans kept, and spans refused with the first reasons why. */
export interface DecodedExport {
  spans: DecodedSpan[];
  rejected: number;
  /** Up to a few distinct reasons, for the partial-success message. */
  errors: string[];
}

export const UNKNOWN_SERVICE = "unknown_service";
/** Distinct rejection reasons kept per request for the partial-success message. */
export const MAX_REJECTION_REASONS = 5;

export function noteRejection(out: DecodedExport, reason: string): void {
  out.rejected++;
  if (out.errors.length < MAX_REJECTION_REASONS && !out.errors.includes(reason)) out.errors.push(reason);
}
