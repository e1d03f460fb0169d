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
 * A decoder of the protobuf wire format for opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest,
 * written against the public .proto files (field numbers below). It reads only what the service graph and
 * RED metrics need plus attributes; events and links are skipped without being decoded.
 */

/** Thrown for bytes that are not a valid encoding: the request is answered 400 (not retryable). */
export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtoDecodeError";
  }
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const TWO_32 = 4294967296;
/** Nesting of AnyValue arrays/kvlists we follow; deeper values are dropped (a hostile payload could recurse). */
const MAX_ANY_VALUE_DEPTH = 8;

/** ASCII strings up to this many bytes go through the string cache below. */
const SHORT_STRING_BYTES = 48;
/** Slots of a decoder's short-string cache (a power of two), each holding one string. */
export const DEFAULT_STRING_CACHE_SLOTS = 1024;

/**
 * Attribute keys, service, span and scope names and most short values repeat in every span: a
 * direct-mapped cache hands back the string decoded before from the same bytes, so a repeat costs a byte
 * comparison instead of a new string (and attribute keys come back already internalised). A receiver keeps
 * one across requests; a miss only costs the decode, and memory is bounded by slots x SHORT_STRING_BYTES.
 */
export class ShortStringCache {
  private readonly strings: (string | undefined)[];
  /** Each slot's bytes (SHORT_STRING_BYTES apiece): comparing bytes is several times cheaper than charCodeAt. */
  private readonly bytes: Uint8Array;
  private readonly lengths: Int32Array;
  private readonly mask: number;

  constructor(slots: number = DEFAULT_STRING_CACHE_SLOTS) {
    const n = 2 ** Math.ceil(Math.log2(Math.max(1, slots)));
    this.strings = new Array<string | undefined>(n).fill(undefined);
    this.bytes = new Uint8Array(n * SHORT_STRING_BYTES);
    this.lengths = new Int32Array(n).fill(-1);
    this.mask = n - 1;
  }

  /** buf[start, end) when it is ASCII (and at most SHORT_STRING_BYTES long), else undefined. */
  ascii(buf: Buffer, start: number, end: number): string | undefined {
    const n = end - start;
    if (n > SHORT_STRING_BYTES) return undefined;
    let h = n;
    for (let i = start; i < end; i++) {
      const c = buf[i] as number;
      if (c >= 0x80) return undefined;
      h = (Math.imul(h, 31) + c) | 0;
    }
    const slot = h & this.mask;
    const bytes = this.bytes;
    const at = slot * SHORT_STRING_BYTES;
    if (this.lengths[slot] === n) {
      let i = 0;
      while (i < n && bytes[at + i] === buf[start + i]) i++;
      if (i === n) return this.strings[slot];
    }
    const out = buf.toString("latin1", start, end);
    for (let i = 0; i < n; i++) bytes[at + i] = buf[start + i] as number;
    this.lengths[slot] = n;
    this.strings[slot] = out;
    return out;
  }
}

/** Lower-case hex of buf[start, end): natively, one flat string (ids are map keys, hashed whole). */
function hexOf(buf: Buffer, start: number, end: number): string {
  return buf.toString("hex", start, end);
}

class Reader {
  pos = 0;
  /** Where the last trace id decoded lies, and its hex: spans of one trace usually come together. */
  traceAt = -1;
  traceHex = "";
  constructor(
    readonly buf: Buffer,
    public end: number,
    private readonly strings: ShortStringCache,
  ) {}

  varint32(): number {
    const b = this.buf;
    let x = b[this.pos++] as number;
    if (x < 0x80) return x;
    x &= 0x7f;
    let shift = 7;
    for (;;) {
      if (this.pos >= this.end) throw new ProtoDecodeError("truncated varint");
      const c = b[this.pos++] as number;
      if (shift < 28) x |= (c & 0x7f) << shift;
      else if (shift === 28) x = (x >>> 0) + (c & 0x0f) * 0x10000000;
      // Bits beyond 32 are dropped: tags, lengths and enums fit; longer varints are negative int32s.
      if (c < 0x80) return x;
      shift += 7;
      if (shift > 63) throw new ProtoDecodeError("varint too long");
    }
  }

  /** A varint as a (possibly negative, two's complement int64) number; exact up to 2^53. */
  varint64(): number {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new ProtoDecodeError("truncated varint");
      const c = b[this.pos++] as number;
      if (shift < 28) lo |= (c & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (c & 0x0f) << 28;
        hi |= (c & 0x7f) >> 4;
      } else hi |= (c & 0x7f) << (shift - 32);
      if (c < 0x80) break;
      shift += 7;
      if (shift > 63) throw new ProtoDecodeError("varint too long");
    }
    lo >>>= 0;
    if (hi & 0x80000000) return -((~hi >>> 0) * TWO_32 + ((~lo >>> 0) + 1));
    return (hi >>> 0) * TWO_32 + lo;
  }

  /** Returns the end offset of a length-delimited field starting here. */
  lenEnd(): number {
    const n = this.varint32();
    const e = this.pos + n;
    if (e > this.end) throw new ProtoDecodeError("length-delimited field past end of message");
    return e;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        while ((this.buf[this.pos++] as number) >= 0x80) if (this.pos >= this.end) break;
        break;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.pos = this.lenEnd();
        break;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new ProtoDecodeError("field past end of message");
  }

  string(): string {
    const e = this.lenEnd();
    const start = this.pos;
    this.pos = e;
    if (e - start <= SHORT_STRING_BYTES) {
      const out = this.strings.ascii(this.buf, start, e);
      if (out !== undefined) return out;
    }
    return this.buf.toString("utf8", start, e);
  }

  hex(): string {
    const e = this.lenEnd();
    const s = hexOf(this.buf, this.pos, e);
    this.pos = e;
    return s;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ProtoDecodeError("truncated double");
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

/**
 * Decodes an ExportTraceServiceRequest. Throws ProtoDecodeError on malformed input. Pass the same
 * `strings` cache to every call (the receiver does) so repeated strings are decoded once.
 */
export function decodeTraceRequest(
  buf: Buffer,
  strings: ShortStringCache = new ShortStringCache(256),
): DecodedExport {
  const r = new Reader(buf, buf.length, strings);
  const out: DecodedExport = { spans: [], rejected: 0, errors: [] };
  while (r.pos < r.end) {
    const tag = r.varint32();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const e = r.lenEnd();
      resourceSpans(r, e, out);
      r.pos = e;
    } else r.skip(tag & 7);
  }
  return out;
}

function resourceSpans(r: Reader, end: number, out: DecodedExport): void {
  // The resource may come after the scope spans on the wire: spans are collected first, then stamped.
  const resource: SpanResource = { service: UNKNOWN_SERVICE, attributes: {} };
  while (r.pos < end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === WIRE_LEN) {
      const e = r.lenEnd();
      while (r.pos < e) {
        const t = r.varint32();
        if (t === ((1 << 3) | WIRE_LEN)) keyValue(r, r.lenEnd(), resource.attributes, 0);
        else r.skip(t & 7);
      }
      r.pos = e;
      const svc = resource.attributes["service.name"];
      if (typeof svc === "string" && svc !== "") resource.service = svc;
    } else if (field === 2 && (tag & 7) === WIRE_LEN) {
      const e = r.lenEnd();
      scopeSpans(r, e, resource, out);
      r.pos = e;
    } else r.skip(tag & 7);
  }
}

function scopeSpans(r: Reader, end: number, resource: SpanResource, out: DecodedExport): void {
  let scope = "";
  while (r.pos < end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === WIRE_LEN) {
      const e = r.lenEnd();
      while (r.pos < e) {
        const t = r.varint32();
        if (t === ((1 << 3) | WIRE_LEN)) scope = r.string();
        else r.skip(t & 7);
      }
      r.pos = e;
    } else if (field === 2 && (tag & 7) === WIRE_LEN) {
      const e = r.lenEnd();
      span(r, e, resource, scope, out);
      r.pos = e;
    } else r.skip(tag & 7);
  }
}

function span(r: Reader, end: number, resource: SpanResource, scope: string, out: DecodedExport): void {
  const buf = r.buf;
  let traceStart = -1;
  let traceLen = 0;
  let spanStart = -1;
  let spanLen = 0;
  let parentSpanId = "";
  let name = "";
  let kind = 0;
  let sLo = 0;
  let sHi = 0;
  let eLo = 0;
  let eHi = 0;
  let statusCode = 0;
  let statusMessage = "";
  const attributes: Attributes = {};
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case (1 << 3) | WIRE_LEN: {
        const e = r.lenEnd();
        traceStart = r.pos;
        traceLen = e - r.pos;
        r.pos = e;
        break;
      }
      case (2 << 3) | WIRE_LEN: {
        const e = r.lenEnd();
        spanStart = r.pos;
        spanLen = e - r.pos;
        r.pos = e;
        break;
      }
      case (4 << 3) | WIRE_LEN:
        parentSpanId = r.hex();
        break;
      case (5 << 3) | WIRE_LEN:
        name = r.string();
        break;
      case (6 << 3) | WIRE_VARINT:
        kind = r.varint32();
        break;
      case (7 << 3) | WIRE_FIXED64:
        if (r.pos + 8 > end) throw new ProtoDecodeError("truncated start time");
        sLo = buf.readUInt32LE(r.pos);
        sHi = buf.readUInt32LE(r.pos + 4);
        r.pos += 8;
        break;
      case (8 << 3) | WIRE_FIXED64:
        if (r.pos + 8 > end) throw new ProtoDecodeError("truncated end time");
        eLo = buf.readUInt32LE(r.pos);
        eHi = buf.readUInt32LE(r.pos + 4);
        r.pos += 8;
        break;
      case (9 << 3) | WIRE_LEN:
        keyValue(r, r.lenEnd(), attributes, 0);
        break;
      case (15 << 3) | WIRE_LEN: {
        const e = r.lenEnd();
        while (r.pos < e) {
          const t = r.varint32();
          if (t === ((2 << 3) | WIRE_LEN)) statusMessage = r.string();
          else if (t === ((3 << 3) | WIRE_VARINT)) statusCode = r.varint32();
          else r.skip(t & 7);
        }
        r.pos = e;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  if (traceLen !== 16 || isZero(buf, traceStart, 16))
    return noteRejection(out, "trace_id must be 16 non-zero bytes");
  if (spanLen !== 8 || isZero(buf, spanStart, 8))
    return noteRejection(out, "span_id must be 8 non-zero bytes");
  const durationNs = (eHi - sHi) * TWO_32 + (eLo - sLo);
  if (durationNs < 0) return noteRejection(out, "end_time_unix_nano before start_time_unix_nano");
  if (parentSpanId === "0000000000000000") parentSpanId = "";
  out.spans.push({
    resource,
    scope,
    traceId: traceIdOf(r, traceStart),
    spanId: hexOf(buf, spanStart, spanStart + 8),
    parentSpanId,
    name,
    kind: (kind <= 5 ? kind : 0) as SpanKind,
    startMs: (sHi * TWO_32) / 1e6 + sLo / 1e6,
    durationMs: durationNs / 1e6,
    statusCode: (statusCode <= 2 ? statusCode : 0) as StatusCode,
    statusMessage,
    attributes,
  });
}

function traceIdOf(r: Reader, start: number): string {
  const buf = r.buf;
  const last = r.traceAt;
  if (last >= 0) {
    let i = 0;
    while (i < 16 && buf[start + i] === buf[last + i]) i++;
    if (i === 16) return r.traceHex;
  }
  r.traceAt = start;
  r.traceHex = hexOf(buf, start, start + 16);
  return r.traceHex;
}

function isZero(buf: Buffer, start: number, n: number): boolean {
  for (let i = start; i < start + n; i++) if (buf[i] !== 0) return false;
  return true;
}

/** KeyValue { string key = 1; AnyValue value = 2; } into `into[key]`. */
function keyValue(r: Reader, end: number, into: Record<string, AttrValue>, depth: number): void {
  let key = "";
  let value: AttrValue = null;
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === ((1 << 3) | WIRE_LEN)) key = r.string();
    else if (tag === ((2 << 3) | WIRE_LEN)) value = anyValue(r, r.lenEnd(), depth);
    else r.skip(tag & 7);
  }
  r.pos = end;
  into[key] = value;
}

/** AnyValue: oneof string=1, bool=2, int=3, double=4, array=5, kvlist=6, bytes=7. */
function anyValue(r: Reader, end: number, depth: number): AttrValue {
  let v: AttrValue = null;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case (1 << 3) | WIRE_LEN:
        v = r.string();
        break;
      case (2 << 3) | WIRE_VARINT:
        v = r.varint32() !== 0;
        break;
      case (3 << 3) | WIRE_VARINT:
        v = r.varint64();
        break;
      case (4 << 3) | WIRE_FIXED64:
        v = r.double();
        break;
      case (5 << 3) | WIRE_LEN: {
        const e = r.lenEnd();
        const arr: AttrValue[] = [];
        if (depth < MAX_ANY_VALUE_DEPTH) {
          while (r.pos < e) {
            const t = r.varint32();
            if (t === ((1 << 3) | WIRE_LEN)) arr.push(anyValue(r, r.lenEnd(), depth + 1));
            else r.skip(t & 7);
          }
        }
        r.pos = e;
        v = arr;
        break;
      }
      case (6 << 3) | WIRE_LEN: {
        const e = r.lenEnd();
        const obj: Record<string, AttrValue> = {};
        if (depth < MAX_ANY_VALUE_DEPTH) {
          while (r.pos < e) {
            const t = r.varint32();
            if (t === ((1 << 3) | WIRE_LEN)) keyValue(r, r.lenEnd(), obj, depth + 1);
            else r.skip(t & 7);
          }
        }
        r.pos = e;
        v = obj;
        break;
      }
      case (7 << 3) | WIRE_LEN: {
        const e = r.lenEnd();
        v = r.buf.toString("base64", r.pos, e);
        r.pos = e;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  r.pos = end;
  return v;
}

/** Encodes ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1 { int64 rejected_spans = 1; string error_message = 2; } }. */
export function encodeTraceResponse(rejected: number, message: string): Buffer {
  if (rejected === 0 && message === "") return Buffer.alloc(0);
  const msg = Buffer.from(message, "utf8");
  const inner: number[] = [];
  if (rejected > 0) inner.push(1 << 3, ...varintBytes(rejected));
  if (msg.length) inner.push((2 << 3) | WIRE_LEN, ...varintBytes(msg.length));
  const head = Buffer.from(inner);
  const innerLen = head.length + msg.length;
  return Buffer.concat([Buffer.from([(1 << 3) | WIRE_LEN, ...varintBytes(innerLen)]), head, msg]);
}

/** Encodes google.rpc.Status { int32 code = 1; string message = 2; }, the body of OTLP error responses. */
export function encodeRpcStatus(code: number, message: string): Buffer {
  const msg = Buffer.from(message, "utf8");
  return Buffer.concat([
    Buffer.from([1 << 3, ...varintBytes(code), (2 << 3) | WIRE_LEN, ...varintBytes(msg.length)]),
    msg,
  ]);
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
