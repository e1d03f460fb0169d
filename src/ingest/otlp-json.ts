import {
  noteRejection,
  UNKNOWN_SERVICE,
  type AttrValue,
  type Attributes,
  type DecodedExport,
  type SpanKind,
  type SpanResource,
  type StatusCode,
} from "./otlp-span.js";

/**
 * The OTLP/JSON encoding of ExportTraceServiceRequest (OTLP specification, "JSON Protobuf Encoding"):
 * lowerCamelCase field names, trace and span ids as hex strings, enums as integers, 64-bit integers as
 * decimal strings or numbers. Unknown fields are ignored, as the specification requires.
 */

export class OtlpJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OtlpJsonError";
  }
}

const HEX_TRACE = /^[0-9a-fA-F]{32}$/;
const HEX_SPAN = /^[0-9a-fA-F]{16}$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";
const MAX_ANY_VALUE_DEPTH = 8;
/** Enum names some producers write instead of the numbers the OTLP JSON mapping asks for; accepted too. */
const KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_NAMES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

function enumValue(v: unknown, names: Record<string, number>, max: number): number {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v <= max ? v : 0;
  if (typeof v === "string") return names[v] ?? 0;
  return 0;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown, what: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpJsonError(`${what} must be an array`);
  return v;
};

/** Splits a nanosecond timestamp (decimal string or number) into whole ms and the ns remainder. */
function nanos(v: unknown): [number, number] | undefined {
  if (v === undefined || v === null) return [0, 0];
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? [Math.floor(v / 1e6), v % 1e6] : undefined;
  if (typeof v !== "string" || !/^\d{1,20}$/.test(v)) return undefined;
  if (v.length <= 6) return [0, Number(v)];
  return [Number(v.slice(0, -6)), Number(v.slice(-6))];
}

function anyValue(v: unknown, depth: number): AttrValue {
  if (!isObj(v)) return null;
  if (typeof v["stringValue"] === "string") return v["stringValue"];
  if (typeof v["boolValue"] === "boolean") return v["boolValue"];
  if (v["intValue"] !== undefined) {
    const n = Number(v["intValue"]);
    return Number.isFinite(n) ? n : null;
  }
  if (v["doubleValue"] !== undefined) {
    const d = v["doubleValue"];
    // Non-finite doubles are the strings "NaN", "Infinity", "-Infinity" in the JSON mapping.
    return typeof d === "number" ? d : typeof d === "string" ? Number(d) : null;
  }
  if (typeof v["bytesValue"] === "string") return v["bytesValue"];
  if (depth >= MAX_ANY_VALUE_DEPTH) return null;
  if (isObj(v["arrayValue"]))
    return arr(v["arrayValue"]["values"], "arrayValue.values").map((x) => anyValue(x, depth + 1));
  if (isObj(v["kvlistValue"])) return attributes(v["kvlistValue"]["values"], depth + 1);
  return null;
}

function attributes(list: unknown, depth = 0): Attributes {
  const out: Attributes = {};
  for (const kv of arr(list, "attributes")) {
    if (isObj(kv) && typeof kv["key"] === "string") out[kv["key"]] = anyValue(kv["value"], depth);
  }
  return out;
}

/** Decodes an already JSON-parsed OTLP/JSON request. Throws OtlpJsonError when its structure is wrong. */
export function decodeTraceRequestJson(body: unknown): DecodedExport {
  if (!isObj(body)) throw new OtlpJsonError("body must be a JSON object");
  const out: DecodedExport = { spans: [], rejected: 0, errors: [] };
  for (const rs of arr(body["resourceSpans"], "resourceSpans")) {
    if (!isObj(rs)) throw new OtlpJsonError("resourceSpans[] must be objects");
    const attrs = isObj(rs["resource"]) ? attributes(rs["resource"]["attributes"]) : {};
    const svc = attrs["service.name"];
    const resource: SpanResource = {
      service: typeof svc === "string" && svc !== "" ? svc : UNKNOWN_SERVICE,
      attributes: attrs,
    };
    for (const ss of arr(rs["scopeSpans"], "scopeSpans")) {
      if (!isObj(ss)) throw new OtlpJsonError("scopeSpans[] must be objects");
      const scope = isObj(ss["scope"]) && typeof ss["scope"]["name"] === "string" ? ss["scope"]["name"] : "";
      for (const s of arr(ss["spans"], "spans")) {
        if (!isObj(s)) {
          noteRejection(out, "span must be an object");
          continue;
        }
        const traceId = typeof s["traceId"] === "string" ? s["traceId"].toLowerCase() : "";
        const spanId = typeof s["spanId"] === "string" ? s["spanId"].toLowerCase() : "";
        if (!HEX_TRACE.test(traceId) || traceId === ZERO_TRACE) {
          noteRejection(out, "traceId must be 32 hex digits, not all zero");
          continue;
        }
        if (!HEX_SPAN.test(spanId) || spanId === ZERO_SPAN) {
          noteRejection(out, "spanId must be 16 hex digits, not all zero");
          continue;
        }
        let parent = typeof s["parentSpanId"] === "string" ? s["parentSpanId"].toLowerCase() : "";
        if (parent === ZERO_SPAN) parent = "";
        if (parent !== "" && !HEX_SPAN.test(parent)) {
          noteRejection(out, "parentSpanId must be 16 hex digits or empty");
          continue;
        }
        const start = nanos(s["startTimeUnixNano"]);
        const end = nanos(s["endTimeUnixNano"]);
        if (!start || !end) {
          noteRejection(out, "startTimeUnixNano/endTimeUnixNano must be unsigned integers");
          continue;
        }
        const durationNs = (end[0] - start[0]) * 1e6 + (end[1] - start[1]);
        if (durationNs < 0) {
          noteRejection(out, "endTimeUnixNano before startTimeUnixNano");
          continue;
        }
        const kind = enumValue(s["kind"], KIND_NAMES, 5);
        const status = isObj(s["status"]) ? s["status"] : {};
        const code = enumValue(status["code"], STATUS_NAMES, 2);
        out.spans.push({
          resource,
          scope,
          traceId,
          spanId,
          parentSpanId: parent,
          name: typeof s["name"] === "string" ? s["name"] : "",
          kind: kind as SpanKind,
          startMs: start[0] + start[1] / 1e6,
          durationMs: durationNs / 1e6,
          statusCode: code as StatusCode,
          statusMessage: typeof status["message"] === "string" ? status["message"] : "",
          attributes: attributes(s["attributes"]),
        });
      }
    }
  }
  return out;
}
